"""What notebook 11 teaches, against the real nginx: Upgrade forwarding, idle timeouts, TLS, sticky balancing,
auth that does not leak, subprotocols."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import time

import pytest
import websockets

import wskit
from tests.requires import require_nginx
from wskit.live import cluster
from wskit.live import loop as kit_loop
from wskit.live.nginx import Nginx, upstream
from wskit.live.tickets import TicketRefused, TicketServer, fetch_ticket

pytestmark = pytest.mark.usefixtures("clean_kit")

require_nginx()

MAP = """
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}
"""
PROXY = """
location / {
    proxy_pass http://app;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    %s
}
"""


def proxy_for(url_or_urls, extra: str = "", *balance: str, name: str = "proxy", **options) -> Nginx:
    urls = [url_or_urls] if isinstance(url_or_urls, str) else url_or_urls
    return Nginx(PROXY % extra, http=upstream("app", urls, *balance) + MAP, name=name, **options)


def get(proxy: Nginx, path: str, *, method: str = "GET", body: bytes | None = None,
        source: str = "127.0.0.1") -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, source_address=(source, 0), timeout=5)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


# -- 1. Upgrade is hop-by-hop --


def test_upgrade_forwarding_off_then_on() -> None:
    echo = wskit.EchoServer(name="echo", ping_interval=None)
    naive = Nginx("location / { proxy_pass http://app; }", http=upstream("app", [echo.url]), name="proxy")
    with pytest.raises(wskit.HandshakeRefused) as refused:
        wskit.connect(naive.ws_url)
    assert refused.value.status == 505  # nginx speaks HTTP/1.0 upstream by default
    seen = echo.log.handshakes[-1].request.headers
    assert "Upgrade" not in seen and seen.get("Connection") == "close"

    half = Nginx("location / { proxy_pass http://app; proxy_http_version 1.1; }",
                 http=upstream("app", [echo.url]), name="proxy")
    with pytest.raises(wskit.HandshakeRefused) as refused:
        wskit.connect(half.ws_url)
    assert refused.value.status == 426
    assert "Upgrade" not in echo.log.handshakes[-1].request.headers

    good = proxy_for(echo.url)
    client = wskit.connect(good.ws_url)
    client.send("through")
    assert client.recv() == "through"
    assert client.handshake.response.status == 101
    seen = echo.log.handshakes[-1].request.headers
    assert seen.get("Upgrade") == "websocket" and seen.get("Connection") == "upgrade"
    client.close()
    assert "upstream_status=101" in good.wait_for_log('" 101 ')
    # the same location still serves ordinary HTTP (Connection: close to the upstream)
    status, _ = get(good, "/")
    assert status == 426  # the echo server's answer to a plain GET, passed through


# -- 2. idle timeouts --


async def _sink(ws) -> None:
    async for _ in ws:  # reads, never answers
        pass


def test_idle_timeout_closes_silent_connections_only() -> None:
    echo = wskit.EchoServer(name="echo", ping_interval=None)
    server_pings = wskit.EchoServer(name="pinger", ping_interval=0.25)
    sink = wskit.Server(_sink, name="sink", ping_interval=None)
    timeout = 1.0
    quiet_proxy = proxy_for(echo.url, "proxy_read_timeout 1s;", name="p1", error_log_level="info")
    pinged_proxy = proxy_for(server_pings.url, "proxy_read_timeout 1s;", name="p2")
    sink_proxy = proxy_for(sink.url, "proxy_read_timeout 1s;", name="p3")

    quiet = wskit.connect(quiet_proxy.ws_url, ping_interval=None, name="quiet")
    client_pings = wskit.connect(quiet_proxy.ws_url, ping_interval=0.25, name="client-pings")
    gets_server_pings = wskit.connect(pinged_proxy.ws_url, ping_interval=None, name="server-pings")
    talks_one_way = wskit.connect(sink_proxy.ws_url, ping_interval=None, name="one-way")

    # the others stay open for three timeouts: any byte through the tunnel, either way, resets the timer. The
    # one-way client talks from the start: waiting for the quiet one's close first left it silent for a whole
    # timeout too, and on a busy machine nginx closed it (seen in a run with three test workers on two cores)
    opened = time.monotonic()
    while time.monotonic() - opened < 3 * timeout:
        talks_one_way.send("still here")
        time.sleep(0.25)
    closed = quiet.log.wait_for(lambda r: r.opcode == "CLOSED", timeout=10)
    life = closed.time - quiet.log.wait_for(lambda r: r.opcode == "OPEN").time
    assert quiet.close_code == 1006 and life > timeout - 0.1
    assert "upstream timed out" in quiet_proxy.wait_for_log("upstream timed out", log="error")
    assert not client_pings.closed and not gets_server_pings.closed and not talks_one_way.closed
    client_pings.send("and still working")
    assert client_pings.recv() == "and still working"


# -- 3. TLS termination --


def test_tls_ends_at_nginx() -> None:
    echo = wskit.EchoServer(name="echo", ping_interval=None)
    secure = proxy_for(echo.url, "proxy_set_header X-Forwarded-Proto $scheme;", tls=True)
    assert secure.ws_url.startswith("wss://") and secure.url.startswith("https://")
    client = wskit.connect(secure.ws_url, ssl=secure.tls.client)
    client.send("secret")
    assert client.recv() == "secret"
    assert client.connection.transport.get_extra_info("ssl_object").version() in ("TLSv1.2", "TLSv1.3")
    assert echo.url.startswith("ws://")  # plain behind nginx
    assert echo.log.handshakes[-1].request.headers.get("X-Forwarded-Proto") == "https"
    import ssl

    with pytest.raises(ssl.SSLCertVerificationError):
        wskit.connect(secure.ws_url)
    with pytest.raises(wskit.HandshakeRefused) as refused:
        wskit.connect(secure.ws_url.replace("wss", "ws"))
    assert refused.value.status == 400
    assert not (secure.prefix / "tls").exists() or (secure.prefix / "tls" / "key.pem").stat().st_mode & 0o077 == 0


# -- 4. load balancing Socket.IO --


def socketio_by_hand(proxy: Nginx, source: str = "127.0.0.1") -> tuple[list[int], dict | None]:
    statuses, path = [], "/socket.io/?EIO=4&transport=polling"
    for method, body in [("GET", None), ("POST", b"40"), ("GET", None), ("POST", b'420["where"]'), ("GET", None)]:
        status, reply = get(proxy, path, method=method, body=body, source=source)
        statuses.append(status)
        if status != 200:
            return statuses, None
        if "sid=" not in path:
            path += f"&sid={json.loads(reply[1:])['sid']}"
    return statuses, json.loads(reply[3:])[0]


@pytest.fixture
def socketio_nodes():
    redis = cluster.RedisServer(name="redis")
    return cluster.start_socketio_cluster(2, redis_url=redis.url, name="node")


def test_round_robin_breaks_polling_sticky_fixes_it(socketio_nodes) -> None:
    urls = [n.url for n in socketio_nodes]
    round_robin = proxy_for(urls, name="lb")
    statuses, where = socketio_by_hand(round_robin)
    assert statuses == [200, 400] and where is None
    round_robin.wait_for_log(r"sid=.* 400 ")  # nginx writes a request's line after its answer has gone out
    upstreams = re.findall(r"upstream=(\S+)", round_robin.access_log(0))
    assert len(set(upstreams)) == 2  # the second request went to the other process

    sticky = proxy_for(urls, "", "hash $remote_addr", name="lb")
    ports = set()
    for source in ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]:
        statuses, where = socketio_by_hand(sticky, source)
        assert statuses == [200] * 5
        ports.add(where["port"])
    assert len(ports) == 2  # these four addresses hash onto both processes
    sessions: dict[str, set[str]] = {}
    for line in sticky.access_log(0).splitlines():
        if "sid=" in line:
            sessions.setdefault(re.search(r"sid=([^& ]+)", line)[1], set()).add(re.search(r"upstream=(\S+)", line)[1])
    assert len(sessions) == 4 and all(len(s) == 1 for s in sessions.values())

    # ip_hash: the whole of 127.0.0.x is one key, so a real polling client connects (and upgrades)
    ip_hash = proxy_for(urls, "", "ip_hash", name="lb")
    real = wskit.SocketIOClient(ip_hash.url, name="real")
    assert real.transport == "websocket" and real.call("echo", "hi") == "hi"

    # and a real client starting with long polling fails through round-robin
    round_robin = proxy_for(urls, name="lb")
    with pytest.raises((wskit.SocketIORefused, TimeoutError)):
        wskit.SocketIOClient(round_robin.url, name="poller", timeout=1, reconnection=False)
    assert " 400 " in round_robin.wait_for_log(r"sid=.* 400 ")


def test_websocket_only_needs_no_stickiness_and_redis_carries_broadcasts(socketio_nodes) -> None:
    round_robin = proxy_for([n.url for n in socketio_nodes], name="lb")
    alice = wskit.SocketIOClient(round_robin.url, transports=["websocket"], name="alice")
    bob = wskit.SocketIOClient(round_robin.url, transports=["websocket"], name="bob")
    assert alice.call("where")["port"] != bob.call("where")["port"]
    alice.call("join", "lobby")
    bob.call("join", "lobby")
    alice.emit("say", "lobby", "across")
    assert bob.recv("said")[1]["text"] == "across"


# -- 5. a slow consumer --


def test_slow_consumer_is_let_go_and_fast_one_gets_everything() -> None:
    chat = wskit.ChatServer(name="chat", ping_interval=None, log_size=100)
    proxy = proxy_for(chat.url)

    def url(who: str) -> str:
        return proxy.ws_url + "?" + chat.url_for(who).split("?", 1)[1]

    fast = wskit.connect(url("fast"), ping_interval=None, log_size=100, name="fast")
    slow = wskit.connect(url("slow"), ping_interval=None, log_size=100, name="slow")
    count, size = 1500, 16_000

    async def flood(ws) -> int:
        async def reader() -> int:
            for i in range(count):
                assert json.loads(await ws.recv())["text"].startswith(f"{i:08d}")  # all of them, in order
            return count

        reading = asyncio.ensure_future(reader())
        for i in range(count):
            await ws.send(f"{i:08d}" + "x" * size)
            await asyncio.sleep(0.001)
        return await asyncio.wait_for(reading, 60)

    assert kit_loop.run(flood(fast.connection), 90) == count
    received = 0
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            slow.recv(timeout=10)
            received += 1
    assert slow.close_code in (1008, 1013) and received < count


# -- 6. auth without leaks --


def test_token_in_query_is_logged_header_is_not() -> None:
    guarded = wskit.EchoServer(token="s3cret", name="guarded", ping_interval=None)
    proxy = proxy_for(guarded.url)
    wskit.connect(f"{proxy.ws_url}?token=s3cret", name="a").close()
    assert "?token=s3cret" in proxy.wait_for_log("token=")
    count = proxy.log_lines()
    wskit.connect(proxy.ws_url, headers={"Authorization": "Bearer s3cret", "Cookie": "session=s3cret"},
                  name="b").close()
    line = proxy.wait_for_log(r'"GET / HTTP/1.1" 101', after=count)
    assert "s3cret" not in line


def test_ticket_is_single_use_short_lived_and_needs_the_api_token() -> None:
    tickets = TicketServer(users={"api-token": "alice"}, ttl=0.5, name="tickets", ping_interval=None)
    proxy = proxy_for(tickets.url)
    ticket = fetch_ticket(proxy.url, "api-token")  # through nginx: an ordinary HTTP request
    client = wskit.connect(f"{proxy.ws_url}?ticket={ticket}", name="alice")
    assert client.recv() == "hello alice"
    client.send("echo?")
    assert client.recv() == "echo?"
    with pytest.raises(wskit.HandshakeRefused, match="already used") as replay:
        wskit.connect(f"{proxy.ws_url}?ticket={ticket}", name="replay")
    assert replay.value.status == 403
    with pytest.raises(wskit.HandshakeRefused) as missing:
        wskit.connect(proxy.ws_url, name="none")
    assert missing.value.status == 401
    with pytest.raises(wskit.HandshakeRefused, match="unknown"):
        wskit.connect(f"{proxy.ws_url}?ticket=made-up", name="made-up")
    late = tickets.issue("alice")
    time.sleep(0.6)  # let the ticket expire
    with pytest.raises(wskit.HandshakeRefused, match="expired"):
        wskit.connect(f"{tickets.url}?ticket={late}", name="late")
    with pytest.raises(TicketRefused, match="403: the API token is not valid") as wrong:
        fetch_ticket(tickets.http_url, "not-the-token")
    assert wrong.value.status == 403 and isinstance(wrong.value, wskit.LiveError)
    status, _ = get(proxy, "/ticket")
    assert status == 401
    assert (tickets.used, tickets.refused) == (1, 4)
    client.close()
    proxy.wait_for_log(r'"GET /\?ticket=\S+ HTTP/1.1" 101')  # a WebSocket's line is written when it closes
    log = proxy.access_log(0)
    assert "api-token" not in log and log.count(ticket) == 2


def test_ticket_server_needs_users() -> None:
    with pytest.raises(ValueError, match="users"):
        TicketServer(users={})


# -- 7. subprotocols --


def test_subprotocols_through_nginx() -> None:
    versions = wskit.EchoServer(subprotocols=["chat.v2", "chat.v1"], name="versions", ping_interval=None)
    proxy = proxy_for(versions.url)
    client = wskit.connect(proxy.ws_url, subprotocols=["chat.v1", "chat.v2"], name="c")
    assert client.connection.subprotocol == "chat.v2"
    plain = wskit.EchoServer(name="plain", ping_interval=None)
    client = wskit.connect(proxy_for(plain.url, name="p2").ws_url, subprotocols=["chat.v1"], name="c")
    assert client.connection.subprotocol is None and not client.closed
    rewrite = proxy_for(versions.url, "proxy_hide_header Sec-WebSocket-Protocol;\n"
                        "add_header Sec-WebSocket-Protocol chat.v9 always;", name="p3")
    with pytest.raises(websockets.InvalidHandshake, match=r"chat\.v9"):
        wskit.connect(rewrite.ws_url, subprotocols=["chat.v1", "chat.v2"], name="c2")
