"""Server-Sent Events parsing, from the examples of WHATWG HTML §9.2 "Server-sent events".

The streams in the first tests are the specification's own examples (§9.2.1 Introduction, §9.2.6
Interpreting an event stream), with the events the specification says they fire. The property tests check
the incremental parser against a line-by-line reading of §9.2.6 written here, on streams cut anywhere.
"""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wskit.codec import sse
from wskit.codec.errors import UsageError
from wskit.codec.sse import Event, Parser, parse


def feed_bytewise(stream: bytes) -> tuple[list[Event], Parser]:
    parser = Parser()
    return [event for i in range(len(stream)) for event in parser.feed(stream[i : i + 1])], parser


# --- the specification's examples ---------------------------------------------------------------------------


def test_intro_messages_one_with_two_lines():  # §9.2.1
    stream = (b"data: This is the first message.\n\n"
              b"data: This is the second message, it\ndata: has two lines.\n\n"
              b"data: This is the third message.\n\n")
    assert [e.data for e in parse(stream)] == [
        "This is the first message.",
        "This is the second message, it\nhas two lines.",
        "This is the third message.",
    ]


def test_intro_event_types():  # §9.2.1: "add" and "remove" events
    stream = b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n"
    assert parse(stream) == [Event("73857293", "add"), Event("2153", "remove"), Event("113411", "add")]


def test_stock_example_joins_data_lines_with_newlines():  # §9.2.6: "YHOO\n+2\n10"
    parser = Parser()
    assert parser.feed(b"data: YHOO\ndata: +2\ndata: 10\n") == []  # not dispatched before the blank line
    assert parser.feed(b"\n") == [Event("YHOO\n+2\n10", "message", "")]


def test_test_stream_comment_id_and_reset_id():  # §9.2.6: ": test stream" ... "data:  third event"
    stream = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n"
    assert parse(stream) == [Event("first event", id="1"), Event("second event", id="")]  # the third is not ended
    assert parse(stream + b"\n")[2] == Event(" third event", id="")  # one space removed, the second one kept


def test_empty_and_newline_data():  # §9.2.6: "data\n\ndata\ndata\n\ndata:" fires two events
    assert parse(b"data\n\ndata\ndata\n\ndata:") == [Event(""), Event("\n")]


def test_space_after_the_colon_is_optional():  # §9.2.6: "data:test" and "data: test" fire identical events
    first, second = parse(b"data:test\n\ndata: test\n\n")
    assert first == second == Event("test")


# --- line ends, byte order mark, decoding -------------------------------------------------------------------

SPEC_STREAM = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"


@pytest.mark.parametrize("eol", [b"\r\n", b"\r", b"\n"])
def test_every_line_end_gives_the_same_events_whole_or_byte_by_byte(eol):
    stream = SPEC_STREAM.replace(b"\n", eol)
    expected = parse(SPEC_STREAM)
    assert len(expected) == 3
    assert parse(stream) == expected
    assert feed_bytewise(stream)[0] == expected


def test_crlf_split_between_two_reads_is_one_line_end():
    parser = Parser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\ndata: b\r") == []  # had the LF counted as a second line end, "a" would be out
    assert parser.feed(b"\n\r") == [Event("a\nb")]  # CR alone ends the blank line: no wait for a possible LF
    assert parser.feed(b"\ndata: c\n\n") == [Event("c")]  # that LF was the CR's own


def test_cr_then_cr_is_two_line_ends():
    parser = Parser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\r") == [Event("a")]


def test_a_leading_bom_is_dropped_once_even_split():
    assert parse(b"\xef\xbb\xbfdata: x\n\n") == [Event("x")]
    assert feed_bytewise(b"\xef\xbb\xbfdata: x\n\n")[0] == [Event("x")]
    # only the first: a second U+FEFF belongs to the field name "\ufeffdata", which is ignored
    assert parse(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n") == []
    assert parse(b"data: \xef\xbb\xbfx\n\n") == [Event("\ufeffx")]  # not at the start of the stream: kept


def test_utf8_split_between_reads_and_bad_bytes_replaced():
    stream = "data: caf\u00e9 \u20ac \U0001f600\n\n".encode()
    assert feed_bytewise(stream)[0] == [Event("caf\u00e9 \u20ac \U0001f600")]
    assert parse(b"data: \xff\xfe!\n\n") == [Event("\ufffd\ufffd!")]  # UTF-8 decode: U+FFFD, never an error


# --- fields ---------------------------------------------------------------------------------------------------


def test_comments_are_ignored_inside_an_event():
    assert parse(b":hello\ndata: a\n: keep-alive\ndata: b\n:\n\n") == [Event("a\nb")]
    assert parse(b": only a comment\n\n") == []


def test_fields_are_case_sensitive_and_unknown_ones_ignored():
    assert parse(b"Data: x\nDATA: y\nfoo: bar\ndata: z\n\n") == [Event("z")]
    assert parse(b"data: a:b: c\n\n") == [Event("a:b: c")]  # only the first colon separates


def test_line_without_colon_is_a_field_with_an_empty_value():
    assert parse(b"data\n\n") == [Event("")]
    assert parse(b"event\ndata: x\n\n") == [Event("x", "message")]  # an empty type is "message"


def test_event_type_and_data_reset_after_each_dispatch_but_id_persists():
    events = parse(b"event: add\nid: 7\ndata: 1\n\ndata: 2\n\nevent: lost\n\ndata: 3\n\n")
    assert events == [Event("1", "add", "7"), Event("2", "message", "7"), Event("3", "message", "7")]


def test_id_with_nul_is_ignored_and_id_alone_dispatches_nothing():
    parser = Parser()
    assert parser.feed(b"id: 3\n\n") == [] and parser.last_event_id == "3"
    assert parser.feed(b"id: 4\x00\ndata: x\n\n") == [Event("x", id="3")]
    assert parser.feed(b"id: \n\ndata: y\n\n") == [Event("y", id="")]


@pytest.mark.parametrize(
    ("line", "retry"),
    [(b"retry: 3000", 3000), (b"retry:0", 0), (b"retry: 3s", None), (b"retry: -1", None),
     (b"retry: 1.5", None), (b"retry:", None), (b"retry", None), ("retry: \uff13".encode(), None)],
)
def test_retry_takes_ascii_digits_only(line, retry):
    parser = Parser()
    assert parser.feed(line + b"\n\n") == []  # retry is no event
    assert parser.retry == retry


def test_an_event_the_stream_ends_in_is_discarded():
    assert parse(b"data: x") == []
    assert parse(b"data: x\n") == []
    assert parse(b"data: x\r\n") == []
    assert parse(b"data: x\n\ndata: y\n") == [Event("x")]


# --- writing ---------------------------------------------------------------------------------------------------


def test_to_bytes_writes_what_the_parser_reads():
    events = [Event("plain", id="1"), Event("two\nlines", "update", "2"), Event("", id="3"), Event("\n", id="4"),
              Event(" leading space", id="5"), Event("a: colon", "x:y", "6")]
    assert parse(b"".join(event.to_bytes() for event in events)) == events
    assert Event("x", id="1").to_bytes() == b"id: 1\ndata: x\n\n"  # what PushServer writes for event 1


@pytest.mark.parametrize(
    "event", [Event("a\rb"), Event("x", "two\nwords"), Event("x", "cr\r"), Event("x", id="1\n"), Event("x", id="\0")]
)
def test_to_bytes_refuses_what_a_parser_would_read_differently(event):
    with pytest.raises(UsageError, match="CR/LF"):
        event.to_bytes()


# --- properties -----------------------------------------------------------------------------------------------


def by_the_spec(stream: bytes) -> list[Event]:
    """§9.2.6 read literally, on a whole stream: the data buffer gets each value and a LF."""
    text = stream.decode("utf-8", "replace").removeprefix("\ufeff")
    *lines, _unterminated = re.split("\r\n|\r|\n", text)
    events, data, event_type, last_id = [], "", "", ""
    for line in lines:
        if line == "":
            if data:
                events.append(Event(data.removesuffix("\n"), event_type or "message", last_id))
            data = event_type = ""
            continue
        if line[0] == ":":
            continue
        field, value = line.split(":", 1) if ":" in line else (line, "")
        value = value[1:] if value[:1] == " " else value
        if field == "data":
            data += value + "\n"
        elif field == "event":
            event_type = value
        elif field == "id" and "\0" not in value:
            last_id = value
    return events


pieces = st.sampled_from(
    [b"data", b"data:", b"data: ", b"event: ", b"id: ", b"id", b"retry: 5", b":", b" ", b"x", b"\x00", b"\r",
     b"\n", b"\r\n", "\u00e9".encode(), b"\xef\xbb\xbf", b"\xff"]
)
streams = st.lists(pieces, max_size=40).map(b"".join)


@given(streams)
def test_parser_reads_any_stream_as_the_spec_does(stream):
    assert parse(stream) == by_the_spec(stream)


@given(streams, st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_where_the_reads_are_cut_changes_nothing(stream, cuts):
    parser = Parser()
    bounds = [0, *sorted(cut % (len(stream) + 1) for cut in cuts), len(stream)]
    events = [event for a, b in itertools.pairwise(bounds) for event in parser.feed(stream[a:b])]
    assert events == parse(stream)


def test_codec_exports_the_module():
    import wskit.codec

    assert wskit.codec.sse is sse and "sse" in wskit.codec.__all__


def test_a_long_line_in_small_reads_costs_linear_time():
    """The unfinished line was joined to each read and searched again: 512 KiB in 64-byte reads took about 20 s
    (quadratic); now each read is searched once."""
    import time

    parser = Parser()
    piece = b"x" * 64
    started = time.perf_counter()
    assert parser.feed(b"data: ") == []
    for _ in range(512 * 1024 // 64):
        assert parser.feed(piece) == []
    assert parser.feed(b"\n\n") == [Event("x" * 512 * 1024)]
    assert time.perf_counter() - started < 2.0  # about 0.02 s here; 20 s before


@pytest.mark.parametrize("stream", [
    [b"data: " + b"x" * 4096] * (sse.MAX_EVENT // 4096 + 1),  # a line that never ends
    [b"data: " + b"x" * 4095 + b"\n"] * (sse.MAX_EVENT // 4096 + 1),  # an event that never ends
    [b"data: " + b"x" * (sse.MAX_EVENT + 1) + b"\n"],  # one line, whole in one read
], ids=["line", "event", "one-read"])
def test_an_event_past_the_bound_is_dropped_and_the_parser_goes_on(stream):
    parser = Parser()
    assert parser.feed(b"event: price\n") == []
    with pytest.raises(sse.EventTooLarge, match="longer than 1048576 characters") as raised:
        for read in stream:
            parser.feed(read)
    assert raised.value.events == []
    # the rest of that line and that event is ignored, even text that looks like fields; then all is as before
    rest = b"more\ndata: injected\nevent: evil\n\ndata: next\n\n"
    assert parser.feed(rest) == [Event("next")]


def test_the_events_before_an_event_too_large_are_not_lost():
    parser = Parser()
    with pytest.raises(sse.EventTooLarge) as raised:
        parser.feed(b"data: first\n\ndata: " + b"x" * (sse.MAX_EVENT + 1))
    assert raised.value.events == [Event("first")]
