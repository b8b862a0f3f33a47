"""HandshakeView: the Upgrade request and the 101 response side by side."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from ..codec import handshake as hs
from ..codec.errors import InvalidHandshake
from ._pump import cell_site, replace

__all__ = ["HandshakeView"]

WEBSOCKET_HEADERS = {"upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-accept",
                     "sec-websocket-protocol", "sec-websocket-extensions", "origin"}


def _lines(message: hs.Request | hs.Response) -> list[tuple[str, str]]:
    if isinstance(message, hs.Request):
        first = f"{message.method} {message.target} {message.http_version}"
    else:
        first = f"{message.http_version} {message.status} {message.reason}"
    return [("", first), *message.headers.items()]


class HandshakeView(widgets.HTML):
    """The opening handshake, header by header, with the key → accept steps.

    Args:
        source: a wskit client (its ``.handshake``), a handshake record (with
            ``.request`` and ``.response``), or ``None`` with the two keywords.
        request, response: the two messages, as :mod:`wskit.codec.handshake` types.

    Attributes:
        verdict: ``"valid"`` or the client-side check's error message.
        mismatch: the header names the check found wrong (highlighted red).
    """

    def __init__(
        self,
        source: Any = None,
        *,
        request: hs.Request | None = None,
        response: hs.Response | None = None,
    ) -> None:
        site = cell_site()
        record = getattr(source, "handshake", source)
        if record is not None:
            request, response = record.request, record.response
        if request is None or response is None:
            raise TypeError("HandshakeView needs a client, a handshake record, or request= and response=")
        self.request, self.response = request, response
        self.mismatch: list[str] = []
        try:
            offered = request.headers
            hs.check_response(  # what the client offered, so that a negotiated extension or subprotocol is valid
                response, request.key or "",
                subprotocols=[p.strip() for v in offered.get_all("Sec-WebSocket-Protocol") for p in v.split(",")],
                extensions=[e for v in offered.get_all("Sec-WebSocket-Extensions") for e in v.split(",")],
            )
            self.verdict = "valid"
        except InvalidHandshake as exc:
            self.verdict = str(exc)
            self.mismatch.append(exc.header)
        super().__init__(value=self.to_html())
        self.add_class("wskit-handshake-view")
        replace(self, "HandshakeView", site)  # a re-run cell's view replaces the previous run's

    def close(self) -> None:
        """Close the widget, its layout and its style."""
        self.layout.close()
        self.style.close()
        super().close()

    def _column(self, title: str, message: hs.Request | hs.Response) -> str:
        rows = []
        for name, value in _lines(message):
            wrong = name in self.mismatch or (not name and "status" in self.mismatch and message is self.response)
            style = "background:#ffebe9;color:#cf222e" if wrong else (
                "background:#ddf4ff" if name.lower() in WEBSOCKET_HEADERS else "")
            cell = f"<b>{html.escape(name)}:</b> {html.escape(value)}" if name else f"<b>{html.escape(value)}</b>"
            rows.append(f"<tr><td style='font-family:monospace;padding:1px 6px;{style}'>{cell}</td></tr>")
        return f"<td style='vertical-align:top'><div><b>{title}</b></div><table>{''.join(rows)}</table></td>"

    def to_html(self) -> str:
        """The view as an HTML fragment."""
        key = self.request.key or ""
        steps = hs.explain_accept(key) if key else {}
        got = self.response.headers.get("Sec-WebSocket-Accept")
        step_rows = "".join(
            f"<tr><td style='padding:1px 6px'>{html.escape(k)}</td>"
            f"<td style='font-family:monospace;padding:1px 6px'>{html.escape(v)}</td></tr>"
            for k, v in steps.items()
        )
        ok = got == steps.get("base64 (accept)")
        match = (
            f"<tr><td style='padding:1px 6px'>server sent</td><td style='font-family:monospace;padding:1px 6px;"
            f"color:{'#1a7f37' if ok else '#cf222e'}'>{html.escape(str(got))} {'✓ matches' if ok else '✗ differs'}"
            "</td></tr>"
        )
        verdict_colour = "#1a7f37" if self.verdict == "valid" else "#cf222e"
        return (
            "<table><tr>"
            + self._column("Client → server: “I want to connect”", self.request)
            + self._column("Server → client: “Sure, let's start”", self.response)
            + "</tr></table>"
            + "<div style='margin-top:6px'><b>Sec-WebSocket-Key → Sec-WebSocket-Accept</b></div>"
            + f"<table>{step_rows}{match}</table>"
            + f"<div style='margin-top:4px;color:{verdict_colour}'><b>client-side check: "
            + f"{html.escape(self.verdict)}</b></div>"
        )

    def __repr__(self) -> str:
        return f"HandshakeView({self.response.status} {self.response.reason}; check: {self.verdict})"
