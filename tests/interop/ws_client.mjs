// The `ws` package's client against a wskit.EchoServer.
// Usage: node ws_client.mjs URL  (prints one JSON line of what happened, then exits)
import WebSocket from "ws";

const [url] = process.argv.slice(2);
const result = { received: [] };
const ws = new WebSocket(url, { origin: "https://friend.example" });
setTimeout(() => { console.log(JSON.stringify({ ...result, error: "timed out" })); process.exit(1); }, 10000);

ws.on("open", () => {
  ws.send("hello from node");
  ws.send(Buffer.from([0, 1, 2, 255]));
});
ws.on("message", (data, isBinary) => {
  result.received.push(isBinary ? [...data] : data.toString());
  if (result.received.length === 2) ws.close(1000, "bye from node");
});
ws.on("close", (code, reason) => {
  result.close = [code, reason.toString()];
  console.log(JSON.stringify(result));
  process.exit(0);
});
ws.on("error", (err) => { console.log(JSON.stringify({ ...result, error: String(err) })); process.exit(1); });
