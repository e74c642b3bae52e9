"""The wasmcmp command as a user runs it: answers, tables, files and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wasmcmp.cli import main
from wasmcmp.format import ns_per_op
from wasmcmp.names import GUESTS
from wasmcmp.results import read_pyperf

from .conftest import REPO


def wasmcmp(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wasmcmp", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize(
    ("case", "args", "answer"),
    [
        ("go/exported/cube/checked", ["2000"], "-589934592"),
        ("go/imported-thread/add/unchecked", ["2147483647", "1"], "-2147483648"),
        ("wat/imported-greenlet/add/checked", ["0xffffffff", "2"], "1"),
    ],
)
def test_call_prints_the_answer(
    case: str, args: list[str], answer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["call", case, *args]) == 0
    assert capsys.readouterr().out.strip() == answer


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["call", "go/exported/add/chcked", "1", "2"], "unknown tier 'chcked'"),
        (["call", "go/exported/add/checked", "1"], "add takes 2 argument(s), got 1"),
        (["run", "--cases", "go/exported/div/*"], "no case matches 'go/exported/div/*'"),
    ],
)
def test_user_errors_exit_2_with_one_clear_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("wasmcmp: error: ")
    assert message in err
    assert "Traceback" not in err


def test_bad_arguments_are_argparse_errors() -> None:
    done = wasmcmp("call", "go/exported/add/checked", "1", "2**40")
    assert done.returncode == 2
    assert "not an integer" in done.stderr


def test_cases_lists_every_case_and_marks_the_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from wasmcmp.cases import all_cases

    assert main(["cases"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(all_cases()) == 16 * len(GUESTS)
    assert "go/imported-thread/cube/checked  (default)" in lines
    assert "wat/imported-thread/cube/checked" in lines


def test_run_prints_the_table_and_writes_json_and_markdown(tmp_path: Path) -> None:
    out, markdown = tmp_path / "run.json", tmp_path / "run.md"
    done = wasmcmp(
        "run",
        "--cases",
        "wat/exported/cube/*",
        "--cases",
        "wat/imported-*/cube/unchecked",
        "--fast",
        "-o",
        str(out),
        "--markdown",
        str(markdown),
    )
    assert done.returncode == 0, done.stderr
    assert "[5/5] wat/imported-thread/cube/unchecked" in done.stderr
    table = done.stdout
    assert "wat/exported/cube/unchecked" in table
    assert "imported / exported" in table
    assert "imported-greenlet" in table.split("imported / exported")[1]
    suite = json.loads(out.read_text())
    assert len(suite["benchmarks"]) == 5
    assert "```mermaid" in markdown.read_text()

    # where the time goes: the medians taken apart, as the table prints them
    run = read_pyperf(out)
    median = {name: m.value for name, m in run.measurements.items()}
    inline = median["wat/imported-inline/cube/unchecked"]
    row = [
        "wat",
        "cube",
        "unchecked",
        ns_per_op(median["wat/exported/cube/unchecked"]),
        ns_per_op(inline),
        ns_per_op(median["wat/imported-greenlet/cube/unchecked"] - inline),
        ns_per_op(median["wat/imported-thread/cube/unchecked"] - inline),
    ]
    breakdown = table.split("where the time goes (ns/op)")[1].splitlines()
    assert breakdown[1].split()[3:] == [
        "exported",
        "crossing",
        "2",
        "import",
        "crossings",
        "greenlet",
        "hand-off",
        "thread",
        "hand-off",
    ]
    assert breakdown[3].split() == row
    assert "where the time goes" in markdown.read_text().lower()

    # pyperf's stability verdict: no paragraph per case, one line naming the unstable ones
    assert "the benchmark result may be unstable" not in done.stdout + done.stderr
    unstable = [m.case for m in run.measurements.values() if m.unstable]
    lines = [line for line in table.splitlines() if line.startswith("pyperf: the results of")]
    assert len(lines) == (1 if unstable else 0)
    for case in unstable:
        assert f"{case} " in table
        assert "unstable" in table.split(case)[1].splitlines()[0]


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--debug", "call", "nope/exported/add/checked", "1", "2"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_help_describes_every_command() -> None:
    done = wasmcmp("--help")
    assert done.returncode == 0
    for command in ("run", "call", "cases", "build-guests"):
        assert command in done.stdout
    run_help = wasmcmp("run", "--help").stdout
    for option in ("--cases", "--fast", "--rigorous", "-o", "--markdown", "--timeout"):
        assert option in run_help
