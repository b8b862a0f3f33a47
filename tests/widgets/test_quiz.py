"""Quiz, tested without a kernel: first attempt scored, choices shuffled with a seed, answers spread evenly."""

import collections
import json
from pathlib import Path

import pytest

from wskit.widgets import Question, Quiz
from wskit.widgets.quiz import arrange

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

QUESTIONS = [
    Question("Which status code accepts a WebSocket upgrade?", ("200", "101", "426"), 1,
             "101 Switching Protocols.", "02_handshake.ipynb"),
    Question("Who must mask frames?", ("the server", "the client", "both"), 1, "Clients mask; servers never."),
]


def review_questions(monkeypatch) -> list[Question]:
    """The QUESTIONS list of notebook 09, as the notebook defines it (questions added at merge time included)."""
    monkeypatch.chdir(NOTEBOOKS)  # the cell checks its links relative to the notebook
    notebook = json.loads((NOTEBOOKS / "09_review.ipynb").read_text())
    sources = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    cell = next(source for source in sources if "QUESTIONS = [" in source)
    namespace: dict = {}
    exec(compile(cell.split("\nquiz = Quiz(")[0], "09_review.ipynb", "exec"), namespace)
    return namespace["QUESTIONS"]


def test_checking_scoring_and_revealing():
    quiz = Quiz(QUESTIONS, title="Review")
    assert quiz.score == 0 and "Score: 0 / 2" in quiz._score.value
    assert quiz.check(0) is None and "pick an answer" in quiz._feedback[0].value
    assert quiz.answered == {}  # nothing chosen: not an attempt
    quiz.choose(0, 0)
    assert quiz.check(0) is False and "not quite" in quiz._feedback[0].value
    quiz.choose(0, 1)
    assert quiz.check(0) is True and "first attempt" in quiz._feedback[0].value
    assert quiz.score == 0  # the first attempt was wrong: a right second attempt does not score
    assert "02_handshake.ipynb" in quiz._feedback[0].value  # the answer explains itself and links to its notebook
    quiz.reveal(1)
    assert "the client" in quiz._feedback[1].value and quiz.score == 0
    quiz.choose(1, 1)
    assert quiz.check(1) is True and quiz.score == 0  # revealed first: missed
    assert "Score: 0 / 2" in quiz._score.value and repr(quiz) == "Quiz(2 questions, score 0/2)"


def test_a_right_first_attempt_scores_and_a_later_wrong_one_does_not_undo_it():
    quiz = Quiz(QUESTIONS)
    quiz.choose(1, 1)
    assert quiz.check(1) is True and quiz.score == 1
    quiz.choose(1, 0)
    assert quiz.check(1) is False and quiz.score == 1
    quiz.reveal(1)
    assert quiz.score == 1 and quiz.answered == {1: True}


def test_choices_are_shown_shuffled_the_same_way_every_time():
    quiz, again = Quiz(QUESTIONS, seed=3), Quiz(QUESTIONS, seed=3)
    assert quiz.orders == again.orders
    for number, question in enumerate(QUESTIONS):
        assert sorted(quiz.shown(number)) == sorted(question.choices)
        assert quiz.shown(number)[quiz.position(number)] == question.choices[question.answer]
        assert list(quiz._choices[number].options) == list(quiz.shown(number))


def test_adding_questions_at_the_end_keeps_the_earlier_order():
    many = [Question(f"q{i}", ("a", "b", "c", "d")[: 3 + i % 2], i % 2) for i in range(30)]
    assert arrange(many[:20], seed=1) == arrange(many, seed=1)[:20]


@pytest.mark.parametrize("seed", range(20))
def test_right_answers_spread_over_the_positions_whatever_the_authors_wrote(seed):
    # the worst case for an author: every right answer written first
    lopsided = [Question(f"q{i}", tuple("abcd")[: 3 + (i % 3 == 0)], 0) for i in range(24)]
    positions = collections.Counter(order.index(0) for order in arrange(lopsided, seed))
    assert max(positions.values()) <= 0.4 * len(lopsided)


def test_the_review_quiz_covers_the_course_with_balanced_answers(monkeypatch):
    questions = review_questions(monkeypatch)
    assert len(questions) >= 24
    linked = {question.link.split("#")[0] for question in questions}
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):  # every notebook has at least one question
        assert notebook.name in linked, f"no question links to {notebook.name}"
    assert all((NOTEBOOKS / link).exists() for link in linked)
    assert all(question.explanation for question in questions)
    quiz = Quiz(questions)
    positions = collections.Counter(quiz.position(number) for number in range(len(questions)))
    assert max(positions.values()) <= 0.4 * len(questions), positions
    assert all(len(question.choices) >= 3 for question in questions)  # two choices would be a coin toss


def test_bad_questions_are_refused():
    with pytest.raises(ValueError, match="answer 3"):
        Question("?", ("a", "b"), 3)
    with pytest.raises(ValueError):
        Quiz([])
