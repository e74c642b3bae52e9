"""The overview: the seed-style table and bar chart of the newest run on each series, then
every other benchmark's newest value and the newest regressions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wasmcmp import format as fmt
from wasmcmp import names
from wasmcmp.compare import Breakdown, breakdowns, crossing_between
from wasmcmp.compare.breakdown import INLINE
from wasmcmp.publish.charts import BarChart, approach_color, bar_chart
from wasmcmp.publish.index import Commit, Index, Series
from wasmcmp.publish.pages import Context, Page, Rendered
from wasmcmp.publish.tables import SPARK_POINTS, Cell, case_rows, cell
from wasmcmp.results.model import Measurement

#: regressions listed on the overview; the regressions page has them all
TOP_REGRESSIONS = 5


@dataclass(frozen=True)
class _SeedRow:
    guest: str
    function: str
    tier: str
    cells: tuple[tuple[Cell, str] | None, ...]
    ratios: tuple[tuple[str, str], ...]


#: the width in pixels of a breakdown's longest stacked bar
STACK_WIDTH = 220


@dataclass(frozen=True)
class _Segment:
    """One part of a stacked bar: what it is, its colour, where it starts and how long it is
    (pixels, the group's longest bar being STACK_WIDTH), and its value as shown."""

    label: str
    color: str
    x: float
    width: float
    text: str


@dataclass(frozen=True)
class _StackedBar:
    approach: str
    segments: tuple[_Segment, ...]
    total: str


@dataclass(frozen=True)
class _BreakdownGroup:
    """Where the time goes in one guest/function/tier: a stacked bar per approach."""

    group: str
    bars: tuple[_StackedBar, ...]


@dataclass(frozen=True)
class _SeedSection:
    series: Series
    commit: Commit
    approaches: tuple[str, ...]
    imported: tuple[str, ...]
    unit: str
    rows: tuple[_SeedRow, ...]
    chart: BarChart
    log_chart: BarChart
    breakdowns: tuple[_BreakdownGroup, ...]
    failed: tuple[str, ...]

    @property
    def breakdown_legend(self) -> list[tuple[str, str]]:
        """Return each part of the breakdowns' bars once, label and colour, in order."""
        parts = (p for g in self.breakdowns for bar in g.bars for p in bar.segments)
        return list(dict.fromkeys((p.label, p.color) for p in parts))


@dataclass(frozen=True)
class _SeedBlock:
    """The seed-style tables of one metric, one section per series."""

    metric: str
    title: str
    caption: str
    sections: tuple[_SeedSection, ...]


#: how each metric's block is introduced: title, and what its bars show
_BLOCK_WORDS = {
    names.TIME: (
        "Exported against imported, newest commit",
        "Median time per call ({unit}) with the 99% confidence interval",
    ),
    "instructions": (
        "Instructions per call, newest commit",
        "Instructions per call, counted under valgrind (deterministic; blind to waiting)",
    ),
}


def _seed_blocks(index: Index) -> list[_SeedBlock]:
    blocks = []
    for metric in names.METRICS:
        sections = _seed_sections(index, metric)
        if sections:
            title, caption = _BLOCK_WORDS[metric]
            blocks.append(_SeedBlock(metric, title, caption, tuple(sections)))
    return blocks


def _seed_sections(index: Index, metric: str) -> list[_SeedSection]:
    def is_seed(case: str) -> bool:
        name = index.names[case].case
        return name is not None and name.metric == metric

    sections = []
    for s in range(len(index.series)):
        newest: int | None = None
        for case, by_series in index.history.items():
            if is_seed(case) and s in by_series:
                c = by_series[s][-1][0]
                newest = c if newest is None else max(newest, c)
        if newest is None:
            continue
        latest: dict[str, Measurement] = {}
        for case, by_series in index.history.items():
            if is_seed(case) and s in by_series:
                last_c, last_m = by_series[s][-1]
                if last_c == newest:
                    latest[case] = last_m
        section = _seed_section(index, s, newest, latest)
        if section is not None:
            sections.append(section)
    return sections


def _seed_section(
    index: Index, s: int, commit: int, latest: Mapping[str, Measurement]
) -> _SeedSection | None:
    by_key: dict[tuple[str, str, str], dict[str, tuple[str, Measurement]]] = {}
    parsed: dict[str, names.CaseName] = {}
    for case, m in latest.items():
        name = index.names[case].case
        if name is not None:
            parsed[case] = name
            by_key.setdefault(name.group, {})[name.approach] = (case, m)
    if not by_key:
        return None
    approaches = tuple(sorted({a for row in by_key.values() for a in row}, key=names.approach_rank))
    imported = tuple(a for a in approaches if a != names.EXPORTED)
    unit = next(iter(latest.values())).unit
    scale = fmt.scale_for(unit, (m.value for m in latest.values()))
    rows = []
    for key in sorted(by_key, key=lambda k: names.group_rank(*k)):
        row = by_key[key]
        cells = tuple(
            (cell(row[a][1], scale), index.slugs[row[a][0]]) if a in row else None
            for a in approaches
        )
        ratios = [_ratio_cell(parsed, row, a) for a in imported]
        rows.append(_SeedRow(*key, cells, tuple(ratios)))
    failed = tuple(sorted(f for f in index.failed.get(s, (0, frozenset()))[1] if names.parse(f)))
    return _SeedSection(
        index.series[s],
        index.commits[commit],
        approaches,
        imported,
        scale.label,
        tuple(rows),
        bar_chart(by_key, approaches, scale),
        bar_chart(by_key, approaches, scale, log=True),
        tuple(_breakdown_group(b, scale) for b in breakdowns(latest)),
        failed,
    )


def _breakdown_group(b: Breakdown, scale: fmt.Scale) -> _BreakdownGroup:
    """Return the stacked bars of one breakdown, each as long as its approach's median."""
    crossings = ("2 import crossings", approach_color(INLINE), b.crossings)
    stacks: list[tuple[str, list[tuple[str, str, float]]]] = []
    if b.exported is not None:
        stacks.append(
            (names.EXPORTED, [("exported crossing", approach_color(names.EXPORTED), b.exported)])
        )
    stacks.append((INLINE, [crossings]))
    for approach, handoff in b.handoffs:
        conduit = approach.removeprefix(names.IMPORTED_PREFIX)
        stacks.append(
            (approach, [crossings, (f"{conduit} hand-off", approach_color(approach), handoff)])
        )
    longest = max(sum(max(0.0, v) for _, _, v in parts) for _, parts in stacks) or 1.0
    bars = []
    for approach, parts in stacks:
        segments, x = [], 0.0
        for label, color, value in parts:
            # a hand-off below zero (cheaper than the noise) has no length, only its number
            width = round(STACK_WIDTH * max(0.0, value) / longest, 1)
            segments.append(_Segment(label, color, x, width, fmt.number(value * scale.factor)))
            x = round(x + width, 1)
        total = fmt.number(sum(v for _, _, v in parts) * scale.factor)
        bars.append(_StackedBar(approach, tuple(segments), total))
    return _BreakdownGroup(b.group, tuple(bars))


def _ratio_cell(
    parsed: Mapping[str, names.CaseName],
    row: Mapping[str, tuple[str, Measurement]],
    approach: str,
) -> tuple[str, str]:
    """Return an imported approach's crossing ratio as shown, and its tooltip."""
    if approach not in row or names.EXPORTED not in row:
        return ("—", "")
    case, imported = row[approach]
    x = crossing_between(parsed[case], imported, row[names.EXPORTED][1])
    if x is None:
        return ("—", "")
    title = f"{approach} / exported = {x.value:.4g}"
    if x.low is not None and x.high is not None:
        title += f" (from the 99% intervals: {x.low:.3g}{fmt.DASH}{x.high:.3g})"
    return (fmt.ratio(x.value), title)


def render(context: Context) -> Iterable[Rendered]:
    """Return the overview page."""
    index = context.index
    blocks = _seed_blocks(index)
    cases = list(index.names)
    other = [c for c in cases if not index.names[c].is_wasmcmp]
    yield Rendered(
        "index.html",
        "index.html",
        {
            "blocks": blocks,
            "rows": case_rows(index, other if blocks else cases),
            "other_only": bool(blocks),
            "regressions": context.regression_rows[:TOP_REGRESSIONS],
            "n_regressions": len(context.regression_rows),
            "skipped": len(context.skipped),
            "spark_points": SPARK_POINTS,
            "stack_width": STACK_WIDTH,
        },
    )


PAGE = Page(title="Overview", order=10, path="index.html", render=render)
