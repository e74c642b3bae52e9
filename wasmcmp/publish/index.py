"""Every measurement by case, series and commit: the index the pages are drawn from.

``build_index`` reads the runs once and computes everything the pages look up (commit order,
series, display names, slugs, units); after that an ``Index`` is only read.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wasmcmp import format as fmt
from wasmcmp import names
from wasmcmp.results.asv import AsvResults
from wasmcmp.results.config import AsvConfig
from wasmcmp.results.model import Measurement, Run
from wasmcmp.results.order import CommitOrder

#: colours of the machine/environment series, colour-blind safe first
SERIES_COLORS = (
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

_HASH = re.compile(r"[0-9a-fA-F]{7,64}")


@dataclass(frozen=True)
class Commit:
    """A commit (or, for a pyperf file without one, the file's name) and where to see it."""

    key: str
    date: datetime | None
    url: str | None
    is_hash: bool

    @property
    def label(self) -> str:
        """Return the short form people read: 8 hex digits, or the name."""
        return self.key[:8] if self.is_hash else self.key

    @property
    def stamp(self) -> float | None:
        """Return the commit's date as a Unix time, for the charts."""
        return self.date.timestamp() if self.date else None


@dataclass(frozen=True)
class Series:
    """One machine and environment: a line on every history chart."""

    machine: str
    env: str
    color: str

    @property
    def name(self) -> str:
        """Return the series' label."""
        return f"{self.machine} · {self.env}"


@dataclass(frozen=True)
class CaseDisplay:
    """A case split for display: the muted prefix, the part people look for, its parts."""

    full: str
    prefix: str
    short: str
    case: names.CaseName | None = None

    @property
    def is_wasmcmp(self) -> bool:
        """Return whether this is a wasmcmp case (guest/approach/function/tier)."""
        return self.case is not None

    @property
    def guest(self) -> str:
        """Return the case's guest ("" for another benchmark)."""
        return self.case.guest if self.case else ""

    @property
    def approach(self) -> str:
        """Return the case's approach ("" for another benchmark)."""
        return self.case.approach if self.case else ""

    @property
    def function(self) -> str:
        """Return the case's function ("" for another benchmark)."""
        return self.case.function if self.case else ""

    @property
    def tier(self) -> str:
        """Return the case's tier ("" for another benchmark)."""
        return self.case.tier if self.case else ""


#: a case's history: series index -> [(commit index, measurement)] in commit order
History = Mapping[int, Sequence[tuple[int, Measurement]]]


@dataclass(frozen=True)
class Index:
    """Every measurement by case, series and commit, with what the pages look up."""

    commits: Sequence[Commit]
    series: Sequence[Series]
    #: case -> its history, cases in display order
    history: Mapping[str, History]
    #: series index -> (commit index of its newest run, cases that failed there)
    failed: Mapping[int, tuple[int, frozenset[str]]]
    machines: Mapping[str, Mapping[str, str]]
    #: series index -> what the newest run says about its environment
    env_info: Mapping[int, Mapping[str, str]]
    runs_per_series: Mapping[int, int]
    names: Mapping[str, CaseDisplay]
    slugs: Mapping[str, str]
    scales: Mapping[str, fmt.Scale]
    #: per commit index, what the charts' tooltips and links need
    commit_json: Sequence[Mapping[str, Any]]
    #: how the commits are ordered, in words for the pages
    order: str = "by date"
    #: commits left out because the given history does not hold them
    off_history: int = 0

    def commits_json(self, used: Iterable[int]) -> dict[str, Any]:
        """Return the commits a page refers to, by commit index, for tooltips and links."""
        return {str(c): self.commit_json[c] for c in sorted(set(used))}


def build_index(
    results: Sequence[AsvResults],
    runs: Sequence[Run],
    config: AsvConfig,
    order: CommitOrder | None = None,
) -> Index:
    """Return the index of asv results and pyperf runs; ``config`` links commits, ``order``
    (git's first-parent history) orders them; without it they go by date."""
    all_runs: list[tuple[Run, AsvConfig]] = []
    machines: dict[str, dict[str, str]] = {}
    for found in results:
        conf = found.config if found.config.show_commit_url else config
        all_runs += [(run, conf) for run in found.runs]
        for name, info in found.machines.items():
            machines.setdefault(name, {}).update(info)
    from_asv = len(all_runs)
    all_runs += [(run, config) for run in runs]
    keys = _commit_keys(run for run, _ in all_runs)
    commits, all_runs, keys, off_history = _ordered(all_runs, from_asv, keys, order)
    commit_index = {c.key: i for i, c in enumerate(commits)}

    series_keys = sorted({(run.machine, run.env) for run, _ in all_runs})
    series = [
        Series(m, e, SERIES_COLORS[i % len(SERIES_COLORS)]) for i, (m, e) in enumerate(series_keys)
    ]
    series_index = {(s.machine, s.env): i for i, s in enumerate(series)}

    cells: dict[str, dict[int, dict[int, Measurement]]] = {}
    newest: dict[int, tuple[int, Run]] = {}
    runs_per_series: dict[int, int] = {}
    for (run, _), key in zip(all_runs, keys, strict=True):
        s = series_index[(run.machine, run.env)]
        c = commit_index[key]
        runs_per_series[s] = runs_per_series.get(s, 0) + 1
        for case, m in run.measurements.items():
            cells.setdefault(case, {}).setdefault(s, {})[c] = m
        if s not in newest or c >= newest[s][0]:
            newest[s] = (c, run)
        machines.setdefault(run.machine, {})
    case_order = sorted(cells, key=names.case_rank)
    history = {
        case: {s: sorted(points.items()) for s, points in sorted(cells[case].items())}
        for case in case_order
    }
    env_info, failed = _newest(newest)
    return Index(
        commits=commits,
        series=series,
        history=history,
        failed=failed,
        machines=machines,
        env_info=env_info,
        runs_per_series=runs_per_series,
        names={case: display(case, _first(history[case])) for case in case_order},
        slugs=_slugs(case_order),
        scales={case: _scale(history[case]) for case in case_order},
        commit_json=[{"id": c.key, "label": c.label, "t": c.stamp, "url": c.url} for c in commits],
        order=f"in the order of {order.source}" if order else "by date",
        off_history=off_history,
    )


def _ordered(
    all_runs: list[tuple[Run, AsvConfig]],
    from_asv: int,
    keys: list[str],
    order: CommitOrder | None,
) -> tuple[list[Commit], list[tuple[Run, AsvConfig]], list[str], int]:
    """Return the commits in order, the runs and keys of those kept, and how many commits
    the history leaves out."""
    commits = _commits(all_runs, from_asv, keys)
    if order is None:
        return commits, all_runs, keys, 0
    commits, off_history = _in_history(commits, order)
    kept = {c.key for c in commits}
    pairs = [(r, k) for r, k in zip(all_runs, keys, strict=True) if k in kept]
    return commits, [r for r, _ in pairs], [k for _, k in pairs], off_history


def _newest(
    newest: Mapping[int, tuple[int, Run]],
) -> tuple[dict[int, dict[str, str]], dict[int, tuple[int, frozenset[str]]]]:
    """Return what each series' newest run says of its environment, and what failed there."""
    env_info: dict[int, dict[str, str]] = {}
    failed: dict[int, tuple[int, frozenset[str]]] = {}
    for s, (c, run) in newest.items():
        info = {"python": run.python or ""} if run.python else {}
        info.update({k: v for k, v in run.metadata.items() if k not in ("machine", "python")})
        env_info[s] = info
        failed[s] = (c, run.failed)
    return env_info, failed


def _in_history(commits: Sequence[Commit], order: CommitOrder) -> tuple[list[Commit], int]:
    """Return the commits in git order, runs without a commit (pyperf files) after them by
    date, and how many commits the history does not hold (left out, as asv leaves out
    results of commits off its branches)."""
    position = order.positions()
    placed = sorted(
        (c for c in commits if c.is_hash and c.key.lower() in position),
        key=lambda c: position[c.key.lower()],
    )
    unplaced = [c for c in commits if not c.is_hash]
    off = sum(1 for c in commits if c.is_hash and c.key.lower() not in position)
    return [*placed, *unplaced], off


def _commits(
    all_runs: Sequence[tuple[Run, AsvConfig]], from_asv: int, keys: Sequence[str]
) -> list[Commit]:
    """Return every commit, oldest first by date (undated ones last); the first ``from_asv``
    runs come from asv results."""
    # asv records the commit's date; pyperf only when it ran, which places a commit only
    # when no asv result of it says better
    commit_dates: dict[str, tuple[int, datetime] | None] = {}
    commit_urls: dict[str, str | None] = {}
    hashes: set[str] = set()
    for i, ((run, conf), key) in enumerate(zip(all_runs, keys, strict=True)):
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
    return [
        Commit(
            key=k,
            date=dates[k],
            url=commit_urls.get(k),
            is_hash=k in hashes and bool(_HASH.fullmatch(k)),
        )
        for k in order
    ]


def _commit_keys(runs: Iterable[Run]) -> list[str]:
    """Return each run's commit, or for a run without one its file's name (made unique)."""
    keys: list[str] = []
    names_: dict[Path, str] = {}
    used: set[str] = set()
    for run in runs:
        if run.commit:
            keys.append(run.commit)
            continue
        if run.source not in names_:
            # the file's name only: a published page must not show the builder's folders
            name = run.source.name
            n = 2
            while name in used:
                name = f"{run.source.name} ({n})"
                n += 1
            names_[run.source] = name
            used.add(name)
        keys.append(names_[run.source])
    return keys


def _first(by_series: History) -> Measurement:
    return next(iter(by_series.values()))[0][1]


def _scale(by_series: History) -> fmt.Scale:
    unit = _first(by_series).unit
    return fmt.scale_for(unit, (m.value for pts in by_series.values() for _, m in pts))


def display(case: str, m: Measurement) -> CaseDisplay:
    """Return how a case is shown: a wasmcmp case whole, another benchmark's module muted."""
    parsed = names.identify(case, m.benchmark, m.params, m.unit)
    if parsed is not None:
        return CaseDisplay(case, "", case, parsed)
    bench = m.benchmark or case
    args = case[len(bench) :] if case.startswith(bench) else ""
    dotted = bench.split(".")
    if len(dotted) > 2:
        return CaseDisplay(case, ".".join(dotted[:-2]) + ".", ".".join(dotted[-2:]) + args)
    return CaseDisplay(case, "", case)


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


__all__ = ["SERIES_COLORS", "CaseDisplay", "Commit", "Index", "Series", "build_index", "display"]
