"""The order of commits: the first-parent history of the project's branches, as asv reads it.

A results folder knows its commits' dates, not their order: a merged branch's commits carry
old dates, so sorting by date puts many out of place and invents steps. The order comes from
the repository (``git rev-list --first-parent``), or from a file listing the commits oldest
first for results whose repository is not at hand.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wasmcmp.errors import ResultsError

#: seconds git may take to list a history
GIT_TIMEOUT = 60.0

_HASH = re.compile(r"[0-9a-f]{7,64}")


@dataclass(frozen=True)
class CommitOrder:
    """Commits oldest first, and where that order came from (said on the site)."""

    commits: tuple[str, ...]
    source: str

    def positions(self) -> dict[str, int]:
        """Return each commit's place in the order (full lowercase hashes)."""
        return {commit: i for i, commit in enumerate(self.commits)}


def read_commit_order(path: Path) -> CommitOrder:
    """Return the order a file gives: one commit hash a line, oldest first (``#`` comments)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: cannot read the commit order ({exc})") from exc
    commits: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("#", 1)[0].strip().lower()
        if not entry:
            continue
        if not _HASH.fullmatch(entry):
            raise ResultsError(
                f"{path}:{number}: {line.strip()[:60]!r} is not a commit hash; the file lists "
                "one hash a line, oldest first"
            )
        commits.append(entry)
    if not commits:
        raise ResultsError(f"{path}: lists no commits; give one hash a line, oldest first")
    return CommitOrder(tuple(dict.fromkeys(commits)), f"the commit list {Path(path).name}")


def git_commit_order(repo: Path, branches: Sequence[str] = ()) -> CommitOrder:
    """Return the first-parent history of the branches, oldest first; of HEAD when none of
    them exists in the repository (a clone may name its default branch otherwise)."""
    if _shallow(repo):
        raise ResultsError(
            f"{repo}: a shallow clone holds only part of the history; fetch all of it "
            "(actions/checkout with fetch-depth: 0) or give --commit-order FILE"
        )
    found: dict[str, None] = {}
    used: list[str] = []
    for branch in branches:
        listed = _rev_list(repo, branch)
        if listed is not None:
            used.append(branch)
            found.update(dict.fromkeys(listed))
    if not found:
        listed = _rev_list(repo, "HEAD")
        if listed is None:
            raise ResultsError(f"{repo}: not a git repository with history; check --repo")
        used = ["HEAD"]
        found = dict.fromkeys(listed)
    return CommitOrder(
        tuple(found), f"the first-parent history of {', '.join(used)} in the repository"
    )


def _shallow(repo: Path) -> bool:
    listed = _git(repo, "rev-parse", "--is-shallow-repository")
    return listed is not None and listed == ["true"]


def _rev_list(repo: Path, branch: str) -> list[str] | None:
    return _git(repo, "rev-list", "--first-parent", "--reverse", branch, "--")


def _git(repo: Path, *args: str) -> list[str] | None:
    """Return git's output lines, or None when git says no (not a repository, no branch)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ResultsError("git is not installed; give --commit-order FILE instead") from exc
    except subprocess.TimeoutExpired as exc:
        raise ResultsError(f"{repo}: git took over {GIT_TIMEOUT:g} s to answer") from exc
    if done.returncode != 0:
        return None
    return [line.strip().lower() for line in done.stdout.splitlines() if line.strip()]


def find_commit_order(
    commits: Iterable[str],
    *,
    order_file: Path | None = None,
    repo: Path | None = None,
    branches: Sequence[str] = (),
) -> CommitOrder | None:
    """Return the order to use for these commits: the file's, the repository's, or that of
    the current repository when it holds them; None when there is none (date order)."""
    if order_file is not None:
        return read_commit_order(order_file)
    if repo is not None:
        return git_commit_order(repo, branches)
    wanted = {c.lower() for c in commits if c}
    try:
        order = git_commit_order(Path.cwd(), branches)
    except ResultsError:
        return None
    return order if wanted & set(order.commits) else None


__all__ = [
    "CommitOrder",
    "find_commit_order",
    "git_commit_order",
    "read_commit_order",
]
