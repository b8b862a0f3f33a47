"""Servers and clients that run inside the kernel, on one background loop.

Everything here runs on the shared ``wskit-loop`` thread (see
:mod:`wskit.live.loop`): servers start on 127.0.0.1 and a free port, survive
between cells, replace themselves when a cell is re-run, and all stop with
:func:`stop_all`. Each keeps a :class:`~wskit.live.log.TrafficLog`.
"""

from websockets import ConnectionClosed

from .baseline import HTTPClient, PushServer, TCPEchoServer
from .chat import ChatServer
from .client import AsyncClient, Client, HandshakeRefused, aconnect, backoff_delay, connect, logged_connect
from .errors import LiveError
from .faults import EchoProcess, FaultProxy
from .log import Handshake, Record, TrafficLog
from .loop import live_objects, stop_all
from .nginx import Nginx, NginxConfigError, NginxError, NginxMissing
from .node import NodeMissing, NodeSocketIOServer
from .raw import RawSocket
from .server import EchoServer, Server
from .sio import SocketIOClient, SocketIORefused, SocketIOServer
from .tickets import TicketServer

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
    "Server",
    "TrafficLog",
    "aconnect",
    "backoff_delay",
    "connect",
    "logged_connect",
    "live_objects",
    "stop_all",
]
