// W7 loopback HTTP on Node: an HTTP/1.1 server on 127.0.0.1 (http.createServer,
// any free port, keep-alive) answers GET /i with the body "i"; N GETs by the
// global fetch (undici, keep-alive by default), at most 100 in flight; prints
// the sum of the bodies. Usage: node w7_http.js [N]
const http = require("http");
const N = Number(process.argv[2] || 10000);

// Minimal FIFO async semaphore, as in W4.
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
  const server = http.createServer((req, res) => {
    const body = (req.url.match(/^\/(\d+)/) || [, "0"])[1];
    res.writeHead(200, {"Content-Length": Buffer.byteLength(body), "Content-Type": "text/plain"});
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${server.address().port}/`;
  const pool = new Semaphore(100);
  let sum = 0;
  async function fetchOne(i) {
    await pool.acquire();
    try {
      const response = await fetch(base + i);
      if (response.status !== 200) throw new Error(`GET /${i}: status ${response.status}`);
      sum += Number(await response.text());
    } finally {
      pool.release();
    }
  }
  const tasks = [];
  for (let i = 1; i <= N; i++) tasks.push(fetchOne(i));
  await Promise.all(tasks);
  server.close();
  server.closeAllConnections();   // the client's idle keep-alive connections
  console.log(`result=${sum}`);
}

main();
