// W9 HTTP server under wrk on Node: http.createServer on 127.0.0.1 (any free
// port, keep-alive) answers every request with 200 "Hello, World!"
// (text/plain). Prints port=<port> once listening, serves for SECONDS, closes,
// and prints how many requests it answered. bench/run points wrk at it.
// Usage: node w9_http_server.js [SECONDS]
const http = require("http");
const seconds = Number(process.argv[2] || 10);
let answered = 0;

const server = http.createServer((req, res) => {
  answered++;
  res.writeHead(200, {"Content-Type": "text/plain"});
  res.end("Hello, World!");
});
server.listen(0, "127.0.0.1", () => {
  console.log(`port=${server.address().port}`);
  setTimeout(() => {
    server.close();
    server.closeAllConnections();   // wrk has gone by now; any left are idle
    console.log(`result=${answered}`);
  }, seconds * 1000);
});
