"""Echo round trips: raw TCP, a bare `websockets` server, wskit.EchoServer, and Socket.IO.

One client implementation per protocol, one process, the same message sizes,
fresh connections each round.
The client is the bare `websockets` asyncio client for every WebSocket server
(no wskit code on the client side), so the ratio shows what wskit's server
adds: its traffic log, byte counters and handler wrapper. Servers are
measured in alternating rounds so that drift in the machine's speed hits
them all alike.

Target (issue 5): wskit / bare websockets ≤ 1.10 at every size (median).
The Socket.IO column is wskit.SocketIOServer with a bare python-socketio
client calling an "echo" event whose acknowledgement returns the data (binary
payloads travel as Socket.IO attachments): a different protocol, shown for
comparison, with no target.

Run: .venv/bin/python benchmarks/echo_rtt.py [--rounds 40] [--per-round 25]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import socketio
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

import wskit
from wskit.live import loop
from wskit.timing import Stats

SIZES = (64, 1024, 16 * 1024, 256 * 1024)


async def bare_echo(ws) -> None:
    async for message in ws:
        await ws.send(message)


def sio_round_trip(client, payload: bytes):
    async def once() -> None:
        await client.call("echo", payload, timeout=10)

    return once


def tcp_round_trip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes):
    async def once() -> None:
        writer.write(payload)
        await reader.readexactly(len(payload))

    return once


def ws_round_trip(ws, payload: bytes):
    async def once() -> None:
        await ws.send(payload)
        await ws.recv()

    return once


async def measure_size(size: int, bare_url: str, args: argparse.Namespace, samples: dict) -> None:
    """Fresh connections every round: a connection's own TCP state (buffer autotuning) varies
    from one connection to the next, and would otherwise weigh on one server only."""
    payload = bytes(i % 251 for i in range(size))
    for round_number in range(args.rounds):
        tcp_reader, tcp_writer = await asyncio.open_connection("127.0.0.1", TCP.port)
        clients = {
            "bare websockets": await connect(bare_url, compression=None, max_size=None, proxy=None),
            "wskit.EchoServer": await connect(WSKIT.url, compression=None, max_size=None, proxy=None),
        }
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(SIO.url, transports=["websocket"])
        runners = {
            "raw TCP": tcp_round_trip(tcp_reader, tcp_writer, payload),
            **{name: ws_round_trip(ws, payload) for name, ws in clients.items()},
            "Socket.IO": sio_round_trip(sio, payload),
        }
        for once in runners.values():  # warm up each fresh connection
            for _ in range(5 if round_number else 20):
                await once()
        for name, once in runners.items():
            bucket = samples.setdefault((name, size), [])
            for _ in range(args.per_round):
                started = time.perf_counter()
                await once()
                bucket.append(time.perf_counter() - started)
        for ws in clients.values():
            await ws.close()
        await sio.disconnect()
        tcp_writer.close()


async def measure(args: argparse.Namespace) -> dict[tuple[str, int], list[float]]:
    bare = await serve(bare_echo, "127.0.0.1", 0, compression=None)
    bare_url = f"ws://127.0.0.1:{bare.sockets[0].getsockname()[1]}/"
    samples: dict[tuple[str, int], list[float]] = {}
    try:
        for size in SIZES:
            await measure_size(size, bare_url, args, samples)
    finally:
        bare.close()
        await bare.wait_closed()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--per-round", type=int, default=25)
    args = parser.parse_args()

    global TCP, WSKIT, SIO
    TCP = wskit.TCPEchoServer(name="bench-tcp")
    WSKIT = wskit.EchoServer(name="bench-wskit", max_size=None, ping_interval=None)
    SIO = wskit.SocketIOServer(name="bench-sio", max_http_buffer_size=10**7)

    @SIO.on("echo")
    async def echo(sid, data):
        return data

    try:
        samples = loop.run(measure(args), timeout=None)
    finally:
        wskit.stop_all()

    names = ["raw TCP", "bare websockets", "wskit.EchoServer", "Socket.IO"]
    print(f"echo round trips on loopback, {args.rounds} rounds × {args.per_round} per server and size "
          f"(median / p99, ms)\n")
    print(f"{'size':>9}" + "".join(f"{n:>26}" for n in names) + f"{'wskit/bare median':>19}{'wskit/bare p99':>16}")
    worst = 0.0
    for size in SIZES:
        stats = {n: Stats.from_samples(n, samples[(n, size)]) for n in names}
        cells = "".join(f"{stats[n].p50 * 1000:>14.3f} / {stats[n].p99 * 1000:<9.3f}" for n in names)
        ratio = stats["wskit.EchoServer"].p50 / stats["bare websockets"].p50
        ratio99 = stats["wskit.EchoServer"].p99 / stats["bare websockets"].p99
        worst = max(worst, ratio)
        print(f"{size:>9,}{cells}{ratio:>19.3f}{ratio99:>16.3f}")
    print(f"\ntarget: wskit / bare websockets ≤ 1.10 (median) at every size → worst {worst:.3f}:",
          "MET" if worst <= 1.10 else "MISSED")


if __name__ == "__main__":
    main()
