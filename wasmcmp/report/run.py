"""One run as the seed showed it: ns/op per case, then the imported/exported ratios."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from wasmcmp import format as fmt
from wasmcmp import names
from wasmcmp.compare import crossings
from wasmcmp.compare.breakdown import INLINE, Breakdown, breakdowns
from wasmcmp.report.markdown import aligned, code, md, table
from wasmcmp.results.model import Measurement, Run


def _figure(m: Measurement) -> str:
    return _amount(m.value, m.unit)


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return fmt.ns_per_op(value) if unit == "seconds" else fmt.number(value)


def _stability(m: Measurement) -> str:
    return "unstable" if m.unstable else ""


def _unstable_line(run: Run, name: Callable[[str], str] = str) -> list[str]:
    """Return the one line naming the cases pyperf judged unstable (none when all stable)."""
    shaky = [m.case for m in run.measurements.values() if m.unstable]
    if not shaky:
        return []
    which = (
        f"all {len(shaky)} cases"
        if len(shaky) == len(run.measurements) > 1
        else f"{fmt.plural(len(shaky), 'case')} ({', '.join(map(name, shaky))})"
    )
    check = name(f"python -m pyperf check {run.source}")
    return [f"pyperf: the results of {which} may be unstable; {check} says why"]


#: how the breakdown's columns add up, under its title
_BREAKDOWN = (
    f"exported = one crossing; imported = 2 import crossings ({INLINE}) "
    f"+ the conduit's hand-off (its cost minus {INLINE})"
)


def _unit_words(run: Run) -> str:
    return _heading(run).removesuffix(" (median)")


def _breakdown_columns(found: list[Breakdown]) -> list[str]:
    """Return the conduits whose hand-off some breakdown holds, in display order."""
    conduits = {approach for b in found for approach, _ in b.handoffs}
    return [a for a in names.APPROACHES if a in conduits]


def _breakdown_header(conduits: list[str]) -> list[str]:
    hand_offs = [f"{a.removeprefix(names.IMPORTED_PREFIX)} hand-off" for a in conduits]
    return ["exported crossing", "2 import crossings", *hand_offs]


def _breakdown_cells(b: Breakdown, conduits: list[str]) -> list[str]:
    amounts = [b.exported, b.crossings, *(b.handoff(a) for a in conduits)]
    return [_amount(v, b.unit) for v in amounts]


def _heading(run: Run) -> str:
    units = {m.unit for m in run.measurements.values()}
    if units == {"instructions"}:
        return "instructions/call"
    return "ns/op (median)" if units <= {"seconds"} else "median"


def run_table(run: Run) -> str:
    """Return the terminal table of a run: each case's ns/op (or count), then the ratios."""
    rows = [
        [m.case, _figure(m), fmt.spread(m.spread), str(len(m.samples)), _stability(m)]
        for m in run.measurements.values()
    ]
    out = aligned(["case", _heading(run), "99% CI", "samples", "pyperf"], rows, {1, 2, 3})
    found = crossings(run.measurements)
    if found:
        out += ["", "imported / exported (ratio of the medians)"]
        out += aligned(
            ["guest", "approach", "function", "tier", "ratio"],
            [
                [x.case.guest, x.case.approach, x.case.function, x.case.tier, fmt.ratio(x.value)]
                for x in found
            ],
            {4},
        )
    found_breakdowns = breakdowns(run.measurements)
    if found_breakdowns:
        conduits = _breakdown_columns(found_breakdowns)
        out += ["", f"where the time goes ({_unit_words(run)}): {_BREAKDOWN}"]
        out += aligned(
            ["guest", "function", "tier", *_breakdown_header(conduits)],
            [
                [b.guest, b.function, b.tier, *_breakdown_cells(b, conduits)]
                for b in found_breakdowns
            ],
            set(range(3, 5 + len(conduits))),
        )
    if shaky := _unstable_line(run):
        out += ["", *shaky]
    if run.failed:
        out += ["", f"failed: {', '.join(sorted(run.failed))}"]
    return "\n".join(out)


def run_markdown(
    run: Run, title: str = "wasmcmp: the cost of crossing the WebAssembly boundary"
) -> str:
    """Return a Markdown report of a run: the table, the ratios and a mermaid bar chart."""
    lines = [f"## {title}", ""]
    lines += [f"| case | {_heading(run)} | 99% CI | samples | pyperf |", "|---|---:|---:|---:|---|"]
    for m in run.measurements.values():
        lines.append(
            f"| {code(m.case)} | {_figure(m)} | {fmt.spread(m.spread)} | {len(m.samples)} "
            f"| {_stability(m)} |"
        )
    found = crossings(run.measurements)
    if found:
        lines += ["", "| imported case | imported / exported |", "|---|---:|"]
        lines += [f"| {code(x.imported)} | {fmt.ratio(x.value)} |" for x in found]
    found_breakdowns = breakdowns(run.measurements)
    if found_breakdowns:
        conduits = _breakdown_columns(found_breakdowns)
        header = ("guest/function/tier", *_breakdown_header(conduits))
        lines += ["", f"Where the time goes ({_unit_words(run)}): {_BREAKDOWN}.", ""]
        lines += table(
            header,
            (tuple([code(b.group), *_breakdown_cells(b, conduits)]) for b in found_breakdowns),
        )
    if shaky := _unstable_line(run, code):
        lines += ["", *shaky]
    # mermaid has no escaping: keep labels to characters that cannot end the code fence
    labels = [re.sub(r"[^A-Za-z0-9/._-]", "_", m.case) for m in run.measurements.values()]
    values = [
        round(m.value * 1e9, 1) if m.unit == "seconds" else round(m.value)
        for m in run.measurements.values()
    ]
    axis = "ns/op" if _heading(run).startswith("ns/op") else _heading(run)
    if labels:
        lines += [
            "",
            "```mermaid",
            "xychart-beta",
            f'    title "{axis} per case (lower is better)"',
            f"    x-axis {json.dumps(labels)}",
            f'    y-axis "{axis}"',
            f"    bar {json.dumps(values)}",
            "```",
        ]
    machine = run.metadata.get("cpu_model_name") or run.machine
    lines += [
        "",
        f"Measured with pyperf on {md(machine)}, Python {md(run.python or 'unknown')}.",
    ]
    return "\n".join(lines) + "\n"


__all__ = ["run_markdown", "run_table"]
