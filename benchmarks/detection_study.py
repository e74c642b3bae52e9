"""How often does `wasmcmp compare` cry wolf, and how small a slowdown does it catch?

A detection study of the verdicts the Action gives, for both metrics (wall time and
instructions per call), that anyone can rerun; the site's Trust page renders what it writes
(``wasmcmp site --study FILE``).

- A/A: the same code against itself, ``--aa-repeats`` times per metric, over a subset of cases
  covering every approach and tier (default: the six ``wat/*/add/*`` cases). Every other
  repeat has a neighbour's load: a busy-loop process pinned to a core (the last one), running
  for half of the comparison's expected duration from a random offset. Every case called
  regressed is a false alarm; a comparison with any is a false alarm for its pull request.
  For the cases a pull request check measures (the Action's default set, ``wasmcmp cases
  --default``: n cases per metric) the per-pull-request figure is estimated from the per-case
  rate p as 1 - (1 - p)^n, assuming cases alarm independently (an estimate: it ignores
  Holm's correction, which holds wall time's family to 1% when the test's assumptions hold).
- A/B: a copy of wasmcmp with calibrated extra work in one path (``exported-unchecked``: the
  unchecked export's timed loop; ``imported-greenlet`` and ``imported-thread``: the conduit's
  ``respond()``, before the answer is handed over) against an unchanged copy, ``--ab-repeats``
  times per metric, path and target slowdown (instructions 1%, 2%, 5%; time 5%, 10%), without
  load: the share whose slowed case is called regressed, with the slowdown measured (head /
  base) beside the target. Wall time measures the whole subset, so Holm's family is the A/A
  one; instruction counts are judged case by case, so their A/B measures the slowed case.

Measured as the Action measures: base and head alternate in ``--rounds`` rounds (2); wall
time at the asv suite's effort (``default``: 4 pyperf processes x 3 values), one sample per
process as asv records them; instructions one callgrind process per case and round; verdicts
by ``compare_runs`` with the Action's defaults (factors "1.10", "*/imported-thread/*=1.50",
"*/*/*/checked@instructions=1.02" and "*/imported-thread/*@instructions=1.05", instruction
threshold 1.005, Mann-Whitney U with Holm's correction at a 1% family level). Both
sides run from copies of the package at paths of equal length, so only the injected work
differs between them.

Calibration (once per metric and path, kept in the file): the injected work is ``_pad = 0``
statements repeated k times, measured where they run. The slowed case is measured from the
unchanged copy (its per-call value: pyperf's median or callgrind's count) and, in alternating
rounds, from a copy with c statements (instructions: 2,000; wall time: about as many as double
the call, by a rough in-process timing); a statement costs the difference over c. k = target
x per-call / statement cost, rounded (at least 1).

Resumable: each comparison is appended to the file as it finishes (temporary file, then
rename); a rerun skips comparisons already there, keyed by kind, metric, path, target, repeat
index and load, and refuses a file measured with another method. ``--budget MINUTES`` stops
between comparisons before one would run past it. Ctrl-C and SIGTERM stop at once, keeping
every finished comparison and leaving no process (neighbour, pyperf, valgrind) or temporary
folder behind. A comparison that fails (a WasmcmpError) is reported and left for a rerun.
``--summary`` prints the rates of a file without measuring. Exit status: 0, 1 when a
comparison failed, 130 when interrupted.

Run: ``python benchmarks/detection_study.py [--budget 100] [-o FILE]``.

The file (JSON, ``"format": "wasmcmp-detection-study"``, ``"version": 1``)::

    machine       {"cpu": model name, "cores": count, "platform": OS and architecture}
    python, wasmtime, wasmcmp, valgrind   versions (valgrind null when not counted)
    date          when the study started (ISO 8601, UTC); updated: when last written
    method        effort, pyperf_args, rounds, instruction_repeats (callgrind processes per
                  case and round), factors, instructions_factor, family_level, correction,
                  test, cases (the subset), full_cases (how many cases a pull request check
                  measures: the default set), all_cases (how many there are), targets
                  ({metric: [fractions]}), aa_repeats, ab_repeats, load and injection (prose)
    calibrations  [{metric, path, case, per_call, unit_cost, unit (seconds or instructions),
                  calibration_statements: c, calibration_per_call: per call with c}]
    comparisons   [{kind: "A/A" | "A/B", metric: "time" | "instructions", path: null (A/A) or
                  the slowed path, case: the slowed case (null for A/A), target: fraction (0
                  for A/A), repeat: index, load: bool, injected: statements added, achieved:
                  head / base of the slowed case (null for A/A), p: its p-value after Holm's
                  correction (null when no test ran), verdict: the slowed case's verdict (A/B)
                  or the comparison's (A/A), cases: [{case, verdict, ratio, p, significant}],
                  seconds, load_seconds (how long the neighbour ran), loadavg: [1-minute load
                  before, after], finished: ISO 8601}]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.metadata
import itertools
import json
import math
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import wasmcmp
from wasmcmp import (
    Comparison,
    Run,
    Verdict,
    WasmcmpError,
    all_cases,
    compare_runs,
    guests_dir,
    measure_cases,
    measure_instructions,
    measurement_from_samples,
    parse_factors,
    read_pyperf,
    select_cases,
)
from wasmcmp.cases import DEFAULT_PATTERNS
from wasmcmp.compare import CORRECTION, FAMILY_LEVEL, MANN_WHITNEY_U

sys.path.insert(0, str(Path(__file__).parent))
from call_paths import EFFORT_ARGS  # the asv suite's effort levels

FORMAT, VERSION = "wasmcmp-detection-study", 1
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "detection.json"
CASES = (
    "wat/exported/add/checked",
    "wat/exported/add/unchecked",
    "wat/imported-thread/add/checked",
    "wat/imported-thread/add/unchecked",
    "wat/imported-greenlet/add/checked",
    "wat/imported-greenlet/add/unchecked",
)
METRICS = ("time", "instructions")
#: the Action's default factors (action.yml) and instruction threshold
FACTORS = (
    "1.10",
    "*/imported-thread/*=1.50",
    "*/*/*/checked@instructions=1.02",
    "*/imported-thread/*@instructions=1.05",
)
INSTRUCTIONS_FACTOR = 1.005
TARGETS = {"time": (0.05, 0.10), "instructions": (0.01, 0.02, 0.05)}
#: one unit of injected work: a statement the compiler keeps and the interpreter runs
UNIT = "_pad = 0"
#: seconds a comparison is guessed to take per case measured, before one has been timed
GUESS_PER_CASE = 16.0
NEIGHBOUR = "import os\nos.sched_setaffinity(0, {cpus})\nwhile True:\n    pass\n"


@dataclasses.dataclass(frozen=True)
class Injection:
    """Where a path's extra work goes: before every occurrence of an anchor line."""

    case: str
    file: str
    anchor: str
    occurrences: int


PATHS = {
    "exported-unchecked": Injection(
        "wat/exported/add/unchecked",
        "paths/unchecked.py",
        "                _result = first.i32\n",
        2,
    ),
    "imported-greenlet": Injection(
        "wat/imported-greenlet/add/unchecked",
        "paths/imported.py",
        "        self._result = result\n",
        1,
    ),
    "imported-thread": Injection(
        "wat/imported-thread/add/unchecked",
        "paths/imported.py",
        "        self._responses.put(result)\n",
        1,
    ),
}


@dataclasses.dataclass(frozen=True)
class Task:
    """One comparison to make; ``share`` orders the work so a partial study stays balanced."""

    kind: str
    metric: str
    path: str | None
    target: float
    repeat: int
    load: bool
    share: float

    @property
    def key(self) -> tuple[str, str, str, float, int, bool]:
        return (
            self.kind,
            self.metric,
            self.path or "",
            round(self.target, 6),
            self.repeat,
            self.load,
        )

    def describe(self) -> str:
        what = "A/A" if self.path is None else f"A/B {self.path} +{self.target:.0%}"
        return f"{what} {self.metric} #{self.repeat}{' loaded' if self.load else ''}"


def key_of(record: Mapping[str, Any]) -> tuple[str, str, str, float, int, bool]:
    """Return the key a finished comparison is skipped by."""
    return (
        record["kind"],
        record["metric"],
        record["path"] or "",
        round(record["target"], 6),
        record["repeat"],
        record["load"],
    )


def plan(metrics: Sequence[str], paths: Sequence[str], aa: int, ab: int) -> list[Task]:
    """Return every comparison of the study, the least advanced cells first."""
    tasks = []
    for metric in metrics:
        for i in range(aa):
            # alternate load, so a partial study holds both halves
            tasks.append(Task("A/A", metric, None, 0.0, i // 2, i % 2 == 1, (i + 0.5) / aa))
        for path, target, r in itertools.product(paths, TARGETS[metric], range(ab)):
            tasks.append(Task("A/B", metric, path, target, r, False, (r + 0.5) / ab))
    return sorted(tasks, key=lambda t: t.share)


# -- the file -------------------------------------------------------------------------------


def method(args: argparse.Namespace, cases: Sequence[str]) -> dict[str, Any]:
    """Return how the study measures: a rerun must measure the same way to add to a file."""
    return {
        "effort": args.effort,
        "pyperf_args": list(EFFORT_ARGS[args.effort]),
        "rounds": args.rounds,
        "instruction_repeats": 1,
        "factors": list(FACTORS),
        "instructions_factor": INSTRUCTIONS_FACTOR,
        "family_level": FAMILY_LEVEL,
        "correction": CORRECTION,
        "test": MANN_WHITNEY_U,
        "cases": list(cases),
        "full_cases": len(select_cases(DEFAULT_PATTERNS)),
        "all_cases": len(all_cases()),
        "targets": {metric: list(TARGETS[metric]) for metric in METRICS},
        "aa_repeats": args.aa_repeats,
        "ab_repeats": args.ab_repeats,
        "load": "every other A/A repeat: a busy-loop process pinned to the last core, for half "
        "of the comparison's expected duration from a random offset; A/B without load",
        "injection": f"{UNIT!r} repeated k times, before the answer is handed over (conduits) "
        "or in the timed loop (unchecked export)",
    }


#: method fields that decide whether comparisons measured earlier can be added to
SAME_METHOD = ("effort", "rounds", "factors", "instructions_factor", "cases")


def open_study(path: Path, wanted: dict[str, Any]) -> dict[str, Any]:
    """Return the study in ``path`` (a new one when it does not exist yet)."""
    if not path.exists():
        return {
            "format": FORMAT,
            "version": VERSION,
            "machine": machine(),
            "python": platform.python_version(),
            "wasmtime": importlib.metadata.version("wasmtime"),
            "wasmcmp": wasmcmp.__version__,
            "valgrind": None,
            "date": now(),
            "updated": now(),
            "method": wanted,
            "calibrations": [],
            "comparisons": [],
        }
    try:
        study: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{path}: not a readable study ({exc}); move it away or pick -o") from exc
    if study.get("format") != FORMAT or study.get("version") != VERSION:
        raise SystemExit(f"{path}: not a {FORMAT} version {VERSION} file; pick another -o")
    earlier = study["method"]
    differs = [f"{k}={earlier.get(k)!r}" for k in SAME_METHOD if earlier.get(k) != wanted[k]]
    if differs:
        raise SystemExit(
            f"{path} was measured with {', '.join(differs)}: rerun with those settings "
            "(--effort, --rounds, --cases) or write to another -o"
        )
    study["method"].update({k: wanted[k] for k in ("aa_repeats", "ab_repeats")})
    return study


def save_study(path: Path, study: dict[str, Any]) -> None:
    """Write the study to a temporary sibling and rename it into place."""
    study["updated"] = now()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        partial.write_text(json.dumps(study, indent=1) + "\n", encoding="utf-8")
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def machine() -> dict[str, Any]:
    """Return what the study ran on: CPU model, core count, OS and architecture."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(terse=True)}


# -- the code measured: copies of the package -----------------------------------------------


def snapshot(scratch: Path) -> Path:
    """Return a copy of the package and its guests as they are now: every copy measured is
    made from it, so an edit to the working tree during the study changes neither side."""
    package = scratch / "snapshot" / "wasmcmp"
    ignore = shutil.ignore_patterns("__pycache__", "_guests", "_site")
    shutil.copytree(Path(wasmcmp.__file__).parent, package, ignore=ignore)
    shutil.copytree(guests_dir(), package / "_guests", ignore=shutil.ignore_patterns("*.go"))
    return package


def package_copy(root: Path, injected: Mapping[Injection, int] | None = None) -> Path:
    """Return ``root``, a PYTHONPATH entry holding the snapshot of wasmcmp beside it with
    ``k`` statements injected per injection (replacing what was there)."""
    if root.exists():
        shutil.rmtree(root)
    package = root / "wasmcmp"
    shutil.copytree(root.parent / "snapshot" / "wasmcmp", package)
    for injection, units in (injected or {}).items():
        source = package / injection.file
        text = source.read_text(encoding="utf-8")
        if text.count(injection.anchor) != injection.occurrences:
            raise SystemExit(
                f"{injection.file}: expected {injection.anchor.strip()!r} "
                f"{injection.occurrences} time(s); the path changed: update PATHS"
            )
        indent = injection.anchor[: len(injection.anchor) - len(injection.anchor.lstrip())]
        work = f"{indent}{UNIT}\n" * units
        source.write_text(text.replace(injection.anchor, work + injection.anchor), encoding="utf-8")
    found = subprocess.run(
        [sys.executable, "-c", "import wasmcmp.paths; print(wasmcmp.paths.__file__)"],
        env={**os.environ, "PYTHONPATH": str(root)},
        cwd=root.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not found.startswith(str(root)):
        raise SystemExit(f"the copy in {root} is shadowed: workers would import {found}")
    return root


@contextlib.contextmanager
def pythonpath(root: Path) -> Iterator[None]:
    """Let the measuring processes started inside import wasmcmp from ``root``."""
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(root)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = previous


_files = itertools.count()


def measure_side(
    metric: str, cases: Sequence[str], root: Path, scratch: Path, effort: str
) -> dict[str, tuple[str, list[float]]]:
    """Return each case's unit and samples, measured once from the copy in ``root``: one mean
    per pyperf process (as the asv suite records them), or one count per case."""
    out = scratch / f"{metric}-{next(_files)}.json"
    chosen = select_cases(cases)
    with pythonpath(root):
        if metric == "time":
            measure_cases(chosen, out, pyperf_args=EFFORT_ARGS[effort])
        else:
            measure_instructions(chosen, out, repeats=1)
    run = read_pyperf(out)
    out.unlink()
    return {n: (m.unit, list(m.units or m.samples)) for n, m in run.measurements.items()}


def compare_sides(
    metric: str,
    cases: Sequence[str],
    sides: Mapping[str, Path],
    rounds: int,
    scratch: Path,
    effort: str,
) -> Comparison:
    """Return base against head, measured in alternating rounds and judged as the Action does."""
    found: dict[str, dict[str, tuple[str, list[float]]]] = {side: {} for side in sides}
    for _ in range(rounds):
        for side, root in sides.items():
            for name, (unit, samples) in measure_side(metric, cases, root, scratch, effort).items():
                found[side].setdefault(name, (unit, []))[1].extend(samples)
    runs = {
        side: Run(
            source=Path(side),
            machine="detection study",
            env=side,
            measurements={
                name: dataclasses.replace(measurement_from_samples(name, samples), unit=unit)
                for name, (unit, samples) in measured.items()
            },
        )
        for side, measured in found.items()
    }
    return compare_runs(runs["base"], runs["head"], parse_factors(FACTORS, INSTRUCTIONS_FACTOR))


class Neighbour:
    """A busy-loop process on the last core, from ``after`` seconds for ``seconds``."""

    def __init__(self, after: float, seconds: float, say: Callable[[str], None]) -> None:
        self.after, self.seconds, self.say = after, seconds, say
        self.ran = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="neighbour", daemon=True)

    def __enter__(self) -> Neighbour:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        if self._stop.wait(self.after):
            return
        cpus = sorted(os.sched_getaffinity(0))[-1:] if (os.cpu_count() or 1) > 1 else []
        code = NEIGHBOUR.format(cpus=set(cpus)) if cpus else "while True:\n    pass\n"
        child = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
        started = time.monotonic()
        self.say(f"  neighbour's load on (pid {child.pid}, cpu {cpus or 'any'})\n")
        try:
            self._stop.wait(self.seconds)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            self.ran = time.monotonic() - started
            self.say(f"  neighbour's load off after {self.ran:.0f} s\n")


# -- calibration ----------------------------------------------------------------------------


def unit_seconds(units: int = 1000) -> float:
    """Return the seconds one injected statement costs in-process, roughly: a first guess
    of how many statements double a path's time."""
    scope: dict[str, Any] = {}
    exec("def plain():\n    pass\n" + "def work():\n" + f"    {UNIT}\n" * units, scope)

    def best(work: Callable[[], None]) -> float:
        fastest = math.inf
        for _ in range(7):
            start = time.perf_counter()
            for _ in range(200):
                work()
            fastest = min(fastest, (time.perf_counter() - start) / 200)
        return fastest

    return max(1e-12, (best(scope["work"]) - best(scope["plain"])) / units)


def calibrate(
    study: dict[str, Any],
    metric: str,
    paths: Sequence[str],
    scratch: Path,
    effort: str,
    rounds: int,
    save: Callable[[], None],
    say: Callable[[str], None],
) -> dict[str, dict[str, Any]]:
    """Return each path's calibration for a metric, measuring those the study lacks: the
    slowed case measured as it is and, in alternating rounds, with enough statements to about
    double it (wall time) or with 2,000 (instructions); a statement costs the difference over
    their number, measured where the statements run."""
    known = {c["path"]: c for c in study["calibrations"] if c["metric"] == metric}
    missing = [p for p in paths if p not in known]
    if not missing:
        return known
    say(f"calibrating {metric} for {', '.join(missing)}\n")
    suffix = "@instructions" if metric == "instructions" else ""
    names = {p: PATHS[p].case + suffix for p in missing}
    cases = [PATHS[p].case for p in missing]
    plain: dict[str, list[float]] = {p: [] for p in missing}
    slowed: dict[str, list[float]] = {p: [] for p in missing}
    units: dict[str, int] = {}
    copy = scratch / "cali"
    for _ in range(rounds):  # interleaved, as a comparison is
        measured = measure_side(metric, cases, scratch / "base", scratch, effort)
        for p in missing:
            plain[p] += measured[names[p]][1]
        if not units:
            rough = unit_seconds() if metric == "time" else 0.0
            for p in missing:
                units[p] = max(1, round(statistics.median(plain[p]) / rough)) if rough else 2_000
            package_copy(copy, {PATHS[p]: units[p] for p in missing})
        measured = measure_side(metric, cases, copy, scratch, effort)
        for p in missing:
            slowed[p] += measured[names[p]][1]
    per_call = {p: statistics.median(plain[p]) for p in missing}
    for path in missing:
        with_units = statistics.median(slowed[path])
        record = {
            "metric": metric,
            "path": path,
            "case": PATHS[path].case,
            "per_call": per_call[path],
            "unit_cost": (with_units - per_call[path]) / units[path],
            "unit": "seconds" if metric == "time" else "instructions",
            "calibration_statements": units[path],
            "calibration_per_call": with_units,
        }
        if not record["unit_cost"] > 0:
            raise SystemExit(f"calibrating {path}: {units[path]} statements cost nothing: {record}")
        study["calibrations"].append(record)
        known[path] = record
        say(f"  {path}: {per_call[path]:.4g} per call, {record['unit_cost']:.4g} per statement\n")
    save()
    return known


def statements(calibration: Mapping[str, Any], target: float) -> int:
    """Return how many statements slow the calibrated case by ``target``."""
    return max(1, round(target * calibration["per_call"] / max(calibration["unit_cost"], 1e-12)))


# -- one comparison -------------------------------------------------------------------------


def run_task(
    task: Task,
    cases: Sequence[str],
    study: dict[str, Any],
    calibration: Mapping[str, Any] | None,
    scratch: Path,
    args: argparse.Namespace,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Return the record of one comparison, measured now."""
    injected = 0
    slowed: str | None = None
    measured = list(cases)
    if task.path is None:
        head = package_copy(scratch / "head")
    else:
        assert calibration is not None
        injected = statements(calibration, task.target)
        head = package_copy(scratch / "head", {PATHS[task.path]: injected})
        slowed = PATHS[task.path].case
        if task.metric == "instructions":
            measured = [slowed]  # counts are judged case by case: no family to keep
        elif slowed not in measured:
            measured.append(slowed)
    guess = expected_seconds(study, task, len(measured))
    rng = random.Random(repr(task.key))
    started, load_before = time.monotonic(), os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        neighbour = None
        if task.load:
            neighbour = stack.enter_context(Neighbour(rng.uniform(0, guess / 2), guess / 2, say))
        sides = {"base": scratch / "base", "head": head}
        result = compare_sides(task.metric, measured, sides, args.rounds, scratch, args.effort)
    seconds = time.monotonic() - started
    suffix = "@instructions" if task.metric == "instructions" else ""
    rows = [
        {
            "case": c.case.removesuffix(suffix),
            "verdict": str(c.verdict),
            "ratio": c.ratio,
            "p": c.significance.p_value if c.significance else None,
            "significant": c.significance.significant if c.significance else None,
        }
        for c in result.cases
    ]
    target_row = next((r for r in rows if r["case"] == slowed), None)
    return {
        "kind": task.kind,
        "metric": task.metric,
        "path": task.path,
        "case": slowed,
        "target": task.target,
        "repeat": task.repeat,
        "load": task.load,
        "injected": injected,
        "achieved": target_row["ratio"] if target_row else None,
        "p": target_row["p"] if target_row else None,
        "verdict": target_row["verdict"] if target_row else str(result.verdict),
        "cases": rows,
        "seconds": round(seconds, 1),
        "load_seconds": round(neighbour.ran, 1) if neighbour else 0.0,
        "loadavg": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "finished": now(),
    }


def expected_seconds(study: Mapping[str, Any], task: Task, cases: int) -> float:
    """Return how long a comparison like this one is expected to take (the longest so far)."""
    seen = [
        c["seconds"]
        for c in study["comparisons"]
        if c["kind"] == task.kind and c["metric"] == task.metric
    ]
    return max(seen[-10:]) if seen else GUESS_PER_CASE * cases


# -- the rates ------------------------------------------------------------------------------


def aggregate(comparisons: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the rates per cell (kind, metric, path, target, load) with their counts."""
    cells: dict[tuple[str, str, str, float, bool], dict[str, Any]] = {}
    for c in comparisons:
        key = (c["kind"], c["metric"], c["path"] or "", c["target"], c["load"])
        cell = cells.setdefault(
            key,
            {
                **dict(zip(("kind", "metric", "path", "target", "load"), key, strict=True)),
                "comparisons": 0,
                "alarmed": 0,
                "case_comparisons": 0,
                "case_alarms": 0,
                "caught": 0,
                "achieved": [],
            },
        )
        cell["comparisons"] += 1
        regressed = [r for r in c["cases"] if r["verdict"] == str(Verdict.REGRESSED)]
        if c["kind"] == "A/A":
            cell["case_comparisons"] += len(c["cases"])
            cell["case_alarms"] += len(regressed)
            cell["alarmed"] += bool(regressed)
        else:
            cell["caught"] += c["verdict"] == str(Verdict.REGRESSED)
            if c["achieved"] is not None:
                cell["achieved"].append(c["achieved"])
    return [cells[k] for k in sorted(cells)]


def summary(study: Mapping[str, Any]) -> str:
    """Return the study's rates as a Markdown table."""
    full = study["method"]["full_cases"]
    lines = [
        "| kind | metric | path | target | load | rate | counts |",
        "|---|---|---|---:|---|---:|---|",
    ]
    for cell in aggregate(study["comparisons"]):
        where = (
            f"| {cell['kind']} | {cell['metric']} | {cell['path'] or 'subset'} "
            f"| {cell['target']:.0%} | {'on' if cell['load'] else 'off'} "
        )
        if cell["kind"] == "A/A":
            p = cell["case_alarms"] / max(1, cell["case_comparisons"])
            lines.append(
                f"{where}| {p:.1%} per case | {cell['case_alarms']} of {cell['case_comparisons']} "
                f"cases; {cell['alarmed']} of {cell['comparisons']} pull requests; "
                f"{full} cases of a pull request (estimate, 1-(1-p)^{full}): "
                f"{1 - (1 - p) ** full:.0%} |"
            )
        else:
            achieved = statistics.median(cell["achieved"]) - 1 if cell["achieved"] else math.nan
            lines.append(
                f"{where}| {cell['caught'] / cell['comparisons']:.0%} caught "
                f"| {cell['caught']} of {cell['comparisons']}; measured {achieved:+.1%} (median) |"
            )
    return "\n".join(lines) + "\n"


# -- the run --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the study (or what is left of it) and print its rates; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="study JSON")
    parser.add_argument("--budget", type=float, metavar="MINUTES", help="stop before this")
    parser.add_argument("--cases", action="append", help="the subset (default: wat/*/add/*)")
    parser.add_argument("--metrics", default=",".join(METRICS), help="time,instructions")
    parser.add_argument("--paths", default=",".join(PATHS), help="paths slowed in A/B")
    parser.add_argument("--aa-repeats", type=int, default=20, help="A/A comparisons per metric")
    parser.add_argument("--ab-repeats", type=int, default=5, help="A/B comparisons per cell")
    parser.add_argument("--effort", choices=sorted(EFFORT_ARGS), default="default")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per side")
    parser.add_argument("--summary", action="store_true", help="print the rates and exit")
    args = parser.parse_args(argv)
    output = args.output.resolve()
    cases = [c.name for c in select_cases(args.cases or CASES)]
    metrics = [m for m in args.metrics.split(",") if m]
    paths = [p for p in args.paths.split(",") if p]
    if not set(metrics) <= set(METRICS) or not set(paths) <= set(PATHS):
        parser.error(f"--metrics takes {', '.join(METRICS)}; --paths takes {', '.join(PATHS)}")
    if args.summary:
        if not output.is_file():
            parser.error(f"{output}: no study yet")
        sys.stdout.write(summary(json.loads(output.read_text(encoding="utf-8"))))
        return 0
    study = open_study(output, method(args, cases))
    done = {key_of(c) for c in study["comparisons"]}
    todo = [t for t in plan(metrics, paths, args.aa_repeats, args.ab_repeats) if t.key not in done]

    def say(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    if not todo:
        say(f"{output}: every comparison asked for is there; nothing to measure\n")
        sys.stdout.write(summary(study))
        return 0
    if "instructions" in metrics:
        study["valgrind"] = subprocess.run(
            ["valgrind", "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()
    deadline = time.monotonic() + args.budget * 60 if args.budget else math.inf
    signal.signal(signal.SIGTERM, _interrupt)
    home = Path.cwd()
    failures = 0
    say(f"{len(todo)} comparisons to make ({len(done)} already in {output})\n")
    try:
        with tempfile.TemporaryDirectory(prefix="wasmcmp-detection-") as name:
            scratch = Path(name)
            # `python -m` puts the working directory first on sys.path: away from a source
            # tree, PYTHONPATH decides which wasmcmp the measuring processes import.
            os.chdir(scratch)
            snapshot(scratch)
            package_copy(scratch / "base")
            calibrations: dict[str, dict[str, dict[str, Any]]] = {}
            for index, task in enumerate(todo, 1):
                cases_here = len(cases) if task.metric == "time" or task.kind == "A/A" else 1
                needed = expected_seconds(study, task, cases_here)
                if task.path is not None and task.metric not in calibrations:
                    needed += GUESS_PER_CASE * len(paths)  # calibrating, at most
                if needed > deadline - time.monotonic():
                    say(f"budget reached: {len(todo) - index + 1} comparisons left for a rerun\n")
                    break
                try:
                    calibration = None
                    if task.path is not None:
                        if task.metric not in calibrations:
                            calibrations[task.metric] = calibrate(
                                study, task.metric, paths, scratch, args.effort, args.rounds,
                                lambda: save_study(output, study), say,
                            )  # fmt: skip
                        calibration = calibrations[task.metric][task.path]
                    say(f"[{index}/{len(todo)}] {task.describe()}\n")
                    record = run_task(task, cases, study, calibration, scratch, args, say)
                except WasmcmpError as exc:
                    # left out of the file: a rerun tries it again
                    failures += 1
                    say(f"  failed, left for a rerun: {exc}\n")
                    continue
                study["comparisons"].append(record)
                save_study(output, study)
                regressed = [r["case"] for r in record["cases"] if r["verdict"] == "regressed"]
                achieved = f", measured {record['achieved'] - 1:+.1%}" if record["achieved"] else ""
                say(
                    f"  {len(regressed)} of {len(record['cases'])} regressed"
                    f"{f' {regressed}' if regressed else ''}"
                    f"{achieved} ({record['seconds']:.0f} s)\n"
                )
    except KeyboardInterrupt:
        say(f"\ninterrupted: {len(study['comparisons'])} comparisons kept in {output}\n")
        return 130
    finally:
        os.chdir(home)
    sys.stdout.write(summary(study))
    return 1 if failures else 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
