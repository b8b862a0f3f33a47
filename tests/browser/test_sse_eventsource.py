"""wskit.codec.sse against a real browser: Chromium's EventSource reads the same tricky stream.

A standard-library HTTP server on loopback serves a page and one event stream that mixes every rule of
WHATWG HTML §9.2.6: a byte order mark, comments, CRLF, LF and CR line ends (sent in pieces, one cut between
a CR and its LF), a field without a colon, one optional space, multi-line data, an empty data buffer, event
types, an id that resets, an id with NUL, retry, unknown fields and UTF-8 split across writes. The page
records every event its EventSource fires; they must equal what :func:`wskit.codec.sse.parse` reads.

Chromium is Debian's (``apt-get install chromium``); Playwright drives it through ``executable_path``.
"""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS, require_chromium
from wskit.codec import sse

require_chromium()

from playwright.sync_api import sync_playwright  # noqa: E402 - only once chromium is known to be there

TYPES = ("message", "add", "remove", "done")
PAGE = """<!doctype html><meta charset="utf-8"><title>event stream</title>
<script>
window.seen = [];
window.finished = new Promise((resolve) => {
  const source = new EventSource("/stream");
  for (const type of %s) {
    source.addEventListener(type, (e) => {
      window.seen.push([e.data, e.type, e.lastEventId]);
      if (type === "done") { source.close(); resolve(window.seen); }
    });
  }
});
</script>
""" % list(TYPES)  # noqa: UP031 - the page's braces are JavaScript's

PIECES = [
    b"\xef\xbb",  # the byte order mark, cut in two
    b"\xbf: a comment\r\ndata: first\r\nid: 1\r\n\r\n",
    b"data:second event\nid\n\ndata:  third\r",  # CR ...
    b"\n\r\n",  # ... and its LF in the next write: one line end
    b"event: add\rdata: 73857293\rdata\rdata: after an empty line\r\r",
    b"data\n\ndata\ndata\n\n",
    b"retry: 5000\nfoo: ignored\nData: ignored\nid: 7\x00\nevent: remove\ndata: caf\xc3",  # é cut in two
    b"\xa9 \xe2\x82\xac\n\n: keep-alive\ndata:test\n\ndata: test\nid: 8\n\n",
    b"event: unseen\n\n",  # no data: nothing fires, and the type does not carry over
    b"data: a: colon\n\nevent: done\ndata: end\n\n",
]
STREAM = b"".join(PIECES)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            for piece in PIECES:
                self.wfile.write(piece)
                self.wfile.flush()
                time.sleep(0.02)  # separate writes, so the browser may well read them apart
            return
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, name="sse-page", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_eventsource_fires_what_the_parser_reads(server):
    expected = sse.parse(STREAM)
    assert {event.type for event in expected} <= set(TYPES)  # the page listens to every type the stream fires
    assert len(expected) == 11 and expected[-1] == sse.Event("end", "done", "8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{server}/page.html")
            seen = page.evaluate("window.finished")
        finally:
            browser.close()
    assert [sse.Event(*event) for event in seen] == expected
