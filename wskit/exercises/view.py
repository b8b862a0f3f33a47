"""The check widget: a verdict badge, the first failing case, and Hint / Solution buttons.

It is built in the kernel from a finished :class:`~wskit.exercises.core.Result`
(never on the wskit loop thread); the plain-text form of the same result is
what notebooks show without a widget front end.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

__all__ = ["CheckView", "ProgressView"]

_COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "not yet": "#9a6700"}
_MARKS = {"passed": "✓ passed", "failed": "✗ failed", "not yet": "… not yet"}


def _row(label: str, value: str) -> str:
    return (f"<tr><th style='text-align:left;padding-right:8px;vertical-align:top'>{label}</th>"
            f"<td><code style='white-space:pre-wrap'>{html.escape(value)}</code></td></tr>")


class CheckView(widgets.VBox):
    """One check's result.

    Args:
        result: the :class:`~wskit.exercises.core.Result`.

    Attributes:
        status: ``"passed"``, ``"failed"`` or ``"not yet"``.
    """

    def __init__(self, result: Any) -> None:
        from .core import _short

        self.result = result
        self.status = result.status
        colour = _COLOURS[result.status]
        badge = widgets.HTML(
            f"<span class='wskit-check-status' style='color:white;background:{colour};padding:2px 8px;"
            f"border-radius:4px;font-weight:bold'>{_MARKS[result.status]}</span> "
            f"<b>{html.escape(result.name)}</b> · {html.escape(result.summary)}"
        )
        rows = []
        if result.case:
            rows += [_row("case", _short(result.case, raw=True)), _row("expected", _short(result.expected)),
                     _row("got", _short(result.got))]
        if result.mistake:
            rows.append(_row("mistake", result.mistake))
        details = widgets.HTML(f"<table>{''.join(rows)}</table>" if rows else "")
        extra = []
        if result.traceback:
            extra.append(widgets.HTML(f"<details open><summary>traceback</summary><pre>"
                                      f"{html.escape(result.traceback)}</pre></details>"))
        if result.notes:
            extra.append(widgets.HTML("".join(f"<div style='color:#57606a'>note: {html.escape(n)}</div>"
                                              for n in result.notes)))
        self._note = widgets.HTML()
        hint = widgets.Button(description="Hint", tooltip="one more hint", layout=widgets.Layout(width="auto"))
        answer = widgets.Button(description="Solution", tooltip="a reference solution (after one real try)",
                                layout=widgets.Layout(width="auto"))
        hint.on_click(lambda _: self.show_hint())
        answer.on_click(lambda _: self.show_solution())
        buttons = [] if result.passed else [widgets.HBox([hint, answer])]
        super().__init__([badge, details, *extra, *buttons, self._note],
                         layout=widgets.Layout(border=f"1px solid {colour}", padding="4px 8px", margin="4px 0"))
        self.add_class("wskit-exercise-check")
        self.add_class(f"wskit-check-{result.status.replace(' ', '-')}")

    def show_hint(self) -> None:
        """What the Hint button does: the next hint, below."""
        from .core import hint

        self._note.value = hint(self.result.name)._repr_html_()

    def show_solution(self) -> None:
        """What the Solution button does (it opens only after a real attempt)."""
        from .core import solution

        self._note.value = solution(self.result.name)._repr_html_()


class ProgressView(widgets.HTML):
    """The course's exercises, done or not, by notebook."""

    def __init__(self, table: list[tuple[str, str, str, bool, int]], summary: str) -> None:
        rows = "".join(
            f"<tr><td>{html.escape(nb)}</td><td><code>{html.escape(name)}</code></td><td>{html.escape(title)}</td>"
            f"<td style='color:{'#1a7f37' if done else '#57606a'}'>{'✓ done' if done else '·'}</td>"
            f"<td style='text-align:right'>{tries}</td></tr>"
            for nb, name, title, done, tries in table
        )
        super().__init__(
            f"<div class='wskit-progress'><b>{html.escape(summary)}</b><table>"
            "<tr><th>notebook</th><th>exercise</th><th>what you write</th><th>done</th><th>tries</th></tr>"
            f"{rows}</table></div>"
        )
