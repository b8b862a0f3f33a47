"""ChatServer under churn and abuse: empty rooms forgotten, backlogs bounded in bytes, 1013 for a slow member."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
import tracemalloc

import pytest
from websockets.asyncio.client import connect as ws_connect

import wskit
from wskit.codec import frames as fr
from wskit.live import loop
from wskit.live.chat import TOO_SLOW


@pytest.mark.slow  # seconds of real work: not in the quick loop (CI runs it)
def test_twenty_thousand_room_joins_leave_no_empty_room():
    chat = wskit.ChatServer()
    count = 20_000  # a leak would keep 19,999 empty rooms

    async def wander():
        async with ws_connect(chat.url_for("alice", "start")) as alice:
            for start in range(0, count, 2000):
                for i in range(start, start + 2000):
                    await alice.send(json.dumps({"join": f"room-{i}"}))
                for _ in range(2000):
                    await alice.recv()
            return chat.rooms, len(chat._members)

    started = time.monotonic()
    rooms, kept = loop.run(wander(), timeout=240)
    print(f"{count} joins in {time.monotonic() - started:.1f} s; rooms kept: {kept}")
    assert kept == 1
    assert rooms == {f"room-{count - 1}": ["alice"]}
    chat.log.wait_for(lambda r: r.opcode == "CLOSED")
    assert chat._members == {} and chat.rooms == {}  # alice left: nothing at all


@pytest.mark.slow  # seconds of real work: not in the quick loop (CI runs it)
def test_a_member_that_never_reads_is_dropped_with_1013_and_memory_stays_bounded():
    chat = wskit.ChatServer()
    slow = wskit.RawSocket(chat.url, timeout=20)
    slow.handshake(path="/?name=slow&room=lobby")  # joins the lobby, then never reads
    nul = "\0" * 2**20  # 1 MiB of NUL: 6 MiB once escaped in JSON

    async def flood():
        async with ws_connect(chat.url_for("mallory"), max_size=None) as mallory:
            for _ in range(40):
                await mallory.send(nul)
                said = json.loads(await mallory.recv())  # mallory reads: she is not the slow one
                assert len(said["text"]) == len(nul)

    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        loop.run(flood(), timeout=120)
        peak = (tracemalloc.get_traced_memory()[1] - base) / 2**20
        gc.collect()
        held = (tracemalloc.get_traced_memory()[0] - base) / 2**20
    finally:
        tracemalloc.stop()
    print(f"40 x 1 MiB of NUL to a member that never reads: peak +{peak:.0f} MiB, held after +{held:.0f} MiB")
    assert chat.dropped_slow == 1
    error = chat.log.wait_for(lambda r: r.opcode == "ERROR" and "too slow" in r.info)
    assert f"disconnected with {TOO_SLOW}" in error.info
    assert peak < 100 and held < 30
    while (frame := slow.recv_frame()).opcode is not fr.Opcode.CLOSE:
        pass
    assert fr.parse_close(frame.payload)[0] == 1013 == TOO_SLOW
    slow.close()


def test_rooms_read_a_million_times_under_join_and_leave_churn():
    chat = wskit.ChatServer()
    stop = threading.Event()

    async def churn():
        async with ws_connect(chat.url_for("alice")) as alice, ws_connect(chat.url_for("bob")) as bob:
            moves = 0
            while not stop.is_set():
                for who in (alice, bob):
                    await who.send(json.dumps({"join": f"room-{moves % 7}"}))
                    await who.recv()
                    moves += 1
            return moves

    moving = asyncio.run_coroutine_threadsafe(churn(), loop.get_loop())
    reads = errors = 0
    seen = set()
    started = time.monotonic()
    try:
        while reads < 1_000_000 and time.monotonic() - started < 50:
            try:
                rooms = chat.rooms
                if reads % 1000 == 0:
                    seen.add(tuple(sorted(rooms)))
            except RuntimeError:  # "dictionary changed size during iteration" and the like
                errors += 1
            reads += 1
    finally:
        stop.set()
        moves = moving.result(10)
    print(f"{reads} reads of ChatServer.rooms in {time.monotonic() - started:.1f} s during {moves} moves: "
          f"{errors} errors, {len(seen)} different room sets seen")
    assert reads == 1_000_000 and errors == 0
    assert moves > 20 and len(seen) > 5  # the rooms did change under the reader (how often depends on the machine)
