"""Fault injection on loopback: a TCP proxy that can lose packets or cut connections, and a server to kill.

* :class:`FaultProxy` sits between a client and a server (``client → proxy → server``) and forwards bytes both
  ways until told otherwise: :meth:`~FaultProxy.blackhole` silently drops what passes, in one direction or both
  (a cable pulled out, a peer gone without a FIN: nobody is told anything); :meth:`~FaultProxy.drop` cuts every
  connection at once (a forced disconnect); :meth:`~FaultProxy.outage` does both in turn, by itself; and with
  ``idle_timeout`` it closes connections on which nothing passed for that long, as proxies and load balancers do
  (nginx's ``proxy_read_timeout`` is 60 s by default).
* :class:`EchoProcess` is a WebSocket echo server in a child process, to be killed (``SIGKILL``: no close frame)
  or paused (``SIGSTOP``).

Both are live objects: re-running a cell replaces them, and :func:`wskit.stop_all` stops them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.parse

from . import loop as _loop
from .children import ChildProcess, spawn, stop_at_exit
from .log import TrafficLog

__all__ = ["DIRECTIONS", "EchoProcess", "FaultProxy"]

#: What :meth:`FaultProxy.blackhole` can drop: bytes towards the server, towards the client, or both.
DIRECTIONS = ("to_server", "to_client", "both")


class _Pair:
    """One proxied connection: the client's side, the server's side, and when a byte last passed."""

    def __init__(self, number: int, client: asyncio.StreamWriter, server: asyncio.StreamWriter) -> None:
        self.number = number
        self.client = client
        self.server = server
        self.last_activity = time.monotonic()
        self.tasks: list[asyncio.Task[None]] = []
        self.closed = False


class FaultProxy(_loop.LiveObject):
    """A TCP proxy on 127.0.0.1 that forwards to ``target`` and injects faults on demand.

    Args:
        target: the server: its ``url`` (``ws://``, ``http://`` ...) or ``(host, port)``.
        name: as for every wskit server: re-creating one of the same name replaces it.
        idle_timeout: close a connection (both sides, with a FIN) when no byte has passed in either direction for
            this many seconds; ``None``: never.

    Attributes:
        url: the target's URL with the proxy's port: connect the client here.
        port: the port it listens on.
        log: events: ``OPEN`` and ``CLOSED`` per connection (``info`` says why it closed), ``NOTE`` per fault.
        dropped_bytes: bytes the black hole swallowed, per direction.

    :func:`wskit.stop_all` stops fault proxies before everything else: the connections they carry are cut, so a
    client behind a black hole does not wait out its close timeout.
    """

    stop_first = True

    kind = "proxy"

    def __init__(self, target: str | tuple[str, int], *, name: str | None = None,
                 idle_timeout: float | None = None) -> None:
        if isinstance(target, str):
            parsed = urllib.parse.urlsplit(target)
            if not parsed.hostname or not parsed.port:
                raise ValueError(f"expected a server's URL with a host and port, e.g. srv.url; got {target!r}")
            self._target_url: str | None = target
            self.target = (parsed.hostname, parsed.port)
        else:
            self._target_url, self.target = None, target
        if idle_timeout is not None and idle_timeout <= 0:
            raise ValueError(f"idle_timeout must be a positive number of seconds or None, got {idle_timeout!r}")
        self.idle_timeout = idle_timeout
        self.log = TrafficLog(2_000)
        self.dropped_bytes = {"to_server": 0, "to_client": 0}
        self._holes: set[str] = set()
        self._pairs: set[_Pair] = set()
        self._count = 0
        self._server: asyncio.Server | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._go_live(name, self._start)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port: int = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        """Where a client connects: the target's URL, with the proxy's host and port."""
        if self._target_url is None:
            return f"tcp://127.0.0.1:{self.port}"
        parts = urllib.parse.urlsplit(self._target_url)
        return urllib.parse.urlunsplit(parts._replace(netloc=f"127.0.0.1:{self.port}"))

    @property
    def connections(self) -> int:
        """Connections open through the proxy now."""
        return len(self._pairs)

    @property
    def blackholed(self) -> frozenset[str]:
        """The directions being dropped now (empty: everything passes)."""
        return frozenset(self._holes)

    # -- the faults (from a cell) --

    def blackhole(self, direction: str = "both") -> None:
        """From now on, read and discard the bytes going ``direction`` (``"to_server"``, ``"to_client"``, ``"both"``).

        Nobody is told: no FIN, no reset, the sender's writes succeed. Like a cable pulled out.
        """
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        _loop.run(self._set_holes(direction))

    def restore(self) -> None:
        """Forward every byte again (and call off an :meth:`outage` under way)."""
        _loop.run(self._set_holes(None))

    def drop(self, *, restore: bool = False) -> int:
        """Cut every open connection now, on both sides (a TCP reset): a forced disconnect.

        Args:
            restore: then forward every byte again, in the same step on the loop. Calling :meth:`restore` after
                ``drop()`` leaves a moment in which a client that reconnects at once meets the black hole (its
                handshake vanishes and it waits); calling it before lets through what was still on its way into
                the hole. ``drop(restore=True)`` has neither gap.

        Returns:
            How many connections were cut.
        """
        async def cut() -> int:
            count = await self._drop_all("dropped by the proxy")
            if restore:
                await self._set_holes(None)
            return count

        return _loop.run(cut())

    def outage(self, seconds: float, direction: str = "both", *, then: str = "drop") -> None:
        """Black-hole ``direction`` for ``seconds``, then cut every connection (``then="drop"``) or just end
        (``then="restore"``); the proxy forwards again afterwards. Returns at once: the outage runs by itself.
        """
        if then not in ("drop", "restore"):
            raise ValueError(f"then must be 'drop' or 'restore', got {then!r}")
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self.blackhole(direction)

        async def schedule() -> None:
            loop = asyncio.get_running_loop()
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_later(seconds, lambda: loop.create_task(self._end_outage(then)))

        _loop.run(schedule())

    async def _end_outage(self, then: str) -> None:
        self._timer = None
        if then == "drop":
            await self._drop_all("dropped by the proxy at the end of an outage")
        await self._set_holes(None)

    async def _set_holes(self, direction: str | None) -> None:
        if direction is None and self._timer is not None:  # healed by hand: the outage's end must not cut again
            self._timer.cancel()
            self._timer = None
        self._holes = set() if direction is None else (
            {"to_server", "to_client"} if direction == "both" else {direction})
        what = "everything passes" if direction is None else f"black hole: {direction}"
        self.log.add("event", "NOTE", info=what)

    async def _drop_all(self, why: str) -> int:
        pairs = list(self._pairs)
        for pair in pairs:
            await self._close(pair, why, abort=True)
        return len(pairs)

    # -- forwarding (on the loop) --

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError as exc:
            self.log.add("event", "ERROR", info=f"cannot reach {self.target}: {exc}")
            client_writer.transport.abort()
            return
        self._count += 1
        pair = _Pair(self._count, client_writer, server_writer)
        self._pairs.add(pair)
        self.log.add("event", "OPEN", conn=pair.number)
        loop = asyncio.get_running_loop()
        pair.tasks = [
            loop.create_task(self._pump(pair, client_reader, server_writer, "to_server")),
            loop.create_task(self._pump(pair, server_reader, client_writer, "to_client")),
        ]
        if self.idle_timeout is not None:
            pair.tasks.append(loop.create_task(self._watch_idle(pair)))

    async def _pump(self, pair: _Pair, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    direction: str) -> None:
        try:
            while data := await reader.read(65536):
                if direction in self._holes:
                    self.dropped_bytes[direction] += len(data)
                    continue
                pair.last_activity = time.monotonic()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        if direction in self._holes:
            return  # a FIN into the black hole goes nowhere either: the other side is never told
        side = "client" if direction == "to_server" else "server"
        await self._close(pair, f"closed by the {side}")

    async def _watch_idle(self, pair: _Pair) -> None:
        assert self.idle_timeout is not None
        while not pair.closed:
            idle = time.monotonic() - pair.last_activity
            if idle >= self.idle_timeout:
                await self._close(pair, f"idle for {self.idle_timeout:g} s: closed by the proxy")
                return
            await asyncio.sleep(self.idle_timeout - idle)

    async def _close(self, pair: _Pair, why: str, *, abort: bool = False) -> None:
        if pair.closed:
            return
        pair.closed = True
        self._pairs.discard(pair)
        for writer in (pair.client, pair.server):
            if abort:
                writer.transport.abort()
            else:
                writer.close()
        current = asyncio.current_task()
        for task in pair.tasks:
            if task is not current:
                task.cancel()
        self.log.add("event", "CLOSED", conn=pair.number, info=why)

    # -- lifecycle --

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and cut every connection (safe to call twice)."""
        server, self._server = self._server, None
        if server is not None:
            async def close() -> None:
                if self._timer is not None:
                    self._timer.cancel()
                server.close()
                await self._drop_all("the proxy stopped")
                await server.wait_closed()

            self._stop_on_loop(close(), timeout)

    def __repr__(self) -> str:
        if self._server is None:
            return f"<FaultProxy {self.name!r} stopped>"
        holes = f", black hole {sorted(self._holes)}" if self._holes else ""
        return (f"<FaultProxy {self.name!r} 127.0.0.1:{self.port} → {self.target[0]}:{self.target[1]}, "
                f"{self.connections} open{holes}>")


_ECHO_CHILD = """
import asyncio, sys
from websockets.asyncio.server import serve

async def echo(ws):
    async for message in ws:
        await ws.send(message)

async def main():
    async with serve(echo, "127.0.0.1", 0, ping_interval=None) as server:
        print("listening", server.sockets[0].getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until stdin closes

asyncio.run(main())
"""


class EchoProcess(ChildProcess, _loop.LiveObject):
    """A ``websockets`` echo server in a child process, on 127.0.0.1: something to kill or freeze.

    Args:
        name: as for every wskit server.
        timeout: seconds it has to start.

    Attributes:
        url: ``ws://127.0.0.1:port/``.
        pid: the process id.
    """

    kind = "echo-process"

    def __init__(self, *, name: str | None = None, timeout: float = 20.0) -> None:
        self.paused = False
        self._go_live(name, lambda: self._start(timeout))

    def _start(self, timeout: float) -> None:
        self.process = spawn(
            [sys.executable, "-c", _ECHO_CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        stop_at_exit(self)
        self.pid = self.process.pid
        line = _readline(self.process, timeout)
        if not line.startswith("listening "):
            raise RuntimeError(f"the echo process did not start within {timeout} s: {line!r}")
        self.port = int(line.split()[1])

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def pause(self) -> None:
        """``SIGSTOP``: the process freezes; its kernel still accepts bytes, but nothing answers."""
        if self.running:
            os.kill(self.pid, signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        """``SIGCONT``: the process runs again."""
        if self.running and self.paused:
            os.kill(self.pid, signal.SIGCONT)
        self.paused = False

    def stop(self) -> None:
        """Stop the process (safe to call twice)."""
        if self.paused:  # a stopped process cannot read its stdin
            self.kill()
        self._end_process(stdin=True)
        _loop.unregister(self)

    def __repr__(self) -> str:
        state = f"{self.url} pid {self.pid}" if self.running else "stopped"
        return f"<EchoProcess {self.name!r} {state}>"


def _readline(process: subprocess.Popen[str], timeout: float) -> str:
    """The child's first line of output, waiting at most ``timeout`` seconds (no thread left behind)."""
    import selectors

    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return process.stdout.readline()
