"""Teaching diagrams drawn with matplotlib: the layers, one message wrapped by each, sequence diagrams, byte bars.

The numbers are real: the WebSocket header comes from :mod:`wskit.codec.frames`
for the payload given, the others are the standard minimal headers (and the
TCP timestamp option Linux sends by default).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .codec import frames as fr

__all__ = [
    "Layer", "encapsulation", "draw_layers", "draw_encapsulation", "draw_story", "draw_sequence",
    "draw_engineio_upgrade", "draw_bytes", "STORY", "ENGINEIO_UPGRADE", "OSI", "TCP_IP",
]

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
    ("client", "a note, scrambled but not secret", "text frame, masked (not encrypted: use wss://)"),
    ("server", "a note back", "text frame"),
    ("server", "another, without being asked", "text frame (server push)"),
    ("client", "\u201cBye\u201d", "close frame 1000"),
    ("server", "\u201cBye\u201d", "close frame 1000, then TCP FIN"),
]


def draw_sequence(steps: list[tuple[str, str, str]], phases: list[tuple[int, int, str, str]], *,
                  left: str = "Alice\n(client)", right: str = "Bob\n(server)", title: str = "", ax: Any = None,
                  dashed: frozenset[int] = frozenset()) -> Any:
    """A sequence diagram: one arrow per step, client on the left, server on the right.

    Args:
        steps: ``(sender, what it means, the protocol step)``, sender ``"client"`` or ``"server"``.
        phases: ``(first step, step after the last, label, colour)``: shaded bands, labelled on the right.
        left, right: the two lifelines' names.
        title: above the diagram.
        ax: the matplotlib axes to draw on (a new figure if ``None``).
        dashed: indices of the steps drawn dashed (an answer that ends a request held earlier, say).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(11, 0.8 * len(steps) + 0.9))
    x_left, x_right = 0.0, 10.0
    rows = len(steps)
    for x, who in ((x_left, left), (x_right, right)):
        ax.plot([x, x], [0.3, rows + 0.6], color="#6c757d", linewidth=1)
        ax.text(x, rows + 0.9, who, ha="center", va="bottom", fontsize=11, fontweight="bold")
    for start, end, label, colour in phases:
        ax.axhspan(rows - end + 0.5, rows - start + 0.5, color=colour, zorder=0)
        ax.text(x_right + 0.3, rows - (start + end) / 2 + 0.5, label, va="center", fontsize=9, color="#495057")
    for i, (sender, story, step) in enumerate(steps):
        y = rows - i
        start, end = (x_left, x_right) if sender == "client" else (x_right, x_left)
        ax.annotate("", xy=(end, y - 0.15), xytext=(start, y + 0.15),
                    arrowprops={"arrowstyle": "->", "color": "#1971c2" if sender == "client" else "#e8590c",
                                "linewidth": 1.5, "linestyle": "--" if i in dashed else "-"})
        ax.text(5, y + 0.22, story, ha="center", va="bottom", fontsize=9.5)
        ax.text(5, y - 0.12, step, ha="center", va="top", fontsize=8, family="monospace", color="#495057")
    ax.set_xlim(-1.2, 13.4)
    ax.set_ylim(0, rows + 1.6)
    ax.axis("off")
    ax.set_title(title)
    return ax


def draw_story(ax: Any = None) -> Any:
    """The two friends' conversation as a sequence diagram, each arrow labelled with its protocol step."""
    phases = [(0, 3, "TCP connection", "#e9ecef"), (3, 5, "WebSocket handshake", "#ddf4ff"),
              (5, 8, "messages, both ways", "#d3f9d8"), (8, 10, "closing handshake", "#fff3bf")]
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(11, 8.5))
    return draw_sequence(STORY, phases, ax=ax,
                         title="Two friends shake hands, then pass notes: every step is a real protocol step")


#: An Engine.IO v4 session that starts on HTTP long polling and upgrades to WebSocket, as in notebook 05:
#: (from, what it means, the packet on the wire). Sources: the Engine.IO protocol v4 document (handshake, upgrade).
ENGINEIO_UPGRADE = [
    ("client", "open a session (HTTP long polling)", "GET /socket.io/?EIO=4&transport=polling"),
    ("server", "OPEN: session id, upgrades, ping interval", '200  0{"sid":"…","upgrades":["websocket"],…}'),
    ("client", "Socket.IO CONNECT to namespace /, with auth", 'POST …&sid=…  body 40{"name":…}'),
    ("server", "received", "200  OK"),
    ("client", "poll: anything for me?", "GET …&transport=polling&sid=…"),
    ("server", "namespace joined (and what the handler emitted)", '200  40{"sid":"…"}  42["welcome",…]'),
    ("client", "poll again: this one waits (held by the server)", "GET …&transport=polling&sid=…"),
    ("client", "try a WebSocket on the same session", "GET …&transport=websocket&sid=…  Upgrade: websocket"),
    ("server", "WebSocket accepted", "101 Switching Protocols"),
    ("client", "probe: does this WebSocket work?", "2probe   (a WebSocket frame)"),
    ("server", "yes", "3probe   (a WebSocket frame)"),
    ("server", "end the held poll (no news, just close the cycle)", "200  6   (NOOP, on the polling GET)"),
    ("client", "switch: from now on, only the WebSocket", "5   (UPGRADE; the server sends no reply)"),
    ("server", "events, acks, heartbeat: one packet per frame", '42["said",…]   2 (ping) every 25 s'),
    ("client", "", '42["say",…]   3 (pong)'),
]


def draw_engineio_upgrade(ax: Any = None) -> Any:
    """The Engine.IO v4 polling → WebSocket upgrade as a sequence diagram (the held poll's answer is dashed)."""
    phases = [(0, 2, "handshake (polling)", "#e9ecef"), (2, 7, "namespace connect (polling)", "#f1f3f5"),
              (7, 9, "WebSocket handshake", "#ddf4ff"), (9, 13, "probe and upgrade", "#fff3bf"),
              (13, 15, "WebSocket only", "#d3f9d8")]
    return draw_sequence(ENGINEIO_UPGRADE, phases, left="Socket.IO client", right="python-socketio server",
                         title="Engine.IO v4: start on long polling, probe a WebSocket, upgrade", ax=ax,
                         dashed=frozenset({11}))


def draw_bytes(rows: list[tuple[str, list[tuple[str, int]]]], ax: Any = None, title: str = "") -> Any:
    """Stacked horizontal bars: for each row, the bytes of each part (header, mask, payload, envelope...).

    Args:
        rows: ``(label, [(part, bytes), ...])``, top row first.
        ax: the matplotlib axes to draw on (a new figure if ``None``).
        title: above the bars.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(11, 0.9 * len(rows) + 1.2))
    colours: dict[str, str] = {}
    palette = ["#a5d8ff", "#ffec99", "#b2f2bb", "#ffc9c9", "#d0bfff", "#ffd8a8", "#c5f6fa", "#e9ecef"]
    for row, (_label, parts) in enumerate(rows):
        y = len(rows) - row - 1
        left = 0
        for part, size in parts:
            colour = colours.setdefault(part, palette[len(colours) % len(palette)])
            ax.barh(y, size, left=left, color=colour, edgecolor="#495057")
            if size >= 3:
                ax.text(left + size / 2, y, str(size), ha="center", va="center", fontsize=8)
            left += size
        ax.text(left + 0.5, y, f"{left} B", va="center", fontsize=9, fontweight="bold")
    ax.set_yticks(range(len(rows)), [label for label, _ in reversed(rows)])
    ax.set_xlabel("bytes on the wire (WebSocket frames, both directions)")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(facecolor=c, edgecolor="#495057", label=p) for p, c in colours.items()],
              loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=min(4, len(colours)), fontsize=8)
    ax.set_title(title)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax
