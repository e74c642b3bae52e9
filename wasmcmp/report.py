"""Markdown and terminal renderings: the seed-style table of a run, and a Comparison as a
terminal table, a pull request comment, a step summary and JSON.

Case names, machine and env names come from the benchmarked code, which in a pull request
from a fork is untrusted. Every such text reaches Markdown only through ``_md``, which keeps
letters, digits, ``/`` and ``-`` and turns everything else into an HTML character reference,
so no name can open a tag, a table cell, a code span, a link or a mention, and none can
spell the hidden marker that identifies the comment.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wasmcmp.compare import (
    CI_OVERLAP,
    MANN_WHITNEY_U,
    CaseComparison,
    Comparison,
    CrossingRatio,
    Verdict,
)
from wasmcmp.results import Measurement, Run, crossing_ratio, exported_twin

#: First line of every pull request comment; the comment workflow updates the comment in place.
COMMENT_MARKER = "<!-- wasmcmp:compare -->"

#: GitHub refuses comment bodies longer than this many characters.
COMMENT_LIMIT = 65_536

#: Version of the JSON document ``render_json`` writes.
JSON_FORMAT = 1

_NAME_LIMIT = 160

_ICONS = {
    Verdict.REGRESSED: "🔴",
    Verdict.FAILED: "❌",
    Verdict.IMPROVED: "🟢",
    Verdict.UNCHANGED: "⚪",
    Verdict.NEW: "🆕",
    Verdict.MISSING: "⚫",
}

# The order rows appear in: what needs attention first.
_ORDER = (
    Verdict.REGRESSED,
    Verdict.FAILED,
    Verdict.IMPROVED,
    Verdict.NEW,
    Verdict.MISSING,
    Verdict.UNCHANGED,
)


# -- numbers --------------------------------------------------------------------------------------


def _time_scale(seconds: float) -> tuple[float, str]:
    magnitude = abs(seconds)
    for scale, unit in ((1e-9, "ns"), (1e-6, "µs"), (1e-3, "ms")):
        # Decide on the rounded number, so 999.99 ms shows as 1 s rather than 1e+03 ms.
        if float(f"{magnitude / scale:.3g}") < 1000:
            return scale, unit
    return 1.0, "s"


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "∞" if value > 0 else "-∞" if value < 0 else "n/a"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def format_value(m: Measurement) -> str:
    """Return a measurement's median with its unit: ``512 ns``, ``1.23 µs``."""
    if m.unit == "seconds":
        scale, unit = _time_scale(m.value)
        return f"{_number(m.value / scale)} {unit}"
    return f"{_number(m.value)} {m.unit}".rstrip()


def format_interval(m: Measurement) -> str:
    """Return a measurement's 99% interval in the median's unit: ``[505, 520]``, or ``n/a``."""
    if not (math.isfinite(m.ci_low) and math.isfinite(m.ci_high)):
        return "n/a"
    scale = _time_scale(m.value)[0] if m.unit == "seconds" else 1.0
    return f"[{_number(m.ci_low / scale)}, {_number(m.ci_high / scale)}]"


def format_ratio(value: float | None) -> str:
    """Return a head/base ratio as ``1.23x``, ``∞`` or ``—`` when there is none."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return "∞"
    return f"{value:.2f}x"


def format_change(value: float | None) -> str:
    """Return a head/base ratio as a signed percentage: ``+12.3%``, ``-4.0%``, or ``—``."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return "∞"
    return f"{(value - 1) * 100:+.1f}%"


def format_p(case: CaseComparison) -> str:
    """Return the test's result for a case: ``p=0.0003``, ``CI apart``/``CI overlap``, or ``—``."""
    sig = case.significance
    if sig is None:
        return "—"
    if sig.p_value is None:
        return "CI apart" if sig.significant else "CI overlap"
    if sig.p_value < 1e-4:
        return "p<0.0001"
    return f"p={sig.p_value:.4f}"


def _side(m: Measurement | None) -> str:
    if m is None:
        return "—"
    return f"{format_value(m)} {format_interval(m)}"


def _sorted(cases: Iterable[CaseComparison]) -> list[CaseComparison]:
    return sorted(cases, key=lambda c: (_ORDER.index(c.verdict), c.case))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- words ----------------------------------------------------------------------------------------


def headline(comparison: Comparison) -> str:
    """Return the one-line verdict in plain words: ``2 cases regressed (21 unchanged)``."""
    counts = comparison.counts
    lead = {
        Verdict.REGRESSED: f"{_plural(counts[Verdict.REGRESSED], 'case')} regressed",
        Verdict.FAILED: f"{_plural(counts[Verdict.FAILED], 'case')} failed in head",
        Verdict.IMPROVED: f"{_plural(counts[Verdict.IMPROVED], 'case')} improved",
        Verdict.UNCHANGED: "no significant change",
    }[comparison.verdict]
    if comparison.verdict is Verdict.UNCHANGED:
        shown: tuple[Verdict, ...] = (Verdict.UNCHANGED, Verdict.NEW, Verdict.MISSING)
    else:
        shown = tuple(v for v in _ORDER if v is not comparison.verdict)
    rest = [f"{counts[v]} {v.value}" for v in shown if counts[v]]
    return f"{lead} ({', '.join(rest)})" if rest else lead


def method(comparison: Comparison, *, quote: Callable[[str], str] = str) -> str:
    """Return how verdicts are reached: the test, its level and the factors."""
    f = comparison.factors
    rules = "".join(f"; {quote(r.pattern)}: {r.factor:.2f}" for r in f.rules)
    return (
        f"a case regressed or improved when head/base is beyond its factor ({f.default:.2f}"
        f"{rules}) and the difference is significant: two-sided {MANN_WHITNEY_U} test on the "
        f"samples at p < {comparison.level:g}, as asv uses; where the samples are too few for "
        "that test to reach the level, asv's fallback decides: the 99% confidence intervals of "
        "the two medians must not overlap. "
        "A case that fails in head blocks like a regression"
    )


def _commit(run: Run) -> str:
    if run.commit and all(c in "0123456789abcdefABCDEF" for c in run.commit):
        return run.commit[:8]
    return run.commit or run.source.name


# -- terminal -------------------------------------------------------------------------------------


def _plain(text: str, limit: int = _NAME_LIMIT) -> str:
    # Names come from benchmarked code: never let one move the cursor or recolour a terminal.
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _describe(run: Run) -> str:
    return f"{_plain(_commit(run))} on {_plain(run.machine)} ({_plain(run.env)})"


def render_terminal(comparison: Comparison) -> str:
    """Return a plain-text table of every case, most urgent first, with the method."""
    header = ("verdict", "case", "base (99% CI)", "head (99% CI)", "head/base", "change", "test")
    rows = [
        (
            c.verdict.value,
            _plain(c.case),
            _plain(_side(c.base)),
            _plain(_side(c.head)),
            format_ratio(c.ratio),
            format_change(c.ratio),
            format_p(c),
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
            lines.append(
                f"  {_plain(x.imported)}: base {format_ratio(x.base)}, head {format_ratio(x.head)}"
            )
    lines += ["", f"Method: {method(comparison)}."]
    return "\n".join(lines) + "\n"


# -- Markdown -------------------------------------------------------------------------------------


def _md(text: str, limit: int = _NAME_LIMIT) -> str:
    """Return untrusted text as inert Markdown: only [A-Za-z0-9/-] and spaces stay literal."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "".join(
        c if (c.isascii() and c.isalnum()) or c in "/- " else f"&#{ord(c)};" for c in text
    )


def _code(text: str) -> str:
    return f"<code>{_md(text)}</code>"


def _where(run: Run) -> str:
    return f"{_code(_commit(run))} (machine {_code(run.machine)}, env {_code(run.env)})"


def _table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _case_row(c: CaseComparison) -> tuple[str, ...]:
    return (
        f"{_ICONS[c.verdict]} {c.verdict.value}",
        _code(c.case),
        # a unit other than seconds is the benchmark's own word: escaped like a name
        _md(_side(c.base)),
        _md(_side(c.head)),
        format_ratio(c.ratio),
        format_change(c.ratio),
        format_p(c).replace("<", "&lt;"),
    )


_CASE_HEADER = ("verdict", "case", "base (99% CI)", "head (99% CI)", "head/base", "change", "test")


def _crossing_rows(crossings: Iterable[CrossingRatio]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for x in crossings:
        change = x.head / x.base if x.base and x.head is not None else None
        rows.append(
            (
                _code(x.guest),
                _code(x.approach),
                _code(x.function),
                _code(x.tier),
                format_ratio(x.base),
                format_ratio(x.head),
                format_change(change),
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
    icon = _ICONS[c.verdict]
    top = [COMMENT_MARKER] if marker else []
    # The headline is built from counts and fixed words only, so it needs no escaping.
    top.append(f"### {icon} wasmcmp: {headline(c)}")
    top.append("")
    top.append(f"head {_where(c.head)} against base {_where(c.base)}.")
    attention = [x for x in _sorted(c.cases) if x.verdict in (Verdict.REGRESSED, Verdict.FAILED)]
    if attention:
        rows = [_case_row(x) for x in attention[:_TOP_ROWS]]
        top += ["", *_table(_CASE_HEADER, rows), *_more(len(attention), len(rows))]
    if c.crossings:
        rows = _crossing_rows(c.crossings)
        top += [
            "",
            "**Crossing cost**: an imported call (guest calls Python) over the exported call "
            "(Python calls the guest), same guest, function and tier.",
            "",
            *_table(
                ("guest", "approach", "function", "tier", "base", "head", "change"),
                rows[:_TOP_ROWS],
            ),
            *_more(len(rows), min(len(rows), _TOP_ROWS)),
        ]
    counts = ", ".join(f"{n} {v.value}" for v, n in c.counts.items() if n)
    opening = [
        "",
        f"<details><summary>All {_plural(len(c.cases), 'case')} ({counts or 'none'})</summary>",
        "",
    ]
    header = _table(_CASE_HEADER, ())
    closing = [
        "",
        f"Method: {method(c, quote=_code).replace(' < ', ' &lt; ')}.",
        "",
        f"Base: {_code(c.base.source.name)}; head: {_code(c.head.source.name)}.",
        "",
        "</details>",
        "",
    ]
    body_rows = ["| " + " | ".join(_case_row(x)) + " |" for x in _sorted(c.cases)]
    if limit is not None:
        fixed = len("\n".join([*top, *opening, *header, *closing])) + 200
        kept: list[str] = []
        used = fixed
        for row in body_rows:
            if used + len(row) + 1 > limit:
                break
            kept.append(row)
            used += len(row) + 1
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
                "base": _finite(x.base),
                "head": _finite(x.head),
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


# -- a run: the seed-style table -----------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    """How many times an imported case costs its exported twin (both measured in one run)."""

    case: str
    exported: Measurement
    imported: Measurement
    value: float


def ratios(measurements: Mapping[str, Measurement]) -> list[Ratio]:
    """Return the imported/exported ratio of every imported case whose twin was measured."""
    found = []
    for name, imported in measurements.items():
        value = crossing_ratio(measurements, name)
        twin = exported_twin(name)
        if value is not None and twin is not None:
            found.append(Ratio(name, measurements[twin], imported, value))
    return found


def format_ns(seconds: float) -> str:
    """Return seconds per op as ns/op with thousands separators (e.g. ``27,562``)."""
    nanoseconds = seconds * 1e9
    return f"{nanoseconds:,.0f}" if nanoseconds >= 100 else f"{nanoseconds:,.1f}"


def spread_text(measurement: Measurement) -> str:
    """Return the 99% interval's half-width as a percentage of the median."""
    spread = measurement.spread
    return "±inf" if spread == float("inf") else f"±{spread * 50:.1f}%"


def _aligned(header: list[str], rows: Iterable[list[str]], right: set[int]) -> list[str]:
    rows = list(rows)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def run_table(run: Run) -> str:
    """Return the terminal table of a run: each case's ns/op, then the ratios."""
    rows = [
        [m.case, format_ns(m.value), spread_text(m), str(len(m.samples))]
        for m in run.measurements.values()
    ]
    out = _aligned(["case", "ns/op (median)", "99% CI", "samples"], rows, {1, 2, 3})
    found = ratios(run.measurements)
    if found:
        out += ["", "imported / exported (median ns/op ratio)"]
        out += _aligned(
            ["guest", "approach", "function", "tier", "ratio"],
            [[*r.case.split("/"), f"{r.value:.2f}x"] for r in found],
            {4},
        )
    if run.failed:
        out += ["", f"failed: {', '.join(sorted(run.failed))}"]
    return "\n".join(out)


def run_markdown(
    run: Run, title: str = "wasmcmp: the cost of crossing the WebAssembly boundary"
) -> str:
    """Return a Markdown report of a run: the table, the ratios and a mermaid bar chart."""
    lines = [f"## {title}", ""]
    lines += ["| case | ns/op (median) | 99% CI | samples |", "|---|---:|---:|---:|"]
    for m in run.measurements.values():
        lines.append(
            f"| {_code(m.case)} | {format_ns(m.value)} | {spread_text(m)} | {len(m.samples)} |"
        )
    found = ratios(run.measurements)
    if found:
        lines += ["", "| imported case | imported / exported |", "|---|---:|"]
        lines += [f"| {_code(r.case)} | {r.value:.2f}x |" for r in found]
    # mermaid has no escaping: keep labels to characters that cannot end the code fence
    labels = [re.sub(r"[^A-Za-z0-9/._-]", "_", m.case) for m in run.measurements.values()]
    values = [round(m.value * 1e9, 1) for m in run.measurements.values()]
    if labels:
        lines += [
            "",
            "```mermaid",
            "xychart-beta",
            '    title "ns/op per case (lower is better)"',
            f"    x-axis {json.dumps(labels)}",
            '    y-axis "ns/op"',
            f"    bar {json.dumps(values)}",
            "```",
        ]
    machine = run.metadata.get("cpu_model_name") or run.machine
    lines += [
        "",
        f"Measured with pyperf on {_md(machine)}, Python {_md(run.python or 'unknown')}.",
    ]
    return "\n".join(lines) + "\n"


__all__ = [
    "COMMENT_LIMIT",
    "COMMENT_MARKER",
    "JSON_FORMAT",
    "Ratio",
    "comparison_json",
    "format_change",
    "format_interval",
    "format_ns",
    "format_p",
    "format_ratio",
    "format_value",
    "github_outputs",
    "headline",
    "method",
    "ratios",
    "render_comment",
    "render_json",
    "render_summary",
    "render_terminal",
    "run_markdown",
    "run_table",
    "spread_text",
]
