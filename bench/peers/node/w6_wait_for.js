// W6 wait_for on Node: N async tasks, even ones sleep 0.1 s and odd ones 0.3 s,
// each under a 0.2 s timeout; prints how many timed out (N / 2). Measures
// timeouts and cancellation (ideal wall: 0.2 s). Usage: node w6_wait_for.js [N]
const N = Number(process.argv[2] || 100000);

// A sleep that can be cancelled (clearTimeout), so a timed-out sleep does not
// keep its timer, or the process, alive.
function cancellableSleep(seconds) {
  let timer;
  const promise = new Promise((resolve) => { timer = setTimeout(resolve, seconds * 1000); });
  return { promise, cancel: () => clearTimeout(timer) };
}

class TimeoutError extends Error {}

// Races op against a timer; whichever loses has its timer cleared.
function waitFor(op, seconds) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { op.cancel(); reject(new TimeoutError()); }, seconds * 1000);
    op.promise.then((value) => { clearTimeout(timer); resolve(value); });
  });
}

async function bounded(i) {
  try {
    await waitFor(cancellableSleep(i % 2 === 0 ? 0.1 : 0.3), 0.2);
    return 0;
  } catch (e) {
    if (e instanceof TimeoutError) return 1;
    throw e;
  }
}

async function main() {
  const tasks = [];
  for (let i = 1; i <= N; i++) tasks.push(bounded(i));
  let timeouts = 0;
  for (const value of await Promise.all(tasks)) timeouts += value;
  console.log(`result=${timeouts}`);
}

main();
