"""The private parts of websockets, aiohttp and python-engineio the kit relies on are still where they were.

pyproject.toml pins each library below its next untested major; these tests fail loudly, naming the attribute,
when a release within the pin moves one.
"""

from __future__ import annotations

import pytest

from wskit.live import _traffic, sio


def test_the_websockets_hooks_of_the_traffic_log_are_in_place():
    _traffic.check_private_hooks()


def test_the_socketio_hooks_are_in_place():
    sio.check_private_hooks()


def test_a_moved_hook_is_named(monkeypatch):
    from websockets.protocol import Protocol

    monkeypatch.delattr(Protocol, "send_frame")
    with pytest.raises(RuntimeError, match=r"moved websockets\.protocol\.Protocol\.send_frame"):
        _traffic.check_private_hooks()


def test_a_changed_signature_is_named(monkeypatch):
    from websockets.client import ClientProtocol

    monkeypatch.setattr(ClientProtocol, "process_response", lambda self, response, strict: None)
    with pytest.raises(RuntimeError, match=r"ClientProtocol\.process_response"):
        _traffic.check_private_hooks()


def test_a_moved_aiohttp_hook_is_named(monkeypatch):
    import aiohttp

    original = aiohttp.TCPConnector.__init__

    def without_factory(self, *args, **kwargs):
        original(self, *args, **kwargs)
        del self._factory

    monkeypatch.setattr(aiohttp.TCPConnector, "__init__", without_factory)
    with pytest.raises(RuntimeError, match=r"aiohttp .* moved TCPConnector\._factory"):
        sio.check_private_hooks()


def test_moved_header_stores_are_named(monkeypatch):
    class Renamed:  # a release that stores its headers under other names
        __slots__ = ("_index", "_items")

        def __init__(self, **headers):
            self._items = list(headers.items())
            self._index = {key.lower(): [value] for key, value in headers.items()}

    monkeypatch.setattr(_traffic, "WSHeaders", Renamed)
    with pytest.raises(RuntimeError, match=r"Headers\._dict / Headers\._list"):
        _traffic.check_private_hooks()
