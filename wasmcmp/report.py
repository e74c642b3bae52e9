"""Markdown and terminal renderings: the seed-style table, ratios and the bar chart."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wasmcmp.results import Measurement, Run

IMPORTED = ("imported-thread", "imported-greenlet")


@dataclass(frozen=True)
class Ratio:
    """How many times an imported approach costs the exported call of the same kind."""

    guest: str
    function: str
    tier: str
    approach: str
    exported: Measurement
    imported: Measurement

    @property
    def value(self) -> float:
        """Return imported median over exported median."""
        return self.imported.value / self.exported.value


def ratios(measurements: Mapping[str, Measurement]) -> list[Ratio]:
    """Return the imported/exported ratio for every case pair present in the measurements."""
    found = []
    for name, exported in measurements.items():
        parts = name.split("/")
        if len(parts) != 4 or parts[1] != "exported" or exported.value <= 0:
            continue
        guest, _, function, tier = parts
        for approach in IMPORTED:
            imported = measurements.get(f"{guest}/{approach}/{function}/{tier}")
            if imported is not None:
                found.append(Ratio(guest, function, tier, approach, exported, imported))
    return found


def format_ns(seconds: float) -> str:
    """Return seconds per op as ns/op with thousands separators (e.g. ``27,562``)."""
    nanoseconds = seconds * 1e9
    return f"{nanoseconds:,.0f}" if nanoseconds >= 100 else f"{nanoseconds:,.1f}"


def spread_text(measurement: Measurement) -> str:
    """Return the 99% interval's half-width as a percentage of the median."""
    spread = measurement.spread
    return "±inf" if spread == float("inf") else f"±{spread * 50:.1f}%"


def _table(header: list[str], rows: Iterable[list[str]], right: set[int]) -> list[str]:
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
    out = _table(["case", "ns/op (median)", "99% CI", "samples"], rows, {1, 2, 3})
    found = ratios(run.measurements)
    if found:
        out += ["", "imported / exported (median ns/op ratio)"]
        out += _table(
            ["guest", "function", "tier", "approach", "ratio"],
            [[r.guest, r.function, r.tier, r.approach, f"{r.value:.2f}x"] for r in found],
            {4},
        )
    if run.failed:
        out += ["", f"failed: {', '.join(sorted(run.failed))}"]
    return "\n".join(out)


def _md_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_{}[]<>()#+!|" else ch for ch in text)


def run_markdown(
    run: Run, title: str = "wasmcmp: the cost of crossing the WebAssembly boundary"
) -> str:
    """Return a Markdown report of a run: the table, the ratios and a mermaid bar chart."""
    lines = [f"## {title}", ""]
    lines += ["| case | ns/op (median) | 99% CI | samples |", "|---|---:|---:|---:|"]
    for m in run.measurements.values():
        name = m.case.replace("`", "")
        lines.append(f"| `{name}` | {format_ns(m.value)} | {spread_text(m)} | {len(m.samples)} |")
    found = ratios(run.measurements)
    if found:
        lines += [
            "",
            "| guest | function | tier | approach | imported / exported |",
            "|---|---|---|---|---:|",
        ]
        lines += [
            f"| {_md_escape(r.guest)} | {_md_escape(r.function)} | {_md_escape(r.tier)} | "
            f"{_md_escape(r.approach)} | {r.value:.2f}x |"
            for r in found
        ]
    labels = [m.case for m in run.measurements.values()]
    values = [round(m.value * 1e9, 1) for m in run.measurements.values()]
    if labels:
        lines += [
            "",
            "```mermaid",
            "xychart-beta",
            '    title "ns/op per case (lower is better)"',
            f"    x-axis {json.dumps([label.replace(chr(34), '') for label in labels])}",
            '    y-axis "ns/op"',
            f"    bar {json.dumps(values)}",
            "```",
        ]
    machine = run.metadata.get("cpu_model_name") or run.machine
    lines += [
        "",
        f"Measured with pyperf on {_md_escape(machine)}, Python {_md_escape(run.python or '?')}.",
    ]
    return "\n".join(lines) + "\n"
