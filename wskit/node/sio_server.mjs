// The course's chat server, written with the official Node.js Socket.IO server (the `socket.io` npm package).
// wskit.live.node.NodeSocketIOServer runs it as a child process:
//   node sio_server.mjs [--port 0] [--ping-interval MS] [--ping-timeout MS]
// It listens on 127.0.0.1, prints one JSON line per thing that happens ({"listening": port} first), and exits
// when its standard input closes (so it never outlives the kernel that started it).
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { Server } from "socket.io";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    "ping-interval": { type: "string", default: "25000" },
    "ping-timeout": { type: "string", default: "20000" },
  },
});
const say = (what) => console.log(JSON.stringify(what));

const httpServer = createServer();
const io = new Server(httpServer, {
  pingInterval: Number(args["ping-interval"]),
  pingTimeout: Number(args["ping-timeout"]),
  cors: { origin: "*" },
});

// Middleware: runs before "connection", once per client; next(err) refuses it (the client gets connect_error).
io.use((socket, next) => {
  const name = socket.handshake.auth && socket.handshake.auth.name;
  if (!name) return next(new Error("say who you are: auth={name: ...}"));
  socket.data.name = name;
  next();
});

io.on("connection", (socket) => {
  const name = socket.data.name;
  say({ event: "connection", name, id: socket.id });
  socket.emit("welcome", `hello ${name}`); // to this one client

  socket.on("join", (room, ack) => {
    socket.join(room);
    ack(`${name} joined ${room}`); // the acknowledgement: the client's callback gets this
  });

  socket.on("say", (room, text) => {
    socket.to(room).emit("said", { from: name, text }); // everyone in the room but the sender
  });

  socket.on("announce", (room, text) => {
    io.to(room).emit("announcement", text); // everyone in the room, the sender too
  });

  socket.on("echo", (data, ack) => ack(data));

  socket.on("ask", async (target, question, ack) => {
    // the server asks another client and waits for its acknowledgement (at most 2 s)
    try {
      const answer = await io.to(target).timeout(2000).emitWithAck("question", question);
      ack({ answers: answer });
    } catch (err) {
      ack({ error: String(err.message || err) });
    }
  });

  socket.on("disconnect", (reason) => say({ event: "disconnect", name, reason }));
});

httpServer.listen(Number(args.port), "127.0.0.1", () => {
  say({ listening: httpServer.address().port, node: process.version });
});

process.stdin.on("end", () => {
  io.close();
  process.exit(0);
});
process.stdin.resume();
