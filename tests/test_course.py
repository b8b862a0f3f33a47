"""The course hangs together: headers, self-checks, and links that lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LINK = re.compile(r"\]\(([^)#\s]+\.ipynb)(#[^)]*)?\)")


def markdown(path: Path) -> list[str]:
    return [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_same_header_and_footer_everywhere(path: Path) -> None:
    cells = markdown(path)
    first, last = cells[0], cells[-1]
    assert first.startswith(f"# {path.name[:2]} · "), first[:40]
    assert "**What you will run:**" in first and "**Time needed:**" in first
    assert "[Contents](00_start_here.ipynb)" in last
    position = NOTEBOOKS.index(path)
    if position > 0:
        assert f"**Previous:** [{NOTEBOOKS[position - 1].name[:2]} · " in last
        assert f"({NOTEBOOKS[position - 1].name})" in last
    if position + 1 < len(NOTEBOOKS):
        assert f"**Next:** [{NOTEBOOKS[position + 1].name[:2]} · " in last
        assert f"({NOTEBOOKS[position + 1].name})" in last


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_link_leads_to_a_notebook(path: Path) -> None:
    for text in markdown(path):
        for target, _anchor in LINK.findall(text):
            assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if not p.name.startswith("09")], ids=lambda p: p.name)
def test_every_lesson_ends_with_a_self_check(path: Path) -> None:
    assert any(re.search(r"^## Self-check", text, re.M) for text in markdown(path))


def test_the_start_page_lists_every_notebook() -> None:
    start = "\n".join(markdown(NOTEBOOKS[0]))
    for path in NOTEBOOKS[1:]:
        assert f"]({path.name})" in start, path.name
