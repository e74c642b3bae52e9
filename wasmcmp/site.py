"""Render results into a static site: overview, history, ratios, regressions and machines.

The pages are the Jinja2 templates of ``site/`` (``wasmcmp/_site`` in the wheel). Each page
carries its data as JSON in a ``<script type="application/json">`` element and the vendored
uPlot draws the charts, so the folder works from ``file://`` and from GitHub Pages with no
network. Names, parameter values and metadata come from the benchmarked project and are
untrusted: they reach a page only through Jinja2's autoescaping or ``tojson``, and the
page's script only ever sets them as text.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing as mp
import os
import re
import shutil
import tempfile
import time
from array import array
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import jinja2

import wasmcmp
from wasmcmp.errors import SiteError
from wasmcmp.results import (
    CASE_PARAMS,
    EXPORTED,
    IMPORTED_PREFIX,
    AsvConfig,
    AsvResults,
    Measurement,
    Run,
)

#: asv's default: a step smaller than this fraction of the value is not a regression
DEFAULT_REGRESSION_THRESHOLD = 0.05

#: step detection runs in worker processes when the histories hold more points than this
PARALLEL_STEP_POINTS = 20_000

#: points drawn in a sparkline (the newest ones)
SPARK_POINTS = 40

#: file that marks a folder as written by ``wasmcmp site``, so a rebuild may replace it
MARKER = ".wasmcmp-site"


_SERIES_COLORS = (
    "#0072b2",
    "#d55e00",
    "#009e73",
    "#cc79a7",
    "#e69f00",
    "#56b4e9",
    "#8c564b",
    "#332288",
    "#117733",
    "#aa4499",
)
_APPROACH_COLORS = {
    "exported": "#0072b2",
    "imported-thread": "#d55e00",
    "imported-greenlet": "#009e73",
}
_APPROACH_ORDER = ("exported", "imported-thread", "imported-greenlet")
_TIER_ORDER = ("checked", "unchecked")

#: the multiplication sign of ratios and the en dash of intervals, spelled out for linters
TIMES = "\u00d7"
DASH = "\u2013"

_GITHUB_COMMIT = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+)/commit/$")


# -- what the comparison page takes ---------------------------------------------------------------


class SignificanceLike(Protocol):
    """The outcome of a significance test (``wasmcmp.compare.Significance`` has this shape)."""

    @property
    def test(self) -> str: ...

    @property
    def p_value(self) -> float | None: ...

    @property
    def significant(self) -> bool: ...


class ComparisonRow(Protocol):
    """One case of base against head (``wasmcmp.compare.CaseComparison`` has this shape)."""

    @property
    def case(self) -> str: ...

    @property
    def base(self) -> Measurement | None: ...

    @property
    def head(self) -> Measurement | None: ...

    @property
    def ratio(self) -> float | None: ...

    @property
    def factor(self) -> float: ...

    @property
    def significance(self) -> SignificanceLike | None: ...

    @property
    def verdict(self) -> str: ...


class ComparisonLike(Protocol):
    """Base, head and every case compared (``wasmcmp.compare.Comparison`` has this shape)."""

    @property
    def base(self) -> Run: ...

    @property
    def head(self) -> Run: ...

    @property
    def cases(self) -> Sequence[ComparisonRow]: ...


# -- what build_site returns ----------------------------------------------------------------------


@dataclass(frozen=True)
class SiteReport:
    """What a build wrote and what it left out."""

    out: Path
    pages: tuple[Path, ...]
    cases: int
    commits: int
    series: int
    regressions: int
    #: result files left out, each with the reason (also listed on the machines page)
    skipped: tuple[tuple[Path, str], ...] = ()
    seconds: float = 0.0


# -- the model the pages are drawn from -----------------------------------------------------------


@dataclass(frozen=True)
class _Commit:
    key: str
    date: datetime | None
    url: str | None
    is_hash: bool

    @property
    def label(self) -> str:
        return self.key[:8] if self.is_hash else self.key

    @property
    def stamp(self) -> float | None:
        return self.date.timestamp() if self.date else None


@dataclass(frozen=True)
class _Series:
    machine: str
    env: str
    color: str

    @property
    def name(self) -> str:
        return f"{self.machine} · {self.env}"


@dataclass(frozen=True)
class _Scale:
    label: str
    factor: float


@dataclass(frozen=True)
class _CaseName:
    """A case split for display: the muted prefix and the part people look for."""

    full: str
    prefix: str
    short: str
    guest: str = ""
    approach: str = ""
    function: str = ""
    tier: str = ""

    @property
    def is_wasmcmp(self) -> bool:
        return bool(self.guest)


@dataclass(frozen=True)
class _Regression:
    case: str
    series: int
    before: int
    after: int
    value_before: float
    value_after: float

    @property
    def size(self) -> float:
        return self.value_after / self.value_before - 1 if self.value_before > 0 else math.inf


@dataclass(frozen=True)
class _Book:
    """Every measurement by case, series and commit; built once, then only read."""

    commits: list[_Commit]
    series: list[_Series]
    #: case -> series index -> [(commit index, measurement)] in commit order
    history: dict[str, dict[int, list[tuple[int, Measurement]]]]
    #: series index -> commit index of its newest run -> cases that failed there
    failed: dict[int, tuple[int, frozenset[str]]]
    machines: dict[str, dict[str, str]]
    #: series index -> what the newest run says about its environment
    env_info: dict[int, dict[str, str]]
    runs_per_series: dict[int, int]
    names: dict[str, _CaseName] = field(default_factory=dict)
    slugs: dict[str, str] = field(default_factory=dict)
    scales: dict[str, _Scale] = field(default_factory=dict)
    commit_json: list[dict[str, Any]] = field(default_factory=list)


def _book(results: Sequence[AsvResults], runs: Sequence[Run], config: AsvConfig) -> _Book:
    all_runs: list[tuple[Run, AsvConfig]] = []
    machines: dict[str, dict[str, str]] = {}
    for found in results:
        conf = found.config if found.config.show_commit_url else config
        all_runs += [(run, conf) for run in found.runs]
        for name, info in found.machines.items():
            machines.setdefault(name, {}).update(info)
    from_asv = len(all_runs)
    all_runs += [(run, config) for run in runs]

    # asv records the commit's date; pyperf only when it ran, which places a commit only
    # when no asv result of it says better
    commit_dates: dict[str, tuple[int, datetime] | None] = {}
    commit_urls: dict[str, str | None] = {}
    hashes: set[str] = set()
    keys = _commit_keys(run for run, _ in all_runs)
    for i, (run, conf) in enumerate(all_runs):
        key = keys[i]
        if run.commit:
            hashes.add(key)
        known = commit_dates.get(key)
        mine = (0 if i < from_asv else 1, run.date) if run.date else None
        if key not in commit_dates or (mine and (known is None or mine < known)):
            commit_dates[key] = mine
        if not commit_urls.get(key) and run.commit:
            commit_urls[key] = conf.commit_url(run.commit)
    dates = {k: d[1] if d else None for k, d in commit_dates.items()}
    never = datetime.max.replace(tzinfo=UTC)
    order = sorted(dates, key=lambda k: (dates[k] or never, k))
    commits = [
        _Commit(
            key=k,
            date=dates[k],
            url=commit_urls.get(k),
            is_hash=k in hashes and bool(re.fullmatch(r"[0-9a-fA-F]{7,64}", k)),
        )
        for k in order
    ]
    commit_index = {c.key: i for i, c in enumerate(commits)}

    series_keys = sorted({(run.machine, run.env) for run, _ in all_runs})
    series = [
        _Series(m, e, _SERIES_COLORS[i % len(_SERIES_COLORS)])
        for i, (m, e) in enumerate(series_keys)
    ]
    series_index = {(s.machine, s.env): i for i, s in enumerate(series)}

    cells: dict[str, dict[int, dict[int, Measurement]]] = {}
    newest: dict[int, tuple[int, Run]] = {}
    runs_per_series: dict[int, int] = {}
    for i, (run, _) in enumerate(all_runs):
        s = series_index[(run.machine, run.env)]
        c = commit_index[keys[i]]
        runs_per_series[s] = runs_per_series.get(s, 0) + 1
        for case, m in run.measurements.items():
            cells.setdefault(case, {}).setdefault(s, {})[c] = m
        if s not in newest or c >= newest[s][0]:
            newest[s] = (c, run)
        machines.setdefault(run.machine, {})
    history = {
        case: {s: sorted(points.items()) for s, points in sorted(by_series.items())}
        for case, by_series in cells.items()
    }
    env_info: dict[int, dict[str, str]] = {}
    failed: dict[int, tuple[int, frozenset[str]]] = {}
    for s, (c, run) in newest.items():
        info = {"python": run.python or ""} if run.python else {}
        info.update({k: v for k, v in run.metadata.items() if k not in ("machine", "python")})
        env_info[s] = info
        failed[s] = (c, run.failed)
    order = sorted(history, key=_case_order)
    return _Book(
        commits,
        series,
        history,
        failed,
        machines,
        env_info,
        runs_per_series,
        names={case: _split_case(case, _first(history[case])) for case in order},
        slugs=_slugs(order),
    )


def _commit_keys(runs: Iterable[Run]) -> list[str]:
    """Return each run's commit, or for a run without one its file's name (made unique)."""
    keys: list[str] = []
    names: dict[Path, str] = {}
    for run in runs:
        if run.commit:
            keys.append(run.commit)
            continue
        if run.source not in names:
            # the file's name only: a published page must not show the builder's folders
            name = run.source.name
            taken = set(names.values())
            n = 2
            while name in taken:
                name = f"{run.source.name} ({n})"
                n += 1
            names[run.source] = name
        keys.append(names[run.source])
    return keys


def _first(by_series: Mapping[int, list[tuple[int, Measurement]]]) -> Measurement:
    return next(iter(by_series.values()))[0][1]


def _wasmcmp_parts(case: str, m: Measurement) -> tuple[str, str, str, str] | None:
    params = dict(m.params)
    if tuple(params) == CASE_PARAMS:
        g, a, f, t = (params[p] for p in CASE_PARAMS)
    elif not m.params and m.benchmark in ("", case) and case.count("/") == 3:
        g, a, f, t = case.split("/")
    else:
        return None
    if a != EXPORTED and not a.startswith(IMPORTED_PREFIX):
        return None
    return g, a, f, t


def _split_case(case: str, m: Measurement) -> _CaseName:
    parts = _wasmcmp_parts(case, m)
    if parts is not None:
        return _CaseName(case, "", case, *parts)
    bench = m.benchmark or case
    args = case[len(bench) :] if case.startswith(bench) else ""
    dotted = bench.split(".")
    if len(dotted) > 2:
        return _CaseName(case, ".".join(dotted[:-2]) + ".", ".".join(dotted[-2:]) + args)
    return _CaseName(case, "", case)


def _case_order(case: str) -> tuple[int, str]:
    return (0 if case.count("/") == 3 else 1, case)


def _slugs(cases: Iterable[str]) -> dict[str, str]:
    slugs: dict[str, str] = {}
    used: set[str] = set()
    for case in cases:
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", case).strip("-.")[:120] or "case"
        slug = base
        if slug.lower() in used:
            slug = f"{base}-{hashlib.sha1(case.encode()).hexdigest()[:8]}"
        used.add(slug.lower())
        slugs[case] = slug
    return slugs


# -- numbers as people read them ------------------------------------------------------------------


def _scale(unit: str, values: Iterable[float]) -> _Scale:
    finite = sorted(abs(v) for v in values if math.isfinite(v))
    typical = finite[len(finite) // 2] if finite else 0.0
    if unit == "seconds":
        for factor, label in ((1e9, "ns/op"), (1e6, "µs/op"), (1e3, "ms/op")):
            if typical * factor < 1000:
                return _Scale(label, factor)
        return _Scale("s/op", 1.0)
    if unit == "bytes":
        for factor, label in ((1.0, "bytes"), (1 / 1024, "KiB"), (1 / 1024**2, "MiB")):
            if typical * factor < 1024:
                return _Scale(label, factor)
        return _Scale("GiB", 1 / 1024**3)
    return _Scale(unit or "value", 1.0)


def _num(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.4g}" if abs(value) >= 1 else f"{value:.3g}"


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class _Cell:
    """A measurement as a table cell shows it."""

    value: str
    interval: str
    spread: str
    title: str


def _cell(m: Measurement, scale: _Scale) -> _Cell:
    v = m.value * scale.factor
    if math.isfinite(m.ci_low) and math.isfinite(m.ci_high):
        interval = f"{_num(m.ci_low * scale.factor)}{DASH}{_num(m.ci_high * scale.factor)}"
        spread = f"±{m.spread * 50:.1f}%" if math.isfinite(m.spread) else ""
    else:
        interval, spread = "", ""
    n = len(m.samples)
    title = f"median {_num(v)} {scale.label}"
    if interval:
        title += f", 99% interval {interval}"
    if n:
        title += f", {n} samples"
    return _Cell(_num(v), interval, spread, title)


def _ratio_text(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if value >= 100:
        return f"{TIMES}{value:,.0f}"
    return f"{TIMES}{value:.1f}" if value >= 10 else f"{TIMES}{value:.2f}"


# -- step detection (asv's) -----------------------------------------------------------------------


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
        context.set_forkserver_preload(["wasmcmp.site", "asv.step_detect"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        # longest first, so no worker is left with a long history at the end
        order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][0]))
        futures = {i: pool.submit(_detect, *jobs[i]) for i in order}
        return [futures[i].result() for i in range(len(jobs))]


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


def _regressions(
    book: _Book, config: AsvConfig, cache: Mapping[str, list[list[float]]]
) -> tuple[list[_Regression], dict[str, list[list[float]]]]:
    """Return asv's regressions of every history, and the step cache for the next build."""
    histories: list[tuple[str, int, list[tuple[int, Measurement]]]] = []
    for case, by_series in book.history.items():
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
    regressions: list[_Regression] = []
    for i, ((case, s, points), key) in enumerate(zip(histories, keys, strict=True)):
        jumps = fresh[i] if i in fresh else [tuple(j) for j in cache[key]]
        new_cache[key] = [list(j) for j in jumps]
        for before, after, v0, v1 in jumps:
            b, a = int(before), int(after)
            if 0 <= b < a < len(points):
                regressions.append(_Regression(case, s, points[b][0], points[a][0], v0, v1))
    regressions.sort(key=lambda r: (-r.after, -r.size, r.case))
    return regressions, new_cache


def _read_cache(out: Path) -> dict[str, list[list[float]]]:
    """Return the step cache a previous build left in its marker file, if it is usable."""
    try:
        data = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("cache") != _cache_version():
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


def _cache_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        asv = version("asv")
    except PackageNotFoundError:
        asv = "unknown"
    return f"wasmcmp {wasmcmp.__version__}, asv {asv}"


# -- page data ------------------------------------------------------------------------------------


def _chart_data(
    title: str,
    unit: _Scale,
    lines: Sequence[tuple[str, str, Sequence[tuple[int, float, float | None, float | None]]]],
) -> dict[str, Any]:
    """Return one chart's JSON: commit indices and, per line, value and interval (or null)."""
    used = sorted({p[0] for _, _, pts in lines for p in pts})
    position = {c: i for i, c in enumerate(used)}
    factor = unit.factor
    magnitudes = sorted(
        abs(p[1] * factor) for _, _, pts in lines for p in pts if math.isfinite(p[1])
    )
    typical = magnitudes[len(magnitudes) // 2] if magnitudes else 0.0
    # five significant digits of a typical value are more than any interval supports
    digits = max(0, 4 - math.floor(math.log10(typical))) if typical > 0 else 6
    series = []
    for name, color, pts in lines:
        y: list[float | None] = [None] * len(used)
        lo: list[float | None] = [None] * len(used)
        hi: list[float | None] = [None] * len(used)
        for c, v, a, b in pts:
            i = position[c]
            y[i] = round(v * factor, digits) if math.isfinite(v) else None
            lo[i] = round(a * factor, digits) if a is not None else None
            hi[i] = round(b * factor, digits) if b is not None else None
        series.append({"name": name, "color": color, "y": y, "lo": lo, "hi": hi})
    return {"title": title, "unit": unit.label, "x": used, "series": series}


def _commits_json(book: _Book, used: Iterable[int]) -> dict[str, Any]:
    """Return the commits a page refers to, by commit index, for tooltips and links."""
    if not book.commit_json:
        book.commit_json.extend(
            {"id": c.key, "label": c.label, "t": c.stamp, "url": c.url} for c in book.commits
        )
    return {str(c): book.commit_json[c] for c in sorted(set(used))}


def _case_scale(book: _Book, case: str) -> _Scale:
    found = book.scales.get(case)
    if found is None:
        by_series = book.history[case]
        unit = _first(by_series).unit
        found = _scale(unit, (m.value for pts in by_series.values() for _, m in pts))
        book.scales[case] = found
    return found


def _history_chart(book: _Book, case: str) -> dict[str, Any]:
    by_series = book.history[case]
    scale = _case_scale(book, case)
    lines = [
        (
            book.series[s].name,
            book.series[s].color,
            [(c, m.value, _finite(m.ci_low), _finite(m.ci_high)) for c, m in pts],
        )
        for s, pts in by_series.items()
    ]
    return _chart_data(case, scale, lines)


@dataclass(frozen=True)
class _RatioGroup:
    guest: str
    function: str
    tier: str
    exported: str
    imported: tuple[str, ...]

    @property
    def title(self) -> str:
        return f"{self.guest} · {self.function} · {self.tier}"


def _ratio_groups(book: _Book) -> list[_RatioGroup]:
    groups: dict[tuple[str, str, str], dict[str, str]] = {}
    for case, name in book.names.items():
        if name.is_wasmcmp:
            groups.setdefault((name.guest, name.function, name.tier), {})[name.approach] = case
    out = []
    for (g, f, t), by_approach in sorted(groups.items(), key=lambda kv: _group_order(*kv[0])):
        if EXPORTED not in by_approach:
            continue
        imported = tuple(
            by_approach[a] for a in sorted(by_approach, key=_approach_order) if a != EXPORTED
        )
        if imported:
            out.append(_RatioGroup(g, f, t, by_approach[EXPORTED], imported))
    return out


def _group_order(guest: str, function: str, tier: str) -> tuple[str, str, int, str]:
    rank = _TIER_ORDER.index(tier) if tier in _TIER_ORDER else len(_TIER_ORDER)
    return (guest, function, rank, tier)


def _approach_order(approach: str) -> tuple[int, str]:
    rank = _APPROACH_ORDER.index(approach) if approach in _APPROACH_ORDER else len(_APPROACH_ORDER)
    return (rank, approach)


def _ratio_point(
    imported: Measurement, exported: Measurement
) -> tuple[float, float | None, float | None] | None:
    if exported.value <= 0:
        return None
    value = imported.value / exported.value
    # The widest ratio both 99% intervals allow: imported low over exported high, and back.
    low = high = None
    if (
        math.isfinite(imported.ci_low)
        and math.isfinite(exported.ci_high)
        and math.isfinite(imported.ci_high)
        and exported.ci_low > 0
        and exported.ci_high > 0
    ):
        low = imported.ci_low / exported.ci_high
        high = imported.ci_high / exported.ci_low
    return value, low, high


def _ratio_chart(book: _Book, group: _RatioGroup) -> dict[str, Any]:
    exported = book.history[group.exported]
    lines = []
    k = 0
    for case in group.imported:
        approach = book.names[case].approach
        for s, pts in book.history[case].items():
            base = dict(exported.get(s, ()))
            ratio_pts = []
            for c, m in pts:
                if c in base and (r := _ratio_point(m, base[c])) is not None:
                    ratio_pts.append((c, *r))
            if ratio_pts:
                color = _SERIES_COLORS[k % len(_SERIES_COLORS)]
                lines.append((f"{approach} — {book.series[s].name}", color, ratio_pts))
                k += 1
    return _chart_data(group.title, _Scale(f"{TIMES} exported", 1.0), lines)


# -- the overview: the seed-style table and the bar chart -----------------------------------------


@dataclass(frozen=True)
class _SeedRow:
    guest: str
    function: str
    tier: str
    cells: tuple[tuple[_Cell, str] | None, ...]
    ratios: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    err_top: float | None
    err_bottom: float | None
    label: str
    title: str


@dataclass(frozen=True)
class _BarChart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    unit: str
    bars: tuple[_Bar, ...]
    ticks: tuple[tuple[float, str], ...]
    groups: tuple[tuple[float, str, str], ...]
    legend: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _SeedSection:
    series: _Series
    commit: _Commit
    approaches: tuple[str, ...]
    imported: tuple[str, ...]
    unit: str
    rows: tuple[_SeedRow, ...]
    chart: _BarChart
    failed: tuple[str, ...]


def _seed_sections(book: _Book) -> list[_SeedSection]:
    sections = []
    for s in range(len(book.series)):
        newest: int | None = None
        for case, by_series in book.history.items():
            if book.names[case].is_wasmcmp and s in by_series:
                c = by_series[s][-1][0]
                newest = c if newest is None else max(newest, c)
        if newest is None:
            continue
        latest: dict[str, Measurement] = {}
        for case, by_series in book.history.items():
            if book.names[case].is_wasmcmp and s in by_series:
                last_c, last_m = by_series[s][-1]
                if last_c == newest:
                    latest[case] = last_m
        section = _seed_section(book, s, newest, latest)
        if section is not None:
            sections.append(section)
    return sections


def _seed_section(
    book: _Book, s: int, commit: int, latest: Mapping[str, Measurement]
) -> _SeedSection | None:
    by_key: dict[tuple[str, str, str], dict[str, tuple[str, Measurement]]] = {}
    for case, m in latest.items():
        n = book.names[case]
        by_key.setdefault((n.guest, n.function, n.tier), {})[n.approach] = (case, m)
    if not by_key:
        return None
    approaches = tuple(sorted({a for row in by_key.values() for a in row}, key=_approach_order))
    imported = tuple(a for a in approaches if a != EXPORTED)
    scale = _scale("seconds", (m.value for m in latest.values()))
    rows = []
    for key in sorted(by_key, key=lambda k: _group_order(*k)):
        row = by_key[key]
        cells = tuple(
            (_cell(row[a][1], scale), book.slugs[row[a][0]]) if a in row else None
            for a in approaches
        )
        ratios = []
        for a in imported:
            point = (
                _ratio_point(row[a][1], row[EXPORTED][1]) if a in row and EXPORTED in row else None
            )
            if point is None:
                ratios.append(("—", ""))
            else:
                value, low, high = point
                title = f"{a} / exported = {value:.4g}"
                if low is not None and high is not None:
                    title += f" (from the 99% intervals: {low:.3g}{DASH}{high:.3g})"
                ratios.append((_ratio_text(value), title))
        rows.append(_SeedRow(*key, cells, tuple(ratios)))
    chart = _bar_chart(by_key, approaches, scale)
    failed = tuple(sorted(f for f in book.failed.get(s, (0, frozenset()))[1] if "/" in f))
    return _SeedSection(
        book.series[s],
        book.commits[commit],
        approaches,
        imported,
        scale.label,
        tuple(rows),
        chart,
        failed,
    )


def _nice_ticks(top: float) -> list[float]:
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(k * power for k in (1, 2, 2.5, 5, 10) if k * power >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _bar_chart(
    by_key: Mapping[tuple[str, str, str], Mapping[str, tuple[str, Measurement]]],
    approaches: Sequence[str],
    scale: _Scale,
) -> _BarChart:
    keys = sorted(by_key, key=lambda k: _group_order(*k))
    left, top, right, bottom = 64, 36, 16, 58
    group_width = max(72, min(150, 1100 // max(1, len(keys))))
    plot_width = group_width * len(keys)
    plot_height = 260
    peak = 0.0
    for row in by_key.values():
        for _, m in row.values():
            high = m.ci_high if math.isfinite(m.ci_high) else m.value
            peak = max(peak, m.value, high)
    ticks = _nice_ticks(peak * scale.factor * 1.08)
    y_max = ticks[-1] or 1.0

    def y_of(v: float) -> float:
        return round(top + plot_height * (1 - max(0.0, min(v, y_max)) / y_max), 1)

    bar_width = (group_width - 16) / max(1, len(approaches))
    bars = []
    groups = []
    for i, key in enumerate(keys):
        x0 = left + i * group_width + 8
        groups.append((round(x0 + (group_width - 16) / 2, 1), f"{key[0]} · {key[1]}", key[2]))
        row = by_key[key]
        exported = row.get(EXPORTED)
        for j, a in enumerate(approaches):
            if a not in row:
                continue
            case, m = row[a]
            v = m.value * scale.factor
            err = math.isfinite(m.ci_low) and math.isfinite(m.ci_high)
            label = ""
            if a != EXPORTED and exported is not None and exported[1].value > 0:
                label = _ratio_text(m.value / exported[1].value)
            cell = _cell(m, scale)
            bars.append(
                _Bar(
                    x=round(x0 + j * bar_width + 1, 1),
                    y=y_of(v),
                    width=round(bar_width - 2, 1),
                    height=round(top + plot_height - y_of(v), 1),
                    color=_approach_color(a),
                    err_top=y_of(m.ci_high * scale.factor) if err else None,
                    err_bottom=y_of(m.ci_low * scale.factor) if err else None,
                    label=label,
                    title=f"{case}: {cell.title}",
                )
            )
    return _BarChart(
        width=left + plot_width + right,
        height=top + plot_height + bottom,
        left=left,
        top=top,
        plot_width=plot_width,
        plot_height=plot_height,
        unit=scale.label,
        bars=tuple(bars),
        ticks=tuple((y_of(t), _num(t)) for t in ticks),
        groups=tuple(groups),
        legend=tuple((a, _approach_color(a)) for a in approaches),
    )


def _approach_color(approach: str) -> str:
    if approach in _APPROACH_COLORS:
        return _APPROACH_COLORS[approach]
    return _SERIES_COLORS[4 + sum(map(ord, approach)) % 6]


# -- the case table (overview and history index) --------------------------------------------------


@dataclass(frozen=True)
class _Latest:
    cell: _Cell
    change: str
    change_kind: str
    spark: str
    commit: str


@dataclass(frozen=True)
class _CaseRow:
    name: _CaseName
    slug: str
    unit: str
    latest: tuple[_Latest | None, ...]
    points: int


def _case_rows(book: _Book, cases: Iterable[str]) -> list[_CaseRow]:
    rows = []
    for case in cases:
        by_series = book.history[case]
        scale = _case_scale(book, case)
        latest: list[_Latest | None] = []
        for s in range(len(book.series)):
            pts = by_series.get(s)
            if not pts:
                latest.append(None)
                continue
            c, m = pts[-1]
            change, kind = "", ""
            if len(pts) > 1 and pts[-2][1].value > 0:
                rel = m.value / pts[-2][1].value - 1
                change = f"{rel * 100:+.1f}%" if abs(rel) >= 0.0005 else "0.0%"
                kind = "up" if rel > 0.05 else "down" if rel < -0.05 else "flat"
            latest.append(
                _Latest(
                    _cell(m, scale),
                    change,
                    kind,
                    _spark([p.value for _, p in pts[-SPARK_POINTS:]]),
                    book.commits[c].label,
                )
            )
        rows.append(
            _CaseRow(
                book.names[case],
                book.slugs[case],
                scale.label,
                tuple(latest),
                sum(len(p) for p in by_series.values()),
            )
        )
    return rows


def _spark(values: Sequence[float], width: float = 96, height: float = 22) -> str:
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = width / (len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}"
        for i, v in enumerate(values)
    )


# -- regressions, machines, comparison as rows ----------------------------------------------------


@dataclass(frozen=True)
class _RegressionRow:
    name: _CaseName
    slug: str
    series: _Series
    before: _Commit
    after: _Commit
    value_before: str
    value_after: str
    unit: str
    size: str
    range_url: str | None


def _regression_rows(book: _Book, found: Sequence[_Regression]) -> list[_RegressionRow]:
    rows = []
    for r in found:
        scale = _case_scale(book, r.case)
        before, after = book.commits[r.before], book.commits[r.after]
        rows.append(
            _RegressionRow(
                book.names[r.case],
                book.slugs[r.case],
                book.series[r.series],
                before,
                after,
                _num(r.value_before * scale.factor),
                _num(r.value_after * scale.factor),
                scale.label,
                f"+{r.size * 100:.1f}%" if math.isfinite(r.size) else "∞",
                _range_url(before, after),
            )
        )
    return rows


def _range_url(before: _Commit, after: _Commit) -> str | None:
    if not (before.url and after.url and before.is_hash and after.is_hash):
        return None
    found = _GITHUB_COMMIT.match(before.url[: -len(before.key)])
    if not found:
        return None
    return f"https://github.com/{found[1]}/{found[2]}/compare/{before.key}...{after.key}"


@dataclass(frozen=True)
class _Environment:
    series: _Series
    runs: int
    first: _Commit | None
    last: _Commit | None
    info: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Machine:
    name: str
    info: tuple[tuple[str, str], ...]
    environments: tuple[_Environment, ...]


def _machine_rows(book: _Book) -> list[_Machine]:
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for by_series in book.history.values():
        for s, pts in by_series.items():
            first[s] = min(first.get(s, pts[0][0]), pts[0][0])
            last[s] = max(last.get(s, pts[-1][0]), pts[-1][0])
    machines = []
    for name in sorted(book.machines):
        envs = tuple(
            _Environment(
                series,
                book.runs_per_series.get(s, 0),
                book.commits[first[s]] if s in first else None,
                book.commits[last[s]] if s in last else None,
                tuple(sorted(book.env_info.get(s, {}).items())),
            )
            for s, series in enumerate(book.series)
            if series.machine == name
        )
        info = tuple(sorted((k, v) for k, v in book.machines[name].items() if k != "machine"))
        machines.append(_Machine(name, info, envs))
    return machines


@dataclass(frozen=True)
class _CompareRow:
    name: _CaseName
    slug: str | None
    verdict: str
    base: _Cell | None
    head: _Cell | None
    unit: str
    ratio: str
    change: str
    test: str


_VERDICT_ORDER = ("regressed", "failed", "improved", "new", "missing", "unchanged")


def _compare_rows(book: _Book, comparison: ComparisonLike) -> list[_CompareRow]:
    rows = []
    for c in comparison.cases:
        present = [m for m in (c.base, c.head) if m is not None]
        scale = _scale(present[0].unit if present else "seconds", (m.value for m in present))
        ratio = c.ratio
        if ratio is None or not math.isfinite(ratio):
            change = "—" if ratio is None else "∞"
            ratio_text = "—" if ratio is None else "∞"
        else:
            change = f"{(ratio - 1) * 100:+.1f}%"
            ratio_text = f"{ratio:.2f}{TIMES}"
        sig = c.significance
        if sig is None:
            test = "—"
        elif sig.p_value is None:
            test = "intervals apart" if sig.significant else "intervals overlap"
        else:
            test = "p<0.0001" if sig.p_value < 1e-4 else f"p={sig.p_value:.4f}"
        name = book.names.get(c.case) or (
            _split_case(c.case, present[0]) if present else _CaseName(c.case, "", c.case)
        )
        rows.append(
            _CompareRow(
                name,
                book.slugs.get(c.case),
                str(c.verdict),
                _cell(c.base, scale) if c.base is not None else None,
                _cell(c.head, scale) if c.head is not None else None,
                scale.label,
                ratio_text,
                change,
                test,
            )
        )
    rank = {v: i for i, v in enumerate(_VERDICT_ORDER)}
    rows.sort(key=lambda r: (rank.get(r.verdict, len(rank)), r.name.full))
    return rows


def _run_label(run: Run) -> str:
    commit = run.commit[:8] if run.commit else run.source.name
    return f"{commit} on {run.machine} · {run.env}"


# -- writing the folder ---------------------------------------------------------------------------


def templates_dir() -> Path:
    """Return the folder holding the site's templates and assets (wheel or source tree)."""
    packaged = Path(wasmcmp.__file__).parent / "_site"
    if packaged.is_dir():
        return packaged
    return Path(wasmcmp.__file__).resolve().parent.parent / "site"


def _environment(folder: Path) -> jinja2.Environment:
    if not (folder / "templates" / "base.html").is_file():
        raise SiteError(
            f"{folder}: the site templates are missing; reinstall wasmcmp or run from a checkout"
        )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "separators": (",", ":")}
    env.filters["num"] = _num
    env.filters["date"] = _date_text
    env.filters["day"] = _day_text
    return env


def _date_text(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _day_text(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d") if value else "—"


def build_site(
    out: Path,
    results: Sequence[AsvResults] = (),
    runs: Sequence[Run] = (),
    *,
    config: AsvConfig | None = None,
    comparison: ComparisonLike | None = None,
    title: str | None = None,
) -> SiteReport:
    """Return what was written after building the static site for these results into ``out``.

    ``results`` are asv result folders (see ``results.read_asv``), ``runs`` pyperf runs (see
    ``results.read_pyperf``). ``config`` names the project and links commits when the
    folders carry no asv.conf.json of their own. With ``comparison`` (``compare.compare``),
    a page shows base against head. The site is written to a temporary sibling folder and
    renamed into place: if anything fails, a previous site at ``out`` is left untouched.
    """
    started = time.perf_counter()
    out = Path(out)
    _check_out(out)
    conf = config or next((r.config for r in results if r.config.source), AsvConfig())
    project = title or conf.project or "wasmcmp"
    book = _book(results, runs, conf)
    if not book.history:
        where = ", ".join(str(r.folder) for r in results) or "the given files"
        raise SiteError(
            f"no measurements in {where}; check --results points at an asv results folder "
            "(with machine folders inside) or pass --pyperf files"
        )
    skipped = tuple(s for r in results for s in r.skipped)
    outdated = sum(r.outdated for r in results)
    folder = templates_dir()
    env = _environment(folder)
    found, cache = _regressions(book, conf, _read_cache(out) if out.is_dir() else {})

    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    # mkdtemp makes the folder private (0700); the site it becomes must be readable by the
    # web server and by GitHub Pages, like any folder made under the user's umask.
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    try:
        pages = _write_pages(tmp, env, book, found, project, conf, skipped, outdated, comparison)
        for sub in ("assets", "vendor"):
            shutil.copytree(folder / sub, tmp / sub)
        (tmp / ".nojekyll").write_text("")
        # asv's step detection is the slow part of a build: keep its answers per history
        marker = {
            "written by": f"wasmcmp {wasmcmp.__version__}",
            "cache": _cache_version(),
            "steps": cache,
        }
        (tmp / MARKER).write_text(json.dumps(marker, separators=(",", ":")), encoding="utf-8")
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return SiteReport(
        out=out,
        pages=tuple(out / p for p in pages),
        cases=len(book.history),
        commits=len(book.commits),
        series=len(book.series),
        regressions=len(found),
        skipped=skipped,
        seconds=time.perf_counter() - started,
    )


def _check_out(out: Path) -> None:
    if not out.parent.is_dir():
        raise SiteError(f"{out.parent}: no such folder to write the site into; create it first")
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise SiteError(
            f"{out}: folder is not empty and was not written by `wasmcmp site`; "
            "choose a new or empty --out so nothing of yours is replaced"
        )


def _swap_into_place(tmp: Path, out: Path) -> None:
    if not out.exists():
        tmp.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    old.rmdir()
    out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_pages(
    tmp: Path,
    env: jinja2.Environment,
    book: _Book,
    found: Sequence[_Regression],
    project: str,
    config: AsvConfig,
    skipped: Sequence[tuple[Path, str]],
    outdated: int,
    comparison: ComparisonLike | None,
) -> list[str]:
    groups = _ratio_groups(book)
    nav = [("index.html", "Overview"), ("history/index.html", "History")]
    if groups:
        nav.append(("ratios.html", "Ratios"))
    nav.append(("regressions.html", "Regressions"))
    if comparison is not None:
        nav.append(("compare.html", "Comparison"))
    nav.append(("machines.html", "Machines"))
    dated = [c.date for c in book.commits if c.date]
    common = {
        "project": project,
        "project_url": config.project_url
        if config.project_url and config.project_url.startswith(("https://", "http://"))
        else None,
        "nav": nav,
        "series": book.series,
        "generated": datetime.now(UTC),
        "version": wasmcmp.__version__,
        "first_date": min(dated) if dated else None,
        "last_date": max(dated) if dated else None,
        "n_commits": len(book.commits),
        "n_cases": len(book.history),
    }
    pages: list[str] = []

    def write(path: str, template: str, **context: Any) -> None:
        depth = path.count("/")
        html = env.get_template(template).render(
            root="../" * depth, current=path, **common, **context
        )
        target = tmp / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        pages.append(path)

    seeds = _seed_sections(book)
    names = list(book.names)
    seeded = {c for c in names if book.names[c].is_wasmcmp}
    other = [c for c in names if c not in seeded]
    regression_rows = _regression_rows(book, found)
    write(
        "index.html",
        "index.html",
        title="Overview",
        seeds=seeds,
        rows=_case_rows(book, other if seeds else names),
        other_only=bool(seeds),
        regressions=regression_rows[:5],
        n_regressions=len(regression_rows),
        skipped=len(skipped),
    )
    all_rows = _case_rows(book, names)
    write("history/index.html", "history_index.html", title="History", rows=all_rows)
    steps_at: dict[str, set[int]] = {}
    for r in found:
        steps_at.setdefault(r.case, set()).add(r.after)
    for row in all_rows:
        case = row.name.full
        chart = _history_chart(book, case)
        # where a lasting step up starts: drawn as a marker on the chart
        chart["marks"] = sorted(steps_at.get(case, ()))
        siblings = _siblings(book, row.name)
        page_regressions = [r for r in regression_rows if r.name.full == case]
        write(
            f"history/{row.slug}.html",
            "history.html",
            title=case,
            row=row,
            siblings=siblings,
            regressions=page_regressions,
            data={"commits": _commits_json(book, chart["x"]), "charts": [chart]},
        )
    if groups:
        charts = [_ratio_chart(book, g) for g in groups]
        used = [c for chart in charts for c in chart["x"]]
        write(
            "ratios.html",
            "ratios.html",
            title="Ratios",
            groups=groups,
            slugs=book.slugs,
            data={"commits": _commits_json(book, used), "charts": charts},
        )
    write(
        "regressions.html",
        "regressions.html",
        title="Regressions",
        regressions=regression_rows,
        threshold=DEFAULT_REGRESSION_THRESHOLD,
        thresholds=sorted(config.regressions_thresholds.items()),
    )
    if comparison is not None:
        rows = _compare_rows(book, comparison)
        counts = [(v, sum(1 for r in rows if r.verdict == v)) for v in _VERDICT_ORDER]
        write(
            "compare.html",
            "compare.html",
            title="Comparison",
            base=_run_label(comparison.base),
            head=_run_label(comparison.head),
            rows=rows,
            counts=[(v, n) for v, n in counts if n],
        )
    write(
        "machines.html",
        "machines.html",
        title="Machines",
        machines=_machine_rows(book),
        # the builder's own folders stay out of a published page: machine folder and file only
        skipped=[(f"{p.parent.name}/{p.name}", why.removeprefix(f"{p}: ")) for p, why in skipped],
        outdated=outdated,
    )
    return pages


@dataclass(frozen=True)
class _Sibling:
    label: str
    slug: str
    current: bool


def _siblings(book: _Book, name: _CaseName) -> list[_Sibling]:
    if not name.is_wasmcmp:
        return []
    found = [
        (n.approach, n.full)
        for n in book.names.values()
        if n.is_wasmcmp and (n.guest, n.function, n.tier) == (name.guest, name.function, name.tier)
    ]
    found.sort(key=lambda af: _approach_order(af[0]))
    return [_Sibling(a, book.slugs[case], case == name.full) for a, case in found]


__all__ = [
    "DEFAULT_REGRESSION_THRESHOLD",
    "ComparisonLike",
    "ComparisonRow",
    "SignificanceLike",
    "SiteError",
    "SiteReport",
    "build_site",
    "templates_dir",
]
