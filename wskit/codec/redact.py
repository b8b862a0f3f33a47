"""Secrets out of text before it is kept or shown: query values, quoted and JSON values, URL passwords, headers.

The traffic log (:mod:`wskit.live.log`) redacts what it records with these, on the loop, whatever a peer sends
(linear in the text, and reading at most :data:`REDACT_WINDOW` of it); the message panel's exports
(:mod:`wskit.widgets.messagepanel`: a HAR document's handshakes, the JSON rows' info) apply the same rules again.
"""

from __future__ import annotations

import re

__all__ = ["REDACTED", "REDACT_WINDOW", "SECRET_HEADERS", "bounded", "redact", "redact_bounded", "redact_header"]

#: What a secret is replaced with.
REDACTED = "[redacted]"

#: Headers whose value is a secret.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

# Query (or form, or JSON-ish) parameters whose value is a secret: token, access_token, auth, password, key...
# A name is a whole run of name characters, taken possessively (++: never given back), that holds a secret word or is
# a secret name: a pattern that looked for the words inside a run and then backtracked over it took half a second on
# the 8 KiB request line a hostile client may send (the server redacts it on the loop). These are linear in the text.
_SECRET_NAME = (
    r"(?:(?=[\w.-]*?(?:token|secret|passw(?:or)?d|pwd|api[_-]?key|signature|credential))"
    r"|(?=(?:auth|authorization|key|sig|session|session[_-]?id|jwt)(?![\w.-])))[\w.-]++"
)
# A parameter's name starts the text or follows a delimiter (? & ; # , / : whitespace, an opening bracket or a
# quote), and its value does not start with "=", a quote, a closing bracket or , . : (what follows base64 padding in
# text). So base64 is never taken for a "pwd=" parameter: a Sec-WebSocket-Key ("ufD/rgKGYFmpczORpwDaLg==":
# "rgKGYFmpczORpwDaLg" after "/" holds "pwD") or an accept value in a message ("got '...pwd...='", "...pwd...=, ").
_SECRET_QUERY = re.compile(rf"(?i)(?:^|(?<=[?&;#,/:\s(\[{{'\"]))({_SECRET_NAME})=(?![='\")\]}}>,.:])([^&#\s;]*)")
# name='value' or name="value" (keyword arguments in a traceback or a repr; a value cut short by a window counts
# up to the end), the name after a delimiter, not after a quote, "/" or ":" (a base64 value's padding followed by
# its closing quote is not a name= and an opening quote)
_SECRET_QUOTED = re.compile(
    rf"""(?i)(?:^|(?<=[?&;#,\s(\[{{]))({_SECRET_NAME})=(?:'[^'\n]+(?:'|\Z)|"[^"\n]+(?:"|\Z))""")
# a password in a URL: ws://user:password@host/
_SECRET_USERINFO = re.compile(r"(?<=://)([^/?#@\s:]+):([^/?#@\s]+)@")
# "name": value in JSON, or 'name': value in a Python dict's repr; an object or list as the value is not eaten
# (the names inside it are looked at one by one)
_SECRET_JSON = re.compile(
    rf"""(?i)((["']){_SECRET_NAME}\2\s*:\s*)("(?:[^"\\]|\\.)*(?:"|\Z)|'(?:[^'\\]|\\.)*(?:'|\Z)|[^,{{}}\[\]\s]+)""")


def _quoted_value(m: re.Match[str]) -> str:
    quote = m[0][len(m[1]) + 1]
    return f"{m[1]}={quote}{REDACTED}{quote}"


def redact(text: str) -> str:
    """``text`` with the value of every secret-looking parameter replaced by ``[redacted]``.

    Covers query strings (``/?token=abc&room=x`` → ``/?token=[redacted]&room=x``; also ``access_token``,
    ``auth``, ``password``, ``key``, ``api_key``, ``secret``...), ``name='value'`` keyword arguments, JSON objects
    (``{"token": "abc"}``, as in a Socket.IO CONNECT packet's auth) and dict reprs, and the password of a URL
    (``ws://bob:pw@host``). Linear in the length of ``text``.

    >>> redact("/chat?room=lobby&token=s3cr3t")
    '/chat?room=lobby&token=[redacted]'
    """
    if "=" in text:
        text = _SECRET_QUOTED.sub(_quoted_value, text)
        text = _SECRET_QUERY.sub(lambda m: f"{m[1]}={REDACTED}" if m[2] else m[0], text)
    if "://" in text and "@" in text:
        text = _SECRET_USERINFO.sub(rf"\1:{REDACTED}@", text)
    if '"' in text or "'" in text:
        text = _SECRET_JSON.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}{m[2]}", text)
    return text


def redact_header(name: str, value: str) -> str:
    """The value of header ``name`` as a log keeps it: ``Bearer [redacted]`` for Authorization, ``[redacted]``."""
    lower = name.lower()
    if lower in SECRET_HEADERS:
        if lower.endswith("authorization"):
            scheme, _, credentials = value.partition(" ")
            return f"{scheme} {REDACTED}" if credentials else REDACTED
        return REDACTED
    return value


def bounded(text: str, limit: int) -> str:
    """``text``, or its first ``limit - 1`` characters and an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Characters of a text redaction reads at most (a peer's megabyte is cut to this first): redaction is linear, and
#: this keeps its worst case (runs of quotes and secret words) to a few milliseconds on the loop.
REDACT_WINDOW = 16 * 1024


def redact_bounded(text: str, limit: int) -> str:
    """``text`` redacted and cut to ``limit`` characters; redaction reads at most :data:`REDACT_WINDOW` of it.

    A value the window cuts in the middle is still redacted (a query value runs to the cut; a quoted or JSON string
    with no closing quote counts as ending there).
    """
    return bounded(redact(text[: max(limit, REDACT_WINDOW)]), limit)
