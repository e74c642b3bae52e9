"""Where the time goes: each approach's cost taken apart into its crossings and hand-off.

For one guest, function and tier (and metric), from one run:

- the exported crossing: one host-to-wasm call (``exported``);
- two import crossings: the guest asking for work and answering, with no hand-off
  (``imported-inline``);
- the hand-off: what a conduit adds on top of those two crossings (``imported-greenlet``
  or ``imported-thread`` minus ``imported-inline``).

A difference of two medians can come out below zero when a hand-off costs less than the
noise; it is reported as measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from wasmcmp import names
from wasmcmp.results.model import Measurement

#: the approach with no hand-off: its cost is the two import crossings alone
INLINE = "imported-inline"


@dataclass(frozen=True)
class Breakdown:
    """One guest/function/tier's costs in the measurements' unit (seconds per call for time).

    ``exported`` is None when the exported case was not measured; ``handoffs`` holds, for
    each measured conduit, its cost minus the two import crossings, in display order.
    """

    guest: str
    function: str
    tier: str
    metric: str
    unit: str
    exported: float | None
    crossings: float
    handoffs: tuple[tuple[str, float], ...]

    @property
    def group(self) -> str:
        """Return ``guest/function/tier``, the label of this breakdown."""
        return f"{self.guest}/{self.function}/{self.tier}"

    def handoff(self, approach: str) -> float | None:
        """Return what the conduit adds to the two import crossings (None if not measured)."""
        return dict(self.handoffs).get(approach)


def breakdowns(measurements: Mapping[str, Measurement]) -> list[Breakdown]:
    """Return the breakdown of every group whose inline case and at least one other
    approach were measured, by guest, function and tier."""
    by_group: dict[tuple[str, str, str, str], dict[str, Measurement]] = {}
    for name, measurement in measurements.items():
        case = names.parse(name)
        if case is not None:
            key = (case.guest, case.function, case.tier, case.metric)
            by_group.setdefault(key, {})[case.approach] = measurement
    found: list[Breakdown] = []
    for (guest, function, tier, metric), approaches in by_group.items():
        inline = approaches.get(INLINE)
        exported = approaches.get(names.EXPORTED)
        handoffs = tuple(
            (approach, approaches[approach].value - inline.value)
            for approach in sorted(approaches, key=names.approach_rank)
            if inline is not None and approach not in (INLINE, names.EXPORTED)
        )
        if inline is None or (exported is None and not handoffs):
            continue
        found.append(
            Breakdown(
                guest,
                function,
                tier,
                metric,
                inline.unit,
                exported.value if exported is not None else None,
                inline.value,
                handoffs,
            )
        )
    found.sort(key=lambda b: (names.group_rank(b.guest, b.function, b.tier), b.metric))
    return found


__all__ = ["INLINE", "Breakdown", "breakdowns"]
