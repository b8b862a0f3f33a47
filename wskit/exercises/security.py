"""Exercises of notebook 08: an origin check and a token check that keep cross-site hijacking out."""

from __future__ import annotations

import inspect
import operator
from typing import Any

from .core import Case, Exercise, Mismatch, expect, register, run_cases

__all__: list[str] = []

BALANCE = "alice's balance: 1,234.56"
COOKIE = {"Cookie": "session=alice-logged-in"}

# --- origin_allowed -------------------------------------------------------------------------

#: (Origin header or None, allowed?, the mistake a wrong verdict reveals)
ORIGINS: list[tuple[str | None, bool, str]] = [
    ("https://bank.example", True, "the bank's own page must be let in"),
    ("https://app.bank.example", True, "the bank's app page must be let in too"),
    ("https://evil.example", False, "a foreign page was let in: this is cross-site WebSocket hijacking"),
    ("https://bank.example.evil.example", False,
     "a prefix or substring test: 'https://bank.example.evil.example' starts with the bank's origin; "
     "compare whole origins"),
    ("https://evilbank.example", False,
     "an endswith test: 'https://evilbank.example' ends with 'bank.example'; compare whole origins"),
    ("http://bank.example", False, "the scheme is part of the origin: http:// is not the https:// bank"),
    ("https://bank.example:8443", False, "the port is part of the origin"),
    ("null", False, "'null' is what sandboxed frames and file:// pages send: never trust it"),
    (None, False, "no Origin header: refuse it here (programs are checked by their token, the next exercise)"),
    ("", False, "an empty Origin is not the bank"),
]


def _origin_mistake(case: Case, got: Any) -> str:
    return case.mistake if isinstance(got, bool) else "return True or False"


def _check_origin_allowed(origin_allowed: Any) -> str:
    run_cases(origin_allowed, [Case(f"origin_allowed({origin!r})", (origin,), allowed, mistake)
                               for origin, allowed, mistake in ORIGINS],
              right=operator.is_, mistake=_origin_mistake)
    # live: a bank that consults your check; a hostile page with the victim's cookie, and the bank's own page
    import wskit

    verdicts = {origin: origin_allowed(origin) for origin in ("https://evil.example", "https://bank.example")}

    async def bank(ws: Any) -> None:
        if not verdicts.get(ws.request.headers.get("Origin"), False):
            await ws.close(1008, "origin not allowed")
            return
        await ws.send(BALANCE)

    with wskit.Server(bank, name="exercise-bank") as srv:
        with wskit.connect(srv.url, origin="https://evil.example", headers=COOKIE) as evil:
            try:
                stolen = evil.recv(timeout=3)
            except wskit.ConnectionClosed:
                stolen = None
        if stolen is not None:
            raise Mismatch("a hostile page's connection, with the victim's cookie", "closed, nothing read", stolen,
                           "the evil page read the balance")
        with wskit.connect(srv.url, origin="https://bank.example", headers=COOKIE) as own:
            expect("the bank's own page", BALANCE, own.recv(timeout=3))
    return f"{len(ORIGINS)} origins judged right; live, the hostile page read nothing and the bank's page its balance"


register(Exercise(
    name="origin_check",
    notebook="08",
    title="an origin check that lets the bank's pages in and keeps CSWSH out",
    task="**Exercise 1: the origin check.** Write `origin_allowed(origin)`: `True` only for the bank's pages, "
         "`https://bank.example` and `https://app.bank.example`; `False` for anything else, including a missing "
         "(`None`) or `\"null\"` Origin. The check tries hidden origins, then puts your function in front of a "
         "live bank and sends a hijacking page at it.",
    function="origin_allowed",
    solution='''ALLOWED = {"https://bank.example", "https://app.bank.example"}


def origin_allowed(origin: str | None) -> bool:
    """True only for the bank's own pages."""
    return origin in ALLOWED  # the whole origin, exactly: scheme, host and port''',
    hints=(
        "An origin is scheme://host[:port], and browsers send it exactly. Compare the whole string with the "
        "allowed ones.",
        "startswith, endswith or `in` on the text let look-alikes in: https://bank.example.evil.example, "
        "https://evilbank.example.",
    ),
    checker=_check_origin_allowed,
    timeout=15.0,
))

# --- token_verdict --------------------------------------------------------------------------

SECRET = "open-sesame"

#: (headers, path, expected verdict, the mistake a wrong verdict reveals)
TOKENS: list[tuple[dict[str, str], str, int | None, str]] = [
    ({}, "/", 401, "no token at all is 401 (who are you?), not 403"),
    ({"Authorization": f"Bearer {SECRET}"}, "/", None, "the right token in the Authorization header must be let in"),
    ({"Authorization": "Bearer guess"}, "/", 403, "a wrong token is 403"),
    ({"authorization": f"Bearer {SECRET}"}, "/", None, "header names are case-insensitive: 'authorization' counts"),
    ({"Authorization": f"bearer {SECRET}"}, "/", None, "the scheme 'Bearer' is case-insensitive"),
    ({"Authorization": f"Bearer {SECRET}-and-more"}, "/", 403,
     "a token that merely starts with (or contains) the secret was accepted: compare the whole token"),
    ({"Authorization": "Bearer open"}, "/", 403, "a prefix of the secret was accepted: compare the whole token"),
    ({}, f"/?token={SECRET}", None, "browsers cannot set headers: accept ?token= in the URL too"),
    ({}, "/?token=nope", 403, "a wrong ?token= is 403"),
    ({}, f"/?user=alice&token={SECRET}", None, "parse the query properly (urllib.parse.parse_qs): "
     "the token need not come first"),
    ({}, "/?token=open%2Dsesame", None, "query values are URL-encoded: parse_qs decodes %2D to '-'"),
    ({"Authorization": "Basic YWxpY2U6cHc="}, "/", 401, "a Basic credential is not a bearer token: 401"),
]


def _token_client(url: str, headers: dict[str, str], path: str) -> str:
    """What a live client gets: the greeting, or the close reason."""
    import wskit

    with wskit.connect(url.rstrip("/") + path, headers=headers or None) as client:
        try:
            return str(client.recv(timeout=3))
        except wskit.ConnectionClosed:
            return f"closed {client.close_code}"


def _check_token_verdict(token_verdict: Any) -> str:
    run_cases(token_verdict, [Case(f"token_verdict({headers!r}, {path!r})", (dict(headers), path), expected, mistake)
                              for headers, path, expected, mistake in TOKENS])
    try:
        source = inspect.getsource(token_verdict)
    except (OSError, TypeError):
        source = ""
    if source and "compare_digest" not in source:
        raise Mismatch("how the token is compared", "hmac.compare_digest(...)", "==",
                       "== stops at the first wrong character, so its timing leaks the secret bit by bit: "
                       "use hmac.compare_digest")
    # live: a server that lets in whom your function lets in (a refusal closes with 4401 / 4403)
    import wskit

    visits = [({}, "/"), ({"Authorization": f"Bearer {SECRET}"}, "/"), ({}, f"/?token={SECRET}"),
              ({"Authorization": "Bearer guess"}, "/")]
    verdicts = {(h.get("Authorization"), p): token_verdict(dict(h), p) for h, p in visits}

    async def vault(ws: Any) -> None:
        verdict = verdicts.get((ws.request.headers.get("Authorization"), ws.request.path))
        if verdict is not None:
            await ws.close(4000 + verdict, "no token" if verdict == 401 else "wrong token")
            return
        await ws.send("welcome in")

    with wskit.Server(vault, name="exercise-vault") as srv:
        outcomes = [_token_client(srv.url, h, p) for h, p in visits]
    expect("four live clients: no token, header token, URL token, wrong token",
           ["closed 4401", "welcome in", "welcome in", "closed 4403"], outcomes)
    return f"{len(TOKENS)} requests judged right, compared in constant time, and four live clients let in or not"


register(Exercise(
    name="token_check",
    notebook="08",
    title="a token check at the handshake: 401, 403, or in",
    task="**Exercise 2: the token check.** Write `token_verdict(headers, path)` for a server whose secret token is "
         "`\"open-sesame\"`: return `None` to let the client in, `401` when it presents no token, `403` when the "
         "token is wrong. Programs send `Authorization: Bearer <token>`; browsers put `?token=<token>` in the URL. "
         "`headers` is a plain dict (names in any case). The check tries hidden requests, then four live clients.",
    function="token_verdict",
    solution='''import hmac
import urllib.parse

SECRET = "open-sesame"


def token_verdict(headers: dict, path: str) -> int | None:
    """None to let the client in; 401 if it presents no token; 403 if the token is wrong."""
    lower = {name.lower(): value for name, value in headers.items()}
    scheme, _, credential = lower.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        token = credential.strip()
    else:
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("token", [None])[0]
    if token is None:
        return 401
    if not hmac.compare_digest(token.encode(), SECRET.encode()):  # constant time: no timing leak
        return 403
    return None''',
    hints=(
        "Two places to look: the Authorization header ('Bearer <token>', the scheme in any case; header names in "
        "any case), else the query string of the path (urllib.parse.urlsplit(path).query, then parse_qs).",
        "No token found: 401. A token that is not exactly the secret: 403. Compare with hmac.compare_digest, whose "
        "time does not depend on where the first difference is.",
    ),
    checker=_check_token_verdict,
    timeout=15.0,
))
