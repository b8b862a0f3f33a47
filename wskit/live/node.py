"""The official Node.js Socket.IO server, run as a child process on loopback.

>>> from wskit.live.node import NodeSocketIOServer
>>> js = NodeSocketIOServer()           # node wskit/node/sio_server.mjs, listening when this returns
>>> js.url                              # doctest: +ELLIPSIS
'http://127.0.0.1:...'
>>> js.stop()

The server script (``wskit/node/sio_server.mjs``) is the course's chat written with the ``socket.io`` npm
package: ``io.use`` middleware, ``io.on("connection")``, ``socket.on``, ``socket.join``, ``io.to(room).emit``,
``socket.to(room).emit`` and acknowledgements. Its packages come from the committed lock file with ``npm ci``
(into ``wskit/node/node_modules``): Binder's ``postBuild`` and ``.ci/run`` do it once, and the kit does it on
first use if they are missing. Where Node.js is not installed, :class:`NodeMissing` says how to install it.
"""

from __future__ import annotations

import collections
import fcntl
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from . import loop as _loop
from .children import ChildProcess, spawn, stop_at_exit
from .errors import LiveError

__all__ = ["MAX_LINE", "MAX_LINES", "NODE_DIR", "NodeMissing", "NodeSocketIOServer", "NodeStartError",
           "ensure_packages", "start_or_explain"]

#: Where the server script, its package.json and its lock file live (and ``node_modules`` goes).
NODE_DIR = Path(__file__).resolve().parent.parent / "node"

#: Lines of the Node.js server's output kept in :attr:`NodeSocketIOServer.lines` (the oldest go first).
MAX_LINES = 10_000
#: Characters of one output line read as JSON; a longer one is kept cut (its start and its length).
MAX_LINE = 64 * 1024

INSTALL_NODE = (
    "Node.js is not installed (no 'node' or 'npm' on the PATH). Install it, then restart the kernel: "
    "Debian/Ubuntu 'sudo apt-get install nodejs npm'; macOS 'brew install node'; others: https://nodejs.org. "
    "On Binder, binder/apt.txt installs it."
)


class NodeMissing(LiveError, RuntimeError):
    """``node`` (or ``npm``) is not installed; the message says how to install it."""


class NodeStartError(LiveError, RuntimeError):
    """The Node.js server did not start (its error output is in the message)."""


def _binaries() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise NodeMissing(INSTALL_NODE)
    return node, npm


def ensure_packages(directory: Path | None = None, *, timeout: float = 300.0, quiet: bool = False) -> Path:
    """Install the npm packages of ``directory`` (default: the server's, :data:`NODE_DIR`) from its lock file
    (``npm ci``), unless they are there already.

    "There" means npm finished an install after the lock file last changed (its ``node_modules/.package-lock.json``
    is the newer). One install at a time, across processes (a lock file): ``npm ci`` empties ``node_modules`` first,
    and two kernels, or two test workers, starting at once on a fresh clone must not install under each other.

    Returns:
        The ``node_modules`` directory.

    Raises:
        NodeMissing: Node.js or npm is not installed.
        NodeStartError: ``npm ci`` failed (no network, a read-only install ...).
    """
    directory = NODE_DIR if directory is None else directory
    modules = directory / "node_modules"
    if _installed(directory):
        return modules
    _, npm = _binaries()
    name = hashlib.sha256(bytes(directory.resolve())).hexdigest()[:12]
    with open(Path(tempfile.gettempdir()) / f"wskit-npm-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _installed(directory):  # another process installed them while this one waited
            return modules
        if not quiet:
            print(f"wskit: installing the Node.js server's packages once: npm ci in {directory} ...", flush=True)
        try:
            result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=directory, capture_output=True,
                                    text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise NodeStartError(f"npm ci in {directory} took more than {timeout:.0f} s") from None
    if result.returncode != 0:
        raise NodeStartError(f"npm ci in {directory} failed:\n{result.stderr.strip()[-2000:]}")
    return modules


def _installed(directory: Path) -> bool:
    """npm finished an install in ``directory`` after its lock file last changed."""
    try:
        done = (directory / "node_modules" / ".package-lock.json").stat().st_mtime
        return done >= (directory / "package-lock.json").stat().st_mtime
    except OSError:
        return False


class NodeSocketIOServer(ChildProcess, _loop.LiveObject):
    """The official Node.js Socket.IO server (``socket.io`` on npm) in a child process on 127.0.0.1.

    Args:
        name: as for every wskit server: re-creating one of the same name replaces it.
        port: the port; 0 picks a free one.
        ping_interval, ping_timeout: Engine.IO's heartbeat, in seconds (Socket.IO's defaults: 25 and 20).
        timeout: seconds the server has to start (installing packages the first time is not counted).
        script: another server script to run instead of ``wskit/node/sio_server.mjs``.

    Attributes:
        url: ``http://127.0.0.1:port``, for :class:`wskit.SocketIOClient` or a browser.
        pid: the process id.
        lines: what the server printed so far, one parsed JSON object per line
            (``{"event": "connection", "name": ...}``, ``{"event": "disconnect", ...}``): the last
            :data:`MAX_LINES` of them. A line that is not JSON (or nested too deep to read) is kept as
            ``{"text": ...}``, one longer than :data:`MAX_LINE` characters as ``{"text": its start, "cut": length}``.

    Raises:
        NodeMissing: Node.js is not installed (the message says how to install it).
        NodeStartError: it did not say it was listening within ``timeout`` seconds, or it exited.
    """

    kind = "node-sio"

    def __init__(self, *, name: str | None = None, port: int = 0, ping_interval: float = 25.0,
                 ping_timeout: float = 20.0, timeout: float = 20.0, script: str | Path | None = None) -> None:
        node, _ = _binaries()
        ensure_packages()
        self._lines: collections.deque[dict[str, Any]] = collections.deque(maxlen=MAX_LINES)
        self._printed = 0  # lines printed since the start (those past MAX_LINES are gone from .lines)
        self._changed = threading.Condition()
        self._stderr: list[str] = []
        command = [node, str(script or NODE_DIR / "sio_server.mjs"), "--port", str(port),
                   "--ping-interval", str(round(ping_interval * 1000)),
                   "--ping-timeout", str(round(ping_timeout * 1000))]
        self._readers: list[threading.Thread] = []
        self._go_live(name, lambda: self._start(command, timeout))

    def _start(self, command: list[str], timeout: float) -> None:
        self.process = spawn(
            command, cwd=NODE_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env={**os.environ, "NODE_ENV": "production"},
        )
        stop_at_exit(self)
        self.pid = self.process.pid
        self._readers = [
            threading.Thread(target=self._read_stdout, args=(self.process.stdout,), name=f"wskit-node-out-{self.pid}",
                             daemon=True),
            threading.Thread(target=self._read_stderr, args=(self.process.stderr,), name=f"wskit-node-err-{self.pid}",
                             daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        try:
            first = self.wait_for(lambda line: "listening" in line, timeout)
        except TimeoutError:
            exited = self.process.poll()
            self.stop()  # joins the readers, so that all of its error output is in
            error = "".join(self._stderr).strip()
            why = f"it exited with status {exited}" if exited is not None else f"no answer within {timeout} s"
            raise NodeStartError(f"the Node.js Socket.IO server did not start: {why}\n{error[-2000:]}") from None
        self.port: int = first["listening"]
        self.node_version: str = first.get("node", "")

    # -- the child's output --

    def _read_stdout(self, stream: Any) -> None:
        for text in stream:
            line: dict[str, Any]
            if len(text) > MAX_LINE:  # what a client sent (a name, an auth) may be long: not kept whole
                line = {"text": text[:1024], "cut": len(text)}
            else:
                try:
                    line = json.loads(text)
                except (ValueError, RecursionError):  # nested too deep: this reader must go on, whatever comes
                    line = {"text": text.rstrip("\n")}
                if not isinstance(line, dict):
                    line = {"text": text.rstrip("\n")}
            with self._changed:
                self._lines.append(line)
                self._printed += 1
                self._changed.notify_all()
        with self._changed:  # end of output: the process is gone
            self._changed.notify_all()

    def _read_stderr(self, stream: Any) -> None:
        for text in stream:
            self._stderr.append(text)
            del self._stderr[:-200]

    @property
    def lines(self) -> list[dict[str, Any]]:
        """What the server printed so far (its last :data:`MAX_LINES` lines), a copy taken as its reader appends."""
        with self._changed:
            return list(self._lines)

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> dict[str, Any]:
        """The first line the server printed (or will print) that matches ``predicate``.

        Raises:
            TimeoutError: none within ``timeout`` seconds, or the process ended first.
        """
        deadline = time.monotonic() + timeout
        looked = 0  # lines looked at, counted as _printed counts them: each line is looked at once
        with self._changed:
            while True:
                new = self._printed - looked
                for line in itertools.islice(self._lines, max(0, len(self._lines) - new), None):
                    if predicate(line):
                        return line
                looked = self._printed
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._readers[0].is_alive():
                    raise TimeoutError(f"no matching line from the Node.js server within {timeout} s")
                self._changed.wait(min(remaining, 0.5))

    # -- lifecycle --

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (it exits when its stdin closes; killed if it does not). Safe to call twice."""
        if self._end_process(timeout=timeout, stdin=True) is not None:
            for reader in self._readers:
                reader.join(timeout)
        _loop.unregister(self)

    def __repr__(self) -> str:
        state = f"{self.url} pid {self.pid}" if self.running else "stopped"
        return f"<NodeSocketIOServer {self.name!r} {state}>"


def start_or_explain(**options: Any) -> NodeSocketIOServer | None:
    """Start a :class:`NodeSocketIOServer`, or print why not (and how to fix it) and return ``None``.

    For notebooks: where Node.js is missing, or its packages cannot be installed (no network), the cell explains and
    the rest of the notebook still runs. In CI (the ``CI`` environment variable is set) that is a failure: the error
    is raised.
    """
    try:
        return NodeSocketIOServer(**options)
    except (NodeMissing, NodeStartError) as error:
        if os.environ.get("CI"):
            raise
        print(f"Skipped: {error}")
        return None
