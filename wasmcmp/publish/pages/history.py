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
        if n.case is not None and n.case.group == name.case.group
    ]
    found.sort(key=lambda af: names.approach_rank(af[0]))
    return [Sibling(a, index.slugs[case], case == name.full) for a, case in found]


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
        yield Rendered(
            f"history/{row.slug}.html",
            "history.html",
            {
                "title": case,
                "row": row,
                "siblings": siblings(index, row.name),
                "regressions": [r for r in context.regression_rows if r.name.full == case],
                "data": {"commits": index.commits_json(chart["x"]), "charts": [chart]},
            },
        )


PAGE = Page(title="History", order=20, path="history/index.html", render=render)
