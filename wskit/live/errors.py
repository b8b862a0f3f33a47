"""The root of the errors the live layer raises.

Every error a wskit server, client or service raises on purpose derives from
:class:`LiveError`, so a cell can catch them all with one ``except``. Errors
that also have a standard meaning keep it (``HandshakeRefused`` is a
``ConnectionError`` too; timeouts stay ``TimeoutError``).
"""

from __future__ import annotations

__all__ = ["LiveError"]


class LiveError(Exception):
    """Something wskit's live layer refuses or reports (the root of its errors)."""
