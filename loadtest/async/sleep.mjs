// N tasks each sleeping 1 s at once (the runner measures wall time and
// peak RSS).
const n = parseInt(process.argv[2]);
const sleep = (s) => new Promise((resolve) => setTimeout(resolve, s * 1000));

async function sleeper() {
  await sleep(1);
}

const tasks = [];
for (let i = 0; i < n; i++) tasks.push(sleeper());
for (const t of tasks) await t;
