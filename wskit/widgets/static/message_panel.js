// The front end of wskit.widgets.MessagePanel, modelled on Chrome's Network → WS → Messages.
//
// The kernel sends only new records, batched (columns and a buffer of payloads, see encode_rows in messagepanel.py); they are kept
// here, once per model, as rows [seq, time, direction, opcode, size, data, encoding, conn, code, info, decoded,
// ms since open], and every view filters and draws them itself. The table is virtualized: only the rows in view exist in the DOM, so 100,000 rows scroll
// as smoothly as 100. Plain JavaScript, no build step.

const ROW_HEIGHT = 20;
const OVERSCAN = 8;
const [SEQ, TIME, DIR, OPCODE, SIZE, DATA, ENC, CONN, CODE, INFO, DECODED, SINCE] = [...Array(12).keys()];
const ARROW = { sent: "↑", received: "↓", event: "•" };
const stores = new WeakMap();

// The panel's style, added to the page once. JupyterLab's theme variables, so the dark theme follows JupyterLab's.
// (In this file rather than a .css beside it: the package ships static/*.js.)
export const CSS = `
.wskit-mp {
  --wskit-sent: var(--jp-success-color1, #1a7f37);
  --wskit-received: var(--jp-warn-color1, #b35900);
  --wskit-error: var(--jp-error-color1, #cf222e);
  --wskit-muted: var(--jp-ui-font-color2, #777);
  --wskit-border: var(--jp-border-color2, #e0e0e0);
  --wskit-bg: var(--jp-layout-color1, #fff);
  --wskit-bg2: var(--jp-layout-color2, #f3f3f3);
  --wskit-select: var(--jp-brand-color3, #cfe8fc);
  color: var(--jp-ui-font-color1, #222);
  background: var(--wskit-bg);
  font-family: var(--jp-ui-font-family, sans-serif);
  font-size: 12px;
  border: 1px solid var(--wskit-border);
  border-radius: 3px;
  max-width: 100%;
}
.wskit-mp button, .wskit-mp select, .wskit-mp input {
  font-size: 12px;
  color: var(--jp-ui-font-color1, #222);
  background: var(--jp-layout-color2, #f3f3f3);
  border: 1px solid var(--wskit-border);
  border-radius: 2px;
  padding: 1px 6px;
  height: 22px;
}
.wskit-mp input { background: var(--wskit-bg); }
.wskit-mp button[aria-pressed="true"] { background: var(--jp-brand-color1, #1976d2); color: white; }
.wskit-mp button:disabled { opacity: 0.5; }
.wskit-mp-bar { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; padding: 3px 4px;
  border-bottom: 1px solid var(--wskit-border); background: var(--wskit-bg2); }
.wskit-mp label { display: inline-flex; align-items: center; gap: 3px; }
.wskit-mp-title { font-weight: bold; margin-right: 4px; }
.wskit-badge { border-radius: 8px; padding: 1px 8px; color: white; background: var(--wskit-muted); }
.wskit-badge.open, .wskit-badge.listening { background: var(--wskit-sent); }
.wskit-badge.connecting, .wskit-badge.closing { background: #9a6700; }
.wskit-badge.closed, .wskit-badge.refused { background: var(--wskit-error); }
.wskit-mp-regex.invalid { border-color: var(--wskit-error); color: var(--wskit-error); }
.wskit-mp-spacer { flex: 1; }
.wskit-mp-head, .wskit-row { display: grid; grid-template-columns: 18px 0 84px 56px 70px minmax(0, 1fr);
  column-gap: 6px; align-items: center; padding: 0 4px; height: 20px; box-sizing: border-box; }
.wskit-mp.server .wskit-mp-head, .wskit-mp.server .wskit-row { grid-template-columns: 18px 34px 84px 56px 70px minmax(0, 1fr); }
.wskit-mp-head { font-weight: bold; color: var(--wskit-muted); border-bottom: 1px solid var(--wskit-border); }
.wskit-mp-head > span, .wskit-row > span { overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.wskit-mp-viewport { position: relative; overflow-y: auto; height: 300px; contain: strict; }
.wskit-mp-rows { position: absolute; left: 0; right: 0; top: 0; will-change: transform; }
.wskit-row { border-bottom: 1px solid var(--wskit-border); cursor: default;
  font-family: var(--jp-code-font-family, monospace); font-size: 11px; }
.wskit-row:hover { background: var(--wskit-bg2); }
.wskit-row.selected { background: var(--wskit-select); }
.wskit-row .arrow { font-weight: bold; }
.wskit-row.sent .arrow { color: var(--wskit-sent); }
.wskit-row.received .arrow { color: var(--wskit-received); }
.wskit-row.event { color: var(--wskit-muted); font-style: italic; }
.wskit-row.error { color: var(--wskit-error); }
.wskit-row.sent.data-row { background: color-mix(in srgb, var(--wskit-sent) 7%, transparent); }
.wskit-mp-empty { padding: 6px; color: var(--wskit-muted); }
.wskit-mp-foot { display: flex; gap: 12px; padding: 2px 6px; color: var(--wskit-muted);
  border-top: 1px solid var(--wskit-border); background: var(--wskit-bg2); }
.wskit-mp-detail { border-top: 1px solid var(--wskit-border); max-height: 280px; overflow: auto; padding: 4px 6px; }
.wskit-mp-detail[hidden] { display: none; }
.wskit-mp-detail h4 { margin: 4px 0 2px; font-size: 11px; color: var(--wskit-muted); text-transform: uppercase; }
.wskit-mp-detail pre { margin: 0; font-family: var(--jp-code-font-family, monospace); font-size: 11px;
  white-space: pre-wrap; word-break: break-all; }
.wskit-mp-detail .wskit-hex { white-space: pre; }
.wskit-json { font-family: var(--jp-code-font-family, monospace); font-size: 11px; }
.wskit-json details { margin-left: 14px; }
.wskit-json details > summary { margin-left: -14px; cursor: pointer; }
.wskit-json .leaf { margin-left: 14px; }
.wskit-json .key { color: var(--jp-mirror-editor-property-color, #881391); }
.wskit-json .string { color: var(--jp-mirror-editor-string-color, #1a1aa6); }
.wskit-json .number { color: var(--jp-mirror-editor-number-color, #098658); }
.wskit-json .literal { color: var(--jp-mirror-editor-keyword-color, #0000ff); }
.wskit-json .meta { color: var(--wskit-muted); }
.wskit-mp-notice { padding: 2px 6px; }
.wskit-mp-notice.error { color: var(--wskit-error); }
.wskit-mp-sendbar { display: flex; gap: 4px; padding: 3px 4px; border-top: 1px solid var(--wskit-border); }
.wskit-mp-sendbar input { flex: 1; }
`;

function addStyle() {
  if (document.getElementById("wskit-message-panel-style")) return;
  const style = document.createElement("style");
  style.id = "wskit-message-panel-style";
  style.textContent = CSS;
  document.head.appendChild(style);
}

// -- the model's store: every row the kernel sent, bounded by max_rows -------------------------------------------

function newStore(model) {
  const store = {
    rows: [], base: 0, lastSeq: 0, views: new Set(), opened: new Map(), dropped: 0, trimmed: 0,
    totals: { sent: [0, 0], received: [0, 0] },
    reset() {
      this.base += this.rows.length;
      this.rows = []; this.opened = new Map(); this.trimmed = 0;
      this.totals = { sent: [0, 0], received: [0, 0] };
    },
    add(batch, buffer) {
      const rows = decodeRows(batch, buffer);
      for (const row of rows) {
        if (row[SEQ] <= this.lastSeq) continue;  // sent twice (a second page asked for everything): keep one
        this.lastSeq = row[SEQ];
        if (row[OPCODE] === "OPEN") this.opened.set(row[CONN], row[TIME]);
        row[SINCE] = (row[TIME] - (this.opened.get(row[CONN]) ?? 0)) * 1000;
        if (row[CONN]) this.server = true;
        const total = this.totals[row[DIR]];
        if (total) { total[0] += 1; total[1] += row[SIZE]; }
        this.rows.push(row);
      }
      const cap = model.get("max_rows");
      const slack = Math.max(1000, Math.floor(cap / 10));  // trim in steps: a splice per row would cost O(n²)
      if (this.rows.length > cap + slack || (cap < 1000 && this.rows.length > cap)) {
        const cut = this.rows.length - cap;
        this.rows.splice(0, cut);
        this.base += cut;
        this.trimmed += cut;
      }
    },
    at(abs) { return this.rows[abs - this.base]; },
    end() { return this.base + this.rows.length; },
  };
  model.on("msg:custom", (message, buffers) => {
    if (message.kind === "reset") { store.reset(); store.lastSeq = 0; }
    else if (message.kind === "rows") { store.dropped = message.dropped || 0; store.add(message, buffers[0]); }
    else if (message.kind === "clear") {
      const keep = store.rows.filter((row) => row[TIME] > message.cleared_at);
      store.reset();
      store.base -= keep.length;
      store.rows = keep;
      for (const row of keep) { const t = store.totals[row[DIR]]; if (t) { t[0] += 1; t[1] += row[SIZE]; } }
    }
    for (const view of store.views) view.changed(message.kind !== "rows");
  });
  return store;
}

// A batch comes as columns (see encode_rows in messagepanel.py); the store keeps one array per row.
const DIRECTION = { s: "sent", r: "received", e: "event" };
const utf8 = new TextDecoder();
export function decodeRows(batch, buffer) {
  const binary = new Set(batch.b);
  const bytes = buffer instanceof Uint8Array ? buffer
    : new Uint8Array(buffer.buffer || buffer, buffer.byteOffset || 0, buffer.byteLength);
  const rows = new Array(batch.t.length);
  let offset = 0;
  for (let i = 0; i < rows.length; i++) {
    const [code, info, decoded] = batch.e[i] || [null, "", null];
    const length = batch.xl[i];
    const data = length < 0 ? null : utf8.decode(bytes.subarray(offset, offset + length));
    if (length > 0) offset += length;
    rows[i] = [batch.first + i, batch.t[i] / 1e6, DIRECTION[batch.d[i]], batch.o[i], batch.n[i], data,
               binary.has(i) ? "hex" : "", batch.c ? batch.c[i] : 0, code, info, decoded, 0];
  }
  return rows;
}

function storeOf(model) {
  let store = stores.get(model);
  if (!store) {
    store = newStore(model);
    stores.set(model, store);
  }
  return store;
}

// -- formatting ---------------------------------------------------------------------------------------------------

function escape(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function bytesOf(row) {
  if (row[ENC] !== "hex" || !row[DATA]) return null;
  const hex = row[DATA];
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function hexDump(bytes) {
  const lines = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const chunk = bytes.subarray(offset, offset + 16);
    let hex = "";
    let ascii = "";
    for (let i = 0; i < 16; i++) {
      if (i === 8) hex += " ";
      hex += i < chunk.length ? chunk[i].toString(16).padStart(2, "0") + " " : "   ";
      if (i < chunk.length) ascii += chunk[i] >= 0x20 && chunk[i] < 0x7f ? String.fromCharCode(chunk[i]) : ".";
    }
    lines.push(`${offset.toString(16).padStart(8, "0")}  ${hex} |${ascii}|`);
  }
  return lines.join("\n");
}

function preview(row) {
  if (row[OPCODE] === "CLOSE") return `${row[CODE] ?? ""} ${row[INFO] || "no reason"}`.trim();
  if (row[DIR] === "event") {
    const info = (row[INFO] || "").trim().split("\n");
    const detail = row[OPCODE] === "ERROR" ? info[info.length - 1] : info[0];
    return `${row[CODE] ?? ""} ${detail}`.trim();
  }
  if (row[ENC] === "hex") return (row[DATA] || "").slice(0, 96).replace(/(..)/g, "$1 ").trim();
  const data = row[DATA] ?? "";
  const short = data.length > 200 ? data.slice(0, 200) + "…" : data;
  return row[DECODED] ? `${short}   ${row[DECODED].summary}` : short;
}

function wallClock(seconds) {
  const date = new Date(seconds * 1000);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// A collapsible JSON tree from <details> elements: the first two levels open, like DevTools.
export function jsonTree(value, key = null, depth = 0, budget = { nodes: 3000 }) {
  const label = key === null ? "" : `<span class="key">${escape(key)}</span>: `;
  if (--budget.nodes < 0) {
    const more = document.createElement("div");
    more.className = "leaf meta";
    more.textContent = "… (tree cut short; see Raw)";
    return more;
  }
  if (value !== null && typeof value === "object") {
    const isArray = Array.isArray(value);
    const entries = isArray ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    const node = document.createElement("details");
    node.open = depth < 2;
    const summary = document.createElement("summary");
    const count = isArray ? `Array(${entries.length})` : `{…} ${entries.length} key${entries.length === 1 ? "" : "s"}`;
    summary.innerHTML = `${label}<span class="meta">${count}</span>`;
    node.appendChild(summary);
    for (const [k, v] of entries) node.appendChild(jsonTree(v, k, depth + 1, budget));
    return node;
  }
  const leaf = document.createElement("div");
  leaf.className = "leaf";
  const kind = typeof value === "string" ? "string" : typeof value === "number" ? "number" : "literal";
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  leaf.innerHTML = `${label}<span class="${kind}">${escape(shown)}</span>`;
  return leaf;
}

function parseJson(text) {
  const start = (text || "").trimStart()[0];
  if (start !== "{" && start !== "[") return undefined;
  try { return JSON.parse(text); } catch (e) { return undefined; }
}

function checkOutgoing(text, kind) {
  if (kind === "JSON") {
    try { JSON.parse(text); } catch (e) { return `not valid JSON: ${e.message}`; }
  } else if (kind === "hex bytes") {
    const digits = text.replace(/\s+/g, "");
    if (digits.length % 2 || /[^0-9a-fA-F]/.test(digits)) return "not hex bytes: write pairs of hex digits, e.g. '48 65 6c 6c 6f'";
  }
  return null;
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (e) {  // no clipboard permission (plain http, a test browser): the old way
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

// -- a view -------------------------------------------------------------------------------------------------------

function initialize({ model }) {
  storeOf(model);
  model.send({ kind: "hello" });  // a new page (or a reload): ask the kernel for every record it kept
}

function render({ model, el }) {
  const CONTROL = new Set(model.get("control_kinds")); // the kernel's wskit.codec.kinds.CONTROL_KINDS
  addStyle();
  const store = storeOf(model);
  el.classList.add("wskit-message-panel", "wskit-mp");
  el.innerHTML = `
    <div class="wskit-mp-bar">
      <span class="wskit-mp-title"></span><span class="wskit-badge"></span>
      <button class="wskit-mp-connect" title="Connect">Connect</button>
      <button class="wskit-mp-disconnect" title="Disconnect">Disconnect</button>
      <span class="wskit-mp-spacer"></span>
      <label title="time since the connection opened, or the wall clock">
        <select class="wskit-mp-time"><option value="since open">ms since open</option>
        <option value="wall clock">wall clock</option></select></label>
    </div>
    <div class="wskit-mp-bar">
      <span class="wskit-mp-filters" role="group" aria-label="filter">
        ${["All", "Sent", "Received", "Control"].map((f) => `<button data-filter="${f}">${f}</button>`).join("")}
      </span>
      <input class="wskit-mp-regex" placeholder="filter (regex)" size="18" spellcheck="false">
      <label title="keep the newest row in view (scroll up to stop)"><input type="checkbox" class="wskit-mp-follow"> follow</label>
      <button class="wskit-mp-pause" title="Pause">Pause</button>
      <button class="wskit-mp-clear" title="Clear">Clear</button>
      <button class="wskit-mp-export" data-format="json" title="Export JSON">Export JSON</button>
      <button class="wskit-mp-export" data-format="har" title="Export HAR">Export HAR</button>
    </div>
    <div class="wskit-mp-head"><span></span><span>conn</span><span class="wskit-mp-time-head">ms</span>
      <span>bytes</span><span>opcode</span><span>data</span></div>
    <div class="wskit-mp-viewport wskit-message-table" tabindex="0">
      <div class="wskit-mp-spacer-rows"></div><div class="wskit-mp-rows"></div>
    </div>
    <div class="wskit-mp-foot"><span class="wskit-mp-totals"></span><span class="wskit-mp-count"></span></div>
    <div class="wskit-mp-detail" hidden></div>
    <div class="wskit-mp-notice"></div>
    <div class="wskit-mp-sendbar">
      <input class="wskit-mp-input" placeholder="message to send" spellcheck="false">
      <select class="wskit-mp-kind"><option>text</option><option>JSON</option><option>hex bytes</option></select>
      <button class="wskit-mp-send" title="Send">Send</button>
    </div>`;
  const $ = (selector) => el.querySelector(selector);
  const viewport = $(".wskit-mp-viewport");
  const spacer = $(".wskit-mp-spacer-rows");
  const rowsBox = $(".wskit-mp-rows");
  const detail = $(".wskit-mp-detail");

  // What this view shows: absolute row positions passing the filter, in order.
  let index = [];
  let indexedTo = store.base;
  let regex = null;
  let selected = null;  // the selected row's seq
  let programmatic = false;
  let frame = 0;

  function passes(row) {
    const filter = model.get("filter");
    if (filter === "Sent" && row[DIR] !== "sent") return false;
    if (filter === "Received" && row[DIR] !== "received") return false;
    if (filter === "Control" && !CONTROL.has(row[OPCODE])) return false;
    return regex === null || regex.test(`${row[OPCODE]} ${row[DATA] ?? ""} ${row[INFO]}`);
  }

  function reindex(full) {
    if (full) { index = []; indexedTo = store.base; }
    if (index.length && index[0] < store.base) {  // rows trimmed from the front of the store
      let lo = 0;
      while (lo < index.length && index[lo] < store.base) lo++;
      index = index.slice(lo);
    }
    if (indexedTo < store.base) indexedTo = store.base;
    const end = store.end();
    for (let abs = indexedTo; abs < end; abs++) if (passes(store.at(abs))) index.push(abs);
    indexedTo = end;
  }

  function compileRegex() {
    const input = $(".wskit-mp-regex");
    const text = model.get("pattern");
    if (input.value !== text && document.activeElement !== input) input.value = text;
    try {
      regex = text ? new RegExp(text) : null;
      input.classList.remove("invalid");
      input.title = "";
    } catch (e) {
      regex = null;
      input.classList.add("invalid");
      input.title = `filter is not a valid regex: ${e.message}`;
    }
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); });
  }

  function draw() {
    const total = index.length;
    spacer.style.height = `${total * ROW_HEIGHT}px`;
    if (model.get("follow") && !model.get("paused")) {
      const bottom = Math.max(0, total * ROW_HEIGHT - viewport.clientHeight);
      if (Math.abs(viewport.scrollTop - bottom) > 1) { programmatic = true; viewport.scrollTop = bottom; }
    }
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(total, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW_HEIGHT) + OVERSCAN);
    const wall = model.get("time_mode") === "wall clock";
    const started = model.get("started_wall");
    const html = [];
    for (let i = first; i < last; i++) {
      const row = store.at(index[i]);
      if (!row) continue;
      const kind = row[OPCODE] === "ERROR" ? "error" : row[DIR];
      const data = row[DIR] !== "event" && !CONTROL.has(row[OPCODE]) ? " data-row" : "";
      const time = wall ? wallClock(started + row[TIME]) : row[SINCE].toFixed(1);
      const opcode = row[CODE] !== null && row[DIR] !== "event" ? `${row[OPCODE]} ${row[CODE]}` : row[OPCODE];
      const shown = preview(row);
      html.push(`<div class="wskit-row ${kind}${data}${row[SEQ] === selected ? " selected" : ""}" data-seq="${row[SEQ]}">` +
        `<span class="arrow">${ARROW[row[DIR]] || "?"}</span><span>${row[CONN] ? "#" + row[CONN] : ""}</span>` +
        `<span>${time}</span><span>${row[SIZE]}</span><span>${escape(opcode)}</span>` +
        `<span title="${escape(shown.slice(0, 300))}">${escape(shown)}</span></div>`);
    }
    rowsBox.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    rowsBox.innerHTML = html.join("") || (total ? "" : `<div class="wskit-mp-empty">no messages yet</div>`);
    drawFooter();
  }

  function drawFooter() {
    const [sent, sentBytes] = store.totals.sent;
    const [received, receivedBytes] = store.totals.received;
    $(".wskit-mp-totals").textContent =
      `↑ ${sent} sent · ${formatBytes(sentBytes)}   ↓ ${received} received · ${formatBytes(receivedBytes)}`;
    const hidden = store.trimmed + store.dropped;
    $(".wskit-mp-count").textContent = `${index.length} of ${store.rows.length} rows shown` +
      (hidden ? ` · ${hidden} earlier rows dropped` : "") + (model.get("paused") ? " · paused" : "");
  }

  function drawHeader() {
    $(".wskit-mp-title").textContent = model.get("title");
    const state = model.get("state");
    const detailText = model.get("state_detail");
    const badge = $(".wskit-badge");
    badge.textContent = detailText ? `${state} · ${detailText}` : state;
    badge.className = `wskit-badge ${state}`;
    el.classList.toggle("server", model.get("server") || store.server === true);
    const actions = model.get("actions");
    $(".wskit-mp-connect").disabled = !actions.includes("connect");
    $(".wskit-mp-disconnect").disabled = !actions.includes("disconnect");
    $(".wskit-mp-send").disabled = !actions.includes("send");
    for (const button of el.querySelectorAll("[data-filter]")) {
      button.setAttribute("aria-pressed", String(button.dataset.filter === model.get("filter")));
    }
    $(".wskit-mp-follow").checked = model.get("follow");
    $(".wskit-mp-pause").setAttribute("aria-pressed", String(model.get("paused")));
    $(".wskit-mp-pause").textContent = model.get("paused") ? "Resume" : "Pause";
    $(".wskit-mp-time").value = model.get("time_mode");
    $(".wskit-mp-time-head").textContent = model.get("time_mode") === "wall clock" ? "time" : "ms";
    const notice = model.get("notice");
    $(".wskit-mp-notice").textContent = notice;
    $(".wskit-mp-notice").classList.toggle("error", notice.startsWith("error"));
  }

  function showDetail(seq) {
    selected = seq;
    const abs = index.find((a) => store.at(a)?.[SEQ] === seq);
    const row = abs === undefined ? null : store.at(abs);
    detail.hidden = row === null;
    if (!row) return;
    const raw = row[ENC] === "hex" ? hexDump(bytesOf(row)) : (row[DIR] === "event" || row[OPCODE] === "CLOSE"
      ? `${row[CODE] ?? ""} ${row[INFO]}`.trim() : row[DATA] ?? "");
    const kept = row[ENC] === "hex" ? (row[DATA] || "").length / 2 : (row[DATA] || "").length;
    const cut = row[DIR] !== "event" && row[SIZE] > kept && row[OPCODE] !== "CLOSE"
      ? ` · the log keeps the first ${kept} of ${row[SIZE]} bytes` : "";
    detail.innerHTML = `<div><b>${ARROW[row[DIR]] || ""} ${escape(row[DIR])} ${escape(row[OPCODE])}</b>` +
      ` · ${row[SIZE]} bytes · ${row[SINCE].toFixed(3)} ms since open · ${wallClock(model.get("started_wall") + row[TIME])}` +
      `${row[CONN] ? ` · connection #${row[CONN]}` : ""}${escape(cut)} ` +
      `<button class="wskit-mp-copy" title="Copy">Copy</button> <button class="wskit-mp-close-detail" title="Close">×</button></div>`;
    if (row[DECODED]) {
      detail.insertAdjacentHTML("beforeend", `<h4>Socket.IO</h4><div>${escape(row[DECODED].summary)}</div>`);
      const tree = document.createElement("div");
      tree.className = "wskit-json wskit-sio";
      tree.appendChild(jsonTree(row[DECODED]));
      detail.appendChild(tree);
    }
    const json = row[ENC] === "" && row[DIR] !== "event" ? parseJson(row[DATA]) : undefined;
    if (json !== undefined) {
      detail.insertAdjacentHTML("beforeend", "<h4>JSON</h4>");
      const tree = document.createElement("div");
      tree.className = "wskit-json";
      tree.appendChild(jsonTree(json));
      detail.appendChild(tree);
    }
    const title = row[ENC] === "hex" ? "Hex (offset, bytes, ASCII)" : row[OPCODE] === "ERROR" ? "Traceback" : "Raw";
    detail.insertAdjacentHTML("beforeend",
      `<h4>${title}</h4><pre class="${row[ENC] === "hex" ? "wskit-hex" : "wskit-raw"}">${escape(raw)}</pre>`);
    const copyText_ = row[ENC] === "hex" ? (row[DATA] || "").replace(/(..)/g, "$1 ").trim() : raw;
    $(".wskit-mp-copy").onclick = async () => {
      $(".wskit-mp-copy").textContent = (await copyText(copyText_)) ? "Copied" : "Copy failed";
    };
    $(".wskit-mp-close-detail").onclick = () => { selected = null; detail.hidden = true; schedule(); };
  }

  // -- events --
  const view = {
    changed(full) {
      if (!model.get("paused") || full) reindex(full);
      if (selected !== null && full) showDetail(selected);
      drawHeader();
      schedule();
    },
  };
  store.views.add(view);

  viewport.addEventListener("scroll", () => {
    const atBottom = viewport.scrollTop + viewport.clientHeight >= viewport.scrollHeight - ROW_HEIGHT;
    // Scrolled up by the reader: stop following; back at the end: follow again (as DevTools do).
    if (atBottom ? !model.get("follow") : model.get("follow") && !programmatic) {
      model.set("follow", atBottom);
      model.save_changes();
    }
    programmatic = false;
    schedule();
  });
  rowsBox.addEventListener("click", (event) => {
    const target = event.target.closest(".wskit-row");
    if (!target) return;
    showDetail(Number(target.dataset.seq));
    schedule();
  });
  viewport.addEventListener("keydown", (event) => {  // arrow keys move the selection, as in DevTools
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const at = index.findIndex((a) => store.at(a)?.[SEQ] === selected);
    const next = Math.max(0, Math.min(index.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)));
    if (index[next] === undefined) return;
    event.preventDefault();
    showDetail(store.at(index[next])[SEQ]);
    const top = next * ROW_HEIGHT;
    if (top < viewport.scrollTop || top + ROW_HEIGHT > viewport.scrollTop + viewport.clientHeight) {
      viewport.scrollTop = top - viewport.clientHeight / 2;
    }
    schedule();
  });
  const set = (name, value) => { model.set(name, value); model.save_changes(); };
  for (const button of el.querySelectorAll("[data-filter]")) button.onclick = () => set("filter", button.dataset.filter);
  $(".wskit-mp-regex").oninput = (event) => set("pattern", event.target.value);
  $(".wskit-mp-follow").onchange = (event) => set("follow", event.target.checked);
  $(".wskit-mp-pause").onclick = () => set("paused", !model.get("paused"));
  $(".wskit-mp-time").onchange = (event) => set("time_mode", event.target.value);
  $(".wskit-mp-clear").onclick = () => model.send({ kind: "clear" });
  for (const button of el.querySelectorAll(".wskit-mp-export")) {
    button.onclick = () => model.send({ kind: "export", format: button.dataset.format });
  }
  $(".wskit-mp-connect").onclick = () => model.send({ kind: "connect" });
  $(".wskit-mp-disconnect").onclick = () => model.send({ kind: "disconnect" });
  const send = () => {
    const input = $(".wskit-mp-input");
    const kind = $(".wskit-mp-kind").value;
    const error = checkOutgoing(input.value, kind);
    if (error) {
      $(".wskit-mp-notice").textContent = `error: ${error}`;
      $(".wskit-mp-notice").classList.add("error");
      return;  // the text stays, so it can be fixed
    }
    model.send({ kind: "send", text: input.value, as: kind });
    input.value = "";
  };
  $(".wskit-mp-send").onclick = send;
  $(".wskit-mp-input").onkeydown = (event) => { if (event.key === "Enter") send(); };

  const onFilter = () => { compileRegex(); reindex(true); drawHeader(); schedule(); };
  const onPause = () => { reindex(false); drawHeader(); schedule(); };
  const onHeader = () => { drawHeader(); schedule(); };
  model.on("change:filter", onFilter);
  model.on("change:pattern", onFilter);
  model.on("change:paused", onPause);
  for (const name of ["state", "state_detail", "notice", "follow", "time_mode", "title", "actions"]) {
    model.on(`change:${name}`, onHeader);
  }
  compileRegex();
  reindex(true);
  drawHeader();
  draw();
  return () => {
    store.views.delete(view);
    model.off("change:filter", onFilter);
    model.off("change:pattern", onFilter);
    model.off("change:paused", onPause);
    for (const name of ["state", "state_detail", "notice", "follow", "time_mode", "title", "actions"]) {
      model.off(`change:${name}`, onHeader);
    }
  };
}

export default { initialize, render };
