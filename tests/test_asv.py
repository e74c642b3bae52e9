"""The asv suite with the real asv: two commits, the second slowing a host path."""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import wasmcmp

from .conftest import REPO, clone_project, commit_greenlet_work, commit_slowdown, git

ASV = [sys.executable, "-m", "asv"]
#: the slowed cases (the thread conduit's response handler) and two untouched ones
SUBSET = r"track_call\(.wat., .(exported|imported-thread|imported-greenlet)., .add., .unchecked.\)"
SLOWED = "('wat', 'imported-thread', 'add', 'unchecked')"
UNTOUCHED = (
    "('wat', 'exported', 'add', 'unchecked')",
    "('wat', 'imported-greenlet', 'add', 'unchecked')",
)
BENCHMARK = "call_paths.CallPaths.track_call"


def asv(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ASV, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=1500, check=False
    )


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], list[str]]:
    root = tmp_path_factory.mktemp("asv")
    repo = clone_project(root / "repo")
    commit_slowdown(repo)
    commits = [git(repo, "rev-parse", "HEAD~1"), git(repo, "rev-parse", "HEAD")]
    (root / "commits").write_text("\n".join(commits) + "\n")
    home = root / "home"
    home.mkdir()
    env = dict(os.environ)
    # asv keeps its machine file in $HOME: give it a home of its own, keep pip's cache
    env.update(HOME=str(home), WASMCMP_EFFORT="fast")
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    machine = asv(repo, env, "machine", "--yes", "--machine", "e2e")
    assert machine.returncode == 0, machine.stderr
    run = asv(
        repo,
        env,
        "run",
        "--record-samples",
        "--interleave-rounds",
        "-a",
        "rounds=2",
        "--machine",
        "e2e",
        "--show-stderr",
        "-b",
        SUBSET,
        f"HASHFILE:{root / 'commits'}",
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return repo, env, commits


@pytest.mark.slow
def test_results_carry_samples_and_stats_for_both_commits(
    measured: tuple[Path, dict[str, str], list[str]],
) -> None:
    repo, _, commits = measured
    files = sorted((repo / ".asv" / "results" / "e2e").glob("*-virtualenv-*.json"))
    assert {f.name[:8] for f in files} == {c[:8] for c in commits}
    for path in files:
        data = json.loads(path.read_text())
        columns = data["result_columns"]
        row = dict(zip(columns, data["results"][BENCHMARK], strict=False))
        combos = ["(" + ", ".join(combo) + ")" for combo in itertools.product(*row["params"])]
        # asv writes NaN for combinations it did not run, None for failed ones
        measured_combos = {
            c: i
            for i, c in enumerate(combos)
            if row["result"][i] is not None and not math.isnan(row["result"][i])
        }
        assert set(measured_combos) == {SLOWED, *UNTOUCHED}
        for index in measured_combos.values():
            samples = row["samples"][index]
            assert len(samples) == 8  # 2 rounds x 4 pyperf processes, one mean each
            assert all(0 < s < 1e-2 for s in samples)
            assert (
                row["stats_ci_99_a"][index] <= row["result"][index] <= row["stats_ci_99_b"][index]
            )
            assert row["stats_q_25"][index] <= row["stats_q_75"][index]


@pytest.mark.slow
def test_asv_compare_marks_the_slowed_case_worse_and_no_other(
    measured: tuple[Path, dict[str, str], list[str]],
) -> None:
    repo, env, commits = measured
    done = asv(repo, env, "compare", "--machine", "e2e", "--factor", "1.5", *commits)
    assert done.returncode == 0, done.stderr
    marks = {}
    for line in done.stdout.splitlines():
        found = re.match(
            r"\|\s*(\S?)\s*\|.*\|\s*call_paths\.CallPaths\.track_call(\(.*\))\s*\|$", line
        )
        if found and "n/a" not in line:
            marks[found.group(2)] = found.group(1)
    assert marks[SLOWED] == "+", done.stdout
    for case in UNTOUCHED:
        assert marks[case] in ("", "~"), done.stdout


@pytest.mark.slow
def test_asv_publish_builds_its_own_site_from_our_results(
    measured: tuple[Path, dict[str, str], list[str]],
) -> None:
    repo, env, _ = measured
    done = asv(repo, env, "publish")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    html = repo / ".asv" / "html"
    assert (html / "index.html").is_file()
    graphs = list((html / "graphs").rglob("*.json"))
    assert graphs, "asv publish wrote no graph data"


@pytest.fixture
def suite_version() -> Callable[[Path, Path], str]:
    """Return the asv suite's version function (benchmarks/ is not an installed package)."""
    sys.path.insert(0, str(REPO))
    try:
        from benchmarks.call_paths import suite_version as version
    finally:
        sys.path.remove(str(REPO))
    return version


def test_suite_version_changes_when_a_guest_binary_changes(
    suite_version: Callable[[Path, Path], str], tmp_path: Path
) -> None:

    guests = tmp_path / "guests"
    shutil.copytree(REPO / "guests", guests)
    package = Path(wasmcmp.__file__).parent
    before = suite_version(package, guests)
    assert suite_version(package, guests) == before
    wasm = guests / "go" / "exported.wasm"
    data = bytearray(wasm.read_bytes())
    data[-1] ^= 1
    wasm.write_bytes(bytes(data))
    assert suite_version(package, guests) != before
    (guests / "wat" / "exported.wat").write_text(
        ";; changed\n" + (REPO / "guests/wat/exported.wat").read_text()
    )
    assert len({before, suite_version(package, guests)}) == 2


@pytest.mark.parametrize(
    ("changed", "counts"),
    [
        ("measure.py", True),  # how cases are measured: old results must not be compared
        ("cases.py", True),  # the operands every case is measured with
        ("paths/imported.py", False),  # the host glue measured: a step in history instead
        ("publish/build.py", False),  # how results are shown
    ],
)
def test_suite_version_follows_the_measuring_code_not_the_host_glue(
    suite_version: Callable[[Path, Path], str], tmp_path: Path, changed: str, counts: bool
) -> None:
    package = tmp_path / "wasmcmp"
    shutil.copytree(Path(wasmcmp.__file__).parent, package)
    before = suite_version(package, REPO / "guests")
    source = package / changed
    source.write_text(source.read_text() + "\n# a change\n")
    assert (suite_version(package, REPO / "guests") != before) is counts


#: integer additions in the greenlet conduit's respond(): about 3% more instructions per call
#: of wat/imported-greenlet/add/unchecked (~18,000), each about 200 (a new int object)
GREENLET_WORK = 3
COUNTED = r"track_instructions\(.wat., .(exported|imported-greenlet)., .add., .unchecked.\)"


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    if shutil.which("valgrind") is None:
        pytest.skip("instruction counts need valgrind (make test installs it)")
    root = tmp_path_factory.mktemp("asv-instructions")
    repo = clone_project(root / "repo")
    commit_greenlet_work(repo, GREENLET_WORK)
    commits = [git(repo, "rev-parse", "HEAD~1"), git(repo, "rev-parse", "HEAD")]
    (root / "commits").write_text("\n".join(commits) + "\n")
    home = root / "home"
    home.mkdir()
    env = dict(os.environ)
    env.update(HOME=str(home), WASMCMP_METRICS="instructions")
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    assert asv(repo, env, "machine", "--yes", "--machine", "e2e").returncode == 0
    run = asv(
        repo,
        env,
        "run",
        "--record-samples",
        "--machine",
        "e2e",
        "--show-stderr",
        "-b",
        COUNTED,
        f"HASHFILE:{root / 'commits'}",
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return repo, commits


@pytest.mark.slow
def test_instructions_find_a_three_percent_slowdown_and_nothing_else(
    counted: tuple[Path, list[str]],
) -> None:
    repo, (base, head) = counted
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "wasmcmp",
            "compare",
            base,
            head,
            "--results",
            str(repo / ".asv" / "results"),
            "--machine",
            "e2e",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = {c["case"]: c for c in json.loads(done.stdout)["cases"]}
    slowed = rows["wat/imported-greenlet/add/unchecked@instructions"]
    untouched = rows["wat/exported/add/unchecked@instructions"]
    assert slowed["test"] == "none (a deterministic count): the threshold decides"
    assert 1.02 <= slowed["ratio"] <= 1.05, slowed  # the injected work is about 3%
    assert slowed["verdict"] == "regressed"
    assert untouched["verdict"] == "unchanged"
    assert abs(untouched["ratio"] - 1) < 0.005  # the same code counts the same
