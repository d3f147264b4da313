// Start N trivial tasks and await them: microseconds per task.
//   spawn_await.mjs seq [N]     start one, await it, then the next
//   spawn_await.mjs batch [N]   start all N, then await each
const mode = process.argv[2];
const n = process.argv[3] ? parseInt(process.argv[3]) : 1000000;

async function trivial(i) {
  return i + 1;
}

async function oneAtATime() {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await trivial(i);
  return sum;
}

async function allThenAwait() {
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(trivial(i));
  let sum = 0;
  for (const t of tasks) sum += await t;
  return sum;
}

const t0 = performance.now();
const sum = await (mode === "seq" ? oneAtATime() : allThenAwait());
const t1 = performance.now();
if (sum !== (n * (n + 1)) / 2) throw new Error(`wrong sum ${sum}`);
if (n) console.log(((t1 - t0) * 1000) / n);
