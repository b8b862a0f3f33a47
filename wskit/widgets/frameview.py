"""FrameView: one WebSocket frame's bytes as a bit-level field diagram."""

from __future__ import annotations

import html

import ipywidgets as widgets
import traitlets

from ..codec import frames as fr

__all__ = ["FrameView"]

#: One colour per field, in the order of RFC 6455's diagram.
COLOURS = {
    "FIN": "#f4a261",
    "RSV1": "#e9c46a",
    "RSV2": "#e9c46a",
    "RSV3": "#e9c46a",
    "opcode": "#2a9d8f",
    "MASK": "#e76f51",
    "payload length": "#8ab17d",
    "extended payload length": "#b5d99c",
    "masking key": "#f28482",
    "payload (masked)": "#cdb4db",
    "payload": "#a2d2ff",
    "payload (unmasked)": "#a2d2ff",
}


def _colour(name: str) -> str:
    return COLOURS.get(name.split(" (")[0] if name.startswith("extended") else name, "#ddd")


class FrameView(widgets.VBox):
    """Show a frame's fields, bit by bit: FIN, RSV1–3, opcode, MASK, length, key, payload.

    Args:
        data: the frame's bytes on the wire, or a :class:`wskit.codec.frames.Frame`.
        title: a caption above the diagram.

    Set :attr:`data` again to show another frame. Bytes that are not a whole
    frame show what is missing instead of raising.
    """

    data = traitlets.Bytes(b"")
    title = traitlets.Unicode("")

    def __init__(self, data: bytes | fr.Frame = b"", title: str = "", **kwargs: object) -> None:
        self._html = widgets.HTML()
        super().__init__(children=[self._html], **kwargs)
        self.title = title
        self.data = fr.encode(data, check=False) if isinstance(data, fr.Frame) else bytes(data)
        self._render()

    @traitlets.observe("data", "title")
    def _on_change(self, change: dict) -> None:
        if hasattr(self, "_html"):
            self._render()

    @property
    def fields(self) -> list[fr.Field]:
        """The frame's fields (empty while the bytes are incomplete)."""
        try:
            return fr.explain(self.data)
        except fr.Incomplete:
            return []

    def _render(self) -> None:
        self._html.value = self.to_html()

    def to_html(self) -> str:
        """The diagram as an HTML fragment."""
        title = f"<div style='font-weight:bold;margin-bottom:4px'>{html.escape(self.title)}</div>" if self.title else ""
        try:
            fields = fr.explain(self.data)
        except fr.Incomplete as exc:
            return f"{title}<div class='wskit-frameview'>{len(self.data)} bytes: not a whole frame yet ({exc})</div>"
        bits = []
        for field in fields[:7]:  # the first two bytes, one box per bit
            for bit in field.bits:
                bits.append(
                    f"<td title='{html.escape(field.name)}' style='background:{_colour(field.name)};"
                    f"width:1.6em;text-align:center;border:1px solid #fff;font-family:monospace'>{bit}</td>"
                )
        labels = "".join(
            f"<td colspan='{len(f.bits)}' style='font-size:75%;text-align:center'>{html.escape(f.name)}</td>"
            for f in fields[:7]
        )
        strip = f"<table style='border-collapse:collapse'><tr>{''.join(bits)}</tr><tr>{labels}</tr></table>"
        rows = "".join(
            "<tr>"
            f"<td style='background:{_colour(f.name)};padding:2px 6px'>{html.escape(f.name)}</td>"
            f"<td style='font-family:monospace;padding:2px 6px'>{html.escape(f.bits)}</td>"
            f"<td style='font-family:monospace;padding:2px 6px'>{html.escape(self._value(f))}</td>"
            f"<td style='padding:2px 6px'>{html.escape(f.meaning)}</td>"
            "</tr>"
            for f in fields
        )
        head = "".join(
            f"<th style='text-align:left;padding:2px 6px'>{h}</th>" for h in ("field", "bits", "value", "meaning")
        )
        table = f"<table style='border-collapse:collapse;margin-top:6px'><tr>{head}</tr>{rows}</table>"
        return f"{title}<div class='wskit-frameview'>{strip}{table}</div>"

    @staticmethod
    def _value(field: fr.Field) -> str:
        if isinstance(field.value, bytes):
            shown = field.value[:16].hex(" ")
            return shown + (f" … ({len(field.value)} bytes)" if len(field.value) > 16 else "")
        return str(field.value)

    def __repr__(self) -> str:
        """A plain-text diagram, for places that cannot show widgets."""
        fields = self.fields
        if not fields:
            return f"FrameView({len(self.data)} bytes: not a whole frame yet)"
        width = max(len(f.name) for f in fields)
        lines = [f"FrameView({self.title or f'{len(self.data)} bytes'})"]
        for f in fields:
            lines.append(f"  {f.name:<{width}}  {f.bits:<20}  {self._value(f):<24}  {f.meaning}")
        return "\n".join(lines)
