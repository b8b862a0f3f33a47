"""Capacity of wskit.EchoServer on loopback, and wskit.load against Artillery.

Three measurements, each bounded in time, all on 127.0.0.1:

1. 1,000 concurrent clients × 10 messages/s × 10 s against wskit.EchoServer,
   driven by ``python -m wskit load`` in its own process, on asyncio's loop and
   on uvloop: lost, reordered, echoes/s, p50 / p99 and the CPU per echo of the
   generator and of the server (target, issue 21: zero lost, zero reordered,
   the offered 10,000 echoes/s held with p99 under 50 ms). The same load on a
   bare ``websockets`` echo server (no traffic log) shows what the machine
   allows: generator and server share its cores.
2. 10,000 idle connections held by one EchoServer (compression off): the
   server process's resident memory per connection (target: ≤ 12 KiB with the
   default traffic log; the websockets docs give 14 KiB without compression),
   and where those bytes go (tracemalloc, grouped by file: the kit's traffic
   log, the rest of the kit, websockets, asyncio, everything else). The
   clients live in another process so that only the server's memory is counted.
3. The same echo scenario driven by Artillery (npm, installed under
   benchmarks/artillery from its lock file with ``npm ci --ignore-scripts``)
   and by wskit.load (on asyncio's loop, the default, and on uvloop where it is
   installed), one after the other, in several rounds: messages per second
   achieved and CPU seconds used by each generator, and the median ratio
   (target, issue 21: wskit.load drives at least twice as many messages per CPU
   second as Artillery, still timing every echo).

The open-file limit is raised to the hard limit first (scenario 2 needs
about 10,000 descriptors in each process).

Run: .venv/bin/python benchmarks/load_capacity.py [--users 1000] [--idle 10000] [--skip-artillery] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
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


def wskit_load(url: str, users: int, messages: int, rate: float, loop: str = "asyncio") -> tuple[dict, float, float]:
    return load.run_in_process(url, phases=[load.Phase(1, users)], messages=messages, rate=rate, loop=loop)


def loops() -> list[str]:
    """The generator's event loops to measure: asyncio's own (the default), and uvloop where it is installed."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        print("   (uvloop is not installed: the generator is measured on asyncio's loop only)")
        return ["asyncio"]
    return ["asyncio", "uvloop"]


def bare_echo_server() -> tuple[str, object]:
    """A bare ``websockets`` echo server (no traffic log, no wskit) on the wskit loop: the ceiling to compare with."""
    from websockets.asyncio.server import serve

    from wskit.live import loop

    async def echo(ws) -> None:
        async for message in ws:
            await ws.send(message)

    async def start():
        return await serve(echo, "127.0.0.1", 0, compression=None, ping_interval=None)

    loop.get_loop()  # started if it is not running yet
    server = loop.run(start())
    return f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/", server


P99_TARGET_MS = 50


def scenario_concurrent(users: int) -> None:
    from wskit.live import loop

    messages, rate, arrival = 100, 10.0, 1.0
    window = arrival + (messages - 1) / rate  # the first user's first message to the last user's last
    offered = users * messages / window
    print(f"1. {users:,} concurrent clients × {rate:g} messages/s × {messages / rate:g} s: {users * rate:,.0f} "
          f"echoes/s once all are in ({offered:,.0f}/s on average over the {window:.1f} s they send)")
    print(f"   target (issue 21): 0 lost, 0 reordered, the offered rate held with p99 < {P99_TARGET_MS} ms; the CPU "
          "per echo of each side")
    bare_url, bare = bare_echo_server()
    generators = loops()
    runs = [("wskit.EchoServer", name, None) for name in generators] + [("bare websockets", generators[-1], bare_url)]
    print(f"   {'server':<17}{'generator':<10}{'lost':>5}{'reord.':>7}{'echoes/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'gen µs/echo':>13}{'srv µs/echo':>13}  verdict")
    for server_name, loop_name, url in runs:
        srv = None
        if url is None:
            srv = wskit.EchoServer(name="capacity", ping_interval=None)
            url = srv.url
        server_cpu = time.process_time()  # the server runs in this process, on the wskit loop
        summary, _wall, cpu = wskit_load(url, users, messages, rate, loop_name)
        server_cpu = time.process_time() - server_cpu
        if srv is not None:
            srv.stop()
        latency, echoes = summary["latency_ms"], max(summary["received"], 1)
        per_second = summary["received"] / summary["duration"]
        held = per_second >= 0.95 * offered and latency["99"] < P99_TARGET_MS
        ok = summary["lost"] == 0 and summary["out_of_order"] == 0 and summary["connected"] == users and held
        print(f"   {server_name:<17}{loop_name:<10}{summary['lost']:>5}{summary['out_of_order']:>7}"
              f"{per_second:>10,.0f}{latency['50']:>9.1f}{latency['99']:>9.1f}{cpu / echoes * 1e6:>13.0f}"
              f"{server_cpu / echoes * 1e6:>13.0f}  {'MET' if ok else 'MISSED'}"
              + (f" (errors {summary['errors']})" if summary["errors"] else ""))
    bare.close()
    loop.run(bare.wait_closed())
    print("   (gen: the generator's process, all its users; srv: this process, where the server runs. The bare row is")
    print("   the same load on a websockets server with no traffic log: what this machine allows the design)\n")


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
    ("handshake headers (compacted by wskit)", ("/wskit/live/_headers.py",)),
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


def scenario_artillery(users: int, messages: int, rate: float, rounds: int = 3) -> None:
    print(f"3. the same echo scenario ({users} users × {messages} messages at {rate:g}/s) from each generator, "
          f"{rounds} rounds one after the other (Artillery's own CPU for the same run varies by a quarter)")
    binary = HERE / "artillery" / "node_modules" / ".bin" / "artillery"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            print("   Artillery skipped: npm not found\n")
            return
        subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=HERE / "artillery",
                       check=True, capture_output=True, timeout=900)
    srv = wskit.EchoServer(name="versus", ping_interval=None)
    print(f"   {'round':<6}{'generator':<20}{'sent':>8}{'echoes timed':>14}{'wall s':>8}{'CPU s':>8}{'msgs/s':>9}"
          f"{'msgs per CPU s':>16}  errors")
    ratios: dict[str, list[float]] = {name: [] for name in loops()}
    try:
        for round_ in range(1, rounds + 1):
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
            rows = [("Artillery 2.0.21", art_sent, None, art_wall, art_cpu, art_errors)]
            artillery = art_sent / max(art_cpu, 1e-9)
            for loop_name in ratios:
                summary, load_wall, load_cpu = wskit_load(srv.url, users, messages, rate, loop_name)
                rows.append((f"wskit.load {loop_name}", summary["sent"], summary["received"], load_wall, load_cpu,
                             summary["errors"]))
                per_cpu = summary["sent"] / max(load_cpu, 1e-9)
                ratios[loop_name].append(per_cpu / artillery if art_sent else float("inf"))
            for name, sent, timed, wall, cpu, errors in rows:
                timed_text = "—" if timed is None else f"{timed:,}"
                print(f"   {round_:<6}{name:<20}{sent:>8,}{timed_text:>14}{wall:>8.1f}{cpu:>8.1f}{sent / wall:>9,.0f}"
                      f"{sent / max(cpu, 1e-9):>16,.0f}  {errors or 0}")
    finally:
        srv.stop()
    for loop_name, values in ratios.items():
        median = statistics.median(values)
        reached = sum(1 for ratio in values if ratio >= 2)
        print(f"   wskit.load on {loop_name} / Artillery, messages per CPU second: median {median:.2f} "
              f"(rounds: {', '.join(f'{ratio:.2f}' for ratio in values)}; {reached} of {len(values)} at 2 or more) "
              f"→ target ≥ 2 (issue 21): {'MET' if median >= 2 else 'MISSED'} on the median")
    print("   (Artillery's ws engine only sends; wskit.load also receives, matches and times every echo.)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--skip-artillery", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the Artillery comparison (median reported)")
    args = parser.parse_args()
    print(f"open-file limit raised to {raise_fd_limit():,}; {os.cpu_count()} CPUs\n")
    try:
        scenario_concurrent(args.users)
        scenario_idle(args.idle)
        if not args.skip_artillery:
            scenario_artillery(200, 50, 10, args.rounds)
    finally:
        wskit.stop_all()


if __name__ == "__main__":
    main()
