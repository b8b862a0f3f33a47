"""The course's Socket.IO chat app: the same handlers in one process or in many.

Events:
    ``join(room)`` → enters the room; the acknowledgement is ``{"room", "port"}``.
    ``say(room, text)`` → emits ``said`` ``{"from", "text", "sent", "port"}`` to everyone in the room.
    ``echo(data)`` → the acknowledgement is ``data``.
    ``where()`` → ``{"pid", "port"}``: which process answered.
"""

from __future__ import annotations

import os
from typing import Any

from .sio import SocketIOServer

__all__ = ["install"]


def install(srv: SocketIOServer) -> SocketIOServer:
    """Register the chat app's handlers on ``srv``; return it."""
    sio = srv.sio

    @srv.on("join")
    async def join(sid: str, room: str) -> dict[str, Any]:
        await sio.enter_room(sid, room)
        return {"room": room, "port": srv.port}

    @srv.on("say")
    async def say(sid: str, room: str, text: str, sent: float | None = None) -> None:
        await sio.emit("said", {"from": sid, "text": text, "sent": sent, "port": srv.port}, room=room)

    @srv.on("echo")
    async def echo(sid: str, data: Any) -> Any:
        return data

    @srv.on("where")
    async def where(sid: str) -> dict[str, int]:
        return {"pid": os.getpid(), "port": srv.port}

    return srv
