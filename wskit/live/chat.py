"""A chat server with rooms: the course's broadcast example."""

from __future__ import annotations

import asyncio
import itertools
import json
import urllib.parse
from collections import deque
from typing import Any

from websockets.asyncio.server import ServerConnection

from .server import Server

__all__ = ["ChatServer"]

#: The close code for a member dropped for reading too slowly: RFC 6455 §7.4.1's 1013 "Try Again Later"
#: (a temporary condition of the server, registered by IANA), not 1008 "Policy Violation" (the member broke no
#: rule: it was slow) nor 1011 (nothing failed).
TOO_SLOW = 1013


def _cost(text: str) -> int:
    """Bytes a queued message holds in memory (CPython keeps up to 4 bytes per non-ASCII character)."""
    return len(text) if text.isascii() else 4 * len(text)


class _Outbox:
    """One member's backlog, bounded in bytes; one writer task drains it."""

    __slots__ = ("held", "messages", "ready")

    def __init__(self) -> None:
        self.messages: deque[str] = deque()
        self.held = 0
        self.ready = asyncio.Event()


class ChatServer(Server):
    """Everyone in a room hears everything said in it.

    Connect to :meth:`url_for` ``(name, room)``. Each text a client sends is
    broadcast to everyone in the sender's room, the sender included, as JSON:
    ``{"id": 7, "from": "alice", "room": "lobby", "text": "hi"}``. A message
    ``{"join": "games"}`` moves the sender to another room (answered with
    ``{"joined": "games"}``); a room nobody is in is forgotten. Takes the
    keyword arguments of :class:`Server`.

    Args:
        max_backlog_bytes: what each member's outbox may hold, in bytes of
            the JSON text queued for it (escaping included: a NUL character
            becomes the six characters ``\\u0000``). A message is always
            accepted into an empty outbox, so the bound per member is
            ``max_backlog_bytes`` plus one message (at most 6 × the
            server's ``max_size``, 1 MiB by default).

    Each member has its own outbox and writer: a member that reads too slowly
    never holds up the others. When its outbox would grow past the bound it
    is disconnected with **1013 (Try Again Later)**, and the log says why.
    Not 1008 (Policy Violation): the member broke no rule of the server, it
    fell behind, a temporary condition on which a client may reconnect later,
    which is what 1013 means (RFC 6455 §7.4.2, IANA registry).

    Attributes:
        rooms: room name → the names of the clients in it, now (a snapshot
            made on the loop: safe to read from any thread).
        dropped_slow: how many members were let go for reading too slowly.
    """

    kind = "chat"

    def __init__(self, *, max_backlog_bytes: int = 4 * 2**20, **options: Any) -> None:
        self._members: dict[str, set[ServerConnection]] = {}
        self._names: dict[ServerConnection, str] = {}
        self._outboxes: dict[ServerConnection, _Outbox] = {}
        self._view: dict[str, tuple[str, ...]] = {}  # replaced (never mutated) on the loop at each change
        self._ids = itertools.count(1)
        self.max_backlog_bytes = max_backlog_bytes
        self.dropped_slow = 0
        self._closing: set[asyncio.Future[None]] = set()
        super().__init__(self._chat, **options)

    def url_for(self, name: str, room: str = "lobby") -> str:
        """The URL a client called ``name`` connects to, to land in ``room``."""
        return f"{self.url}?{urllib.parse.urlencode({'name': name, 'room': room})}"

    @property
    def rooms(self) -> dict[str, list[str]]:
        view = self._view  # one immutable snapshot, published by the loop
        return {room: list(names) for room, names in view.items()}

    # -- membership (loop thread only) --

    def _publish(self, room: str) -> None:
        view = dict(self._view)
        members = self._members.get(room)
        if members:
            view[room] = tuple(sorted(self._names.get(ws, "?") for ws in members))
        else:
            view.pop(room, None)
        self._view = view

    def _enter(self, ws: ServerConnection, room: str) -> None:
        self._members.setdefault(room, set()).add(ws)
        self._publish(room)

    def _leave(self, ws: ServerConnection, room: str) -> None:
        members = self._members.get(room)
        if members is not None:
            members.discard(ws)
            if not members:
                del self._members[room]  # an empty room is forgotten
        self._publish(room)

    async def _chat(self, ws: ServerConnection) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(ws.request.path).query)
        name = query.get("name", [f"guest{ws.wskit_conn}"])[0][:128]  # type: ignore[attr-defined]
        room = query.get("room", ["lobby"])[0][:128]
        self._names[ws] = name
        outbox = self._outboxes[ws] = _Outbox()
        self._enter(ws, room)

        async def deliver() -> None:  # one writer per member: a slow one waits alone
            while True:
                while not outbox.messages:
                    outbox.ready.clear()
                    await outbox.ready.wait()
                text = outbox.messages.popleft()
                outbox.held -= _cost(text)
                await ws.send(text)

        writer = asyncio.ensure_future(deliver())
        try:
            async for message in ws:
                text = message if isinstance(message, str) else message.hex(" ")
                try:
                    command = json.loads(text)
                except (json.JSONDecodeError, RecursionError):
                    command = None
                if isinstance(command, dict) and isinstance(command.get("join"), str):
                    self._leave(ws, room)
                    room = command["join"][:128]
                    self._enter(ws, room)
                    await ws.send(json.dumps({"joined": room}))
                    continue
                said = {"id": next(self._ids), "from": name, "room": room, "text": text}
                self._broadcast(room, json.dumps(said))
        finally:
            writer.cancel()
            self._leave(ws, room)
            self._names.pop(ws, None)
            self._outboxes.pop(ws, None)

    def _broadcast(self, room: str, text: str) -> None:
        """Queue ``text`` for every member; a member whose backlog would pass the bound is too slow, and is let go."""
        cost = _cost(text)
        for member in list(self._members.get(room, ())):
            outbox = self._outboxes.get(member)
            if outbox is None:
                continue
            if outbox.held and outbox.held + cost > self.max_backlog_bytes:
                self._drop_slow(member, room, outbox)
                continue
            outbox.messages.append(text)
            outbox.held += cost
            outbox.ready.set()

    def _drop_slow(self, member: ServerConnection, room: str, outbox: _Outbox) -> None:
        self._leave(member, room)
        self._outboxes.pop(member, None)
        held, outbox.held = outbox.held, 0
        outbox.messages.clear()  # free the backlog now, not when the connection is finally gone
        self.dropped_slow += 1
        self.log.add("event", "ERROR", conn=member.wskit_conn,  # type: ignore[attr-defined]
                     info=f"{self._names.get(member)} is too slow: {held} bytes waiting (bound "
                          f"{self.max_backlog_bytes}); disconnected with {TOO_SLOW} (try again later) "
                          "so that the others are not held up")
        closing = asyncio.ensure_future(member.close(TOO_SLOW, "too slow: message backlog full"))
        self._closing.add(closing)  # keep a reference until it is done
        closing.add_done_callback(self._closing.discard)
