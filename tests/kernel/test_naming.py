"""Re-running a cell replaces what it made, found by variable name; nothing else is replaced (issue 17).

Before: the automatic name was the cell's file and line, so ``alice = wskit.connect(u); bob = wskit.connect(u)``
closed alice, and a ``for`` loop kept only its last client.
"""

import pytest

SERVER = "srv = wskit.EchoServer()\n"


def _names(kernel):
    return kernel.value("sorted(o.name for o in wskit.live_objects())")


def test_two_clients_on_one_line_both_live(kernel):
    kernel.run(SERVER)
    cell = "alice = wskit.connect(srv.url); bob = wskit.connect(srv.url)\n"
    kernel.run(cell)
    kernel.run("alice.send('a'); bob.send('b'); assert (alice.recv(), bob.recv()) == ('a', 'b')")
    assert _names(kernel) == ["alice", "bob", "srv"]
    kernel.run(cell)  # a re-run replaces both, and only them
    assert _names(kernel) == ["alice", "bob", "srv"]
    kernel.run("alice.send('a'); bob.send('b'); assert (alice.recv(), bob.recv()) == ('a', 'b')")
    assert kernel.value("srv.connections") == 2


def test_clients_made_in_a_loop_or_a_comprehension_all_live(kernel):
    kernel.run(SERVER)
    kernel.run(
        "clients = []\n"
        "for i in range(3):\n"
        "    c = wskit.connect(srv.url)\n"
        "    clients.append(c)\n"
        "more = [wskit.connect(srv.url) for _ in range(3)]\n"
        "wskit.connect(srv.url)\n"
    )
    assert kernel.value("[c.closed for c in clients + more]") == [False] * 6
    assert kernel.value("len(wskit.live_objects())") == 8
    assert kernel.value("srv.connections") == 7
    assert kernel.value("len({o.name for o in wskit.live_objects()})") == 8


def test_await_aconnect_takes_the_variable_name(kernel):
    kernel.run(SERVER)
    kernel.run("a = await wskit.aconnect(srv.url)\n")
    kernel.run("a = await wskit.aconnect(srv.url)\n")
    assert _names(kernel) == ["a", "srv"]
    assert kernel.value("srv.connections") == 1


def test_objects_made_in_functions_are_stopped_by_stop_all(kernel):
    kernel.run(
        "def make():\n"
        "    s = wskit.EchoServer()\n"
        "    c = wskit.connect(s.url)\n"
        "    return s, c\n"
        "made = [make() for _ in range(5)]\n"
        "ports = [s.port for s, _ in made]\n"
    )
    assert kernel.value("len(wskit.live_objects())") == 10  # unique names: none replaced another
    kernel.run("wskit.stop_all()")
    assert kernel.value("wskit.live_objects()") == []
    assert kernel.value("_wskit_threads()") == []
    kernel.run(
        "import socket\n"
        "for port in ports:\n"
        "    try:\n"
        "        socket.create_connection(('127.0.0.1', port), timeout=2).close()\n"
        "    except ConnectionRefusedError:\n"
        "        pass\n"
        "    else:\n"
        "        raise AssertionError(f'{port} still listens')\n"
    )


def test_many_unnamed_objects_warn_once(kernel):
    kernel.run("import warnings, wskit.live.loop as L\nL._warned_unnamed = False\n")
    result = kernel.execute(
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    sockets = [wskit.TCPEchoServer() for _ in range(60)]\n"
        "print(sum('no name of their own' in str(w.message) for w in caught))\n"
    )
    assert result.status == "ok", result.error
    assert result.stdout.strip() == "1"


@pytest.mark.timeout(600)
def test_rerunning_a_server_cell_200_times_leaks_nothing(kernel):
    """After 200 re-runs: 1 live object, RSS within 10 MB of the 20th run (measured: +0.4 MB), no new fd."""
    cell = "srv = wskit.EchoServer()\n"
    for _ in range(20):
        kernel.run(cell)
    rss, fds = kernel.value("[_rss_mb(), len(os.listdir('/proc/self/fd'))]")
    for _ in range(200):
        kernel.run(cell)
    assert _names(kernel) == ["srv"]
    rss_after, fds_after = kernel.value("[_rss_mb(), len(os.listdir('/proc/self/fd'))]")
    assert fds_after <= fds + 2, (fds, fds_after)
    assert rss_after - rss < 10, (rss, rss_after)
    kernel.run("c = wskit.connect(srv.url); c.send('ok'); assert c.recv() == 'ok'")
