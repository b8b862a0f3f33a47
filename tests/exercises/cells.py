"""The exercise cells of the notebooks, generated from wskit.exercises (one source of truth).

``python -m tests.exercises.cells`` inserts (or refreshes) them: one contiguous block titled "## Exercises"
right after each notebook's "## Self-check" markdown cell, and a progress cell pair before the last cell of 00
and 09. The tests check that the notebooks hold exactly these cells.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

from wskit import exercises as ex

NOTEBOOKS_DIR = Path(__file__).parent.parent.parent / "notebooks"
IGNORE = {"tags": ["nbval-ignore-output"]}

INTRO = """## Exercises

Now you write the code. Each exercise has a cell to complete (until you do, it raises `NotImplementedError`) and a
check cell below it, which runs your code against hidden cases and a live server in this kernel: it says **passed**,
or shows the first case that went wrong (input, expected, got) and names the likely mistake. Code that hangs or
raises is stopped and its traceback shown; servers it leaves running are stopped.

Stuck? `ex.hint("name")` gives one more hint each time, once you have run the check. `ex.solution("name")` shows a
reference solution, once you have tried your own. `ex.progress()` lists what you have done across the course (it is
saved, so it survives a kernel restart)."""

PROGRESS_MD = """### Your exercises

The notebooks end with exercises that you solve in place and the kit checks against live servers. Your progress
is saved in `~/.wskit/progress.json` (or where `WSKIT_PROGRESS` says), so it survives kernel restarts:"""

PROGRESS_CODE = """from wskit import exercises as ex

done = ex.progress()
assert len(done.rows) >= 14 and set(done.done) <= set(ex.EXERCISES)
done"""


def exercise_cells(notebook: str) -> list[nbformat.NotebookNode]:
    """The "## Exercises" block of notebook ``notebook`` (e.g. "02")."""
    mine = [e for e in ex.EXERCISES.values() if e.notebook == notebook]
    names = [e.name for e in mine]
    cells = [
        new_markdown_cell(INTRO),
        new_code_cell(f'from wskit import exercises as ex\n\nmine = [e.name for e in ex.EXERCISES.values() if '
                      f'e.notebook == "{notebook}"]\nprint(mine)\nassert mine == {names!r}'),
    ]
    for e in mine:
        cells.append(new_markdown_cell(e.task))
        cells.append(new_code_cell(e.stub, metadata={"wskit": {"exercise": e.name}}))
        cells.append(new_code_cell(e.check_cell, metadata={"wskit": {"check": e.name}, **IGNORE}))
    return cells


def progress_cells() -> list[nbformat.NotebookNode]:
    return [new_markdown_cell(PROGRESS_MD), new_code_cell(PROGRESS_CODE, metadata=dict(IGNORE))]


def _strip(cells: list) -> list[tuple[str, str, dict]]:
    return [(c.cell_type, c.source, {k: v for k, v in c.metadata.items() if k in ("tags", "wskit")}) for c in cells]


def find_block(nb: nbformat.NotebookNode) -> tuple[int, int]:
    """(start, end) of the "## Exercises" block: from its heading to the cell before the notebook's last code cell."""
    start = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("## Exercises"))
    end = start + 1
    while end < len(nb.cells) and not (nb.cells[end].cell_type == "code" and "stop_all()" in nb.cells[end].source):
        end += 1
    return start, end


def insert(notebook: str) -> None:
    path = next(NOTEBOOKS_DIR.glob(f"{notebook}_*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    if notebook in ("00", "09"):
        if any(c.source.startswith("### Your exercises") for c in nb.cells):
            start = next(i for i, c in enumerate(nb.cells) if c.source.startswith("### Your exercises"))
            nb.cells[start:start + 2] = progress_cells()
        else:
            nb.cells[len(nb.cells) - 1:len(nb.cells) - 1] = progress_cells()
    else:
        if any(c.cell_type == "markdown" and c.source.startswith("## Exercises") for c in nb.cells):
            start, end = find_block(nb)
            nb.cells[start:end] = exercise_cells(notebook)
        else:
            check = next(i for i, c in enumerate(nb.cells)
                         if c.cell_type == "markdown" and "## Self-check" in c.source)
            nb.cells[check + 1:check + 1] = exercise_cells(notebook)
    nbformat.validate(nb)
    nbformat.write(nb, path)


if __name__ == "__main__":
    for number in sys.argv[1:] or ["02", "03", "05", "07", "08", "11", "00", "09"]:
        insert(number)
        print("updated", number)
