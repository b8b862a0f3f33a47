"""Every exercise: its stub says "not yet", its reference solution passes, and common wrong answers fail with a
message that names the mistake."""

from __future__ import annotations

import linecache

import pytest

import wskit
from wskit import exercises as ex

pytestmark = pytest.mark.usefixtures("clean_kit", "progress_file")


def define(source: str, function: str):
    """Run a cell's ``source`` as a learner's cell would, and return the function it defines."""
    namespace = {"wskit": wskit, "ex": ex, "__name__": "__main__"}
    filename = f"<cell {function} {hash(source)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # as ipykernel does
    exec(compile(source, filename, "exec"), namespace)
    return namespace[function]


@pytest.mark.parametrize("name", list(ex.EXERCISES))
def test_the_stub_says_not_yet_without_raising(name):
    e = ex.exercise(name)
    result = ex.check(name, define(e.stub, e.function))
    assert result.status == "not yet", result.text()
    assert "not yet" in result.text() and f"ex.hint({name!r})" in result.text()
    assert wskit.live_objects() == []


@pytest.mark.parametrize("name", list(ex.EXERCISES))
def test_the_reference_solution_passes(name):
    e = ex.exercise(name)
    result = ex.check(name, define(e.solution, e.function))
    assert result.passed, result.text()
    assert wskit.live_objects() == []


def test_there_are_at_least_14_exercises_over_six_notebooks():
    assert len(ex.EXERCISES) >= 14
    assert {e.notebook for e in ex.EXERCISES.values()} == {"02", "03", "05", "07", "08", "11"}
    for e in ex.EXERCISES.values():
        assert e.hints and "NotImplementedError" in e.stub and f"ex.hint('{e.name}')" in e.stub


# --- the wrong answers learners write, and the mistake each check names ---------------------------------

WRONG = {
    "accept_key": [
        ("hex digest, base64", """
import base64, hashlib
def accept_key(key):
    return base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).hexdigest()
                            .encode()).decode()""", "hex digest"),
        ("no GUID", """
import base64, hashlib
def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode()).digest()).decode()""", "GUID is missing"),
        ("bytes", """
import base64, hashlib
def accept_key(key):
    return base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())""",
         "bytes instead of str"),
        ("decoded key", """
import base64, hashlib
def accept_key(key):
    raw = base64.b64decode(key) + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    return base64.b64encode(hashlib.sha1(raw).digest()).decode()""", "base64-decoded"),
        ("encodebytes", """
import base64, hashlib
def accept_key(key):
    return base64.encodebytes(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())\\
        .decode()""", "trailing newline"),
    ],
    "what_is_wrong": [
        ("never checks the accept value", """
def what_is_wrong(response, key):
    text = response.decode()
    if " 101 " not in text.split("\\r\\n")[0]:
        return "status"
    if "Upgrade: websocket" not in text:
        return "Upgrade"
    if "Connection: Upgrade" not in text:
        return "Connection"
    return None""", "accept value must be computed"),
        ("case-sensitive", """
import base64, hashlib
def what_is_wrong(response, key):
    lines = response.decode().split("\\r\\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if line)
    if lines[0].split()[1] != "101":
        return "status"
    if headers.get("Upgrade") != "websocket":
        return "Upgrade"
    if headers.get("Connection") != "Upgrade":
        return "Connection"
    accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    if headers.get("Sec-WebSocket-Accept") != accept.decode():
        return "Sec-WebSocket-Accept"
    if "Sec-WebSocket-Protocol" in headers:
        return "Sec-WebSocket-Protocol"
    return None""", "case-insensitive"),
        ("accepts everything", "def what_is_wrong(response, key):\n    return None\n", "only 101"),
        ("status not checked", """
def what_is_wrong(response, key):
    return None if b"Sec-WebSocket-Accept" in response else "Sec-WebSocket-Accept"
""", "only 101"),
    ],
    "upgrade_request": [
        ("LF only", """
import base64, os
def upgrade_request(host):
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET / HTTP/1.1\\nHost: {host}\\nUpgrade: websocket\\nConnection: Upgrade\\n"
            f"Sec-WebSocket-Key: {key}\\nSec-WebSocket-Version: 13\\n\\n").encode()""", "\\r\\n"),
        ("no blank line", """
import base64, os
def upgrade_request(host):
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET / HTTP/1.1\\r\\nHost: {host}\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
            f"Sec-WebSocket-Key: {key}\\r\\nSec-WebSocket-Version: 13\\r\\n").encode()""", "empty line"),
        ("no version", """
import base64, os
def upgrade_request(host):
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET / HTTP/1.1\\r\\nHost: {host}\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
            f"Sec-WebSocket-Key: {key}\\r\\n\\r\\n").encode()""", "Sec-WebSocket-Version"),
        ("a key that is not 16 bytes", """
def upgrade_request(host):
    return (f"GET / HTTP/1.1\\r\\nHost: {host}\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
            f"Sec-WebSocket-Key: hello\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n").encode()""",
         "Sec-WebSocket-Key"),
        ("the same key every time", """
def upgrade_request(host):
    return (f"GET / HTTP/1.1\\r\\nHost: {host}\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
            f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n").encode()""",
         "fresh random key"),
        ("str", """
def upgrade_request(host):
    return "GET / HTTP/1.1\\r\\n\\r\\n"
""", ".encode()"),
    ],
    "parse_header": [
        ("length read as signed", """
import struct
def parse_header(data):
    length, size = data[1] & 0x7F, 2
    if length == 126:
        (length,), size = struct.unpack("!h", data[2:4]), 4
    elif length == 127:
        (length,), size = struct.unpack("!q", data[2:10]), 10
    masked = bool(data[1] & 0x80)
    return {"fin": bool(data[0] & 0x80), "opcode": data[0] & 0x0F, "masked": masked, "length": length,
            "header_size": size + 4 * masked}""", "signed"),
        ("mask bit in the length", """
def parse_header(data):
    masked = bool(data[1] & 0x80)
    return {"fin": bool(data[0] & 0x80), "opcode": data[0] & 0x0F, "masked": masked, "length": data[1],
            "header_size": 2 + 4 * masked}""", "MASK bit is not part"),
        ("little-endian 16-bit length", """
def parse_header(data):
    length, size = data[1] & 0x7F, 2
    if length == 126:
        length, size = int.from_bytes(data[2:4], "little"), 4
    elif length == 127:
        length, size = int.from_bytes(data[2:10], "big"), 10
    masked = bool(data[1] & 0x80)
    return {"fin": bool(data[0] & 0x80), "opcode": data[0] & 0x0F, "masked": masked, "length": length,
            "header_size": size + 4 * masked}""", "little-endian"),
        ("opcode from the high nibble", """
def parse_header(data):
    masked = bool(data[1] & 0x80)
    return {"fin": bool(data[0] & 0x80), "opcode": data[0] >> 4, "masked": masked, "length": data[1] & 0x7F,
            "header_size": 2 + 4 * masked}""", "LOW four bits"),
        ("the key forgotten in the header size", """
def parse_header(data):
    length, size = data[1] & 0x7F, 2
    if length == 126:
        length, size = int.from_bytes(data[2:4], "big"), 4
    elif length == 127:
        length, size = int.from_bytes(data[2:10], "big"), 10
    return {"fin": bool(data[0] & 0x80), "opcode": data[0] & 0x0F, "masked": bool(data[1] & 0x80),
            "length": length, "header_size": size}""", "4-byte masking key"),
    ],
    "unmask": [
        ("wrong offset", """
def unmask(payload, key):
    return bytes(b ^ key[(i + 1) % 4] for i, b in enumerate(payload))""", "wrong offset"),
        ("zip", """
def unmask(payload, key):
    return bytes(b ^ k for b, k in zip(payload, key))""", "zip() stops at 4"),
        ("key reversed", """
def unmask(payload, key):
    return bytes(b ^ key[3 - i % 4] for i, b in enumerate(payload))""", "reversed"),
        ("a list", """
def unmask(payload, key):
    return [b ^ key[i % 4] for i, b in enumerate(payload)]""", "return bytes"),
    ],
    "close_frame": [
        ("little-endian code", """
import struct
def close_frame(code, reason=""):
    payload = struct.pack("<H", code) + reason.encode()
    return bytes([0x88, len(payload)]) + payload""", "little-endian"),
        ("length in characters", """
def close_frame(code, reason=""):
    return bytes([0x88, len(reason) + 2]) + code.to_bytes(2, "big") + reason.encode()""", "counts characters"),
        ("no FIN", """
def close_frame(code, reason=""):
    payload = code.to_bytes(2, "big") + reason.encode()
    return bytes([0x08, len(payload)]) + payload""", "FIN bit is missing"),
        ("no refusal", """
def close_frame(code, reason=""):
    payload = code.to_bytes(2, "big") + reason.encode()
    return bytes([0x88, len(payload)]) + payload""", "125"),
        ("code as text", """
def close_frame(code, reason=""):
    payload = str(code).encode() + reason.encode()
    return bytes([0x88, len(payload)]) + payload""", "written as text"),
    ],
    "reassemble": [
        ("each fragment decoded", """
def reassemble(frames):
    out, parts, kind = [], [], None
    for f in frames:
        if f.opcode >= 8:
            if not f.fin:
                raise ValueError("fragmented control frame")
            continue
        kind = kind or f.opcode
        parts.append(f.payload.decode() if kind == 1 else f.payload)
        if f.fin:
            out.append("".join(parts) if kind == 1 else b"".join(parts))
            parts, kind = [], None
    return out""", "not each fragment"),
        ("ping payload kept", """
def reassemble(frames):
    out, parts, kind = [], [], None
    for f in frames:
        if f.opcode >= 8 and f.fin and kind is None:
            continue
        kind = kind or f.opcode
        parts.append(f.payload)
        if f.fin:
            data = b"".join(parts)
            out.append(data.decode() if kind == 1 else data)
            parts, kind = [], None
    return out""", "ping's payload"),
        ("fragmented ping accepted", """
def reassemble(frames):
    out, parts, kind = [], [], None
    for f in frames:
        if f.opcode >= 8:
            continue
        if f.opcode == 0 and kind is None:
            raise ValueError("orphan continuation")
        if f.opcode != 0 and kind is not None:
            raise ValueError("message still open")
        kind = kind or f.opcode
        parts.append(f.payload)
        if f.fin:
            data = b"".join(parts)
            out.append(data.decode() if kind == 1 else data)
            parts, kind = [], None
    return out""", "control frame"),
        ("type from the last frame", """
def reassemble(frames):
    out, parts = [], []
    for f in frames:
        if f.opcode >= 8:
            if not f.fin:
                raise ValueError("fragmented control frame")
            continue
        parts.append(f.payload)
        if f.fin:
            data = b"".join(parts)
            out.append(data.decode() if f.opcode == 1 else data)
            parts = []
    return out""", "FIRST frame"),
    ],
    "sio_login": [
        ("no refusal", """
def setup_login(srv):
    @srv.on("connect")
    async def connect(sid, environ, auth):
        await srv.sio.emit("welcome", f"hello {(auth or {}).get('name')}", to=sid)""", "SocketIORefused"),
        ("welcome to everyone", """
def setup_login(srv):
    @srv.on("connect")
    async def connect(sid, environ, auth):
        if not (auth or {}).get("name"):
            raise wskit.SocketIORefused("who are you?")
        await srv.sio.emit("welcome", f"hello {auth['name']}")""", "to=sid"),
        ("no welcome", """
def setup_login(srv):
    @srv.on("connect")
    async def connect(sid, environ, auth):
        if not (auth or {}).get("name"):
            raise wskit.SocketIORefused("who are you?")""", "emit 'welcome'"),
    ],
    "sio_rooms": [
        ("broadcast includes the sender", """
def setup_rooms(srv):
    @srv.on("join")
    async def join(sid, room):
        await srv.sio.enter_room(sid, room)
        return f"joined {room}"
    @srv.on("say")
    async def say(sid, room, text):
        await srv.sio.emit("said", {"room": room, "text": text}, room=room)""", "includes the sender"),
        ("to everyone", """
def setup_rooms(srv):
    @srv.on("join")
    async def join(sid, room):
        await srv.sio.enter_room(sid, room)
        return f"joined {room}"
    @srv.on("say")
    async def say(sid, room, text):
        await srv.sio.emit("said", {"room": room, "text": text}, skip_sid=sid)""", "room=room"),
        ("no acknowledgement", """
def setup_rooms(srv):
    @srv.on("join")
    async def join(sid, room):
        await srv.sio.enter_room(sid, room)
    @srv.on("say")
    async def say(sid, room, text):
        await srv.sio.emit("said", {"room": room, "text": text}, room=room, skip_sid=sid)""", "return value"),
    ],
    "decode_packet": [
        ("one-digit ack id", """
import json
E = ["OPEN", "CLOSE", "PING", "PONG", "MESSAGE", "UPGRADE", "NOOP"]
S = ["CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR"]
def decode_packet(text):
    if text[0] != "4":
        return {"engineio": E[int(text[0])], "socketio": None, "namespace": None, "ack_id": None, "data": text[1:]}
    rest, ns = text[2:], "/"
    if rest.startswith("/"):
        ns, _, rest = rest.partition(",")
    ack = None
    if rest[:1].isdigit():
        ack, rest = int(rest[0]), rest[1:]
    return {"engineio": "MESSAGE", "socketio": S[int(text[1])], "namespace": ns, "ack_id": ack,
            "data": json.loads(rest) if rest else None}""", "several digits"),
        ("no namespace", """
import json
E = ["OPEN", "CLOSE", "PING", "PONG", "MESSAGE", "UPGRADE", "NOOP"]
S = ["CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR"]
def decode_packet(text):
    if text[0] != "4":
        return {"engineio": E[int(text[0])], "socketio": None, "namespace": None, "ack_id": None, "data": text[1:]}
    rest = text[2:]
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return {"engineio": "MESSAGE", "socketio": S[int(text[1])], "namespace": "/",
            "ack_id": int(rest[:digits]) if digits else None,
            "data": json.loads(rest[digits:]) if rest[digits:] else None}""", "JSONDecodeError"),
        ("ack id 0 by default", """
import json
E = ["OPEN", "CLOSE", "PING", "PONG", "MESSAGE", "UPGRADE", "NOOP"]
S = ["CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR"]
def decode_packet(text):
    if text[0] != "4":
        return {"engineio": E[int(text[0])], "socketio": None, "namespace": None, "ack_id": None, "data": text[1:]}
    rest, ns = text[2:], "/"
    if rest.startswith("/"):
        ns, _, rest = rest.partition(",")
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return {"engineio": "MESSAGE", "socketio": S[int(text[1])], "namespace": ns,
            "ack_id": int(rest[:digits] or 0), "data": json.loads(rest[digits:]) if rest[digits:] else None}""",
         "None, not 0"),
        ("PING and PONG swapped", """
import json
E = ["OPEN", "CLOSE", "PONG", "PING", "MESSAGE", "UPGRADE", "NOOP"]
def decode_packet(text):
    return {"engineio": E[int(text[0])], "socketio": None, "namespace": None, "ack_id": None, "data": text[1:]}
""", "Engine.IO types"),
    ],
    "unit_test": [
        ("asserts nothing", """
def test_recipients(Rooms):
    rooms = Rooms()
    rooms.join("alice", "lobby")
    rooms.join("bob", "lobby")
    rooms.recipients("alice", "lobby")""", "does not look at who receives"),
        ("only checks that bob is there", """
def test_recipients(Rooms):
    rooms = Rooms()
    rooms.join("alice", "lobby")
    rooms.join("bob", "lobby")
    assert "bob" in rooms.recipients("alice", "lobby")""", "does not look at who receives"),
        ("expects the sender", """
def test_recipients(Rooms):
    rooms = Rooms()
    rooms.join("alice", "lobby")
    rooms.join("bob", "lobby")
    assert rooms.recipients("alice", "lobby") == ["alice", "bob"]""", "fails on working code"),
    ],
    "integration_test": [
        ("only the happy path", """
def test_chat(url):
    alice, bob = wskit.SocketIOClient(url), wskit.SocketIOClient(url)
    alice.call("join", "lobby")
    bob.call("join", "lobby")
    alice.emit("say", "lobby", "hi")
    assert bob.recv("said", timeout=2)[1]["text"] == "hi\"""", "ANOTHER room"),
        ("expects the sender to get it", """
def test_chat(url):
    alice = wskit.SocketIOClient(url)
    alice.call("join", "lobby")
    alice.emit("say", "lobby", "hi")
    assert alice.recv("said", timeout=1)""", "working server"),
        ("no clients at all", """
def test_chat(url):
    assert url.startswith("http")""", "ANOTHER room"),
    ],
    "load_assertions": [
        ("the mean", """
def check_load(result):
    assert result.lost == 0 and result.out_of_order == 0 and not result.errors
    assert result.latency.get_mean_value() / 1000 < 250""", "not the mean"),
        ("lost only", """
def check_load(result):
    assert result.lost == 0""", "out_of_order"),
        ("too strict", """
def check_load(result):
    assert result.percentile(100) < 0.001""", "a good run must pass"),
        ("errors ignored", """
def check_load(result):
    assert result.lost == 0 and result.out_of_order == 0 and result.percentile(99) < 250""", "errors"),
    ],
    "origin_check": [
        ("startswith", """
def origin_allowed(origin):
    return bool(origin) and origin.startswith(("https://bank.example", "https://app.bank.example"))""", "prefix"),
        ("endswith", """
def origin_allowed(origin):
    return bool(origin) and origin.endswith("bank.example")""", "endswith"),
        ("substring", """
def origin_allowed(origin):
    return origin is not None and "bank.example" in origin""", "substring"),
        ("None allowed", """
def origin_allowed(origin):
    return origin in (None, "https://bank.example", "https://app.bank.example")""", "no Origin header"),
    ],
    "token_check": [
        ("== comparison", """
import urllib.parse
def token_verdict(headers, path):
    lower = {k.lower(): v for k, v in headers.items()}
    scheme, _, token = lower.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("token", [None])[0]
    if token is None:
        return 401
    return None if token == "open-sesame" else 403""", "compare_digest"),
        ("403 for a missing token", """
def token_verdict(headers, path):
    return None if headers.get("Authorization") == "Bearer open-sesame" else 403""", "401"),
        ("startswith", """
import hmac, urllib.parse
def token_verdict(headers, path):
    lower = {k.lower(): v for k, v in headers.items()}
    scheme, _, token = lower.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("token", [None])[0]
    if token is None:
        return 401
    return None if hmac.compare_digest(token[:11], "open-sesame") else 403""", "whole token"),
        ("case-sensitive header name", """
import hmac, urllib.parse
def token_verdict(headers, path):
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("token", [None])[0]
    if token is None:
        return 401
    return None if hmac.compare_digest(token, "open-sesame") else 403""", "case-insensitive"),
        ("naive query split", """
import hmac
def token_verdict(headers, path):
    lower = {k.lower(): v for k, v in headers.items()}
    scheme, _, token = lower.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        token = path.split("?token=")[1] if "?token=" in path else None
    if token is None:
        return 401
    return None if hmac.compare_digest(token, "open-sesame") else 403""", "parse_qs"),
    ],
    "nginx_location": [
        ("proxy_pass alone", """
def websocket_location(backend):
    return "location / { proxy_pass http://%s; }" % backend""", "proxy_http_version 1.1"),
        ("no hop-by-hop headers", """
def websocket_location(backend):
    return "location / { proxy_pass http://%s; proxy_http_version 1.1; }" % backend""", "hop-by-hop"),
        ("no X-Forwarded-For", """
def websocket_location(backend):
    return f'''location / {{
    proxy_pass http://{backend};
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_read_timeout 3600s;
}}'''""", "X-Forwarded-For $proxy_add_x_forwarded_for"),
        ("the default read timeout", """
HEADERS = ("Upgrade $http_upgrade", 'Connection "upgrade"', "X-Forwarded-For $remote_addr")
def websocket_location(backend):
    lines = [f"proxy_pass http://{backend};", "proxy_http_version 1.1;"]
    lines += [f"proxy_set_header {header};" for header in HEADERS]
    return 'location / {\\n' + '\\n'.join(lines) + '\\n}\\n'""", "default proxy_read_timeout is 60 s"),
        ("a directive nginx does not know", """
def websocket_location(backend):
    return "location / { proxy_pass http://%s; proxy_websocket on; }" % backend""",
         'unknown directive "proxy_websocket"'),
    ],
}


def _cases():
    for name, wrongs in WRONG.items():
        for label, source, words in wrongs:
            yield pytest.param(name, source, words, id=f"{name}-{label}")


def test_every_exercise_has_at_least_three_wrong_answers():
    assert set(WRONG) == set(ex.EXERCISES)
    assert all(len(wrongs) >= 3 for wrongs in WRONG.values())


@pytest.mark.parametrize(("name", "source", "words"), list(_cases()))
def test_a_common_wrong_answer_fails_and_the_mistake_is_named(name, source, words):
    e = ex.exercise(name)
    result = ex.check(name, define(source, e.function))
    assert result.status == "failed", result.text()
    assert words in result.text(), result.text()
    assert wskit.live_objects() == []


@pytest.mark.parametrize("timeout", ["3600", "1h", "60m", '"1h 30m"', "2d"])
def test_the_nginx_location_takes_every_spelling_nginx_takes_on_one_line(timeout):
    block = ("location / { proxy_pass http://%s; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; "
             "proxy_set_header Connection $connection_upgrade; "
             f"proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_read_timeout {timeout}; }}")
    source = f"BLOCK = {block!r}\n\ndef websocket_location(backend):\n    return BLOCK % backend\n"
    result = ex.check("nginx_location", define(source, "websocket_location"))
    assert result.passed, result.text()
