"""wskit's one way to compute a percentile: :class:`Histogram`, an HDR histogram of durations.

A module of its own so that the load generator (:mod:`wskit.load`, also run as ``python -m wskit load``) needs
nothing heavier than ``hdrh``; :mod:`wskit.timing` re-exports it.
"""

from __future__ import annotations

import math

from hdrh.histogram import HdrHistogram

__all__ = ["Histogram"]


class Histogram(HdrHistogram):
    """Durations in an HDR histogram: recorded and read in seconds. wskit's one way to compute a percentile.

    An HDR (High Dynamic Range) histogram keeps ``digits`` significant digits of every value from one ``unit`` to
    ``longest`` seconds in a fixed, small amount of memory, and records a value in constant time.

    Args:
        unit: the smallest step, in seconds (``1e-6``: microseconds; ``1e-9``: nanoseconds).
        longest: the longest duration it can hold, in seconds; longer ones are recorded as that.
        digits: significant digits kept (2: within 1 %; 3: within 0.1 %). Reading a percentile walks the buckets
            (pure Python, ``hdrh``), so fewer digits read faster: a load run, which reads its p50 and p99 every
            second, keeps 2.
    """

    def __init__(self, unit: float = 1e-6, longest: float = 120.0, digits: int = 2) -> None:
        super().__init__(1, max(2, round(longest / unit)), digits)
        self.unit = unit

    def record(self, seconds: float) -> None:
        """Count one duration (clamped to one ``unit`` .. ``longest``)."""
        self.record_value(min(self.highest_trackable_value, max(1, round(seconds / self.unit))))

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0–100) in seconds: at least ``q`` % of the samples are at or under it.

        It is the nearest-rank sample, rounded up to the histogram's precision; NaN when nothing was recorded.
        """
        return self.percentiles(q)[0]

    def percentiles(self, *qs: float) -> tuple[float, ...]:
        """Several percentiles (as :meth:`percentile`), read in one walk over the buckets."""
        if self.get_total_count() == 0:
            return (math.nan,) * len(qs)
        values = self.get_percentile_to_value_dict(qs)
        return tuple(values[q] * self.unit for q in qs)
