"""ChatRoom: several chat clients side by side, and who received what."""

from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets as widgets

from ._throttle import Throttle

__all__ = ["ChatRoom"]


def _said(record: Any) -> dict | None:
    """The chat message a received record carries, if it is one."""
    if record.direction != "received" or not isinstance(record.data, str):
        return None
    try:
        message = json.loads(record.data)
    except json.JSONDecodeError:
        return None
    return message if isinstance(message, dict) and "id" in message else None


class ChatRoom(widgets.VBox):
    """N chat clients side by side, each with its own send box.

    Args:
        clients: wskit clients connected to a :class:`wskit.ChatServer`
            (anything with ``.log``, ``.send`` and ``.name``).
        max_rate: at most this many redraws a second.

    Below the columns, a delivery table lists every message and which
    clients received it.
    """

    def __init__(self, clients: list[Any], *, max_rate: float = 20.0) -> None:
        if not clients:
            raise ValueError("ChatRoom needs at least one client")
        self.clients = list(clients)
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
        self._throttle = Throttle(self._redraw, max_rate)
        self._unsubscribe = [client.log.subscribe(lambda _r: self._throttle.poke()) for client in self.clients]
        self._throttle.flush()

    def say(self, client: Any, box: widgets.Text) -> None:
        """Send the box's text as ``client``; show any error in the room."""
        if not box.value:
            return
        try:
            client.send(box.value)
        except Exception as exc:
            who, what = html.escape(client.name), html.escape(repr(exc))
            self._notice.value = f"<span style='color:#cf222e'>{who}: {what}</span>"
            return
        self._notice.value = ""
        box.value = ""

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
        for client, view in zip(self.clients, self._views, strict=True):
            lines = []
            for record in client.log.records:
                said = _said(record)
                if said is not None:
                    who = "you" if said.get("from") == client.name else said.get("from")
                    lines.append(f"<div><b>{html.escape(str(who))}</b>: {html.escape(str(said.get('text')))}</div>")
            view.value = "".join(lines[-50:]) or "<i style='color:#777'>nothing yet</i>"
        rows = []
        for ident, row in self.delivery().items():
            marks = "".join(
                f"<td style='text-align:center'>{'✓' if c.name in row['received_by'] else '·'}</td>"
                for c in self.clients
            )
            rows.append(f"<tr><td>{ident}</td><td>{html.escape(str(row['from']))}</td>"
                        f"<td>{html.escape(str(row['room']))}</td><td>{html.escape(str(row['text']))}</td>{marks}</tr>")
        head = "".join(f"<th>{html.escape(c.name)}</th>" for c in self.clients)
        self._delivery.value = (
            "<style>.wskit-delivery td, .wskit-delivery th {padding: 2px 10px; text-align: left}</style>"
            "<div><b>Delivery</b>: who received each message</div>"
            "<table class='wskit-delivery' style='font-size:12px'><tr><th>#</th><th>from</th><th>room</th><th>text</th>"
            f"{head}</tr>{''.join(rows[-50:])}</table>"
        )

    def __repr__(self) -> str:
        return f"ChatRoom({', '.join(c.name for c in self.clients)})"

    def close(self) -> None:
        """Stop following the clients' logs and close the widget."""
        for unsubscribe in getattr(self, "_unsubscribe", []):
            unsubscribe()
        super().close()
