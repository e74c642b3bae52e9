"""Compare a baseline run with a head run: ratio, interval, significance and a verdict per case.

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

import fnmatch
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from asv import _stats

from wasmcmp import names
from wasmcmp.errors import InvalidFactor, ResultsError
from wasmcmp.results.model import Measurement, Run

#: asv's ``p_threshold``: the strict level at which a difference counts as significant.
SIGNIFICANCE_LEVEL = 0.002

#: the chance, for a whole comparison, that noise calls any case different (Holm's method)
FAMILY_LEVEL = 0.01

#: how the p-values of one comparison are adjusted together
CORRECTION = "Holm"

#: a count of instructions regresses when it grows by more than this factor
DEFAULT_INSTRUCTION_FACTOR = 1.01

#: units whose values are deterministic counts, judged by threshold alone
DETERMINISTIC_UNITS = frozenset({"instructions"})

#: A case regresses when head is slower than base by more than this factor (and significantly).
DEFAULT_FACTOR = 1.10

#: The tests a Significance may name.
MANN_WHITNEY_U = "Mann-Whitney U"
CI_OVERLAP = "99% CI overlap"
FACTOR_ONLY = "none (no samples or interval): the factor alone decides"
DETERMINISTIC = "none (a deterministic count): the threshold decides"


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


@dataclass(frozen=True)
class FactorRule:
    """A factor for the cases whose names match an fnmatch pattern."""

    pattern: str
    factor: float


@dataclass(frozen=True)
class Factors:
    """The default factor and per-pattern overrides; the last matching rule wins."""

    default: float = DEFAULT_FACTOR
    rules: tuple[FactorRule, ...] = ()
    #: the default for instruction counts (``...@instructions`` cases)
    instructions: float = DEFAULT_INSTRUCTION_FACTOR

    def for_case(self, case: str) -> float:
        """Return the factor that applies to a case."""
        for rule in reversed(self.rules):
            if fnmatch.fnmatchcase(case, rule.pattern):
                return rule.factor
        name = names.parse(case)
        if name is not None and name.metric == "instructions":
            return self.instructions
        return self.default


def _parse_number(text: str, where: str) -> float:
    try:
        factor = float(text)
    except ValueError:
        factor = math.nan
    if not math.isfinite(factor) or factor < 1.0:
        raise InvalidFactor(
            f"--factor {where!r}: expected a number >= 1 such as 1.10 (10% slower), "
            f"or PATTERN=NUMBER such as 'go/imported-*=1.25'"
        )
    return factor


def parse_factors(texts: Sequence[str]) -> Factors:
    """Return the Factors given as ``1.10`` or ``PATTERN=1.25`` strings, in order."""
    default = DEFAULT_FACTOR
    rules: list[FactorRule] = []
    for text in texts:
        pattern, sep, number = text.rpartition("=")
        if not sep:
            default = _parse_number(text.strip(), text)
            continue
        if not pattern.strip():
            raise InvalidFactor(f"--factor {text!r}: the pattern before '=' is empty")
        rules.append(FactorRule(pattern.strip(), _parse_number(number.strip(), text)))
    return Factors(default, tuple(rules))


@dataclass(frozen=True)
class Significance:
    """Which test decided, its p-value (None for the interval test) and the outcome."""

    test: str
    p_value: float | None
    significant: bool
    level: float = SIGNIFICANCE_LEVEL
    #: the p-value before the comparison's correction (``p_value`` is after it)
    raw_p_value: float | None = None


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


@dataclass(frozen=True)
class Crossing:
    """What an imported case costs relative to its exported twin, both measured in one run.

    ``low`` and ``high`` are the widest ratio both 99% intervals allow (imported low over
    exported high, and back), or None when an interval is unknown.
    """

    case: names.CaseName
    value: float
    low: float | None = None
    high: float | None = None

    @property
    def imported(self) -> str:
        """Return the imported case's name."""
        return str(self.case)

    @property
    def exported(self) -> str:
        """Return the name of the exported case this ratio divides by."""
        return str(self.case.twin)


def crossing_between(
    case: names.CaseName, imported: Measurement, exported: Measurement
) -> Crossing | None:
    """Return an imported measurement over its exported twin's (None if that is not > 0)."""
    if exported.value <= 0:
        return None
    low = high = None
    if (
        math.isfinite(imported.ci_low)
        and math.isfinite(imported.ci_high)
        and math.isfinite(exported.ci_high)
        and exported.ci_low > 0
        and exported.ci_high > 0
    ):
        low = imported.ci_low / exported.ci_high
        high = imported.ci_high / exported.ci_low
    return Crossing(case, imported.value / exported.value, low, high)


def crossing(measurements: Mapping[str, Measurement], case: str) -> Crossing | None:
    """Return an imported case's crossing ratio when it and its exported twin were measured."""
    name = names.parse(case)
    twin = name.twin if name else None
    imported = measurements.get(case)
    exported = measurements.get(str(twin)) if twin else None
    if name is None or imported is None or exported is None:
        return None
    return crossing_between(name, imported, exported)


def crossings(measurements: Mapping[str, Measurement]) -> list[Crossing]:
    """Return the crossing ratio of every imported case whose exported twin was measured."""
    found = (crossing(measurements, case) for case in measurements)
    return [x for x in found if x is not None]


@dataclass(frozen=True)
class CrossingChange:
    """One imported case's crossing ratio on base and on head (None where not measured)."""

    case: names.CaseName
    base: Crossing | None
    head: Crossing | None

    @property
    def imported(self) -> str:
        """Return the imported case's name."""
        return str(self.case)

    @property
    def exported(self) -> str:
        """Return the name of the exported case the ratios divide by."""
        return str(self.case.twin)

    @property
    def change(self) -> float | None:
        """Return head's ratio over base's, when both were measured."""
        if self.base is None or self.head is None or not self.base.value:
            return None
        return self.head.value / self.base.value


def crossing_changes(base: Run, head: Run) -> tuple[CrossingChange, ...]:
    """Return the crossing ratio of every imported case on either side, base and head."""
    found: list[CrossingChange] = []
    for case in sorted(set(base.measurements) | set(head.measurements)):
        b = crossing(base.measurements, case)
        h = crossing(head.measurements, case)
        either = b or h
        if either is not None:
            found.append(CrossingChange(either.case, b, h))
    return tuple(found)


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
    "CaseComparison",
    "Comparison",
    "Crossing",
    "CrossingChange",
    "FactorRule",
    "Factors",
    "InvalidFactor",
    "Significance",
    "Verdict",
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
