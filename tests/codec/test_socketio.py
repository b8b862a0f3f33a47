"""Engine.IO / Socket.IO packet decoding, against python-socketio's own packet code."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from socketio import packet as sio_packet

from wskit.codec import socketio as sp
from wskit.codec.errors import ProtocolError, UsageError


@pytest.mark.parametrize(
    ("text", "kind", "inner"),
    [
        ('0{"sid":"abc","upgrades":[],"pingInterval":25000}', "OPEN", None),
        ("2", "PING", None),
        ("3probe", "PONG", None),
        ("40", "MESSAGE", sp.SocketIOPacket("CONNECT")),
        ('40{"token":"x"}', "MESSAGE", sp.SocketIOPacket("CONNECT", data={"token": "x"})),
        ('42["chat","hi"]', "MESSAGE", sp.SocketIOPacket("EVENT", data=["chat", "hi"])),
        ('4213["join","lobby"]', "MESSAGE", sp.SocketIOPacket("EVENT", ack_id=13, data=["join", "lobby"])),
        ('4313["ok"]', "MESSAGE", sp.SocketIOPacket("ACK", ack_id=13, data=["ok"])),
        ('42/admin,["stats"]', "MESSAGE", sp.SocketIOPacket("EVENT", "/admin", data=["stats"])),
        ("41/admin,", "MESSAGE", sp.SocketIOPacket("DISCONNECT", "/admin")),
        ('44{"message":"bad token"}', "MESSAGE", sp.SocketIOPacket("CONNECT_ERROR", data={"message": "bad token"})),
        ('451-["file",{"_placeholder":true,"num":0}]', "MESSAGE",
         sp.SocketIOPacket("BINARY_EVENT", data=["file", {"_placeholder": True, "num": 0}], attachments=1)),
        ("5", "UPGRADE", None),
        ("6", "NOOP", None),
    ],
)
def test_vectors(text, kind, inner):
    packet = sp.decode_engineio(text)
    assert packet.type == kind and packet.socketio == inner


def test_event_and_args():
    inner = sp.decode_socketio('2["move",3,4]')
    assert (inner.event, inner.args) == ("move", [3, 4])
    ack = sp.decode_socketio('37["ok",1]')
    assert (ack.event, ack.args, ack.ack_id) == (None, ["ok", 1], 7)


@pytest.mark.parametrize("text", ["", "9", "x", "4", "47", '42["unterminated', "45[]"])
def test_invalid_packets(text):
    with pytest.raises(ProtocolError):
        sp.decode_engineio(text)


def test_describe_never_raises():
    assert sp.describe('421["join","lobby"]') == 'MESSAGE → EVENT "join" ["lobby"] ack 1'
    assert sp.describe('42/admin,["stats"]') == 'MESSAGE → EVENT "stats" [] on /admin'
    assert sp.describe("2") == "PING"
    assert sp.describe("3probe") == "PONG probe"
    assert sp.describe("hello").startswith("not an Engine.IO packet")
    assert sp.describe("4x").startswith("MESSAGE with an invalid Socket.IO packet")


def test_encode_usage_errors():
    assert sp.encode_engineio("MESSAGE", sp.encode_socketio("EVENT", ["chat", "hi"])) == '42["chat","hi"]'
    with pytest.raises(UsageError, match="event name"):
        sp.encode_socketio("EVENT", "hi")
    with pytest.raises(UsageError, match="namespace"):
        sp.encode_socketio("EVENT", ["x"], namespace="admin")
    with pytest.raises(UsageError):
        sp.encode_engineio("HELLO")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
namespaces = st.sampled_from(["/", "/admin", "/chat"])
ack_ids = st.none() | st.integers(0, 10**6)


@settings(max_examples=500, deadline=None)
@given(event=st.text(min_size=1, max_size=10), args=st.lists(json_values, max_size=3), namespace=namespaces,
       ack_id=ack_ids)
def test_events_agree_with_python_socketio(event, args, namespace, ack_id):
    theirs = sio_packet.Packet(sio_packet.EVENT, [event, *args], namespace=namespace, id=ack_id).encode()
    ours = sp.encode_socketio("EVENT", [event, *args], namespace=namespace, ack_id=ack_id)
    assert ours == theirs
    decoded = sp.decode_socketio(theirs)
    assert (decoded.type, decoded.namespace, decoded.ack_id, decoded.event, decoded.args) == (
        "EVENT", namespace, ack_id, event, args)
    back = sio_packet.Packet(encoded_packet=ours)
    assert (back.data, back.id, back.namespace or "/") == ([event, *args], ack_id, namespace)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(["ACK", "CONNECT", "CONNECT_ERROR", "DISCONNECT"]), data=json_values,
       namespace=namespaces, ack_id=ack_ids)
def test_other_packets_agree_with_python_socketio(kind, data, namespace, ack_id):
    code = {"ACK": sio_packet.ACK, "CONNECT": sio_packet.CONNECT, "CONNECT_ERROR": sio_packet.CONNECT_ERROR,
            "DISCONNECT": sio_packet.DISCONNECT}[kind]
    if kind == "ACK":
        data = [data]
    elif kind == "DISCONNECT":
        data, ack_id = None, None
    else:
        data = {"d": data}
        ack_id = None
    theirs = sio_packet.Packet(code, data, namespace=namespace, id=ack_id).encode()
    decoded = sp.decode_socketio(theirs)
    assert (decoded.type, decoded.namespace, decoded.ack_id, decoded.data) == (kind, namespace, ack_id, data)
