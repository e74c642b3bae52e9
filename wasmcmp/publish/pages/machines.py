"""Machines: what each machine and environment is, and which result files were left out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wasmcmp.publish.index import Commit, Index, Series
from wasmcmp.publish.pages import Context, Page, Rendered


@dataclass(frozen=True)
class Environment:
    """One series of a machine: how many runs, from which commit to which, what it runs."""

    series: Series
    runs: int
    first: Commit | None
    last: Commit | None
    info: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Machine:
    """A machine, what its machine.json says, and its environments."""

    name: str
    info: tuple[tuple[str, str], ...]
    environments: tuple[Environment, ...]


def machine_rows(index: Index) -> list[Machine]:
    """Return every machine with its environments, by name."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for by_series in index.history.values():
        for s, pts in by_series.items():
            first[s] = min(first.get(s, pts[0][0]), pts[0][0])
            last[s] = max(last.get(s, pts[-1][0]), pts[-1][0])
    machines = []
    for name in sorted(index.machines):
        envs = tuple(
            Environment(
                series,
                index.runs_per_series.get(s, 0),
                index.commits[first[s]] if s in first else None,
                index.commits[last[s]] if s in last else None,
                tuple(sorted(index.env_info.get(s, {}).items())),
            )
            for s, series in enumerate(index.series)
            if series.machine == name
        )
        info = tuple(sorted((k, v) for k, v in index.machines[name].items() if k != "machine"))
        machines.append(Machine(name, info, envs))
    return machines


def render(context: Context) -> Iterable[Rendered]:
    """Return the machines page."""
    yield Rendered(
        "machines.html",
        "machines.html",
        {
            "machines": machine_rows(context.index),
            # the builder's own folders stay out of a published page: machine folder and file
            "skipped": [
                (f"{p.parent.name}/{p.name}", why.removeprefix(f"{p}: "))
                for p, why in context.skipped
            ],
            "outdated": context.outdated,
        },
    )


PAGE = Page(title="Machines", order=90, path="machines.html", render=render)
