"""Show bytes the way a packet capture does."""

from __future__ import annotations

__all__ = ["hexdump"]


def hexdump(data: bytes, width: int = 16, limit: int | None = None) -> str:
    """Offset, hex bytes and printable ASCII, ``width`` bytes a line.

    Args:
        data: the bytes.
        width: bytes per line.
        limit: show at most this many bytes (the rest is counted).

    >>> print(hexdump(b"GET / HTTP/1.1\\r\\n"))
    0000  47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a  GET / HTTP/1.1..
    """
    data = bytes(data)
    shown = data if limit is None else data[:limit]
    lines = []
    for offset in range(0, len(shown), width):
        chunk = shown[offset : offset + width]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:04x}  {hexes:<{width * 3 - 1}}  {text}")
    if len(shown) < len(data):
        lines.append(f"…     ({len(data) - len(shown)} more bytes)")
    return "\n".join(lines)
