"""The handshake codec: RFC vectors, checks, and agreement with real libraries."""

from __future__ import annotations

import base64
import subprocess
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.client import ClientProtocol
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from wskit.codec import handshake as hs
from wskit.codec.errors import InvalidHandshake, InvalidHTTP, ProtocolError, UsageError

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

keys = st.binary(min_size=16, max_size=16).map(lambda b: base64.b64encode(b).decode())
paths = st.from_regex(r"/[a-z0-9/_\-]{0,20}", fullmatch=True)
origins = st.one_of(st.none(), st.from_regex(r"https://[a-z]{1,10}\.example", fullmatch=True))


# --- the key ------------------------------------------------------------------


def test_rfc_6455_sample_key():
    assert hs.accept_key(RFC_KEY) == RFC_ACCEPT


def test_explain_accept_shows_each_step():
    steps = hs.explain_accept(RFC_KEY)
    assert list(steps) == ["key", "key + GUID", "SHA-1 (hex)", "base64 (accept)"]
    assert steps["key + GUID"] == RFC_KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    # RFC 6455 §1.3 gives the digest bytes of the sample.
    assert steps["SHA-1 (hex)"] == "b37a4f2cc0624f1690f64606cf385945b2bec4ea"
    assert steps["base64 (accept)"] == RFC_ACCEPT


def test_generate_key_is_16_random_bytes():
    a, b = hs.generate_key(), hs.generate_key()
    assert len(a) == 24 and len(base64.b64decode(a)) == 16
    assert a != b


# --- building and parsing ---------------------------------------------------------


def test_build_request_bytes():
    request = hs.build_request("127.0.0.1:8765", "/chat", key=RFC_KEY, origin="https://a.example")
    assert request.to_bytes() == (
        b"GET /chat HTTP/1.1\r\n"
        b"Host: 127.0.0.1:8765\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n"
        b"Origin: https://a.example\r\n"
        b"\r\n"
    )


def test_request_round_trip_and_check():
    request = hs.build_request("h:1", subprotocols=["chat", "v2"], extensions=["permessage-deflate"])
    parsed = hs.parse_request(request.to_bytes())
    assert parsed == request
    assert hs.check_request(parsed) == request.key
    assert parsed.headers.tokens("Sec-WebSocket-Protocol") == ["chat", "v2"]


def test_with_and_without_header():
    request = hs.build_request("h:1", key=RFC_KEY)
    assert request.with_header("sec-websocket-version", "8").headers.get("Sec-WebSocket-Version") == "8"
    assert request.with_header("X-New", "1").headers.items()[-1] == ("X-New", "1")
    assert "Sec-WebSocket-Key" not in request.without_header("sec-websocket-key").headers
    assert request.key == RFC_KEY  # the original is unchanged


def test_response_round_trip_and_check():
    request = hs.build_request("h:1", key=RFC_KEY, subprotocols=["chat"])
    response = hs.build_response(request, subprotocol="chat")
    parsed = hs.parse_response(response.to_bytes() + b"\x81\x02hi")
    assert parsed.status == 101 and parsed.body == b""
    assert parsed.headers.get("Sec-WebSocket-Accept") == RFC_ACCEPT
    hs.check_response(parsed, RFC_KEY, subprotocols=["chat"])


def test_check_response_refuses_an_extension_the_client_did_not_offer():
    """RFC 6455 §4.1: an extension in the response that the client did not offer fails the connection."""
    plain = hs.build_request("h:1", key=RFC_KEY)
    accepted = hs.build_response(plain, extensions=["permessage-deflate; server_max_window_bits=12"])
    with pytest.raises(InvalidHandshake) as refused:
        hs.check_response(accepted, RFC_KEY)
    assert refused.value.header == "Sec-WebSocket-Extensions"
    hs.check_response(accepted, RFC_KEY, extensions=["permessage-deflate; client_max_window_bits"])  # offered
    with pytest.raises(InvalidHandshake, match="x-webkit-deflate-frame"):
        hs.check_response(hs.build_response(plain, extensions=["permessage-deflate", "x-webkit-deflate-frame"]),
                          RFC_KEY, extensions=["permessage-deflate"])


def test_split_head_keeps_what_follows():
    head, rest = hs.split_head(b"HTTP/1.1 101 OK\r\nA: b\r\n\r\n\x81\x00")
    assert head.endswith(b"\r\n\r\n") and rest == b"\x81\x00"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n", "incomplete HTTP head"),
        (b"GET /\r\n\r\n", "bad request line"),
        (b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n", "bad header line"),
        (b"GET / HTTP/1.1\r\n folded: x\r\n\r\n", "bad header line"),
        (b"GET / HTTP/1.1\r\n" + b"A: b\r\n" * 200 + b"\r\n", "too many header fields"),
        (b"GET / HTTP/1.1\r\nA: " + b"x" * 9000 + b"\r\n\r\n", "line too long"),
        (b"GET / FTP/1.1\r\n\r\n", "bad HTTP version"),
    ],
)
def test_malformed_requests(data, message):
    with pytest.raises(InvalidHTTP, match=message):
        hs.parse_request(data)


def test_malformed_status_line():
    with pytest.raises(InvalidHTTP, match="bad status code"):
        hs.parse_response(b"HTTP/1.1 1O1 Switching\r\n\r\n")


def test_builder_misuse_is_a_usage_error():
    with pytest.raises(UsageError, match="host"):
        hs.build_request("bad host")
    assert issubclass(UsageError, ValueError)
    assert not issubclass(UsageError, ProtocolError)


# --- the server's checks --------------------------------------------------------------

GOOD = hs.build_request("127.0.0.1:9", key=RFC_KEY, origin="https://friend.example")


@pytest.mark.parametrize(
    ("request_", "header", "status"),
    [
        (hs.Request("POST", "/", GOOD.headers), "method", 405),
        (hs.Request("GET", "/", GOOD.headers, "HTTP/1.0"), "version", 505),
        (GOOD.without_header("Host"), "Host", 400),
        (GOOD.without_header("Upgrade"), "Upgrade", 426),
        (GOOD.with_header("Upgrade", "h2c"), "Upgrade", 426),
        (GOOD.with_header("Connection", "keep-alive"), "Connection", 426),
        (GOOD.without_header("Sec-WebSocket-Key"), "Sec-WebSocket-Key", 400),
        (GOOD.with_header("Sec-WebSocket-Key", "c2hvcnQ="), "Sec-WebSocket-Key", 400),
        (GOOD.with_header("Sec-WebSocket-Key", "not base64!!"), "Sec-WebSocket-Key", 400),
        (GOOD.without_header("Sec-WebSocket-Version"), "Sec-WebSocket-Version", 400),
        (GOOD.with_header("Sec-WebSocket-Version", "8"), "Sec-WebSocket-Version", 426),
    ],
)
def test_check_request_names_the_header_at_fault(request_, header, status):
    with pytest.raises(InvalidHandshake) as info:
        hs.check_request(request_)
    assert info.value.header == header
    assert info.value.status == status
    assert header in str(info.value)
    assert info.value.expected in str(info.value)


def test_connection_header_is_a_token_list():
    assert hs.check_request(GOOD.with_header("Connection", "keep-alive, Upgrade")) == RFC_KEY


def test_origin_allow_list():
    assert hs.check_request(GOOD, origins=["https://friend.example"]) == RFC_KEY
    with pytest.raises(InvalidHandshake) as info:
        hs.check_request(GOOD, origins=["https://other.example"])
    assert (info.value.header, info.value.status) == ("Origin", 403)


def test_reject_response_for_a_wrong_version_names_13():
    with pytest.raises(InvalidHandshake) as info:
        hs.check_request(GOOD.with_header("Sec-WebSocket-Version", "8"))
    response = hs.reject_response(info.value)
    assert response.status == 426
    assert response.headers.get("Sec-WebSocket-Version") == "13"  # RFC 6455 §4.2.2, §4.4
    assert response.headers.get("Upgrade") == "websocket"  # RFC 9110 §15.5.22: a 426 MUST carry Upgrade
    parsed = hs.parse_response(response.to_bytes())
    assert parsed.body == response.body and b"Sec-WebSocket-Version" in parsed.body


def test_reject_response_for_a_missing_upgrade():
    with pytest.raises(InvalidHandshake) as info:
        hs.check_request(GOOD.without_header("Upgrade"))
    assert hs.reject_response(info.value).headers.get("Upgrade") == "websocket"


# --- the client's checks ------------------------------------------------------------------


def test_check_response_catches_a_wrong_accept():
    response = hs.build_response(RFC_KEY)
    with pytest.raises(InvalidHandshake) as info:
        hs.check_response(response, hs.generate_key())
    assert info.value.header == "Sec-WebSocket-Accept"
    assert info.value.got == RFC_ACCEPT


@pytest.mark.parametrize(
    ("raw", "header"),
    [
        (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "status"),
        (b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n", "Upgrade"),
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", "Connection"),
        (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + RFC_ACCEPT.encode() + b"\r\nSec-WebSocket-Protocol: x\r\n\r\n",
            "Sec-WebSocket-Protocol",
        ),
    ],
)
def test_check_response_names_the_field_at_fault(raw, header):
    with pytest.raises(InvalidHandshake) as info:
        hs.check_response(hs.parse_response(raw), RFC_KEY)
    assert info.value.header == header


def test_parse_response_reads_a_refusal_body():
    response = hs.parse_response(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope and more")
    assert (response.status, response.body) == (403, b"nope")


# --- agreement with real implementations -------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(key=keys, path=paths, origin=origins)
def test_websockets_server_accepts_a_wskit_request(key, path, origin):
    request = hs.build_request("example.com", path, key=key, origin=origin)
    server = ServerProtocol()
    server.receive_data(request.to_bytes())
    [ws_request] = server.events_received()
    ws_response = server.accept(ws_request)
    assert ws_response.status_code == 101, ws_response.body
    assert ws_request.path == path
    server.send_response(ws_response)
    # ...and the 101 that websockets sends passes wskit's client-side check.
    response = hs.parse_response(b"".join(server.data_to_send()))
    hs.check_response(response, key)


@settings(max_examples=200, deadline=None)
@given(path=paths, origin=origins, subprotocols=st.lists(st.sampled_from(["chat", "v2", "mqtt"]), unique=True))
def test_wskit_server_side_accepts_a_websockets_client(path, origin, subprotocols):
    client = ClientProtocol(
        parse_uri(f"ws://example.com{path}"), origin=origin, subprotocols=subprotocols or None
    )
    client.send_request(client.connect())
    request = hs.parse_request(b"".join(client.data_to_send()))
    key = hs.check_request(request)
    assert request.target == path and request.headers.get("Origin") == origin
    chosen = subprotocols[0] if subprotocols else None
    response = hs.build_response(request, subprotocol=chosen)
    client.receive_data(response.to_bytes())
    assert client.state is State.OPEN, client.handshake_exc
    assert key == client.key


def test_wsproto_agrees_both_ways():
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, Request

    client = WSConnection(ConnectionType.CLIENT)
    request = hs.parse_request(client.send(Request(host="example.com", target="/ws")))
    response = hs.build_response(request)
    client.receive_data(response.to_bytes())
    assert isinstance(next(client.events()), AcceptConnection)

    server = WSConnection(ConnectionType.SERVER)
    ours = hs.build_request("example.com", "/ws", key=RFC_KEY)
    server.receive_data(ours.to_bytes())
    assert isinstance(next(server.events()), Request)
    reply = hs.parse_response(server.send(AcceptConnection()))
    hs.check_response(reply, RFC_KEY)


def test_a_live_websockets_server_accepts_a_wskit_request():
    """Not sans-I/O this time: a real websockets server thread and a raw socket."""
    import socket

    from websockets.sync.server import serve

    def handler(ws):
        ws.send(ws.recv())

    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        key = hs.generate_key()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(hs.build_request(f"127.0.0.1:{port}", key=key).to_bytes())
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(4096)
        hs.check_response(hs.parse_response(data), key)
        server.shutdown()
        thread.join(5)


def test_codec_imports_nothing_but_the_standard_library():
    code = (
        "import sys, wskit.codec, wskit.codec.handshake\n"
        "bad = [m for m in ('asyncio', 'websockets', 'ipywidgets', 'socketio', 'aiohttp') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
