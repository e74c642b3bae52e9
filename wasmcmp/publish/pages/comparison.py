"""Comparison: base against head, the table the pull request comment shows (when asked)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wasmcmp import format as fmt
from wasmcmp.compare import CaseComparison, Comparison
from wasmcmp.publish.index import CaseDisplay, Index, display
from wasmcmp.publish.pages import Context, Page, Rendered
from wasmcmp.publish.tables import Cell, cell
from wasmcmp.results.model import Run


@dataclass(frozen=True)
class CompareRow:
    """One case of the comparison as the page shows it."""

    name: CaseDisplay
    slug: str | None
    verdict: str
    base: Cell | None
    head: Cell | None
    unit: str
    ratio: str
    change: str
    test: str


def compare_row(index: Index, c: CaseComparison) -> CompareRow:
    """Return one case of a comparison as a row, in a unit both sides share."""
    present = [m for m in (c.base, c.head) if m is not None]
    scale = fmt.scale_for(present[0].unit if present else "seconds", (m.value for m in present))
    sig = c.significance
    name = index.names.get(c.case) or (
        display(c.case, present[0]) if present else CaseDisplay(c.case, "", c.case)
    )
    return CompareRow(
        name,
        index.slugs.get(c.case),
        c.verdict.value,
        cell(c.base, scale) if c.base is not None else None,
        cell(c.head, scale) if c.head is not None else None,
        scale.label,
        fmt.ratio(c.ratio),
        fmt.change(c.ratio),
        sig.text if sig else fmt.significance_text(None, None),
    )


def _label(run: Run) -> str:
    commit = run.commit[:8] if run.commit else run.source.name
    return f"{commit} on {run.machine} · {run.env}"


def _rows(index: Index, comparison: Comparison) -> list[CompareRow]:
    rows = [compare_row(index, c) for c in comparison.cases]
    rows.sort(key=lambda r: (fmt.verdict_rank(r.verdict), r.name.full))
    return rows


def render(context: Context) -> Iterable[Rendered]:
    """Return the comparison page."""
    comparison = context.comparison
    if comparison is None:
        return
    rows = _rows(context.index, comparison)
    counts = [(v, sum(1 for r in rows if r.verdict == v)) for v in fmt.VERDICT_ORDER]
    yield Rendered(
        "compare.html",
        "compare.html",
        {
            "base": _label(comparison.base),
            "head": _label(comparison.head),
            "rows": rows,
            "counts": [(v, n) for v, n in counts if n],
            "level": comparison.level,
        },
    )


PAGE = Page(
    title="Comparison",
    order=50,
    path="compare.html",
    render=render,
    applies=lambda context: context.comparison is not None,
)
