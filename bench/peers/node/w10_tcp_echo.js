// W10 TCP echo server on Node: net.createServer on 127.0.0.1 (any free port);
// each socket writes back whatever it reads ('data' events, paused while a
// write is buffered, as stream.pipe does) until the client closes. Prints
// port=<port> once listening; once CONNECTIONS connections have come and gone
// it closes and prints the bytes it echoed. bench/run drives it with
// bench/echo_client.c. Usage: node w10_tcp_echo.js [CONNECTIONS]
const net = require("net");
const connections = Number(process.argv[2] || 100);
let echoed = 0, finished = 0;

const server = net.createServer((socket) => {
  socket.on("data", (data) => {
    echoed += data.length;
    if (!socket.write(data)) socket.pause();
  });
  socket.on("drain", () => socket.resume());
  socket.on("error", (err) => console.error(`w10: ${err.message}`));
  socket.on("close", () => {
    if (++finished === connections) {
      server.close();
      console.log(`result=${echoed}`);
    }
  });
});
server.listen(0, "127.0.0.1", () => console.log(`port=${server.address().port}`));
