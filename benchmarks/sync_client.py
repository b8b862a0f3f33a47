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

That hop is two wake-ups of a sleeping thread by another, and what a wake-up costs is the machine's: on a virtual
machine whose idle CPUs halt, waking a thread on the other CPU can cost ten times what it costs on the same one. So
the benchmark also prints a bare two-thread ping-pong (no asyncio, no wskit) across CPUs and on one CPU, and then
runs itself again with every thread of the process on one CPU (``--one-cpu``, ``os.sched_setaffinity``): what the
kit's own code costs when a wake-up is cheap. The target's verdict is the first table's, where the threads run where
the operating system puts them, as in a learner's kernel (the kit never pins threads: every child process a kernel
starts, Redis, nginx, Node.js, would inherit the one CPU).

Run: .venv/bin/python benchmarks/sync_client.py [--rounds 20] [--per-round 200] [--one-cpu | --no-one-cpu]
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import subprocess
import sys
import threading
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


def ping_pong(cpus: tuple[int, int], count: int = 3000) -> float:
    """µs per round trip of two fresh threads handing a turn back and forth through two locks (each waits, the
    other wakes it), the first on ``cpus[0]`` and the second on ``cpus[1]``: the machine's wake-up, nothing else."""
    mine, theirs = threading.Lock(), threading.Lock()
    mine.acquire()
    theirs.acquire()
    took: list[float] = []

    def other() -> None:
        os.sched_setaffinity(threading.get_native_id(), {cpus[1]})
        for _ in range(count):
            mine.acquire()
            theirs.release()

    def first() -> None:
        os.sched_setaffinity(threading.get_native_id(), {cpus[0]})
        helper = threading.Thread(target=other)
        helper.start()
        time.sleep(0.05)
        start = time.perf_counter()
        for _ in range(count):
            mine.release()
            theirs.acquire()
        took.append(time.perf_counter() - start)
        helper.join()

    runner = threading.Thread(target=first)
    runner.start()
    runner.join()
    return took[0] / count * 1e6


def allowed_cpus() -> list[int]:
    """The CPUs this process may run on; empty where the system cannot pin threads (macOS, Windows)."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_setaffinity") else []


def machine_wake_ups() -> float | None:
    """Print the two-thread ping-pong on two CPUs and on one CPU (median of 5 each, alternating); return the first
    (µs), or None when this process may use one CPU only or cannot pin threads."""
    cpus = allowed_cpus()
    if len(cpus) < 2:
        print(f"{'thread ping-pong':>22}  not measured: " + ("this system cannot pin a thread to a CPU" if not cpus
              else "this process may use one CPU only, so every wake-up is a same-CPU one"))
        return None
    apart, together = [], []
    for _ in range(5):
        apart.append(ping_pong((cpus[0], cpus[1])))
        together.append(ping_pong((cpus[0], cpus[0])))
    a, t = statistics.median(apart), statistics.median(together)
    print(f"{'thread ping-pong':>22} {a:9.1f} µs with the two threads on two CPUs, {t:.1f} µs on one CPU "
          f"({a / t:.1f}×): two wake-ups per round trip, the machine's cost, no asyncio and no wskit")
    return a


def verdict(ratio: float) -> str:
    return "MET" if ratio <= TARGET else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--one-cpu", action="store_true",
                        help="run every thread of this process on one CPU (the second table's run)")
    parser.add_argument("--no-one-cpu", action="store_true", help="do not run the second table")
    args = parser.parse_args()
    n = args.per_round
    if args.one_cpu:
        cpus = allowed_cpus()
        if not cpus:
            parser.error("--one-cpu needs a system that can pin threads to a CPU (Linux)")
        cpu = cpus[0]
        os.sched_setaffinity(0, {cpu})  # before the loop thread starts: it inherits the mask
        print(f"\nThe same with every thread of this process on CPU {cpu} (--one-cpu): the kit's own cost when a "
              "wake-up is cheap; for scale, not the target's verdict")
        wake_ups = None
    else:
        wake_ups = machine_wake_ups()
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
            bare_us = report(f"Client echo {size:>6} B", ours, bare)
            if wake_ups is not None and size == SIZES[0]:
                least = (bare_us + wake_ups) / bare_us
                print(f"{'':>22} (the least any client on a background loop could reach here: bare + the two "
                      f"wake-ups of the ping-pong = {least:.2f}×, {'within' if least <= TARGET else 'past'} the "
                      "target before any code of its own)")
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
    if not (args.one_cpu or args.no_one_cpu) and len(allowed_cpus()) > 1:
        sys.stdout.flush()
        again = [sys.executable, __file__, "--one-cpu", "--rounds", str(args.rounds), "--per-round", str(n)]
        subprocess.run(again, check=True)


def report(label: str, ours: list[tuple[float, float]], bare: list[tuple[float, float]],
           verdicts: bool = True) -> float:
    """Print one row; return the bare client's median wall µs."""
    ow, oc = (statistics.median(x[i] for x in ours) * 1e6 for i in (0, 1))
    bw, bc = (statistics.median(x[i] for x in bare) * 1e6 for i in (0, 1))
    rw, rc = ow / bw, oc / bc
    vw, vc = (verdict(rw), verdict(rc)) if verdicts else ("", "")
    print(f"{label:>22} {ow:9.0f} {bw:9.0f} {rw:6.2f} {vw:<6} {oc:9.0f} {bc:9.0f} {rc:6.2f} {vc}")
    return bw


if __name__ == "__main__":
    main()
