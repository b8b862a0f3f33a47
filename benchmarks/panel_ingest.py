"""How much a MessagePanel costs the kernel: 10,000 records, CPU seconds and widget updates.

Two runs side by side, each against a baseline measured in the same run (the
same records appended to a TrafficLog that no panel follows):

* burst: 10,000 records as fast as the loop can append them;
* paced: 10,000 records spread over about 2 seconds (5,000 a second), so the
  20-redraws-a-second coalescing is exercised for real.

Targets (issue 4): at most 0.5 s of CPU for the panel's share, and at most
20 widget updates a second of wall time plus a small constant.

Run: .venv/bin/python benchmarks/panel_ingest.py
"""

from __future__ import annotations

import time

import ipywidgets

from wskit.live.log import TrafficLog
from wskit.widgets import MessagePanel

N = 10_000


def feed(log: TrafficLog, pace: float | None) -> float:
    """Append N records (pace: seconds between records, None for a burst); return wall seconds."""
    started = time.perf_counter()
    for i in range(N):
        direction = "sent" if i % 2 else "received"
        log.add(direction, "TEXT", data=f'{{"seq": {i}, "price": {100 + i % 7}}}', size=24)
        if pace is not None and i % 50 == 49:  # sleep (no CPU) in 10 ms steps
            delay = started + (i + 1) * pace - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
    return time.perf_counter() - started


def run(pace: float | None) -> dict[str, float]:
    baseline_log = TrafficLog(maxlen=N)
    cpu = time.process_time()
    feed(baseline_log, pace)
    baseline_cpu = time.process_time() - cpu

    messages = 0
    original = ipywidgets.Widget.send_state

    def counting(self, key=None):
        nonlocal messages
        messages += 1
        return original(self, key)

    log = TrafficLog(maxlen=N)
    panel = MessagePanel(log)
    ipywidgets.Widget.send_state = counting
    try:
        cpu = time.process_time()
        wall = feed(log, pace)
        time.sleep(0.1)  # let the last coalesced redraw happen
        panel_cpu = time.process_time() - cpu
    finally:
        ipywidgets.Widget.send_state = original
    redraws = panel._throttle.redraws
    panel.close()
    return {
        "wall": wall,
        "baseline_cpu": baseline_cpu,
        "panel_cpu": panel_cpu,
        "extra_cpu": panel_cpu - baseline_cpu,
        "redraws": redraws,
        "messages": messages,
        "limit": 20 * (wall + 0.1) + 3,
    }


def main() -> None:
    print(f"{N:,} records into a MessagePanel (kernel-side CPU, this process, all threads)\n")
    header = f"{'run':<7}{'wall s':>8}{'log only CPU s':>16}{'log+panel CPU s':>17}{'ratio':>7}" \
             f"{'panel CPU s':>13}{'redraws':>9}{'widget msgs':>13}{'msgs/s':>8}{'target msgs':>13}"
    print(header)
    ok = True
    for name, pace in (("burst", None), ("paced", 2.0 / N)):
        r = run(pace)
        rate = r["messages"] / (r["wall"] + 0.1)
        target = f"≤ {r['limit']:.0f}"
        print(f"{name:<7}{r['wall']:8.2f}{r['baseline_cpu']:16.3f}{r['panel_cpu']:17.3f}"
              f"{r['panel_cpu'] / max(r['baseline_cpu'], 1e-9):7.1f}{r['extra_cpu']:13.3f}{r['redraws']:9.0f}"
              f"{r['messages']:13.0f}{rate:8.1f}{target:>13}")
        ok &= r["extra_cpu"] <= 0.5 and r["messages"] <= r["limit"]
    print("\ntargets: panel CPU ≤ 0.5 s; widget messages ≤ 20/s of wall time + 3 →", "MET" if ok else "MISSED")


if __name__ == "__main__":
    main()
