"""Chart data: uPlot series as JSON for the history and ratio charts, SVG geometry for bars.

Values arrive in their base unit and leave in a display ``Scale``, rounded to what an
interval supports, so the pages' JSON stays small.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wasmcmp import format as fmt
from wasmcmp import names
from wasmcmp.publish.index import SERIES_COLORS, Index
from wasmcmp.publish.tables import cell
from wasmcmp.results.model import Measurement

#: one colour per approach, the same on every chart
APPROACH_COLORS = {
    "exported": "#0072b2",
    "imported-inline": "#cc79a7",
    "imported-thread": "#d55e00",
    "imported-greenlet": "#009e73",
}

#: one line of a chart: name, colour, and (commit index, value, interval low, high) points
Line = tuple[str, str, Sequence[tuple[int, float, float | None, float | None]]]


def finite(value: float) -> float | None:
    """Return the value, or None (JSON null) when it is not finite."""
    return value if math.isfinite(value) else None


def chart_data(
    title: str,
    unit: fmt.Scale,
    lines: Sequence[Line],
) -> dict[str, Any]:
    """Return one chart's JSON: commit indices and, per line, value and interval (or null)."""
    used = sorted({p[0] for _, _, pts in lines for p in pts})
    position = {c: i for i, c in enumerate(used)}
    factor = unit.factor
    magnitudes = sorted(
        abs(p[1] * factor) for _, _, pts in lines for p in pts if math.isfinite(p[1])
    )
    typical = magnitudes[len(magnitudes) // 2] if magnitudes else 0.0
    # five significant digits of a typical value are more than any interval supports
    digits = max(0, 4 - math.floor(math.log10(typical))) if typical > 0 else 6
    series = []
    for name, color, pts in lines:
        y: list[float | None] = [None] * len(used)
        lo: list[float | None] = [None] * len(used)
        hi: list[float | None] = [None] * len(used)
        for c, v, a, b in pts:
            i = position[c]
            y[i] = round(v * factor, digits) if math.isfinite(v) else None
            lo[i] = round(a * factor, digits) if a is not None else None
            hi[i] = round(b * factor, digits) if b is not None else None
        series.append({"name": name, "color": color, "y": y, "lo": lo, "hi": hi})
    return {"title": title, "unit": unit.label, "x": used, "series": series}


def history_chart(index: Index, case: str) -> dict[str, Any]:
    by_series = index.history[case]
    scale = index.scales[case]
    lines = [
        (
            index.series[s].name,
            index.series[s].color,
            [(c, m.value, finite(m.ci_low), finite(m.ci_high)) for c, m in pts],
        )
        for s, pts in by_series.items()
    ]
    return chart_data(case, scale, lines)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    err_top: float | None
    err_bottom: float | None
    label: str
    title: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    unit: str
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, str], ...]
    groups: tuple[tuple[float, str, str], ...]
    legend: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Frame:
    """A bar chart's margins and plot area (pixels), and where a value lands on its y axis."""

    left: int
    top: int
    right: int
    bottom: int
    plot_width: int
    plot_height: int

    def y(self, share: float) -> float:
        """Return the y of a share of the axis (0 at the bottom, 1 at the top), clamped."""
        return round(self.top + self.plot_height * (1 - max(0.0, min(share, 1.0))), 1)

    def height(self, y: float) -> float:
        """Return the height of a bar standing on the axis up to ``y``."""
        return round(self.top + self.plot_height - y, 1)

    def chart(
        self,
        unit: str,
        bars: Sequence[Bar],
        ticks: Sequence[tuple[float, str]],
        groups: Sequence[tuple[float, str, str]],
        legend: Sequence[tuple[str, str]] = (),
    ) -> BarChart:
        """Return the chart of these bars, ticks, groups and legend in this frame."""
        return BarChart(
            width=self.left + self.plot_width + self.right,
            height=self.top + self.plot_height + self.bottom,
            left=self.left,
            top=self.top,
            plot_width=self.plot_width,
            plot_height=self.plot_height,
            unit=unit,
            bars=tuple(bars),
            ticks=tuple(ticks),
            groups=tuple(groups),
            legend=tuple(legend),
        )


def nice_ticks(top: float, steps: int = 5) -> list[float]:
    """Return round tick values from 0 to at least ``top``, about ``steps`` steps apart."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / steps
    power = 10 ** math.floor(math.log10(raw))
    step = next(k * power for k in (1, 2, 2.5, 5, 10) if k * power >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _decade_ticks(low: float, high: float) -> list[float]:
    """Return the powers of ten spanning [low, high] (both > 0), at least two."""
    first = math.floor(math.log10(low))
    last = max(first + 1, math.ceil(math.log10(high)))
    return [10.0**e for e in range(first, last + 1)]


def bar_chart(
    by_key: Mapping[tuple[str, str, str], Mapping[str, tuple[str, Measurement]]],
    approaches: Sequence[str],
    scale: fmt.Scale,
    log: bool = False,
) -> BarChart:
    """Return the SVG geometry of grouped bars: one group per guest/function/tier, one bar per
    approach, with 99% intervals as error bars and the crossing ratio over each imported bar;
    on a log axis (powers of ten) with ``log``, where a bar 100x shorter stays visible.

    One piece on purpose: every coordinate below shares the plot's margins and y scale.
    """
    keys = sorted(by_key, key=lambda k: names.group_rank(*k))
    group_width = max(72, min(150, 1100 // max(1, len(keys))))
    frame = Frame(64, 36, 16, 58, plot_width=group_width * len(keys), plot_height=260)
    peak = 0.0
    floor = math.inf
    for row in by_key.values():
        for _, m in row.values():
            high = m.ci_high if math.isfinite(m.ci_high) else m.value
            peak = max(peak, m.value, high)
            low = m.ci_low if math.isfinite(m.ci_low) and m.ci_low > 0 else m.value
            floor = min([floor, *(v for v in (m.value, low) if v > 0)])
    log = log and peak > 0 and math.isfinite(floor)
    if log:
        ticks = _decade_ticks(floor * scale.factor, peak * scale.factor)
        y_min, y_max = math.log10(ticks[0]), math.log10(ticks[-1])
    else:
        ticks = nice_ticks(peak * scale.factor * 1.08)
        y_min, y_max = 0.0, ticks[-1] or 1.0

    def y_of(v: float) -> float:
        if log:
            v = math.log10(v) if v > 0 else y_min
        return frame.y((v - y_min) / (y_max - y_min))

    bar_width = (group_width - 16) / max(1, len(approaches))
    bars = []
    groups = []
    for i, key in enumerate(keys):
        x0 = frame.left + i * group_width + 8
        groups.append((round(x0 + (group_width - 16) / 2, 1), f"{key[0]} · {key[1]}", key[2]))
        row = by_key[key]
        exported = row.get(names.EXPORTED)
        for j, a in enumerate(approaches):
            if a not in row:
                continue
            case, m = row[a]
            v = m.value * scale.factor
            err = math.isfinite(m.ci_low) and math.isfinite(m.ci_high)
            label = ""
            if a != names.EXPORTED and exported is not None and exported[1].value > 0:
                label = fmt.ratio(m.value / exported[1].value)
            shown = cell(m, scale)
            bars.append(
                Bar(
                    x=round(x0 + j * bar_width + 1, 1),
                    y=y_of(v),
                    width=round(bar_width - 2, 1),
                    height=frame.height(y_of(v)),
                    color=approach_color(a),
                    err_top=y_of(m.ci_high * scale.factor) if err else None,
                    err_bottom=y_of(m.ci_low * scale.factor) if err else None,
                    label=label,
                    title=f"{case}: {shown.title}",
                )
            )
    return frame.chart(
        scale.label,
        bars,
        [(y_of(t), fmt.number(t)) for t in ticks],
        groups,
        [(a, approach_color(a)) for a in approaches],
    )


def approach_color(approach: str) -> str:
    if approach in APPROACH_COLORS:
        return APPROACH_COLORS[approach]
    return SERIES_COLORS[4 + sum(map(ord, approach)) % 6]


__all__ = [
    "APPROACH_COLORS",
    "Bar",
    "BarChart",
    "Line",
    "approach_color",
    "bar_chart",
    "chart_data",
    "finite",
    "history_chart",
]
