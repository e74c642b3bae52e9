"""What does each case cost in instructions, how repeatable is the count, and how long does
callgrind take per case?

Runs ``wasmcmp.instructions.measure_instructions`` over the cases (default: all 24) with
3 repeats, writes the pyperf JSON, and prints per case the median instructions per call,
the jitter (max - min of the repeats over their median), N, and the wall-clock seconds of
the case's callgrind processes; then the seconds spent compiling guest modules under
valgrind, shared by every case of the run. Run:
``python benchmarks/instruction_counts.py [--cases GLOB ...] [--repeats 3] [-o FILE]``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    """Measure the cases' instruction counts and print the table."""
    import pyperf

    from wasmcmp import select_cases
    from wasmcmp.instructions import measure_instructions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", action="append", help="glob of cases (default: all)")
    parser.add_argument("--repeats", type=int, default=3, help="callgrind runs per case")
    parser.add_argument("--loops", type=int, help="N (default: calibrated per case)")
    parser.add_argument("-o", "--output", type=Path, help="keep the pyperf JSON here")
    args = parser.parse_args()

    cases = select_cases(args.cases or ["*"])
    compiling: list[float] = []

    def progress(text: str) -> None:
        sys.stderr.write(text)
        found = re.match(r"compiled .* \((\d+\.\d+) s\)", text)
        if found:
            compiling.append(float(found.group(1)))

    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        out = args.output or Path(scratch) / "instructions.json"
        measure_instructions(cases, out, repeats=args.repeats, loops=args.loops, progress=progress)
        suite = pyperf.BenchmarkSuite.load(str(out))
    elapsed = time.monotonic() - started

    print(f"| case | instructions/call | jitter | N | s/case ({args.repeats} runs) |")
    print("|---|---:|---:|---:|---:|")
    for bench in suite.get_benchmarks():
        metadata = bench.get_metadata()
        values = bench.get_values()
        print(
            f"| {bench.get_name().removesuffix('@instructions')} "
            f"| {statistics.median(values):,.0f} "
            f"| {metadata['instructions_jitter']:.2%} "
            f"| {metadata['loops']:,} "
            f"| {metadata['instructions_seconds']:.1f} |"
        )
    seconds = [b.get_metadata()["instructions_seconds"] for b in suite.get_benchmarks()]
    print(
        f"\n{len(seconds)} cases: {statistics.median(seconds):.1f} s per case (median), "
        f"{min(seconds):.1f}-{max(seconds):.1f} s; compiling {len(compiling)} modules under "
        f"valgrind took {sum(compiling):.1f} s; {elapsed:.0f} s in all"
    )


if __name__ == "__main__":
    main()
