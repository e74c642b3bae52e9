"""Versions: each case at the newest commit across wasmtime-py releases and Python versions.

An asv matrix (``asv.versions.conf.json``) measures one commit in several environments; asv
records each environment's Python and installed requirements in its result files. This page
lines those environments up along one axis at a time, the other held fixed: releases at one
Python, Pythons at one release, with each value's ratio to the newest on that axis.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from wasmcmp import format as fmt
from wasmcmp import names
from wasmcmp.publish.charts import Bar, BarChart, Frame, nice_ticks
from wasmcmp.publish.index import SERIES_COLORS, CaseDisplay, Commit, Index
from wasmcmp.publish.pages import Context, Page, Rendered
from wasmcmp.publish.tables import Cell, cell
from wasmcmp.results.model import Measurement

#: what asv records of an environment, by the name the page gives it
_PARAM_KEYS = {"wasmtime": ("requirement:wasmtime", "wasmtime"), "python": ("python",)}


@dataclass(frozen=True)
class Axis:
    """What varies along a comparison and what is held fixed."""

    key: str
    title: str
    held: str


AXES = (
    Axis("wasmtime", "Across wasmtime-py releases", "python"),
    Axis("python", "Across Python versions", "wasmtime"),
)


def label(key: str, value: str) -> str:
    """Return how an environment parameter reads on the page, e.g. ``Python 3.12``."""
    if key == "python":
        return f"Python {value}" if value else "Python unknown"
    return f"wasmtime-py {value}" if value else "wasmtime-py as installed"


def version_key(value: str) -> tuple[int, ...]:
    """Return a version's numbers for sorting (``50.0.1`` after ``9.0.0``)."""
    return tuple(int(n) for n in re.findall(r"\d+", value))


def environment(index: Index, s: int) -> dict[str, str]:
    """Return the wasmtime release and Python a series ran ("" where asv did not record it)."""
    info = index.env_info.get(s, {})
    return {
        key: next((info[k] for k in keys if info.get(k)), "") for key, keys in _PARAM_KEYS.items()
    }


@dataclass(frozen=True)
class Shown:
    """One case in one environment: the cell, its ratio to the newest on the axis, a bar."""

    cell: Cell
    ratio: str
    #: the same ratio as a change from the newest, finer than the ratio's two decimals
    change: str
    ratio_title: str


@dataclass(frozen=True)
class Row:
    """A case with the other axis held at one value: a measurement per value of the axis."""

    name: CaseDisplay
    slug: str
    held: str
    unit: str
    cells: tuple[Shown | None, ...]


@dataclass(frozen=True)
class Figure:
    """A case's grouped bars: one group per held value, one bar per value of the axis."""

    name: CaseDisplay
    slug: str
    chart: BarChart


@dataclass(frozen=True)
class Block:
    """One metric of a section: the table and the bars."""

    metric: str
    rows: tuple[Row, ...]
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class Section:
    """One axis on one machine at its newest commit measured in several environments."""

    axis: Axis
    machine: str
    commit: Commit
    #: the axis' values, oldest first, with their colours
    values: tuple[tuple[str, str], ...]
    held: tuple[str, ...]
    blocks: tuple[Block, ...]


#: one case at one commit: held value -> axis value -> measurement
_Grid = dict[str, dict[str, Measurement]]


def newest_shared(index: Index, machine: str) -> int | None:
    """Return the newest commit that more than one of a machine's series measured."""
    seen: dict[int, set[int]] = {}
    for by_series in index.history.values():
        for s, pts in by_series.items():
            if index.series[s].machine == machine:
                for c, _ in pts:
                    seen.setdefault(c, set()).add(s)
    shared = [c for c, series in seen.items() if len(series) > 1]
    return max(shared) if shared else None


def version_sections(index: Index) -> list[Section]:
    """Return every axis with at least two values at a machine's newest shared commit."""
    sections = []
    for machine in sorted({s.machine for s in index.series}):
        commit = newest_shared(index, machine)
        if commit is None:
            continue
        envs = {
            s: environment(index, s)
            for s, series in enumerate(index.series)
            if series.machine == machine
        }
        for axis in AXES:
            section = _section(index, machine, commit, envs, axis)
            if section is not None:
                sections.append(section)
    return sections


def _section(
    index: Index, machine: str, commit: int, envs: Mapping[int, Mapping[str, str]], axis: Axis
) -> Section | None:
    grids: dict[str, _Grid] = {}
    for case, by_series in index.history.items():
        grid: _Grid = {}
        for s, pts in by_series.items():
            if s not in envs or (axis.key == "wasmtime" and not envs[s][axis.key]):
                continue
            at = [m for c, m in pts if c == commit]
            if at:
                grid.setdefault(envs[s][axis.held], {})[envs[s][axis.key]] = at[0]
        grid = {held: row for held, row in grid.items() if len(row) > 1}
        if grid:
            grids[case] = grid
    if not grids:
        return None
    values = sorted(
        {v for grid in grids.values() for row in grid.values() for v in row}, key=version_key
    )
    colors = {v: SERIES_COLORS[i % len(SERIES_COLORS)] for i, v in enumerate(values)}
    held = sorted({h for grid in grids.values() for h in grid}, key=version_key)
    blocks = []
    for metric in (*names.METRICS, ""):
        chosen = {c: g for c, g in grids.items() if _metric(index, c) == metric}
        if chosen:
            blocks.append(_block(index, axis, metric, chosen, values, colors))
    return Section(
        axis,
        machine,
        index.commits[commit],
        tuple((v, colors[v]) for v in values),
        tuple(label(axis.held, h) for h in held),
        tuple(blocks),
    )


def _metric(index: Index, case: str) -> str:
    name = index.names[case].case
    return name.metric if name is not None else ""


def _block(
    index: Index,
    axis: Axis,
    metric: str,
    grids: Mapping[str, _Grid],
    values: Sequence[str],
    colors: Mapping[str, str],
) -> Block:
    rows = []
    figures = []
    for case, grid in grids.items():
        measured = [m for row in grid.values() for m in row.values()]
        scale = fmt.scale_for(measured[0].unit, (m.value for m in measured))
        for held in sorted(grid, key=version_key):
            row = grid[held]
            newest = row[max(row, key=version_key)]
            cells = tuple(_shown(row[v], newest, scale) if v in row else None for v in values)
            rows.append(
                Row(
                    index.names[case], index.slugs[case], label(axis.held, held), scale.label, cells
                )
            )
        chart = versions_chart(case, axis, grid, values, colors, scale)
        figures.append(Figure(index.names[case], index.slugs[case], chart))
    return Block(metric or "other", tuple(rows), tuple(figures))


def _shown(m: Measurement, newest: Measurement, scale: fmt.Scale) -> Shown:
    if m is newest:
        return Shown(cell(m, scale), "newest", "", "")
    value = m.value / newest.value if newest.value > 0 else None
    return Shown(cell(m, scale), fmt.ratio(value), fmt.change(value), _ratio_title(m, newest))


def _ratio_title(m: Measurement, newest: Measurement) -> str:
    """Return the ratio to the newest with the widest range both 99% intervals allow."""
    if newest.value <= 0:
        return ""
    title = f"{m.value / newest.value:.4g} times the newest"
    bounds = (m.ci_low, m.ci_high, newest.ci_low, newest.ci_high)
    if all(math.isfinite(b) for b in bounds) and newest.ci_low > 0:
        title += (
            f" (from the 99% intervals: {m.ci_low / newest.ci_high:.3g}"
            f"{fmt.DASH}{m.ci_high / newest.ci_low:.3g})"
        )
    return title


def versions_chart(
    case: str,
    axis: Axis,
    grid: Mapping[str, Mapping[str, Measurement]],
    values: Sequence[str],
    colors: Mapping[str, str],
    scale: fmt.Scale,
) -> BarChart:
    """Return the SVG geometry of a case's grouped bars: a group per held value, a bar per
    value of the axis with its 99% interval, each labelled with its ratio to the newest.

    One piece on purpose: every coordinate below shares the plot's margins and y scale.
    """
    held = sorted(grid, key=version_key)
    bar_width = 44
    group_width = bar_width * len(values) + 16
    frame = Frame(78, 24, 12, 44, plot_width=group_width * len(held), plot_height=180)
    peak = max(
        max(m.value, m.ci_high if math.isfinite(m.ci_high) else m.value)
        for row in grid.values()
        for m in row.values()
    )
    ticks = nice_ticks(peak * scale.factor * 1.12, steps=4)
    y_max = ticks[-1] or 1.0

    def y_of(v: float) -> float:
        return frame.y(v / y_max)

    bars = []
    groups = []
    for i, h in enumerate(held):
        row = grid[h]
        x0 = frame.left + i * group_width + 8
        groups.append((round(x0 + (group_width - 16) / 2, 1), label(axis.held, h), ""))
        newest = row[max(row, key=version_key)]
        for j, v in enumerate(values):
            if v not in row:
                continue
            m = row[v]
            shown = _shown(m, newest, scale)
            err = math.isfinite(m.ci_low) and math.isfinite(m.ci_high)
            top_y = y_of(m.value * scale.factor)
            bars.append(
                Bar(
                    x=round(x0 + j * bar_width + 2, 1),
                    y=top_y,
                    width=bar_width - 4,
                    height=frame.height(top_y),
                    color=colors[v],
                    err_top=y_of(m.ci_high * scale.factor) if err else None,
                    err_bottom=y_of(m.ci_low * scale.factor) if err else None,
                    label="" if m is newest else shown.ratio,
                    title=f"{case} · {label(axis.key, v)} · {label(axis.held, h)}: "
                    f"{shown.cell.title}" + (f"; {shown.ratio_title}" if shown.ratio_title else ""),
                )
            )
    return frame.chart(scale.label, bars, [(y_of(t), fmt.number(t)) for t in ticks], groups)


def render(context: Context) -> Iterable[Rendered]:
    """Return the versions page."""
    yield Rendered(
        "versions.html",
        "versions.html",
        {"sections": version_sections(context.index), "label": label},
    )


PAGE = Page(
    title="Versions",
    order=35,
    path="versions.html",
    render=render,
    applies=lambda context: bool(version_sections(context.index)),
)
