"""Record kinds: one enum (wskit.codec.kinds.RecordKind) for what the log writes and what the widgets read."""

from __future__ import annotations

import json

import engineio.packet
import pytest
import websockets.frames

import wskit
from wskit.codec.kinds import CONTROL_KINDS, DATA_KINDS, RecordKind
from wskit.live.log import CONTROL_OPCODES, DATA_OPCODES, TrafficLog
from wskit.widgets import MessagePanel


def test_every_kind_the_libraries_produce_is_a_record_kind():
    assert {o.name for o in websockets.frames.Opcode} <= set(RecordKind)  # frames
    assert set(engineio.packet.packet_names) <= set(RecordKind)  # Engine.IO packets (Socket.IO traffic)
    assert set(DATA_OPCODES) == DATA_KINDS and set(CONTROL_OPCODES) == CONTROL_KINDS  # the log's public names


def test_a_kind_compares_prints_and_exports_as_its_name():
    log = TrafficLog()
    record = log.add("received", "PONG", size=2, data=b"hi")
    assert record.opcode is RecordKind.PONG and record.opcode == "PONG" and f"{record.opcode:<6}|" == "PONG  |"
    assert json.loads(log.to_json())[0]["opcode"] == "PONG"
    assert record.is_control and not record.is_data


def test_an_unknown_kind_is_refused_with_the_list_of_kinds():
    with pytest.raises(ValueError, match=r"'FRAME' is not a record kind; one of TEXT, BINARY"):
        TrafficLog().add("sent", "FRAME")


@pytest.mark.usefixtures("clean_kit")
def test_live_records_carry_kinds_and_the_table_reads_as_before():
    srv = wskit.EchoServer()
    client = wskit.connect(srv.url)
    client.send("hello")
    assert client.recv() == "hello"
    client.close()
    srv.log.wait_for(lambda r: r.opcode == RecordKind.CLOSED)
    kinds = [r.opcode for r in srv.log]
    assert all(type(kind) is RecordKind for kind in kinds)
    assert kinds == ["OPEN", "TEXT", "TEXT", "CLOSE", "CLOSE", "CLOSED"]
    lines = srv.log.table().splitlines()
    assert lines[0].split() == ["ms", "conn", "opcode", "size", "data"]
    assert lines[2].split()[1:] == ["←", "#1", "TEXT", "5", "'hello'"]


def test_the_panel_filters_control_rows_with_the_same_kinds():
    panel = MessagePanel(TrafficLog())
    try:
        assert set(panel.control_kinds) == CONTROL_KINDS  # what message_panel.js's Control filter uses
    finally:
        panel.close()
