"""Exercise of notebook 11: the nginx location block that carries WebSocket connections in production."""

from __future__ import annotations

import re
from typing import Any

from .core import Exercise, Mismatch, expect, register

__all__: list[str] = []

#: What the task gives: ``$connection_upgrade`` is defined by this map, as in the notebook's section 1.
MAP = """
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}
"""

#: nginx's time units (``proxy_read_timeout 1h;``; a bare number is seconds).
UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}

NO_UPGRADE = ("the server saw no upgrade request: Upgrade and Connection are hop-by-hop headers, which nginx does "
              "not pass on by itself: proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "
              "$connection_upgrade;")

#: What a refused handshake's status says about the block.
REFUSALS = {
    505: "nginx spoke HTTP/1.0 to the server (its default), and the switch to WebSocket exists only in HTTP/1.1: "
         "proxy_http_version 1.1;",
    426: NO_UPGRADE,
    400: NO_UPGRADE,  # what a server that answers a missing upgrade with 400 (RFC 6455 §4.4's example) says
    502: "nginx could not reach the server: proxy_pass http://app; (the upstream's name, as given)",
    404: "nginx answered by itself: the block must proxy_pass to the server",
}


def _seconds(value: str) -> float | None:
    """nginx's reading of a time such as ``3600``, ``60m``, ``1h30m`` or ``1h 30m`` (``None`` if it is not one)."""
    parts = re.findall(r"(\d+)(ms|[smhdwMy]?)", value)
    if not parts or "".join(n + u for n, u in parts) != value.replace(" ", ""):
        return None
    return sum(int(number) * UNITS[unit or "s"] for number, unit in parts)


def _read_timeout(block: str) -> float:
    """The ``proxy_read_timeout`` the block sets, in seconds (nginx's default, 60 s, if none)."""
    code = re.sub(r"#[^\n]*", "", block)  # comments out
    found = re.findall(r"(?:^|[\s;{])proxy_read_timeout\s+([^;]+);", code)
    if not found:
        return 60.0
    seconds = _seconds(found[-1].strip().strip("\"'"))  # "1h 30m" is one argument only when quoted
    if seconds is None:
        raise Mismatch("proxy_read_timeout", "a time nginx reads, such as 3600s or 1h", found[-1].strip())
    return seconds


def _check_websocket_location(websocket_location: Any) -> str:
    import wskit
    from wskit.live.nginx import Nginx, NginxConfigError, upstream

    block = websocket_location("app")
    if not isinstance(block, str):
        raise Mismatch("websocket_location('app')", "the text of a location block (a str)", block,
                       "return the block as a string")
    seen: dict[str, str | None] = {}

    async def server(ws: Any) -> None:  # a server that notes what reached it, and echoes
        seen["X-Forwarded-For"] = ws.request.headers.get("X-Forwarded-For")
        async for message in ws:
            await ws.send(message)

    with wskit.Server(server, name="exercise-app", ping_interval=None) as app:
        try:
            proxy = Nginx(block, http=upstream("app", [app.url]) + MAP, name="exercise-nginx")
        except NginxConfigError as refused:
            said = refused.message.splitlines()[0] if refused.message else str(refused)
            raise Mismatch("nginx -t (nginx reading your block)", "the configuration accepted", said,
                           "nginx refused it, in its own words: the message names the directive") from None
        with proxy:
            try:
                client = wskit.connect(proxy.ws_url, name="exercise-through-nginx", timeout=5)
            except wskit.HandshakeRefused as refused:
                raise Mismatch("a WebSocket handshake through your nginx", "101 Switching Protocols",
                               f"{refused.status} {refused.response.reason}",
                               REFUSALS.get(refused.status, "read the status: who answered, nginx or the server?"),
                               ) from None
            with client:
                client.send("a note through nginx")
                expect("an echo through nginx", "a note through nginx", client.recv(timeout=5))
            expect("the X-Forwarded-For header the server got", "127.0.0.1", seen.get("X-Forwarded-For"),
                   "without it the server sees only nginx's address: "
                   "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
    timeout = _read_timeout(block)
    if timeout < 3600:
        raise Mismatch("how long a quiet connection lives (proxy_read_timeout)", "at least 1 hour (3600 s)",
                       f"{timeout:g} s", "nginx's default proxy_read_timeout is 60 s: it would cut a quiet "
                       "connection after a minute (section 2)" if timeout == 60 else
                       "raise proxy_read_timeout to an hour or more")
    return (f"a real nginx with your block: the handshake passed (101), the echo came back, the server saw the "
            f"client's address, and a quiet connection may live {timeout / 3600:g} h")


register(Exercise(
    name="nginx_location",
    notebook="11",
    title="an nginx location block that carries WebSocket connections",
    task="**Exercise: the location block for production.** Write `websocket_location(backend)`, which returns the "
         "text of an nginx `location / { ... }` block that proxies to the upstream named `backend` (here `app`) so "
         "that: a WebSocket handshake reaches the server as an upgrade; the server sees the client's address in "
         "`X-Forwarded-For`; and a quiet connection is not cut for at least an hour. `$connection_upgrade` is "
         "defined (the `map` of section 1). The check starts a real nginx with your block in front of a live "
         "server, connects through it and sends a message.",
    function="websocket_location",
    solution='''def websocket_location(backend: str) -> str:
    """An nginx location block proxying WebSocket connections to the upstream ``backend``."""
    return f"""
location / {{
    proxy_pass http://{backend};
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_read_timeout 1h;
}}
"""''',
    hints=(
        "Start from section 1's PROXY block: proxy_pass, proxy_http_version 1.1 and the two hop-by-hop headers.",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; tells the server who the client is. "
        "proxy_read_timeout (section 2) takes a time such as 3600s or 1h.",
        "In an f-string, nginx's braces are doubled: location / {{ ... }}.",
    ),
    checker=_check_websocket_location,
    timeout=30.0,
))
