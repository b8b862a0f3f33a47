"""The course's Socket.IO chat app: the same handlers in one process or in many.

Events:
    ``join(room)`` → enters the room; the acknowledgement is ``{"room", "port"}``.
    ``say(room, text)`` → emits ``said`` ``{"from", "text", "sent", "port"}`` to everyone in the room.
    ``echo(data)`` → the acknowledgement is ``data``, after the per-message CPU work (none by default).
    ``where()`` → ``{"pid", "port"}``: which process answered.
    ``members(room)`` → ``{"port", "members"}``: the members of ``room`` that *this process* knows, its own clients
    only (python-socketio's managers keep rooms in each process's memory; a Redis manager shares emits, not rooms).
    ``work(ms)`` → sets the CPU work every ``echo`` does from now on (``ms`` of this process's CPU time, spent in
    Python, as a real handler's parsing, validation and business logic would); the acknowledgement is
    ``{"pid", "work_ms"}``. Notebook 10 uses it to make the server, not the load generator, the bottleneck.
"""

from __future__ import annotations

import os
import time
from typing import Any

from .sio import SocketIOServer

__all__ = ["burn", "install"]


def burn(ms: float) -> None:
    """Spend ``ms`` milliseconds of this thread's CPU time in Python code (holding the GIL, as handler code does)."""
    deadline = time.thread_time() + ms / 1000
    while time.thread_time() < deadline:
        pass


def install(srv: SocketIOServer, *, work_ms: float = 0.0) -> SocketIOServer:
    """Register the chat app's handlers on ``srv``; return it.

    Args:
        srv: the server.
        work_ms: CPU milliseconds each ``echo`` spends before it answers (the ``work`` event changes it).
    """
    if work_ms < 0:
        raise ValueError(f"work_ms must be 0 or more, got {work_ms}")
    sio = srv.sio
    settings = {"work_ms": float(work_ms)}

    @srv.on("join")
    async def join(sid: str, room: str) -> dict[str, Any]:
        await sio.enter_room(sid, room)
        return {"room": room, "port": srv.port}

    @srv.on("say")
    async def say(sid: str, room: str, text: str, sent: float | None = None) -> None:
        await sio.emit("said", {"from": sid, "text": text, "sent": sent, "port": srv.port}, room=room)

    @srv.on("echo")
    async def echo(sid: str, data: Any) -> Any:
        if settings["work_ms"]:
            burn(settings["work_ms"])
        return data

    @srv.on("members")
    async def members(sid: str, room: str) -> dict[str, Any]:
        local = sorted(member for member, _eio_sid in sio.manager.get_participants("/", room))
        return {"port": srv.port, "members": local}

    @srv.on("work")
    async def work(sid: str, ms: Any = None) -> dict[str, Any]:
        if not isinstance(ms, int | float) or isinstance(ms, bool) or not 0 <= ms <= 1000:
            return {"error": f"work must be a number of milliseconds from 0 to 1000, got {ms!r}"}
        settings["work_ms"] = float(ms)
        return {"pid": os.getpid(), "work_ms": settings["work_ms"]}

    @srv.on("where")
    async def where(sid: str) -> dict[str, int]:
        return {"pid": os.getpid(), "port": srv.port}

    return srv
