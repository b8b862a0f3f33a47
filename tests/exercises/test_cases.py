"""The pieces every check is made of: the stub derived from the reference solution, and the table-driven run of
the learner's function (run_cases) with its messages."""

from __future__ import annotations

import pytest

from wskit.exercises.core import Case, Mismatch, expect, run_cases, stub_of

SOLUTION = '''import base64
import hashlib

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key: str) -> str:
    """The accept value."""
    digest = hashlib.sha1((key + GUID).encode()).digest()
    return base64.b64encode(digest).decode()'''


def test_the_stub_is_the_solution_without_imports_and_body():
    assert stub_of(SOLUTION, "accept_key", "accept_key") == '''GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key: str) -> str:
    """The accept value."""
    raise NotImplementedError("your code here; stuck? run ex.hint('accept_key')")'''


def test_a_solution_without_the_function_or_its_docstring_is_refused():
    with pytest.raises(ValueError, match="must define accept_key"):
        stub_of("def accept_key(key):\n    return key", "accept_key", "accept_key")
    with pytest.raises(ValueError, match="must define other"):
        stub_of(SOLUTION, "other", "accept_key")


def test_every_case_right_is_silent():
    run_cases(abs, [Case("abs(-2)", (-2,), 2), Case("abs(3)", (3,), 3)])


def test_the_first_wrong_case_is_the_mismatch_with_its_mistake():
    cases = [Case("abs(-2)", (-2,), 2), Case("abs(-3)", (-3,), 3, "a negative number"), Case("abs(0)", (0,), 1)]
    with pytest.raises(Mismatch) as caught:
        run_cases(lambda x: x, cases)
    assert (caught.value.case, caught.value.expected, caught.value.got) == ("abs(-2)", 2, -2)
    with pytest.raises(Mismatch) as caught:
        run_cases(lambda x: -x if x == -2 else -x + 1, cases, mistake=lambda case, got: f"{case.mistake}, off by one")
    assert caught.value.mistake == "a negative number, off by one"


def test_right_decides_what_counts_as_right():
    run_cases(lambda x: bool(x), [Case("truth(1)", (1,), True)], right=lambda got, expected: got is expected)
    with pytest.raises(Mismatch):
        run_cases(lambda x: x, [Case("truth(1)", (1,), True)], right=lambda got, expected: got is expected)


def test_an_exception_is_a_wrong_answer_shown_with_its_case_and_traceback():
    def learner(x):
        return {}[x]

    with pytest.raises(Mismatch) as caught:
        run_cases(learner, [Case("f('k')", ("k",), 1)], on_error=lambda case, error: f"{type(error).__name__} here")
    assert caught.value.case == "f('k')" and caught.value.got == "KeyError: 'k'"
    assert caught.value.mistake == "KeyError here" and "return {}[x]" in caught.value.traceback and caught.value.raised


def test_an_unsolved_stub_is_not_a_wrong_answer():
    def stub(x):
        raise NotImplementedError("your code here")

    with pytest.raises(NotImplementedError):
        run_cases(stub, [Case("f(1)", (1,), 1)])


def test_a_refusal_case_wants_that_exception():
    def refuses_negatives(x):
        if x < 0:
            raise ValueError("negative")
        return x

    refusal = Case("f(-1)", (-1,), ValueError, "refuse a negative number")
    run_cases(refuses_negatives, [refusal])
    with pytest.raises(Mismatch) as caught:
        run_cases(abs, [refusal])
    assert (caught.value.expected, caught.value.got, caught.value.mistake) == ("ValueError", 1,
                                                                               "refuse a negative number")
    with pytest.raises(Mismatch) as caught:
        run_cases(lambda x: [][x], [refusal])
    assert caught.value.got.startswith("IndexError")


def test_expect_compares_what_was_seen():
    expect("an echo", b"hi", b"hi")
    with pytest.raises(Mismatch) as caught:
        expect("an echo", b"hi", b"", "nothing came back")
    assert str(caught.value) == "an echo: expected b'hi', got b'' (nothing came back)"
