"""Exercises of notebook 02: the accept key, a client's check of the 101, an Upgrade request by hand."""

from __future__ import annotations

import base64
import hashlib
import inspect
from typing import Any

from ..codec import handshake as hs
from .core import Case, Exercise, Mismatch, expect, register, run_cases

__all__: list[str] = []

GUID = hs.GUID

# --- accept_key ----------------------------------------------------------------------------

ACCEPT_KEYS = [
    "dGhlIHNhbXBsZSBub25jZQ==",  # RFC 6455's sample
    "x3JJHMbDL1EzLkh9GBhXDw==",
    "AQIDBAUGBwgJCgsMDQ4PEA==",
    "+/+/+/+/+/+/+/+/+/+/+w==",
    "E4WSEcseoWr4csPLS2QJHA==",
]


def _accept_mistakes(key: str) -> dict[Any, str]:
    """Wrong answers learners commonly give for ``key``, each with the mistake's name."""
    digest = hashlib.sha1((key + GUID).encode()).digest()
    right = base64.b64encode(digest).decode()
    wrong = {
        base64.b64encode(hashlib.sha1((key + GUID).encode()).hexdigest().encode()).decode():
            "base64 of the hex digest: encode the raw 20-byte digest (.digest()), not .hexdigest()",
        hashlib.sha1((key + GUID).encode()).hexdigest():
            "the hex digest: the accept value is the base64 of the raw digest",
        base64.b64encode(hashlib.sha1(key.encode()).digest()).decode():
            "the GUID is missing: hash key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'",
        base64.b64encode(hashlib.sha1((GUID + key).encode()).digest()).decode():
            "key and GUID in the wrong order: it is key + GUID",
        base64.b64encode(hashlib.sha1(base64.b64decode(key) + GUID.encode()).digest()).decode():
            "the key was base64-decoded first: hash the key exactly as sent (24 characters) + GUID",
        base64.b64encode(hashlib.sha256((key + GUID).encode()).digest()).decode():
            "SHA-256 instead of SHA-1",
        base64.b64encode(hashlib.sha1((key + GUID.lower()).encode()).digest()).decode():
            "the GUID in lower case: it is upper case, exactly as in RFC 6455",
        right.encode(): "bytes instead of str: .decode('ascii') the base64 result",
        right + "\n": "a trailing newline (base64.encodebytes adds one): use base64.b64encode",
    }
    return wrong


def _accept_mistake(case: Case, got: Any) -> str:
    """The mistake a wrong accept value reveals."""
    mistake = _accept_mistakes(*case.args).get(got, "") if isinstance(got, (str, bytes)) else ""
    if not mistake and not isinstance(got, str):
        mistake = f"return a str, not {type(got).__name__}"
    return mistake


def _check_accept_key(accept_key: Any) -> str:
    run_cases(accept_key, [Case(f"accept_key({key!r})", (key,), hs.accept_key(key)) for key in ACCEPT_KEYS],
              mistake=_accept_mistake)
    # live: the value a real server (websockets) sends for a fresh key
    import wskit

    with wskit.EchoServer(name="exercise-accept") as srv, wskit.connect(srv.url) as client:
        key, accept = client.handshake.request.key, client.handshake.response.headers.get("Sec-WebSocket-Accept")
        run_cases(accept_key, [Case(f"the live server's answer to key {key!r}", (key,), accept,
                                    "your value differs from what the live server sent")])
    return f"{len(ACCEPT_KEYS)} keys right, and it matches a live server's answer for a fresh key"


register(Exercise(
    name="accept_key",
    notebook="02",
    title="compute Sec-WebSocket-Accept from a Sec-WebSocket-Key",
    task="**Exercise 1: the accept key.** Write `accept_key(key)`, which returns the `Sec-WebSocket-Accept` value a "
         "server sends for a `Sec-WebSocket-Key` (section 3 did it for one key). The check tries hidden keys and "
         "compares with a live server's answer for a fresh key.",
    function="accept_key",
    solution='''import base64
import hashlib

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept value a server answers to this Sec-WebSocket-Key."""
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()  # the raw 20 bytes
    return base64.b64encode(digest).decode("ascii")''',
    hints=(
        "Three steps: glue the key (as received, 24 characters) and the GUID together; SHA-1 that string's bytes; "
        "base64 the result.",
        "hashlib.sha1(text.encode('ascii')) gives a hash object: .digest() is the raw 20 bytes, .hexdigest() is 40 "
        "hex characters. Which one does base64 take?",
        "base64.b64encode(...) returns bytes; the header value is a str: .decode('ascii').",
    ),
    checker=_check_accept_key,
))

# --- what_is_wrong: a client's check of the 101 ---------------------------------------------

RESPONSE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
_GOOD_ACCEPT = hs.accept_key(RESPONSE_KEY)


def _response(*lines: str, status: str = "HTTP/1.1 101 Switching Protocols") -> bytes:
    return ("\r\n".join([status, *lines]) + "\r\n\r\n").encode()


_BASE = ("Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Accept: {_GOOD_ACCEPT}")

#: (label, response bytes, the field at fault or None, the mistake a wrong verdict reveals)
RESPONSES: list[tuple[str, bytes, str | None, str]] = [
    ("a valid 101", _response(*_BASE), None,
     "a valid response was refused"),
    ("a 200 OK with every WebSocket header", _response(*_BASE, status="HTTP/1.1 200 OK"), "status",
     "check the status first: only 101 Switching Protocols switches protocols"),
    ("no Upgrade header", _response(*_BASE[1:]), "Upgrade",
     "the Upgrade header was not checked"),
    ("Connection: keep-alive", _response(_BASE[0], "Connection: keep-alive", _BASE[2]), "Connection",
     "the Connection header must contain the token 'upgrade'"),
    ("an accept value for another key", _response(*_BASE[:2], f"Sec-WebSocket-Accept: {hs.accept_key(ACCEPT_KEYS[1])}"),
     "Sec-WebSocket-Accept", "the accept value must be computed from the key *you* sent and compared"),
    ("the key itself echoed as the accept value", _response(*_BASE[:2], f"Sec-WebSocket-Accept: {RESPONSE_KEY}"),
     "Sec-WebSocket-Accept", "the accept value must be base64(SHA-1(key + GUID)), not the key"),
    ("a subprotocol the client never offered", _response(*_BASE, "Sec-WebSocket-Protocol: chat"),
     "Sec-WebSocket-Protocol", "a server may only pick a subprotocol the client offered (it offered none)"),
    ("header names and values in other cases",
     _response("upgrade: WebSocket", "CONNECTION: upgrade", f"sec-websocket-accept: {_GOOD_ACCEPT}"), None,
     "header names and the Upgrade/Connection tokens are case-insensitive (the accept value is not)"),
    ("Connection with a list of tokens, and extra headers",
     _response("Server: demo", _BASE[0], "Connection: keep-alive, Upgrade", _BASE[2], "Date: Thu, 26 Nov 2026"),
     None, "Connection is a comma-separated list: 'keep-alive, Upgrade' contains upgrade"),
    ("an accept value in another case", _response(*_BASE[:2], f"Sec-WebSocket-Accept: {_GOOD_ACCEPT.lower()}"),
     "Sec-WebSocket-Accept", "base64 is case-sensitive: compare the accept value exactly"),
]


def _verdict_right(got: Any, fault: str | None) -> bool:
    if fault is None:
        return got is None
    return isinstance(got, str) and got.strip().lower() == fault.lower()


def _verdict_mistake(case: Case, got: Any) -> str:
    if case.expected is None or got is None:
        return case.mistake
    return f"the first problem is the {case.expected} field (check them in the order of RFC 6455 §4.1)"


def _check_what_is_wrong(what_is_wrong: Any) -> str:
    cases = [Case(f"{label}:\n{data.decode()}", (data, RESPONSE_KEY), fault,
                  mistake if fault is None else f"{label} was accepted: {mistake}")
             for label, data, fault, mistake in RESPONSES]
    run_cases(what_is_wrong, cases, right=_verdict_right, mistake=_verdict_mistake)
    # live: the 101 of a real server
    import wskit

    with wskit.EchoServer(name="exercise-101") as srv, wskit.RawSocket(srv.url) as raw:
        raw.send(hs.build_request(f"127.0.0.1:{srv.port}", key=RESPONSE_KEY).to_bytes())
        head = raw.recv_head()
    run_cases(what_is_wrong, [Case(f"the live server's 101:\n{head.decode()}", (head, RESPONSE_KEY), None,
                                   "a real server's valid 101 was refused")], right=_verdict_right)
    broken = sum(fault is not None for _, _, fault, _ in RESPONSES)
    return f"{len(RESPONSES)} responses judged right ({broken} of them broken), and a live server's 101 accepted"


register(Exercise(
    name="what_is_wrong",
    notebook="02",
    title="check a server's handshake response as a client must",
    task="**Exercise 2: spot the bad 101.** A client must refuse a response that does not prove the upgrade. Write "
         "`what_is_wrong(response, key)`: given the bytes of a server's response and the key the client sent "
         "(it offered no subprotocol), return `None` if it is a valid 101, else the name of the first field at "
         "fault: `\"status\"`, `\"Upgrade\"`, `\"Connection\"`, `\"Sec-WebSocket-Accept\"` or "
         "`\"Sec-WebSocket-Protocol\"`. The check runs it on ten responses (seven broken, each in its own way) and "
         "on a live server's 101, and shows you the first one your function misjudges.",
    function="what_is_wrong",
    solution='''import base64
import hashlib


def what_is_wrong(response: bytes, key: str) -> str | None:
    """None for a valid 101 answering `key`; else the first field at fault ("status", "Upgrade", ...)."""
    status_line, *lines = response.decode("latin-1").split("\\r\\n\\r\\n")[0].split("\\r\\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()

    def tokens(name):
        return [t.strip().lower() for t in headers.get(name, "").split(",")]

    if status_line.split(" ")[1:2] != ["101"]:
        return "status"
    if "websocket" not in tokens("upgrade"):
        return "Upgrade"
    if "upgrade" not in tokens("connection"):
        return "Connection"
    digest = hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    if headers.get("sec-websocket-accept") != base64.b64encode(digest).decode():
        return "Sec-WebSocket-Accept"
    if "sec-websocket-protocol" in headers:  # we offered none
        return "Sec-WebSocket-Protocol"
    return None''',
    hints=(
        "Split the head at CRLF: the first line is the status line, the others 'Name: value'. Store the names in "
        "lower case: header names are case-insensitive.",
        "Upgrade and Connection hold comma-separated tokens, compared case-insensitively: 'keep-alive, Upgrade' "
        "contains the token upgrade.",
        "Compute the accept value from the key yourself (exercise 1) and compare it exactly. Any "
        "Sec-WebSocket-Protocol is wrong here: the client offered none.",
    ),
    checker=_check_what_is_wrong,
))

# --- upgrade_request: by hand, to a live server ---------------------------------------------


def _offline_problem(data: bytes) -> str:
    """The first thing wrong with a request head, in words ('' if the codec finds nothing)."""
    if b"\r\n" not in data and b"\n" in data:
        return "lines end with \\n only: HTTP needs \\r\\n (CR LF) after every line"
    if not data.endswith(b"\r\n\r\n"):
        return "the head must end with an empty line: \\r\\n\\r\\n after the last header"
    try:
        request = hs.parse_request(data)
        hs.check_request(request)
    except hs.InvalidHandshake as error:
        return f"the {error.header} field: {error}"
    except Exception as error:  # InvalidHTTP and friends: name it
        return str(error)
    return ""


def _check_upgrade_request(upgrade_request: Any) -> str:
    import wskit

    from ..codec import frames as fr

    params = [p.name for p in inspect.signature(upgrade_request).parameters.values()
              if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(params) != 1:
        raise Mismatch("upgrade_request's parameters", "(host)", f"({', '.join(params)})",
                       "upgrade_request takes one argument: the host and port, e.g. '127.0.0.1:8765'")
    with wskit.EchoServer(name="exercise-upgrade") as srv:
        host = f"127.0.0.1:{srv.port}"
        data = upgrade_request(host)
        if isinstance(data, str):
            raise Mismatch(f"upgrade_request({host!r})", "bytes", data[:200], "return bytes: .encode() the text")
        if not isinstance(data, (bytes, bytearray)):
            raise Mismatch(f"upgrade_request({host!r})", "bytes", data, "return the bytes of the request")
        data = bytes(data)
        problem = _offline_problem(data)
        if problem:
            raise Mismatch(f"upgrade_request({host!r}) returned:\n{data.decode('latin-1')}",
                           "a request the server accepts", "a request with a problem", problem)
        with wskit.RawSocket(srv.url, timeout=3) as raw:
            raw.send(data)
            head = raw.recv_head()
            response = hs.parse_response(head)
            if response.status != 101:
                body = raw.recv_all().decode("utf-8", "replace")
                raise Mismatch(f"the live server's answer to:\n{data.decode('latin-1')}", 101,
                               f"{response.status} {response.reason} {body}".strip(),
                               "the server refused it: its answer says why")
            key = hs.parse_request(data).key or ""
            hs.check_response(response, key)
            raw.send_frame(fr.Frame(fr.Opcode.TEXT, b"it works").masked_with())
            expect("a message after the upgrade", b"it works", raw.recv_frame().payload)
        again = bytes(upgrade_request(host))
        if hs.parse_request(again).key == key:
            raise Mismatch("two calls of upgrade_request", "two different keys", f"the same key twice: {key}",
                           "a client makes a fresh random key for every connection: base64 of 16 os.urandom bytes")
    return "the live server answered 101 with the right accept value, and echoed a message"


register(Exercise(
    name="upgrade_request",
    notebook="02",
    title="write an Upgrade request by hand that a live server accepts",
    task="**Exercise 3: the request, by hand.** Write `upgrade_request(host)`, which returns the bytes of an "
         "Upgrade request for `/` (no `hs.build_request`: write the lines yourself). The check sends it on a raw "
         "TCP socket to a live server, which must answer 101, then passes a message over the new connection.",
    function="upgrade_request",
    solution='''import base64
import os


def upgrade_request(host: str) -> bytes:
    """The bytes of a WebSocket Upgrade request for "/" on `host` (e.g. "127.0.0.1:8765")."""
    key = base64.b64encode(os.urandom(16)).decode("ascii")  # fresh for every connection
    lines = [
        "GET / HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    return ("\\r\\n".join(lines) + "\\r\\n\\r\\n").encode("ascii")''',
    hints=(
        "Section 1 lists the request line and the five header fields. Join the lines with '\\r\\n' and end with an "
        "empty line.",
        "The key is base64 of 16 random bytes: base64.b64encode(os.urandom(16)).decode(). A fresh one each call.",
        "Return bytes: build the text, then .encode('ascii').",
    ),
    checker=_check_upgrade_request,
    timeout=15.0,
))
