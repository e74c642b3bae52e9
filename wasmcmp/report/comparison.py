"""A Comparison rendered: a terminal table, the pull request comment, the step summary, JSON.

Every name from the results goes through ``wasmcmp.report.markdown`` (``md`` and ``code`` for
Markdown, ``plain`` for a terminal); numbers through ``wasmcmp.format``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from typing import Any

from wasmcmp import format as fmt
from wasmcmp.compare import (
    CI_OVERLAP,
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

#: Version of the JSON document ``render_json`` writes.
JSON_FORMAT = 1

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
    if sig is None:
        return fmt.significance_text(None, None)
    return fmt.significance_text(sig.p_value, sig.significant)


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
    rules = "".join(f"; {quote(r.pattern)}: {r.factor:.2f}" for r in f.rules)
    return (
        f"a case regressed or improved when head/base is beyond its factor (time "
        f"{f.default:.2f}, instructions {f.instructions:.2f}{rules}) and the difference is "
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
            base, head = _crossing_values(x)
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


def _crossing_values(x: CrossingChange) -> tuple[float | None, float | None]:
    return (x.base.value if x.base else None, x.head.value if x.head else None)


def _crossing_rows(crossings: Iterable[CrossingChange]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for x in crossings:
        base, head = _crossing_values(x)
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
    attention = [x for x in _sorted(c.cases) if x.verdict in (Verdict.REGRESSED, Verdict.FAILED)]
    if attention:
        rows = [_case_row(x) for x in attention[:_TOP_ROWS]]
        top += ["", *table(_CASE_HEADER, rows), *_more(len(attention), len(rows))]
    if c.crossings:
        rows = _crossing_rows(c.crossings)
        top += [
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
    counts = ", ".join(f"{n} {v.value}" for v, n in c.counts.items() if n)
    opening = [
        "",
        f"<details><summary>All {fmt.plural(len(c.cases), 'case')} ({counts or 'none'})</summary>",
        "",
    ]
    header = table(_CASE_HEADER, ())
    closing = [
        "",
        f"Method: {method(c, quote=code).replace(' < ', ' &lt; ')}.",
        "",
        f"Base: {code(c.base.source.name)}; head: {code(c.head.source.name)}.",
        "",
        "</details>",
        "",
    ]
    body_rows = ["| " + " | ".join(_case_row(x)) + " |" for x in _sorted(c.cases)]
    if limit is not None:
        fixed = len("\n".join([*top, *opening, *header, *closing]).encode()) + 200
        kept: list[str] = []
        used = fixed
        for row in body_rows:
            size = len(row.encode()) + 1
            if used + size > limit:
                break
            kept.append(row)
            used += size
        left = len(body_rows) - len(kept)
        if left:
            kept.append(f"| … | {left} more cases: see the job summary | | | | | |")
        body_rows = kept
    return "\n".join([*top, *opening, *header, *body_rows, *closing])


def render_comment(comparison: Comparison) -> str:
    """Return the pull request comment: hidden marker, one-line verdict, ratios, folded details."""
    return _markdown(comparison, marker=True, limit=COMMENT_LIMIT)


def render_summary(comparison: Comparison) -> str:
    """Return the same Markdown for ``$GITHUB_STEP_SUMMARY``, without marker or length limit."""
    return _markdown(comparison, marker=False, limit=None)


# -- JSON and workflow outputs --------------------------------------------------------------------


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _measurement_json(m: Measurement | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "value": _finite(m.value),
        "ci_low": _finite(m.ci_low),
        "ci_high": _finite(m.ci_high),
        "unit": m.unit,
        "samples": len(m.samples),
    }


def _run_json(run: Run) -> dict[str, Any]:
    return {
        "source": str(run.source),
        "commit": run.commit,
        "machine": run.machine,
        "env": run.env,
        "python": run.python,
        "date": run.date.isoformat() if run.date else None,
    }


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    """Return the comparison as plain JSON-ready data (non-finite numbers become null)."""
    c = comparison
    return {
        "format": JSON_FORMAT,
        "verdict": c.verdict.value,
        "headline": headline(c),
        "counts": {v.value: n for v, n in c.counts.items()},
        "blocking": len(c.blocking),
        "test": {
            "name": MANN_WHITNEY_U,
            "alternative": "two-sided",
            "level": c.level,
            "unit": "one mean per pyperf worker process (asv: one sample per process)",
            "correction": CORRECTION,
            "fallback": CI_OVERLAP,
        },
        "factors": {
            "default": c.factors.default,
            "rules": [{"pattern": r.pattern, "factor": r.factor} for r in c.factors.rules],
        },
        "base": _run_json(c.base),
        "head": _run_json(c.head),
        "cases": [
            {
                "case": x.case,
                "verdict": x.verdict.value,
                "ratio": _finite(x.ratio),
                "factor": x.factor,
                "test": x.significance.test if x.significance else None,
                "p_value": x.significance.p_value if x.significance else None,
                "significant": x.significance.significant if x.significance else None,
                "base": _measurement_json(x.base),
                "head": _measurement_json(x.head),
            }
            for x in c.cases
        ],
        "crossings": [
            {
                "imported": x.imported,
                "exported": x.exported,
                "base": _finite(_crossing_values(x)[0]),
                "head": _finite(_crossing_values(x)[1]),
            }
            for x in c.crossings
        ],
    }


def render_json(comparison: Comparison) -> str:
    """Return the comparison as an indented JSON document."""
    document = comparison_json(comparison)
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def github_outputs(comparison: Comparison) -> dict[str, str]:
    """Return the step outputs for ``$GITHUB_OUTPUT``: verdict and counts, one line each."""
    c = comparison
    return {
        "verdict": c.verdict.value,
        "regressions": str(c.regressions),
        "failed": str(c.count(Verdict.FAILED)),
        "improved": str(c.count(Verdict.IMPROVED)),
        "blocking": str(len(c.blocking)),
    }


__all__ = [
    "COMMENT_LIMIT",
    "COMMENT_MARKER",
    "JSON_FORMAT",
    "comparison_json",
    "github_outputs",
    "headline",
    "method",
    "render_comment",
    "render_json",
    "render_summary",
    "render_terminal",
]
