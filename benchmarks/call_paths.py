"""asv suite: every wasmcmp case, measured by pyperf in a subprocess, samples kept.

Each benchmark runs one case through ``wasmcmp.measure`` (pyperf worker processes,
calibrated loops, warmups) and hands asv the per-operation values as samples, so asv records
its statistics columns and samples and ``asv compare`` can run its Mann-Whitney test.

Effort per asv round is chosen by ``WASMCMP_EFFORT`` (fast / default / rigorous). asv runs
one round of a track benchmark unless told otherwise; comparisons run two, interleaved
across commits: ``asv run -a rounds=2 --interleave-rounds``.

``WASMCMP_GUESTS`` adds guests of the user's own after the bundled ones: ``NAME=FOLDER``
entries, separated by ``os.pathsep`` (``:`` on Linux and macOS), each folder absolute.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import wasmcmp
from wasmcmp import (
    APPROACHES,
    AXES,
    FUNCTIONS,
    GUESTS,
    TIERS,
    Case,
    Guest,
    guests_dir,
    guests_from_setting,
    measure_cases,
    measure_instructions,
    read_pyperf,
)

#: pyperf options for one asv round of one case, by WASMCMP_EFFORT
EFFORT_ARGS: dict[str, tuple[str, ...]] = {
    # four processes of one value rather than two of two: the process is the unit of the
    # test, and two rounds of four units a side let Mann-Whitney U reach asv's level
    "fast": ("--processes", "4", "--values", "1", "--min-time", "0.02"),
    "default": ("--processes", "4", "--values", "3"),
    "rigorous": ("--processes", "10", "--values", "3"),
}


def effort_args() -> tuple[str, ...]:
    """Return the pyperf options WASMCMP_EFFORT selects (default: ``default``)."""
    effort = os.environ.get("WASMCMP_EFFORT", "default")
    if effort not in EFFORT_ARGS:
        raise ValueError(f"WASMCMP_EFFORT={effort!r}: expected one of {', '.join(EFFORT_ARGS)}")
    return EFFORT_ARGS[effort]


#: the parts of wasmcmp that decide how a case is measured (not the host glue it measures)
MEASURING = ("measure.py", "cases.py", "instructions.py", "instructions_worker.py")

#: the metrics WASMCMP_METRICS may name, comma-separated (default: both)
METRICS = ("time", "instructions")


def metrics() -> tuple[str, ...]:
    """Return the metrics WASMCMP_METRICS selects (default: time and instructions)."""
    chosen = tuple(
        m.strip() for m in os.environ.get("WASMCMP_METRICS", ",".join(METRICS)).split(",")
    )
    unknown = [m for m in chosen if m and m not in METRICS]
    if unknown:
        raise ValueError(
            f"WASMCMP_METRICS: unknown {unknown}; expected some of {', '.join(METRICS)}"
        )
    return tuple(m for m in chosen if m)


#: the user's own guests, from WASMCMP_GUESTS, measured after the bundled ones
OWN_GUESTS = guests_from_setting()


def suite_version(
    package: Path | None = None, guests: Path | None = None, own: Sequence[Guest] = OWN_GUESTS
) -> str:
    """Return a digest of what decides a measurement: wasmcmp's measuring code, the guest
    modules (the user's own too, by name) and this suite.

    asv's default version only hashes the benchmark's own source; results measured by other
    measuring code or of other guests must never be compared with these. The host glue
    (wasmcmp/paths) and the wasmtime version are left out on purpose: a change there is what
    the history is for, and must show as a step, not as a new series.
    """
    package = package or Path(wasmcmp.__file__).parent
    guests = guests or guests_dir()
    digest = hashlib.sha256()
    files = [package / name for name in MEASURING] + sorted(
        p for p in guests.rglob("*") if p.suffix in (".wasm", ".wat")
    )
    for guest in own:
        digest.update(guest.name.encode())
        files += [guest.module_file(role) for role in ("exported", "imported_add", "imported_cube")]
    for path in [*files, Path(__file__)]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class CallPaths:
    """The cost of one call across the boundary, for every case."""

    params: ClassVar = [
        [*GUESTS, *(guest.name for guest in OWN_GUESTS)],
        list(APPROACHES),
        list(FUNCTIONS),
        list(TIERS),
    ]
    param_names: ClassVar = list(AXES)
    timeout = 900
    version = suite_version()

    def track_call(self, guest: str, approach: str, function: str, tier: str) -> dict[str, Any]:
        """Return the mean per-call time (seconds) of each pyperf worker process as asv
        samples; skipped when WASMCMP_METRICS leaves wall time out."""
        if "time" not in metrics():
            raise NotImplementedError("WASMCMP_METRICS leaves wall time out")
        case = _case(guest, approach, function, tier)
        with tempfile.TemporaryDirectory(prefix="wasmcmp-asv-") as scratch:
            out = measure_cases([case], Path(scratch) / "run.json", pyperf_args=effort_args())
            run = read_pyperf(out)
        measured = run.measurements[case.name]
        # One sample per pyperf worker process: values of one process share its memory layout
        # and warm state, so the process is the independent unit asv's test should count.
        samples = list(measured.units or measured.samples)
        return {"samples": samples, "number": int(run.metadata.get("loops", 1))}

    track_call.unit = "seconds"  # type: ignore[attr-defined]

    def track_instructions(
        self, guest: str, approach: str, function: str, tier: str
    ) -> dict[str, Any]:
        """Return the instructions per call counted under callgrind, one sample per round.

        Skipped (asv records no value) when WASMCMP_METRICS leaves instructions out or
        valgrind is missing: wall time still runs, and the comparison says what it lacks.
        """
        if "instructions" not in metrics() or shutil.which("valgrind") is None:
            raise NotImplementedError("instruction counts need valgrind and WASMCMP_METRICS")
        case = _case(guest, approach, function, tier)
        with tempfile.TemporaryDirectory(prefix="wasmcmp-asv-") as scratch:
            out = measure_instructions([case], Path(scratch) / "run.json", repeats=1)
            run = read_pyperf(out)
        samples = list(run.measurements[f"{case.name}@instructions"].samples)
        return {"samples": samples, "number": 1}

    track_instructions.unit = "instructions"  # type: ignore[attr-defined]


def _case(guest: str, approach: str, function: str, tier: str) -> Case:
    """Return the case of these parameters, with its folder when the guest is the user's."""
    folders = {own.name: own.folder for own in OWN_GUESTS}
    return Case(guest, approach, function, tier, folders.get(guest))
