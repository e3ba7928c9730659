// W3 ping-pong on Node: two async tasks (main and pong) pass a counter N times
// through two bounded queues of size 1; prints the final counter (N). Measures
// task switching through a queue. Usage: node w3_ping_pong.js [N]
const N = Number(process.argv[2] || 1000000);

// Minimal bounded async queue (asyncio.Queue semantics: put waits while full,
// get waits while empty; each side wakes one waiter of the other).
class Queue {
  constructor(maxsize) { this.maxsize = maxsize; this.items = []; this.getters = []; this.putters = []; }
  async put(item) {
    while (this.items.length >= this.maxsize) await new Promise((r) => this.putters.push(r));
    this.items.push(item);
    if (this.getters.length) this.getters.shift()();
  }
  async get() {
    while (this.items.length === 0) await new Promise((r) => this.getters.push(r));
    const item = this.items.shift();
    if (this.putters.length) this.putters.shift()();
    return item;
  }
}

async function main() {
  const toPong = new Queue(1), toPing = new Queue(1);
  const pong = (async () => {
    for (let k = 0; k < N; k++) await toPing.put((await toPong.get()) + 1);
  })();
  let counter = 0;
  for (let k = 0; k < N; k++) {
    await toPong.put(counter);
    counter = await toPing.get();
  }
  await pong;
  console.log(`result=${counter}`);
}

main();
