"""The case vocabulary: the axes of a case, its name, its exported twin, the display order.

A wasmcmp case is named ``{guest}/{approach}/{function}/{tier}``. This module is the only
place that takes such a name apart or puts one together; it imports no runtime, so the
analysis side (results, compare, report, publish) can use it without wasmtime.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: the axes of a case, in name order; an asv benchmark parameterized by exactly these is
#: named as a wasmcmp case
AXES = ("guest", "approach", "function", "tier")

#: the guests wasmcmp ships; a user's own (``--guest NAME=FOLDER``) come after them
GUESTS = ("go", "rust", "wat")

#: the approach every imported approach's cost is divided by
EXPORTED = "exported"
IMPORTED_PREFIX = "imported-"

#: how the host reaches the guest, in display order
APPROACHES = (EXPORTED, "imported-inline", "imported-greenlet", "imported-thread")

#: the guest functions every guest exports, or asks the host for through its conduit
FUNCTIONS = ("add", "cube")

#: how values cross wasmtime's API, in display order
TIERS = ("checked", "unchecked")

#: what is measured: wall time per call (the headline, unnamed), or instructions per call;
#: any other metric is written after the case name: ``go/exported/add/checked@instructions``
TIME = "time"
METRICS = (TIME, "instructions")
METRIC_MARK = "@"

#: the unit each metric's values are in
METRIC_UNITS = {TIME: "seconds", "instructions": "instructions"}


@dataclass(frozen=True, order=True)
class CaseName:
    """A case's four parts; ``str()`` gives the name."""

    guest: str
    approach: str
    function: str
    tier: str
    metric: str = TIME

    def __str__(self) -> str:
        case = f"{self.guest}/{self.approach}/{self.function}/{self.tier}"
        return case if self.metric == TIME else f"{case}{METRIC_MARK}{self.metric}"

    @property
    def case(self) -> str:
        """Return the case's name without its metric: the call path it measures."""
        return f"{self.guest}/{self.approach}/{self.function}/{self.tier}"

    @property
    def is_imported(self) -> bool:
        """Return whether the guest calls the host (an ``imported-*`` approach)."""
        return self.approach.startswith(IMPORTED_PREFIX)

    @property
    def twin(self) -> CaseName | None:
        """Return the exported case an imported case's ratio divides by (None otherwise)."""
        if not self.is_imported:
            return None
        return CaseName(self.guest, EXPORTED, self.function, self.tier, self.metric)

    @property
    def group(self) -> tuple[str, str, str]:
        """Return what the exported and imported cases of one comparison share."""
        return (self.guest, self.function, self.tier)

    def measured_by(self, metric: str) -> CaseName:
        """Return the same case under another metric."""
        return CaseName(self.guest, self.approach, self.function, self.tier, metric)


def parts(name: str) -> list[str]:
    """Return the ``/``-separated parts of a name, however many (for precise error messages)."""
    return name.split("/")


def parse(name: str) -> CaseName | None:
    """Return the parts of a wasmcmp case name, or None for any other benchmark's name.

    A name is a case when it has four ``/``-separated parts and an exported or imported
    approach; the guest, function and tier may be any word (results name guests of their own).
    A metric other than time follows the name after ``@``.
    """
    path, mark, metric = name.partition(METRIC_MARK)
    if mark and not metric:
        return None
    found = parts(path)
    if len(found) != len(AXES) or not all(found):
        return None
    case = CaseName(found[0], found[1], found[2], found[3], metric or TIME)
    if case.approach != EXPORTED and not case.is_imported:
        return None
    return case


def from_params(params: Mapping[str, str], unit: str = "seconds") -> CaseName | None:
    """Return the case an asv parameter combination names, if its names are exactly AXES;
    the benchmark's unit tells the metric (seconds: time)."""
    if tuple(params) != AXES:
        return None
    guest, approach, function, tier = (params[axis] for axis in AXES)
    case = CaseName(guest, approach, function, tier, metric_of(unit))
    if case.approach != EXPORTED and not case.is_imported:
        return None
    return case


def metric_of(unit: str) -> str:
    """Return the metric whose values are in this unit (any unit but seconds names itself)."""
    return TIME if unit in ("seconds", "") else unit


def identify(
    name: str, benchmark: str, params: Iterable[tuple[str, str]], unit: str = "seconds"
) -> CaseName | None:
    """Return the case a measured result is, from its parameters or, without any, its name."""
    pairs = dict(params)
    if pairs:
        return from_params(pairs, unit)
    if benchmark in ("", name):
        return parse(name)
    return None


def benchmark_name(
    benchmark: str, params: Mapping[str, str] | None = None, unit: str = "seconds"
) -> str:
    """Return the display name of an asv benchmark with parameters.

    Benchmarks parameterized by exactly the AXES are named as wasmcmp cases
    (``go/exported/add/checked``, or ``...@instructions`` for a count); any other is
    ``name(value, ...)``.
    """
    if not params:
        return benchmark
    case = from_params(params, unit)
    if case is not None:
        return str(case)
    return f"{benchmark}({', '.join(params.values())})"


def exported_twin(name: str) -> str | None:
    """Return the name of the exported case an imported case divides by (None otherwise)."""
    case = parse(name)
    twin = case.twin if case else None
    return str(twin) if twin else None


# -- display order --------------------------------------------------------------------------------


def approach_rank(approach: str) -> tuple[int, str]:
    """Return a sort key placing the known approaches first, in APPROACHES order."""
    rank = APPROACHES.index(approach) if approach in APPROACHES else len(APPROACHES)
    return (rank, approach)


def guest_rank(guest: str) -> tuple[int, str]:
    """Return a sort key placing the bundled guests first, in GUESTS order, then any other
    (a user's own) by name."""
    rank = GUESTS.index(guest) if guest in GUESTS else len(GUESTS)
    return (rank, guest)


def group_rank(guest: str, function: str, tier: str) -> tuple[int, str, str, int, str]:
    """Return a sort key for a guest/function/tier group: by guest, function, then tier."""
    rank = TIERS.index(tier) if tier in TIERS else len(TIERS)
    return (*guest_rank(guest), function, rank, tier)


def case_rank(name: str) -> tuple[int, str]:
    """Return a sort key placing wasmcmp cases before other benchmarks, each by name."""
    return (0 if parse(name) else 1, name)


__all__ = [
    "APPROACHES",
    "AXES",
    "EXPORTED",
    "FUNCTIONS",
    "GUESTS",
    "IMPORTED_PREFIX",
    "METRICS",
    "METRIC_MARK",
    "METRIC_UNITS",
    "TIERS",
    "TIME",
    "CaseName",
    "approach_rank",
    "benchmark_name",
    "case_rank",
    "exported_twin",
    "from_params",
    "group_rank",
    "guest_rank",
    "identify",
    "metric_of",
    "parse",
    "parts",
]
