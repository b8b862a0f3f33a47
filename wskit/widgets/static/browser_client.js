// The front end of wskit.widgets.BrowserClient: the learner's own browser opens the connection.
// Everything the browser sees (open, message, error, close, readyState, bufferedAmount) goes into
// the `events` trait, which Jupyter syncs back to the kernel.

function pageBase() {
  const config = document.getElementById("jupyter-config-data");
  if (config) {
    try { return JSON.parse(config.textContent).baseUrl || "/"; } catch (e) { /* fall through */ }
  }
  return document.body.dataset.baseUrl || "/";
}

// Direct when the page itself comes from this machine; through jupyter-server-proxy otherwise
// (on Binder only Jupyter's own port is reachable from the browser).
export function resolveUrl(port, path, route, scheme) {
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(location.hostname);
  const viaProxy = route === "proxy" || (route === "auto" && !local);
  if (!viaProxy) return { url: `${scheme}://127.0.0.1:${port}${path}`, route: "direct" };
  const secure = location.protocol === "https:";
  const base = pageBase().replace(/\/?$/, "/");
  const wsScheme = scheme.startsWith("http") ? (secure ? "https" : "http") : (secure ? "wss" : "ws");
  return { url: `${wsScheme}://${location.host}${base}proxy/${port}${path}`, route: "proxy" };
}

function render({ model, el }) {
  let socket = null;
  const now = () => performance.now();
  const started = now();
  const events = [];
  const record = (type, fields = {}) => {
    const state = socket && socket.readyState !== undefined ? socket.readyState : (socket && socket.connected ? 1 : 3);
    const entry = { type, ms: Math.round((now() - started) * 1000) / 1000, readyState: state,
                    bufferedAmount: socket && socket.bufferedAmount !== undefined ? socket.bufferedAmount : 0,
                    ...fields };
    events.push(entry);
    model.set("events", events.slice(-200));
    model.save_changes();
    draw();
  };

  el.classList.add("wskit-browser-client");
  el.innerHTML = `
    <div class="wskit-bc-head"><b>Your browser</b> <span class="wskit-bc-state"></span>
      <button class="wskit-bc-connect">Connect</button> <button class="wskit-bc-close">Close</button></div>
    <div class="wskit-bc-url" style="font-family:monospace;font-size:11px;color:#555"></div>
    <div><input class="wskit-bc-input" placeholder="message to send from the browser" style="width:60%">
      <button class="wskit-bc-send">Send</button></div>
    <table class="wskit-bc-events" style="font-size:12px;border-collapse:collapse;width:100%"></table>`;
  const $ = (selector) => el.querySelector(selector);

  function draw() {
    const names = ["CONNECTING", "OPEN", "CLOSING", "CLOSED"];
    const last = events[events.length - 1];
    $(".wskit-bc-state").textContent = last ? names[last.readyState] || "" : "not connected";
    $(".wskit-bc-events").innerHTML = "<tr><th align=left>ms</th><th align=left>event</th><th align=left>data</th>" +
      "<th align=left>readyState</th><th align=left>bufferedAmount</th></tr>" +
      events.slice(-50).reverse().map((e) =>
        `<tr class="wskit-bc-${e.type}"><td>${e.ms.toFixed(1)}</td><td>${e.type}</td>` +
        `<td>${String(e.data ?? (e.code !== undefined ? `${e.code} ${e.reason}` : "")).replace(/</g, "&lt;")}</td>` +
        `<td>${e.readyState}</td><td>${e.bufferedAmount}</td></tr>`).join("");
  }

  async function connect() {
    const transport = model.get("transport");
    const target = resolveUrl(model.get("port"), model.get("path"), model.get("route"), transport === "socket.io" ? "http" : "ws");
    model.set("resolved_url", target.url);
    model.set("resolved_route", target.route);
    model.save_changes();
    $(".wskit-bc-url").textContent = `${target.url} (${target.route})`;
    if (transport === "socket.io") {
      const blob = new Blob([model.get("socketio_esm")], { type: "text/javascript" });
      const { io } = await import(URL.createObjectURL(blob));
      const path = target.route === "proxy" ? new URL(target.url).pathname.replace(/\/$/, "") + "/socket.io/" : "/socket.io/";
      socket = io(new URL(target.url).origin, { path, transports: ["websocket"], reconnection: false,
                                                             auth: model.get("auth") });
      let wsClose = null;  // the CloseEvent of the WebSocket under Socket.IO, when there is one
      socket.on("connect", () => {
        const ws = socket.io.engine && socket.io.engine.transport && socket.io.engine.transport.ws;
        if (ws) ws.addEventListener("close", (event) => { wsClose = event; });
        record("open", { data: `sid ${socket.id}` });
      });
      socket.on("connect_error", (err) => record("error", { data: err.message }));
      socket.on("disconnect", (reason, details) => {
        const event = details && details.context && details.context.code !== undefined ? details.context : wsClose;
        record("close", { reason, code: event ? event.code : null, wasClean: event ? event.wasClean : null });
      });
      socket.onAny((event, ...args) => record("message", { data: JSON.stringify([event, ...args]) }));
      for (const [event, args] of model.get("on_connect")) socket.emit(event, ...args);
    } else {
      socket = new WebSocket(target.url);
      record("connecting");
      socket.onopen = () => record("open");
      socket.onmessage = (message) => record("message", { data: typeof message.data === "string" ? message.data : "[binary]" });
      socket.onerror = () => record("error", { data: "the browser reports an error (see DevTools → Network → WS)" });
      socket.onclose = (close) => record("close", { code: close.code, reason: close.reason, wasClean: close.wasClean });
    }
  }

  function send(text) {
    if (!socket) return;
    if (model.get("transport") === "socket.io") socket.emit(model.get("event"), text); else socket.send(text);
    record("sent", { data: text });
  }

  $(".wskit-bc-connect").onclick = () => connect();
  $(".wskit-bc-close").onclick = () => socket && (socket.close ? socket.close(1000, "closed from the browser") : socket.disconnect());
  $(".wskit-bc-send").onclick = () => { send($(".wskit-bc-input").value); $(".wskit-bc-input").value = ""; };
  model.on("msg:custom", (message) => {
    if (message.action === "send") send(message.text);
    if (message.action === "close") $(".wskit-bc-close").onclick();
    if (message.action === "connect") connect();
  });
  draw();
  if (model.get("autoconnect")) connect();
  return () => socket && (socket.close ? socket.close() : socket.disconnect());
}

export default { render };
