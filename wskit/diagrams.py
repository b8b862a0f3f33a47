"""Teaching diagrams drawn with matplotlib: the layers, and one message wrapped by each.

The numbers are real: the WebSocket header comes from :mod:`wskit.codec.frames`
for the payload given, the others are the standard minimal headers (and the
TCP timestamp option Linux sends by default).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .codec import frames as fr

__all__ = ["Layer", "encapsulation", "draw_layers", "draw_encapsulation", "draw_story", "STORY", "OSI", "TCP_IP"]

#: The OSI model, top (7) to bottom (1), with what lives there on the web.
OSI = [
    ("7 Application", "HTTP, WebSocket, Socket.IO, your messages"),
    ("6 Presentation", "TLS encryption, UTF-8 text, JSON"),
    ("5 Session", "(the open connection; in practice part of TLS/HTTP)"),
    ("4 Transport", "TCP: ports, ordered bytes, retransmission"),
    ("3 Network", "IP: addresses, routing"),
    ("2 Data link", "Ethernet, Wi-Fi frames"),
    ("1 Physical", "cables, radio"),
]

#: The TCP/IP model: which OSI layers each of its four covers.
TCP_IP = [
    ("Application", (7, 5)),
    ("Transport", (4, 4)),
    ("Internet", (3, 3)),
    ("Link", (2, 1)),
]


@dataclasses.dataclass(frozen=True)
class Layer:
    """What one layer adds around the message: header (and trailer) bytes."""

    name: str
    header: int
    trailer: int = 0
    note: str = ""


def encapsulation(payload: bytes, *, client: bool = True, tls: bool = False) -> list[Layer]:
    """The layers around one WebSocket message, outermost first.

    Args:
        payload: the application's bytes.
        client: a client's frame (masked, 4 more header bytes) or a server's.
        tls: over ``wss://`` (a TLS 1.3 record around the frame).
    """
    frame = fr.Frame(fr.Opcode.TEXT, payload, mask_key=b"\x00" * 4 if client else None)
    ws_header = len(fr.encode(frame)) - len(payload)
    layers = [
        Layer("Ethernet", 14, 4, "MAC addresses, type; 4-byte checksum at the end"),
        Layer("IPv4", 20, 0, "source and destination addresses"),
        Layer("TCP", 32, 0, "ports, sequence numbers, 12 bytes of timestamp option"),
    ]
    if tls:
        layers.append(Layer("TLS 1.3 record", 5, 17, "record header; content type + 16-byte auth tag"))
    layers.append(Layer("WebSocket frame", ws_header, 0, "FIN/opcode, length" + (", masking key" if client else "")))
    layers.append(Layer("application payload", len(payload), 0, repr(payload[:24])))
    return layers


def draw_layers(ax: Any = None) -> Any:
    """The OSI model beside the TCP/IP model, with WebSocket placed in both."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 5))
    colours = ["#d8f3dc", "#b7e4c7", "#95d5b2", "#74c69d", "#52b788", "#40916c", "#2d6a4f"]
    for i, (name, what) in enumerate(OSI):
        y = 6 - i
        ax.add_patch(Rectangle((0, y), 3.2, 0.9, facecolor=colours[i], edgecolor="white"))
        ax.text(0.1, y + 0.45, name, va="center", fontsize=10, fontweight="bold")
        ax.text(3.4, y + (0.62 if i == 0 else 0.45), what, va="center", fontsize=9)
    for name, (top, bottom) in TCP_IP:
        y0, y1 = bottom - 1, top  # layer n sits at y = n - 1
        ax.add_patch(Rectangle((-2.3, y0), 2.1, y1 - y0 - 0.1, facecolor="#e9ecef", edgecolor="#6c757d"))
        ax.text(-1.25, (y0 + y1 - 0.1) / 2, name, ha="center", va="center", fontsize=10)
    ax.text(3.4, 6.12, "WebSocket: an HTTP/1.1 Upgrade, then frames on the same TCP connection",
            va="center", fontsize=8, style="italic", color="#2d6a4f")
    ax.set_xlim(-2.5, 10.5)
    ax.set_ylim(-0.2, 7.2)
    ax.axis("off")
    ax.set_title("TCP/IP (left) and OSI (right): where WebSocket sits")
    return ax


def draw_encapsulation(layers: list[Layer], ax: Any = None) -> Any:
    """One message as it leaves the machine: each layer's header and trailer around the next."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if ax is None:
        _, ax = plt.subplots(figsize=(11, 0.7 * len(layers) + 1))
    total = sum(layer.header + layer.trailer for layer in layers)
    left, right = 0, total
    colours = ["#adb5bd", "#a5d8ff", "#b2f2bb", "#ffec99", "#ffc9c9", "#d0bfff", "#ffd8a8"]
    for depth, layer in enumerate(layers):
        y = len(layers) - depth - 1
        colour = colours[depth % len(colours)]
        ax.add_patch(Rectangle((left, y), right - left, 0.8, facecolor="white", edgecolor="#495057"))
        ax.add_patch(Rectangle((left, y), layer.header, 0.8, facecolor=colour, edgecolor="#495057"))
        if layer.trailer:
            ax.add_patch(Rectangle((right - layer.trailer, y), layer.trailer, 0.8, facecolor=colour,
                                   edgecolor="#495057"))
        size = f"{layer.header} B" + (f" + {layer.trailer} B" if layer.trailer else "")
        ax.text(-2, y + 0.4, f"{layer.name} ({size})", ha="right", va="center", fontsize=9)
        left, right = left + layer.header, right - layer.trailer
    ax.set_xlim(-70, total + 2)
    ax.set_xticks(range(0, total + 1, 10))
    ax.set_ylim(-0.3, len(layers) + 0.2)
    ax.set_xlabel("bytes on the wire")
    ax.set_yticks([])
    payload = layers[-1].header
    ax.set_title(f"{payload} bytes of message, {total} bytes on the wire ({payload / total:.0%} payload)")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return ax


#: The course's running analogy, step by step: (from, story, protocol step).
STORY = [
    ("client", "Alice walks up to Bob", "TCP: SYN"),
    ("server", "Bob turns to her", "TCP: SYN-ACK"),
    ("client", "she is there", "TCP: ACK"),
    ("client", "\u201cI want to connect\u201d (here is a word: dGhl\u2026)",
     "GET / HTTP/1.1, Upgrade: websocket, Sec-WebSocket-Key"),
    ("server", "\u201cSure, let's start\u201d (your word, transformed: s3pP\u2026)",
     "HTTP/1.1 101 Switching Protocols, Sec-WebSocket-Accept"),
    ("client", "a secret note", "text frame, masked"),
    ("server", "a note back", "text frame"),
    ("server", "another, without being asked", "text frame (server push)"),
    ("client", "\u201cBye\u201d", "close frame 1000"),
    ("server", "\u201cBye\u201d", "close frame 1000, then TCP FIN"),
]


def draw_story(ax: Any = None) -> Any:
    """The two friends' conversation as a sequence diagram, each arrow labelled with its protocol step."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(11, 8.5))
    left, right = 0.0, 10.0
    rows = len(STORY)
    for x, who in ((left, "Alice\n(client)"), (right, "Bob\n(server)")):
        ax.plot([x, x], [0.3, rows + 0.6], color="#6c757d", linewidth=1)
        ax.text(x, rows + 0.9, who, ha="center", va="bottom", fontsize=11, fontweight="bold")
    phases = [(0, 3, "TCP connection", "#e9ecef"), (3, 5, "WebSocket handshake", "#ddf4ff"),
              (5, 8, "messages, both ways", "#d3f9d8"), (8, 10, "closing handshake", "#fff3bf")]
    for start, end, label, colour in phases:
        ax.axhspan(rows - end + 0.5, rows - start + 0.5, color=colour, zorder=0)
        ax.text(right + 0.3, rows - (start + end) / 2 + 0.5, label, va="center", fontsize=9, color="#495057")
    for i, (sender, story, step) in enumerate(STORY):
        y = rows - i
        start, end = (left, right) if sender == "client" else (right, left)
        ax.annotate("", xy=(end, y - 0.15), xytext=(start, y + 0.15),
                    arrowprops={"arrowstyle": "->", "color": "#1971c2" if sender == "client" else "#e8590c",
                                "linewidth": 1.5})
        ax.text(5, y + 0.22, story, ha="center", va="bottom", fontsize=9.5)
        ax.text(5, y - 0.12, step, ha="center", va="top", fontsize=8, family="monospace", color="#495057")
    ax.set_xlim(-1.2, 13.2)
    ax.set_ylim(0, rows + 1.6)
    ax.axis("off")
    ax.set_title("Two friends shake hands, then pass notes: every step is a real protocol step")
    return ax
