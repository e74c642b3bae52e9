"""The crossing ratio: what an imported call costs over the exported call, per run and
between base and head."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from wasmcmp import names
from wasmcmp.results.model import Measurement, Run


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
        """Return the name of the exported case the ratio divides by."""
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


__all__ = [
    "Crossing",
    "CrossingChange",
    "crossing",
    "crossing_between",
    "crossing_changes",
    "crossings",
]
