// The official Socket.IO JavaScript client against a wskit.SocketIOServer.
// Usage: node sio_client.mjs URL NAME ROOM  (prints one JSON line of what happened, then exits)
import { io } from "socket.io-client";

const [url, name, room] = process.argv.slice(2);
const result = { name, events: [] };
const socket = io(url, { auth: { token: "friend" }, reconnection: false, timeout: 5000 });
const fail = (why) => { console.log(JSON.stringify({ ...result, error: String(why) })); process.exit(1); };
setTimeout(() => fail("timed out"), 10000);

socket.on("connect_error", (err) => fail(`connect_error: ${err.message}`));
socket.on("connect", async () => {
  result.transport = socket.io.engine.transport.name;
  result.ack = await socket.emitWithAck("join", room);
  socket.emit("ready", name);
});
socket.io.engine.on("upgrade", (transport) => { result.upgradedTo = transport.name; });
socket.on("said", (message) => {
  result.events.push(message);
  socket.disconnect();
  console.log(JSON.stringify(result));
  process.exit(0);
});
