"""Ratios: what each imported approach costs over the exported call, across commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from wasmcmp import format as fmt
from wasmcmp import names
from wasmcmp.compare import crossing_between
from wasmcmp.publish.charts import Line, chart_data
from wasmcmp.publish.index import SERIES_COLORS, Index
from wasmcmp.publish.pages import Context, Page, Rendered


@dataclass(frozen=True)
class RatioGroup:
    """The cases of one guest, function and tier: the exported one and its imported twins."""

    guest: str
    function: str
    tier: str
    exported: str
    imported: tuple[str, ...]
    metric: str = names.TIME

    @property
    def title(self) -> str:
        """Return the chart's title."""
        title = f"{self.guest} · {self.function} · {self.tier}"
        return title if self.metric == names.TIME else f"{title} · {self.metric}"


def ratio_groups(index: Index) -> list[RatioGroup]:
    """Return every guest/function/tier with an exported case and at least one imported."""
    groups: dict[tuple[str, str, str, str], dict[str, str]] = {}
    for case, display in index.names.items():
        if display.case is not None:
            key = (*display.case.group, display.case.metric)
            groups.setdefault(key, {})[display.case.approach] = case
    out = []
    for key, by_approach in sorted(groups.items(), key=lambda kv: _group_key(kv[0])):
        if names.EXPORTED not in by_approach:
            continue
        imported = tuple(
            by_approach[a]
            for a in sorted(by_approach, key=names.approach_rank)
            if a != names.EXPORTED
        )
        if imported:
            guest, function, tier, metric = key
            out.append(
                RatioGroup(guest, function, tier, by_approach[names.EXPORTED], imported, metric)
            )
    return out


def _group_key(key: tuple[str, str, str, str]) -> tuple[int, int, str, str, int, str]:
    guest, function, tier, metric = key
    rank = names.METRICS.index(metric) if metric in names.METRICS else len(names.METRICS)
    return (rank, *names.group_rank(guest, function, tier))


def ratio_chart(index: Index, group: RatioGroup) -> dict[str, Any]:
    """Return the chart of a group's imported/exported ratios, one line per approach and
    series, each point with the widest ratio both 99% intervals allow."""
    exported = index.history[group.exported]
    lines: list[Line] = []
    for case in group.imported:
        name = index.names[case]
        assert name.case is not None  # a group holds wasmcmp cases only
        for s, pts in index.history[case].items():
            base = dict(exported.get(s, ()))
            points = []
            for c, m in pts:
                x = crossing_between(name.case, m, base[c]) if c in base else None
                if x is not None:
                    points.append((c, x.value, x.low, x.high))
            if points:
                color = SERIES_COLORS[len(lines) % len(SERIES_COLORS)]
                lines.append((f"{name.approach} — {index.series[s].name}", color, points))
    return chart_data(group.title, fmt.Scale(f"{fmt.TIMES} exported", 1.0), lines)


def render(context: Context) -> Iterable[Rendered]:
    """Return the ratios page."""
    index = context.index
    groups = ratio_groups(index)
    charts = [ratio_chart(index, g) for g in groups]
    used = [c for chart in charts for c in chart["x"]]
    yield Rendered(
        "ratios.html",
        "ratios.html",
        {
            "groups": groups,
            "slugs": index.slugs,
            "data": {"commits": index.commits_json(used), "charts": charts},
        },
    )


PAGE = Page(
    title="Ratios",
    order=30,
    path="ratios.html",
    render=render,
    applies=lambda context: bool(ratio_groups(context.index)),
)
