"""MessagePanel: the traffic of a connection, as browser DevTools show it, inside a cell.

The kernel sends the browser only the records it has not sent yet, batched (one message per tick of the UI
thread, at most 20 a second, at most :data:`MAX_BATCH_BYTES` each); the browser keeps them, filters them, and
draws only the rows in view (a virtualized table), so 100,000 rows scroll smoothly. The front end is
``static/message_panel.js`` (plain JavaScript, no build step).

Nothing here runs on the wskit loop thread: the log's subscriber only queues the record (see :mod:`._pump`).
"""

from __future__ import annotations

import datetime
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..codec.kinds import CONTROL_KINDS, RecordKind
from ..codec.redact import redact, redact_header
from ..codec.socketio import InvalidPacket, decode_engineio, describe
from ._pump import PUMP, Feed, cell_site, replace
from .browserclient import _STATIC

__all__ = [
    "FILTERS", "KINDS", "MAX_BATCH_BYTES", "MAX_BATCH_ROWS", "MIN_GAP", "MessagePanel", "decode_rows", "encode_rows",
    "har", "parse_outgoing",
]

FILTERS = ("All", "Sent", "Received", "Control")
KINDS = ("text", "JSON", "hex bytes")
MAX_BATCH_BYTES = 256 * 1024  # per widget message; a backlog goes out over the next ticks
MAX_BATCH_ROWS = 8192  # per widget message, likewise
MIN_GAP = 0.9  # of 1 / max_rate: the least time between two updates (the UI thread's 20 Hz tick may come early)
CONTROL = tuple(sorted(CONTROL_KINDS))  # the "Control" filter, here and (through the model) in the browser
_KINDS: dict[str, RecordKind] = dict(RecordKind.__members__)
_CONNECTION_EVENTS = (RecordKind.OPEN, RecordKind.CLOSED, RecordKind.REJECTED)  # what changes a server's badge


def parse_outgoing(text: str, kind: str) -> str | bytes:
    """What the send box's ``text`` means as a message of ``kind``.

    Raises:
        ValueError: the text is not valid JSON / hex, with a message that says why.
    """
    if kind == "text":
        return text
    if kind == "JSON":
        try:
            return json.dumps(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    if kind == "hex bytes":
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise ValueError("not hex bytes: write pairs of hex digits, e.g. '48 65 6c 6c 6f'") from None
    raise ValueError(f"unknown message kind {kind!r}; expected one of {KINDS}")


def _socketio(text: str) -> dict[str, Any]:
    """The Engine.IO packet (and the Socket.IO packet inside) as a JSON-ready dict, for the detail pane."""
    try:
        packet = decode_engineio(text)
    except InvalidPacket as exc:
        return {"summary": describe(text), "error": str(exc)}
    decoded: dict[str, Any] = {"summary": describe(text), "engine.io": packet.type}
    inner = packet.socketio
    if inner is not None:
        decoded["socket.io"] = {"type": inner.type, "namespace": inner.namespace, "ack": inner.ack_id,
                                "data": inner.data}
        if inner.attachments:
            decoded["socket.io"]["attachments"] = inner.attachments
    elif packet.data:
        try:
            decoded["data"] = json.loads(packet.data)
        except json.JSONDecodeError:
            decoded["data"] = packet.data
    return decoded


def encode_rows(records: list[Any], first_seq: int, socketio: bool = False) -> tuple[dict[str, Any], bytes]:
    """One batch of records as the browser gets it: columns in JSON, and the payloads in one binary buffer.

    The JSON part: ``{"kind": "rows", "first": seq of the first row (the others follow one by one), "t": times
    in µs since the log started, "d": one letter per row (s sent, r received, e event), "o": opcodes, "n": sizes,
    "xl": the byte length of each row's data in the buffer (-1: no data), "b": rows whose data is hex (bytes),
    "c": connection numbers (0 when all are 0), "e": {row: [code, info, decoded]} for the rows that have any}``,
    where ``decoded`` is the Socket.IO packet, decoded, or ``None``. The buffer: every row's data (text, or hex),
    UTF-8, one after another. A buffer travels as a raw ZeroMQ frame, never through JSON: building per-row
    lists, float times and escaped JSON strings cost the kernel 4× more.
    """
    data = [r.data for r in records]
    str_ = str
    other = [i for i, item in enumerate(data) if item.__class__ is not str_]  # bytes or None: few
    binary = []
    for i in other:
        if data[i] is None:
            data[i] = ""
        else:
            data[i] = data[i].hex()
            binary.append(i)
    is_binary = set(binary)  # looked up once per row below: a list made a batch of attachments quadratic
    extra: dict[int, list[Any]] = {
        i: [r.code, r.info, None] for i, r in enumerate(records) if r.info or r.code is not None
    }
    if socketio:
        for i, r in enumerate(records):
            if r.direction != "event" and data[i] and i not in is_binary:
                extra.setdefault(i, [r.code, r.info, None])[2] = _socketio(data[i])
    text = "".join(data)
    blob = text.encode("utf-8", "surrogatepass")
    if len(blob) == len(text):  # all ASCII: characters are bytes
        lengths = list(map(len, data))
    else:
        lengths = [len(d.encode("utf-8", "surrogatepass")) for d in data]
    for i in other:
        if records[i].data is None:
            lengths[i] = -1
    conns = [r.conn for r in records]
    content = {
        "kind": "rows", "first": first_seq, "t": [int(r.time * 1e6) for r in records],
        "d": "".join([r.direction[0] for r in records]), "o": [r.opcode for r in records],
        "n": [r.size for r in records], "xl": lengths, "b": binary, "c": conns if any(conns) else 0, "e": extra,
    }
    return content, blob


def decode_rows(message: dict[str, Any], buffer: bytes | memoryview) -> list[list[Any]]:
    """The rows of a batch, as message_panel.js rebuilds them (for tests and other front ends).

    Each row: ``[seq, time s, direction, opcode, size, data, encoding, conn, code, info, decoded]``.
    """
    direction = {"s": "sent", "r": "received", "e": "event"}
    binary = set(message["b"])
    raw = bytes(buffer)
    rows, offset = [], 0
    for i, time_us in enumerate(message["t"]):
        length = message["xl"][i]
        data = None if length < 0 else raw[offset : offset + length].decode("utf-8", "surrogatepass")
        offset += max(length, 0)
        code, info, decoded = message["e"].get(str(i), message["e"].get(i, [None, "", None]))
        rows.append([message["first"] + i, time_us / 1e6, direction[message["d"][i]], message["o"][i],
                     message["n"][i], data, "hex" if i in binary else "",
                     message["c"][i] if message["c"] else 0, code, info, decoded])
    return rows


def _batch_bytes(records: list[Any]) -> int:
    """An upper estimate of a batch's JSON size (non-ASCII text is up to 4 bytes a character in UTF-8)."""
    size = 0
    for r in records:
        data, info = r.data, r.info
        if data is not None:
            size += 2 * len(data) if data.__class__ is bytes else len(data) if data.isascii() else 4 * len(data)
        if info:
            size += len(info) if info.isascii() else 4 * len(info)
    return size + 48 * len(records)


def _matches(record: Any, view: str, regex: re.Pattern | None) -> bool:
    if view == "Sent" and record.direction != "sent":
        return False
    if view == "Received" and record.direction != "received":
        return False
    if view == "Control" and record.opcode not in CONTROL:
        return False
    if regex is None:
        return True
    data = record.data.hex() if isinstance(record.data, bytes) else (record.data or "")
    return regex.search(f"{record.opcode} {data} {record.info}") is not None  # the browser's test, the same


def har(records: list[Any], handshakes: list[Any], started_wall: float, title: str) -> dict[str, Any]:
    """A HAR 1.2 document, one entry per connection, with Chrome's ``_webSocketMessages`` for the frames.

    Chrome's Network panel exports WebSocket traffic this way (``type`` ``send``/``receive``, ``time`` in
    seconds since the epoch, ``opcode`` 1 text / 2 binary, ``data``), and imports it back. The handshake's secrets
    are redacted as the traffic log redacts them (:mod:`wskit.codec.redact`: query and quoted values, URL
    passwords, the Authorization and Cookie headers), also when the handshakes did not come from a log.
    """
    by_conn: dict[int, list[Any]] = {}
    for record in records:
        by_conn.setdefault(record.conn, []).append(record)
    shakes = {h.conn: h for h in handshakes}
    entries = []
    for conn, rows in by_conn.items():
        opened = next((r.time for r in rows if r.opcode == RecordKind.OPEN), rows[0].time)
        shake = shakes.get(conn)
        request = {"method": "GET", "url": title, "httpVersion": "HTTP/1.1", "headers": [], "queryString": [],
                   "cookies": [], "headersSize": -1, "bodySize": 0}
        response = {"status": 101, "statusText": "Switching Protocols", "httpVersion": "HTTP/1.1", "headers": [],
                    "cookies": [], "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "",
                    "headersSize": -1, "bodySize": 0}
        if shake is not None:
            host = shake.request.headers.get("Host") or "127.0.0.1"
            request["url"] = redact(f"ws://{host}{shake.request.target}")
            request["headers"] = [{"name": k, "value": redact_header(k, redact(v))}
                                  for k, v in shake.request.headers.items()]
            response.update(status=shake.response.status, statusText=shake.response.reason,
                            headers=[{"name": k, "value": redact_header(k, redact(v))}
                                     for k, v in shake.response.headers.items()])
        messages = []
        for r in rows:
            kind = _KINDS.get(r.opcode)
            opcode = None if kind is None or kind is RecordKind.CONT else kind.frame_opcode
            if r.direction == "event" or opcode is None:
                continue
            data = r.data.hex() if isinstance(r.data, bytes) else (r.data or "")
            messages.append({"type": "send" if r.direction == "sent" else "receive",
                             "time": started_wall + r.time, "opcode": int(opcode), "data": data})
        entries.append({
            "startedDateTime": datetime.datetime.fromtimestamp(started_wall + opened, datetime.UTC).isoformat(),
            "time": (rows[-1].time - opened) * 1000, "request": request, "response": response, "cache": {},
            "timings": {"send": 0, "wait": 0, "receive": 0}, "_resourceType": "websocket",
            "_webSocketMessages": messages, "_wskitConnection": conn,
        })
    return {"log": {"version": "1.2", "creator": {"name": "wskit", "version": "1"}, "pages": [], "entries": entries}}


class MessagePanel(anywidget.AnyWidget):
    """Every message of a connection, as it flows: direction, time, size, opcode, data, and the whole message.

    Args:
        source: a wskit client or server (anything with ``.log``), or a
            :class:`~wskit.live.log.TrafficLog` itself.
        title: shown in the header (default: the source's name).
        max_rows: rows the browser keeps (oldest dropped first, and counted), so its memory stays bounded.
        keep: records the kernel keeps for :meth:`visible`, :meth:`export` and a page reload; older ones are
            dropped and counted (:attr:`dropped`).
        max_rate: at most this many updates a second (the UI thread ticks at most 20 times a second).
        on_send, on_connect, on_disconnect: callbacks for the send box and the buttons. By default they are
            the source's own ``send``, ``reconnect`` and ``close`` when it has them.

    In the browser, as in Chrome's Network → WS → Messages: rows oldest first, the view follows new messages
    until you scroll up (the *follow* toggle), filters All / Sent / Received / Control and a regular expression,
    a click on a row shows the whole message (text, JSON as a tree, binary as a hex dump, Socket.IO decoded)
    with a copy button, time since the connection opened or wall clock, totals per direction, pause, clear,
    export as JSON or HAR, a send box (text, JSON, hex), connect / disconnect and the connection's state.
    """

    _esm = (_STATIC / "message_panel.js").read_text()

    title = traitlets.Unicode("traffic").tag(sync=True)
    filter = traitlets.Enum(FILTERS, default_value="All").tag(sync=True)
    pattern = traitlets.Unicode("").tag(sync=True)
    paused = traitlets.Bool(False).tag(sync=True)
    follow = traitlets.Bool(True).tag(sync=True)
    time_mode = traitlets.Enum(("since open", "wall clock"), default_value="since open").tag(sync=True)
    state = traitlets.Unicode("connecting").tag(sync=True)
    state_detail = traitlets.Unicode("").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    server = traitlets.Bool(False).tag(sync=True)
    socketio = traitlets.Bool(False).tag(sync=True)
    max_rows = traitlets.Int(100_000).tag(sync=True)
    started_wall = traitlets.Float(0.0).tag(sync=True)
    actions = traitlets.List(traitlets.Unicode()).tag(sync=True)  # which of send/connect/disconnect work
    control_kinds = traitlets.List(traitlets.Unicode(), default_value=[k.value for k in CONTROL]).tag(sync=True)

    def __init__(
        self,
        source: Any,
        *,
        title: str | None = None,
        max_rows: int = 100_000,
        keep: int = 10_000,
        max_rate: float = 20.0,
        on_send: Callable[[str | bytes], None] | None = None,
        on_connect: Callable[[], None] | None = None,
        on_disconnect: Callable[[], None] | None = None,
    ) -> None:
        log = getattr(source, "log", source)
        if not hasattr(log, "subscribe") or not hasattr(log, "records"):
            raise TypeError(f"MessagePanel shows a wskit client, server or TrafficLog; got {type(source).__name__}")
        if max_rows < 1 or keep < 1 or max_rate <= 0:
            raise ValueError("max_rows and keep must be at least 1, and max_rate positive")
        site = cell_site()
        self.traffic = log
        self.on_send = on_send or getattr(source, "send", None)
        self.on_connect = on_connect or getattr(source, "reconnect", None)
        self.on_disconnect = on_disconnect or getattr(source, "close", None)
        self.records: deque[Any] = deque(maxlen=keep)
        self.dropped = 0
        self.open_connections: set[int] = set()
        self.cleared_at = -1.0
        self.interval = 1.0 / max_rate
        self.sent_messages = 0  # widget messages carrying rows
        self.unsent_dropped = 0  # rows dropped before they were sent (the browser fell `keep` rows behind)
        self._seq = 0
        self._unsent: deque[Any] = deque(maxlen=keep)  # records not sent yet: the newest, by seq
        self._has_view = False
        self._last_send = float("-inf")
        protocol = getattr(log, "protocol", "websocket")
        started = getattr(log, "started", time.perf_counter())
        super().__init__(
            title=title or getattr(source, "name", "traffic"), max_rows=max_rows, socketio=protocol == "socket.io",
            started_wall=time.time() - (time.perf_counter() - started),
            actions=[name for name, f in (("send", self.on_send), ("connect", self.on_connect),
                                          ("disconnect", self.on_disconnect)) if f is not None],
        )
        self.add_class("wskit-message-panel")
        self.on_msg(self._on_browser_message)
        # Subscribe first, then read what happened before: a record logged in between is in both, and is
        # taken once (records arrive in time order).
        self._feed = Feed([log], self, armed=False)
        existing = log.records
        self._last_time = existing[-1].time if existing else float("-inf")
        for record in existing:
            self._take(record)
        self._feed.arm()  # from now on only the UI thread changes this widget
        replace(self, "MessagePanel", site)

    # -- records in (the UI thread) --

    def _take(self, record: Any) -> None:
        self._take_all([record])

    def _take_all(self, records: list[Any]) -> None:
        """Keep ``records`` (oldest first) and queue them for the browser; follow the connection's state."""
        kept, unsent = self.records, self._unsent
        self.dropped += max(0, len(kept) + len(records) - kept.maxlen)
        kept.extend(records)
        self._seq += len(records)
        if self._has_view:
            self.unsent_dropped += max(0, len(unsent) + len(records) - unsent.maxlen)
            unsent.extend(records)
        for record in records:
            if record.direction == "event" or record.opcode == RecordKind.CLOSE:
                if record.conn and not self.server:
                    self.server = True
                if record.opcode == RecordKind.OPEN:
                    self.open_connections.add(record.conn)
                elif record.opcode == RecordKind.CLOSED:
                    self.open_connections.discard(record.conn)
                self._update_state(record)

    def _drain(self, items: list[tuple[int, Any]]) -> None:
        """New records from the feed (UI thread): keep them, then send what is due."""
        if items:
            last = self._last_time
            records = [record for _index, record in items]
            if records[0].time <= last:  # already taken from the snapshot made at subscription
                records = [record for record in records if record.time > last]
            self._last_time = max(last, items[-1][1].time)
            self._take_all(records)
        self._send_rows()

    def _send_rows(self) -> None:
        unsent = self._unsent
        if not unsent:
            return
        now = time.monotonic()
        if now - self._last_send < self.interval * 0.9:  # max_rate below the UI thread's 20 Hz
            self._feed.pump.wake(self._feed)
            return
        first = self._seq - len(unsent) + 1  # unsent rows are the newest, one seq after another
        count = min(len(unsent), 8192)
        batch = [unsent.popleft() for _ in range(count)]
        while len(batch) > 1 and _batch_bytes(batch) > MAX_BATCH_BYTES:  # rare: long messages; send fewer
            half = len(batch) // 2
            unsent.extendleft(reversed(batch[half:]))
            batch = batch[:half]
        self._last_send = now
        self.sent_messages += 1
        message, blob = encode_rows(batch, first, self.socketio)
        message["dropped"] = self.unsent_dropped
        self.send(message, [blob])
        if unsent:  # the rest at the next tick
            self._feed.pump.wake(self._feed)

    def _update_state(self, record: Any) -> None:
        if record.conn != 0:  # a server: one badge for all connections
            if record.opcode in _CONNECTION_EVENTS:
                self.state = "listening"
                self.state_detail = f"{len(self.open_connections)} open"
            return
        if record.opcode == RecordKind.OPEN:
            self.state, self.state_detail = "open", ""
        elif record.opcode == RecordKind.CLOSE and self.state == "open":
            self.state = "closing"
            self.state_detail = f"{record.code or ''} {record.info}".strip()
        elif record.opcode == RecordKind.CLOSED:
            self.state = "closed"
            self.state_detail = f"{record.code or ''} {record.info}".strip()
        elif record.opcode == RecordKind.REJECTED:
            self.state, self.state_detail = "refused", f"HTTP {record.code}"

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until the UI thread has taken every record logged so far, and sent it (for tests and scripts).

        The rows still go in batches bounded in bytes, but without waiting for the next tick.
        """

        def drain() -> None:
            self._feed.drain()
            while self._unsent:
                self._last_send = float("-inf")
                self._send_rows()
            done.set()

        done = threading.Event()
        if PUMP.in_thread():
            drain()
            return

        PUMP.call(drain)
        if not done.wait(timeout):
            raise TimeoutError(f"the widgets' UI thread did not drain within {timeout} s")

    # -- the browser (its messages arrive on the kernel's main thread; the work is queued to the UI thread) --

    def _on_browser_message(self, _widget: Any, content: dict, _buffers: list) -> None:
        kind = content.get("kind") if isinstance(content, dict) else None
        if kind == "hello":
            PUMP.call(self._resend)
        elif kind == "send":
            text, as_kind = str(content.get("text", "")), str(content.get("as", "text"))
            PUMP.call(lambda: self._send_from_browser(text, as_kind))
        elif kind == "connect":
            PUMP.call(lambda: self._call(self.on_connect, "connect"))
        elif kind == "disconnect":
            PUMP.call(lambda: self._call(self.on_disconnect, "disconnect"))
        elif kind == "clear":
            self.clear()
        elif kind == "export":
            fmt = content.get("format")
            PUMP.call(lambda: self._export_quietly("har" if fmt == "har" else "json"))

    def _resend(self) -> None:
        """A view appeared (or the page reloaded): send every kept record after the last clear."""
        self._feed.drain()
        self._has_view = True
        self._unsent.clear()
        self.unsent_dropped = 0
        self.send({"kind": "reset", "cleared_at": self.cleared_at})
        self._unsent.extend(r for r in self.records if r.time > self.cleared_at)
        self._last_send = float("-inf")
        self._send_rows()

    def _send_from_browser(self, text: str, kind: str) -> None:
        try:
            message = parse_outgoing(text, kind)
        except ValueError as exc:
            self._say(f"error: {exc}")
            return
        self._call(self.on_send, "send", message)

    def _call(self, action: Callable[..., Any] | None, what: str, *args: Any) -> bool:
        if action is None:
            self._say(f"error: nothing to {what} with here")
            return False
        try:
            action(*args)
        except Exception as exc:  # shown in the panel, never raised into the widget machinery
            self._say(f"error: {what} failed: {exc!r}")
            return False
        self._say("")
        return True

    def _say(self, text: str) -> None:
        """Set the notice line, on the UI thread (the widget's one writer)."""
        if PUMP.in_thread():
            self.notice = text
        else:
            PUMP.call(lambda: setattr(self, "notice", text))

    def _export_quietly(self, fmt: str) -> None:
        try:
            self.export(fmt=fmt)
        except OSError as exc:
            self._say(f"error: export failed: {exc}")

    # -- the Python API (a cell) --

    def send_text(self, text: str, kind: str = "text") -> bool:
        """Send ``text`` as the send box would (``kind``: text, JSON or hex bytes); ``False`` and a notice on error."""
        try:
            message = parse_outgoing(text, kind)
        except ValueError as exc:
            self._say(f"error: {exc}")
            return False
        return self._call(self.on_send, "send", message)

    def visible(self) -> list[Any]:
        """The records the current filter and pattern let through, oldest first (what the browser shows).

        Raises:
            ValueError: the pattern is not a valid regular expression (the browser says so too).
        """
        try:
            regex = re.compile(self.pattern) if self.pattern else None
        except re.error as exc:
            raise ValueError(f"the filter is not a valid regex: {exc}") from None
        view = self.filter
        return [r for r in list(self.records) if r.time > self.cleared_at and _matches(r, view, regex)]

    def totals(self) -> dict[str, dict[str, int]]:
        """Messages and payload bytes per direction since the last clear (the browser's footer)."""
        totals = {"sent": {"messages": 0, "bytes": 0}, "received": {"messages": 0, "bytes": 0}}
        for r in list(self.records):
            if r.time > self.cleared_at and r.direction in totals:
                totals[r.direction]["messages"] += 1
                totals[r.direction]["bytes"] += r.size
        return totals

    @property
    def updates(self) -> int:
        """How many widget messages carried rows to the browser."""
        return self.sent_messages

    def clear(self) -> None:
        """Hide every row so far, here and in the browser (the source's log keeps them)."""
        self.cleared_at = self.traffic.now() if hasattr(self.traffic, "now") else time.perf_counter()
        at = self.cleared_at

        def clear_view() -> None:
            self._feed.drain()  # the rows logged before the clear go first, in order
            if self._has_view:
                self.send({"kind": "clear", "cleared_at": at})

        PUMP.call(clear_view)

    def export(self, path: str | Path | None = None, fmt: str | None = None) -> Path:
        """Write the kept records (ignoring filters) to a file; return its path.

        Args:
            path: the file (default ``messages-<title>.json`` or ``.har`` in the working directory).
            fmt: ``"json"`` (the records, bytes as hex) or ``"har"`` (HAR 1.2 with Chrome's
                ``_webSocketMessages``, which DevTools can import); by default from the path's suffix.
        """
        if fmt is None:
            fmt = "har" if path is not None and str(path).endswith(".har") else "json"
        if fmt not in ("json", "har"):
            raise ValueError(f"export format is 'json' or 'har', not {fmt!r}")
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.title).strip("-") or "traffic"
        target = Path(path) if path is not None else Path(f"messages-{name}.{fmt}")
        records = list(self.records)
        if fmt == "json":
            document: Any = [r.to_dict() for r in records]
            for row in document:
                row["info"] = redact(str(row["info"]))
        else:
            document = har(records, list(getattr(self.traffic, "handshakes", [])), self.started_wall, self.title)
        target.write_text(json.dumps(document, indent=1))
        self._say(f"saved {len(records)} records to {target}")
        return target

    def table(self, last: int = 20) -> str:
        """The last ``last`` visible rows as plain text (what a viewer without JavaScript shows)."""
        rows = self.visible()[-last:]
        arrows = {"sent": "↑", "received": "↓", "event": "•"}
        lines = [repr(self)]
        for r in rows:
            conn = f"#{r.conn} " if r.conn else ""
            lines.append(f"{arrows.get(r.direction, '?')} {conn}{r.time * 1000:9.1f} ms {r.opcode:<8} {r.size:>6} B"
                         f"  {r.preview()}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"MessagePanel({self.title!r}: {len(self.records)} records, {self.state})"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget, and for viewers without JavaScript (GitHub, nbval) the last rows as plain text."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict):
            data["text/plain"] = self.table(10)
        return bundle

    def close(self) -> None:
        """Stop following the log, forget the records kept for the browser, and close the widget.

        (IPython's output history may keep the object itself: ``Out[n]`` of the cell that showed it.)
        """
        feed = getattr(self, "_feed", None)
        if feed is not None:
            feed.close()
            self.records = deque(maxlen=self.records.maxlen)
            self._unsent.clear()
        super().close()
