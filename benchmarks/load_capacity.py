"""Capacity of wskit.EchoServer on loopback, and wskit.load against Artillery.

Three measurements, each bounded in time, all on 127.0.0.1:

1. 1,000 concurrent clients × 10 messages/s × 10 s against wskit.EchoServer,
   driven by ``python -m wskit load`` in its own process: lost, reordered,
   p50 / p99 (target: zero lost, zero reordered).
2. 10,000 idle connections held by one EchoServer (compression off): the
   server process's resident memory per connection (target: ≤ 12 KiB with the
   default traffic log; the websockets docs give 14 KiB without compression),
   and where those bytes go (tracemalloc, grouped by file: the kit's traffic
   log, the rest of the kit, websockets, asyncio, everything else). The
   clients live in another process so that only the server's memory is counted.
3. The same echo scenario driven by Artillery (npm, installed under
   benchmarks/artillery from its lock file with ``npm ci --ignore-scripts``)
   and by wskit.load, one after the other: messages per second achieved and
   CPU seconds used by each generator (target, issue 21: wskit.load drives at
   least twice as many messages per CPU second as Artillery, still timing every echo).

The open-file limit is raised to the hard limit first (scenario 2 needs
about 10,000 descriptors in each process).

Run: .venv/bin/python benchmarks/load_capacity.py [--users 1000] [--idle 10000] [--skip-artillery]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

import wskit
from wskit import load

HERE = Path(__file__).parent


def raise_fd_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_kib() -> int:
    return psutil.Process().memory_info().rss // 1024


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_child(command: list[str], timeout: float, cwd: Path | None = None) -> tuple[str, float, float]:
    """Run a load generator; return its output, wall seconds and CPU seconds."""
    cpu, started = children_cpu(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    wall, used = time.perf_counter() - started, children_cpu() - cpu
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{command[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout, wall, used


def wskit_load(url: str, users: int, messages: int, rate: float) -> tuple[dict, float, float]:
    return load.run_in_process(url, phases=[load.Phase(1, users)], messages=messages, rate=rate)


def scenario_concurrent(users: int) -> None:
    print(f"1. {users:,} concurrent clients × 10 messages/s × 10 s against wskit.EchoServer")
    srv = wskit.EchoServer(name="capacity", ping_interval=None)
    server_cpu = time.process_time()
    summary, wall, cpu = wskit_load(srv.url, users, messages=100, rate=10)
    server_cpu = time.process_time() - server_cpu
    latency = summary["latency_ms"]
    print(f"   users {summary['connected']:,}/{summary['users']:,} connected, sent {summary['sent']:,}, "
          f"received {summary['received']:,}, lost {summary['lost']}, out of order {summary['out_of_order']}, "
          f"errors {summary['errors'] or 0}")
    print(f"   latency p50 {latency['50']:.2f} ms, p99 {latency['99']:.2f} ms, p99.9 {latency['99.9']:.2f} ms, "
          f"max {latency['100']:.2f} ms; connect p99 {summary['connect_ms']['99']:.2f} ms")
    print(f"   {summary['received'] / summary['duration']:,.0f} echoes/s; generator CPU {cpu:.1f} s, "
          f"server process CPU {server_cpu:.1f} s, wall {wall:.1f} s")
    ok = summary["lost"] == 0 and summary["out_of_order"] == 0 and summary["connected"] == users
    print(f"   target: zero lost, zero reordered → {'MET' if ok else 'MISSED'}\n")
    srv.stop()


CLIENTS = textwrap.dedent("""
    import asyncio, resource, sys
    from websockets.asyncio.client import connect
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)

    async def main(url, n):
        connections = []
        for start in range(0, n, 500):
            batch = [connect(url, compression=None, ping_interval=None, proxy=None, open_timeout=120)
                     for _ in range(min(500, n - start))]
            connections += await asyncio.gather(*batch)
        print("ready", len(connections), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        await asyncio.gather(*(c.close() for c in connections))

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
""")


#: Where an idle connection's bytes go: (label, what a traced allocation's file path contains), first match wins.
PLACES = (
    ("wskit traffic log (log.py, _traffic.py)", ("/wskit/live/log.py", "/wskit/live/_traffic.py")),
    ("wskit, the rest", ("/wskit/",)),
    ("websockets connection and protocol", ("/websockets/",)),
    ("asyncio transport, streams and tasks", ("/asyncio/", "/selectors.py", "/socket.py")),
)
IDLE_TARGET_KIB = 12


def open_connections(srv: wskit.Server) -> int:
    """``srv.connections``, read from this thread while the loop thread changes the set (it may say so: retry)."""
    while True:
        try:
            return srv.connections
        except RuntimeError:  # "Set changed size during iteration"
            time.sleep(0.01)


def idle_connections(count: int, options: dict, traced: bool) -> tuple[int, float, dict[str, int], str]:
    """Hold ``count`` idle connections on one EchoServer; return (held, RSS KiB gained, traced bytes by place)."""
    import tracemalloc

    srv = wskit.EchoServer(name="idle", compression=None, ping_interval=None, **options)
    gc.collect()
    before = rss_kib()
    if traced:
        tracemalloc.start(1)
        start = tracemalloc.take_snapshot()
    clients = subprocess.Popen([sys.executable, "-c", CLIENTS, srv.url, str(count)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    places: dict[str, int] = {}
    try:
        ready = clients.stdout.readline() if clients.stdout else ""
        if not ready:
            raise RuntimeError(f"the client process could not open {count:,} connections (see its error above)")
        deadline = time.monotonic() + 120
        while (held := open_connections(srv)) < count and time.monotonic() < deadline:
            time.sleep(0.2)  # a benchmark polling a counter, not a test waiting for an event
        gc.collect()
        after = rss_kib()
        if traced:
            for stat in tracemalloc.take_snapshot().compare_to(start, "filename"):
                name = stat.traceback[0].filename.replace("\\", "/")
                label = next((label for label, parts in PLACES if any(p in name for p in parts)), "the rest")
                places[label] = places.get(label, 0) + stat.size_diff
            tracemalloc.stop()
    finally:
        if clients.stdin and clients.poll() is None:
            clients.stdin.write("\n")
            clients.stdin.flush()
        clients.wait(120)
        srv.stop()
    return held, after - before, places, ready.strip()


def idle_in_child(count: int, log_size: int | None, traced: bool) -> dict:
    """:func:`idle_connections` in a fresh server process (what an earlier run freed would hide what this one
    takes: the allocator keeps it for reuse)."""
    options = {} if log_size is None else {"log_size": log_size}
    code = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import load_capacity as lc, wskit; "
            f"lc.raise_fd_limit(); print(json.dumps(lc.idle_connections({count}, {options!r}, {traced}))); "
            "wskit.stop_all()")
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"the idle-connection server failed:\n{done.stderr[-2000:]}")
    held, gained, places, ready = json.loads(done.stdout.splitlines()[-1])
    return {"held": held, "gained": gained, "places": places, "ready": ready}


def scenario_idle(count: int) -> None:
    print(f"2. {count:,} idle connections held by one wskit.EchoServer (compression off), each run in a fresh "
          "server process")
    for label, log_size in (("default traffic log", None), ("log_size=1", 1)):
        run = idle_in_child(count, log_size, traced=False)
        per = run["gained"] / max(run["held"], 1)
        verdict = f"target ≤ {IDLE_TARGET_KIB} KiB: {'MET' if per <= IDLE_TARGET_KIB else 'MISSED'}"
        print(f"   {label:<20} {run['held']:,} connections ({run['ready']}); "
              f"server RSS +{run['gained'] / 1024:.1f} MiB "
              f"= {per:.1f} KiB per connection" + (f" → {verdict}" if log_size is None else ""))
    run = idle_in_child(count, None, traced=True)
    held, places = max(run["held"], 1), run["places"]
    total = sum(places.values())
    print(f"   where the bytes go (default log; tracemalloc: allocations still held, by file): "
          f"{total / held / 1024:.1f} KiB per connection")
    for label in [label for label, _ in PLACES] + ["the rest"]:
        size = places.get(label, 0)
        print(f"     {label:<42} {size / held:>7,.0f} B per connection  {100 * size / max(total, 1):3.0f} %")
    print("   (RSS also holds what the allocator keeps for reuse, and the pages the interpreter touched)\n")


ARTILLERY = """
config:
  target: "{url}"
  phases:
    - duration: 1
      arrivalRate: {users}
scenarios:
  - engine: ws
    flow:
      - loop:
          - send: "{payload}"
          - think: {think}
        count: {messages}
"""


def scenario_artillery(users: int, messages: int, rate: float) -> None:
    print(f"3. the same echo scenario ({users} users × {messages} messages at {rate:g}/s) from two generators")
    binary = HERE / "artillery" / "node_modules" / ".bin" / "artillery"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            print("   Artillery skipped: npm not found\n")
            return
        subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=HERE / "artillery",
                       check=True, capture_output=True, timeout=900)
    srv = wskit.EchoServer(name="versus", ping_interval=None)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "echo.yml"
        config.write_text(ARTILLERY.format(url=srv.url, users=users, payload="x" * 64, think=1 / rate,
                                           messages=messages))
        report = Path(tmp) / "report.json"
        _, art_wall, art_cpu = run_child([str(binary), "run", "--quiet", "--output", str(report), str(config)],
                                         timeout=messages / rate + 300)
        counters = json.loads(report.read_text())["aggregate"]["counters"]
    art_sent = counters.get("websocket.messages_sent", 0)
    art_errors = {k: v for k, v in counters.items() if k.startswith("errors.")}
    summary, load_wall, load_cpu = wskit_load(srv.url, users, messages, rate)
    srv.stop()
    rows = [
        ("Artillery 2.0.21", art_sent, None, art_wall, art_cpu, art_errors),
        ("wskit.load", summary["sent"], summary["received"], load_wall, load_cpu, summary["errors"]),
    ]
    print(f"   {'generator':<18}{'sent':>8}{'echoes timed':>14}{'wall s':>8}{'CPU s':>8}{'msgs/s':>9}"
          f"{'msgs per CPU s':>16}  errors")
    for name, sent, timed, wall, cpu, errors in rows:
        timed_text = "—" if timed is None else f"{timed:,}"
        print(f"   {name:<18}{sent:>8,}{timed_text:>14}{wall:>8.1f}{cpu:>8.1f}{sent / wall:>9,.0f}"
              f"{sent / max(cpu, 1e-9):>16,.0f}  {errors or 0}")
    ratio = (summary["sent"] / max(load_cpu, 1e-9)) / (art_sent / max(art_cpu, 1e-9)) if art_sent else float("inf")
    print(f"   wskit.load / Artillery messages per CPU second: {ratio:.2f} → target ≥ 2 (issue 21): "
          f"{'MET' if ratio >= 2 else 'MISSED'}")
    print("   (Artillery's ws engine only sends; wskit.load also receives, matches and times every echo.)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--skip-artillery", action="store_true")
    args = parser.parse_args()
    print(f"open-file limit raised to {raise_fd_limit():,}; {os.cpu_count()} CPUs\n")
    try:
        scenario_concurrent(args.users)
        scenario_idle(args.idle)
        if not args.skip_artillery:
            scenario_artillery(200, 50, 10)
    finally:
        wskit.stop_all()


if __name__ == "__main__":
    main()
