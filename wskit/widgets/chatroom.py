"""ChatRoom: several chat clients side by side, and who received what."""

from __future__ import annotations

import html
import json
import time
from typing import Any

import ipywidgets as widgets

from ._pump import PUMP, Feed, cell_site, replace

__all__ = ["MAX_KEPT", "ChatRoom"]


def _said(record: Any) -> dict | None:
    """The chat message a received record carries, if it is one."""
    if record.direction != "received" or not isinstance(record.data, str):
        return None
    try:
        message = json.loads(record.data)
    except (ValueError, RecursionError):
        return None
    # the chat server numbers its messages: anything else (another server's JSON) is not a chat message here
    if not isinstance(message, dict) or type(message.get("id")) is not int:
        return None
    return message


#: Chat messages a room remembers (it shows the last 50): the oldest are forgotten past this.
MAX_KEPT = 1_000


class ChatRoom(widgets.VBox):
    """N chat clients side by side, each with its own send box.

    Args:
        clients: wskit clients connected to a :class:`wskit.ChatServer`
            (anything with ``.log``, ``.send`` and ``.name``).
        max_rate: at most this many redraws a second (a chat reads well at 10; the UI thread ticks at most 20
            times a second).

    Below the columns, a delivery table lists the latest messages and which
    clients received them. New records reach the room through a queue drained by the widgets' UI thread, never
    on the wskit loop thread; a re-run cell's room replaces the previous run's (which stops following).
    The room shows the last 50 messages and remembers the last :data:`MAX_KEPT` (a busy chat does not fill the
    kernel's memory); :meth:`delivery` reads the clients' logs.
    """

    def __init__(self, clients: list[Any], *, max_rate: float = 10.0) -> None:
        if not clients:
            raise ValueError("ChatRoom needs at least one client")
        site = cell_site()
        self.clients = list(clients)
        self.interval = 1.0 / max_rate
        self.redraws = 0
        self._messages: list[dict[int, dict]] = [{} for _ in self.clients]  # per client: id -> message
        self._said: dict[int, dict] = {}  # id -> message, any client
        self._received_by: dict[int, set[str]] = {}
        self._last_redraw = float("-inf")
        self._dirty = False
        self._views = [widgets.HTML(layout=widgets.Layout(height="180px", overflow="auto")) for _ in self.clients]
        self._notice = widgets.HTML()
        columns = []
        for client, view in zip(self.clients, self._views, strict=True):
            box = widgets.Text(placeholder=f"{client.name} says…", layout=widgets.Layout(flex="1", width="auto"))
            button = widgets.Button(description="Send", button_style="primary", layout=widgets.Layout(width="64px"))
            button.on_click(lambda _, c=client, b=box: self.say(c, b))
            columns.append(widgets.VBox(
                [widgets.HTML(f"<b>{html.escape(client.name)}</b>"), view, widgets.HBox([box, button])],
                layout=widgets.Layout(border="1px solid #ddd", padding="4px", width=f"{100 / len(self.clients):.0f}%"),
            ))
        self._delivery = widgets.HTML()
        super().__init__([widgets.HBox(columns), self._notice, self._delivery])
        self.add_class("wskit-chat-room")
        self._feed = Feed([client.log for client in self.clients], self, armed=False)
        for i, client in enumerate(self.clients):
            self._learn([(i, record) for record in client.log.records])
        self._redraw()
        self._feed.arm()
        replace(self, "ChatRoom", site)

    def _learn(self, items: list[tuple[int, Any]]) -> bool:
        """Remember the chat messages among ``items`` (the last :data:`MAX_KEPT`); whether there was any."""
        learned = False
        for i, record in items:
            said = _said(record)
            if said is not None:
                self._messages[i][said["id"]] = said
                self._said.setdefault(said["id"], said)
                self._received_by.setdefault(said["id"], set()).add(self.clients[i].name)
                learned = True
        if len(self._said) > MAX_KEPT + MAX_KEPT // 4:  # now and then, not per message: forget the first to come
            for old in list(self._said)[: len(self._said) - MAX_KEPT]:  # (ids start again with a new server)
                del self._said[old], self._received_by[old]
                for messages in self._messages:
                    messages.pop(old, None)
        return learned

    def _drain(self, items: list[tuple[int, Any]]) -> None:
        """New records (UI thread): remember the chat messages; redraw, at most ``max_rate`` times a second."""
        if self._feed.closed:
            return
        self._dirty = self._learn(items) or getattr(self, "_dirty", False)
        if not self._dirty:
            return
        if time.monotonic() - self._last_redraw < self.interval:
            self._feed.pump.wake(self._feed)  # the next tick looks again
            return
        self._redraw()

    def say(self, client: Any, box: widgets.Text) -> None:
        """Send the box's text as ``client``; show any error in the room."""
        if not box.value:
            return
        try:
            client.send(box.value)
        except Exception as exc:
            who, what = html.escape(client.name), html.escape(repr(exc))
            self._set(self._notice, f"<span style='color:#cf222e'>{who}: {what}</span>")
            return
        self._set(self._notice, "")
        box.value = ""

    @staticmethod
    def _set(widget: widgets.HTML, value: str) -> None:
        if PUMP.in_thread():
            widget.value = value
        else:
            PUMP.call(lambda: setattr(widget, "value", value))

    def delivery(self) -> dict[int, dict[str, Any]]:
        """Message id → ``{"from", "text", "room", "received_by": [client names]}``."""
        table: dict[int, dict[str, Any]] = {}
        for client in self.clients:
            for record in client.log.records:
                said = _said(record)
                if said is None:
                    continue
                row = table.setdefault(said["id"], {"from": said.get("from"), "text": said.get("text"),
                                                    "room": said.get("room"), "received_by": []})
                row["received_by"].append(client.name)
        return dict(sorted(table.items()))

    def _redraw(self) -> None:
        self.redraws += 1
        self._dirty = False
        self._last_redraw = time.monotonic()
        for client, view, messages in zip(self.clients, self._views, self._messages, strict=True):
            lines = []
            for ident in sorted(messages)[-50:]:
                said = messages[ident]
                who = "you" if said.get("from") == client.name else said.get("from")
                lines.append(f"<div><b>{html.escape(str(who))}</b>: {html.escape(str(said.get('text')))}</div>")
            value = "".join(lines) or "<i style='color:#777'>nothing yet</i>"
            if view.value != value:
                view.value = value
        rows = []
        for ident in sorted(self._said)[-50:]:
            row, received_by = self._said[ident], self._received_by[ident]
            marks = "".join(
                f"<td style='text-align:center'>{'✓' if c.name in received_by else '·'}</td>"
                for c in self.clients
            )
            rows.append(f"<tr><td>{ident}</td><td>{html.escape(str(row.get('from')))}</td>"
                        f"<td>{html.escape(str(row.get('room')))}</td><td>{html.escape(str(row.get('text')))}</td>"
                        f"{marks}</tr>")
        head = "".join(f"<th>{html.escape(c.name)}</th>" for c in self.clients)
        value = (
            "<style>.wskit-delivery td, .wskit-delivery th {padding: 2px 10px; text-align: left}</style>"
            "<div><b>Delivery</b>: who received each message</div>"
            "<table class='wskit-delivery' style='font-size:12px'><tr><th>#</th><th>from</th><th>room</th><th>text</th>"
            f"{head}</tr>{''.join(rows)}</table>"
        )
        if self._delivery.value != value:
            self._delivery.value = value

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until the UI thread has taken every record logged so far (for tests and scripts)."""
        import threading

        done = threading.Event()

        def drain() -> None:
            self._feed.drain()
            if getattr(self, "_dirty", False):
                self._redraw()
            done.set()

        PUMP.call(drain)
        if not done.wait(timeout):
            raise TimeoutError(f"the widgets' UI thread did not drain within {timeout} s")

    def __repr__(self) -> str:
        return f"ChatRoom({', '.join(c.name for c in self.clients)})"

    def close(self) -> None:
        """Stop following the clients' logs and close the widget (and its children)."""
        feed = getattr(self, "_feed", None)
        if feed is not None:
            feed.close()
        for child in self.children:
            _close_tree(child)
        self.layout.close()
        super().close()
        # IPython's output history may keep this object (Out[n]): let its closed children go.
        self.children = ()
        self._views, self._messages, self._said, self._received_by = [], [], {}, {}


def _close_tree(widget: Any) -> None:
    """Close a widget, its children, and their layouts and styles (each is a widget of its own)."""
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
        if part is not None:
            part.close()
    widget.close()
