"""wskit.live.node: the official Node.js Socket.IO server as a child process."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

import wskit
from tests.live.helpers import refuses
from tests.requires import NO_NODE, needs
from wskit.live import node as node_module
from wskit.live.node import NodeMissing, NodeSocketIOServer, NodeStartError, start_or_explain

HAVE_NODE = shutil.which("node") is not None and shutil.which("npm") is not None


pytestmark = pytest.mark.usefixtures("clean_kit")


@pytest.fixture
def no_node(monkeypatch):
    real = shutil.which
    monkeypatch.setattr(node_module.shutil, "which", lambda name: None if name in ("node", "npm") else real(name))


def test_a_missing_node_is_a_clear_error(no_node):
    with pytest.raises(NodeMissing, match="apt-get install nodejs npm"):
        NodeSocketIOServer()
    assert wskit.live_objects() == []


def test_start_or_explain_says_how_to_install_outside_ci(no_node, monkeypatch, capsys):
    monkeypatch.delenv("CI", raising=False)
    assert start_or_explain() is None
    assert "Node.js is not installed" in capsys.readouterr().out


def test_start_or_explain_explains_a_failed_install_outside_ci(monkeypatch, capsys):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(node_module.shutil, "which", lambda name: f"/usr/bin/{name}")

    def offline(**_):
        raise NodeStartError("npm ci in wskit/node failed: no network")

    monkeypatch.setattr(node_module, "ensure_packages", offline)
    assert start_or_explain() is None
    assert "no network" in capsys.readouterr().out
    monkeypatch.setenv("CI", "1")
    with pytest.raises(NodeStartError):
        start_or_explain()


def test_start_or_explain_fails_in_ci(no_node, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(NodeMissing):
        start_or_explain()


needs_node = needs(HAVE_NODE, NO_NODE)


@needs_node
def test_it_starts_within_its_bound_serves_and_stop_leaves_nothing():
    started = time.monotonic()
    js = NodeSocketIOServer(name="js", ping_interval=5, ping_timeout=3)
    assert time.monotonic() - started < 20
    assert js.running and js.url == f"http://127.0.0.1:{js.port}" and js.node_version.startswith("v")
    client = wskit.SocketIOClient(js.url, auth={"name": "py"})
    assert client.recv("welcome") == ("welcome", "hello py")
    assert client.call("echo", {"x": 1}) == {"x": 1}
    assert js.wait_for(lambda line: line.get("event") == "connection")["name"] == "py"
    assert (client.sio.eio.ping_interval, client.sio.eio.ping_timeout) == (5, 3)  # from the open packet
    client.disconnect()
    pid, port = js.pid, js.port
    js.stop()
    js.stop()  # twice is fine
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert refuses(port)


@needs_node
def test_a_rerun_replaces_the_server_of_the_same_name():
    first = NodeSocketIOServer(name="js")
    second = NodeSocketIOServer(name="js")
    assert not first.running and second.running
    assert wskit.live_objects() == [second]


@needs_node
def test_a_script_that_never_listens_is_stopped_after_the_bound(tmp_path):
    silent = tmp_path / "silent.mjs"
    silent.write_text("process.stdin.resume();\n")
    started = time.monotonic()
    with pytest.raises(NodeStartError, match="no answer within 1"):
        NodeSocketIOServer(script=silent, timeout=1)
    assert time.monotonic() - started < 8
    assert wskit.live_objects() == []


@needs_node
def test_a_script_that_crashes_reports_its_error(tmp_path):
    broken = tmp_path / "broken.mjs"
    broken.write_text("throw new Error('boom at start-up');\n")
    with pytest.raises(NodeStartError, match="boom at start-up"):
        NodeSocketIOServer(script=broken, timeout=10)


@needs_node
def test_kill_is_a_crash_the_client_notices():
    js = NodeSocketIOServer()
    client = wskit.SocketIOClient(js.url, auth={"name": "py"}, reconnection=False)
    js.kill()
    client.log.wait_for(lambda r: r.opcode == "CLOSED", timeout=10)
    assert not client.connected


@needs_node
def test_missing_packages_are_installed_once_from_the_lock_file(tmp_path, monkeypatch, capsys):
    for name in ("package.json", "package-lock.json"):
        (tmp_path / name).write_text((node_module.NODE_DIR / name).read_text())
    monkeypatch.setattr(node_module, "NODE_DIR", tmp_path)
    modules = node_module.ensure_packages()
    assert "installing the Node.js server's packages once: npm ci" in capsys.readouterr().out
    lock = json.loads((tmp_path / "package-lock.json").read_text())
    installed = json.loads((modules / "socket.io" / "package.json").read_text())
    assert installed["version"] == lock["packages"]["node_modules/socket.io"]["version"]  # exactly the locked one
    assert node_module.ensure_packages() == modules and capsys.readouterr().out == ""  # the second time: nothing


@needs_node
def test_two_processes_on_a_fresh_clone_install_once_and_a_newer_lock_file_installs_again(tmp_path):
    """npm ci empties node_modules first: two kernels (or test workers) starting at once must not both run it."""
    import subprocess
    import sys

    for name in ("package.json", "package-lock.json"):
        (tmp_path / name).write_text((node_module.NODE_DIR / name).read_text())
    code = "import sys; from pathlib import Path; from wskit.live.node import ensure_packages; " \
           "ensure_packages(Path(sys.argv[1]))"
    both = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in both]
    assert [p.returncode for p in both] == [0, 0]
    assert sum("npm ci" in out for out in outputs) == 1, outputs  # the second waited, then found them there
    assert (tmp_path / "node_modules" / "socket.io" / "package.json").exists()
    lock = tmp_path / "package-lock.json"
    os.utime(lock, (lock.stat().st_atime, lock.stat().st_mtime + 60))  # the lock file changed since the install
    again = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "npm ci" in again.stdout
