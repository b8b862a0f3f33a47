"""Pure, sans-I/O teaching code over bytes (standard library only).

:mod:`wskit.codec.handshake` builds, parses and checks the opening handshake;
:mod:`wskit.codec.frames` encodes, decodes and explains frames;
:mod:`wskit.codec.socketio` decodes Engine.IO and Socket.IO packets for display;
:mod:`wskit.codec.sse` parses and writes Server-Sent Events streams;
:mod:`wskit.codec.kinds` names what a traffic-log record is (:class:`RecordKind`);
:mod:`wskit.codec.redact` takes secrets out of text before it is kept or shown.
Nothing here opens a socket, starts a thread or imports asyncio: the live
servers in :mod:`wskit.live` do the real protocol work with ``websockets``.
"""

from . import errors, frames, handshake, kinds, redact, socketio, sse
from .dump import hexdump
from .errors import *  # noqa: F403 - every error is the codec's API; errors.__all__ is the one list (as in asyncio)
from .handshake import accept_key, generate_key
from .kinds import RecordKind

__all__ = ["RecordKind", "accept_key", "generate_key", "handshake", "frames", "kinds", "redact", "socketio", "sse",
           "hexdump"]
__all__ += errors.__all__
