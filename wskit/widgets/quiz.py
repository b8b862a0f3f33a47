"""Quiz: questions with shuffled choices, answers revealed on demand, and a score of first attempts."""

from __future__ import annotations

import collections
import dataclasses
import html
import random
from collections.abc import Sequence

import ipywidgets as widgets

__all__ = ["Question", "Quiz", "arrange"]


@dataclasses.dataclass(frozen=True)
class Question:
    """One multiple-choice question.

    Attributes:
        text: the question.
        choices: the possible answers.
        answer: the index of the right one.
        explanation: why, shown with the answer.
        link: where the course teaches it (a notebook path, optionally with an anchor).
    """

    text: str
    choices: tuple[str, ...]
    answer: int
    explanation: str = ""
    link: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.answer < len(self.choices):
            raise ValueError(f"answer {self.answer} is not one of the {len(self.choices)} choices of {self.text!r}")


def arrange(questions: Sequence[Question], seed: int = 0) -> list[tuple[int, ...]]:
    """The order in which each question's choices are shown, balanced by construction.

    Each question's right answer goes to the position (among its own choices) that has held the fewest right
    answers so far, ties broken by a random generator seeded with ``seed``; the other choices fill the remaining
    positions in a seeded random order. So the right answers spread evenly over the positions (for questions of
    three choices, no position holds more than a third of them, plus one), the order is the same on every run, and
    adding questions at the end leaves the earlier ones as they were.

    Returns:
        For each question, the indices of its ``choices`` in the order shown.
    """
    rng = random.Random(seed)
    held: collections.Counter[int] = collections.Counter()
    orders = []
    for question in questions:
        positions = range(len(question.choices))
        fewest = min(held[p] for p in positions)
        target = rng.choice([p for p in positions if held[p] == fewest])
        held[target] += 1
        others = [i for i in positions if i != question.answer]
        rng.shuffle(others)
        others.insert(target, question.answer)
        orders.append(tuple(others))
    return orders


class Quiz(widgets.VBox):
    """Each question with its choices (shuffled with a fixed seed), a Check button, and a Reveal button; the score.

    The first attempt at a question is the one scored: checking a wrong answer, or revealing the answer before
    checking, counts the question as missed, even if a later attempt is right. Every answer explains itself and links
    to the notebook that teaches it.

    Args:
        questions: the questions.
        title: shown above them.
        seed: the seed of the choices' order (see :func:`arrange`).

    Attributes:
        answered: question index → whether the first attempt was right.
        orders: question index → the indices of its choices in the order shown.
    """

    def __init__(self, questions: Sequence[Question], title: str = "Quiz", *, seed: int = 0) -> None:
        if not questions:
            raise ValueError("a quiz needs at least one question")
        self.questions = list(questions)
        self.orders = arrange(self.questions, seed)
        self.answered: dict[int, bool] = {}
        self._score = widgets.HTML()
        self._choices: list[widgets.RadioButtons] = []
        self._feedback: list[widgets.HTML] = []
        boxes = []
        for number, question in enumerate(self.questions):
            choices = widgets.RadioButtons(options=[question.choices[i] for i in self.orders[number]], value=None,
                                           layout=widgets.Layout(width="auto"))
            feedback = widgets.HTML()
            check = widgets.Button(description="Check", layout=widgets.Layout(width="auto"))
            reveal = widgets.Button(description="Reveal the answer", layout=widgets.Layout(width="auto"))
            check.on_click(lambda _, n=number: self.check(n))
            reveal.on_click(lambda _, n=number: self.reveal(n))
            self._choices.append(choices)
            self._feedback.append(feedback)
            boxes.append(widgets.VBox([
                widgets.HTML(f"<b>{number + 1}. {html.escape(question.text)}</b>"),
                choices,
                widgets.HBox([check, reveal]),
                feedback,
            ], layout=widgets.Layout(border="1px solid #ddd", padding="6px", margin="4px 0")))
        super().__init__([widgets.HTML(f"<h3>{html.escape(title)}</h3>"), self._score, *boxes])
        self.add_class("wskit-quiz")
        self._update_score()

    def position(self, number: int) -> int:
        """Where the right answer of question ``number`` is shown (0 = first)."""
        return self.orders[number].index(self.questions[number].answer)

    def shown(self, number: int) -> tuple[str, ...]:
        """The choices of question ``number`` in the order shown."""
        return tuple(self.questions[number].choices[i] for i in self.orders[number])

    def choose(self, number: int, choice: int) -> None:
        """Pick choice ``choice`` (an index into the question's ``choices``) of question ``number``."""
        self._choices[number].value = self.questions[number].choices[choice]

    def check(self, number: int) -> bool | None:
        """Check the chosen answer of question ``number``; ``None`` if nothing is chosen yet.

        Only the first check (or reveal) of a question changes the score.
        """
        question, chosen = self.questions[number], self._choices[number].value
        if chosen is None:
            self._feedback[number].value = "<i>pick an answer first</i>"
            return None
        right = question.choices.index(chosen) == question.answer
        first = number not in self.answered
        if first:
            self.answered[number] = right
        scored = "" if first else " <span style='color:#777'>(the score keeps your first attempt)</span>"
        if right:
            verdict = "<span style='color:#1a7f37'>✓ right.</span>" + scored + f" {self._explain(question)}"
        else:
            verdict = ("<span style='color:#cf222e'>✗ not quite. Try again, or reveal the answer.</span>" + scored
                       + (" <span style='color:#777'>(scored as missed: only the first attempt counts)</span>"
                          if first else ""))
        self._feedback[number].value = verdict
        self._update_score()
        return right

    def reveal(self, number: int) -> None:
        """Show the right answer of question ``number`` (if not yet attempted, it scores as missed)."""
        question = self.questions[number]
        self.answered.setdefault(number, False)
        self._feedback[number].value = (
            f"Answer: <b>{html.escape(question.choices[question.answer])}</b>. {self._explain(question)}"
        )
        self._update_score()

    @staticmethod
    def _explain(question: Question) -> str:
        text = html.escape(question.explanation)
        if question.link:
            text += f" <a href='{html.escape(question.link)}' target='_blank'>Where the course teaches it.</a>"
        return text

    @property
    def score(self) -> int:
        """Questions whose first attempt was right."""
        return sum(self.answered.values())

    def _update_score(self) -> None:
        self._score.value = (
            f"<b>Score: {self.score} / {len(self.questions)}</b> "
            f"<span style='color:#777'>({len(self.answered)} attempted; the first attempt at each one counts)</span>"
        )

    def __repr__(self) -> str:
        return f"Quiz({len(self.questions)} questions, score {self.score}/{len(self.questions)})"
