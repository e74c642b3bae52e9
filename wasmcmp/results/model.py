"""The data model every reader fills and everything downstream reads: runs of measurements.

Times are seconds per operation throughout; other units are the benchmark's own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from asv_runner.statistics import compute_stats

from wasmcmp.errors import ResultsError


@dataclass(frozen=True)
class Measurement:
    """One case measured once: its samples and asv-style statistics, in seconds per op."""

    case: str
    value: float
    ci_low: float
    ci_high: float
    samples: tuple[float, ...] = ()
    q25: float | None = None
    q75: float | None = None
    benchmark: str = ""
    params: tuple[tuple[str, str], ...] = ()
    unit: str = "seconds"
    #: the independent units of the significance test: one mean per pyperf worker process
    #: (values from one process share its memory layout and warm state); empty when the
    #: grouping is unknown, and the samples are the units (the asv suite records one
    #: sample per process)
    units: tuple[float, ...] = ()
    #: why pyperf judged the result unstable (its own checks: spread, outliers, too-short
    #: values); empty when it judged it stable, or did not judge (asv results)
    unstable: tuple[str, ...] = ()

    @property
    def spread(self) -> float:
        """Return the 99% interval's width relative to the value (0.05 means 5%)."""
        if not self.value or math.isinf(self.ci_low) or math.isinf(self.ci_high):
            return math.inf
        return (self.ci_high - self.ci_low) / self.value


@dataclass(frozen=True)
class Run:
    """All measurements of one commit (or one pyperf file) on one machine and environment."""

    source: Path
    machine: str
    env: str
    measurements: Mapping[str, Measurement]
    commit: str | None = None
    date: datetime | None = None
    python: str | None = None
    failed: frozenset[str] = frozenset()
    metadata: Mapping[str, str] = field(default_factory=dict)
    #: what was left out while reading, each naming the file, the case and the commit
    warnings: tuple[str, ...] = ()


def measurement_from_samples(
    case: str,
    samples: list[float],
    *,
    benchmark: str = "",
    params: tuple[tuple[str, str], ...] = (),
) -> Measurement:
    """Return a Measurement whose statistics asv computes from per-op samples."""
    clean = [
        s
        for s in samples
        if isinstance(s, int | float) and not isinstance(s, bool) and math.isfinite(s)
    ]
    if not clean:
        raise ResultsError(f"case {case!r} has no finite samples")
    value, stats = compute_stats(clean, 1)
    return Measurement(
        case=case,
        value=float(value),
        ci_low=float(stats["ci_99_a"]),
        ci_high=float(stats["ci_99_b"]),
        samples=tuple(clean),
        q25=float(stats["q_25"]),
        q75=float(stats["q_75"]),
        benchmark=benchmark or case,
        params=params,
    )


__all__ = ["Measurement", "Run", "measurement_from_samples"]
