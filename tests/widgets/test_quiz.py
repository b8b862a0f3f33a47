"""Quiz, tested without a kernel."""

import pytest

from wskit.widgets import Question, Quiz

QUESTIONS = [
    Question("Which status code accepts a WebSocket upgrade?", ("200", "101", "426"), 1,
             "101 Switching Protocols.", "02_handshake.ipynb"),
    Question("Who must mask frames?", ("the server", "the client", "both"), 1, "Clients mask; servers never."),
]


def test_checking_scoring_and_revealing():
    quiz = Quiz(QUESTIONS, title="Review")
    assert quiz.score == 0 and "Score: 0 / 2" in quiz._score.value
    assert quiz.check(0) is None and "pick an answer" in quiz._feedback[0].value
    quiz.choose(0, 0)
    assert quiz.check(0) is False and "not quite" in quiz._feedback[0].value
    quiz.choose(0, 1)
    assert quiz.check(0) is True and quiz.score == 1
    assert "02_handshake.ipynb" in quiz._feedback[0].value
    quiz.reveal(1)
    assert "the client" in quiz._feedback[1].value and quiz.score == 1
    assert "Score: 1 / 2" in quiz._score.value and repr(quiz) == "Quiz(2 questions, score 1/2)"


def test_bad_questions_are_refused():
    with pytest.raises(ValueError, match="answer 3"):
        Question("?", ("a", "b"), 3)
    with pytest.raises(ValueError):
        Quiz([])
