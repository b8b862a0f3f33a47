"""A chat server with rooms: the course's broadcast example."""

from __future__ import annotations

import asyncio
import itertools
import json
import urllib.parse
from collections import defaultdict
from typing import Any

from websockets.asyncio.server import ServerConnection

from .server import Server

__all__ = ["ChatServer"]


class ChatServer(Server):
    """Everyone in a room hears everything said in it.

    Connect to :meth:`url_for` ``(name, room)``. Each text a client sends is
    broadcast to everyone in the sender's room, the sender included, as JSON:
    ``{"id": 7, "from": "alice", "room": "lobby", "text": "hi"}``. A message
    ``{"join": "games"}`` moves the sender to another room (answered with
    ``{"joined": "games"}``). Takes the keyword arguments of :class:`Server`.

    Each member has its own bounded outbox (``max_backlog`` messages) and
    writer: a member that reads too slowly never holds up the others; when
    its outbox is full it is disconnected with 1008, and the log says why.

    Attributes:
        rooms: room name → the names of the clients in it, now.
    """

    kind = "chat"

    def __init__(self, *, max_backlog: int = 256, **options: Any) -> None:
        self._members: dict[str, set[ServerConnection]] = defaultdict(set)
        self._names: dict[ServerConnection, str] = {}
        self._outboxes: dict[ServerConnection, asyncio.Queue[str]] = {}
        self._ids = itertools.count(1)
        self.max_backlog = max_backlog
        self.dropped_slow = 0
        self._closing: set[asyncio.Future[None]] = set()
        super().__init__(self._chat, **options)

    def url_for(self, name: str, room: str = "lobby") -> str:
        """The URL a client called ``name`` connects to, to land in ``room``."""
        return f"{self.url}?{urllib.parse.urlencode({'name': name, 'room': room})}"

    @property
    def rooms(self) -> dict[str, list[str]]:
        return {room: sorted(self._names[ws] for ws in members) for room, members in self._members.items() if members}

    async def _chat(self, ws: ServerConnection) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(ws.request.path).query)
        name = query.get("name", [f"guest{ws.wskit_conn}"])[0]  # type: ignore[attr-defined]
        room = query.get("room", ["lobby"])[0]
        self._names[ws] = name
        self._members[room].add(ws)
        outbox: asyncio.Queue[str] = asyncio.Queue(self.max_backlog)
        self._outboxes[ws] = outbox

        async def deliver() -> None:  # one writer per member: a slow one waits alone
            while True:
                await ws.send(await outbox.get())

        writer = asyncio.ensure_future(deliver())
        try:
            async for message in ws:
                text = message if isinstance(message, str) else message.hex(" ")
                try:
                    command = json.loads(text)
                except json.JSONDecodeError:
                    command = None
                if isinstance(command, dict) and isinstance(command.get("join"), str):
                    self._members[room].discard(ws)
                    room = command["join"]
                    self._members[room].add(ws)
                    await ws.send(json.dumps({"joined": room}))
                    continue
                said = {"id": next(self._ids), "from": name, "room": room, "text": text}
                self._broadcast(room, json.dumps(said))
        finally:
            writer.cancel()
            self._members[room].discard(ws)
            self._names.pop(ws, None)
            self._outboxes.pop(ws, None)

    def _broadcast(self, room: str, text: str) -> None:
        """Queue ``text`` for every member; a member whose backlog is full is too slow, and is let go."""
        for member in list(self._members[room]):
            outbox = self._outboxes.get(member)
            if outbox is None:
                continue
            try:
                outbox.put_nowait(text)
            except asyncio.QueueFull:
                self._members[room].discard(member)
                self._outboxes.pop(member, None)
                self.dropped_slow += 1
                self.log.add("event", "ERROR", conn=member.wskit_conn,  # type: ignore[attr-defined]
                             info=f"{self._names.get(member)} is too slow: {self.max_backlog} messages waiting; "
                                  "disconnected with 1008 so that the others are not held up")
                closing = asyncio.ensure_future(member.close(1008, "too slow: message backlog full"))
                self._closing.add(closing)  # keep a reference until it is done
                closing.add_done_callback(self._closing.discard)
