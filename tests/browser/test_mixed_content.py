"""Mixed content, in a real Chromium: an https page may not open a ws:// WebSocket.

nginx serves a page over https (TLS terminated by nginx, certificate from a local CA made with trustme)
and proxies wss:// to a plain ws:// echo server. The page first opens wss:// through nginx (it works:
the certificate is trusted and the page runs), then tries ws:// straight to the echo server, which the
browser refuses before any packet leaves, with a SecurityError and a "Mixed Content" console message.
A last test has nginx rewrite the server's Sec-WebSocket-Protocol to one the page never offered: the
browser fails the connection (RFC 6455 §4.1).

No network: the page's host name ``wskit.test`` is mapped to 127.0.0.1 with Chromium's
``--host-resolver-rules``. A real name is needed because loopback addresses (127.0.0.1, localhost) are
"potentially trustworthy" origins, which the mixed-content rule lets an https page reach over ws:// (the
last test shows it). Chromium trusts the local CA's certificate through
``--ignore-certificate-errors-spki-list`` (the SHA-256 of that one certificate's public key), not with
``--ignore-certificate-errors``, which would accept any certificate at all.

Chromium is Debian's (``apt-get install chromium``); Playwright drives it through ``executable_path``.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

import wskit
from wskit.live.nginx import Nginx, nginx_tls, upstream

pytestmark = pytest.mark.usefixtures("clean_kit")

from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS, require_chromium  # noqa: E402

HOST = "wskit.test"

require_chromium()

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

PAGE = """<!doctype html><meta charset="utf-8"><title>mixed content</title>
<script>
window.results = {};
function attempt(label, url, protocols) {
  return new Promise((resolve) => {
    let ws;
    try { ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url); }
    catch (e) {
      console.error(label + " " + e.name + ": " + e.message);
      resolve(window.results[label] = "thrown " + e.name);
      return;
    }
    ws.onopen = () => ws.send("hello over " + label);
    ws.onmessage = (m) => { ws.close(); resolve(window.results[label] = "echo " + m.data); };
    ws.onerror = () => { ws.onclose = (c) => resolve(window.results[label] = "error, close " + c.code); };
  });
}
</script>
"""

PROXY = """
location = /page.html {
    default_type text/html;
    return 200 '%s';
}
location /ws {
    proxy_pass http://echo/;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
}
location /rewritten {
    proxy_pass http://echo/;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_hide_header Sec-WebSocket-Protocol;
    add_header Sec-WebSocket-Protocol chat.v9 always;
}
"""
MAP = """
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}
"""


def spki_sha256(cert_pem: str) -> str:
    """What --ignore-certificate-errors-spki-list takes: base64(SHA-256(the certificate's public key))."""
    key = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.fixture
def browser_page():
    echo = wskit.EchoServer(name="echo", ping_interval=None, subprotocols=["chat.v2", "chat.v1"])
    tls = nginx_tls(HOST)
    proxy = Nginx(PROXY % PAGE.replace("'", "\\'"), http=upstream("echo", [echo.url]) + MAP, tls=tls,
                  name="https-proxy")
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
            f"--ignore-certificate-errors-spki-list={spki_sha256(tls.cert_pem)}"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(f"https://{HOST}:{proxy.port}/page.html")
            yield page, console, echo, proxy
        finally:
            browser.close()


def test_https_page_may_not_open_ws(browser_page) -> None:
    page, console, echo, proxy = browser_page
    assert page.evaluate("location.protocol") == "https:"
    secure = page.evaluate(f"attempt('wss', 'wss://{HOST}:{proxy.port}/ws', ['chat.v1'])")
    assert secure == "echo hello over wss"  # the page runs, the CA is trusted, nginx proxies wss -> ws
    before = echo.log.handshakes.__len__()
    insecure = page.evaluate(f"attempt('ws', 'ws://{HOST}:{echo.port}/')")
    assert insecure == "thrown SecurityError"
    assert any("Mixed Content" in line and f"ws://{HOST}:{echo.port}/" in line for line in console), console
    assert any(line.startswith("ws SecurityError") for line in console), console
    assert len(echo.log.handshakes) == before  # refused in the browser: not one byte reached the server
    # nginx writes a tunnel's line when the tunnel ends, a moment after the page's close() (CI40 read it too soon)
    proxy.wait_for_log(r'"GET /ws HTTP/1.1" 101')
    assert proxy.access_log(0).count('"GET /ws HTTP/1.1" 101') == 1


def test_loopback_is_potentially_trustworthy(browser_page) -> None:
    page, console, _echo, _proxy = browser_page
    result = page.evaluate(f"attempt('loopback', 'ws://127.0.0.1:{_echo.port}/', ['chat.v1'])")
    assert result == "echo hello over loopback", console


def test_a_subprotocol_that_was_not_offered_fails_the_connection(browser_page) -> None:
    """RFC 6455 §4.1: the server answers chat.v9, which the page never offered: the browser fails the connection."""
    page, console, _echo, proxy = browser_page
    result = page.evaluate(f"attempt('rewritten', 'wss://{HOST}:{proxy.port}/rewritten', ['chat.v1', 'chat.v2'])")
    assert result == "error, close 1006", console
    assert any("Sec-WebSocket-Protocol" in line and "chat.v9" in line for line in console), console
