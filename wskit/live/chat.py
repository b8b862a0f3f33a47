"""A chat server with rooms: the course's broadcast example."""

from __future__ import annotations

import itertools
import json
import urllib.parse
from collections import defaultdict
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast

from .server import Server

__all__ = ["ChatServer"]


class ChatServer(Server):
    """Everyone in a room hears everything said in it.

    Connect to :meth:`url_for` ``(name, room)``. Each text a client sends is
    broadcast to everyone in the sender's room, the sender included, as JSON:
    ``{"id": 7, "from": "alice", "room": "lobby", "text": "hi"}``. A message
    ``{"join": "games"}`` moves the sender to another room (answered with
    ``{"joined": "games"}``). Takes the keyword arguments of :class:`Server`.

    Attributes:
        rooms: room name → the names of the clients in it, now.
    """

    kind = "chat"

    def __init__(self, **options: Any) -> None:
        self._members: dict[str, set[ServerConnection]] = defaultdict(set)
        self._names: dict[ServerConnection, str] = {}
        self._ids = itertools.count(1)
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
                broadcast(self._members[room], json.dumps(said))
        finally:
            self._members[room].discard(ws)
            self._names.pop(ws, None)
