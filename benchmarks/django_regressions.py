"""Compare the regressions wasmcmp finds in the shared django asv results with asv's own.

``../shared/asv-results/django`` holds real asv results of another project, the commits in
git order (``commit-order.txt``) and the regressions asv itself published for them
(``asv-regressions.json``). This prints how many regressions wasmcmp finds in date order and
in git order, and which of asv's it matches (same benchmark, machine, and levels before and
after the step), so any difference can be explained.

    python benchmarks/django_regressions.py [--set ../shared/asv-results/django]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from wasmcmp import read_asv
from wasmcmp.publish.index import build_index
from wasmcmp.publish.steps import regressions
from wasmcmp.results import read_commit_order

REPO = Path(__file__).resolve().parent.parent
DJANGO = REPO.parent / "shared" / "asv-results" / "django"

#: (benchmark, machine, environment, case, value before, value after)
Found = list[tuple[str, str, str, str, float, float]]


def wasmcmp_regressions(folder: Path, ordered: bool) -> Found:
    """Return every regression wasmcmp's site lists, in git order or by date."""
    found = read_asv(folder / "results")
    order = read_commit_order(folder / "commit-order.txt") if ordered else None
    index = build_index([found], [], found.config, order)
    steps, _ = regressions(index, found.config, {})
    out: Found = []
    for r in steps:
        series = index.series[r.series]
        benchmark = index.history[r.case][r.series][0][1].benchmark
        out.append((benchmark, series.machine, series.env, r.case, r.value_before, r.value_after))
    return out


def same(a: float, b: float) -> bool:
    """Return whether two levels are the same number as written by asv and read back."""
    return math.isclose(a, b, rel_tol=1e-9)


def main() -> None:
    """Print the counts and the differences."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DJANGO, help="the shared django folder")
    args = parser.parse_args()
    published = json.loads((args.set / "asv-regressions.json").read_text())["regressions"]
    theirs = [
        (bench, env["machine"], env.get("python"), jump)
        for bench, _, env, _, _, _, jumps in published
        for jump in jumps
    ]
    print(f"asv published {len(published)} regressions ({len(theirs)} steps)")
    for ordered in (False, True):
        ours = wasmcmp_regressions(args.set, ordered)
        label = "git order" if ordered else "date order"
        matched = [
            t
            for t in theirs
            if any(
                o[0] == t[0] and o[1] == t[1] and same(o[4], t[3][2]) and same(o[5], t[3][3])
                for o in ours
            )
        ]
        print(f"\nwasmcmp, {label}: {len(ours)} steps; {len(matched)} of asv's match exactly")
        if not ordered:
            continue
        for t in theirs:
            if t not in matched:
                print(
                    f"  only asv's: {t[0]} on {t[1]} python {t[2]}: {t[3][2]:.4g} -> {t[3][3]:.4g}"
                )
        for o in ours:
            if not any(
                o[0] == t[0] and o[1] == t[1] and same(o[4], t[3][2]) and same(o[5], t[3][3])
                for t in theirs
            ):
                print(f"  only wasmcmp's: {o[0]} on {o[1]} {o[2]}: {o[4]:.4g} -> {o[5]:.4g}")


if __name__ == "__main__":
    main()
