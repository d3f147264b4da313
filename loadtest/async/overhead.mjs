// The cost of async: N calls of a function doing real work (a loop of 200
// multiply-adds), called synchronously (`overhead.mjs sync N`) or as an
// async function awaited at each call (`overhead.mjs async N`).  The
// runner compares the CPU time of the two.
const mode = process.argv[2];
const n = parseInt(process.argv[3]);

function work(k) {
  let acc = 0;
  for (let i = 0; i < 200; i++) acc = (acc * 31 + i + k) % 1000003;
  return acc;
}

async function workAsync(k) {
  let acc = 0;
  for (let i = 0; i < 200; i++) acc = (acc * 31 + i + k) % 1000003;
  return acc;
}

let total = 0;
if (mode === "sync") {
  for (let k = 0; k < n; k++) total += work(k);
} else {
  for (let k = 0; k < n; k++) total += await workAsync(k);
}
console.log(total);
