"""Pure, sans-I/O teaching code over bytes (standard library only).

:mod:`wskit.codec.handshake` builds, parses and checks the opening handshake;
:mod:`wskit.codec.frames` encodes, decodes and explains frames;
:mod:`wskit.codec.socketio` decodes Engine.IO and Socket.IO packets for display.
Nothing here opens a socket, starts a thread or imports asyncio: the live
servers in :mod:`wskit.live` do the real protocol work with ``websockets``.
"""

from . import frames, handshake, socketio
from .dump import hexdump
from .errors import CodecError, InvalidHandshake, InvalidHTTP, ProtocolError, UsageError
from .handshake import accept_key, generate_key

__all__ = [
    "CodecError",
    "InvalidHTTP",
    "InvalidHandshake",
    "ProtocolError",
    "UsageError",
    "accept_key",
    "generate_key",
    "handshake",
    "frames",
    "socketio",
    "hexdump",
]
