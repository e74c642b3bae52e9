"""pyperf measurement in a subprocess: JSON that pyperf's own tools accept, or a clear error."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wasmcmp.cases import Case, select
from wasmcmp.errors import GuestTrap, MeasurementFailed, WasmcmpError
from wasmcmp.measure import measure
from wasmcmp.results import read_pyperf

from .conftest import FIXTURE_GUESTS, REPO, alive, descendants

#: the smallest pyperf run that still spawns workers, calibrates and warms up
QUICK = ("--processes", "2", "--values", "2", "--min-time", "0.005")
#: seconds a subprocess may take to react before the test calls it hung
BOUND = 60
#: a real, short `wasmcmp run` (pyperf's fast effort takes a few seconds)
RUN = (sys.executable, "-m", "wasmcmp", "run", "--fast", "--cases", "wat/exported/add/checked")


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("measure") / "run.json"
    lines: list[str] = []
    cases = select(["wat/exported/add/*", "wat/imported-greenlet/cube/unchecked"])
    path = measure(cases, out, pyperf_args=QUICK, progress=lines.append)
    assert path == out
    assert "[1/3] wat/exported/add/checked\n" in "".join(lines)
    (out.parent / "progress.txt").write_text("".join(lines))
    return out


def test_every_case_gets_samples_in_seconds_per_op(measured: Path) -> None:
    run = read_pyperf(measured)
    assert set(run.measurements) == {
        "wat/exported/add/checked",
        "wat/exported/add/unchecked",
        "wat/imported-greenlet/cube/unchecked",
    }
    for m in run.measurements.values():
        assert len(m.samples) == 4  # 2 processes x 2 values
        assert 1e-9 < m.value < 1e-3
        assert m.ci_low <= m.value <= m.ci_high
    assert run.metadata["wasmtime_version"]


def test_pyperf_stats_and_compare_to_accept_the_json(measured: Path) -> None:
    for command in (["stats", str(measured)], ["compare_to", str(measured), str(measured)]):
        done = subprocess.run(
            [sys.executable, "-m", "pyperf", *command], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "wat/exported/add/unchecked" in done.stdout


def test_pyperfs_stability_checks_are_kept_in_the_run_not_printed_per_case(
    measured: Path,
) -> None:
    # so short a run that pyperf finds too few values for a stable result
    assert "may be unstable" not in (measured.parent / "progress.txt").read_text()
    done = subprocess.run(
        [sys.executable, "-m", "pyperf", "check", str(measured)],
        capture_output=True,
        text=True,
        check=True,
    )
    run = read_pyperf(measured)
    said: dict[str, list[str]] = {name: [] for name in run.measurements}
    current = ""
    for line in done.stdout.splitlines():
        if line in said:
            current = line
        elif line.startswith("* "):
            said[current].append(line[2:])
    assert {name: list(m.unstable) for name, m in run.measurements.items()} == said
    assert any(said.values())


def test_a_wrong_or_failing_case_is_refused_before_pyperf_runs(tmp_path: Path) -> None:
    trapping = Case(str(FIXTURE_GUESTS / "trap"), "exported", "cube", "checked")
    out = tmp_path / "run.json"
    from wasmcmp import cases

    original = cases.ARGS["cube"]
    cases.ARGS["cube"] = (13,)
    try:
        with pytest.raises(GuestTrap, match="cube\\(13\\)"):
            measure([trapping], out)
    finally:
        cases.ARGS["cube"] = original
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_worker_failure_names_the_case_and_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    out.write_text("previous results")
    with pytest.raises(MeasurementFailed, match=r"at \[1/1\] wat/exported/add/checked") as e:
        # one call fits in the timeout, but pyperf calibrates batches past it in the worker
        measure(
            select(["wat/exported/add/checked"]),
            out,
            timeout=0.005,
            pyperf_args=("--processes", "1", "--min-time", "0.5"),
        )
    assert "GuestTimeout" in str(e.value)
    assert out.read_text() == "previous results"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_unknown_effort_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WasmcmpError, match="unknown effort 'slow'"):
        measure(select(["wat/exported/add/checked"]), tmp_path / "x.json", effort="slow")


# -- SIGTERM: no process outlives the run, no folder or lock stays behind ----------------------


def _terminate_once_workers_run(command: list[str]) -> tuple[subprocess.Popen[str], set[int]]:
    """Start the command, SIGTERM it once pyperf's manager and a worker run; return the
    process and every descendant seen."""
    proc = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    seen: set[int] = set()
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline and len(seen) < 2 and proc.poll() is None:
        seen |= descendants(proc.pid)
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before pyperf started a worker"
    proc.send_signal(signal.SIGTERM)
    return proc, seen


def _assert_nothing_left(seen: set[int], folder: Path) -> None:
    deadline = time.monotonic() + 10  # the kernel may take a moment to reap
    while time.monotonic() < deadline and any(alive(pid) for pid in seen):
        time.sleep(0.1)
    assert not [pid for pid in seen if alive(pid)], "a pyperf process outlived the run"
    assert list(folder.iterdir()) == [], "the scratch folder or the lock file stayed behind"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_sigterm_during_wasmcmp_run_leaves_no_process_or_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc, seen = _terminate_once_workers_run([*RUN, "-o", str(out / "run.json")])
    _, err = proc.communicate(timeout=BOUND)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "terminated" in err
    _assert_nothing_left(seen, out)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_sigterm_during_measure_from_python_unwinds_like_ctrl_c(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from wasmcmp.cases import select; "
        "from wasmcmp.measure import measure; "
        "measure(select(['wat/exported/add/checked']), Path(sys.argv[1]), effort='fast')"
    )
    proc, seen = _terminate_once_workers_run(
        [sys.executable, "-c", script, str(tmp_path / "run.json")]
    )
    _, err = proc.communicate(timeout=BOUND)
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in err
    _assert_nothing_left(seen, tmp_path)


# -- one run per output file ------------------------------------------------------------------


@pytest.mark.slow
def test_a_second_run_on_the_same_output_is_refused_naming_the_holder(tmp_path: Path) -> None:
    out = tmp_path / "same.json"
    lock = tmp_path / ".same.json.lock"
    first = subprocess.Popen(
        [*RUN, "-o", str(out)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline and first.poll() is None:
        if lock.is_file() and lock.read_text().startswith("pid "):
            break
        time.sleep(0.02)
    assert first.poll() is None, "the first run ended before the second started"
    second = subprocess.run(
        [*RUN, "-o", str(out)], cwd=REPO, capture_output=True, text=True, timeout=BOUND, check=False
    )
    assert second.returncode == 2
    assert (
        f"wasmcmp: error: {out} is being written by another wasmcmp run (pid {first.pid} on "
        in second.stderr
    )
    _, err = first.communicate(timeout=BOUND)
    assert first.returncode == 0, err
    assert "wat/exported/add/checked" in read_pyperf(out).measurements
    assert [p.name for p in tmp_path.iterdir()] == ["same.json"]


def test_a_lock_left_by_a_dead_run_is_taken_over(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    lock = tmp_path / ".run.json.lock"
    # a run that took the lock and died without removing the file
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_CREAT | "
            "os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, b'pid 1 on gone')",
            str(lock),
        ],
        check=True,
        timeout=BOUND,
    )
    assert lock.read_text() == "pid 1 on gone"
    measure(select(["wat/exported/add/checked"]), out, pyperf_args=QUICK)
    assert read_pyperf(out).measurements
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]
