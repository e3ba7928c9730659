// sleepers.js -- W1 on Node: N promises, task i sleeps ((i % 1000) / 1000) * 0.5 s
// and returns i; all awaited in order; prints the sum.
const N = Number(process.argv[2] || 1000000);
const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

async function sleeper(i) {
  await sleep(((i % 1000) / 1000) * 0.5);
  return i;
}

async function main() {
  const tasks = [];
  for (let i = 1; i <= N; i++) tasks.push(sleeper(i));
  let sum = 0;
  for (const task of tasks) sum += await task;
  console.log(`sum=${sum}`);
}

main();
