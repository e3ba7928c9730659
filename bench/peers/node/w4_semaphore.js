// W4 semaphore pool on Node: N async tasks each acquire a semaphore(100), yield
// once (setImmediate, as in W2) and release; all gathered; prints how many ran.
// Measures semaphore wait/wake-up under contention. Usage: node w4_semaphore.js [N]
const N = Number(process.argv[2] || 1000000);
const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

// Minimal FIFO async semaphore: release hands the permit straight to the
// oldest waiter. Waiters are read with a head index (Array#shift on a
// million-entry array would copy).
class Semaphore {
  constructor(permits) { this.permits = permits; this.waiters = []; this.head = 0; }
  acquire() {
    if (this.permits > 0) { this.permits--; return Promise.resolve(); }
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  release() {
    if (this.head < this.waiters.length) {
      const next = this.waiters[this.head];
      this.waiters[this.head++] = undefined;
      next();
    } else {
      this.waiters.length = this.head = 0;
      this.permits++;
    }
  }
}

async function main() {
  const pool = new Semaphore(100);
  let done = 0;
  async function worker() {
    await pool.acquire();
    try {
      await yieldToLoop();
      done++;
    } finally {
      pool.release();
    }
  }
  const tasks = [];
  for (let i = 1; i <= N; i++) tasks.push(worker());
  await Promise.all(tasks);
  console.log(`result=${done}`);
}

main();
