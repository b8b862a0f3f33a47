"""BrowserClient: the learner's own browser opens the WebSocket (or Socket.IO) connection.

The kernel's clients are Python; real WebSocket clients are mostly browsers. This widget's front end runs
``new WebSocket(url)`` (or the official ``socket.io-client``, bundled with wskit: nothing is fetched at run time)
in the page showing the notebook, so the learner can open DevTools → Network → WS and see the very frames the
server's MessagePanel shows. What the browser sees — open, message, error, close with code and reason,
``readyState``, ``bufferedAmount`` — is synced back into :attr:`BrowserClient.events`.

Where the page comes from this machine the browser connects straight to 127.0.0.1; elsewhere (Binder) it goes
through jupyter-server-proxy at ``<base url>/proxy/<port>/``, the only way to reach a kernel's server there.
"""

from __future__ import annotations

import urllib.parse
from importlib import resources
from typing import Any

import anywidget
import traitlets

__all__ = ["BrowserClient"]

_STATIC = resources.files(__package__) / "static"


class BrowserClient(anywidget.AnyWidget):
    """A WebSocket or Socket.IO client that runs in the learner's browser.

    Args:
        url: a wskit server's ``url`` (``ws://127.0.0.1:PORT/...`` or, for Socket.IO, ``http://127.0.0.1:PORT``).
        route: ``"auto"`` (direct from this machine, through the proxy elsewhere), ``"direct"`` or ``"proxy"``.
        autoconnect: connect as soon as the widget is shown.
        auth: Socket.IO only: the auth data sent with the connection.
        on_connect: Socket.IO only: ``[(event, [args...]), ...]`` emitted once connected (e.g. joining a room).
        event: Socket.IO only: the event the send box emits.

    Attributes:
        events: what the browser saw, oldest first: dicts with ``type`` (``connecting``, ``open``, ``message``,
            ``sent``, ``error``, ``close``), ``ms``, ``readyState``, ``bufferedAmount`` and, as they apply,
            ``data``, ``code``, ``reason``.
        resolved_url, resolved_route: where the browser connected, and how.
    """

    _esm = (_STATIC / "browser_client.js").read_text()

    kind = traitlets.Unicode("websocket").tag(sync=True)
    port = traitlets.Int().tag(sync=True)
    path = traitlets.Unicode("/").tag(sync=True)
    route = traitlets.Enum(("auto", "direct", "proxy"), default_value="auto").tag(sync=True)
    autoconnect = traitlets.Bool(True).tag(sync=True)
    auth = traitlets.Dict().tag(sync=True)
    on_connect = traitlets.List().tag(sync=True)
    event = traitlets.Unicode("chat").tag(sync=True)
    socketio_esm = traitlets.Unicode("").tag(sync=True)
    events = traitlets.List().tag(sync=True)
    resolved_url = traitlets.Unicode("").tag(sync=True)
    resolved_route = traitlets.Unicode("").tag(sync=True)

    def __init__(self, url: str, *, route: str = "auto", autoconnect: bool = True, auth: dict | None = None,
                 on_connect: list | None = None, event: str = "chat", **kwargs: Any) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("ws", "wss", "http", "https") or not parsed.port:
            raise ValueError(
                f"expected a wskit server's url (ws://127.0.0.1:PORT/ or http://127.0.0.1:PORT), got {url!r}"
            )
        if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the browser client connects to servers running in this kernel, on loopback")
        socketio = parsed.scheme.startswith("http")
        path = parsed.path or "/"
        if parsed.query:
            path += "?" + parsed.query
        super().__init__(
            kind="socket.io" if socketio else "websocket", port=parsed.port, path=path, route=route,
            autoconnect=autoconnect, auth=auth or {}, on_connect=[list(item) for item in on_connect or []],
            event=event,
            socketio_esm=(_STATIC / "socket.io.esm.min.js").read_text() if socketio else "",
            **kwargs,
        )

    def send(self, text: str) -> None:
        """Ask the browser to send ``text`` (a WebSocket message, or a Socket.IO ``event``)."""
        self.send_custom("send", text=text)

    def close_connection(self) -> None:
        """Ask the browser to close the connection."""
        self.send_custom("close")

    def connect(self) -> None:
        """Ask the browser to (re)connect."""
        self.send_custom("connect")

    def send_custom(self, action: str, **fields: Any) -> None:
        super().send({"action": action, **fields})

    def of_type(self, kind: str) -> list[dict]:
        """The events of one type (``"message"``, ``"close"`` ...)."""
        return [event for event in self.events if event.get("type") == kind]

    def __repr__(self) -> str:
        return f"BrowserClient({self.kind} to port {self.port}, {len(self.events)} browser events)"
