"""A real ipykernel driven through jupyter_client, as JupyterLab drives it.

Tests of what a learner does (execute a cell, interrupt it, re-run it fifty
times, read what the kernel printed) use :class:`Kernel` rather than the
Python API alone: threads, ZeroMQ sockets, interrupts and the kernel's own
event loop behave differently there.

>>> k = Kernel()                       # doctest: +SKIP
>>> k.run("print(1 + 1)")              # doctest: +SKIP
'2\\n'
>>> msg_id = k.start("import time; time.sleep(30)")   # doctest: +SKIP
>>> k.interrupt(); k.wait(msg_id).status              # doctest: +SKIP
'error'
"""

from __future__ import annotations

import dataclasses
import json
import queue
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel

__all__ = ["CellResult", "Kernel"]


@dataclasses.dataclass
class CellResult:
    """What one execution produced on iopub, and its reply."""

    status: str  # "ok" or "error"
    stdout: str
    stderr: str
    error: str  # the traceback's text, "" when status is "ok"
    ename: str  # e.g. "KeyboardInterrupt"
    displays: list[dict[str, Any]]  # display_data / execute_result bundles
    seconds: float


class Kernel:
    """A fresh python3 kernel (the current environment's), started in ``cwd``."""

    def __init__(self, cwd: Path | str | None = None) -> None:
        self.manager, self.client = start_new_kernel(
            kernel_name="python3",
            cwd=str(cwd or Path.cwd()),
            extra_arguments=["--HistoryManager.enabled=False"],
        )
        self._pending: dict[str, float] = {}

    # -- executing --

    def start(self, code: str) -> str:
        """Send ``code`` for execution without waiting; returns the message id."""
        msg_id = self.client.execute(code, store_history=True)
        self._pending[msg_id] = time.monotonic()
        return msg_id

    def wait(self, msg_id: str, timeout: float = 120.0) -> CellResult:
        """Collect iopub output of ``msg_id`` until the kernel is idle again, then its reply."""
        started = self._pending.pop(msg_id, time.monotonic())
        deadline = time.monotonic() + timeout
        out, err, displays = [], [], []
        error, ename = "", ""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the kernel did not finish the cell within {timeout} s")
            try:
                msg = self.client.get_iopub_msg(timeout=remaining)
            except queue.Empty:
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                (out if content["name"] == "stdout" else err).append(content["text"])
            elif kind in ("display_data", "execute_result"):
                displays.append(content.get("data", {}))
            elif kind == "error":
                error, ename = "\n".join(content["traceback"]), content["ename"]
            elif kind == "status" and content["execution_state"] == "idle":
                break
        reply = self.client.get_shell_msg(timeout=max(1.0, deadline - time.monotonic()))
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.client.get_shell_msg(timeout=max(1.0, deadline - time.monotonic()))
        return CellResult(
            reply["content"]["status"], "".join(out), "".join(err), error, ename, displays,
            time.monotonic() - started,
        )

    def execute(self, code: str, timeout: float = 120.0) -> CellResult:
        """Run ``code`` and wait for it; the result whatever its status."""
        return self.wait(self.start(code), timeout)

    def run(self, code: str, timeout: float = 120.0) -> str:
        """Run ``code``, assert it succeeded, and return what it printed."""
        result = self.execute(code, timeout)
        assert result.status == "ok", result.error or result
        return result.stdout

    def value(self, expression: str, timeout: float = 60.0) -> Any:
        """The JSON value of ``expression`` evaluated in the kernel."""
        return json.loads(self.run(f"import json as _json\nprint(_json.dumps({expression}))", timeout))

    # -- interrupting --

    def interrupt(self) -> None:
        """Interrupt the running cell, as the stop button does (SIGINT to the kernel)."""
        self.manager.interrupt_kernel()

    def interrupt_after(self, msg_id: str, seconds: float, timeout: float = 60.0) -> CellResult:
        """Let ``msg_id`` run ``seconds``, interrupt it, and return its result."""
        time.sleep(seconds)
        self.interrupt()
        return self.wait(msg_id, timeout)

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
