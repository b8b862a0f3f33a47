"""Command line: ``python -m wskit lab`` (open the course) and ``python -m wskit load URL [options]``.

``python -m wskit lab`` (or the ``wskit lab`` console script) starts JupyterLab
on ``notebooks/00_start_here.ipynb``. JupyterLab refuses to run as root unless
given ``--allow-root`` (common in containers), so the launcher passes that flag
when, and only when, it runs as root; for everyone else the command is plain
``jupyter lab``. Extra arguments go to JupyterLab unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from . import load

START_PAGE = Path("notebooks") / "00_start_here.ipynb"


def lab_command(extra: list[str] | None = None, *, root: bool | None = None) -> list[str]:
    """The JupyterLab command line that opens the course's start page.

    Args:
        extra: more JupyterLab arguments.
        root: running as root (default: ask the OS); only then ``--allow-root`` is added.
    """
    if root is None:
        root = hasattr(os, "geteuid") and os.geteuid() == 0
    page = START_PAGE
    if not page.exists():  # run from elsewhere: the notebooks next to this package (an editable install)
        beside = Path(__file__).resolve().parent.parent / START_PAGE
        page = beside if beside.exists() else page
    command = [sys.executable, "-m", "jupyterlab", str(page)]
    if root and "--allow-root" not in (extra or []):
        command.append("--allow-root")
    return command + list(extra or [])


def _lab(extra: list[str], dry_run: bool) -> int:
    command = lab_command(extra)
    if dry_run:
        print(shlex.join(command))
        return 0
    os.execv(command[0], command)  # JupyterLab takes over this process (Ctrl-C stops it as usual)
    return 0  # pragma: no cover


def _phase(text: str) -> load.Phase:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError("a phase is DURATION:RATE or DURATION:RATE:RAMP_TO, e.g. 10:5:20")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not numbers: {text!r}") from None
    return load.Phase(*numbers)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wskit", description="wskit command line")
    commands = parser.add_subparsers(dest="command", required=True)
    lab = commands.add_parser("lab", help="open the course in JupyterLab (notebooks/00_start_here.ipynb)")
    lab.add_argument("--dry-run", action="store_true", help="print the JupyterLab command instead of running it")
    run = commands.add_parser("load", help="load-test a WebSocket (ws://) or Socket.IO (http://) echo server")
    run.add_argument("url", nargs="+", help="one URL, or several to spread the users over round-robin")
    run.add_argument("--phase", type=_phase, action="append",
                     help="DURATION:RATE[:RAMP_TO]: seconds of users arriving RATE a second (repeatable)")
    run.add_argument("--messages", type=int, default=10, help="messages per user (default 10)")
    run.add_argument("--rate", type=float, default=10.0, help="messages a second per user (default 10)")
    run.add_argument("--size", type=int, default=64, help="bytes per message (default 64)")
    run.add_argument("--event", default="echo", help="Socket.IO event that echoes (default 'echo')")
    run.add_argument("--timeout", type=float, default=10.0,
                     help="seconds to connect, to wait for a send held back by flow control, and for the last echoes")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio",
                     help="the generator's event loop: asyncio's own (default) or uvloop (pip install uvloop)")
    app = commands.add_parser("sio-app", help="serve the course's Socket.IO chat app until stdin closes")
    app.add_argument("--redis", default=None, help="share rooms through this Redis URL")
    app.add_argument("--port", type=int, default=0)
    args, extra = parser.parse_known_args(argv)
    if args.command == "lab":
        return _lab(extra, args.dry_run)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "sio-app":
        return _serve_chat_app(args.redis, args.port)
    runner: Any = asyncio.run
    if args.loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            parser.error("--loop uvloop needs uvloop, an optional dependency: pip install uvloop")
        runner = uvloop.run
    try:
        result = runner(load.run_async(
            args.url if len(args.url) > 1 else args.url[0],
            phases=args.phase or [load.Phase(5, 10)], messages=args.messages, rate=args.rate,
            size=args.size, event=args.event, timeout=args.timeout, progress=not args.quiet,
        ))
    except ValueError as exc:
        parser.error(str(exc))
    print(load.to_json(result) if args.json else result.table())
    return 0 if result.lost == 0 and not result.errors else 1


def _serve_chat_app(redis_url: str | None, port: int) -> int:
    from .live import stop_all
    from .live.sio import SocketIOServer
    from .live.sio_app import install

    srv = install(SocketIOServer(port=port, redis_url=redis_url, name="sio-app"))
    print(f"listening {srv.url}", flush=True)
    sys.stdin.read()  # until the parent closes our stdin (or kills us)
    stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
