"""Compare a baseline run with a head run: ratio, interval, significance and a verdict per case.

- ``stats``: whether base and head differ (the tests, the family correction);
- ``factors``: how much slower counts as a regression, per case pattern;
- ``crossing``: the imported/exported ratio, per run and between base and head;
- ``breakdown``: where the time goes, each approach taken apart into crossings and hand-off;
- here: the verdicts, and ``compare`` putting it together. No file is read here.

Wall time: the test is asv's two-sided Mann-Whitney U (``asv._stats``), on independent units:
one mean per pyperf worker process, since values from one process share its memory layout
and warm state and are not independent. A pull request compares many cases at once, so the
p-values of a comparison are adjusted with Holm's method and a case is significant when its
adjusted p is below the family level (1%): the chance that noise calls any case of the
comparison different stays under 1%. When a case has too few units for the test to ever reach
that, asv's fallback applies: the two 99% confidence intervals must not overlap.

Instruction counts are deterministic up to a small jitter: no test, a count regresses when it
grows beyond its threshold (1% by default), set above the jitter measured here.

A case regresses only when the change is both significant and beyond its factor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from wasmcmp.compare.breakdown import Breakdown, breakdowns
from wasmcmp.compare.crossing import (
    Crossing,
    CrossingChange,
    crossing,
    crossing_between,
    crossing_changes,
    crossings,
)
from wasmcmp.compare.factors import (
    DEFAULT_FACTOR,
    DEFAULT_INSTRUCTION_FACTOR,
    FactorRule,
    Factors,
    parse_factors,
)
from wasmcmp.compare.stats import (
    CI_OVERLAP,
    CORRECTION,
    DETERMINISTIC,
    DETERMINISTIC_UNITS,
    FACTOR_ONLY,
    FAMILY_LEVEL,
    MANN_WHITNEY_U,
    SIGNIFICANCE_LEVEL,
    Significance,
    family_significance,
    holm,
    significance,
)
from wasmcmp.errors import InvalidFactor, ResultsError
from wasmcmp.results.model import Measurement, Run


class Verdict(StrEnum):
    """What happened to one case between base and head."""

    REGRESSED = "regressed"
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    NEW = "new"
    MISSING = "missing"
    FAILED = "failed"


#: Verdicts that make ``--fail-on-regression`` exit 1: slower, or no longer running in head.
BLOCKING = frozenset({Verdict.REGRESSED, Verdict.FAILED})


def ratio(base: float, head: float) -> float:
    """Return head over base (2.0 means head takes twice as long); inf when only base is 0."""
    if base > 0:
        return head / base
    return 1.0 if head == base else math.inf


@dataclass(frozen=True)
class CaseComparison:
    """One case: both measurements, head/base ratio, the test's outcome and the verdict."""

    case: str
    base: Measurement | None
    head: Measurement | None
    ratio: float | None
    factor: float
    significance: Significance | None
    verdict: Verdict


def judge(
    case: str,
    base: Measurement,
    head: Measurement,
    factor: float,
    level: float = SIGNIFICANCE_LEVEL,
) -> CaseComparison:
    """Return the comparison of one case measured on both sides, tested on its own."""
    return _decide(case, base, head, factor, significance(base, head, level))


def _decide(
    case: str, base: Measurement, head: Measurement, factor: float, sig: Significance
) -> CaseComparison:
    r = ratio(base.value, head.value)
    # Same inequalities as asv's _is_result_better, so a verdict here matches asv's marks.
    if sig.significant and head.value > base.value * factor:
        verdict = Verdict.REGRESSED
    elif sig.significant and head.value * factor < base.value:
        verdict = Verdict.IMPROVED
    else:
        verdict = Verdict.UNCHANGED
    return CaseComparison(case, base, head, r, factor, sig, verdict)


@dataclass(frozen=True)
class Comparison:
    """Every case of base against head, and what they add up to."""

    base: Run
    head: Run
    cases: tuple[CaseComparison, ...]
    factors: Factors
    level: float
    crossings: tuple[CrossingChange, ...]

    def count(self, verdict: Verdict) -> int:
        """Return how many cases got a verdict."""
        return sum(1 for c in self.cases if c.verdict is verdict)

    @property
    def counts(self) -> Mapping[Verdict, int]:
        """Return the number of cases for every verdict, in the enum's order."""
        return {v: self.count(v) for v in Verdict}

    @property
    def regressions(self) -> int:
        """Return the number of regressed cases."""
        return self.count(Verdict.REGRESSED)

    @property
    def blocking(self) -> tuple[CaseComparison, ...]:
        """Return the cases that fail ``--fail-on-regression``: regressed, or failing in head
        but not already in base (a case broken on main must not block every pull request)."""
        return tuple(
            c
            for c in self.cases
            if c.verdict in BLOCKING
            and not (c.verdict is Verdict.FAILED and c.case in self.base.failed)
        )

    @property
    def verdict(self) -> Verdict:
        """Return the overall verdict: regressed, else failed, improved or unchanged."""
        for verdict in (Verdict.REGRESSED, Verdict.FAILED, Verdict.IMPROVED):
            if self.count(verdict):
                return verdict
        return Verdict.UNCHANGED


def compare(
    base: Run,
    head: Run,
    factors: Factors | None = None,
    level: float = FAMILY_LEVEL,
) -> Comparison:
    """Return the Comparison of every case found in either run, tested as one family."""
    factors = factors or Factors()
    base_cases = set(base.measurements) | base.failed
    head_cases = set(head.measurements) | head.failed
    cases = sorted(base_cases | head_cases)
    if not cases:
        raise ResultsError(
            f"{base.source} and {head.source} hold no cases to compare; measure both commits "
            "with the same benchmarks (asv drops results of older benchmark versions)"
        )
    if not base_cases & head_cases:
        # Everything "new" or "missing" would read as a pass: nothing was compared at all.
        raise ResultsError(
            f"nothing to compare: {base.source} ({_some(base_cases)}) and {head.source} "
            f"({_some(head_cases)}) share no case; measure the same cases on both sides"
        )
    pairs = {
        case: (base.measurements[case], head.measurements[case])
        for case in cases
        if case in base.measurements and case in head.measurements and case not in head.failed
    }
    tested = family_significance(pairs, level)
    rows: list[CaseComparison] = []
    for case in cases:
        b = base.measurements.get(case)
        h = head.measurements.get(case)
        factor = factors.for_case(case)
        if case in head.failed:
            rows.append(CaseComparison(case, b, None, None, factor, None, Verdict.FAILED))
        elif h is None:
            rows.append(CaseComparison(case, b, None, None, factor, None, Verdict.MISSING))
        elif b is None:
            rows.append(CaseComparison(case, None, h, None, factor, None, Verdict.NEW))
        else:
            rows.append(_decide(case, b, h, factor, tested[case]))
    return Comparison(base, head, tuple(rows), factors, level, crossing_changes(base, head))


def _some(cases: set[str], shown: int = 3) -> str:
    if not cases:
        return "no cases"
    first = ", ".join(sorted(cases)[:shown])
    return first if len(cases) <= shown else f"{first} and {len(cases) - shown} more"


__all__ = [
    "BLOCKING",
    "CI_OVERLAP",
    "CORRECTION",
    "DEFAULT_FACTOR",
    "DEFAULT_INSTRUCTION_FACTOR",
    "DETERMINISTIC",
    "DETERMINISTIC_UNITS",
    "FACTOR_ONLY",
    "FAMILY_LEVEL",
    "MANN_WHITNEY_U",
    "SIGNIFICANCE_LEVEL",
    "Breakdown",
    "CaseComparison",
    "Comparison",
    "Crossing",
    "CrossingChange",
    "FactorRule",
    "Factors",
    "InvalidFactor",
    "Significance",
    "Verdict",
    "breakdowns",
    "compare",
    "crossing",
    "crossing_between",
    "crossing_changes",
    "crossings",
    "family_significance",
    "holm",
    "judge",
    "parse_factors",
    "ratio",
    "significance",
]
