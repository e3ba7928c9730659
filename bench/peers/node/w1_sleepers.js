// W1 sleepers on Node: N async tasks, task i sleeps ((i % 1000) / 1000) * 0.5 s
// (setTimeout) and returns i; all gathered with Promise.all; prints the sum.
// Measures timer-heavy task creation and wake-up. Usage: node w1_sleepers.js [N]
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
  for (const value of await Promise.all(tasks)) sum += value;
  console.log(`result=${sum}`);
}

main();
