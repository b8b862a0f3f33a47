"""The plots read as their notebooks say: log axes where a tail must show, p50 and p99 marked."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from wskit import diagrams, timing
from wskit.timing import Stats


def test_cdf_is_log_x_with_p50_and_p99_marked():
    a = Stats.from_samples("a", [0.001 * (i + 1) for i in range(100)])
    ax = timing.plot_cdf(a)
    assert ax.get_xscale() == "log"
    (marks,) = [c for c in ax.collections if len(c.get_offsets()) == 1 and c.get_offsets()[0][1] == 0.5]
    assert marks.get_offsets()[0][0] == a.p50 * 1000
    assert any(c.get_offsets()[0][1] == 0.99 and c.get_offsets()[0][0] == a.p99 * 1000 for c in ax.collections)
    assert {text.get_text().split()[0] for text in ax.texts} == {"p50", "p99"}
    assert timing.plot_cdf(a, log_x=False).get_xscale() == "linear"


def test_histogram_can_count_on_a_log_scale():
    a = Stats.from_samples("a", [0.001, 0.001, 0.001, 0.05])
    assert timing.plot_histogram(a, log_y=True).get_yscale() == "log"
    assert timing.plot_histogram(a).get_yscale() == "linear"


def test_engineio_upgrade_follows_the_v4_protocol():
    steps = [step for _, _, step in diagrams.ENGINEIO_UPGRADE]
    probe = next(i for i, step in enumerate(steps) if step.startswith("2probe"))
    assert steps[probe + 1].startswith("3probe")  # the server answers the probe on the WebSocket
    assert "NOOP" in steps[probe + 2] and diagrams.ENGINEIO_UPGRADE[probe + 2][0] == "server"  # ends the held poll
    assert steps[probe + 3].startswith("5") and "no reply" in steps[probe + 3]  # the client's upgrade: no answer
    ax = diagrams.draw_engineio_upgrade()
    assert len(ax.texts) >= 2 * len(diagrams.ENGINEIO_UPGRADE)


def test_byte_bars_add_up():
    ax = diagrams.draw_bytes([("x", [("header", 2), ("payload", 5)]), ("y", [("header", 2), ("mask", 4)])])
    assert sorted(round(p.get_width()) for p in ax.patches) == [2, 2, 4, 5]
    assert {t.get_text() for t in ax.texts} >= {"7 B", "6 B"}


def test_the_story_says_the_notes_are_not_secret():
    assert not any("secret note" in story for _, story, _ in diagrams.STORY)
    assert any("not secret" in story for _, story, _ in diagrams.STORY)
