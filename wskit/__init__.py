"""wskit: the kit behind the course on real-time web communication.

>>> import wskit
>>> srv = wskit.EchoServer()        # a live server on 127.0.0.1, free port
>>> c = wskit.connect(srv.url)      # a client for plain cells
>>> c.send("hello"); c.recv()
'hello'
>>> wskit.stop_all()                # every server, client and thread gone

Layers: :mod:`wskit.codec` (pure bytes, standard library only) and
:mod:`wskit.live` (servers and clients on a background loop). The names
below are imported on first use, so ``import wskit.codec`` alone never
pulls in asyncio or websockets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"


__all__ = [
    "codec",
    "live",
    "timing",
    "widgets",
    "diagrams",
    "load",
    "doctor",
    # The names a notebook needs from wskit.live, re-exported on first use (see __getattr__): the same names as in
    # wskit.live.__all__ on purpose; listing them here keeps `import wskit` from importing asyncio and websockets.
    "Server",
    "EchoServer",
    "ChatServer",
    "TCPEchoServer",
    "PushServer",
    "SocketIOServer",
    "SocketIOClient",
    "SocketIORefused",
    "Client",
    "AsyncClient",
    "connect",
    "aconnect",
    "RawSocket",
    "HandshakeRefused",
    "LiveError",
    "ConnectionClosed",
    "TrafficLog",
    "Record",
    "Handshake",
    "stop_all",
    "live_objects",
]

if TYPE_CHECKING:  # pragma: no cover
    from . import codec, diagrams, live, load, timing, widgets
    from .live import (
        AsyncClient,
        ChatServer,
        Client,
        ConnectionClosed,
        EchoServer,
        Handshake,
        HandshakeRefused,
        LiveError,
        PushServer,
        RawSocket,
        Record,
        Server,
        SocketIOClient,
        SocketIORefused,
        SocketIOServer,
        TCPEchoServer,
        TrafficLog,
        aconnect,
        connect,
        live_objects,
        stop_all,
    )


def __getattr__(name: str) -> Any:
    if name == "doctor":
        return importlib.import_module("._doctor", __name__).doctor
    if name in ("codec", "live", "timing", "widgets", "diagrams", "load"):
        return importlib.import_module(f".{name}", __name__)
    if name in __all__:
        return getattr(importlib.import_module(".live", __name__), name)
    raise AttributeError(f"module 'wskit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
