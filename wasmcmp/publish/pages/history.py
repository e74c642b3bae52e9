"""History: the index of every case, and one page per case with its chart across commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wasmcmp import names
from wasmcmp.publish.charts import history_chart
from wasmcmp.publish.index import CaseDisplay, Index
from wasmcmp.publish.pages import Context, Page, Rendered
from wasmcmp.publish.tables import SPARK_POINTS, case_rows


@dataclass(frozen=True)
class Sibling:
    """Another approach to the same guest, function and tier: a tab on the case's page."""

    label: str
    slug: str
    current: bool


def siblings(index: Index, name: CaseDisplay) -> list[Sibling]:
    """Return every approach measured for a case's guest, function and tier."""
    if name.case is None:
        return []
    found = [
        (n.approach, n.full)
        for n in index.names.values()
        if n.case is not None
        and n.case.group == name.case.group
        and n.case.metric == name.case.metric
    ]
    found.sort(key=lambda af: names.approach_rank(af[0]))
    return [Sibling(a, index.slugs[case], case == name.full) for a, case in found]


def _instructions_of(index: Index, name: CaseDisplay) -> str | None:
    """Return the instruction count of a time case, when it was measured too."""
    if name.case is None or name.case.metric != names.TIME:
        return None
    counted = str(name.case.measured_by("instructions"))
    return counted if counted in index.history else None


def render(context: Context) -> Iterable[Rendered]:
    """Return the history index and one page per case."""
    index = context.index
    rows = case_rows(index, list(index.names))
    yield Rendered(
        "history/index.html",
        "history_index.html",
        {"rows": rows, "spark_points": SPARK_POINTS},
    )
    steps_at: dict[str, set[int]] = {}
    for r in context.regressions:
        steps_at.setdefault(r.case, set()).add(r.after)
    for row in rows:
        case = row.name.full
        chart = history_chart(index, case)
        # where a lasting step up starts: drawn as a marker on the chart
        chart["marks"] = sorted(steps_at.get(case, ()))
        charts = [chart]
        counted = _instructions_of(index, row.name)
        if counted is not None:
            # instructions beside time: the deterministic count the gate also looks at
            extra = history_chart(index, counted)
            extra["marks"] = sorted(steps_at.get(counted, ()))
            charts.append(extra)
        yield Rendered(
            f"history/{row.slug}.html",
            "history.html",
            {
                "title": case,
                "row": row,
                "siblings": siblings(index, row.name),
                "regressions": [r for r in context.regression_rows if r.name.full == case],
                "data": {
                    "commits": index.commits_json(c for chart in charts for c in chart["x"]),
                    "charts": charts,
                },
                "counted": index.slugs.get(counted) if counted else None,
            },
        )


PAGE = Page(title="History", order=20, path="history/index.html", render=render)
