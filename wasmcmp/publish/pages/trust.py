"""Trust: how often the verdicts cry wolf and how small a slowdown they catch, computed here
from the raw comparisons of a detection study (``wasmcmp site --study FILE``)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from wasmcmp import format as fmt
from wasmcmp import names
from wasmcmp.publish.charts import APPROACH_COLORS, Bar, BarChart, Frame, approach_color
from wasmcmp.publish.pages import Context, Page, Rendered
from wasmcmp.results.study import AA, AB, DetectionStudy, StudyComparison

#: z of a two-sided 95% interval, for the Wilson interval of a rate
Z95 = 1.959964
#: what a cell shows when there is nothing to show
NONE = "\u2014"


@dataclass(frozen=True)
class Rate:
    """k of n, shown as counts and as a share."""

    k: int
    n: int

    @property
    def share(self) -> float | None:
        """Return k / n, or None when nothing was counted."""
        return self.k / self.n if self.n else None

    @property
    def counts(self) -> str:
        """Return "k of n"."""
        return f"{self.k} of {self.n}"

    @property
    def percent(self) -> str:
        """Return the share in percent (one decimal below 10%), or a dash."""
        return _percent(self.share)

    @property
    def interval(self) -> tuple[float, float] | None:
        """Return the share's 95% Wilson interval, or None when nothing was counted."""
        if not self.n:
            return None
        p, n, z2 = self.k / self.n, self.n, Z95 * Z95
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        return (max(0.0, centre - half), min(1.0, centre + half))

    @property
    def interval_text(self) -> str:
        """Return the 95% interval as "12-34%" (en dash), or an empty string."""
        if self.interval is None:
            return ""
        low, high = self.interval
        return f"{low * 100:.0f}{fmt.DASH}{high * 100:.0f}%"


def _percent(share: float | None) -> str:
    if share is None:
        return NONE
    return f"{share:.1%}" if 0 < share < 0.1 else f"{share:.0%}"


def _count(comparisons: Iterable[StudyComparison], hit: Callable[[StudyComparison], bool]) -> Rate:
    chosen = list(comparisons)
    return Rate(sum(1 for c in chosen if hit(c)), len(chosen))


@dataclass(frozen=True)
class AlarmRow:
    """False alarms of one metric under one load: per case, per pull request, and the
    per-pull-request estimate for the whole case set."""

    metric: str
    load: str
    cases: Rate
    pulls: Rate
    estimate: str


@dataclass(frozen=True)
class CaseAlarmRow:
    """False alarms of one case of one metric, without and with a neighbour's load."""

    metric: str
    case: str
    quiet: Rate
    loaded: Rate


@dataclass(frozen=True)
class DetectionRow:
    """One cell of the A/B comparisons: metric, path and injected slowdown."""

    metric: str
    path: str
    target: float
    caught: Rate
    #: how often the test called the change significant (wall time; None for counts)
    significant: Rate | None
    achieved: str
    achieved_range: str

    @property
    def target_text(self) -> str:
        """Return the injected slowdown as "+5%"."""
        return f"+{self.target * 100:.3g}%"


_LOADS = ((False, "no load"), (True, "neighbour's load"))


def alarm_rows(study: DetectionStudy) -> list[AlarmRow]:
    """Return the false-alarm rates of every metric: without load, with it, and both."""
    full = study.method.full_cases
    rows = []
    for metric in _metrics(study, AA):
        same = [c for c in study.comparisons if c.kind == AA and c.metric == metric]
        for label, chosen in (
            *((label, [c for c in same if c.load is load]) for load, label in _LOADS),
            ("all", same),
        ):
            if not chosen:
                continue
            cases = Rate(sum(c.false_alarms for c in chosen), sum(len(c.cases) for c in chosen))
            pulls = _count(chosen, lambda c: c.false_alarms > 0)
            p = cases.share
            estimate = _percent(None if p is None else 1 - (1 - p) ** full)
            rows.append(AlarmRow(metric, label, cases, pulls, estimate))
    return rows


def case_alarm_rows(study: DetectionStudy) -> list[CaseAlarmRow]:
    """Return each case's false alarms per metric, without and with load."""
    counts: dict[tuple[str, str], dict[bool, list[int]]] = {}
    for c in study.comparisons:
        if c.kind != AA:
            continue
        for outcome in c.cases:
            cell = counts.setdefault((c.metric, outcome.case), {False: [0, 0], True: [0, 0]})
            cell[c.load][0] += outcome.regressed
            cell[c.load][1] += 1
    return [
        CaseAlarmRow(metric, case, Rate(*cell[False]), Rate(*cell[True]))
        for (metric, case), cell in sorted(counts.items(), key=lambda kv: _case_key(*kv[0]))
    ]


def detection_rows(study: DetectionStudy) -> list[DetectionRow]:
    """Return the share caught per metric, path and injected slowdown."""
    cells: dict[tuple[str, str, float], list[StudyComparison]] = {}
    for c in study.comparisons:
        if c.kind == AB and c.path is not None:
            cells.setdefault((c.metric, c.path, c.target), []).append(c)
    rows = []
    for (metric, path, target), chosen in sorted(cells.items(), key=lambda kv: _cell_key(*kv[0])):
        tested = [c for c in chosen if c.significant is not None]
        counted = metric != names.TIME
        changes = sorted(c.achieved - 1 for c in chosen if c.achieved is not None)
        rows.append(
            DetectionRow(
                metric=metric,
                path=path,
                target=target,
                caught=_count(chosen, lambda c: c.caught),
                significant=None if counted else _count(tested, lambda c: bool(c.significant)),
                achieved=fmt.change(1 + statistics.median(changes)) if changes else NONE,
                achieved_range=(
                    f"{fmt.change(1 + changes[0])} to {fmt.change(1 + changes[-1])}"
                    if len(changes) > 1
                    else ""
                ),
            )
        )
    return rows


def _metrics(study: DetectionStudy, kind: str) -> list[str]:
    found = {c.metric for c in study.comparisons if c.kind == kind}
    return sorted(found, key=_metric_rank)


def _metric_rank(metric: str) -> tuple[int, str]:
    rank = names.METRICS.index(metric) if metric in names.METRICS else len(names.METRICS)
    return (rank, metric)


def _path_rank(path: str) -> tuple[int, str]:
    for rank, approach in enumerate(names.APPROACHES):
        if path.startswith(approach):
            return (rank, path)
    return (len(names.APPROACHES), path)


def _cell_key(
    metric: str, path: str, target: float
) -> tuple[tuple[int, str], float, tuple[int, str]]:
    return (_metric_rank(metric), target, _path_rank(path))


def _case_key(metric: str, case: str) -> tuple[tuple[int, str], tuple[int, str]]:
    parsed = names.parse(case)
    return (_metric_rank(metric), (_path_rank(parsed.approach)[0], case) if parsed else (9, case))


def path_color(path: str) -> str:
    """Return the colour of the approach a path belongs to."""
    for approach, color in APPROACH_COLORS.items():
        if path.startswith(approach):
            return color
    return approach_color(path)


# -- the chart: detection rate against injected slowdown --------------------------------------


def rate_chart(rows: Sequence[DetectionRow]) -> BarChart | None:
    """Return the SVG geometry of the detection rates: one group per metric and injected
    slowdown, one bar per path, with the rate's 95% Wilson interval and its counts."""
    if not rows:
        return None
    groups_at: dict[tuple[str, float], list[DetectionRow]] = {}
    for row in rows:
        groups_at.setdefault((row.metric, row.target), []).append(row)
    paths = sorted({row.path for row in rows}, key=_path_rank)
    group_width = max(96, min(180, 1000 // len(groups_at)))
    frame = Frame(56, 36, 16, 58, plot_width=group_width * len(groups_at), plot_height=240)
    bar_width = (group_width - 20) / len(paths)
    y_of = frame.y

    bars, groups = [], []
    for i, ((metric, _), members) in enumerate(groups_at.items()):
        x0 = frame.left + i * group_width + 10
        groups.append((round(x0 + (group_width - 20) / 2, 1), members[0].target_text, metric))
        for row in members:
            j = paths.index(row.path)
            share = row.caught.share or 0.0
            interval = row.caught.interval
            bars.append(
                Bar(
                    x=round(x0 + j * bar_width + 1, 1),
                    y=y_of(share),
                    width=round(bar_width - 2, 1),
                    height=frame.height(y_of(share)),
                    color=path_color(row.path),
                    err_top=y_of(interval[1]) if interval else None,
                    err_bottom=y_of(interval[0]) if interval else None,
                    label=f"{row.caught.k}/{row.caught.n}",
                    title=f"{metric}, {row.path}, {row.target_text}: caught "
                    f"{row.caught.counts} ({row.caught.percent}; 95% interval "
                    f"{row.caught.interval_text}); measured {row.achieved}",
                )
            )
    return frame.chart(
        "caught",
        bars,
        [(y_of(t / 4), f"{t * 25}%") for t in range(5)],
        groups,
        [(path, path_color(path)) for path in paths],
    )


def render(context: Context) -> Iterable[Rendered]:
    """Return the trust page."""
    study = context.study
    assert study is not None  # the page applies only with a study
    detections = detection_rows(study)
    yield Rendered(
        "trust.html",
        "trust.html",
        {
            "study": study,
            "source": study.source.name,
            "alarms": alarm_rows(study),
            "case_alarms": case_alarm_rows(study),
            "detections": detections,
            "chart": rate_chart(detections),
            "calibrations": [
                (
                    c.metric,
                    c.path,
                    c.case,
                    fmt.quantity(c.per_call, c.unit),
                    fmt.quantity(c.unit_cost, c.unit),
                )
                for c in study.calibrations
            ],
            "n_aa": sum(1 for c in study.comparisons if c.kind == AA),
            "n_ab": sum(1 for c in study.comparisons if c.kind == AB),
            "hours": sum(c.seconds for c in study.comparisons) / 3600,
            "family_percent": f"{study.method.family_level * 100:g}%",
        },
    )


PAGE = Page(
    title="Trust",
    order=45,
    path="trust.html",
    render=render,
    applies=lambda context: context.study is not None,
)
