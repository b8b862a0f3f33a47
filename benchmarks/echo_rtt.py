"""Echo round trips: raw TCP, a bare `websockets` server, wskit.EchoServer, and Socket.IO.

One client implementation per protocol, one process, the same message sizes,
fresh connections each round.
The client is the bare `websockets` asyncio client for every WebSocket server
(no wskit code on the client side), so the ratio shows what wskit's server
adds: its traffic log, byte counters and handler wrapper. Servers are
measured in alternating rounds, each round in a rotated order, so that drift
in the machine's speed, and whatever one server's turn leaves behind, hits
them all alike.

Target (issue 5): wskit / bare websockets ≤ 1.10 at every size (median).
The Socket.IO column is wskit.SocketIOServer with a bare python-socketio
client calling an "echo" event whose acknowledgement returns the data (binary
payloads travel as Socket.IO attachments): a different protocol, shown for
comparison, with no target.

Every round trip is timed by wskit.timing's one measured loop (`timing.rtt_async`, the loop behind
`timing.rtt` in the notebooks), and every median and p99 comes from its one percentile implementation
(`timing.Stats`, an HDR histogram to 3 significant digits).

Run: .venv/bin/python benchmarks/echo_rtt.py [--rounds 40] [--per-round 25]
"""

from __future__ import annotations

import argparse

import socketio
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

import wskit
from wskit import timing
from wskit.live import loop
from wskit.timing import Stats

SIZES = (64, 1024, 16 * 1024, 256 * 1024)


async def bare_echo(ws) -> None:
    async for message in ws:
        await ws.send(message)


async def measure_size(size: int, bare_url: str, args: argparse.Namespace, samples: dict) -> None:
    """Fresh connections every round: a connection's own TCP state (buffer autotuning) varies
    from one connection to the next, and would otherwise weigh on one server only."""
    for round_number in range(args.rounds):
        clients = {
            "bare websockets": await connect(bare_url, compression=None, max_size=None, proxy=None),
            "wskit.EchoServer": await connect(WSKIT.url, compression=None, max_size=None, proxy=None),
        }
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(SIO.url, transports=["websocket"])
        targets = [("raw TCP", TCP), *clients.items(), ("Socket.IO", sio)]  # raw TCP: rtt opens its own connection
        turn = round_number % len(targets)  # who goes first rotates: what one leaves behind (garbage, a busy
        for name, target in targets[turn:] + targets[:turn]:  # core) falls on each of the others alike
            stats = await timing.rtt_async(target, count=args.per_round, size=size, binary=True,
                                           warmup=5 if round_number else 20, name=name)
            samples.setdefault((name, size), []).extend(stats.samples)
        for ws in clients.values():
            await ws.close()
        await sio.disconnect()


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
