"""The nginx runner: start, stop, config errors, a missing binary, and nothing left behind."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

import wskit
from tests.requires import require_nginx
from wskit.live import nginx as nginx_module
from wskit.live.nginx import Nginx, NginxConfigError, NginxError, NginxMissing, find_nginx, upstream

pytestmark = pytest.mark.usefixtures("clean_kit")

require_nginx()

HELLO = 'location / { return 200 "hello"; }'


def group_alive(pgid: int) -> bool:
    """Some process of this process group (nginx's master or a worker) is still running."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def private_tempdir(monkeypatch):
    """A temporary directory of this test's own for nginx's prefixes: another test running beside this one (the
    suite runs files side by side) may make and remove its own in the shared one while this one counts."""
    path = tempfile.mkdtemp(prefix="wskit-test-tmp-")
    monkeypatch.setattr(tempfile, "tempdir", path)
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


def our_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("wskit-nginx-*")}


def http_get(port: int, path: str = "/") -> tuple[int, str]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_start_serve_stop_leaves_nothing() -> None:
    proxy = Nginx(HELLO, name="hello")
    assert proxy.running and listening(proxy.port) and proxy.prefix.is_dir()
    assert group_alive(proxy.pid)
    assert http_get(proxy.port) == (200, "hello")
    assert '"GET / HTTP/1.1" 200' in proxy.wait_for_log(r'"GET / ')
    assert proxy in wskit.live_objects()
    pid, port, prefix = proxy.pid, proxy.port, proxy.prefix
    proxy.stop()
    assert not proxy.running and not listening(port) and not prefix.exists() and not group_alive(pid)
    assert proxy not in wskit.live_objects()
    assert '"GET / HTTP/1.1" 200' in proxy.access_log()  # the last lines stay readable
    proxy.stop()  # twice is fine


def test_the_config_is_complete_and_relative() -> None:
    proxy = Nginx(HELLO, http="map $http_upgrade $u { default 1; }", name="conf")
    config = proxy.config
    for directive in ("daemon off;", "pid nginx.pid;", "error_log logs/error.log", "client_body_temp_path temp/",
                      "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path",
                      f"listen 127.0.0.1:{proxy.port};", "access_log logs/access.log wskit;", "map $http_upgrade"):
        assert directive in config, directive
    assert str(proxy.prefix) not in config  # every path relative to the prefix (nginx -p)
    assert ("user root;" in config) == (os.geteuid() == 0)
    assert (proxy.prefix / "nginx.conf").read_text() == config
    # the workers run (as root when the kernel is root, as the same user otherwise) and answer
    assert http_get(proxy.port) == (200, "hello")


def test_stop_all_stops_nginx() -> None:
    proxy = Nginx(HELLO, name="to-stop")
    wskit.stop_all()
    assert not proxy.running and not listening(proxy.port) and not group_alive(proxy.pid)
    assert wskit.live_objects() == []


def test_same_name_replaces() -> None:
    first = Nginx(HELLO, name="proxy")
    second = Nginx(HELLO, name="proxy")
    assert not first.running and second.running and not first.prefix.exists()
    assert [o.name for o in wskit.live_objects()] == ["proxy"]


def test_config_error_is_reported_with_nginx_message(private_tempdir) -> None:
    before = our_dirs()
    assert before == set()  # counted in a directory of this test's own
    with pytest.raises(NginxConfigError) as caught:
        Nginx("location / { bogus_directive on; }", name="broken")
    error = caught.value
    assert 'nginx: [emerg] unknown directive "bogus_directive" in <prefix>/nginx.conf:' in error.message
    assert "test failed" in error.message
    assert "bogus_directive on;" in error.config
    line = int(error.message.split("nginx.conf:")[1].split()[0])
    assert "bogus_directive" in error.config.splitlines()[line - 1]  # the line number points at it
    assert isinstance(error, wskit.LiveError)
    assert our_dirs() == before and wskit.live_objects() == []


def test_missing_binary_names_the_package(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(nginx_module, "SBIN_DIRS", ())
    with pytest.raises(NginxMissing) as caught:
        Nginx(HELLO)
    assert "'nginx'" in str(caught.value) and "apt-get install nginx" in str(caught.value)
    with pytest.raises(NginxMissing, match="apt-get install nginx"):
        Nginx(HELLO, binary=str(tmp_path / "nginx"))
    assert wskit.live_objects() == []


def test_found_in_sbin_without_it_on_path(monkeypatch, tmp_path) -> None:
    real = find_nginx()
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(nginx_module, "SBIN_DIRS", (os.path.dirname(real),))
    assert find_nginx() == real


def test_a_taken_port_is_retried_and_then_reported(monkeypatch, private_tempdir) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    real_free_port = nginx_module.free_port
    ports = iter([taken.getsockname()[1]])
    monkeypatch.setattr(nginx_module, "free_port", lambda: next(ports, None) or real_free_port())
    try:
        proxy = Nginx(HELLO, name="retry")  # nginx -t passes (it binds nothing); the start fails, then retries
        assert proxy.port != taken.getsockname()[1] and http_get(proxy.port) == (200, "hello")
        proxy.stop()
        monkeypatch.setattr(nginx_module, "free_port", lambda: taken.getsockname()[1])
        before = our_dirs()
        with pytest.raises(NginxError, match="Address already in use"):
            Nginx(HELLO, name="no-port")
        assert our_dirs() == before and wskit.live_objects() == []
    finally:
        taken.close()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="error_log level"):
        Nginx(HELLO, error_log_level="loud")
    with pytest.raises(ValueError, match="plain word"):
        upstream("two words", ["ws://127.0.0.1:1/"])
    with pytest.raises(ValueError, match="host and a port"):
        upstream("app", ["ws://127.0.0.1/"])
    with pytest.raises(ValueError, match="at least one"):
        upstream("app", [])
    assert upstream("app", ["http://127.0.0.1:9"], "hash $remote_addr consistent;") == (
        "upstream app {\n    hash $remote_addr consistent;\n    server 127.0.0.1:9;\n}"
    )


def test_wait_for_log_is_bounded() -> None:
    proxy = Nginx(HELLO, name="logs")
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="never-there"):
        proxy.wait_for_log("never-there", timeout=0.3)
    assert time.monotonic() - started < 3
    with pytest.raises(ValueError):
        proxy.wait_for_log("x", log="debug")
    count = proxy.log_lines()
    http_get(proxy.port, "/second")
    assert "/second" in proxy.wait_for_log("GET", after=count)


CHILD = textwrap.dedent("""
    import sys, time
    from wskit.live.nginx import Nginx
    proxy = Nginx('location / { return 200 "hi"; }')
    print(proxy.pid, proxy.port, proxy.prefix, flush=True)
    if sys.argv[1] == "hang":
        time.sleep(60)
    # "exit": the interpreter ends without stop(): atexit must stop nginx
""")


@pytest.mark.parametrize("how", ["exit", "killed"])
def test_no_nginx_outlives_its_kernel(how: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, "exit" if how == "exit" else "hang"],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    pid, port, prefix = child.stdout.readline().split()
    if how == "killed":
        if not os.path.exists("/usr/bin/setpriv") and not any(
            os.path.exists(os.path.join(d, "setpriv")) for d in os.environ.get("PATH", "").split(os.pathsep)
        ):
            child.kill()
            pytest.skip("setpriv (util-linux) is not installed: no parent-death signal")
        child.send_signal(signal.SIGKILL)  # no atexit: the parent-death signal must do it
    child.wait(15)
    deadline = time.monotonic() + 10
    while group_alive(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not group_alive(int(pid)) and not listening(int(port))
    if how == "exit":
        assert not Path(prefix).exists()
    else:
        shutil.rmtree(prefix, ignore_errors=True)  # a SIGKILLed kernel cannot clean up its temp dir


@pytest.mark.skipif(os.geteuid() != 0, reason="already an ordinary user: every other test runs nginx as one")
def test_the_config_runs_as_an_ordinary_user() -> None:
    """Binder users are not root: the same configuration, without the root-only 'user' line, run as 'nobody'."""
    import pwd
    import shutil

    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is needed to drop to an ordinary user")
    proxy = Nginx(HELLO, name="template")
    config = proxy.config.replace("user root;", "")
    proxy.stop()
    nobody = pwd.getpwnam("nobody")
    home = Path(tempfile.mkdtemp(prefix="wskit-nobody-"))  # pytest's tmp_path sits in a root-only directory
    prefix = home / "prefix"
    for sub in ("logs", "temp", "html", "tls"):
        (prefix / sub).mkdir(parents=True)
    (prefix / "nginx.conf").write_text(config)
    for path in [home, prefix, *prefix.rglob("*")]:
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    port = int(re.search(r"listen 127\.0\.0\.1:(\d+);", config)[1])
    command = [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups",
               find_nginx(), "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-e", "logs/error.log"]
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not listening(port):
            assert child.poll() is None, (prefix / "logs" / "error.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert http_get(port) == (200, "hello")
        assert "[emerg]" not in (prefix / "logs" / "error.log").read_text()
    finally:
        child.terminate()
        child.wait(10)
        shutil.rmtree(home, ignore_errors=True)
