"""RawSocket.recv_until: each byte read is searched about once (not the whole buffer again), and it is bounded."""

from __future__ import annotations

import pytest

import wskit
from wskit.live import raw as raw_module
from wskit.live.raw import RawSocket


class FakeSocket:
    """Hands out ``data`` in ``chunk``-byte reads, then end of stream (or a timeout if ``then_timeout``)."""

    def __init__(self, data: bytes, chunk: int, *, then_timeout: bool = False) -> None:
        self.data, self.chunk, self.then_timeout = data, chunk, then_timeout
        self.position = 0

    def recv(self, size: int) -> bytes:
        if self.position >= len(self.data) and self.then_timeout:
            raise TimeoutError("timed out")
        piece = self.data[self.position:self.position + min(size, self.chunk)]
        self.position += len(piece)
        return piece

    def sendall(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


class CountingBuffer(bytearray):
    """A buffer counting how many bytes ``find`` looks at."""

    searched = 0

    def find(self, sub, start=0, end=None):  # type: ignore[override]
        stop = len(self) if end is None else min(end, len(self))
        CountingBuffer.searched += max(0, stop - start)
        return super().find(sub, start, end) if end is not None else super().find(sub, start)


def fake_raw(monkeypatch, data: bytes, chunk: int, **options) -> RawSocket:
    def connect(self):
        self.sock = FakeSocket(data, chunk, **options)
        self.connect_time = 0.0

    monkeypatch.setattr(RawSocket, "_connect", connect)
    raw = RawSocket(("127.0.0.1", 9), timeout=0.1)
    CountingBuffer.searched = 0
    raw._buffer = CountingBuffer()
    return raw


def test_recv_until_searches_each_byte_about_once(monkeypatch):
    head = b"GET / HTTP/1.1\r\n" + b"X-Pad: " + b"a" * (256 * 1024) + b"\r\n\r\n"
    with fake_raw(monkeypatch, head + b"rest", chunk=512) as raw:
        assert raw.recv_head() == head
        assert raw.recv_all() == b"rest"
    # the old code searched the whole buffer after each 512-byte read: ~64 MB for this 256 KiB head
    assert CountingBuffer.searched <= 2 * len(head), CountingBuffer.searched


@pytest.mark.parametrize("split", [1, 2, 3])
def test_a_marker_split_between_two_reads_is_found(monkeypatch, split):
    head = b"x" * (512 - split) + b"\r\n\r\n"  # the first read ends inside the marker
    with fake_raw(monkeypatch, head + b"after", chunk=512) as raw:
        assert raw.recv_head() == head
        assert raw.recv_until(b"ter") == b"after"


def test_recv_until_stops_at_its_limit(monkeypatch):
    assert raw_module.MAX_UNTIL == 2**20
    with fake_raw(monkeypatch, b"a" * (2**20 + 4096), chunk=65536) as raw:
        with pytest.raises(raw_module.RawSocketOverflow, match=r"within the first 1048576 bytes.*MAX_UNTIL") as error:
            raw.recv_head()
        assert error.value.limit == 2**20 and isinstance(error.value, (wskit.LiveError, OSError))
        assert len(raw.received) <= 2**20 + 65536  # it stopped reading
        assert raw.recv_exactly(10) == b"a" * 10  # what it read stays buffered


def test_the_limit_counts_the_marker_too(monkeypatch):
    data = b"a" * 96 + b"\r\n\r\n" + b"b" * 50
    with fake_raw(monkeypatch, data, chunk=7) as raw:
        assert raw.recv_until(b"\r\n\r\n", limit=100) == data[:100]
    with fake_raw(monkeypatch, data, chunk=7) as raw:
        with pytest.raises(raw_module.RawSocketOverflow, match="first 99 bytes"):
            raw.recv_until(b"\r\n\r\n", limit=99)
        assert len(raw.received) < 99 + 7


def test_recv_until_still_reports_a_close_and_a_timeout(monkeypatch):
    with fake_raw(monkeypatch, b"no marker", chunk=4) as raw, pytest.raises(ConnectionError, match="closed before"):
        raw.recv_head()
    timeout = pytest.raises(TimeoutError, match=r"nothing more within 0.1 s \(9 bytes waiting unread\)")
    with fake_raw(monkeypatch, b"no marker", chunk=4, then_timeout=True) as raw, timeout:
        raw.recv_head()
