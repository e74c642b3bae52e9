"""Pick one side of a comparison: a pyperf JSON file, or one commit's run in asv results."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from wasmcmp.errors import ResultsError
from wasmcmp.results.asv import AsvResults, read_asv
from wasmcmp.results.model import Run
from wasmcmp.results.pyperf import read_pyperf


def select_run(
    runs: Iterable[Run],
    commit: str,
    *,
    machine: str | None = None,
    env: str | None = None,
    where: str = "the asv results",
) -> Run:
    """Return the one run of a commit (full hash or unique prefix) on a machine and env."""
    wanted = commit.strip().lower()
    if len(wanted) < 4:
        raise ResultsError(f"{where}: commit {commit!r} is too short; give at least 4 hex digits")
    candidates = [
        run
        for run in runs
        if run.commit
        and run.commit.lower().startswith(wanted)
        and (machine is None or run.machine == machine)
        and (env is None or run.env == env)
    ]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        scope = "".join(
            (f" on machine {machine!r}" if machine else "", f" in env {env!r}" if env else "")
        )
        raise ResultsError(
            f"{where}: no results for commit {commit!r}{scope}; run asv for that commit "
            "or check --results, --machine and --env"
        )
    commits = sorted({run.commit or "" for run in candidates})
    if len(commits) > 1:
        raise ResultsError(
            f"{where}: commit prefix {commit!r} matches {', '.join(c[:12] for c in commits)}; "
            "give more digits"
        )
    choices = ", ".join(sorted(f"--machine {r.machine!r} --env {r.env!r}" for r in candidates))
    raise ResultsError(
        f"{where}: commit {commit!r} has results for several machines or envs; pick one of "
        f"{choices}"
    )


def pick_side(
    spec: str,
    found: AsvResults | None,
    *,
    machine: str | None = None,
    env: str | None = None,
) -> Run:
    """Return the Run a BASE or HEAD argument names: a pyperf JSON file, or a commit among
    asv results already read (``found``)."""
    path = Path(spec)
    if path.is_file():
        return read_pyperf(path)
    if found is None:
        raise ResultsError(
            f"{spec!r} is not a pyperf JSON file; to compare asv commits pass --results DIR"
        )
    try:
        return select_run(found.runs, spec, machine=machine, env=env, where=str(found.folder))
    except ResultsError as exc:
        if not found.skipped:
            raise
        unreadable = "; ".join(f"{path}: {why}" for path, why in found.skipped)
        raise ResultsError(f"{exc} (files left out as unreadable: {unreadable})") from exc


def load_side(
    spec: str,
    *,
    results: Path | None = None,
    machine: str | None = None,
    env: str | None = None,
) -> Run:
    """Return the Run a BASE or HEAD argument names: a pyperf JSON file or an asv commit."""
    if Path(spec).is_file():
        return read_pyperf(Path(spec))
    found = read_asv(results) if results is not None else None
    return pick_side(spec, found, machine=machine, env=env)


__all__ = ["load_side", "pick_side", "select_run"]
