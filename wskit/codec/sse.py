"""Server-Sent Events: the ``text/event-stream`` format, parsed by the spec.

An event stream is UTF-8 text in lines; a blank line ends an event::

    : a comment, ignored (servers send one now and then to keep a proxy awake)
    event: price
    id: 42
    data: {"symbol": "ACME",
    data:  "price": 101.25}

:class:`Parser` follows WHATWG HTML §9.2.6 "Interpreting an event stream"
step by step: a line ends in CRLF, LF or CR (a CRLF split between two reads
is one line end); a leading byte order mark is dropped; ``field:value`` loses
one space after the colon, and a line without a colon is a field with an
empty value; ``data`` lines are joined with ``"\\n"``; ``id`` is kept until
another ``id`` changes it (one that contains NUL is ignored); ``retry`` must be
digits; a blank line dispatches, unless no ``data`` came; an event the stream
ends in the middle of is discarded. Nothing in a stream is an error: unknown
fields and malformed values are ignored, as a browser's ``EventSource`` does.
One thing the spec leaves open is bounded here: an event (its data lines and the
line still arriving) may hold at most :data:`MAX_EVENT` characters; past that
:meth:`Parser.feed` drops it and raises :class:`EventTooLarge` (with the events it
completed), so a stream that never ends a line or an event cannot fill memory. The parser's
cost is linear in what it is fed, however the stream is cut into reads.

Standard library only, sans-I/O: feed it bytes as they arrive, get events.

>>> parser = Parser()
>>> parser.feed(b"data: YHOO\\ndata: +2\\ndata: 10\\n")
[]
>>> parser.feed(b"\\n")
[Event(data='YHOO\\n+2\\n10', type='message', id='')]
>>> Event("two\\nlines", id="7").to_bytes()
b'id: 7\\ndata: two\\ndata: lines\\n\\n'
"""

from __future__ import annotations

import codecs
import dataclasses
import re

from .errors import ProtocolError, UsageError

__all__ = ["MAX_EVENT", "Event", "EventTooLarge", "Parser", "parse"]

_LINE_END = re.compile(r"\r\n|\r|\n")

#: Characters one event may hold (its data lines, and a line not yet ended): 1 MiB.
MAX_EVENT = 1 << 20


@dataclasses.dataclass(frozen=True)
class Event:
    """One dispatched event, as a browser's ``MessageEvent`` carries it.

    Attributes:
        data: the ``data`` lines joined with ``"\\n"``.
        type: the ``event`` field; ``"message"`` when the event named none.
        id: the last event ID when the event was dispatched: the latest
            ``id`` field of the stream so far, not only of this event (what
            a reconnecting client sends back as ``Last-Event-ID``).
    """

    data: str
    type: str = "message"
    id: str = ""

    def to_bytes(self) -> bytes:
        """The event on the wire: ``event:`` (unless ``message``), ``id:`` (if any), a ``data:`` line per line.

        Raises:
            UsageError: a line break in ``type`` or ``id``, a CR in ``data``,
                or a NUL in ``id``: a parser would read other fields.
        """
        if _LINE_END.search(self.type) or _LINE_END.search(self.id) or "\0" in self.id or "\r" in self.data:
            raise UsageError(f"cannot write {self!r} as an event stream: CR/LF only between data lines, no NUL in id")
        lines = [] if self.type == "message" else [f"event: {self.type}"]
        if self.id:
            lines.append(f"id: {self.id}")
        lines += [f"data: {line}" for line in self.data.split("\n")]
        return ("\n".join(lines) + "\n\n").encode()


class EventTooLarge(ProtocolError):
    """An event-stream event longer than :data:`MAX_EVENT` characters (dropped).

    Attributes:
        events: the events the same :meth:`Parser.feed` call completed, in order.
    """

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        super().__init__(f"an event-stream event longer than {MAX_EVENT} characters (the kit's bound) was dropped")


class Parser:
    """An incremental event-stream parser: :meth:`feed` it bytes, get the events they complete.

    Attributes:
        last_event_id: the last event ID buffer (``""`` until an ``id`` field).
        retry: the reconnection time the stream asked for, in milliseconds
            (``None`` until a ``retry`` field of digits).
    """

    def __init__(self) -> None:
        self.last_event_id = ""
        self.retry: int | None = None
        # "utf-8-sig" drops one leading U+FEFF, as the spec's "UTF-8 decode" does; bad bytes become U+FFFD.
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self._line: list[str] = []  # the start of a line whose end has not arrived yet, in pieces
        self._line_size = self._data_size = 0  # characters in those pieces, and in the event's data lines
        self._after_cr = False  # the last line ended in CR: an LF that comes next is the same line end
        self._data: list[str] = []
        self._type = ""
        self._skip_line = False  # the rest of a line too long to keep: ignored up to its end
        self._skip_event = False  # the rest of an event too long to keep: ignored up to its blank line

    def feed(self, data: bytes) -> list[Event]:
        """Parse the next bytes of the stream; return the events they dispatch, in order.

        Raises:
            EventTooLarge: an event grew past :data:`MAX_EVENT` characters. It is dropped, up to its blank line, and
                parsing goes on after it; the exception's ``events`` are those this call completed.
        """
        text = self._decoder.decode(data)
        if self._after_cr and text:
            self._after_cr = False
            if text[0] == "\n":
                text = text[1:]
        events: list[Event] = []
        too_large = False
        start = 0
        for end in _LINE_END.finditer(text):  # only the new text is searched: linear however the reads are cut
            line = text[start : end.start()]
            start = end.end()
            self._after_cr = end.group() == "\r" and start == len(text)
            if self._line:
                line, self._line, self._line_size = "".join(self._line) + line, [], 0
            if self._skip_line:  # the end of the line that was too long
                self._skip_line = False
                continue
            if self._skip_event:
                self._skip_event = bool(line)  # a blank line ends the event that was too long
                continue
            event = self._line_done(line)
            if event is not None:
                events.append(event)
            elif self._data_size > MAX_EVENT:
                too_large = self._drop_event()
        if start < len(text) and not self._skip_line:
            self._line.append(text[start:])
            self._line_size += len(text) - start
            if self._line_size + self._data_size > MAX_EVENT:
                too_large = self._drop_event()
                self._skip_line = True
        if too_large:
            raise EventTooLarge(events)
        return events

    def _drop_event(self) -> bool:
        """The event being read is too long: forget it, and ignore what is left of it."""
        self._line, self._line_size, self._data, self._data_size, self._type = [], 0, [], 0, ""
        self._skip_event = True
        return True

    def _line_done(self, line: str) -> Event | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment
        field, _, value = line.partition(":")  # no colon: the whole line names a field with an empty value
        value = value.removeprefix(" ")  # one space, not more
        if field == "data":
            self._data.append(value)
            self._data_size += len(value) + 1
        elif field == "event":
            self._type = value
        elif field == "id" and "\0" not in value:  # an id with a NUL is ignored
            self.last_event_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)
        return None  # any other field, and a malformed id or retry, is ignored

    def _dispatch(self) -> Event | None:
        data, event_type = self._data, self._type
        self._data, self._data_size, self._type = [], 0, ""
        if not data:  # an empty data buffer dispatches nothing
            return None
        return Event("\n".join(data), event_type or "message", self.last_event_id)


def parse(stream: bytes) -> list[Event]:
    """Every event a whole stream dispatches (an event it ends in the middle of is discarded)."""
    return Parser().feed(stream)
