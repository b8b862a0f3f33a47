"""JupyterLab on loopback for the browser tests, and the Chromium they drive.

Chromium is Debian's (`apt-get install chromium`, done by .ci/run); Playwright drives it through
`executable_path` and never downloads a browser. A missing chromium skips the browser tests on a
learner's machine and fails them in CI (where `CI` is set).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.requires import require_chromium
from wskit.live.children import free_port

__all__ = ["ARTIFACTS", "CHROMIUM", "CHROMIUM_ARGS", "TOKEN", "lab_root_server", "lab_server", "require_chromium"]

ARTIFACTS = Path(__file__).parent.parent / "artifacts"
TOKEN = "wskit-browser-test"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def lab_server(tmp_path_factory: Any, cells: list[str], name: str = "panels.ipynb", **env: str) -> Iterator[str]:
    """JupyterLab on loopback with one notebook, ``name``, of code ``cells``; yield its URL; stop it."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    root = tmp_path_factory.mktemp("lab")
    notebook = new_notebook(cells=[new_code_cell(source) for source in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, root / name)
    yield from lab_root_server(root, **env)


def lab_root_server(root: Path, startup: float = 60.0, **extra_env: str) -> Iterator[str]:
    """Start JupyterLab on 127.0.0.1 serving ``root`` (with ``extra_env`` set); yield its URL; stop it.

    Every cell is rendered (no windowing, which detaches and re-renders widgets scrolled out of view), and
    no news is fetched from a network this machine does not reach.
    """
    settings = root / ".settings"
    for plugin, values in {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    }.items():
        target = settings / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    # Its own runtime, settings and workspaces: a workspace left in ~/.jupyter by an earlier run (tabs of files
    # this root does not have) would be restored into this one, with dialogs over the page.
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(root / ".runtime"), "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces"), **extra_env}
    log_path = root / "lab.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    process = None
    try:
        for attempt in range(3):  # a free port another process took before JupyterLab bound it: try another
            port = free_port()
            log.seek(0)
            log.truncate()
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
                    "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
                    f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
                    "--ServerApp.port_retries=0",  # never another port: that could be another test's lab, same token
                ],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
            )  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            if _wait_ready(process, url, time.monotonic() + startup):
                break
            text = log_path.read_text()
            if process.poll() is None or "already in use" not in text or attempt == 2:
                raise RuntimeError("JupyterLab did not start:\n" + text)
        yield url
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        log.close()


def _wait_ready(process: subprocess.Popen, url: str, deadline: float) -> bool:
    """Whether JupyterLab at ``url`` answered before ``deadline``; ``False`` when it exited or the time ran out."""
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.3)
