"""Socket.IO across processes through a real redis-server."""

from __future__ import annotations

import pytest

import wskit
from tests.requires import require_redis
from wskit import timing
from wskit.live import cluster

require_redis()


pytestmark = pytest.mark.usefixtures("clean_kit")


def clients(nodes, *names):
    people = [wskit.SocketIOClient(node.url, name=name) for node, name in zip(nodes, names, strict=True)]
    for person in people:
        person.call("join", "lobby")
    return people


def test_a_room_broadcast_crosses_processes_through_redis():
    redis = cluster.RedisServer()
    nodes = cluster.start_socketio_cluster(3, redis_url=redis.url)
    assert len({node.pid for node in nodes}) == 3 and all(node.running for node in nodes)
    alice, bob, carol = clients(nodes, "alice", "bob", "carol")
    assert len({person.call("where")["pid"] for person in (alice, bob, carol)}) == 3  # three processes
    alice.emit("say", "lobby", "hello, other processes")
    for person in (alice, bob, carol):
        _event, said = person.recv("said")
        assert said["text"] == "hello, other processes" and said["port"] == alice.call("where")["port"]


def test_without_a_broker_the_broadcast_stays_in_its_process():
    nodes = cluster.start_socketio_cluster(2)
    alice, bob = clients(nodes, "alice", "bob")
    alice.emit("say", "lobby", "anyone?")
    assert alice.recv("said")[1]["text"] == "anyone?"
    with pytest.raises(TimeoutError):
        bob.recv("said", timeout=0.5)


def test_a_killed_process_does_not_stop_the_others():
    redis = cluster.RedisServer()
    nodes = cluster.start_socketio_cluster(3, redis_url=redis.url)
    doomed, bob, carol = clients(nodes, "doomed", "bob", "carol")
    assert doomed.connected
    nodes[0].kill()  # a crash: no goodbye
    assert not nodes[0].running
    bob.emit("say", "lobby", "still here?")
    assert carol.recv("said")[1]["text"] == "still here?"
    assert bob.recv("said")[1]["text"] == "still here?"


def test_the_broker_costs_a_little_latency():
    redis = cluster.RedisServer()
    alone = cluster.start_socketio_cluster(1, name="alone")
    shared = cluster.start_socketio_cluster(2, redis_url=redis.url, name="shared")
    a, b = clients(alone * 2, "a", "b")
    c, d = clients(shared, "c", "d")
    local = timing.room_latency(a, b, "lobby", count=50)
    brokered = timing.room_latency(c, d, "lobby", count=50)
    assert 0 < local.p50 < brokered.p50 < 0.5  # a hop through Redis, but well under a second


def test_a_missing_redis_server_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(cluster.shutil, "which", lambda name: None)
    with pytest.raises(cluster.RedisMissing, match="apt-get install redis-server"):
        cluster.RedisServer()
    assert wskit.live_objects() == []
