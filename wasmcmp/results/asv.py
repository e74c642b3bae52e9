"""Read asv result folders (any project's) and ``asv.conf.json`` into Runs.

A result file that is corrupt, truncated or of an unknown format version is left out and
listed with the reason; the rest of the folder is still read.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wasmcmp.errors import ResultsError
from wasmcmp.names import benchmark_name
from wasmcmp.results.config import AsvConfig, find_asv_config, read_asv_config
from wasmcmp.results.model import Measurement, Run


def _unquote(value: Any) -> str:
    text = str(value)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


# -- asv result folders ---------------------------------------------------------------------------

#: the asv result file format this reader understands (asv.results.Results.api_version)
ASV_RESULTS_VERSION = 2

#: result columns asv 0.6 writes, in order, for files that lack ``result_columns``
_ASV_COLUMNS = (
    "result",
    "params",
    "version",
    "started_at",
    "duration",
    "stats_ci_99_a",
    "stats_ci_99_b",
    "stats_q_25",
    "stats_q_75",
    "stats_number",
    "stats_repeat",
    "samples",
    "profile",
)

_UNIT_BY_TYPE = {"time": "seconds", "mem": "bytes", "peakmem": "bytes"}

#: (benchmark, its params column as JSON, results held) -> (case, params) per combination;
#: every result file of a folder repeats the same few layouts, so they are worked out once
_Layouts = dict[tuple[str, str, int], list[tuple[str, tuple[tuple[str, str], ...]]]]


@dataclass
class _Folder:
    """What reading one results folder carries from file to file."""

    benchmarks: Mapping[str, AsvBenchmark]
    layouts: _Layouts = field(default_factory=dict)
    warnings: list[tuple[Path, str]] = field(default_factory=list)
    #: benchmarks whose parameters were already found not to match benchmarks.json
    mismatched: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class AsvBenchmark:
    """One benchmark as asv's ``benchmarks.json`` describes it."""

    name: str
    type: str
    unit: str
    param_names: tuple[str, ...] = ()
    #: each parameter's values as asv stores them (Python reprs, e.g. ``'go'`` with quotes)
    params: tuple[tuple[str, ...], ...] = ()
    version: str | None = None


@dataclass(frozen=True)
class AsvResults:
    """Every run in one asv results folder, with its machines and benchmarks."""

    folder: Path
    runs: tuple[Run, ...]
    #: machine name -> what its machine.json says (arch, cpu, num_cpu, os, ram...)
    machines: Mapping[str, Mapping[str, str]]
    benchmarks: Mapping[str, AsvBenchmark]
    config: AsvConfig = field(default_factory=AsvConfig)
    #: files left out, each with the reason, for the user to see
    skipped: tuple[tuple[Path, str], ...] = ()
    #: what was read but looks wrong (a missing benchmarks.json, parameters that do not
    #: match it), each with the file it is about
    warnings: tuple[tuple[Path, str], ...] = ()
    #: measurements left out because benchmarks.json no longer has their benchmark or its code
    #: changed since (asv publish leaves these out too)
    outdated: int = 0


def read_asv(results_dir: Path, config: Path | None = None) -> AsvResults:
    """Return the runs, machines and benchmarks of an asv results folder.

    ``results_dir`` holds ``benchmarks.json`` and one folder per machine (``machine.json`` and
    ``<commit>-<env>.json`` files). A result file that is corrupt, truncated or of an unknown
    format version is left out and listed in ``skipped``; the rest is still read. ``config``
    is the project's ``asv.conf.json``; without it, one beside the folder is used if found.
    """
    folder = Path(results_dir)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such asv results folder (run `asv run` to make one)")
    skipped: list[tuple[Path, str]] = []
    conf_path = Path(config) if config is not None else find_asv_config(folder)
    conf = read_asv_config(conf_path) if conf_path is not None else AsvConfig()
    benchmarks = _read_benchmarks_json(folder / "benchmarks.json", skipped)
    reading = _Folder(benchmarks)
    if not (folder / "benchmarks.json").is_file():
        reading.warnings.append(
            (
                folder / "benchmarks.json",
                "missing: results of outdated benchmark versions cannot be told apart and "
                "parameter names are unknown (`asv run` or `asv update` writes it)",
            )
        )
    machines: dict[str, Mapping[str, str]] = {}
    runs: list[Run] = []
    outdated = 0
    for machine_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = sorted(
            p
            for p in machine_dir.glob("*.json")
            if p.name not in ("machine.json", "benchmarks.json")
        )
        if not files and not (machine_dir / "machine.json").is_file():
            continue
        machine_info = _read_machine_json(machine_dir / "machine.json", skipped)
        name = machine_info.get("machine") or machine_dir.name
        machines[name] = machine_info
        for path in files:
            try:
                run, left_out = _read_asv_result(path, name, reading)
            except ResultsError as exc:
                skipped.append((path, str(exc)))
                continue
            runs.append(run)
            outdated += left_out
    return AsvResults(
        folder=folder,
        runs=tuple(runs),
        machines=machines,
        benchmarks=benchmarks,
        config=conf,
        skipped=tuple(skipped),
        warnings=tuple(reading.warnings),
        outdated=outdated,
    )


def _read_benchmarks_json(path: Path, skipped: list[tuple[Path, str]]) -> dict[str, AsvBenchmark]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        benchmarks: dict[str, AsvBenchmark] = {}
        for name, info in data.items():
            if name == "version" or not isinstance(info, dict):
                continue
            kind = str(info.get("type", ""))
            version = info.get("version")
            benchmarks[name] = AsvBenchmark(
                name=name,
                type=kind,
                unit=str(info.get("unit") or _UNIT_BY_TYPE.get(kind, "")),
                param_names=tuple(str(p) for p in info.get("param_names") or ()),
                params=tuple(tuple(str(v) for v in values) for values in info.get("params") or ()),
                version=str(version) if version is not None else None,
            )
    except (OSError, ValueError, TypeError) as exc:
        skipped.append((path, f"not a readable benchmarks.json ({exc}); parameter names unknown"))
        return {}
    return benchmarks


def _read_machine_json(path: Path, skipped: list[tuple[Path, str]]) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
    except (OSError, ValueError, TypeError) as exc:
        skipped.append((path, f"not a readable machine.json ({exc}); the folder name is used"))
        return {}
    return {str(k): str(v) for k, v in data.items() if k != "version" and v is not None}


def _read_asv_result(path: Path, machine: str, reading: _Folder) -> tuple[Run, int]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: not readable JSON ({exc}); the file is left out") from exc
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: not an asv result file (no JSON object); left out")
    version = data.get("version")
    if version == 1:
        data = _upgrade_asv_v1(path, data)
    elif version != ASV_RESULTS_VERSION:
        raise ResultsError(
            f"{path}: asv result format version {version!r} is not {ASV_RESULTS_VERSION};"
            " left out (`asv update` rewrites old files)"
        )
    try:
        return _run_from_asv(path, machine, data, reading)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise ResultsError(
            f"{path}: malformed asv result file ({type(exc).__name__}: {exc}); left out"
        ) from exc


def _upgrade_asv_v1(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    from asv.results import Results
    from asv.util import UserError

    try:
        upgraded: dict[str, Any] = Results.update_to_2(data)
    except (UserError, KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ResultsError(
            f"{path}: malformed asv result file (format 1: {exc}); left out"
        ) from exc
    return upgraded


def _run_from_asv(
    path: Path, machine: str, data: dict[str, Any], reading: _Folder
) -> tuple[Run, int]:
    columns = data.get("result_columns") or _ASV_COLUMNS
    env_params = data.get("params") or {}
    measurements: dict[str, Measurement] = {}
    failed: set[str] = set()
    outdated = 0
    commit = str(data["commit_hash"])
    warnings: list[str] = []

    def warn(case: str, what: str) -> None:
        warnings.append(f"{path}: case {case!r} at commit {commit[:12]!r}: {what}; left out")

    benchmarks = reading.benchmarks
    for name, row in data["results"].items():
        if not isinstance(row, list):
            raise TypeError(f"benchmark {name!r} holds {type(row).__name__}, not a list")
        cols = dict(zip(columns, row, strict=False))
        info = benchmarks.get(name)
        recorded = cols.get("version")
        if benchmarks and (
            info is None or (recorded is not None and info.version not in (None, recorded))
        ):
            outdated += 1
            continue
        layout = _layout(path, name, cols, info, reading)
        for case, measurement in _asv_measurements(name, cols, info, layout, warn):
            if measurement is None:
                failed.add(case)
            else:
                measurements[case] = measurement
    date_ms = data.get("date")
    date = (
        datetime.fromtimestamp(date_ms / 1000, tz=UTC)
        if isinstance(date_ms, int | float) and not isinstance(date_ms, bool)
        else None
    )
    metadata = {str(k): str(v) for k, v in env_params.items() if v is not None}
    for requirement, version in (data.get("requirements") or {}).items():
        metadata[f"requirement:{requirement}"] = str(version)
    for variable, value in (data.get("env_vars") or {}).items():
        metadata[f"env:{variable}"] = str(value)
    python = data.get("python")
    return (
        Run(
            source=path,
            machine=machine,
            env=str(data.get("env_name") or path.stem.partition("-")[2]),
            measurements=measurements,
            commit=commit,
            date=date,
            python=str(python) if python is not None else None,
            failed=frozenset(failed),
            metadata=metadata,
            warnings=tuple(warnings),
        ),
        outdated,
    )


def _layout(
    path: Path, name: str, cols: Mapping[str, Any], info: AsvBenchmark | None, reading: _Folder
) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """Return (case, params) of each parameter combination the row holds a result for."""
    param_values = cols.get("params") or []
    if not isinstance(param_values, list) or not all(isinstance(v, list) for v in param_values):
        raise TypeError(f"benchmark {name!r}: params is not a list of lists")
    # Only as many combinations as the row has results: a file's parameter lists may
    # multiply out to far more (4 lists of 100 values are 10^8), which must cost nothing.
    held = len(_column(cols, "result"))
    key = (name, json.dumps(param_values), held)
    found = reading.layouts.get(key)
    if found is not None:
        return found
    if info is not None and len(info.param_names) == len(param_values):
        names: tuple[str, ...] = info.param_names
    else:
        names = tuple(f"param{i + 1}" for i in range(len(param_values)))
    if info is not None and name not in reading.mismatched and _differs(info, param_values):
        reading.mismatched.add(name)
        reading.warnings.append(
            (
                path,
                f"benchmark {name!r}: the parameters of this result differ from "
                "benchmarks.json's; read with the result's own (other files may do the same)",
            )
        )
    unit = info.unit if info is not None else _unit_from_name(name)
    found = []
    for combo in itertools.islice(itertools.product(*param_values), held):
        params = tuple(zip(names, (_unquote(v) for v in combo), strict=True))
        found.append((benchmark_name(name, dict(params), unit), params))
    reading.layouts[key] = found
    return found


def _differs(info: AsvBenchmark, param_values: list[list[Any]]) -> bool:
    if len(info.param_names) != len(param_values):
        return True
    return bool(info.params) and info.params != tuple(
        tuple(str(v) for v in values) for values in param_values
    )


def _asv_measurements(
    name: str,
    cols: Mapping[str, Any],
    info: AsvBenchmark | None,
    layout: list[tuple[str, tuple[tuple[str, str], ...]]],
    warn: Callable[[str, str], None],
) -> list[tuple[str, Measurement | None]]:
    """Return (case, measurement or None if it failed) per parameter combination."""
    unit = info.unit if info is not None else _unit_from_name(name)
    results = _column(cols, "result")
    ci_a, ci_b = _column(cols, "stats_ci_99_a"), _column(cols, "stats_ci_99_b")
    q25s, q75s = _column(cols, "stats_q_25"), _column(cols, "stats_q_75")
    all_samples = _column(cols, "samples")
    out: list[tuple[str, Measurement | None]] = []
    for j, (case, params) in enumerate(layout):
        value = results[j] if j < len(results) else None
        if value is None:
            out.append((case, None))
            continue
        value = float(value)
        if math.isnan(value):
            # asv records NaN for a combination the benchmark skipped (NotImplementedError)
            continue
        if math.isinf(value):
            # one infinite value would make step detection diverge, and mean nothing here
            warn(case, f"its value is {value}")
            continue
        low = ci_a[j] if j < len(ci_a) else None
        high = ci_b[j] if j < len(ci_b) else None
        q25 = q25s[j] if j < len(q25s) else None
        q75 = q75s[j] if j < len(q75s) else None
        samples = all_samples[j] if j < len(all_samples) else None
        out.append(
            (
                case,
                Measurement(
                    case=case,
                    value=value,
                    # asv's own "unknown" interval is infinite, as compute_stats gives for n < 3
                    ci_low=float(low) if low is not None else -math.inf,
                    ci_high=float(high) if high is not None else math.inf,
                    samples=_samples(samples, case, warn),
                    q25=float(q25) if q25 is not None else None,
                    q75=float(q75) if q75 is not None else None,
                    benchmark=name,
                    params=params,
                    unit=unit,
                ),
            )
        )
    return out


def _column(cols: Mapping[str, Any], key: str) -> list[Any]:
    column = cols.get(key)
    if column is None:
        return []
    if not isinstance(column, list):
        raise TypeError(f"column {key!r} holds {type(column).__name__}, not a list")
    return column


def _samples(samples: Any, case: str, warn: Callable[[str, str], None]) -> tuple[float, ...]:
    if not samples:
        return ()
    if not isinstance(samples, list):
        raise TypeError(f"samples hold {type(samples).__name__}, not a list")
    values = tuple(map(float, samples)) if None not in samples else _present(samples)
    if all(map(math.isfinite, values)):  # the common case, at C speed: 72,000 rows a site
        return values
    finite = tuple(v for v in values if math.isfinite(v))
    warn(case, f"{len(values) - len(finite)} of its samples are not finite")
    return finite


def _present(samples: list[Any]) -> tuple[float, ...]:
    return tuple(float(s) for s in samples if s is not None)


def _unit_from_name(name: str) -> str:
    kind = name.rpartition(".")[2].partition("_")[0]
    return _UNIT_BY_TYPE.get(kind, "")


__all__ = [
    "ASV_RESULTS_VERSION",
    "AsvBenchmark",
    "AsvResults",
    "read_asv",
]
