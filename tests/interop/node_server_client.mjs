// The official socket.io-client against the official Node.js server (wskit/node/sio_server.mjs), as a browser
// app would use it. Usage: node node_server_client.mjs URL NAME ROOM  (prints one JSON line, then exits)
// It also shows the client's send buffer: an emit made while disconnected is sent after the reconnection.
import { io } from "socket.io-client";

const [url, name, room] = process.argv.slice(2);
const result = { name, events: [] };
const socket = io(url, { auth: { name }, reconnectionDelay: 100, timeout: 5000 });
const fail = (why) => { console.log(JSON.stringify({ ...result, error: String(why) })); process.exit(1); };
setTimeout(() => fail("timed out"), 15000);

let connections = 0;
socket.on("connect_error", (err) => fail(`connect_error: ${err.message}`));
socket.on("welcome", (text) => result.events.push(["welcome", text]));
socket.on("announcement", (text) => {
  result.events.push(["announcement", text]); // io.to(room).emit reaches the sender too
  socket.io.engine.close(); // now the transport drops (not a disconnect the app asked for): the client reconnects
});
socket.on("connect", async () => {
  connections += 1;
  if (connections > 1) return;
  result.joined = await socket.emitWithAck("join", room);
  socket.emit("announce", room, `${name} is here`);
});
socket.on("disconnect", async (reason) => {
  if (result.disconnect) return; // our own disconnect() at the end
  result.disconnect = reason;
  result.connectedWhileEmitting = socket.connected;
  result.buffered = await socket.timeout(10000).emitWithAck("echo", "sent while disconnected");
  result.connections = connections;
  socket.disconnect();
  console.log(JSON.stringify(result));
  process.exit(0);
});
