"""The sync client a learner types, against a bare client doing the same echo.

``c.send(x); c.recv()`` in a plain cell (wskit.Client) is compared with a bare
``websockets`` asyncio client on the same wskit loop, against the same
wskit.EchoServer, in alternating rounds so that drift in the machine's speed
hits both alike. Wall time and CPU time (of this process: client and server
share it, as they do in a kernel) per echo, at several sizes.

``SocketIOClient.call`` is compared the same way with a bare python-socketio
AsyncClient calling the same acknowledged event.

Target (issue 21): wskit / bare ≤ 1.5 in wall time and in CPU per echo.

The kit's connections read their sockets 64 KiB at a time (``wskit.live.loop.read_small``; asyncio asks 256 KiB,
which glibc makes costly for small reads): the target compares with the bare client as a learner would write it,
and a second row, for scale, with the same bare client reading 64 KiB at a time.

For scale it also prints a bare thread hop (post a callback to the loop, wait on a queue it fills, no I/O): the
least a blocking call on a background loop adds to a round trip, whatever the client does.

Run: .venv/bin/python benchmarks/sync_client.py [--rounds 20] [--per-round 200]
"""

from __future__ import annotations

import argparse
import queue
import statistics
import time

import socketio
from websockets.asyncio.client import connect as ws_connect

import wskit
from wskit.live import loop

SIZES = (32, 1024, 64 * 1024)
TARGET = 1.5


def timed(fn, count: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) per call of ``fn``, over ``count`` calls."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        fn()
    return (time.perf_counter() - wall) / count, (time.process_time() - cpu) / count


def bare_ws_echo(url: str, payload: str | bytes, count: int, small_reads: bool = False) -> tuple[float, float]:
    """The bare websockets client, all ``count`` echoes in one coroutine on the wskit loop (``small_reads``: its
    socket read 64 KiB at a time, as the kit's connections are, instead of asyncio's 256 KiB)."""

    async def run() -> tuple[float, float]:
        async with ws_connect(url, compression=None) as ws:
            if small_reads:
                loop.read_small(ws.transport)
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(count):
                await ws.send(payload)
                await ws.recv()
            return (time.perf_counter() - wall) / count, (time.process_time() - cpu) / count

    return loop.run(run(), timeout=120)


def bare_sio_call(url: str, count: int) -> tuple[float, float]:
    async def run() -> tuple[float, float]:
        client = socketio.AsyncClient()
        await client.connect(url, transports=["websocket"])
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(count):
                await client.call("echo", "x" * 32, timeout=10)
            return (time.perf_counter() - wall) / count, (time.process_time() - cpu) / count
        finally:
            await client.disconnect()

    return loop.run(run(), timeout=120)


def hop_round_trip(count: int) -> tuple[float, float]:
    """The floor of any sync client on a background loop: one hop to the loop and back (post, then a queue the
    loop fills), with no I/O at all."""
    back: queue.SimpleQueue[None] = queue.SimpleQueue()
    return timed(lambda: (loop.post(back.put, None), back.get()), count)


def verdict(ratio: float) -> str:
    return "MET" if ratio <= TARGET else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=200)
    args = parser.parse_args()
    n = args.per_round
    print(f"{args.rounds} alternating rounds of {n} echoes; median per echo; target wskit/bare ≤ {TARGET}")
    print(f"{'':>22} {'wskit µs':>9} {'bare µs':>9} {'ratio':>6}        {'wskit CPU':>9} {'bare CPU':>9} {'ratio':>6}")
    try:
        server = wskit.EchoServer(name="bench-echo", compression=None)
        for size in SIZES:
            payload = "x" * size
            client = wskit.connect(server.url, name="bench-client", compression=None)
            ours, bare, small = [], [], []
            for _ in range(args.rounds):
                ours.append(timed(lambda c=client, p=payload: (c.send(p), c.recv()), n))
                bare.append(bare_ws_echo(server.url, payload, n))
                small.append(bare_ws_echo(server.url, payload, n, small_reads=True))
            client.close()
            report(f"Client echo {size:>6} B", ours, bare)
            report("  (bare, 64 KiB reads)", ours, small, verdicts=False)
        hops = [hop_round_trip(n) for _ in range(args.rounds)]
        hw, hc = (statistics.median(x[i] for x in hops) * 1e6 for i in (0, 1))
        print(f"{'thread hop, no I/O':>22} {hw:9.0f} {'':>9} {'':>6} {'':<6} {hc:9.0f}   (the floor a sync client pays "
              "per round trip on top of bare: cell thread → loop → cell thread)")
        sio = wskit.SocketIOServer(name="bench-sio")

        @sio.on("echo")
        async def echo(sid, data):
            return data

        caller = wskit.SocketIOClient(sio.url, name="bench-sio-client")
        ours, bare = [], []
        for _ in range(max(3, args.rounds // 4)):
            ours.append(timed(lambda: caller.call("echo", "x" * 32), n))
            bare.append(bare_sio_call(sio.url, n))
        report("SocketIOClient.call", ours, bare)
    finally:
        wskit.stop_all()


def report(label: str, ours: list[tuple[float, float]], bare: list[tuple[float, float]], verdicts: bool = True) -> None:
    ow, oc = (statistics.median(x[i] for x in ours) * 1e6 for i in (0, 1))
    bw, bc = (statistics.median(x[i] for x in bare) * 1e6 for i in (0, 1))
    rw, rc = ow / bw, oc / bc
    vw, vc = (verdict(rw), verdict(rc)) if verdicts else ("", "")
    print(f"{label:>22} {ow:9.0f} {bw:9.0f} {rw:6.2f} {vw:<6} {oc:9.0f} {bc:9.0f} {rc:6.2f} {vc}")


if __name__ == "__main__":
    main()
