"""MessagePanel: the traffic of a connection, as browser DevTools show it, inside a cell."""

from __future__ import annotations

import html
import json
import re
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import traitlets

from ..codec.socketio import describe
from ._throttle import Throttle

__all__ = ["MessagePanel", "parse_outgoing"]

FILTERS = ("All", "Sent", "Received", "Control")
KINDS = ("text", "JSON", "hex bytes")
ARROW = {"sent": ("↑", "#1a7f37"), "received": ("↓", "#b35900"), "event": ("•", "#777")}
BADGE = {
    "connecting": "#9a6700",
    "open": "#1a7f37",
    "listening": "#1a7f37",
    "closing": "#9a6700",
    "closed": "#cf222e",
    "refused": "#cf222e",
}

CSS = """
<style>
.wskit-message-panel table { border-collapse: collapse; width: 100%; font-size: 12px; }
.wskit-message-panel td, .wskit-message-panel th { padding: 2px 6px; border-bottom: 1px solid #eee;
  text-align: left; vertical-align: top; }
.wskit-message-panel pre { margin: 0; white-space: pre-wrap; font-size: 11px; }
.wskit-message-panel .event td { color: #777; font-style: italic; }
.wskit-message-panel .error td { color: #cf222e; }
</style>
"""


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


def _preview(record: Any, limit: int = 64, socketio: bool = False) -> str:
    """The data column: JSON pretty-printed, binary as hex, text as it is; Socket.IO packets decoded."""
    if socketio and record.direction != "event" and isinstance(record.data, str):
        raw, meaning = html.escape(record.data[: 4 * limit]), html.escape(describe(record.data))
        return f"<code>{raw}</code><br><small>{meaning}</small>"
    if record.opcode == "CLOSE":
        return html.escape(record.info.strip()) or "<i>no reason</i>"
    if record.direction == "event":
        text = " ".join(str(x) for x in (record.code, record.info.strip()) if x not in (None, ""))
        if record.opcode == "ERROR":
            return f"<pre>{html.escape(record.info.strip())}</pre>"
        return html.escape(text)
    data = record.data
    if isinstance(data, bytes):
        shown = data[:limit].hex(" ") + (f" … ({len(data)} bytes)" if len(data) > limit else "")
        return f"<code>{shown}</code>"
    if data is None:
        return ""
    stripped = data.strip()
    if stripped[:1] in ("{", "[") and len(data) <= 4096:
        try:
            return f"<pre>{html.escape(json.dumps(json.loads(data), indent=1))}</pre>"
        except json.JSONDecodeError:
            pass
    shown = data if len(data) <= 4 * limit else data[: 4 * limit] + "…"
    return html.escape(shown)


class MessagePanel(widgets.VBox):
    """Every message of a connection, as it flows: direction, time, size, opcode, data.

    Args:
        source: a wskit client or server (anything with ``.log``), or a
            :class:`~wskit.live.log.TrafficLog` itself.
        title: shown in the header (default: the source's name).
        max_rows: rows drawn (the newest); older ones are counted, not drawn.
        keep: records kept in memory for filtering; older ones are dropped
            and counted, so memory stays bounded on long runs.
        max_rate: at most this many redraws a second, whatever the traffic.
        on_send, on_connect, on_disconnect: callbacks for the send box and
            the buttons. By default they are the source's own ``send``,
            ``reconnect`` and ``close`` when it has them.

    The toolbar filters All / Sent / Received / Control and by regular
    expression, pauses and resumes the view, clears it, and exports the
    records as JSON. The badge shows the connection's state.
    """

    filter = traitlets.Enum(FILTERS, default_value="All")
    pattern = traitlets.Unicode("")
    paused = traitlets.Bool(False)
    state = traitlets.Unicode("connecting")

    def __init__(
        self,
        source: Any,
        *,
        title: str | None = None,
        max_rows: int = 200,
        keep: int = 10_000,
        max_rate: float = 20.0,
        on_send: Callable[[str | bytes], None] | None = None,
        on_connect: Callable[[], None] | None = None,
        on_disconnect: Callable[[], None] | None = None,
    ) -> None:
        log = getattr(source, "log", source)
        if not hasattr(log, "subscribe") or not hasattr(log, "records"):
            raise TypeError(f"MessagePanel shows a wskit client, server or TrafficLog; got {type(source).__name__}")
        self.traffic = log
        self.title = title or getattr(source, "name", "traffic")
        self.max_rows = max_rows
        self.on_send = on_send or getattr(source, "send", None)
        self.on_connect = on_connect or getattr(source, "reconnect", None)
        self.on_disconnect = on_disconnect or getattr(source, "close", None)
        self.records: deque[Any] = deque(maxlen=keep)
        self.dropped = 0
        self.open_connections: set[int] = set()
        self.cleared_at = 0.0
        self._lock = threading.Lock()
        self._state_detail = ""
        self._build()
        super().__init__(children=[self._header, self._toolbar, self._table, self._sendbar, self._notice])
        self.add_class("wskit-message-panel")
        self._throttle = Throttle(self._redraw, max_rate)
        for record in log.records:  # what happened before the panel was made
            self._take(record)
        self._unsubscribe = log.subscribe(self.ingest)
        self._throttle.flush()

    # -- building --

    def _build(self) -> None:
        self._badge = widgets.HTML()
        self._heading = widgets.HTML(f"<b>{html.escape(self.title)}</b>")
        self._connect = widgets.Button(description="Connect", icon="plug", disabled=self.on_connect is None,
                                       layout=widgets.Layout(width="auto"))
        self._disconnect = widgets.Button(description="Disconnect", icon="times",
                                          disabled=self.on_disconnect is None, layout=widgets.Layout(width="auto"))
        self._connect.on_click(lambda _: self._call(self.on_connect, "connect"))
        self._disconnect.on_click(lambda _: self._call(self.on_disconnect, "disconnect"))
        self._header = widgets.HBox([self._heading, self._badge, self._connect, self._disconnect],
                                    layout=widgets.Layout(align_items="center"))

        self._filter = widgets.ToggleButtons(options=FILTERS, value="All",
                                             style={"button_width": "84px"})
        self._pattern = widgets.Text(placeholder="filter (regex)", layout=widgets.Layout(width="180px"))
        self._pause = widgets.ToggleButton(description="Pause", icon="pause", layout=widgets.Layout(width="auto"))
        self._clear = widgets.Button(description="Clear", icon="ban", layout=widgets.Layout(width="auto"))
        self._export = widgets.Button(description="Export JSON", icon="download",
                                      layout=widgets.Layout(width="auto"))
        widgets.link((self._filter, "value"), (self, "filter"))
        widgets.link((self._pattern, "value"), (self, "pattern"))
        widgets.link((self._pause, "value"), (self, "paused"))
        self._clear.on_click(lambda _: self.clear())
        self._export.on_click(lambda _: self.export())
        self._toolbar = widgets.HBox([self._filter, self._pattern, self._pause, self._clear, self._export],
                                     layout=widgets.Layout(flex_flow="row wrap"))

        self._table = widgets.HTML(layout=widgets.Layout(max_height="320px", overflow="auto"))
        self._table.add_class("wskit-message-table")

        self._input = widgets.Text(placeholder="message to send", layout=widgets.Layout(flex="1"))
        self._kind = widgets.Dropdown(options=KINDS, value="text", layout=widgets.Layout(width="110px"))
        self._send_button = widgets.Button(description="Send", icon="paper-plane", button_style="primary",
                                    disabled=self.on_send is None, layout=widgets.Layout(width="auto"))
        self._send_button.on_click(lambda _: self.send_from_box())
        self._sendbar = widgets.HBox([self._input, self._kind, self._send_button])
        self._notice = widgets.HTML()

    # -- records in (any thread) --

    def _take(self, record: Any) -> None:
        with self._lock:
            if len(self.records) == self.records.maxlen:
                self.dropped += 1
            self.records.append(record)
            if record.opcode == "OPEN":
                self.open_connections.add(record.conn)
            elif record.opcode == "CLOSED":
                self.open_connections.discard(record.conn)
            self._update_state(record)

    def ingest(self, record: Any) -> None:
        """Take one record (called by the log for each new one); redraw soon.

        A client's connection events (rare, and what the badge shows) redraw
        at once, so the last state is drawn even if the loop stops next.
        """
        self._take(record)
        if record.conn == 0 and record.opcode in ("OPEN", "CLOSED", "REJECTED"):
            self._throttle.flush()
        else:
            self._throttle.poke()

    def _update_state(self, record: Any) -> None:
        server = record.conn != 0
        if server:
            if record.opcode in ("OPEN", "CLOSED", "REJECTED"):
                self.state = "listening"
                self._state_detail = f"{len(self.open_connections)} open"
            return
        if record.opcode == "OPEN":
            self.state, self._state_detail = "open", ""
        elif record.opcode == "CLOSE" and self.state == "open":
            self.state = "closing"
            self._state_detail = f"{record.code or ''} {record.info}".strip()
        elif record.opcode == "CLOSED":
            self.state = "closed"
            self._state_detail = f"{record.code or ''} {record.info}".strip()
        elif record.opcode == "REJECTED":
            self.state, self._state_detail = "refused", f"HTTP {record.code}"

    # -- the view --

    @traitlets.observe("filter", "pattern", "paused")
    def _on_view_change(self, change: dict) -> None:
        if hasattr(self, "_throttle"):
            self._throttle.flush()

    def visible(self) -> list[Any]:
        """The records the current filters let through, oldest first (all of them, not only drawn rows)."""
        with self._lock:
            records = [r for r in self.records if r.time >= self.cleared_at]
        if self.filter == "Sent":
            records = [r for r in records if r.direction == "sent"]
        elif self.filter == "Received":
            records = [r for r in records if r.direction == "received"]
        elif self.filter == "Control":
            records = [r for r in records if r.opcode in ("PING", "PONG", "CLOSE")]
        if self.pattern:
            try:
                regex = re.compile(self.pattern)
            except re.error as exc:
                self._notice.value = f"<span style='color:#cf222e'>filter is not a valid regex: {exc}</span>"
                return records
            records = [r for r in records if regex.search(f"{r.opcode} {r.data!r} {r.info}")]
        return records

    def _redraw(self) -> None:
        label = f"{self.state} · {self._state_detail}" if self._state_detail else self.state
        badge = (
            f"<span class='wskit-badge' style='background:{BADGE.get(self.state, '#777')};color:white;"
            f"border-radius:8px;padding:1px 8px;font-size:12px'>{html.escape(label)}</span>"
        )
        if self._badge.value != badge:
            self._badge.value = badge
        if self.paused:
            return
        records = self.visible()
        shown = records[-self.max_rows :]
        # Time since the connection's latest OPEN before each row (a reconnect restarts the clock).
        wanted = {id(r) for r in shown}
        opened: dict[int, float] = {}
        since_open: dict[int, float] = {}
        with self._lock:
            for r in self.records:
                if r.opcode == "OPEN":
                    opened[r.conn] = r.time
                if id(r) in wanted:
                    since_open[id(r)] = r.time - opened.get(r.conn, r.time)
        server = any(r.conn for r in shown)
        sio = getattr(self.traffic, "protocol", "websocket") == "socket.io"
        rows = []
        for r in shown:
            arrow, colour = ARROW.get(r.direction, ("?", "#777"))
            since = since_open.get(id(r), 0.0) * 1000
            opcode = r.opcode if r.code is None or r.direction == "event" else f"{r.opcode} {r.code}"
            css = "error" if r.opcode == "ERROR" else ("event" if r.direction == "event" else r.direction)
            conn = f"<td>#{r.conn}</td>" if server else ""
            rows.append(
                f"<tr class='{css}'><td style='color:{colour};font-weight:bold'>{arrow}</td>{conn}"
                f"<td>{since:.1f}</td><td>{r.size}</td><td>{html.escape(opcode)}</td>"
                f"<td>{_preview(r, socketio=sio)}</td></tr>"
            )
        rows.reverse()  # newest first, so the latest traffic is always in view
        hidden = len(records) - len(shown) + self.dropped
        more = f"<div style='color:#777;font-size:11px'>{hidden} earlier rows not drawn</div>" if hidden else ""
        head = (
            "<th></th>" + ("<th>conn</th>" if server else "")
            + "<th>ms</th><th>bytes</th><th>opcode</th><th>data (newest first)</th>"
        )
        empty = "" if rows else "<tr><td colspan='6' style='color:#777'>no messages yet</td></tr>"
        self._table.value = f"{CSS}<table><tr>{head}</tr>{''.join(rows)}{empty}</table>{more}"

    @property
    def updates(self) -> int:
        """How many times the panel redrew (each redraw is at most two widget messages)."""
        return self._throttle.redraws

    # -- actions --

    def send_from_box(self) -> None:
        """Send what is in the send box, as the chosen kind; show any error in the panel."""
        try:
            message = parse_outgoing(self._input.value, self._kind.value)
        except ValueError as exc:
            self._notice.value = f"<span style='color:#cf222e'>{html.escape(str(exc))}</span>"
            return
        if self._call(self.on_send, "send", message):
            self._input.value = ""

    def _call(self, action: Callable[..., Any] | None, what: str, *args: Any) -> bool:
        if action is None:
            self._notice.value = f"<span style='color:#cf222e'>nothing to {what} with here</span>"
            return False
        try:
            action(*args)
        except Exception as exc:  # shown in the panel, never raised into the widget machinery
            self._notice.value = f"<span style='color:#cf222e'>{what} failed: {html.escape(repr(exc))}</span>"
            return False
        self._notice.value = ""
        return True

    def clear(self) -> None:
        """Hide every row so far (the source's log keeps them)."""
        with self._lock:
            self.cleared_at = self.records[-1].time + 1e-9 if self.records else 0.0
        self._throttle.flush()

    def export(self, path: str | Path | None = None) -> Path:
        """Write the records (all kept ones, ignoring filters) to a JSON file; return its path."""
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.title).strip("-") or "traffic"
        target = Path(path) if path is not None else Path(f"messages-{name}.json")
        with self._lock:
            rows = [r.to_dict() for r in self.records]
        target.write_text(json.dumps(rows, indent=1))
        self._notice.value = f"saved {len(rows)} records to {html.escape(str(target))}"
        return target

    def __repr__(self) -> str:
        return f"MessagePanel({self.title!r}: {len(self.records)} records, {self.state})"

    def close(self) -> None:
        """Stop following the log and close the widget."""
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
        super().close()
