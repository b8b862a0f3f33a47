"""Quiz: questions with answers revealed on demand, and a score."""

from __future__ import annotations

import dataclasses
import html

import ipywidgets as widgets

__all__ = ["Question", "Quiz"]


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


class Quiz(widgets.VBox):
    """Each question with its choices, a Check button, and a Reveal button; the score on top.

    Args:
        questions: the questions.
        title: shown above them.

    Attributes:
        answered: question index → whether the chosen answer was right.
    """

    def __init__(self, questions: list[Question], title: str = "Quiz") -> None:
        if not questions:
            raise ValueError("a quiz needs at least one question")
        self.questions = list(questions)
        self.answered: dict[int, bool] = {}
        self._score = widgets.HTML()
        self._choices: list[widgets.RadioButtons] = []
        self._feedback: list[widgets.HTML] = []
        boxes = []
        for number, question in enumerate(self.questions):
            choices = widgets.RadioButtons(options=list(question.choices), value=None,
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

    def choose(self, number: int, choice: int) -> None:
        """Pick choice ``choice`` of question ``number`` (what a click on a radio button does)."""
        self._choices[number].value = self.questions[number].choices[choice]

    def check(self, number: int) -> bool | None:
        """Check the chosen answer of question ``number``; ``None`` if nothing is chosen yet."""
        question, chosen = self.questions[number], self._choices[number].value
        if chosen is None:
            self._feedback[number].value = "<i>pick an answer first</i>"
            return None
        right = question.choices.index(chosen) == question.answer
        self.answered[number] = right
        verdict = "<span style='color:#1a7f37'>✓ right.</span>" if right else \
            "<span style='color:#cf222e'>✗ not quite. Try again, or reveal the answer.</span>"
        self._feedback[number].value = verdict + (f" {self._explain(question)}" if right else "")
        self._update_score()
        return right

    def reveal(self, number: int) -> None:
        """Show the right answer of question ``number`` (it then scores as not answered right)."""
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
        """Questions answered right."""
        return sum(self.answered.values())

    def _update_score(self) -> None:
        self._score.value = (
            f"<b>Score: {self.score} / {len(self.questions)}</b> "
            f"<span style='color:#777'>({len(self.answered)} attempted)</span>"
        )

    def __repr__(self) -> str:
        return f"Quiz({len(self.questions)} questions, score {self.score}/{len(self.questions)})"
