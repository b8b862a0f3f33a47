"""The traffic log every wskit server and client keeps.

A :class:`TrafficLog` holds :class:`Record` rows, one per message, control
frame or connection event, and :class:`Handshake` rows, one per opening
handshake (a bounded summary of its request and response, as
:mod:`wskit.codec.handshake` types). Records are added on the loop thread
while a cell reads them: the loop never waits for a reader (no lock on its
path), :meth:`TrafficLog.wait_for` lets a cell wait for a record instead of
sleeping (at a cost of the records that arrive while it waits, never a
rescan), and :meth:`TrafficLog.subscribe` lets a widget follow the traffic.

What a peer sends can be hostile, so the log is bounded in bytes (see
:class:`TrafficLog`) and secrets never enter it: query values such as
``?token=`` and the ``Authorization``, ``Cookie`` and ``Set-Cookie`` headers
are redacted where they are recorded (:func:`redact`), on both sides and
for accepted and refused handshakes alike.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from ..codec.handshake import Headers, Request, Response
from ..codec.kinds import CONTROL_KINDS, DATA_KINDS, RecordKind
from ..codec.redact import REDACT_WINDOW, REDACTED, redact, redact_bounded, redact_header
from ..codec.redact import bounded as _bounded

__all__ = [
    "CONTROL_OPCODES",
    "DATA_OPCODES",
    "REDACTED",
    "Handshake",
    "Record",
    "RecordKind",
    "TrafficLog",
    "redact",
    "redact_bounded",
    "redact_header",
    "summarize_request",
    "summarize_response",
]

#: The record kinds of messages (``MESSAGE``: an Engine.IO packet carrying Socket.IO) and of control frames.
DATA_OPCODES = (RecordKind.TEXT, RecordKind.BINARY, RecordKind.MESSAGE)
CONTROL_OPCODES = (RecordKind.PING, RecordKind.PONG, RecordKind.CLOSE)
_KINDS: dict[str, RecordKind] = dict(RecordKind.__members__)  # a name (or the member itself) → the member
ARROWS = {"sent": "→", "received": "←", "event": "•"}

#: Bytes a record costs besides its payload and info: the tuple, its float and ints, the deque slot (measured on
#: CPython 3.11-3.13: 180-290 bytes; rounded up so that :attr:`TrafficLog.max_bytes` is a true bound).
RECORD_OVERHEAD = 320

#: Limits of a handshake summary (see :func:`summarize_request`).
MAX_TARGET = 256
MAX_HEADER_VALUE = 256
MAX_KEPT_HEADERS = 24
MAX_BODY = 512

#: Headers a handshake summary keeps (the WebSocket ones, a proxy's, and a few the course shows); others are counted.
KEPT_HEADERS = frozenset(
    {
        "host", "upgrade", "connection", "origin", "user-agent", "server", "date", "content-type",
        "content-length", "www-authenticate", "authorization", "proxy-authorization", "cookie", "set-cookie",
        "sec-websocket-key", "sec-websocket-accept", "sec-websocket-version", "sec-websocket-protocol",
        "sec-websocket-extensions",
        # what a reverse proxy adds (notebook 11): who the client was and how it came in
        "forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "via",
    }
)

#: Headers whose value is a nonce the course computes with, never a secret: kept exactly as sent.
NONCE_HEADERS = frozenset({"sec-websocket-key", "sec-websocket-accept"})

def _summarize_headers(headers: Headers) -> tuple[Headers, int, int]:
    kept: list[tuple[str, str]] = []
    omitted = omitted_bytes = 0
    for name, value in headers:
        if name.lower() in KEPT_HEADERS and len(kept) < MAX_KEPT_HEADERS:
            if name.lower() not in NONCE_HEADERS:
                value = redact_bounded(redact_header(name, value), MAX_HEADER_VALUE)
            kept.append((_bounded(name, 64), _bounded(value, MAX_HEADER_VALUE)))
        else:
            omitted += 1
            omitted_bytes += len(name) + len(value) + 4  # "name: value\r\n"
    return Headers(kept), omitted, omitted_bytes


def summarize_request(request: Request) -> tuple[Request, int, int]:
    """A bounded, redacted copy of ``request``, and how many header lines (and bytes) it left out.

    The copy keeps the method, the target (redacted, at most ``MAX_TARGET`` characters), and at most
    ``MAX_KEPT_HEADERS`` lines of :data:`KEPT_HEADERS` (each value at most ``MAX_HEADER_VALUE`` characters,
    secrets redacted), whatever the peer sent.
    """
    headers, omitted, omitted_bytes = _summarize_headers(request.headers)
    target = redact_bounded(request.target, MAX_TARGET)
    return Request(_bounded(request.method, 16), target, headers, request.http_version), omitted, omitted_bytes


def summarize_response(response: Response) -> tuple[Response, int, int]:
    """A bounded, redacted copy of ``response`` (body at most ``MAX_BODY`` bytes), and what it left out."""
    headers, omitted, omitted_bytes = _summarize_headers(response.headers)
    body = response.body if len(response.body) <= MAX_BODY else response.body[: MAX_BODY - 3] + "…".encode()
    return (
        Response(response.status, _bounded(response.reason, 64), headers, body, response.http_version),
        omitted,
        omitted_bytes,
    )


def _text_cost(text: str | bytes | bytearray | memoryview | None) -> int:
    if text is None:
        return 0
    if isinstance(text, str) and not text.isascii():
        return 4 * len(text)  # CPython stores up to 4 bytes per character
    return len(text)


def _handshake_cost(request: Request, response: Response) -> int:
    cost = RECORD_OVERHEAD * 2 + 4 * (len(request.target) + len(response.reason)) + len(response.body)
    for message in (request, response):
        cost += sum(120 + 4 * (len(name) + len(value)) for name, value in message.headers)
    return cost


class Record(NamedTuple):
    """One row of a traffic log.

    Attributes:
        time: seconds since the log started.
        direction: ``"sent"``, ``"received"`` or ``"event"``.
        opcode: what the record is, a :class:`~wskit.codec.kinds.RecordKind` (a
            string enum: ``r.opcode == "TEXT"`` works): ``TEXT``, ``BINARY``,
            ``PING``, ``PONG``, ``CLOSE`` for frames; Engine.IO packet types
            (``MESSAGE``...) for Socket.IO; ``OPEN``, ``CLOSED``, ``REJECTED``,
            ``ERROR``, ``NOTE``, ``RECONNECTING`` for events.
        size: payload size in bytes (a fragmented message counts whole).
        data: the payload: ``str`` for text, ``bytes`` otherwise (only its
            start, for a message bigger than the log's ``max_data``).
        conn: the connection number on a server (1, 2, ...); 0 on a client.
        code: a close code, or the HTTP status of a rejected handshake.
        info: a close reason, an error's traceback, a note such as
            ``"3 frames"`` (at most the log's ``max_info`` characters).
    """

    time: float
    direction: str
    opcode: RecordKind
    size: int = 0
    data: str | bytes | None = None
    conn: int = 0
    code: int | None = None
    info: str = ""

    @property
    def is_data(self) -> bool:
        """A text or binary message."""
        return self.opcode in DATA_KINDS

    @property
    def is_control(self) -> bool:
        """A ping, pong or close frame."""
        return self.opcode in CONTROL_KINDS

    def preview(self, width: int = 48) -> str:
        """The payload (or event details) in one short line."""
        if self.opcode == RecordKind.CLOSE or self.direction == "event":
            lines = self.info.strip().splitlines() or [""]
            # a traceback says most in its last line; anything else in its first
            detail = lines[-1] if self.opcode == RecordKind.ERROR else lines[0]
            text = f"{'' if self.code is None else self.code} {detail}".strip()
        elif isinstance(self.data, bytes):
            text = self.data.hex(" ")
        elif self.data is not None:
            text = repr(self.data)
        else:
            text = ""
        return text if len(text) <= width else text[: width - 1] + "…"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (bytes as hex)."""
        row: dict[str, object] = self._asdict()
        if isinstance(self.data, bytes):
            row["data"] = self.data.hex()
            row["data_encoding"] = "hex"
        return row


@dataclasses.dataclass(frozen=True, slots=True)
class Handshake:
    """One opening handshake: what the client asked, what the server answered (a bounded summary).

    Attributes:
        time: seconds since the log started, when the response was seen.
        conn: the connection number (0 on a client).
        request: the Upgrade request: method, target (redacted, at most 256 characters), the WebSocket
            headers and a few others (secrets redacted); see :func:`summarize_request`.
        response: the server's answer (``101`` or a refusal), summarized the same way.
        omitted_headers: header lines of both messages the summary left out.
        omitted_bytes: their size on the wire.
    """

    time: float
    conn: int
    request: Request
    response: Response
    omitted_headers: int = 0
    omitted_bytes: int = 0

    @property
    def accepted(self) -> bool:
        """The server answered 101 Switching Protocols."""
        return self.response.status == 101


_BATCH = 0.002  # seconds a waiting cell lets records gather after a wake (its added latency, at most)


class _Waiter:
    """A cell blocked in :meth:`TrafficLog.wait_for`: the loop hands it each new entry, no lock, no rescan."""

    __slots__ = ("event", "overflow", "pending")

    LIMIT = 100_000  # entries kept for a slow reader; past it, it rescans what the log still holds

    def __init__(self) -> None:
        self.pending: deque[Any] = deque()
        self.event = threading.Event()
        self.overflow = False

    def push(self, entry: Any) -> None:
        if len(self.pending) < self.LIMIT:
            self.pending.append(entry)
        else:
            self.overflow = True
        if not self.event.is_set():
            self.event.set()


class TrafficLog:
    """Thread-safe log of the traffic of one server or client, bounded in records and in bytes.

    Args:
        maxlen: records kept at most; older ones are dropped (and counted in
            :attr:`dropped`) so a long run cannot exhaust memory.
        max_data: payload bytes (or characters) kept per record; a record
            of a bigger message keeps its start, and its ``size`` tells the whole.
        max_info: characters of ``info`` kept per record (a long traceback
            keeps its start and its end).
        max_bytes: what the records may hold in all, in bytes, counted as
            ``RECORD_OVERHEAD`` (320) + payload + info per record (4 bytes
            per character for non-ASCII text): older records are dropped to
            stay under it.
        max_handshake_bytes: the same bound for the handshake summaries.

    The true bound: a log holds at most ``max_bytes + max_handshake_bytes``
    (with the defaults 4 MiB + 1 MiB) whatever its peers send. A handshake
    summary (:func:`summarize_request`) counts at most about 64 KB (a usual
    one about 2 KB), a record at most ``RECORD_OVERHEAD + 4 * (max_data +
    max_info)`` bytes (about 9 KB with the defaults; a frame about 600 B).
    Whatever the number of connections: an idle one adds its ``OPEN`` record
    and handshake summary, inside these bounds, and a small object on its own
    protocol (under 256 B, freed with it; ``tests/live/test_log_memory.py``).
    """

    def __init__(
        self,
        maxlen: int = 10_000,
        max_data: int = 256,
        *,
        max_info: int = 2048,
        max_bytes: int = 4 * 2**20,
        max_handshake_bytes: int = 2**20,
    ) -> None:
        self.max_data = max_data
        self.max_info = max_info
        self.max_bytes = max_bytes
        self.max_handshake_bytes = max_handshake_bytes
        #: What the records carry: ``"websocket"`` frames or ``"socket.io"`` Engine.IO packets.
        self.protocol = "websocket"
        self._records: deque[Any] = deque(maxlen=maxlen)
        self._held = 0  # bytes the records hold, as max_bytes counts them
        #: The latest handshakes, oldest first (as many as fit in ``max_handshake_bytes``).
        self.handshakes: deque[Handshake] = deque()
        self._handshake_costs: deque[int] = deque()
        self._handshakes_held = 0
        self.dropped = 0
        #: Bytes on the wire (handshake, frame headers, masks and payloads), all connections.
        self.bytes_sent = 0
        self.bytes_received = 0
        #: ``time.perf_counter()`` when the log started: record times count from here.
        self.started = time.perf_counter()
        self._lock = threading.Lock()  # for readers and (un)subscribing; the loop's writer never takes it
        self._waiters: tuple[_Waiter, ...] = ()  # replaced, never mutated: the writer iterates without a lock
        self._subscribers: tuple[tuple[Callable[[Any], None], bool], ...] = ()  # (callback, raw)
        self._watchers = 0  # waiters + subscribers: one attribute for each append to test

    @property
    def maxlen(self) -> int:
        """Records kept at most."""
        return self._records.maxlen  # type: ignore[return-value]

    @property
    def held_bytes(self) -> int:
        """What the records and handshakes hold now, in bytes, as the bounds count them."""
        return self._held + self._handshakes_held

    # -- writing (loop thread) --

    def now(self) -> float:
        """Seconds since the log started."""
        return time.perf_counter() - self.started

    def _cost(self, entry: Any) -> int:
        if entry.__class__ is Record:
            return RECORD_OVERHEAD + _text_cost(entry.data) + _text_cost(entry.info)
        return RECORD_OVERHEAD + len(entry[4])

    def _make_room(self, cost: int) -> None:
        """Drop the oldest records until one more of ``cost`` bytes fits (called before an append)."""
        records = self._records
        while records and (len(records) >= records.maxlen or self._held + cost > self.max_bytes):
            self._held -= self._cost(records.popleft())
            self.dropped += 1

    def _append(self, entry: Any, cost: int) -> None:
        """Append a raw entry (of a message in one frame, see :meth:`_materialize`) or a record: the one way in."""
        records = self._records
        if len(records) >= records.maxlen or self._held + cost > self.max_bytes:
            self._make_room(cost)
            if not records.maxlen:  # TrafficLog(0) keeps counts only: the entry is not kept, so it holds nothing
                cost = 0
        records.append(entry)
        self._held += cost
        if self._watchers:
            self._wake(entry)

    def _bound_info(self, info: str) -> str:
        limit = self.max_info
        if len(info) <= limit:
            return info
        half = limit // 2
        room = max(0, limit - half - len(f"\n… ({len(info)} characters left out) …\n"))  # the note at its longest
        return f"{info[:room]}\n… ({len(info) - room - half} characters left out) …\n{info[-half:]}"

    def _redacted_info(self, info: str) -> str:
        """An event's info, redacted then cut. Past :data:`REDACT_WINDOW` characters only its start is read and
        kept (a tail cut from text never redacted could begin inside a secret whose name was cut away)."""
        if len(info) <= REDACT_WINDOW:
            return self._bound_info(redact(info))
        head = redact(info[:REDACT_WINDOW])[: self.max_info - 60]
        return f"{head}\n… ({len(info) - len(head)} characters left out)"

    def add(
        self,
        direction: str,
        opcode: RecordKind | str,
        size: int = 0,
        data: str | bytes | None = None,
        conn: int = 0,
        code: int | None = None,
        info: str = "",
    ) -> Record:
        """Append a record stamped with the current time; wake waiters and subscribers.

        An event's ``info`` is redacted (:func:`redact`); every ``info`` is cut to ``max_info``.

        Raises:
            ValueError: ``opcode`` is not a :class:`~wskit.codec.kinds.RecordKind` (or the name of one).
        """
        kind = _KINDS.get(opcode)
        if kind is None:
            raise ValueError(f"{opcode!r} is not a record kind; one of {', '.join(RecordKind)}")
        if data is not None and len(data) > self.max_data:
            data = data[: self.max_data]
        if data is not None and data.__class__ is not str and data.__class__ is not bytes:
            data = bytes(data)  # a bytearray or memoryview would keep (and follow) the whole buffer
        if info:
            info = self._redacted_info(info) if direction == "event" else self._bound_info(info)
        record = Record(time.perf_counter() - self.started, direction, kind, size, data, conn, code, info)
        self._append(record, RECORD_OVERHEAD + _text_cost(data) + _text_cost(info))
        return record

    def _materialize(self, entry: Any) -> Record:
        """A :class:`Record` from a raw entry of the per-frame path (or the record itself).

        The connections append ``(clock, direction, kind, size, payload start, conn)`` tuples for a message
        that came in one frame (the usual message; fragments and control frames go through :meth:`add`): the
        relative time, the text decoding and the copy to ``bytes`` are done here, when the log is read or a
        subscriber is called.
        """
        if entry.__class__ is Record:
            return entry
        clock, direction, opcode, size, data, conn = entry
        data = bytes(data)
        if opcode is RecordKind.TEXT:
            data = data.decode("utf-8", "replace")
        return Record(clock - self.started, direction, opcode, size, data, conn, None, "")

    def _update_watchers(self) -> None:
        self._watchers = len(self._waiters) + len(self._subscribers)

    def _wake(self, entry: Any) -> None:
        for waiter in self._waiters:
            waiter.push(entry)
        subscribers = self._subscribers  # read once: a cell may (un)subscribe meanwhile
        if not subscribers:
            return
        record = None
        for callback, raw in subscribers:
            if not raw and record is None:
                record = self._materialize(entry)  # once, and only for a subscriber that wants a record
            try:
                callback(entry if raw else record)
            except Exception as exc:  # a broken viewer must not break the traffic
                self.unsubscribe(callback)
                self.add("event", RecordKind.ERROR, info=f"log subscriber {callback!r} failed: {exc!r}")

    def record_of(self, entry: Any) -> Record:
        """The :class:`Record` of an entry a ``raw=True`` subscriber was given (call it off the loop thread)."""
        return self._materialize(entry)

    def add_handshake(self, conn: int, request: Request, response: Response) -> Handshake:
        """Append a handshake, as a bounded and redacted summary (:func:`summarize_request`)."""
        request, omitted_request, bytes_request = summarize_request(request)
        response, omitted_response, bytes_response = summarize_response(response)
        handshake = Handshake(
            self.now(), conn, request, response, omitted_request + omitted_response, bytes_request + bytes_response
        )
        cost = _handshake_cost(request, response)
        with self._lock:
            while self.handshakes and self._handshakes_held + cost > self.max_handshake_bytes:
                self.handshakes.popleft()
                self._handshakes_held -= self._handshake_costs.popleft()
            self.handshakes.append(handshake)
            self._handshake_costs.append(cost)
            self._handshakes_held += cost
        return handshake

    # -- reading (any thread) --

    def _snapshot(self) -> list[Any]:
        return list(self._records)  # one C-level copy under the GIL: atomic against the loop's appends

    @property
    def records(self) -> list[Record]:
        """A snapshot of the records, oldest first."""
        return [self._materialize(entry) for entry in self._snapshot()]

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __getitem__(self, index: int) -> Record:
        entries = self._snapshot()
        if isinstance(index, slice):
            return [self._materialize(entry) for entry in entries[index]]  # type: ignore[return-value]
        return self._materialize(entries[index])

    def messages(self, direction: str | None = None, conn: int | None = None) -> list[Record]:
        """The text and binary messages, optionally of one direction or connection."""
        # raw entries and records share the layout (time, direction, opcode, size, data, conn): filter first
        return [
            self._materialize(entry)
            for entry in self._snapshot()
            if entry[2] in DATA_OPCODES
            and (direction is None or entry[1] == direction)
            and (conn is None or entry[5] == conn)
        ]

    def wait_for(
        self,
        predicate: Callable[[Record], bool],
        timeout: float = 5.0,
    ) -> Record:
        """The first record (already logged or yet to come) matching ``predicate``.

        The records already logged are looked at once; after that the loop hands
        each new record to this call, so a wait costs the records that arrive
        while it waits (never a rescan), and the loop never waits for it.

        Raises:
            TimeoutError: none arrived within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        waiter = _Waiter()
        with self._lock:  # before looking, so that no append in between goes unnoticed
            self._waiters = (*self._waiters, waiter)
            self._update_watchers()
        try:
            entries: Any = self._snapshot()
            while True:
                for entry in entries:
                    record = self._materialize(entry)
                    if predicate(record):
                        return record
                waiter.event.clear()
                if waiter.pending:
                    entries = [waiter.pending.popleft() for _ in range(len(waiter.pending))]
                    continue
                if waiter.overflow:  # a reader much slower than the traffic: look again at what is kept
                    waiter.overflow = False
                    entries = self._snapshot()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching record in the traffic log within {timeout} s")
                if waiter.event.wait(remaining) and remaining > 0.01:
                    time.sleep(_BATCH)  # let a few records gather: one wake per batch, not per frame
                entries = ()
        finally:
            with self._lock:
                self._waiters = tuple(w for w in self._waiters if w is not waiter)
                self._update_watchers()

    def subscribe(self, callback: Callable[[Any], None], *, raw: bool = False) -> Callable[[], None]:
        """Call ``callback(record)`` for each new record (on the loop thread: keep it short, e.g. enqueue).

        With ``raw=True`` the callback gets the log's own entry instead, which costs the loop thread nothing more
        than the call: turn it into a :class:`Record` later, on another thread, with :meth:`record_of` (what the
        widgets do, so that a panel adds no decoding to the traffic it shows).

        Returns:
            A function that unsubscribes.
        """
        pair = (callback, raw)
        with self._lock:
            self._subscribers = (*self._subscribers, pair)
            self._update_watchers()
        return lambda: self._remove_subscriber(lambda other: other is pair)

    def unsubscribe(self, callback: Callable[[Any], None]) -> None:
        """Stop calling ``callback`` (its first subscription, if it subscribed more than once)."""
        self._remove_subscriber(lambda pair: pair[0] == callback)

    def _remove_subscriber(self, matches: Callable[[tuple[Callable[[Any], None], bool]], bool]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
            for pair in subscribers:
                if matches(pair):
                    subscribers.remove(pair)
                    break
            self._subscribers = tuple(subscribers)
            self._update_watchers()

    @property
    def subscribers(self) -> int:
        """How many callbacks follow this log."""
        return len(self._subscribers)

    @property
    def waiting(self) -> int:
        """How many calls of :meth:`wait_for` are waiting now."""
        return len(self._waiters)

    def clear(self) -> None:
        """Forget every record and handshake."""
        with self._lock:
            self._records.clear()
            self._held = 0
            self.handshakes.clear()
            self._handshake_costs.clear()
            self._handshakes_held = 0
            self.dropped = 0

    def to_json(self) -> str:
        """The records as a JSON array."""
        return json.dumps([r.to_dict() for r in self.records], indent=1)

    def table(self, last: int | None = 20) -> str:
        """The last ``last`` records as a plain-text table (``None``: all)."""
        entries = self._snapshot()
        total = len(entries)
        if last is not None:
            entries = entries[-last:] if last > 0 else []
        records = [self._materialize(entry) for entry in entries]
        lines = [f"{'ms':>9}  {'':1} {'conn':>4}  {'opcode':<8} {'size':>6}  data"]
        for r in records:
            conn = f"#{r.conn}" if r.conn else ""
            lines.append(
                f"{r.time * 1000:9.3f}  {ARROWS.get(r.direction, '?')} {conn:>4}  "
                f"{r.opcode:<8} {r.size:>6}  {r.preview()}"
            )
        skipped = total - len(records) + self.dropped
        if skipped:
            lines.insert(1, f"{'':9}  ({skipped} earlier records not shown)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<TrafficLog: {len(self)} records, {len(self.handshakes)} handshakes>"

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # IPython display
        printer.text(self.table())
