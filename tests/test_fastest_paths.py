"""benchmarks/fastest_paths.py: its help, and a tiny real run's JSON and table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "fastest_paths.py"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Return the finished run of the script with these arguments."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
    )


def test_help_names_the_options(tmp_path: Path) -> None:
    done = run("--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "--cases" in done.stdout
    assert "--json" in done.stdout
    assert "fastest honest paths" in done.stdout


def test_a_tiny_run_writes_every_benchmark_and_the_ratio_table(tmp_path: Path) -> None:
    out = tmp_path / "out" / "fast.json"
    done = run(
        "--cases",
        "wat/exported/add/unchecked",
        "--cases",
        "wat/imported-greenlet/cube/unchecked",
        "--cases",
        "wat/imported-thread/add/unchecked",
        *("-p", "1", "-n", "1", "-w", "0", "-l", "3", "-q"),
        "--json",
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    names = {b["metadata"]["name"] for b in json.loads(out.read_text())["benchmarks"]}
    assert names == {
        "floor/labs",
        "wat/exported/add/unchecked",
        "floor/greenlet/wat/cube",
        "wat/imported-greenlet/cube/unchecked",
        "wat/imported-thread/add/unchecked",
    }
    rows = [line for line in done.stdout.splitlines() if line.startswith("| wat/")]
    assert len(rows) == 3
    cells = {row.split(" | ")[0][2:]: row.split(" | ") for row in rows}
    assert cells["wat/exported/add/unchecked"][2] == "floor/labs"
    assert cells["wat/imported-greenlet/cube/unchecked"][2] == "floor/greenlet/wat/cube"
    # an approach with no floor of its own is held to its guest's unchecked export
    assert cells["wat/imported-thread/add/unchecked"][2] == "wat/exported/add/unchecked"
    assert cells["wat/exported/add/unchecked"][5].startswith("1.3x")
    assert "[1/5] floor/labs" in done.stdout
    assert not list(out.parent.glob(".fast.json.*"))


def test_a_pattern_matching_no_unchecked_case_is_refused(tmp_path: Path) -> None:
    done = run("--cases", "wat/exported/add/checked", cwd=tmp_path)
    assert done.returncode != 0
    assert "no unchecked case matches" in done.stderr
