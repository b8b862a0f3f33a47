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

from ._pump import cell_site, replace

__all__ = ["BrowserClient", "front_end_attached"]

_STATIC = resources.files(__package__) / "static"


def front_end_attached() -> bool:
    """The cell running now was sent by a notebook front end (JupyterLab, Notebook 7), which shows widgets.

    JupyterLab puts the cell's id in the metadata of each execute request; ``jupyter_client`` (nbval,
    ``nbconvert --execute``, tests) does not, and outside a kernel there is no request at all.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - wskit's widgets depend on IPython through ipywidgets
        return False
    kernel = getattr(get_ipython(), "kernel", None)
    if kernel is None:
        return False
    try:
        parent = kernel.get_parent("shell")
    except TypeError:  # an ipykernel whose get_parent takes no channel
        parent = kernel.get_parent()
    return bool((parent or {}).get("metadata", {}).get("cellId"))


def _packet(record: Any, direction: str, prefix: str) -> bool:
    """A Socket.IO packet on the default namespace (a namespace would follow the type: ``40/admin,{...}``)."""
    return record.direction == direction and isinstance(record.data, str) and record.data.startswith(prefix)


def _refused(record: Any) -> bool:
    """The server's Socket.IO CONNECT_ERROR (``44{"message": ...}``) on the default namespace: refused."""
    return _packet(record, "sent", "44{")


class BrowserClient(anywidget.AnyWidget):
    """A WebSocket or Socket.IO client that runs in the learner's browser.

    Args:
        url: a wskit server (then :meth:`wait_connected` watches its log), or its ``url``
            (``ws://127.0.0.1:PORT/...`` or, for Socket.IO, ``http://127.0.0.1:PORT``).
        route: ``"auto"`` (direct from this machine, through the proxy elsewhere), ``"direct"`` or ``"proxy"``.
        autoconnect: connect as soon as the widget is shown.
        auth: Socket.IO only: the auth data sent with the connection.
        on_connect: Socket.IO only: ``[(event, [args...]), ...]`` emitted once connected (e.g. joining a room).
        event: Socket.IO only: the event the send box emits.

    Attributes:
        events: what the browser saw, oldest first: dicts with ``type`` (``connecting``, ``open``, ``message``,
            ``sent``, ``error``, ``close``), ``ms``, ``readyState``, ``bufferedAmount`` and, as they apply,
            ``data``, ``code``, ``reason``, ``wasClean`` (a ``close`` always carries ``code`` and ``wasClean``
            from the browser's CloseEvent: ``1000``/``1001`` and ``True`` after a closing handshake, ``1006``
            and ``False`` when the TCP connection just went away; ``None`` when Socket.IO closed without one).
        resolved_url, resolved_route: where the browser connected, and how.
    """

    _esm = (_STATIC / "browser_client.js").read_text()

    transport = traitlets.Unicode("websocket").tag(sync=True)  # "websocket" or "socket.io"
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

    def __init__(self, url: Any, *, route: str = "auto", autoconnect: bool = True, auth: dict | None = None,
                 on_connect: list | None = None, event: str = "chat", **kwargs: Any) -> None:
        site = cell_site()
        self._server_log = getattr(url, "log", None)
        if not isinstance(url, str):
            if not isinstance(getattr(url, "url", None), str):
                raise TypeError(f"BrowserClient takes a wskit server or its url; got {type(url).__name__}")
            url = url.url
        self._created = self._server_log.now() if hasattr(self._server_log, "now") else 0.0
        # connections the server had before: the browser's is a new one (WebSocket and Socket.IO servers alike)
        self._known = {r.conn for r in self._server_log.records} if self._server_log is not None else set()
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
            transport="socket.io" if socketio else "websocket", port=parsed.port, path=path, route=route,
            autoconnect=autoconnect, auth=auth or {}, on_connect=[list(item) for item in on_connect or []],
            event=event,
            socketio_esm=(_STATIC / "socket.io.esm.min.js").read_text() if socketio else "",
            **kwargs,
        )
        replace(self, "BrowserClient", site)  # a re-run cell's client replaces (and disconnects) the previous one

    def wait_connected(self, timeout: float = 30.0) -> bool:
        """Wait (at most ``timeout`` s) until the browser has connected to the server; ``True`` if it has.

        For Socket.IO that is once the server has accepted the browser's CONNECT (and, with ``on_connect``, has
        its first event); ``False`` if the server refused it.

        The browser connects only once the cell that shows this widget has finished, so call this in a
        *later* cell: with "Run All" in JupyterLab it keeps the notebook from racing ahead (to ``stop_all()``)
        before the browser is in. Without a notebook front end (nbval, ``nbconvert --execute``, a script)
        no browser will come: it returns ``False`` at once. Interrupt it like any cell.

        Raises:
            TypeError: the widget was made from a url: pass the server itself, ``BrowserClient(srv)``.
        """
        if self._server_log is None:
            raise TypeError("wait_connected() watches the server's log: make the widget with BrowserClient(srv) "
                            "instead of BrowserClient(srv.url)")
        if not front_end_attached():
            return False
        created, known, done = self._created, self._known, self._connected_record()
        try:
            record = self._server_log.wait_for(
                lambda r: r.time >= created and r.conn and r.conn not in known and done(r), timeout=timeout)
        except TimeoutError:
            return False
        return not _refused(record)

    def _connected_record(self) -> Any:
        """Which record of the browser's new connection, in the server's log, means the browser is connected.

        A WebSocket: the first (the handshake; the browser's ``open`` follows the 101 at once). Socket.IO takes
        two more round trips after that: the server's CONNECT reply (``40{"sid":...}``), or its refusal
        (``44``); with ``on_connect`` events, the first of them, which socket.io-client sends in the same task
        as it reports ``connect``. Waiting for less let "Run All" stop the server before the browser was in.
        """
        if getattr(self._server_log, "protocol", None) != "socket.io":  # a WebSocket server, or a FaultProxy
            return lambda r: True  # (whose log has only OPEN and CLOSED, whatever it carries)
        if self.on_connect:
            return lambda r: _packet(r, "received", "42[") or _refused(r)
        return lambda r: _packet(r, "sent", "40{") or _refused(r)

    def send_text(self, text: str) -> None:
        """Ask the browser to send ``text`` (a WebSocket message, or a Socket.IO ``event``).

        (Not ``send``: that is ``Widget.send(content, buffers)``, a message to the front end.)
        """
        self._ask("send", text=text)

    def close_connection(self) -> None:
        """Ask the browser to close the connection."""
        self._ask("close")

    def connect(self) -> None:
        """Ask the browser to (re)connect."""
        self._ask("connect")

    def _ask(self, action: str, **fields: Any) -> None:
        """A custom message to the front end, which acts on it in the browser."""
        self.send({"action": action, **fields})

    def of_type(self, event_type: str) -> list[dict]:
        """The events of one type (``"message"``, ``"close"`` ...)."""
        return [event for event in self.events if event.get("type") == event_type]

    def __repr__(self) -> str:
        return f"BrowserClient({self.transport} to port {self.port}, {len(self.events)} browser events)"
