"""Hostile results and output folders: no hang, no lost file, no silent pass.

Each test feeds the real readers, the real site build or the real command a damaged input
and checks what a user gets: a warning or error naming what was wrong, no file of theirs lost,
no process left behind.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wasmcmp import compare_runs, load_side
from wasmcmp.cli import main
from wasmcmp.errors import ResultsError, SiteError
from wasmcmp.publish import MARKER, build_site
from wasmcmp.results import read_asv, read_pyperf
from wasmcmp.results.config import AsvConfig

from .conftest import alive, descendants
from .result_files import CROSSING, commit_hash, wasmcmp_history, write_pyperf

#: a generous bound on anything that must not hang; never a speed claim
BOUND = 60.0


def _results(tmp_path: Path, commits: int = 6) -> Path:
    return wasmcmp_history(tmp_path / "results", commits=commits, step_at=None)


def _result_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*/*.json") if p.name != "machine.json")


def _poison(path: Path, value: str) -> None:
    """Replace the first result value of the crossing benchmark in a file with ``value``."""
    text = path.read_text()
    data = json.loads(text)
    row = data["results"][CROSSING.name]
    columns = data["result_columns"]
    row[columns.index("result")][0] = "__POISON__"
    path.write_text(json.dumps(data).replace('"__POISON__"', value))


# -- 3: non-finite values ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["Infinity", "-Infinity"])
def test_an_infinite_asv_value_is_left_out_with_a_warning_naming_it(
    tmp_path: Path, value: str
) -> None:
    folder = _results(tmp_path)
    victim = _result_files(folder)[2]
    _poison(victim, value)
    found = read_asv(folder)
    warned = [w for run in found.runs for w in run.warnings]
    assert len(warned) == 1
    assert str(victim) in warned[0]
    assert "go/exported/add/checked" in warned[0]
    assert json.loads(victim.read_text())["commit_hash"][:12] in warned[0]
    run = next(r for r in found.runs if r.source == victim)
    assert "go/exported/add/checked" not in run.measurements


def test_the_site_builds_in_bounded_time_with_an_infinite_value(tmp_path: Path) -> None:
    folder = _results(tmp_path, commits=8)
    _poison(_result_files(folder)[3], "Infinity")
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "wasmcmp",
            "site",
            "--results",
            str(folder),
            "--out",
            str(tmp_path / "site"),
        ],
        capture_output=True,
        text=True,
        timeout=BOUND,
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < BOUND
    assert "wasmcmp: warning:" in done.stderr
    assert "go/exported/add/checked" in done.stderr


def test_an_infinite_pyperf_value_is_named_not_dropped_silently(tmp_path: Path) -> None:
    path = write_pyperf(
        tmp_path / "run.json",
        {"go/exported/add/checked": [1e-6, 1.1e-6, 1.2e-6], "wat/exported/add/checked": [2e-6]},
    )
    data = json.loads(path.read_text())
    data["benchmarks"][0]["runs"][1]["values"] = ["__INF__"]
    path.write_text(json.dumps(data).replace('"__INF__"', "Infinity"))
    run = read_pyperf(path)
    assert len(run.warnings) == 1
    assert "go/exported/add/checked" in run.warnings[0]
    assert str(path) in run.warnings[0]
    assert len(run.measurements["go/exported/add/checked"].samples) == 2


# -- 4: parameters that multiply out to 10^8 combinations -------------------------------------


def test_huge_parameter_lists_cost_only_what_the_file_holds(tmp_path: Path) -> None:
    folder = _results(tmp_path, commits=3)
    victim = _result_files(folder)[0]
    data = json.loads(victim.read_text())
    row = data["results"][CROSSING.name]
    columns = data["result_columns"]
    row[columns.index("params")] = [[repr(f"v{i}") for i in range(100)] for _ in range(4)]
    victim.write_text(json.dumps(data))
    started = time.monotonic()
    found = read_asv(folder)
    assert time.monotonic() - started < BOUND
    assert any(str(victim) == str(path) and "differ" in why for path, why in found.warnings)
    run = next(r for r in found.runs if r.source == victim)
    assert len(run.measurements) <= 24  # the row holds 24 results, whatever params say


# -- 13: damaged benchmarks.json and machine.json ------------------------------------------------


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00garbage"])
def test_a_damaged_benchmarks_json_is_named(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _results(tmp_path, commits=3)
    (folder / "benchmarks.json").write_bytes(content)
    assert main(["site", "--results", str(folder), "--out", str(tmp_path / "site")]) == 0
    err = capsys.readouterr().err
    assert f"wasmcmp: warning: {folder / 'benchmarks.json'}: " in err


def test_a_machine_json_that_is_not_utf8_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _results(tmp_path, commits=3)
    machine_json = next(folder.glob("*/machine.json"))
    machine_json.write_bytes(b"\xff\xfe{\x00")
    assert main(["site", "--results", str(folder), "--out", str(tmp_path / "site")]) == 0
    assert f"wasmcmp: warning: {machine_json}: " in capsys.readouterr().err


def test_a_missing_benchmarks_json_is_a_warning(tmp_path: Path) -> None:
    folder = _results(tmp_path, commits=3)
    (folder / "benchmarks.json").unlink()
    found = read_asv(folder)
    assert [p for p, _ in found.warnings] == [folder / "benchmarks.json"]
    assert "outdated" in found.warnings[0][1]


# -- 14: commits that are not hashes never become links --------------------------------------------


def test_only_hex_commits_become_links() -> None:
    config = AsvConfig(show_commit_url="https://github.com/example/wasmcmp/commit/")
    assert config.commit_url(commit_hash(3)) is not None
    for hostile in ("../../etc/<b>x", "abc", "deadbeef/../x", "javascript:alert(1)"):
        assert config.commit_url(hostile) is None


# -- 9: sides that share no case -----------------------------------------------------------------


def test_sides_that_share_no_case_are_an_error_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write_pyperf(tmp_path / "base.json", {"go/exported/add/checked": [1e-6, 1e-6, 1e-6]})
    head = write_pyperf(tmp_path / "head.json", {"wat/exported/add/checked": [1e-6, 1e-6, 1e-6]})
    code = main(["compare", str(base), str(head), "--fail-on-regression"])
    assert code == 2
    err = capsys.readouterr().err
    assert "share no case" in err
    assert "nothing to compare" in err


def test_a_pyperf_file_against_an_asv_commit_with_other_cases_is_an_error(tmp_path: Path) -> None:
    folder = _results(tmp_path, commits=2)
    base = write_pyperf(tmp_path / "base.json", {"mine.time_x": [1e-6, 1e-6, 1e-6]})
    base_run = load_side(str(base))
    head_run = load_side(commit_hash(1), results=folder)
    with pytest.raises(ResultsError, match="share no case"):
        compare_runs(base_run, head_run)


# -- 6 and 7: the output folder ------------------------------------------------------------------


def _site(tmp_path: Path, out: Path, **kwargs: bool) -> None:
    build_site(out, [read_asv(_results(tmp_path, commits=3))], **kwargs)


def test_a_users_file_in_a_previous_site_is_refused_not_deleted(tmp_path: Path) -> None:
    out = tmp_path / "site"
    _site(tmp_path, out)
    (out / "notes.md").write_text("mine")
    with pytest.raises(SiteError, match=r"notes\.md"):
        _site(tmp_path, out)
    assert (out / "notes.md").read_text() == "mine"
    _site(tmp_path, out, force=True)
    assert not (out / "notes.md").exists()


def test_github_pages_cname_is_kept_across_builds(tmp_path: Path) -> None:
    out = tmp_path / "site"
    _site(tmp_path, out)
    (out / "CNAME").write_text("bench.example.org\n")
    _site(tmp_path, out)
    assert (out / "CNAME").read_text() == "bench.example.org\n"
    assert (out / ".nojekyll").is_file()


def test_a_forged_marker_does_not_make_a_folder_replaceable(tmp_path: Path) -> None:
    out = tmp_path / "thesis"
    out.mkdir()
    (out / MARKER).write_text("{}")
    (out / "thesis.tex").write_text("\\documentclass{article}")
    with pytest.raises(SiteError, match="not written by `wasmcmp site`"):
        _site(tmp_path, out)
    assert (out / "thesis.tex").is_file()


def test_a_link_to_a_folder_is_followed(tmp_path: Path) -> None:
    target = tmp_path / "real-site"
    target.mkdir()
    link = tmp_path / "site"
    link.symlink_to(target)
    _site(tmp_path, link)
    _site(tmp_path, link)
    assert link.is_symlink()
    assert (target / "index.html").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((".old", ".tmp"))]


# -- 5: SIGTERM during a site build ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_sigterm_during_a_site_build_leaves_no_process_behind(tmp_path: Path) -> None:
    # enough history that step detection runs in worker processes for a while
    folder = wasmcmp_history(tmp_path / "results", commits=1000, step_at=None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wasmcmp",
            "site",
            "--results",
            str(folder),
            "--out",
            str(tmp_path / "site"),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: set[int] = set()
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline and len(seen) < 2 and proc.poll() is None:
        seen |= descendants(proc.pid)
        time.sleep(0.05)
    assert proc.poll() is None, "the build ended before it started workers"
    assert seen
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=BOUND)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "terminated" in err
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in seen):
        time.sleep(0.1)
    assert not [pid for pid in seen if alive(pid)]
    assert not (tmp_path / "site").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]
