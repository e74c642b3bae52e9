"""Measurements as table rows: cells, the case table, the regression rows.

The overview, the history pages and the regressions page share these, so a value reads
the same on every page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wasmcmp import format as fmt
from wasmcmp.publish.index import CaseDisplay, Commit, Index, Series
from wasmcmp.publish.steps import Regression
from wasmcmp.results.model import Measurement

#: points drawn in a sparkline (the newest ones)
SPARK_POINTS = 40

_GITHUB_COMMIT = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+)/commit/$")


@dataclass(frozen=True)
class Cell:
    """A measurement as a table cell shows it."""

    value: str
    interval: str
    spread: str
    title: str


def cell(m: Measurement, scale: fmt.Scale) -> Cell:
    """Return a measurement as a table cell shows it, in a display unit."""
    v = m.value * scale.factor
    interval = fmt.interval(m.ci_low, m.ci_high, scale)
    spread = fmt.spread(m.spread) if interval and math.isfinite(m.spread) else ""
    n = len(m.samples)
    title = f"median {fmt.number(v)} {scale.label}"
    if interval:
        title += f", 99% interval {interval}"
    if n:
        title += f", {n} samples"
    return Cell(fmt.number(v), interval, spread, title)


@dataclass(frozen=True)
class Latest:
    cell: Cell
    change: str
    change_kind: str
    spark: str
    commit: str


@dataclass(frozen=True)
class CaseRow:
    name: CaseDisplay
    slug: str
    unit: str
    latest: tuple[Latest | None, ...]
    points: int


def case_rows(index: Index, cases: Iterable[str]) -> list[CaseRow]:
    rows = []
    for case in cases:
        by_series = index.history[case]
        scale = index.scales[case]
        latest: list[Latest | None] = []
        for s in range(len(index.series)):
            pts = by_series.get(s)
            if not pts:
                latest.append(None)
                continue
            c, m = pts[-1]
            change, kind = "", ""
            if len(pts) > 1 and pts[-2][1].value > 0:
                rel = m.value / pts[-2][1].value - 1
                change = f"{rel * 100:+.1f}%" if abs(rel) >= 0.0005 else "0.0%"
                kind = "up" if rel > 0.05 else "down" if rel < -0.05 else "flat"
            latest.append(
                Latest(
                    cell(m, scale),
                    change,
                    kind,
                    spark([p.value for _, p in pts[-SPARK_POINTS:]]),
                    index.commits[c].label,
                )
            )
        rows.append(
            CaseRow(
                index.names[case],
                index.slugs[case],
                scale.label,
                tuple(latest),
                sum(len(p) for p in by_series.values()),
            )
        )
    return rows


@dataclass(frozen=True)
class RegressionRow:
    name: CaseDisplay
    slug: str
    series: Series
    before: Commit
    after: Commit
    value_before: str
    value_after: str
    unit: str
    size: str
    range_url: str | None


def regression_rows(index: Index, found: Sequence[Regression]) -> list[RegressionRow]:
    rows = []
    for r in found:
        scale = index.scales[r.case]
        before, after = index.commits[r.before], index.commits[r.after]
        rows.append(
            RegressionRow(
                index.names[r.case],
                index.slugs[r.case],
                index.series[r.series],
                before,
                after,
                fmt.number(r.value_before * scale.factor),
                fmt.number(r.value_after * scale.factor),
                scale.label,
                f"+{r.size * 100:.1f}%" if math.isfinite(r.size) else "∞",
                _range_url(before, after),
            )
        )
    return rows


def _range_url(before: Commit, after: Commit) -> str | None:
    if not (before.url and after.url and before.is_hash and after.is_hash):
        return None
    found = _GITHUB_COMMIT.match(before.url[: -len(before.key)])
    if not found:
        return None
    return f"https://github.com/{found[1]}/{found[2]}/compare/{before.key}...{after.key}"


def spark(values: Sequence[float], width: float = 96, height: float = 22) -> str:
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = width / (len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}"
        for i, v in enumerate(values)
    )


__all__ = [
    "SPARK_POINTS",
    "CaseRow",
    "Cell",
    "Latest",
    "RegressionRow",
    "case_rows",
    "cell",
    "regression_rows",
]
