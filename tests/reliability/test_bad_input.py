"""The bad-input catalogue: malformed handshakes and frames, each sent on a raw socket to a live server.

Every case must get its RFC answer (an HTTP status, or a close frame with a code, or a closed connection)
within a bounded time; meanwhile a bystander client keeps talking and loses nothing, and afterwards the server
still accepts new connections. The closing note of the issue lists these cases and what each got.
"""

from __future__ import annotations

import time

import pytest

import wskit
from wskit.codec import frames as fr
from wskit.codec import handshake as hs

ANSWER_WITHIN = 3.0  # seconds: every bad input is answered (or the socket closed) sooner


def handshake_cases(port: int) -> dict[str, tuple[bytes, int | None]]:
    good = hs.build_request(f"127.0.0.1:{port}", origin="https://friend.example")
    raw = good.to_bytes()
    headers = list(good.headers.items())
    return {
        "not GET (POST)": (raw.replace(b"GET", b"POST", 1), 405),
        "HTTP/1.0": (raw.replace(b"HTTP/1.1", b"HTTP/1.0", 1), 505),
        "no Upgrade": (good.without_header("Upgrade").to_bytes(), 426),
        "Upgrade: h2c": (good.with_header("Upgrade", "h2c").to_bytes(), 426),
        "no Connection": (good.without_header("Connection").to_bytes(), 426),
        "no key": (good.without_header("Sec-WebSocket-Key").to_bytes(), 400),
        "key of the wrong length": (good.with_header("Sec-WebSocket-Key", "c2hvcnQ=").to_bytes(), 400),
        "key that is not base64": (good.with_header("Sec-WebSocket-Key", "not base64 at all!!!!!==").to_bytes(), 400),
        "no version": (good.without_header("Sec-WebSocket-Version").to_bytes(), 400),
        "version 8": (good.with_header("Sec-WebSocket-Version", "8").to_bytes(), 426),
        "origin not allowed": (good.with_header("Origin", "https://evil.example").to_bytes(), 403),
        "over-long header line": (good.with_header("X-Long", "x" * 9000).to_bytes(), 431),
        "too many headers": (hs.Request("GET", "/", hs.Headers(headers + [(f"X-{i}", "y") for i in range(200)]))
                             .to_bytes(), 431),
        "not HTTP at all": (b"\x16\x03\x01\x00\xa5 a TLS hello, say\r\n\r\n", None),
    }


def frame_cases() -> dict[str, tuple[bytes, int]]:
    masked = fr.Frame.masked_with
    return {
        "unmasked client frame": (fr.encode(fr.Frame(fr.Opcode.TEXT, b"hi")), 1002),
        "reserved opcode 0x3": (fr.encode(masked(fr.Frame(3, b"x")), check=False), 1002),  # type: ignore[arg-type]
        "reserved opcode 0xB": (fr.encode(masked(fr.Frame(0xB, b"")), check=False), 1002),  # type: ignore[arg-type]
        "RSV1 with no extension": (fr.encode(masked(fr.Frame(fr.Opcode.TEXT, b"x", rsv1=True))), 1002),
        "RSV2 and RSV3": (fr.encode(masked(fr.Frame(fr.Opcode.TEXT, b"x", rsv2=True, rsv3=True))), 1002),
        "ping over 125 bytes": (fr.encode(masked(fr.Frame(fr.Opcode.PING, bytes(126))), check=False), 1002),
        "fragmented ping": (fr.encode(masked(fr.Frame(fr.Opcode.PING, b"x", fin=False)), check=False), 1002),
        "continuation with nothing to continue": (fr.encode(masked(fr.Frame(fr.Opcode.CONT, b"x"))), 1002),
        "new message inside a fragmented one": (
            fr.encode(masked(fr.Frame(fr.Opcode.TEXT, b"a", fin=False)))
            + fr.encode(masked(fr.Frame(fr.Opcode.BINARY, b"b"))), 1002),
        "invalid UTF-8 text": (fr.encode(masked(fr.Frame(fr.Opcode.TEXT, b"\xc3\x28"))), 1007),
        "invalid UTF-8 split across fragments": (
            fr.encode(masked(fr.Frame(fr.Opcode.TEXT, b"\xe2\x82", fin=False)))
            + fr.encode(masked(fr.Frame(fr.Opcode.CONT, b"("))), 1007),
        "invalid close code 1005": (fr.encode(masked(fr.Frame(fr.Opcode.CLOSE, b"\x03\xed"))), 1002),
        "invalid close code 999": (fr.encode(masked(fr.Frame(fr.Opcode.CLOSE, b"\x03\xe7"))), 1002),
        "close payload of 1 byte": (fr.encode(masked(fr.Frame(fr.Opcode.CLOSE, b"\x03"))), 1002),
        "close reason not UTF-8": (fr.encode(masked(fr.Frame(fr.Opcode.CLOSE, b"\x03\xe8\xff"))), 1007),
        "message over the size limit": (fr.encode(masked(fr.Frame(fr.Opcode.BINARY, bytes(2000)))), 1009),
        "fragments over the size limit": (
            fr.encode(masked(fr.Frame(fr.Opcode.BINARY, bytes(700), fin=False)))
            + fr.encode(masked(fr.Frame(fr.Opcode.CONT, bytes(700)))), 1009),
    }


@pytest.fixture(scope="module")
def server():
    wskit.stop_all()
    srv = wskit.EchoServer(name="catalogue", origins=["https://friend.example", None], max_size=1024,
                           open_timeout=1)
    bystander = wskit.connect(srv.url, name="bystander", origin="https://friend.example")
    yield srv, bystander
    wskit.stop_all()


def still_talking(bystander, note: str) -> None:
    bystander.send(note)
    assert bystander.recv(timeout=2) == note  # nothing lost, nothing delayed past the timeout


@pytest.mark.parametrize("case", list(handshake_cases(1)), ids=str)
def test_malformed_handshakes(server, case):
    srv, bystander = server
    data, status = handshake_cases(srv.port)[case]
    after = srv.log.now()  # records are rebuilt on each read: tell the new refusal by its time, not its id
    started = time.monotonic()
    with wskit.RawSocket(srv.url, timeout=ANSWER_WITHIN) as raw:
        raw.send(data)
        answer = raw.recv_all()  # the server answers, then closes
    assert time.monotonic() - started < ANSWER_WITHIN
    if status is None:
        assert answer == b""  # not HTTP: the connection is dropped with no answer
    else:
        assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:80]
        response = hs.parse_response(answer)
        if case == "version 8":
            assert response.headers.get("Sec-WebSocket-Version") == "13"
    rejected = srv.log.wait_for(lambda r: r.opcode == "REJECTED" and r.time > after)  # logged, with its status
    assert rejected.code == status
    still_talking(bystander, f"after {case}")


@pytest.mark.parametrize("case", list(frame_cases()), ids=str)
def test_bad_frames_get_the_rfc_close_code(server, case):
    srv, bystander = server
    data, code = frame_cases()[case]
    started = time.monotonic()
    with wskit.RawSocket(srv.url, timeout=ANSWER_WITHIN) as raw:
        raw.handshake(origin="https://friend.example")
        raw.send(data)
        reply = raw.recv_frame()
        rest = raw.recv_all()  # then the server closes the TCP connection
    assert time.monotonic() - started < ANSWER_WITHIN
    assert reply.opcode is fr.Opcode.CLOSE
    assert fr.parse_close(reply.payload)[0] == code
    assert rest == b""
    still_talking(bystander, f"after {case}")


def test_a_handshake_slower_than_the_open_timeout_is_dropped(server):
    srv, bystander = server
    after = srv.log.now()  # records are rebuilt on each read: tell the new refusal by its time, not its id
    with wskit.RawSocket(srv.url, timeout=ANSWER_WITHIN) as raw:
        started = time.monotonic()
        raw.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # ... and the rest never comes
        assert raw.recv_all() == b""
        waited = time.monotonic() - started
    assert 0.8 < waited < ANSWER_WITHIN  # open_timeout=1
    note = srv.log.wait_for(lambda r: r.opcode == "REJECTED" and r.time > after)
    assert note.code is None and "no HTTP answer" in note.info
    still_talking(bystander, "after a dribbled handshake")


def test_the_catalogue_is_at_least_25_cases_and_the_server_still_accepts(server):
    assert len(handshake_cases(1)) + len(frame_cases()) + 1 >= 25
    srv, _ = server
    with wskit.connect(srv.url, origin="https://friend.example") as fresh:
        fresh.send("still accepting")
        assert fresh.recv() == "still accepting"
