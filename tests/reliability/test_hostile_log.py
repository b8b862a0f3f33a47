"""A hostile peer against the traffic log: big handshakes, long paths, secrets; each bounded, each answered.

These extend the bad-input catalogue of ``test_bad_input.py`` with what issue 20 found: the server keeps a bounded
summary of each handshake (never whole headers), whether it accepted or refused it, and a bystander keeps talking.
"""

from __future__ import annotations

import gc
import socket
import time
import tracemalloc

import pytest

import wskit
from wskit.codec import handshake as hs
from wskit.live import log as logmod

pytestmark = pytest.mark.usefixtures("clean_kit")

LINES, LINE = 120, 8000  # inside websockets' limits: 128 header lines, 8 KiB each


def big_handshake(port: int, path: str = "/", **headers: str) -> bytes:
    request = hs.build_request(f"127.0.0.1:{port}", path=path)
    fields = [*request.headers.items(), *headers.items(), *[(f"X-Pad-{i}", "p" * LINE) for i in range(LINES)]]
    return hs.Request("GET", path, hs.Headers(fields)).to_bytes()


def send_and_read_status(port: int, data: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
    return int(head.split(b" ", 2)[1])


def grown_by(action) -> float:
    """MiB still held (traced by tracemalloc, every thread) after ``action()`` and a collection."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        action()
        gc.collect()
        return (tracemalloc.get_traced_memory()[0] - before) / 2**20
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("accepted", [False, True], ids=["refused", "accepted"])
def test_a_hundred_1_mb_handshakes_grow_the_server_by_less_than_10_mb(accepted):
    srv = wskit.EchoServer(token="sesame")
    bystander = wskit.connect(srv.url + "?token=sesame", name="bystander")
    auth = {"Authorization": "Bearer sesame" if accepted else "Bearer wrong"}
    request = big_handshake(srv.port, **auth)
    assert len(request) > 960_000

    def attack():
        for _ in range(100):
            assert send_and_read_status(srv.port, request) == (101 if accepted else 403)
        bystander.send("still there?")
        assert bystander.recv() == "still there?"
        srv.log.wait_for(lambda r: r.opcode == ("CLOSED" if accepted else "REJECTED") and r.conn == 101)

    grown = grown_by(attack)
    print(f"100 {'accepted' if accepted else 'refused'} 1 MB handshakes: the server grew by {grown:.2f} MiB")
    assert grown < 10
    last = srv.log.handshakes[-1]
    assert last.omitted_headers == LINES and last.omitted_bytes >= LINES * LINE
    assert last.request.headers.get("Authorization") == f"Bearer {logmod.REDACTED}"


def test_the_open_record_keeps_a_bounded_path():
    srv = wskit.EchoServer()
    path = "/" + "a" * 8000 + "?token=secret"
    with wskit.connect(srv.url.rstrip("/") + path, name="long") as client:
        opened = srv.log.wait_for(lambda r: r.opcode == "OPEN")
        assert len(opened.info) <= logmod.MAX_TARGET
        assert len(client.log.wait_for(lambda r: r.opcode == "OPEN").info) <= logmod.MAX_TARGET
        assert len(srv.log.handshakes[-1].request.target) <= logmod.MAX_TARGET


def test_a_flood_of_refused_handshakes_keeps_the_handshake_log_bounded():
    srv = wskit.EchoServer(origins=["https://friend.example"])
    request = big_handshake(srv.port, Origin="https://evil.example")
    started = time.monotonic()
    for _ in range(300):
        assert send_and_read_status(srv.port, request) == 403
    assert time.monotonic() - started < 60
    srv.log.wait_for(lambda r: r.opcode == "REJECTED" and r.conn == 300)
    assert srv.log.held_bytes <= srv.log.max_bytes + srv.log.max_handshake_bytes
    assert all(h.response.status == 403 for h in srv.log.handshakes)


def test_a_handshake_full_of_secret_words_is_summarized_in_linear_time():
    """The server redacts the request line and the headers it keeps on its loop: a path and headers of 8 KiB runs of
    secret words once held the loop for a second a handshake (the redaction backtracked). A bystander talks on."""
    srv = wskit.EchoServer()
    bystander = wskit.connect(srv.url, name="bystander")
    words = "token" * 1600 + "&="  # a run of name characters full of secret words, and no "=" right after it
    base = hs.build_request(f"127.0.0.1:{srv.port}", path="/?" + words)
    fields = [*base.headers.items(), ("User-Agent", words), ("Via", words), ("X-Forwarded-For", words),
              ("Forwarded", words), ("X-Forwarded-Host", words)]
    request = hs.Request("GET", base.target, hs.Headers(fields)).to_bytes()
    started = time.monotonic()
    for _ in range(20):
        assert send_and_read_status(srv.port, request) == 101
        bystander.send("still there?")
        assert bystander.recv() == "still there?"
    elapsed = time.monotonic() - started
    print(f"20 handshakes of secret words: {elapsed:.2f} s")
    assert elapsed < 5  # about 0.15 s here; 20 s before
    assert srv.log.handshakes[-1].request.headers.get("User-Agent").startswith("token")
