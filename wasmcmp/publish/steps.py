"""Lasting steps in each history, found by asv's own step detection, with a cache.

asv's ``detect_steps`` is the slow part of a build: histories are shared out to worker
processes when there is enough work, and each history's answer is kept in the site's marker
file, keyed by its values, so a rebuild only detects what changed.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing as mp
import os
import re
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import wasmcmp
from wasmcmp.publish.index import Index
from wasmcmp.results.config import AsvConfig
from wasmcmp.results.model import Measurement

#: asv's default: a step smaller than this fraction of the value is not a regression
DEFAULT_REGRESSION_THRESHOLD = 0.05

#: step detection runs in worker processes when the histories hold more points than this
PARALLEL_STEP_POINTS = 20_000

#: file that marks a folder as written by ``wasmcmp site``; it also carries the step cache
MARKER = ".wasmcmp-site"


@dataclass(frozen=True)
class Regression:
    """A lasting step up in one case's history on one series, between two commits."""

    case: str
    series: int
    before: int
    after: int
    value_before: float
    value_after: float

    @property
    def size(self) -> float:
        """Return the step as a fraction of the value before (0.1 means 10% slower)."""
        return self.value_after / self.value_before - 1 if self.value_before > 0 else math.inf


def _weight(m: Measurement) -> float | None:
    # The weight asv publish gives a point (asv._stats.get_weight): 2 / width of its interval.
    if not (math.isfinite(m.ci_low) and math.isfinite(m.ci_high)) or m.ci_high == m.ci_low:
        return None
    return 2 / abs(m.ci_high - m.ci_low)


def _detect(
    y: list[float], w: list[float | None], threshold: float
) -> list[tuple[int, int, float, float]]:
    """Return asv's regressions of one history: (before, after, value before, value after)."""
    from asv.step_detect import detect_regressions, detect_steps

    steps = detect_steps(y, w)
    _, _, jumps = detect_regressions(steps, threshold)
    return [(int(a), int(b), float(v0), float(v1)) for a, b, v0, v1 in jumps or () if b is not None]


def _detect_all(
    jobs: Sequence[tuple[list[float], list[float | None], float]],
) -> list[list[tuple[int, int, float, float]]]:
    """Return _detect of each job, in worker processes when there is enough work to share."""
    total = sum(len(y) for y, _, _ in jobs)
    workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1, 8)
    if total <= PARALLEL_STEP_POINTS or workers < 2 or len(jobs) < 2:
        return [_detect(*job) for job in jobs]
    # forkserver (spawn where it is missing): forking a process that may run threads is unsafe
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    context = mp.get_context(method)
    if method == "forkserver":
        # import once in the server rather than once per worker
        context.set_forkserver_preload(["wasmcmp.publish.steps", "asv.step_detect"])
    pool = context.Pool(workers)
    try:
        # longest first, so no worker is left with a long history at the end
        order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][0]))
        pending = {i: pool.apply_async(_detect, jobs[i]) for i in order}
        found = [pending[i].get() for i in range(len(jobs))]
        pool.close()
    except BaseException:
        # Ctrl-C, SIGTERM or a failure: stop the workers now rather than after the queue
        pool.terminate()
        raise
    finally:
        pool.join()
    return found


def _job_key(y: Sequence[float], w: Sequence[float | None], threshold: float) -> str:
    key = hashlib.blake2b(digest_size=16)
    key.update(array("d", [threshold, *y]).tobytes())
    key.update(array("d", [math.nan if x is None else x for x in w]).tobytes())
    return key.hexdigest()


def _threshold(case: str, benchmark: str, config: AsvConfig) -> float:
    # asv takes the largest threshold whose regex matches the benchmark name
    found = [
        t
        for pattern, t in config.regressions_thresholds.items()
        if _search(pattern, benchmark) or _search(pattern, case)
    ]
    return max(found) if found else DEFAULT_REGRESSION_THRESHOLD


def _search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def regressions(
    index: Index, config: AsvConfig, cache: Mapping[str, list[list[float]]]
) -> tuple[list[Regression], dict[str, list[list[float]]]]:
    """Return asv's regressions of every history, and the step cache for the next build."""
    histories: list[tuple[str, int, Sequence[tuple[int, Measurement]]]] = []
    for case, by_series in index.history.items():
        for s, points in by_series.items():
            if len(points) >= 3:
                histories.append((case, s, points))
    jobs = [
        (
            [m.value for _, m in points],
            [_weight(m) for _, m in points],
            _threshold(case, points[0][1].benchmark, config),
        )
        for case, _, points in histories
    ]
    keys = [_job_key(*job) for job in jobs]
    todo = [i for i, k in enumerate(keys) if k not in cache]
    fresh = dict(zip(todo, _detect_all([jobs[i] for i in todo]), strict=True))
    new_cache: dict[str, list[list[float]]] = {}
    regressions: list[Regression] = []
    for i, ((case, s, points), key) in enumerate(zip(histories, keys, strict=True)):
        jumps = fresh[i] if i in fresh else [tuple(j) for j in cache[key]]
        new_cache[key] = [list(j) for j in jumps]
        for before, after, v0, v1 in jumps:
            b, a = int(before), int(after)
            if 0 <= b < a < len(points):
                regressions.append(Regression(case, s, points[b][0], points[a][0], v0, v1))
    regressions.sort(key=lambda r: (-r.after, -r.size, r.case))
    return regressions, new_cache


def read_cache(out: Path) -> dict[str, list[list[float]]]:
    """Return the step cache a previous build left in its marker file, if it is usable."""
    try:
        data = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("cache") != cache_version():
        return {}
    steps = data.get("steps")
    if not isinstance(steps, dict):
        return {}
    return {
        str(k): v
        for k, v in steps.items()
        if isinstance(v, list)
        and all(
            isinstance(j, list)
            and len(j) == 4
            and all(isinstance(x, int | float) and not isinstance(x, bool) for x in j)
            for j in v
        )
    }


def cache_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        asv = version("asv")
    except PackageNotFoundError:
        asv = "unknown"
    return f"wasmcmp {wasmcmp.__version__}, asv {asv}"


__all__ = [
    "DEFAULT_REGRESSION_THRESHOLD",
    "MARKER",
    "PARALLEL_STEP_POINTS",
    "Regression",
    "cache_version",
    "read_cache",
    "regressions",
]
