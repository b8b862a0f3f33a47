"""Servers and clients that run inside the kernel, on one background loop.

Everything here runs on the shared ``wskit-loop`` thread (see
:mod:`wskit.live.loop`): servers start on 127.0.0.1 and a free port, survive
between cells, replace themselves when a cell is re-run, and all stop with
:func:`stop_all`. Each keeps a :class:`~wskit.live.log.TrafficLog`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from websockets import ConnectionClosed

    from .baseline import HTTPClient, PushServer, TCPEchoServer
    from .chat import ChatServer
    from .client import AsyncClient, Client, HandshakeRefused, aconnect, backoff_delay, connect, logged_connect
    from .errors import LiveError
    from .faults import EchoProcess, FaultProxy
    from .log import Handshake, Record, RecordKind, TrafficLog
    from .loop import live_objects, stop_all
    from .nginx import Nginx, NginxConfigError, NginxError, NginxMissing
    from .node import NodeMissing, NodeSocketIOServer
    from .raw import RawSocket
    from .server import EchoServer, Server
    from .sio import SocketIOClient, SocketIORefused, SocketIOServer
    from .tickets import TicketServer

_WHERE = {  # each name and the submodule it comes from, imported on first use (PEP 562)
    "ConnectionClosed": "websockets",
    "HTTPClient": ".baseline",
    "PushServer": ".baseline",
    "TCPEchoServer": ".baseline",
    "ChatServer": ".chat",
    "AsyncClient": ".client",
    "Client": ".client",
    "HandshakeRefused": ".client",
    "aconnect": ".client",
    "backoff_delay": ".client",
    "connect": ".client",
    "logged_connect": ".client",
    "LiveError": ".errors",
    "EchoProcess": ".faults",
    "FaultProxy": ".faults",
    "Handshake": ".log",
    "Record": ".log",
    "RecordKind": ".log",
    "TrafficLog": ".log",
    "live_objects": ".loop",
    "stop_all": ".loop",
    "Nginx": ".nginx",
    "NginxConfigError": ".nginx",
    "NginxError": ".nginx",
    "NginxMissing": ".nginx",
    "NodeMissing": ".node",
    "NodeSocketIOServer": ".node",
    "RawSocket": ".raw",
    "EchoServer": ".server",
    "Server": ".server",
    "SocketIOClient": ".sio",
    "SocketIORefused": ".sio",
    "SocketIOServer": ".sio",
    "TicketServer": ".tickets",
}

__all__ = [
    "EchoProcess",
    "FaultProxy",
    "Nginx",
    "NginxConfigError",
    "NginxError",
    "NginxMissing",
    "NodeMissing",
    "NodeSocketIOServer",
    "TicketServer",
    "AsyncClient",
    "Client",
    "EchoServer",
    "ChatServer",
    "TCPEchoServer",
    "PushServer",
    "SocketIOServer",
    "SocketIOClient",
    "SocketIORefused",
    "HTTPClient",
    "Handshake",
    "HandshakeRefused",
    "LiveError",
    "ConnectionClosed",
    "RawSocket",
    "Record",
    "RecordKind",
    "Server",
    "TrafficLog",
    "aconnect",
    "backoff_delay",
    "connect",
    "logged_connect",
    "live_objects",
    "stop_all",
]


def __getattr__(name: str) -> Any:
    """Import what ``name`` needs on first use: ``wskit.live.loop`` alone (the load generator) stays light."""
    if name in _WHERE:
        module = _WHERE[name]
        value = getattr(importlib.import_module(module, __name__) if module.startswith(".")
                        else importlib.import_module(module), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'wskit.live' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
