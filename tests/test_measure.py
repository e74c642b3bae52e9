"""pyperf measurement in a subprocess: JSON that pyperf's own tools accept, or a clear error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wasmcmp.cases import Case, select
from wasmcmp.errors import GuestTrap, MeasurementFailed, WasmcmpError
from wasmcmp.measure import measure
from wasmcmp.results import read_pyperf

from .conftest import FIXTURE_GUESTS

#: the smallest pyperf run that still spawns workers, calibrates and warms up
QUICK = ("--processes", "2", "--values", "2", "--min-time", "0.005")


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("measure") / "run.json"
    lines: list[str] = []
    cases = select(["wat/exported/add/*", "wat/imported-greenlet/cube/unchecked"])
    path = measure(cases, out, pyperf_args=QUICK, progress=lines.append)
    assert path == out
    assert "[1/3] wat/exported/add/checked\n" in "".join(lines)
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
