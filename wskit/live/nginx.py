"""A real nginx in front: Debian's ``nginx`` as a child process on loopback.

>>> from wskit.live.nginx import Nginx, upstream
>>> proxy = Nginx('location / { return 200 "hello from nginx\\n"; }')   # doctest: +SKIP
>>> proxy.url                                                             # doctest: +SKIP
'http://127.0.0.1:...'
>>> print(proxy.access_log())                                             # doctest: +SKIP
>>> proxy.stop()                                                          # doctest: +SKIP

:class:`Nginx` writes a whole ``nginx.conf`` around the ``server`` block you give it: its own prefix
directory (a temporary directory), pid file, temporary-file paths and logs, ``daemon off;``, one worker,
and a free port on 127.0.0.1. It checks the configuration with ``nginx -t`` first (a mistake is reported
with nginx's own message), starts nginx as a child process (not root-only: Binder users are not root),
waits until the port answers, and is stopped by :func:`wskit.stop_all`, by :meth:`Nginx.stop`, and when
the kernel exits. :func:`upstream` writes an ``upstream`` block for servers the kit started.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import ssl as ssl_module
import subprocess
import tempfile
import textwrap
import time
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import loop as _loop
from .children import ChildProcess, free_port, listens_on, spawn, stop_at_exit
from .errors import LiveError

__all__ = [
    "INSTALL_NGINX",
    "LOG_FORMAT",
    "Nginx",
    "NginxConfigError",
    "NginxError",
    "NginxMissing",
    "NginxTLS",
    "STALE_AFTER",
    "find_nginx",
    "nginx_tls",
    "upstream",
]

INSTALL_NGINX = (
    "nginx is not installed: the course uses Debian's package 'nginx'. Install it with "
    "'sudo apt-get install nginx' (as root: 'apt-get install nginx'); on Binder, binder/apt.txt installs it."
)

#: Directories searched after ``PATH``: Debian puts nginx in /usr/sbin, which a non-root ``PATH`` may lack.
SBIN_DIRS: tuple[str, ...] = ("/usr/sbin", "/usr/local/sbin", "/sbin")

#: The access log's format: who asked, the request line (with its query string), the status, how long the
#: request (or the whole WebSocket connection) lasted, and which upstream server answered.
LOG_FORMAT = (
    '$remote_addr "$request" $status $body_bytes_sent '
    "rt=$request_time upstream=$upstream_addr upstream_status=$upstream_status"
)


class NginxError(LiveError, RuntimeError):
    """nginx did not start, or stopped on its own; the message has nginx's own words."""


class NginxMissing(NginxError):
    """The ``nginx`` binary is not installed; the message names the Debian package."""


class NginxConfigError(NginxError):
    """``nginx -t`` refused the configuration.

    Attributes:
        message: what nginx said (``nginx: [emerg] ... in .../nginx.conf:12``).
        config: the whole configuration that was tested, so the line number can be read.
    """

    def __init__(self, message: str, config: str) -> None:
        self.message = message
        self.config = config
        super().__init__(f"nginx refused the configuration:\n{message}")


def find_nginx(binary: str | None = None) -> str:
    """The path of the nginx binary: ``binary`` if given, else ``nginx`` on ``PATH`` or in /usr/sbin.

    Raises:
        NginxMissing: there is none (the message says how to install Debian's ``nginx``).
    """
    if binary is not None:
        if os.path.isfile(binary) and os.access(binary, os.X_OK):
            return binary
        raise NginxMissing(f"{binary!r} is not an executable file. {INSTALL_NGINX}")
    path = os.pathsep.join([os.environ.get("PATH", ""), *SBIN_DIRS])
    found = shutil.which("nginx", path=path)
    if found is None:
        raise NginxMissing(INSTALL_NGINX)
    return found


def upstream(name: str, urls: Iterable[str], *directives: str) -> str:
    """The text of an ``upstream`` block for the servers at ``urls``.

    Args:
        name: the name ``proxy_pass http://NAME;`` refers to.
        urls: ``ws://127.0.0.1:8765/``, ``http://127.0.0.1:8000`` ... (each server's ``.url``).
        directives: load-balancing directives, e.g. ``"ip_hash"`` or ``"hash $remote_addr"``
            (default: round-robin).

    >>> print(upstream("app", ["ws://127.0.0.1:9001/", "http://127.0.0.1:9002"], "ip_hash"))
    upstream app {
        ip_hash;
        server 127.0.0.1:9001;
        server 127.0.0.1:9002;
    }
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name):
        raise ValueError(f"an upstream name is a plain word such as 'app', got {name!r}")
    lines = [f"    {d.strip().rstrip(';')};" for d in directives]
    for url in urls:
        parsed = urllib.parse.urlsplit(url if "://" in url else f"tcp://{url}")
        if not parsed.hostname or not parsed.port:
            raise ValueError(f"expected a server URL with a host and a port (a server's .url), got {url!r}")
        lines.append(f"    server {parsed.hostname}:{parsed.port};")
    if not any(line.lstrip().startswith("server ") for line in lines):
        raise ValueError("an upstream needs at least one server URL")
    return "\n".join([f"upstream {name} {{", *lines, "}"])


@dataclasses.dataclass(frozen=True)
class NginxTLS:
    """A local certificate authority (trustme) and a certificate it issued, with its private key.

    Attributes:
        client: an ``ssl.SSLContext`` for clients that trusts only this authority
            (``wskit.connect(proxy.ws_url, ssl=tls.client)``).
        ca_pem: the authority's certificate, PEM text.
        cert_pem: the server's certificate chain, PEM text (what nginx presents).
        key_pem: the server's private key, PEM text (what nginx keeps).
        hostnames: the names the certificate is valid for.
    """

    client: ssl_module.SSLContext
    ca_pem: str = dataclasses.field(repr=False)
    cert_pem: str = dataclasses.field(repr=False)
    key_pem: str = dataclasses.field(repr=False)
    hostnames: tuple[str, ...] = ("127.0.0.1", "localhost")


def nginx_tls(*hostnames: str) -> NginxTLS:
    """A new local CA and a certificate for ``hostnames`` (default 127.0.0.1 and localhost), key included."""
    import trustme

    names = hostnames or ("127.0.0.1", "localhost")
    ca = trustme.CA(organization_name="wskit course CA")
    cert = ca.issue_cert(*names)
    client = ssl_module.create_default_context(ssl_module.Purpose.SERVER_AUTH)
    ca.configure_trust(client)
    chain = "".join(blob.bytes().decode() for blob in cert.cert_chain_pems)
    return NginxTLS(client, ca.cert_pem.bytes().decode(), chain, cert.private_key_pem.bytes().decode(), names)


# "2026/11/26 21:38:41 [emerg] 12457#12457: " -> "nginx: [emerg] " (no time or pid: the same text each run)
_STAMP = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(\w+)\] \d+#\d+: ", re.M)


def _indent(text: str, spaces: int) -> str:
    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * spaces)


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    rows = text.splitlines()
    return "\n".join(rows[-lines:] if lines else rows)


#: A prefix directory with no running nginx (no pid file) older than this many seconds was left by a kernel that
#: was killed (nginx itself then stopped on its parent-death signal, but nobody removed the directory).
STALE_AFTER = 60.0


def _remove_stale_prefixes() -> None:
    now = time.time()
    for candidate in Path(tempfile.gettempdir()).glob("wskit-nginx-*"):
        with contextlib.suppress(OSError):
            info = candidate.stat()
            if info.st_uid == os.geteuid() and now - info.st_mtime > STALE_AFTER and not (
                candidate / "nginx.pid"
            ).exists():
                shutil.rmtree(candidate, ignore_errors=True)




class Nginx(ChildProcess, _loop.LiveObject):
    """A real nginx on 127.0.0.1 and a free port, with the ``server`` block you write.

    Args:
        locations: what goes inside ``server { ... }`` after ``listen``: ``location`` blocks and
            server-level directives (``proxy_read_timeout 2s;`` ...).
        http: what goes in the ``http { ... }`` block before the server: ``map``, ``upstream``
            (see :func:`upstream`), ``log_format`` ...
        tls: ``True`` (a new local CA, see :func:`nginx_tls`) or an :class:`NginxTLS`: nginx then
            listens for ``https://`` and ``wss://`` with that certificate.
        error_log_level: nginx's ``error_log`` level (``info`` also logs clients closing connections).
        name: re-creating a proxy with the name of a running one replaces it (a re-run cell does).
        binary: the nginx executable (default: ``nginx`` on ``PATH`` or in /usr/sbin).
        timeout: seconds to wait for nginx to listen.

    Attributes:
        port: the port nginx listens on.
        prefix: the temporary directory that holds its configuration, logs, pid and temporary files
            (removed by :meth:`stop`).
        tls: the :class:`NginxTLS` in use, or ``None``.
        pid: the master process's id.

    Raises:
        NginxMissing: nginx is not installed (the message names the Debian package ``nginx``).
        NginxConfigError: ``nginx -t`` refused the configuration (with nginx's message).
        NginxError: nginx did not start listening in time (with its error log).
    """

    kind = "nginx"

    def __init__(
        self,
        locations: str,
        *,
        http: str = "",
        tls: bool | NginxTLS | None = None,
        error_log_level: str = "warn",
        name: str | None = None,
        binary: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.binary = find_nginx(binary)
        if error_log_level not in ("debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"):
            raise ValueError(f"not an nginx error_log level: {error_log_level!r}")
        self.tls: NginxTLS | None = nginx_tls() if tls is True else (tls or None)
        self.process: subprocess.Popen[bytes] | None = None
        self._final_logs: dict[str, str] = {}
        _remove_stale_prefixes()
        self.prefix = Path(tempfile.mkdtemp(prefix="wskit-nginx-"))
        for sub in ("logs", "temp", "html", "tls"):
            (self.prefix / sub).mkdir()
        if self.tls is not None:
            (self.prefix / "tls" / "cert.pem").write_text(self.tls.cert_pem)
            key = self.prefix / "tls" / "key.pem"
            key.touch(0o600)
            key.write_text(self.tls.key_pem)
        self._locations, self._http, self._level = locations, http, error_log_level
        self.port = free_port()
        self.config = self._render()
        try:
            self._test_config()
        except BaseException:
            self._remove_prefix()
            raise
        self._go_live(name, lambda: self._start(timeout))

    # -- the configuration --

    def _render(self) -> str:
        """The whole nginx.conf; every path is relative to the prefix (``-p``), so the text is the same each run."""
        # Last in the file, so that line numbers in nginx's messages are the same for root and for other users.
        user = "\nuser root;  # the kernel runs as root here: workers keep its rights\n" if os.geteuid() == 0 else ""
        scheme = " ssl" if self.tls else ""
        certificate = (
            "    ssl_certificate     tls/cert.pem;\n    ssl_certificate_key tls/key.pem;\n"
            "    ssl_protocols       TLSv1.2 TLSv1.3;\n" if self.tls else ""
        )
        http = f"{_indent(self._http, 4)}\n\n" if self._http.strip() else ""
        return (
            f"# nginx.conf written by wskit: everything below lives in its own prefix directory (nginx -p)\n"
            f"daemon off;\n"
            f"worker_processes 1;\n"
            f"pid nginx.pid;\n"
            f"error_log logs/error.log {self._level};\n"
            f"\n"
            f"events {{\n    worker_connections 512;\n}}\n"
            f"\n"
            f"http {{\n"
            f"    client_body_temp_path temp/client_body;\n"
            f"    proxy_temp_path       temp/proxy;\n"
            f"    fastcgi_temp_path     temp/fastcgi;\n"
            f"    uwsgi_temp_path       temp/uwsgi;\n"
            f"    scgi_temp_path        temp/scgi;\n"
            f"    default_type          text/plain;\n"
            f"    log_format wskit '{LOG_FORMAT}';\n"
            f"    access_log logs/access.log wskit;\n"
            f"\n"
            f"{http}"
            f"    server {{\n"
            f"        listen 127.0.0.1:{self.port}{scheme};\n"
            f"        server_name localhost;\n"
            f"{textwrap.indent(certificate, '    ')}"
            f"{_indent(self._locations, 8)}\n"
            f"    }}\n"
            f"}}\n"
            f"{user}"
        )

    def _command(self, *extra: str) -> list[str]:
        return [self.binary, "-p", f"{self.prefix}/", "-c", str(self.prefix / "nginx.conf"), *extra]

    def _test_config(self) -> None:
        (self.prefix / "nginx.conf").write_text(self.config)
        result = subprocess.run(
            self._command("-e", "stderr", "-t", "-q"), capture_output=True, text=True, timeout=30,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            message = _STAMP.sub(r"nginx: [\1] ", (result.stderr or result.stdout).strip())
            raise NginxConfigError(message.replace(f"{self.prefix}/", "<prefix>/"), self.config)

    # -- lifecycle --

    def _start(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_log = ""
        for _attempt in range(3):
            # a session of its own (an interrupt does not stop it), SIGTERM if the kernel dies: wskit.live.children
            self.process = spawn(
                self._command("-e", "logs/error.log"),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.prefix,
            )
            self.pid = self.process.pid
            stop_at_exit(self)
            while not self._listening():  # an external process: nothing to await but its port
                if self.process.poll() is not None:
                    break
                if time.monotonic() > deadline:
                    raise NginxError(
                        f"nginx did not listen on 127.0.0.1:{self.port} within {timeout} s; its error log:\n"
                        f"{self.error_log()}"
                    )
                time.sleep(0.01)
            else:
                return
            log = self.error_log()
            if "Address already in use" in log:  # someone took the free port first: try another
                last_log = log
                self.port = free_port()
                self.config = self._render()
                (self.prefix / "nginx.conf").write_text(self.config)
                (self.prefix / "logs" / "error.log").unlink(missing_ok=True)
                continue
            raise NginxError(f"nginx exited with status {self.process.returncode}; its error log:\n{log}")
        raise NginxError(f"nginx found no free port in 3 attempts; its last error log:\n{last_log}")

    def _listening(self) -> bool:
        """nginx itself (not whoever else took the port) listens on our port (psutil: the master's sockets)."""
        assert self.process is not None
        return listens_on(self.process, self.port)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop nginx (SIGTERM: fast shutdown; SIGKILL to its process group if it lingers), remove its directory.

        The last lines of its logs stay readable with :meth:`access_log` and :meth:`error_log`.
        Safe to call twice.
        """
        self._end_process(timeout=timeout, group=True)  # group: a worker that outlived its master goes too
        self._remove_prefix()
        _loop.unregister(self)

    def _remove_prefix(self) -> None:
        if self.prefix.exists():
            for which in ("access", "error"):
                self._final_logs[which] = _tail(self.prefix / "logs" / f"{which}.log", 0)
            shutil.rmtree(self.prefix, ignore_errors=True)

    # -- what to connect to --

    @property
    def url(self) -> str:
        """``http://127.0.0.1:port`` (``https://`` with TLS)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:port/`` (``wss://`` with TLS)."""
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/"

    # -- the logs --

    def _log(self, which: str, lines: int) -> str:
        path = self.prefix / "logs" / f"{which}.log"
        if path.exists():
            return _tail(path, lines)
        rows = self._final_logs.get(which, "").splitlines()
        return "\n".join(rows[-lines:] if lines else rows)

    def access_log(self, lines: int = 10) -> str:
        """The last ``lines`` lines of the access log (0: all), in :data:`LOG_FORMAT`.

        nginx writes a request's line when it ends: a WebSocket connection's line appears when it closes.
        """
        return self._log("access", lines)

    def error_log(self, lines: int = 10) -> str:
        """The last ``lines`` lines of the error log (0: all)."""
        return self._log("error", lines)

    def wait_for_log(self, pattern: str, *, log: str = "access", timeout: float = 5.0, after: int = 0) -> str:
        """Wait until a line of the access (or ``log="error"``) log matches the regular expression ``pattern``.

        Args:
            pattern: a regular expression (``re.search``).
            log: ``"access"`` or ``"error"``.
            timeout: seconds to wait.
            after: only look at lines after this many (``len(proxy.access_log(0).splitlines())`` taken before).

        Returns:
            The first matching line.

        Raises:
            TimeoutError: no such line within ``timeout`` seconds.
        """
        if log not in ("access", "error"):
            raise ValueError(f"log is 'access' or 'error', got {log!r}")
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:  # nginx writes a file: nothing to await but the file
            for line in self._log(log, 0).splitlines()[after:]:
                if regex.search(line):
                    return line
            if time.monotonic() > deadline:
                raise TimeoutError(f"no line matching {pattern!r} in nginx's {log} log within {timeout} s")
            time.sleep(0.02)

    def log_lines(self, log: str = "access") -> int:
        """How many lines the log has now (give it to :meth:`wait_for_log` as ``after``)."""
        return len(self._log(log, 0).splitlines())

    def __repr__(self) -> str:
        state = f"{self.url} running" if self.running else "stopped"
        return f"<Nginx {self.name!r} {state}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython display
        printer.text(repr(self))
