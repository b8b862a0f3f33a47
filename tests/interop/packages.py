"""The interop tests' npm packages, installed once from the committed lock file (``npm ci``).

Both test files need them, and the suite runs files side by side (pytest-xdist): ``npm ci`` empties
``node_modules`` before it fills it, so a second install while the other file runs its Node.js scripts would
pull the packages from under them. One install at a time (a lock file), and none when ``node_modules`` already
holds what this very lock file pins (a stamp with its hash, written after a successful install).
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
STAMP = HERE / "node_modules" / ".wskit-installed-from"


def install_packages(npm: str) -> None:
    """``npm ci`` in tests/interop, unless the packages of this lock file are there; one process at a time."""
    pinned = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()
    lock_path = Path(tempfile.gettempdir()) / f"wskit-interop-npm-{hashlib.sha256(bytes(HERE)).hexdigest()[:12]}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if STAMP.is_file() and STAMP.read_text() == pinned:
            return
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True,
                       timeout=300)
        STAMP.write_text(pinned)
