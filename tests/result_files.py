"""Writers of real asv result folders and pyperf files for the results and site tests.

asv folders are written with asv's own ``Results.save`` and ``util.write_json``, pyperf files
with pyperf's API, so the readers meet the files those tools write, not hand-made JSON.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

#: what an attacker would put in a benchmark, parameter, machine or environment name
HOSTILE = (
    "<script>window.__pwned = 1</script>",
    '"><img src=x onerror="window.__pwned = 2">',
    "</script><script>window.__pwned = 3</script>",
)

CASE_PARAMS = ["guest", "approach", "function", "tier"]
GUESTS = ("go", "wat")
APPROACHES = ("exported", "imported-thread", "imported-greenlet")
FUNCTIONS = ("add", "cube")
TIERS = ("checked", "unchecked")

#: rough per-call levels (seconds) of each approach, to give the charts a realistic shape
_LEVEL = {"exported": 1.2e-6, "imported-thread": 1.9e-5, "imported-greenlet": 3.1e-6}


@dataclass(frozen=True)
class Bench:
    """A benchmark as benchmarks.json lists it."""

    name: str
    param_names: tuple[str, ...] = ()
    params: tuple[tuple[str, ...], ...] = ()
    type: str = "time"
    unit: str = "seconds"
    version: str = "1"

    def as_json(self) -> dict[str, object]:
        """Return the benchmarks.json entry asv would write."""
        return {
            "name": self.name,
            "param_names": list(self.param_names),
            "params": [list(p) for p in self.params],
            "type": self.type,
            "unit": self.unit,
            "version": self.version,
            "number": 0,
            "repeat": 0,
            "rounds": 2,
            "min_run_count": 2,
            "sample_time": 0.01,
            "warmup_time": -1,
            "timeout": 60.0,
        }


@dataclass(frozen=True)
class AsvRun:
    """One result file: a commit measured on a machine in an environment."""

    machine: str
    env: str
    commit: str
    date: datetime
    #: benchmark name -> per parameter combination, samples (seconds) or None if it failed
    samples: Mapping[str, Sequence[Sequence[float] | None]]
    python: str = "3.11"
    env_name: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


CROSSING = Bench(
    "crossing.Crossing.time_call",
    tuple(CASE_PARAMS),
    tuple(tuple(repr(v) for v in values) for values in (GUESTS, APPROACHES, FUNCTIONS, TIERS)),
)


def commit_hash(i: int) -> str:
    """Return a stable fake 40-hex commit hash for commit number i."""
    return f"{i * 2654435761 % 16**8:08x}" + f"{i:032x}"


def crossing_samples(
    rng: random.Random, slowdown: Mapping[str, float] | None = None, n: int = 10
) -> list[list[float]]:
    """Return samples per CROSSING parameter combination, in asv's product order."""
    out = []
    for guest in GUESTS:
        for approach in APPROACHES:
            for function in FUNCTIONS:
                for tier in TIERS:
                    level = _LEVEL[approach] * (0.8 if tier == "unchecked" else 1.0)
                    level *= 0.9 if guest == "wat" else 1.0
                    level *= 1.1 if function == "cube" else 1.0
                    case = f"{guest}/{approach}/{function}/{tier}"
                    level *= (slowdown or {}).get(case, 1.0)
                    out.append([level * rng.gauss(1.0, 0.02) for _ in range(n)])
    return out


def write_asv_results(
    folder: Path,
    benchmarks: Iterable[Bench],
    runs: Iterable[AsvRun],
    machines: Mapping[str, Mapping[str, str]] | None = None,
) -> Path:
    """Return ``folder`` after writing benchmarks.json, machine.json files and result files."""
    from asv import util
    from asv.results import Results
    from asv.runner import BenchmarkResult

    folder.mkdir(parents=True, exist_ok=True)
    benches = {b.name: b for b in benchmarks}
    util.write_json(
        str(folder / "benchmarks.json"), {n: b.as_json() for n, b in benches.items()}, 2
    )
    runs = list(runs)
    machine_dirs: dict[str, str] = {}
    for run in runs:
        if run.machine not in machine_dirs:
            machine_dirs[run.machine] = _folder_name(run.machine, len(machine_dirs))
    for machine, dirname in machine_dirs.items():
        info = {"machine": machine, "arch": "x86_64", "os": "Linux", "num_cpu": "2"}
        info.update((machines or {}).get(machine, {}))
        util.write_json(str(folder / dirname / "machine.json"), info, 1)
    for run in runs:
        dirname = machine_dirs[run.machine]
        safe_env = _folder_name(run.env, 0)
        result = Results(
            {"machine": run.machine, "python": run.python, **run.extra},
            {},
            run.commit,
            int(run.date.timestamp() * 1000),
            run.python,
            safe_env,
            {},
        )
        result._filename = f"{dirname}/{run.commit[:8]}-{safe_env}.json"
        for name, per_combo in run.samples.items():
            bench = benches[name]
            values = [None if s is None else 0.0 for s in per_combo]
            samples = [None if s is None else list(s) for s in per_combo]
            numbers = [None if s is None else 1 for s in per_combo]
            result.add_result(
                {"name": name, "version": bench.version, "params": [list(p) for p in bench.params]},
                BenchmarkResult(
                    result=values,
                    samples=samples,
                    number=numbers,
                    errcode=0 if all(s is not None for s in per_combo) else 1,
                    stderr="",
                    profile=None,
                ),
                started_at=run.date,
                duration=1.0,
                record_samples=True,
            )
        result.save(str(folder))
        if safe_env != run.env or run.env_name is not None:
            path = folder / result._filename
            data = json.loads(path.read_text())
            data["env_name"] = run.env_name or run.env
            path.write_text(json.dumps(data))
    return folder


def _folder_name(name: str, i: int) -> str:
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in name).strip("-.")
    return safe if safe == name else f"m{i}-{safe[:20] or 'x'}"


def wasmcmp_history(
    folder: Path,
    commits: int = 12,
    machines: Sequence[str] = ("ci-linux",),
    step_at: int | None = 8,
    step_case: str = "go/imported-thread/add/checked",
    seed: int = 1,
) -> Path:
    """Return an asv results folder of the wasmcmp matrix with one step up in one case."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    runs = []
    for i in range(commits):
        slow = {step_case: 1.5} if step_at is not None and i >= step_at else {}
        for machine in machines:
            runs.append(
                AsvRun(
                    machine=machine,
                    env="virtualenv-py3.11",
                    commit=commit_hash(i),
                    date=start + timedelta(days=i),
                    samples={CROSSING.name: crossing_samples(rng, slow)},
                )
            )
    return write_asv_results(folder, [CROSSING], runs)


def write_pyperf(
    path: Path,
    cases: Mapping[str, Sequence[float]],
    *,
    hostname: str = "laptop",
    commit: str | None = None,
    date: datetime | None = None,
) -> Path:
    """Return ``path`` after writing a pyperf suite with one benchmark per case name."""
    import pyperf

    metadata = {
        "hostname": hostname,
        "python_version": "3.11.7 (64-bit)",
        "date": (date or datetime(2025, 2, 1, 12, 0, tzinfo=UTC)).isoformat(),
    }
    if commit:
        metadata["wasmcmp_commit"] = commit
    benchmarks = []
    for name, values in cases.items():
        runs = [
            pyperf.Run(
                [v],
                warmups=[(1, v)],
                metadata={**metadata, "name": name, "loops": 1, "unit": "second"},
                collect_metadata=False,
            )
            for v in values
        ]
        benchmarks.append(pyperf.Benchmark(runs))
    pyperf.BenchmarkSuite(benchmarks).dump(str(path), replace=True)
    return path
