"""Command line: ``python -m wskit load URL [options]``."""

from __future__ import annotations

import argparse
import asyncio
import sys

from . import load


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
    run = commands.add_parser("load", help="load-test a WebSocket (ws://) or Socket.IO (http://) echo server")
    run.add_argument("url", nargs="+", help="one URL, or several to spread the users over round-robin")
    run.add_argument("--phase", type=_phase, action="append",
                     help="DURATION:RATE[:RAMP_TO]: seconds of users arriving RATE a second (repeatable)")
    run.add_argument("--messages", type=int, default=10, help="messages per user (default 10)")
    run.add_argument("--rate", type=float, default=10.0, help="messages a second per user (default 10)")
    run.add_argument("--size", type=int, default=64, help="bytes per message (default 64)")
    run.add_argument("--event", default="echo", help="Socket.IO event that echoes (default 'echo')")
    run.add_argument("--timeout", type=float, default=10.0)
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    app = commands.add_parser("sio-app", help="serve the course's Socket.IO chat app until stdin closes")
    app.add_argument("--redis", default=None, help="share rooms through this Redis URL")
    app.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "sio-app":
        return _serve_chat_app(args.redis, args.port)
    try:
        result = asyncio.run(load.run_async(
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
