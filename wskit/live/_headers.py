"""The handshake headers a ``websockets`` connection keeps for its life, made to cost less: the same content.

Each header of a ``websockets.datastructures.Headers`` holds a name, its lower-case copy, a 2-tuple and a list
grown for more values, all its own: on an idle server connection the two handshakes' headers were a quarter of its
memory. :func:`compact_headers` rebuilds the two stores inside (``_dict`` and ``_list``, which
:func:`wskit.live._traffic.check_private_hooks` checks are still there) with shared copies.
"""

from __future__ import annotations

from typing import Any

from websockets.datastructures import Headers as WSHeaders

__all__ = ["SHARED_MAX", "SHARED_VALUES", "compact_headers"]

#: Header names whose values are the same on most connections of a server (the shared copy is kept).
SHARED_VALUES = frozenset({
    "host", "upgrade", "connection", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol",
    "origin", "user-agent", "server", "accept-encoding", "accept-language", "cache-control", "pragma",
})
#: At most this many strings and pairs are shared (a peer sending new values each time fills it, then gets none).
SHARED_MAX = 1024
_SHORT = 200
_shared: dict[Any, Any] = {}


def _share(value: Any) -> Any:
    kept = _shared.get(value)
    if kept is None:
        if len(_shared) >= SHARED_MAX:
            return value
        _shared[value] = kept = value
    return kept


def compact_headers(headers: WSHeaders) -> None:
    """Make a handshake's ``websockets`` headers cost less, in place: the same content, read and changed as before.

    Names, and the values of :data:`SHARED_VALUES` (``Upgrade: websocket``, the ``Host``, the ``User-Agent``...),
    become one shared copy for all connections (at most :data:`SHARED_MAX` kept), and each list is exactly as long
    as it needs.
    """
    pairs, by_key = [], {}
    for name, value in headers._list:
        if len(name) <= _SHORT:
            name = _share(name)
            key = _share(name.lower())
        else:
            key = name.lower()
        if key in SHARED_VALUES and len(value) <= _SHORT:
            value = _share(value)
            pairs.append(_share((name, value)))
        else:
            pairs.append((name, value))
        values = by_key.get(key)
        if values is None:
            by_key[key] = [value]
        else:
            values.append(value)
    headers._list, headers._dict = pairs, by_key
