"""results.order: commits in git's first-parent order, from a repository or a list."""

from __future__ import annotations

import os
import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wasmcmp.errors import ResultsError
from wasmcmp.publish import build_site
from wasmcmp.results import (
    CommitOrder,
    find_commit_order,
    read_asv,
    read_commit_order,
)
from wasmcmp.results.order import git_commit_order

from .conftest import DJANGO, git
from .result_files import CROSSING, AsvRun, commit_hash, crossing_samples, write_asv_results


def _commit(repo: Path, name: str, when: datetime) -> str:
    (repo / name).write_text(name)
    git(repo, "add", name)
    stamp = when.isoformat()
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(
        ["git", "-c", "user.name=w", "-c", "user.email=w@wasmcmp.invalid", "commit", "-qm", name],
        cwd=repo,
        env=env,
        check=True,
    )
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def merged_repo(tmp_path: Path) -> tuple[Path, list[str], str]:
    """Return a repository whose main merged a branch of older-dated commits: main's
    first-parent history, and the side commit that is not on it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    first = _commit(repo, "a", start + timedelta(days=10))
    git(repo, "checkout", "-q", "-b", "side")
    side = _commit(repo, "side", start)  # written long before, merged later
    git(repo, "checkout", "-q", "main")
    second = _commit(repo, "b", start + timedelta(days=11))
    git(repo, "merge", "-q", "--no-ff", "-m", "merge", "side")
    merge = git(repo, "rev-parse", "HEAD")
    return repo, [first, second, merge], side


def test_the_first_parent_history_orders_commits_and_leaves_side_branches_out(
    merged_repo: tuple[Path, list[str], str],
) -> None:
    repo, main, side = merged_repo
    order = git_commit_order(repo, ["main"])
    assert list(order.commits) == main
    assert side not in order.commits
    assert "main" in order.source


def test_a_missing_branch_falls_back_to_head(merged_repo: tuple[Path, list[str], str]) -> None:
    repo, main, _ = merged_repo
    order = git_commit_order(repo, ["master"])
    assert list(order.commits) == main
    assert "HEAD" in order.source


def test_a_shallow_clone_is_not_taken_for_the_history(
    merged_repo: tuple[Path, list[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, main, _ = merged_repo
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    with pytest.raises(ResultsError, match="shallow clone"):
        git_commit_order(shallow, ["main"])
    monkeypatch.chdir(shallow)
    assert find_commit_order(main) is None  # date order, rather than all but one left out


def test_a_folder_without_history_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="not a git repository"):
        git_commit_order(tmp_path, ["main"])


def test_a_commit_list_is_read_oldest_first_and_checked(tmp_path: Path) -> None:
    good = tmp_path / "order.txt"
    good.write_text("# oldest first\nABCDEF1234567\n\nabcdef1234568  # tagged\nabcdef1234567\n")
    assert read_commit_order(good).commits == ("abcdef1234567", "abcdef1234568")
    bad = tmp_path / "bad.txt"
    bad.write_text("abcdef1234567\n../../etc/passwd\n")
    with pytest.raises(ResultsError, match=r"bad\.txt:2: .* is not a commit hash"):
        read_commit_order(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(ResultsError, match="lists no commits"):
        read_commit_order(empty)


def test_the_current_repository_is_used_only_when_it_holds_the_commits(
    merged_repo: tuple[Path, list[str], str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    repo, main, _ = merged_repo
    monkeypatch.chdir(repo)
    found = find_commit_order(main[:1])
    assert found is not None
    assert list(found.commits) == main
    assert find_commit_order(["0123456789abcdef0123456789abcdef01234567"]) is None
    monkeypatch.chdir(tmp_path)
    assert find_commit_order(main) is None


def _history_by_date_against_git(tmp_path: Path) -> tuple[Path, CommitOrder]:
    """Results of 8 commits whose dates run backwards against git order, and that order."""
    commits = [commit_hash(i) for i in range(1, 9)]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rng = random.Random(3)
    runs = [
        AsvRun(
            machine="ci",
            env="py3.11",
            commit=c,
            date=start - timedelta(days=i),
            samples={CROSSING.name: crossing_samples(rng)},
        )
        for i, c in enumerate(commits)
    ]
    folder = write_asv_results(tmp_path / "results", [CROSSING], runs)
    return folder, CommitOrder((*commits, "f" * 40), "the commit list test.txt")


def test_the_site_says_how_commits_are_ordered(tmp_path: Path) -> None:
    folder, order = _history_by_date_against_git(tmp_path)
    found = read_asv(folder)
    build_site(tmp_path / "by-date", [found])
    assert (
        "steps between commits out of git order may be spurious"
        in (tmp_path / "by-date" / "regressions.html").read_text()
    )
    build_site(tmp_path / "ordered", [found], order=order)
    html = (tmp_path / "ordered" / "regressions.html").read_text()
    assert "in the order of the commit list test.txt" in html
    assert "spurious" not in html


def test_commits_off_the_history_are_left_out_and_counted(tmp_path: Path) -> None:
    folder, order = _history_by_date_against_git(tmp_path)
    shorter = CommitOrder(order.commits[:6], "the commit list short.txt")
    build_site(tmp_path / "site", [read_asv(folder)], order=shorter)
    html = (tmp_path / "site" / "regressions.html").read_text()
    assert "2 commits not in that history are left out" in html


@pytest.mark.skipif(not DJANGO.is_dir(), reason="needs ../shared/asv-results/django")
def test_django_results_in_git_order(tmp_path: Path) -> None:
    order = read_commit_order(DJANGO / "commit-order.txt")
    found = read_asv(DJANGO / "results")
    assert {run.commit for run in found.runs} <= set(order.commits)
    built = build_site(tmp_path / "site", [found], order=order)
    assert built.commits == len(order.commits)
    assert "commit-order.txt" in (tmp_path / "site" / "regressions.html").read_text()
