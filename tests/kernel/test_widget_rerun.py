"""Widgets in a real ipykernel: re-run cells leak nothing, and a panel never ends on a stale view.

Driven through ``jupyter_client`` (tests/kernel_driver.py), as JupyterLab drives a kernel. No browser is
attached, so each panel cell also does what a page does when it shows the panel (asks for every record), and
the panel then really sends its rows over the kernel's iopub socket.

Bounds (generous, for a 2-core machine kept busy by other work):

* subscribers on the source after 200 re-runs: at most 1;
* RSS growth over 200 re-runs: below 60 MB (measured 8.6 MB for the panel cell; issue 17 measured
  80 → 228 MB before);
* 200 round trips afterwards: within 2× of before (the best of three runs each, so noise does not decide).
"""

from __future__ import annotations

import json

import pytest

from tests.kernel_driver import Kernel

RERUNS = 200
RSS_BOUND_MB = 60

SETUP = """
import json, os, threading, time
import wskit
from wskit.widgets import ChatRoom, MessagePanel

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

def best_round_trips(client, n=200, tries=3, also=()):
    '''The best of ``tries`` runs of ``n`` round trips (each also read by ``also``: a chat room's others).'''
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        for i in range(n):
            client.send(f"m{i}")
            client.recv(timeout=30)
            for other in also:
                other.recv(timeout=30)
        best = min(best, time.perf_counter() - started)
    return best
"""

PANEL_CELL = """panel = MessagePanel(c, title="echo")
panel._on_browser_message(panel, {"kind": "hello"}, [])  # what a page showing the panel sends
c.send("one more")
c.recv(timeout=30)  # bounded, with room for a machine kept busy by other work
panel"""

CHAT_CELL = """room = ChatRoom(people)
people[0].send("hi")
for person in people:  # the whole room reads it
    person.recv(timeout=30)
room"""


@pytest.fixture(scope="module")
def kernel():
    with Kernel() as k:
        k.run(SETUP)
        yield k


def _rtt_after(kernel: Kernel, measure: str, before: float, first: float) -> float:
    """The round trip after the re-runs (``first``), measured again up to twice until it is under twice ``before``:
    what a leaked subscriber costs is there every time; another process's burst on the two cores is not."""
    rtt = first
    for _ in range(2):
        if rtt < 2 * before:
            break
        rtt = min(rtt, kernel.value(measure))
    return rtt


def _rerun(kernel: Kernel, cell: str) -> None:
    for _ in range(RERUNS):
        result = kernel.execute(cell)
        assert result.status == "ok", result.error


def test_rerunning_the_panel_cell_leaves_one_subscriber(kernel):
    kernel.run('srv = wskit.EchoServer(name="echo")\nc = wskit.connect(srv.url, name="c")')
    before = kernel.value("{'rtt': best_round_trips(c), 'rss': rss_mb()}")
    _rerun(kernel, PANEL_CELL)
    after = kernel.value("{'rtt': best_round_trips(c), 'rss': rss_mb(), 'subscribers': c.log.subscribers}")
    after["rtt"] = _rtt_after(kernel, "best_round_trips(c)", before["rtt"], after["rtt"])
    print(f"panel cell x{RERUNS}: {before} -> {after}")
    assert after["subscribers"] <= 1
    assert after["rss"] - before["rss"] < RSS_BOUND_MB, (before, after)
    assert after["rtt"] < 2 * before["rtt"], (before, after)
    # the panel still works: the newest one shows the traffic
    kernel.run('c.send("after")\nc.recv()\npanel.flush()\nassert panel.records[-1].data == "after"')


def test_rerunning_the_chat_room_cell_leaves_one_subscriber_per_client(kernel):
    kernel.run(
        'chat = wskit.ChatServer(name="chat")\n'
        'people = [wskit.connect(chat.url_for(n), name=n) for n in ("alice", "bob", "carol")]'
    )
    before = kernel.value("{'rtt': best_round_trips(people[2], also=people[:2]), 'rss': rss_mb()}")
    _rerun(kernel, CHAT_CELL)
    after = kernel.value(
        "{'rtt': best_round_trips(people[2], also=people[:2]), 'rss': rss_mb(), "
        "'subscribers': [p.log.subscribers for p in people]}"
    )
    after["rtt"] = _rtt_after(kernel, "best_round_trips(people[2], also=people[:2])", before["rtt"], after["rtt"])
    print(f"chat cell x{RERUNS}: {before} -> {after}")
    assert max(after["subscribers"]) <= 1
    assert after["rss"] - before["rss"] < RSS_BOUND_MB, (before, after)
    assert after["rtt"] < 2 * before["rtt"], (before, after)


def test_two_panels_on_one_line_both_live_and_a_loop_of_views_too(kernel):
    kernel.run('srv2 = wskit.EchoServer(name="echo2")\nd = wskit.connect(srv2.url, name="d")')
    for _ in range(3):
        kernel.run("a, b = MessagePanel(d), MessagePanel(d)\nviews = [MessagePanel(d) for _ in range(3)]")
    assert kernel.value("d.log.subscribers") == 5


def test_no_ui_thread_is_left_after_stop_all(kernel):
    out = kernel.run(
        "wskit.stop_all()\n"
        "for t in threading.enumerate():\n"
        "    if t.name == 'wskit-redraw':\n"
        "        t.join(1)\n"
        "print(json.dumps(sorted(t.name for t in threading.enumerate() if t.name.startswith('wskit'))))"
    )
    assert json.loads(out) == []


STALE_SETUP = """
import random, re
from wskit.widgets import _pump
from wskit.widgets.messagepanel import decode_rows

async def pusher(ws):
    async for message in ws:
        count = int(message.split()[1])
        for i in range(count):
            await ws.send(f"tick {i} {'even' if i % 2 == 0 else 'odd'}")
            if i % 10 == 9:
                await asyncio.sleep(0.001)
        await ws.send("done")

import asyncio
source = wskit.Server(pusher, name="pusher", ping_interval=None)  # no keepalive frames after "done"
feed = wskit.connect(source.url, name="feed", ping_interval=None)

class Replay:
    '''The page's side, as message_panel.js keeps it: rows by seq, reset and clear, filtered in the browser.'''
    def __init__(self, panel):
        self.rows, self.last = [], 0
        self.panel = panel
        original = panel.send
        def send(content, buffers=None):
            if content["kind"] == "reset":
                self.rows, self.last = [], 0
            elif content["kind"] == "rows":
                for row in decode_rows(content, buffers[0]):
                    if row[0] > self.last:
                        self.last = row[0]
                        self.rows.append(row)
            return original(content, buffers)
        panel.send = send

    def view(self, max_rows):
        regex = re.compile(self.panel.pattern) if self.panel.pattern else None
        f = self.panel.filter
        out = []
        for r in self.rows[-max_rows:]:
            if f == "Sent" and r[2] != "sent" or f == "Received" and r[2] != "received":
                continue
            if f == "Control" and r[3] not in ("PING", "PONG", "CLOSE"):
                continue
            if regex and not regex.search(f"{r[3]} {r[5] or ''} {r[9]}"):
                continue
            out.append((r[2], r[3], r[5]))
        return out

stale = 0
"""

TRIAL_START = """panel = MessagePanel(feed, max_rows=1000, keep=1000)
replay = Replay(panel)
panel._on_browser_message(panel, {"kind": "hello"}, [])
feed.send("push 800")"""

TRIAL_FILTER = """panel.filter = random.choice(["Sent", "Received", "Control", "All"])
panel.pattern = random.choice(["", "even", "odd", "tick 1"])
panel.filter = random.choice(["Received", "All"])"""

TRIAL_CHECK = """while feed.recv(timeout=10) != "done":
    pass
panel.flush()
# Compare on the UI thread, the panel's one writer: nothing is taken or sent between the two reads.
compared = threading.Event()
def compare():
    global expected, shown
    panel.flush()  # on the UI thread: takes and sends what is left, inline
    expected = [(r.direction, r.opcode, r.data) for r in panel.visible()]
    shown = replay.view(1000)
    compared.set()
_pump.PUMP.call(compare)
assert compared.wait(30)
stale += shown != expected
kept = [(r.direction, r.opcode, r.data) for r in feed.log.records][-1000:]
assert [(r.direction, r.opcode, r.data) for r in panel.records] == kept
print(stale)"""


def test_a_panel_never_ends_on_a_stale_view():
    with Kernel() as kernel:
        kernel.run(SETUP)
        kernel.run(STALE_SETUP)
        stale = None
        for _ in range(40):
            kernel.run(TRIAL_START)
            kernel.run(TRIAL_FILTER)
            stale = int(kernel.run(TRIAL_CHECK))
        assert stale == 0
