"""How often does `wasmcmp compare` cry wolf, and does it catch a real 10% slowdown?

1. Same code against itself, ``--repeats`` times: base and head are measured in alternating
   rounds (as ``asv run -a rounds=2 --interleave-rounds`` does), then compared; every case
   called regressed is a false alarm.
2. A real slowdown: a copy of wasmcmp whose greenlet conduit does calibrated extra work per
   call (``--slowdown``, 10% by default) is measured against the unchanged code the same way;
   the script reports the slowdown it measured and the verdict at factors 1.10 and 1.05.

Run: ``python benchmarks/false_alarms.py [--repeats 10] [--effort default]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import wasmcmp
from wasmcmp import (
    Case,
    Run,
    Verdict,
    compare_runs,
    guests_dir,
    measure_cases,
    measurement_from_samples,
    parse_factors,
    read_pyperf,
    select_cases,
)

sys.path.insert(0, str(Path(__file__).parent))
from call_paths import EFFORT_ARGS  # the asv suite's effort levels

CASES = (
    "wat/exported/add/unchecked",
    "go/exported/cube/checked",
    "wat/imported-greenlet/add/unchecked",
    "go/imported-greenlet/add/checked",
    "wat/imported-thread/cube/unchecked",
    "go/imported-thread/add/checked",
)
SLOWED = "wat/imported-greenlet/add/unchecked"
ANCHOR = "        self._result = result\n"


def measure_rounds(
    cases: Sequence[Case], sides: dict[str, str | None], rounds: int, effort: str, scratch: Path
) -> dict[str, Run]:
    """Return one Run per side, measuring the sides in alternating rounds.

    A side's value is a PYTHONPATH to measure a modified copy of wasmcmp with, or None.
    """
    samples: dict[str, dict[str, list[float]]] = {side: {} for side in sides}
    for round_ in range(rounds):
        for side, pythonpath in sides.items():
            out = scratch / f"{side}-{round_}-{time.monotonic_ns()}.json"
            previous = os.environ.get("PYTHONPATH")
            if pythonpath:
                os.environ["PYTHONPATH"] = pythonpath
            try:
                measure_cases(cases, out, pyperf_args=EFFORT_ARGS[effort])
            finally:
                if pythonpath:
                    if previous is None:
                        del os.environ["PYTHONPATH"]
                    else:
                        os.environ["PYTHONPATH"] = previous
            for name, m in read_pyperf(out).measurements.items():
                samples[side].setdefault(name, []).extend(m.samples)
    return {
        side: Run(
            source=scratch,
            machine="this machine",
            env=side,
            measurements={
                name: measurement_from_samples(name, values) for name, values in found.items()
            },
        )
        for side, found in samples.items()
    }


def busy_loop_cost(iterations: int) -> float:
    """Return the seconds one ``for _ in range(iterations): pass`` takes here."""
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(20000):
            for _ in range(iterations):
                pass
        best = min(best, (time.perf_counter() - start) / 20000)
    return best


def slowed_copy(root: Path, iterations: int) -> Path:
    """Return a PYTHONPATH entry holding wasmcmp with extra work in the greenlet conduit."""
    package = root / "wasmcmp"
    shutil.copytree(Path(wasmcmp.__file__).parent, package)
    shutil.copytree(guests_dir(), package / "_guests")
    source = package / "paths" / "imported.py"
    text = source.read_text()
    if text.count(ANCHOR) != 1:
        raise SystemExit("the greenlet conduit's respond() changed: update this script")
    work = f"        for _ in range({iterations}):\n            pass\n"
    source.write_text(text.replace(ANCHOR, work + ANCHOR))
    imported = subprocess.run(
        [sys.executable, "-c", "import wasmcmp; print(wasmcmp.__file__)"],
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not imported.startswith(str(root)):
        raise SystemExit(f"the slowed copy is shadowed: workers would import {imported}")
    return root


def main() -> None:
    """Print the false alarms of same-vs-same comparisons and the fate of a real slowdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="same-vs-same comparisons")
    parser.add_argument("--slowdown-repeats", type=int, default=3, help="base-vs-slowed runs")
    parser.add_argument("--effort", choices=sorted(EFFORT_ARGS), default="default")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per side")
    parser.add_argument("--slowdown", type=float, default=0.10, help="the slowdown to inject")
    args = parser.parse_args()
    cases = select_cases(CASES)
    factors = parse_factors(["1.10"])
    with tempfile.TemporaryDirectory(prefix="wasmcmp-false-alarms-") as name:
        scratch = Path(name)
        # `python -m` puts the working directory first on sys.path: away from a source tree,
        # PYTHONPATH decides which wasmcmp the pyperf workers import.
        os.chdir(scratch)
        print(
            f"{len(cases)} cases, {args.rounds} interleaved rounds per side, effort {args.effort}"
        )
        alarms = []
        for repeat in range(1, args.repeats + 1):
            runs = measure_rounds(
                cases, {"base": None, "head": None}, args.rounds, args.effort, scratch
            )
            result = compare_runs(runs["base"], runs["head"], factors)
            called = [c.case for c in result.cases if c.verdict is Verdict.REGRESSED]
            better = [c.case for c in result.cases if c.verdict is Verdict.IMPROVED]
            alarms.append(len(called))
            print(
                f"same vs same #{repeat}: {len(called)} regressed {called}, {len(better)} improved"
            )
        if args.repeats:
            total = len(cases) * args.repeats
            print(f"false alarms: {sum(alarms)} of {total} case comparisons ({args.repeats} runs)")

        # Calibrate against what pyperf's workers measure for the unchanged code, not an
        # in-process loop: the two differ by tens of percent on this path.
        reference = measure_rounds(cases, {"base": None}, 1, args.effort, scratch)["base"]
        per_call = reference.measurements[SLOWED].value
        target = per_call * args.slowdown
        iterations = next(k for k in range(1, 10_000) if busy_loop_cost(k) >= target)
        print(
            f"{SLOWED}: {per_call * 1e9:.0f} ns/call under pyperf; injecting "
            f"range({iterations}) ~ {busy_loop_cost(iterations) * 1e9:.0f} ns of work per call"
        )
        slowed = slowed_copy(scratch / "slowed", iterations)
        for repeat in range(1, args.slowdown_repeats + 1):
            runs = measure_rounds(
                cases, {"base": None, "head": str(slowed)}, args.rounds, args.effort, scratch
            )
            for factor in ("1.10", "1.05"):
                result = compare_runs(runs["base"], runs["head"], parse_factors([factor]))
                row = next(c for c in result.cases if c.case == SLOWED)
                others = [
                    c.case
                    for c in result.cases
                    if c.case != SLOWED and c.verdict is Verdict.REGRESSED
                ]
                p = row.significance.p_value if row.significance else None
                print(
                    f"slowed #{repeat} factor {factor}: {SLOWED} measured "
                    f"{(row.ratio or 0) - 1:+.1%}, p={p if p is None else f'{p:.2g}'}, "
                    f"verdict {row.verdict}; other cases regressed: {others or 'none'}"
                )


if __name__ == "__main__":
    main()
