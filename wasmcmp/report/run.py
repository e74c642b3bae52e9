"""One run as the seed showed it: ns/op per case, then the imported/exported ratios."""

from __future__ import annotations

import json
import re

from wasmcmp import format as fmt
from wasmcmp.compare import crossings
from wasmcmp.report.markdown import aligned, code, md
from wasmcmp.results.model import Measurement, Run


def _figure(m: Measurement) -> str:
    return fmt.ns_per_op(m.value) if m.unit == "seconds" else fmt.number(m.value)


def _heading(run: Run) -> str:
    units = {m.unit for m in run.measurements.values()}
    if units == {"instructions"}:
        return "instructions/call"
    return "ns/op (median)" if units <= {"seconds"} else "median"


def run_table(run: Run) -> str:
    """Return the terminal table of a run: each case's ns/op (or count), then the ratios."""
    rows = [
        [m.case, _figure(m), fmt.spread(m.spread), str(len(m.samples))]
        for m in run.measurements.values()
    ]
    out = aligned(["case", _heading(run), "99% CI", "samples"], rows, {1, 2, 3})
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
    if run.failed:
        out += ["", f"failed: {', '.join(sorted(run.failed))}"]
    return "\n".join(out)


def run_markdown(
    run: Run, title: str = "wasmcmp: the cost of crossing the WebAssembly boundary"
) -> str:
    """Return a Markdown report of a run: the table, the ratios and a mermaid bar chart."""
    lines = [f"## {title}", ""]
    lines += [f"| case | {_heading(run)} | 99% CI | samples |", "|---|---:|---:|---:|"]
    for m in run.measurements.values():
        lines.append(
            f"| {code(m.case)} | {_figure(m)} | {fmt.spread(m.spread)} | {len(m.samples)} |"
        )
    found = crossings(run.measurements)
    if found:
        lines += ["", "| imported case | imported / exported |", "|---|---:|"]
        lines += [f"| {code(x.imported)} | {fmt.ratio(x.value)} |" for x in found]
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
