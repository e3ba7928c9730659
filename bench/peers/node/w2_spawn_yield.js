// W2 spawn-yield on Node: N async tasks each yield once and return i; all
// gathered with Promise.all; prints the sum. Measures task creation plus one
// trip through the event loop. Usage: node w2_spawn_yield.js [N]
const N = Number(process.argv[2] || 1000000);
// "sleep(0)": setImmediate is Node's yield to the event loop (runs after pending
// I/O, like asyncio's ready queue); a bare `await null` would only hop the
// microtask queue and setTimeout(0) is clamped to 1 ms.
const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

async function yielder(i) {
  await yieldToLoop();
  return i;
}

async function main() {
  const tasks = [];
  for (let i = 1; i <= N; i++) tasks.push(yielder(i));
  let sum = 0;
  for (const value of await Promise.all(tasks)) sum += value;
  console.log(`result=${sum}`);
}

main();
