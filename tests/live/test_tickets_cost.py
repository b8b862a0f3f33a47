"""TicketServer.issue: expiry costs O(1) a ticket (not a scan of every live ticket), and live tickets are bounded."""

from __future__ import annotations

import types
import urllib.error
import urllib.request

import pytest

import wskit
from wskit.live import tickets as tickets_module
from wskit.live.tickets import TicketRefused, TicketServer, fetch_ticket


class Clock:
    """A fake ``time.monotonic`` for the tickets module only, counting the comparisons with ``now``."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.comparisons = 0
        clock = self

        class Now(float):  # ``expiry < now`` calls now.__gt__(expiry): a float subclass sees every comparison
            def __lt__(self, other):
                clock.comparisons += 1
                return float(self) < other

            def __gt__(self, other):
                clock.comparisons += 1
                return float(self) > other

        self._now_type = Now

    def monotonic(self) -> float:
        return self._now_type(self.now)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(tickets_module, "time", types.SimpleNamespace(monotonic=fake.monotonic))
    return fake


def test_issue_does_not_scan_the_live_tickets(clock):
    srv = TicketServer(users={"api-token": "alice"}, ttl=60, name="tickets", ping_interval=None)
    n = 2000
    for _ in range(n):
        srv.issue("alice")
        clock.now += 0.001  # all within the ttl: all live
    # the old code compared every live ticket's expiry on each issue: n * (n - 1) / 2 = ~2,000,000 comparisons
    assert clock.comparisons <= 2 * n, clock.comparisons


def test_expired_tickets_are_forgotten_as_new_ones_are_issued(clock):
    srv = TicketServer(users={"api-token": "alice"}, ttl=1.0, max_tickets=150, name="tickets", ping_interval=None)
    for _ in range(3000):  # 100 issued a ttl: never more than ~100 live, so max_tickets is never reached
        srv.issue("alice")
        clock.now += 0.01
    assert clock.comparisons <= 3 * 3000, clock.comparisons


def test_tickets_still_work_once_expire_and_are_single_use(clock):
    srv = TicketServer(users={"api-token": "alice"}, ttl=5, name="tickets", ping_interval=None)
    first, second, third = srv.issue("alice"), srv.issue("alice"), srv.issue("alice")
    client = wskit.connect(f"{srv.url}?ticket={second}", name="alice")  # not the oldest: taken from the middle
    assert client.recv() == "hello alice"
    client.close()
    with pytest.raises(wskit.HandshakeRefused, match="already used"):
        wskit.connect(f"{srv.url}?ticket={second}", name="replay")
    clock.now += 6
    with pytest.raises(wskit.HandshakeRefused, match="expired"):
        wskit.connect(f"{srv.url}?ticket={first}", name="late")
    srv.issue("alice")  # forgets the expired third
    with pytest.raises(wskit.HandshakeRefused, match="unknown"):
        wskit.connect(f"{srv.url}?ticket={third}", name="forgotten")
    assert (srv.used, srv.refused) == (1, 3)


def test_live_tickets_are_bounded_and_the_endpoint_answers_503(clock):
    assert tickets_module.MAX_LIVE_TICKETS == 10_000
    srv = TicketServer(users={"api-token": "alice"}, ttl=10, max_tickets=3, name="tickets", ping_interval=None)
    issued = [srv.issue("alice") for _ in range(3)]
    clock.now += 2.5
    with pytest.raises(tickets_module.TooManyTickets, match="3 tickets are live") as full:
        srv.issue("alice")
    assert full.value.retry_after == 8 and isinstance(full.value, wskit.LiveError)  # ceil(10 - 2.5)
    with pytest.raises(TicketRefused, match="503: 3 tickets are live") as refused:
        fetch_ticket(srv.http_url, "api-token")
    assert refused.value.status == 503
    request = urllib.request.Request(f"{srv.http_url}/ticket", headers={"Authorization": "Bearer api-token"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(request, timeout=5)
    with answer.value:
        assert answer.value.headers["Retry-After"] == "8"
    wskit.connect(f"{srv.url}?ticket={issued[0]}", name="alice").close()  # none was dropped: all still work
    assert fetch_ticket(srv.http_url, "api-token")  # and a used one frees a place
    clock.now += 11  # past every expiry so far
    assert [srv.issue("alice") for _ in range(3)]  # expired ones free theirs


def test_max_tickets_must_be_positive():
    with pytest.raises(ValueError, match="max_tickets"):
        TicketServer(users={"api-token": "alice"}, max_tickets=0)


def test_the_ttl_is_fixed_once_the_server_is_made():
    """Tickets expire in the order they were issued only while they all have the same ttl: changing it on a running
    server would leave expired tickets behind a long-lived one, counted against max_tickets."""
    srv = TicketServer(users={"api-token": "alice"}, ttl=30, name="tickets", ping_interval=None)
    with pytest.raises(AttributeError):
        srv.ttl = 0.05
    assert srv.ttl == 30
