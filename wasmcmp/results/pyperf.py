"""Read a pyperf JSON file (as ``wasmcmp run`` writes it) into a Run."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wasmcmp import names
from wasmcmp.errors import ResultsError
from wasmcmp.results.model import Measurement, Run, measurement_from_samples


def read_pyperf(path: Path) -> Run:
    """Return the Run held by a pyperf JSON file (as written by ``wasmcmp run``)."""
    import pyperf

    path = Path(path)
    if not path.is_file():
        raise ResultsError(f"{path}: no such pyperf results file")
    try:
        suite = pyperf.BenchmarkSuite.load(str(path))
    except (ValueError, KeyError, TypeError, OSError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: not a readable pyperf JSON file ({exc})") from exc
    measurements: dict[str, Measurement] = {}
    failed: set[str] = set()
    metadata: dict[str, str] = {}
    warnings: list[str] = []
    for bench in suite.get_benchmarks():
        name = bench.get_name()
        try:
            values = list(bench.get_values())
        except (ValueError, KeyError, TypeError) as exc:
            raise ResultsError(f"{path}: benchmark {name!r} is malformed ({exc})") from exc
        if not values:
            failed.add(name)
            continue
        finite = [v for v in values if math.isfinite(v)]
        if len(finite) < len(values):
            left = "every value" if not finite else f"{len(values) - len(finite)} value(s)"
            warnings.append(f"{path}: case {name!r}: {left} not finite (inf or nan); left out")
        if not finite:
            continue
        measurements[name] = replace(
            measurement_from_samples(name, finite),
            units=_process_means(bench),
            unit=_unit(name, bench.get_metadata()),
            unstable=_unstable(bench),
        )
        if not metadata:
            metadata = {str(k): str(v) for k, v in bench.get_metadata().items()}
    date = _parse_pyperf_date(metadata.get("date"))
    return Run(
        source=path,
        machine=metadata.get("hostname", "unknown"),
        env="pyperf",
        measurements=measurements,
        commit=metadata.get("wasmcmp_commit") or None,
        date=date,
        python=metadata.get("python_version"),
        failed=frozenset(failed),
        metadata=metadata,
        warnings=tuple(warnings),
    )


def _unit(name: str, metadata: dict[str, Any]) -> str:
    """Return the unit of a benchmark's values: its metric's, else what pyperf records."""
    case = names.parse(name)
    if case is not None and case.metric != names.TIME:
        return names.METRIC_UNITS.get(case.metric, case.metric)
    unit = str(metadata.get("unit", "second"))
    return "seconds" if unit == "second" else unit


def _unstable(bench: Any) -> tuple[str, ...]:
    """Return pyperf's reasons to call a benchmark's result unstable (none: stable).

    The judgement is pyperf's own, the checks behind its "the benchmark result may be
    unstable" warning, which ``wasmcmp run`` silences during the run to report it once.
    """
    from pyperf._cli import format_checks

    if not all(math.isfinite(v) for v in bench.get_values()):
        return ()  # pyperf's statistics fail on inf and nan; the reader warns about them
    return tuple(line[2:] for line in format_checks(bench) if line.startswith("* "))


def _process_means(bench: Any) -> tuple[float, ...]:
    """Return the mean of each worker process's values (calibration runs have none)."""
    means = []
    for run in bench.get_runs():
        values = [v for v in run.values if math.isfinite(v)]
        if values:
            means.append(statistics.fmean(values))
    return tuple(means)


def _parse_pyperf_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    # pyperf writes the local time without a zone; astimezone() reads a naive time as local
    return parsed.astimezone(UTC)


__all__ = ["read_pyperf"]
