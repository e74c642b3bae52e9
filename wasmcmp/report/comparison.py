"""A Comparison rendered: a terminal table, the pull request comment, the step summary, JSON.

Every name from the results goes through ``wasmcmp.report.markdown`` (``md`` and ``code`` for
Markdown, ``plain`` for a terminal); numbers through ``wasmcmp.format``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from wasmcmp import format as fmt
from wasmcmp import names
from wasmcmp.compare import (
    CORRECTION,
    MANN_WHITNEY_U,
    CaseComparison,
    Comparison,
    CrossingChange,
    Verdict,
)
from wasmcmp.report.markdown import code, md, plain, table
from wasmcmp.results.model import Measurement, Run

#: First line of every pull request comment, so people and scripts can tell it is wasmcmp's.
#: (benchmark-comment.yml finds the comment to update by the sticky-comment action's own
#: header, not by this line.)
COMMENT_MARKER = "<!-- wasmcmp:compare -->"

#: GitHub refuses comment bodies longer than 65,536 characters; the comment workflow checks
#: bytes (a character count can be fooled by invalid UTF-8), so the comment stays under this
#: many bytes, which holds both.
COMMENT_LIMIT = 65_536


# The order rows appear in: what needs attention first.
_ORDER = tuple(sorted(Verdict, key=lambda v: fmt.verdict_rank(v.value)))


def _side(m: Measurement | None) -> str:
    if m is None:
        return "—"
    scale = fmt.scale_for(m.unit, (m.value,))
    interval = fmt.interval(m.ci_low, m.ci_high, scale) or "n/a"
    return f"{fmt.quantity(m.value, m.unit)} [{interval}]"


def _test(case: CaseComparison) -> str:
    sig = case.significance
    return fmt.significance_text(None, None) if sig is None else sig.text


def _sorted(cases: Iterable[CaseComparison]) -> list[CaseComparison]:
    return sorted(cases, key=lambda c: (_ORDER.index(c.verdict), c.case))


# -- words ----------------------------------------------------------------------------------------


def headline(comparison: Comparison) -> str:
    """Return the one-line verdict in plain words: ``2 cases regressed (21 unchanged)``."""
    counts = comparison.counts
    lead = {
        Verdict.REGRESSED: f"{fmt.plural(counts[Verdict.REGRESSED], 'case')} regressed",
        Verdict.FAILED: f"{fmt.plural(counts[Verdict.FAILED], 'case')} failed in head",
        Verdict.IMPROVED: f"{fmt.plural(counts[Verdict.IMPROVED], 'case')} improved",
        Verdict.UNCHANGED: "no significant change",
    }[comparison.verdict]
    if comparison.verdict is Verdict.UNCHANGED:
        shown: tuple[Verdict, ...] = (Verdict.UNCHANGED, Verdict.NEW, Verdict.MISSING)
    else:
        shown = tuple(v for v in _ORDER if v is not comparison.verdict)
    rest = [f"{counts[v]} {v.value}" for v in shown if counts[v]]
    return f"{lead} ({', '.join(rest)})" if rest else lead


def method(comparison: Comparison, *, quote: Callable[[str], str] = str) -> str:
    """Return how verdicts are reached: the tests, their levels and the factors."""
    f = comparison.factors
    rules = "".join(f"; {quote(r.pattern)}: {r.factor:g}" for r in f.rules)
    return (
        f"a case regressed or improved when head/base is beyond its factor (time "
        f"{f.default:g}, instructions {f.instructions:g}{rules}) and the difference is "
        f"significant. Time: two-sided {MANN_WHITNEY_U} test on one mean per pyperf worker "
        f"process (values of one process are not independent), p-values adjusted together "
        f"with {CORRECTION}'s method and compared with p < {comparison.level:g}, so that noise "
        "calls any case of this comparison different with a chance below "
        f"{comparison.level:.0%}; where the units are too few for that, asv's fallback "
        "decides: the 99% confidence intervals of the two medians must not overlap. "
        "Instructions are deterministic up to a small jitter: the threshold alone decides, "
        "and they do not see time spent waiting (the thread conduit's wake-ups). "
        "A case that fails in head blocks like a regression"
    )


def _commit(run: Run) -> str:
    if run.commit and all(c in "0123456789abcdefABCDEF" for c in run.commit):
        return run.commit[:8]
    return run.commit or run.source.name


# -- terminal -------------------------------------------------------------------------------------


def _describe(run: Run) -> str:
    return f"{plain(_commit(run))} on {plain(run.machine)} ({plain(run.env)})"


def render_terminal(comparison: Comparison) -> str:
    """Return a plain-text table of every case, most urgent first, with the method."""
    header = ("verdict", "case", "base (99% CI)", "head (99% CI)", "head/base", "change", "test")
    rows = [
        (
            c.verdict.value,
            plain(c.case),
            plain(_side(c.base)),
            plain(_side(c.head)),
            fmt.ratio(c.ratio),
            fmt.change(c.ratio),
            _test(c),
        )
        for c in _sorted(comparison.cases)
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        f"wasmcmp compare: {headline(comparison)}",
        f"base  {_describe(comparison.base)}",
        f"head  {_describe(comparison.head)}",
        "",
    ]
    for row in [header, *rows]:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if comparison.crossings:
        lines += [
            "",
            "imported/exported: an imported call over the exported one, same guest/function/tier",
        ]
        for x in comparison.crossings:
            base, head = crossing_values(x)
            lines.append(f"  {plain(x.imported)}: base {fmt.ratio(base)}, head {fmt.ratio(head)}")
    lines += ["", f"Method: {method(comparison)}."]
    return "\n".join(lines) + "\n"


# -- Markdown -------------------------------------------------------------------------------------


def _where(run: Run) -> str:
    return f"{code(_commit(run))} (machine {code(run.machine)}, env {code(run.env)})"


def _case_row(c: CaseComparison) -> tuple[str, ...]:
    return (
        f"{fmt.VERDICT_ICONS[c.verdict]} {c.verdict.value}",
        code(c.case),
        # a unit other than seconds is the benchmark's own word: escaped like a name
        md(_side(c.base)),
        md(_side(c.head)),
        fmt.ratio(c.ratio),
        fmt.change(c.ratio),
        _test(c).replace("<", "&lt;"),
    )


_CASE_HEADER = ("verdict", "case", "base (99% CI)", "head (99% CI)", "head/base", "change", "test")

#: with instruction counts, one row per call path shows both metrics side by side
_BOTH_HEADER = (
    "verdict",
    "case",
    "time: base (99% CI)",
    "head (99% CI)",
    "change",
    "test",
    "instructions: base",
    "head",
    "change",
)

_LEGEND = (
    "Time is the median per call with its 99% interval, tested on one mean per worker process; "
    "instructions are counted per call under valgrind, deterministic but blind to waiting "
    "(the thread conduit's wake-ups), and gate on their threshold alone."
)


@dataclass(frozen=True)
class _PathRow:
    """One call path: its time and its instruction count, as compared."""

    case: str
    time: CaseComparison | None
    counted: CaseComparison | None

    @property
    def verdict(self) -> Verdict:
        present = [c.verdict for c in (self.time, self.counted) if c is not None]
        return min(present, key=_ORDER.index)


def _path_rows(cases: Iterable[CaseComparison]) -> list[_PathRow]:
    """Return the cases paired by call path, most urgent first."""
    time: dict[str, CaseComparison] = {}
    counted: dict[str, CaseComparison] = {}
    for c in cases:
        name = names.parse(c.case)
        if name is not None and name.metric == "instructions":
            counted[name.case] = c
        else:
            time[c.case] = c
    rows = [_PathRow(p, time.get(p), counted.get(p)) for p in {*time, *counted}]
    return sorted(rows, key=lambda r: (_ORDER.index(r.verdict), r.case))


def _both_row(row: _PathRow) -> tuple[str, ...]:
    def side(c: CaseComparison | None) -> tuple[str, ...]:
        if c is None:
            return ("—", "—", "—")
        return (md(_side(c.base)), md(_side(c.head)), fmt.change(c.ratio))

    time_base, time_head, time_change = side(row.time)
    test = _test(row.time).replace("<", "&lt;") if row.time else "—"
    counted_base, counted_head, counted_change = side(row.counted)
    return (
        f"{fmt.VERDICT_ICONS[row.verdict]} {row.verdict.value}",
        code(row.case),
        time_base,
        time_head,
        time_change,
        test,
        counted_base,
        counted_head,
        counted_change,
    )


def crossing_values(x: CrossingChange) -> tuple[float | None, float | None]:
    """Return an imported case's crossing ratio on base and on head (None where missing)."""
    return (x.base.value if x.base else None, x.head.value if x.head else None)


def _crossing_rows(crossings: Iterable[CrossingChange]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for x in crossings:
        base, head = crossing_values(x)
        rows.append(
            (
                code(x.case.guest),
                code(x.case.approach),
                code(x.case.function),
                code(x.case.tier),
                fmt.ratio(base),
                fmt.ratio(head),
                fmt.change(x.change),
            )
        )
    return rows


#: rows of a table above the fold; the rest is in the folded details and the job summary,
#: which keeps the comment under GitHub's limit however many cases a change touches
_TOP_ROWS = 40


def _more(total: int, shown: int) -> list[str]:
    return [] if total <= shown else ["", f"…and {total - shown} more: see all cases below."]


def _markdown(comparison: Comparison, *, marker: bool, limit: int | None) -> str:
    c = comparison
    icon = fmt.VERDICT_ICONS[c.verdict]
    top = [COMMENT_MARKER] if marker else []
    # The headline is built from counts and fixed words only, so it needs no escaping.
    top.append(f"### {icon} wasmcmp: {headline(c)}")
    top.append("")
    top.append(f"head {_where(c.head)} against base {_where(c.base)}.")
    both = any(x.head is not None and x.head.unit == "instructions" for x in c.cases)
    header_cells = _BOTH_HEADER if both else _CASE_HEADER
    rows_of: list[tuple[str, ...]] = (
        [_both_row(r) for r in _path_rows(c.cases)]
        if both
        else [_case_row(x) for x in _sorted(c.cases)]
    )
    urgent = (f"{fmt.VERDICT_ICONS[v]} {v.value}" for v in (Verdict.REGRESSED, Verdict.FAILED))
    attention = [r for r in rows_of if r[0] in set(urgent)]
    if attention:
        shown = attention[:_TOP_ROWS]
        top += ["", *table(header_cells, shown), *_more(len(attention), len(shown))]
        if both:
            top += ["", _LEGEND]
    top += _crossing_table(c.crossings)
    counts = ", ".join(f"{n} {v.value}" for v, n in c.counts.items() if n)
    opening = [
        "",
        f"<details><summary>All {fmt.plural(len(c.cases), 'case')} ({counts or 'none'})</summary>",
        "",
    ]
    header = table(header_cells, ())
    closing = [
        "",
        *([_LEGEND, ""] if both else []),
        f"Method: {method(c, quote=code).replace(' < ', ' &lt; ')}.",
        "",
        f"Base: {code(c.base.source.name)}; head: {code(c.head.source.name)}.",
        "",
        "</details>",
        "",
    ]
    body_rows = ["| " + " | ".join(row) + " |" for row in rows_of]
    if limit is not None:
        fixed = len("\n".join([*top, *opening, *header, *closing]).encode()) + 200
        body_rows = _within(body_rows, limit - fixed, len(header_cells))
    return "\n".join([*top, *opening, *header, *body_rows, *closing])


def _crossing_table(crossings: Sequence[CrossingChange]) -> list[str]:
    if not crossings:
        return []
    rows = _crossing_rows(crossings)
    return [
        "",
        "**Crossing cost**: an imported call (guest calls Python) over the exported call "
        "(Python calls the guest), same guest, function and tier.",
        "",
        *table(
            ("guest", "approach", "function", "tier", "base", "head", "change"),
            rows[:_TOP_ROWS],
        ),
        *_more(len(rows), min(len(rows), _TOP_ROWS)),
    ]


def _within(rows: list[str], budget: int, columns: int) -> list[str]:
    """Return the rows that fit in ``budget`` bytes, and a last row saying how many did not."""
    kept: list[str] = []
    used = 0
    for row in rows:
        size = len(row.encode()) + 1
        if used + size > budget:
            break
        kept.append(row)
        used += size
    left = len(rows) - len(kept)
    if left:
        blank = " |" * (columns - 2)
        kept.append(f"| … | {left} more cases: see the job summary |{blank}")
    return kept


def render_comment(comparison: Comparison) -> str:
    """Return the pull request comment: hidden marker, one-line verdict, ratios, folded details."""
    return _markdown(comparison, marker=True, limit=COMMENT_LIMIT)


def render_summary(comparison: Comparison) -> str:
    """Return the same Markdown for ``$GITHUB_STEP_SUMMARY``, without marker or length limit."""
    return _markdown(comparison, marker=False, limit=None)


__all__ = [
    "COMMENT_LIMIT",
    "COMMENT_MARKER",
    "headline",
    "method",
    "render_comment",
    "render_summary",
    "render_terminal",
]
