"""The Node.js server's output reader: whatever a client makes the server print, the reader goes on, bounded.

No Node.js needed: the reader is fed the lines the server would print.
"""

from __future__ import annotations

import collections
import io
import json
import threading

from wskit.live import node


def reader() -> node.NodeSocketIOServer:
    server = node.NodeSocketIOServer.__new__(node.NodeSocketIOServer)  # the reader's state, no process
    server._lines = collections.deque(maxlen=node.MAX_LINES)
    server._printed = 0
    server._changed = threading.Condition()
    return server


def test_a_deeply_nested_line_does_not_stop_the_reader():
    """A client's name comes back in the server's "connection" line: nested 3,000 deep, json.loads raised
    RecursionError, which ended the reader thread, and every later wait timed out."""
    deep = "[" * 3000 + "]" * 3000
    server = reader()
    server._read_stdout(io.StringIO(f'{{"event": "connection", "name": {deep}}}\n{{"event": "connection", '
                                    '"name": "alice"}\n[1, 2]\n'))
    assert [line.get("name") for line in server.lines] == [None, "alice", None]
    assert server.lines[0]["text"].startswith('{"event": "connection"') and server.lines[2] == {"text": "[1, 2]"}


def test_long_lines_are_cut_and_the_lines_kept_are_bounded():
    server = reader()
    long = json.dumps({"event": "connection", "name": "x" * node.MAX_LINE}) + "\n"
    server._read_stdout(io.StringIO(long))
    assert server.lines[0] == {"text": long[:1024], "cut": len(long)}
    many = "".join(f'{{"event": "connection", "name": "n{i}"}}\n' for i in range(node.MAX_LINES + 10))
    server._read_stdout(io.StringIO(many))
    assert len(server.lines) == node.MAX_LINES and server._printed == node.MAX_LINES + 11
    assert server.lines[0]["name"] == "n10" and server.lines[-1]["name"] == f"n{node.MAX_LINES + 9}"


def test_wait_for_looks_at_each_line_once():
    server = reader()
    server._readers = [threading.current_thread()]  # "the reader is alive"
    looked = []
    server._read_stdout(io.StringIO("".join(f'{{"n": {i}}}\n' for i in range(1000))))
    assert server.wait_for(lambda line: looked.append(line) or line["n"] == 999)["n"] == 999
    assert len(looked) == 1000
