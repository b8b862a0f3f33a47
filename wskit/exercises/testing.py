"""Exercises of notebook 07: tests that catch a planted bug, and the assertions of a load test."""

from __future__ import annotations

import dataclasses
from typing import Any

from .core import Case, Exercise, Mismatch, learner_traceback, register

__all__: list[str] = []


# --- the code under test: a correct Rooms and buggy ones ------------------------------------


class Rooms:
    """Who is in which room, and who receives a message (the correct one)."""

    def __init__(self, capacity: int = 3) -> None:
        self.capacity = capacity
        self.members: dict[str, set[str]] = {}

    def join(self, user: str, room: str) -> None:
        people = self.members.setdefault(room, set())
        if len(people) >= self.capacity and user not in people:
            raise PermissionError(f"{room} is full")
        people.add(user)

    def recipients(self, sender: str, room: str) -> list[str]:
        if sender not in self.members.get(room, set()):
            raise PermissionError(f"{sender} is not in {room}")
        return sorted(self.members[room] - {sender})


class RoomsWithTheSender(Rooms):
    """The planted bug: the sender receives their own message."""

    def recipients(self, sender: str, room: str) -> list[str]:
        if sender not in self.members.get(room, set()):
            raise PermissionError(f"{sender} is not in {room}")
        return sorted(self.members[room])


def _outcome(test: Any, *args: Any) -> tuple[bool, str]:
    """(passed, why it failed) of running the learner's test."""
    try:
        test(*args)
    except NotImplementedError:
        raise
    except Exception as error:  # an AssertionError, or any other: the test failed
        return False, learner_traceback(error)
    return True, ""


def _run_test(test: Any, case: Case) -> None:
    """Run the learner's ``test`` on ``case.args``; :class:`Mismatch` unless it passes or fails as ``case.expected``
    (``"passes"`` or ``"fails"``) says, with its traceback when it failed."""
    passed, why = _outcome(test, *case.args)
    if passed != (case.expected == "passes"):
        raise Mismatch(case.shown, case.expected, "passes" if passed else "fails", case.mistake, why)


def _check_unit_test(test_recipients: Any) -> str:
    _run_test(test_recipients, Case("your test on the CORRECT Rooms", (Rooms,), "passes",
                                    "the test fails on working code: check what it expects"))
    _run_test(test_recipients, Case(
        "your test on the BUGGY Rooms (the sender receives their own message)", (RoomsWithTheSender,), "fails",
        "the test does not look at who receives: assert the sender is not among the recipients"))
    return "it passes on the correct Rooms and fails on the buggy one: it catches the bug"


register(Exercise(
    name="unit_test",
    notebook="07",
    title="a unit test that catches a planted bug",
    task="**Exercise 1: catch the bug, no network.** Somebody changed `Rooms.recipients` and now the sender receives "
         "their own message. Write `test_recipients(Rooms)`, a test that gets the class to test as its argument "
         "and asserts what `recipients` must return. The check runs it on the correct class (it must pass) and "
         "on the buggy one (it must fail).",
    function="test_recipients",
    solution='''def test_recipients(Rooms):
    """Pass on a correct Rooms class; fail (AssertionError) on one whose recipients include the sender."""
    rooms = Rooms()
    for user in ("alice", "bob", "carol"):
        rooms.join(user, "lobby")
    assert rooms.recipients("alice", "lobby") == ["bob", "carol"]  # everyone else, and not alice''',
    hints=(
        "Make a Rooms(), put three users in one room with join(), and ask for the recipients of one of them.",
        "Assert the exact list: everyone else in the room, sorted, and not the sender.",
    ),
    checker=_check_unit_test,
))


# --- integration_test: a live chat server, correct or buggy ---------------------------------


def chat_server(buggy: bool) -> Any:
    """A Socket.IO chat: "join" (acknowledged) and "say"; the buggy one sends to every room."""
    import wskit

    srv = wskit.SocketIOServer(name=f"exercise-chat-{'buggy' if buggy else 'correct'}")

    @srv.on("join")
    async def join(sid: str, room: str) -> str:
        await srv.sio.enter_room(sid, room)
        return f"joined {room}"

    @srv.on("say")
    async def say(sid: str, room: str, text: str) -> None:
        if buggy:  # the planted bug: the room is forgotten
            await srv.sio.emit("said", {"room": room, "text": text}, skip_sid=sid)
        else:
            await srv.sio.emit("said", {"room": room, "text": text}, room=room, skip_sid=sid)

    return srv


def _check_integration_test(test_chat: Any) -> str:
    for buggy, case in (
        (False, Case("your test against the CORRECT chat server", (), "passes",
                     "the test fails on a working server: what does it expect?")),
        (True, Case("your test against the BUGGY chat server (a room message reaches every room)", (), "fails",
                    "check that a client in ANOTHER room gets nothing: client.recv('said', timeout=0.5) must raise "
                    "TimeoutError")),
    ):
        with chat_server(buggy) as srv:
            _run_test(test_chat, dataclasses.replace(case, args=(srv.url,)))
    return "it passes against the correct server and fails against the buggy one"


register(Exercise(
    name="integration_test",
    notebook="07",
    title="an integration test that catches a planted bug in a live server",
    task="**Exercise 2: catch the bug over real sockets.** A chat server (`\"join\"` acknowledged with "
         "`\"joined <room>\"`, `\"say\"` `(room, text)` → `\"said\"` `{\"room\", \"text\"}` to the others in the "
         "room) has a bug in one of its versions: room messages reach people in other rooms. Write "
         "`test_chat(url)`, which connects `wskit.SocketIOClient`s to `url` and asserts what users should see. The "
         "check runs it against a correct server (it must pass) and the buggy one (it must fail). Clients you "
         "leave open are closed for you.",
    function="test_chat",
    solution='''def test_chat(url):
    """Pass against a correct chat server at `url`; fail against one whose room messages leak to other rooms."""
    alice, bob, carol = (wskit.SocketIOClient(url) for _ in range(3))
    try:
        assert alice.call("join", "lobby") == "joined lobby"
        assert bob.call("join", "lobby") == "joined lobby"
        assert carol.call("join", "games") == "joined games"
        alice.emit("say", "lobby", "hi")
        assert bob.recv("said", timeout=2) == ("said", {"room": "lobby", "text": "hi"})
        try:
            leaked = carol.recv("said", timeout=0.5)  # another room: nothing may come
        except TimeoutError:
            leaked = None
        assert leaked is None, f"carol is in games but got {leaked}"
    finally:
        for client in (alice, bob, carol):
            client.close()''',
    hints=(
        "Three clients: two in one room, one in another. One speaks; the other member must get 'said'.",
        "The bug shows only in what must NOT happen: the client in the other room receives nothing. "
        "recv('said', timeout=0.5) raises TimeoutError when nothing comes: that is what you assert.",
    ),
    checker=_check_integration_test,
    timeout=40.0,
))


# --- load_assertions ------------------------------------------------------------------------


def _result(**changes: Any) -> Any:
    """A load result of 20 users × 10 messages with latencies ``latencies_ms``, changed as given."""
    from .. import load

    latencies = changes.pop("latencies_ms", [2.0] * 200)
    result = load.LoadResult(users=20, connected=20, sent=200, received=200, duration=2.0)
    for ms in latencies:
        result.latency.record_value(max(1, int(ms * 1000)))
        result.connect.record_value(1500)
    for key, value in changes.items():
        setattr(result, key, value)
    return result


def _bad_results() -> list[tuple[str, Any, str]]:
    tail = [2.0] * 196 + [900.0] * 4  # mean 20 ms, p99 900 ms
    return [
        ("3 messages lost", _result(received=197, lost=3), "assert result.lost == 0"),
        ("5 echoes out of order", _result(out_of_order=5), "assert result.out_of_order == 0"),
        ("2 connection errors", _result(connected=18, errors={"ConnectionRefusedError": 2}),
         "assert not result.errors (errors by kind: any error fails the test)"),
        ("p99 of 900 ms (the mean is only 20 ms)", _result(latencies_ms=tail),
         "assert the tail, result.percentile(99) < 250, not the mean: the mean hides the slow 2%"),
        ("every message at 400 ms", _result(latencies_ms=[400.0] * 200), "assert result.percentile(99) < 250"),
    ]


def _check_load_assertions(check_load: Any) -> str:
    import wskit

    from .. import load

    with wskit.EchoServer(name="exercise-load") as srv:
        real = load.run(srv.url, phases=[load.Phase(1, 5)], messages=5, rate=20, progress=False)
    if real.lost == 0 and real.out_of_order == 0 and not real.errors and real.percentile(99) < 250:
        _run_test(check_load, Case(
            f"a real load run that went well:\n{real.table()}", (real,), "passes",
            "a good run must pass: is a limit too strict (p100, the mean of one run, a few ms)?"))
    for label, result, mistake in _bad_results():
        _run_test(check_load, Case(f"a run with {label}:\n{result.table()}", (result,), "fails", mistake))
    return "a good live run passed; lost, reordered, errors and a slow tail were each caught"


register(Exercise(
    name="load_assertions",
    notebook="07",
    title="the assertions of a load test",
    task="**Exercise 3: what must a load test assert?** Write `check_load(result)`, which raises `AssertionError` "
         "unless a `wskit.load.LoadResult` is good: nothing lost, nothing out of order, no errors, and a p99 latency "
         "under 250 ms (`result.lost`, `result.out_of_order`, `result.errors`, `result.percentile(99)`). Do not "
         "use `result.check`. The check runs a real load test (it must pass) and five bad results (each must fail).",
    function="check_load",
    solution='''def check_load(result):
    """Raise AssertionError unless the load run lost nothing, kept order, had no errors and p99 < 250 ms."""
    assert result.lost == 0, f"{result.lost} messages lost"
    assert result.out_of_order == 0, f"{result.out_of_order} out of order"
    assert not result.errors, f"errors: {result.errors}"
    assert result.percentile(99) < 250, f"p99 {result.percentile(99):.1f} ms"''',
    hints=(
        "Four assertions, one per thing a user would notice: lost messages, reordered ones, errors, slowness.",
        "Slowness is the tail: result.percentile(99), in milliseconds. An average hides the few slow messages.",
    ),
    checker=_check_load_assertions,
    timeout=30.0,
))
