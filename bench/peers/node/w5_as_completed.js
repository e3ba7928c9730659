// W5 as_completed on Node: N async tasks sleeping (i % 1000) / 1000 * 0.2 s
// (setTimeout), consumed in completion order through a small asCompleted async
// generator; prints how many came. Measures completion-order delivery (ideal
// wall: 0.2 s). Usage: node w5_as_completed.js [N]
const N = Number(process.argv[2] || 100000);
const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

// Yields each promise's value as it settles, in completion order.
async function* asCompleted(promises) {
  const done = [];
  let wake = null;
  for (const p of promises) {
    p.then((value) => {
      done.push(value);
      if (wake) { wake(); wake = null; }
    });
  }
  for (let taken = 0; taken < promises.length; taken++) {
    if (taken === done.length) await new Promise((r) => (wake = r));
    yield done[taken];
  }
}

async function main() {
  const tasks = [];
  for (let i = 1; i <= N; i++) tasks.push(sleep((i % 1000) / 1000 * 0.2));
  let count = 0;
  for await (const _ of asCompleted(tasks)) count++;
  console.log(`result=${count}`);
}

main();
