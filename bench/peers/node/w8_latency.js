// W8 tail latency under load on Node: while the loop holds N other tasks, a
// ticker sleeps 1 ms (setTimeout) in a loop for 2 s and records how late each
// wake-up is (performance.now()). Variant `sleepers` (default): N async tasks
// await a 3 s setTimeout. Variant `pingpong`: N/2 pairs (N even) pass a
// counter through two queues of size 1 without pause until the ticker is done.
// Prints the lateness in ms (median, p99, max; index ceil(q*k) of the k sorted
// ticks) and how many of the N tasks finished (N).
// Usage: node w8_latency.js [N] [sleepers|pingpong]
const { performance } = require("perf_hooks");
const N = Number(process.argv[2] || 100000);
const variant = process.argv[3] || "sleepers";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let stop = false;

// W3's bounded queue, except that a waiter is woken through the loop
// (setImmediate, as asyncio's call_soon) instead of a microtask: pairs woken
// by microtasks never return to the loop, and the ticker's timer would never fire.
class Queue {
  constructor(maxsize) { this.maxsize = maxsize; this.items = []; this.getters = []; this.putters = []; }
  async put(item) {
    while (this.items.length >= this.maxsize) await new Promise((r) => this.putters.push(r));
    this.items.push(item);
    if (this.getters.length) setImmediate(this.getters.shift());
  }
  async get() {
    while (this.items.length === 0) await new Promise((r) => this.getters.push(r));
    const item = this.items.shift();
    if (this.putters.length) setImmediate(this.putters.shift());
    return item;
  }
}

async function sleeper() {
  await sleep(3000);
  return 1;
}

// Pairs stop promptly: ping checks the flag after each exchange, then sends
// pong a null sentinel (pong is waiting in get by then).
async function ping(toPong, toPing) {
  let counter = 0;
  while (!stop) {
    await toPong.put(counter);
    counter = await toPing.get();
  }
  await toPong.put(null);
  return 1;
}

async function pong(toPong, toPing) {
  for (let v; (v = await toPong.get()) !== null; ) await toPing.put(v + 1);
  return 1;
}

async function main() {
  const tasks = [];
  if (variant === "sleepers") {
    for (let i = 0; i < N; i++) tasks.push(sleeper());
  } else if (variant === "pingpong") {
    for (let i = 0; i < Math.floor(N / 2); i++) {
      const toPong = new Queue(1), toPing = new Queue(1);
      tasks.push(ping(toPong, toPing), pong(toPong, toPing));
    }
  } else {
    throw new Error(`variant must be sleepers or pingpong, got ${variant}`);
  }
  await new Promise((resolve) => setImmediate(resolve)); // one loop turn

  // The ticker (this main task).
  const late = [], start = performance.now();
  while (performance.now() - start < 2000) {
    const t0 = performance.now();
    await sleep(1);
    late.push(performance.now() - (t0 + 1));
  }
  stop = true;

  let finished = 0;
  for (const value of await Promise.all(tasks)) finished += value;
  late.sort((a, b) => a - b);
  const k = late.length;
  const at = (rank) => late[rank - 1].toFixed(3);
  console.log(`lateness_ms median=${at(Math.ceil(k / 2))} p99=${at(Math.ceil((99 * k) / 100))} max=${at(k)} ticks=${k}`);
  console.log(`result=${finished}`);
}

main();
