"""Whether base and head differ: asv's test on independent units, corrected as a family."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from asv import _stats

from wasmcmp.format import significance_text
from wasmcmp.results.model import Measurement

#: asv's ``p_threshold``: the strict level at which a difference counts as significant.
SIGNIFICANCE_LEVEL = 0.002

#: the chance, for a whole comparison, that noise calls any case different (Holm's method)
FAMILY_LEVEL = 0.01

#: how the p-values of one comparison are adjusted together
CORRECTION = "Holm"

#: units whose values are deterministic counts, judged by threshold alone
DETERMINISTIC_UNITS = frozenset({"instructions"})

#: The tests a Significance may name.
MANN_WHITNEY_U = "Mann-Whitney U"
CI_OVERLAP = "99% CI overlap"
FACTOR_ONLY = "none (no samples or interval): the factor alone decides"
DETERMINISTIC = "none (a deterministic count): the threshold decides"


@dataclass(frozen=True)
class Significance:
    """Which test decided, its p-value (None for the interval test) and the outcome."""

    test: str
    p_value: float | None
    significant: bool
    level: float = SIGNIFICANCE_LEVEL
    #: the p-value before the comparison's correction (``p_value`` is after it)
    raw_p_value: float | None = None

    @property
    def text(self) -> str:
        """Return the outcome for a table: ``p=0.0003``, ``intervals apart``, or what decided
        when no test ran (``threshold`` for a count, ``factor only``)."""
        if self.test == DETERMINISTIC:
            return "threshold"
        if self.test == FACTOR_ONLY:
            return "factor only"
        return significance_text(self.p_value, self.significant)


def significance(
    base: Measurement, head: Measurement, level: float = SIGNIFICANCE_LEVEL
) -> Significance:
    """Return whether base and head differ, decided exactly as ``asv._stats.is_different``,
    on the independent units of each side (its process means, else its samples)."""
    if _deterministic(base, head):
        return Significance(DETERMINISTIC, None, True, level)
    a = [x for x in _units(base) if not math.isnan(x)]
    b = [x for x in _units(head) if not math.isnan(x)]
    if a and b:
        # The smallest p-value the exact test can give with these sample counts: when it is
        # not below the level, the test cannot decide and asv falls back to the intervals.
        p_min = 1 / _stats.binom(len(a) + len(b), min(len(a), len(b)))
        if p_min < level:
            _, p = _stats.mann_whitney_u(a, b)
            return Significance(MANN_WHITNEY_U, float(p), bool(p < level), level, float(p))
    if _without_statistics(base) or _without_statistics(head):
        # One sample, or neither samples nor an interval (asv --quick, a plain track result):
        # asv's compare then lets the factor alone decide, and so does this.
        return Significance(FACTOR_ONLY, None, True, level)
    different = _stats.is_different(
        None,
        None,
        {"ci_99_a": base.ci_low, "ci_99_b": base.ci_high},
        {"ci_99_a": head.ci_low, "ci_99_b": head.ci_high},
        level,
    )
    return Significance(CI_OVERLAP, None, bool(different), level)


def _deterministic(base: Measurement, head: Measurement) -> bool:
    return base.unit in DETERMINISTIC_UNITS and head.unit in DETERMINISTIC_UNITS


def _units(m: Measurement) -> tuple[float, ...]:
    return m.units if len(m.units) >= 2 else m.samples


def _without_statistics(m: Measurement) -> bool:
    if len(m.samples) == 1:
        return True
    return not m.samples and not (math.isfinite(m.ci_low) and math.isfinite(m.ci_high))


def holm(p_values: Mapping[str, float]) -> dict[str, float]:
    """Return Holm's adjusted p-values: compare each with the family level."""
    ordered = sorted(p_values.items(), key=lambda kv: kv[1])
    m = len(ordered)
    adjusted: dict[str, float] = {}
    running = 0.0
    for k, (case, p) in enumerate(ordered):
        running = max(running, min(1.0, (m - k) * p))
        adjusted[case] = running
    return adjusted


def family_significance(
    pairs: Mapping[str, tuple[Measurement, Measurement]], level: float = FAMILY_LEVEL
) -> dict[str, Significance]:
    """Return each case's significance within a comparison of all of them: Mann-Whitney U
    on process units with Holm's adjustment, so that noise calls any case different with a
    chance below ``level``; cases whose units are too few for that fall back to asv's
    99% intervals, and deterministic counts are left to their threshold."""
    # a case can be tested only if its smallest possible p survives Holm's strictest step
    family = sum(1 for b, h in pairs.values() if not _deterministic(b, h))
    strictest = level / max(1, family)
    raw = {case: significance(b, h, strictest) for case, (b, h) in pairs.items()}
    tested = {
        case: sig.raw_p_value
        for case, sig in raw.items()
        if sig.test == MANN_WHITNEY_U and sig.raw_p_value is not None
    }
    adjusted = holm(tested)
    return {
        case: replace(sig, p_value=adjusted[case], significant=adjusted[case] < level, level=level)
        if case in adjusted
        else sig
        for case, sig in raw.items()
    }


__all__ = [
    "CI_OVERLAP",
    "CORRECTION",
    "DETERMINISTIC",
    "DETERMINISTIC_UNITS",
    "FACTOR_ONLY",
    "FAMILY_LEVEL",
    "MANN_WHITNEY_U",
    "SIGNIFICANCE_LEVEL",
    "Significance",
    "family_significance",
    "holm",
    "significance",
]
