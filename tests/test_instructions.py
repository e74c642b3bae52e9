"""Instruction counts under callgrind: positive, repeatable, readable by pyperf, and failing
with an error naming the case (no valgrind, a trapping or spinning guest, a process past
its timeout, SIGTERM) with no valgrind process or scratch file left behind.

Real valgrind, real guests; one cheap measurement is shared by the tests that read it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wasmcmp import cases, measure
from wasmcmp.cases import Case, select
from wasmcmp.errors import GuestTimeout, GuestTrap, MeasurementFailed, WasmcmpError
from wasmcmp.instructions import CALLGRIND, METHOD, Count, measure_instructions, smallest

from .conftest import FIXTURE_GUESTS, REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind"),
]

#: the cheapest call, whose count hardly depends on hash seed or memory layout, and the three
#: imported approaches, which share one guest module (one compilation)
EXPORTED = "wat/exported/add/unchecked"
INLINE = "wat/imported-inline/cube/unchecked"
GREENLET = "wat/imported-greenlet/cube/unchecked"
THREAD = "wat/imported-thread/cube/unchecked"
#: seconds a run may take before the test calls it hung
BOUND = 120


@pytest.fixture(scope="module")
def scratch_once(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep the module's callgrind scratch folders in a folder the tests can watch."""
    folder = tmp_path_factory.mktemp("scratch")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(folder))
        yield folder


@pytest.fixture
def scratch(scratch_once: Path) -> Path:
    assert list(scratch_once.iterdir()) == [], "a run left scratch files behind"
    return scratch_once


@pytest.fixture(scope="module")
def measured(
    tmp_path_factory: pytest.TempPathFactory, scratch_once: Path
) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("instructions")
    said: list[str] = []
    out = measure_instructions(
        select([EXPORTED, INLINE, GREENLET, THREAD]), folder / "counts.json", progress=said.append
    )
    return out, said


def _benchmarks(path: Path) -> dict[str, Any]:
    import pyperf

    suite = pyperf.BenchmarkSuite.load(str(path))
    return {bench.get_name(): bench for bench in suite.get_benchmarks()}


def _ours(marker: Path) -> list[int]:
    """Return the processes whose command line or working folder names the marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                seen = (entry / "cmdline").read_bytes() + os.readlink(entry / "cwd").encode()
            except OSError:
                continue
            if str(marker).encode() in seen:
                found.append(int(entry.name))
    return found


def test_counts_are_positive_and_repeats_agree(measured: tuple[Path, list[str]]) -> None:
    benchmarks = _benchmarks(measured[0])
    assert list(benchmarks) == [f"{c}@instructions" for c in (EXPORTED, INLINE, GREENLET, THREAD)]
    for name, bench in benchmarks.items():
        values = bench.get_values()
        assert len(values) == 3, name
        assert all(v > 1000 for v in values), (name, values)
    exported = benchmarks[f"{EXPORTED}@instructions"].get_values()
    assert (max(exported) - min(exported)) / min(exported) < 0.01, exported
    # the inline round trip is the greenlet's without its switch
    inline = benchmarks[f"{INLINE}@instructions"].median()
    assert inline < benchmarks[f"{GREENLET}@instructions"].median()


def test_a_rerun_reproduces_the_counts(
    measured: tuple[Path, list[str]], scratch: Path, tmp_path: Path
) -> None:
    again = measure_instructions(select([EXPORTED]), tmp_path / "again.json")
    first = _benchmarks(measured[0])[f"{EXPORTED}@instructions"]
    second = _benchmarks(again)[f"{EXPORTED}@instructions"]
    # each repeat draws the same hash seed and command line again: the same counts, up to
    # what start-up timing moves
    values = second.get_values()
    assert values == pytest.approx(first.get_values(), rel=0.005)


def test_an_edited_module_does_not_move_the_next_count(
    measured: tuple[Path, list[str]], scratch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as an edit would: the bytecode cache of a module the worker imports is stale, and
    # this process and the compile step, told not to, write none
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    os.utime(Path(measure.__file__))
    again = measure_instructions(select([EXPORTED]), tmp_path / "again.json", repeats=1)
    first = _benchmarks(measured[0])[f"{EXPORTED}@instructions"].get_values()[0]
    second = _benchmarks(again)[f"{EXPORTED}@instructions"].get_values()[0]
    # a worker compiling the module moved this count by 0.07% or more
    assert second == pytest.approx(first, rel=0.0005)


def test_the_json_is_pyperf_with_unit_integer_and_the_method(
    measured: tuple[Path, list[str]],
) -> None:
    for bench in _benchmarks(measured[0]).values():
        metadata = bench.get_metadata()
        assert metadata["unit"] == "integer"
        assert metadata["instructions_method"] == METHOD
        assert metadata["valgrind_version"].startswith("valgrind-")
        assert metadata["loops"] >= 20
        assert 0 <= metadata["instructions_jitter"] < 0.2
        assert metadata["instructions_seconds"] > 0
    for command in (["stats"], ["compare_to", str(measured[0])]):
        done = subprocess.run(
            [sys.executable, "-m", "pyperf", *command, str(measured[0])],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert f"{GREENLET}@instructions" in done.stdout


def test_progress_names_each_case_and_nothing_is_left_behind(
    measured: tuple[Path, list[str]], scratch: Path
) -> None:
    out, said = measured
    text = "".join(said)
    assert "compiled wat/imported_cube under valgrind" in text
    assert f"[4/4] {THREAD}: " in text
    assert "instructions/call, jitter" in text
    assert [p.name for p in out.parent.iterdir()] == [out.name]
    assert _ours(scratch) == []


def test_what_happens_once_in_one_batch_is_dropped() -> None:
    # BATCHES: N, 2N, N, 2N; 34,000 instructions more in the first N batch, 900 in the last
    assert smallest([5_034_000, 10_000_000, 5_000_000, 10_000_900]) == (5_000_000, 10_000_000)
    count = Count(1000, 20, 0, *smallest([5_000_000, 10_034_000, 5_000_000, 10_000_000]), 1.0)
    assert count.per_call == 5_000
    with pytest.raises(MeasurementFailed, match="3 batch counts, expected 4"):
        smallest([1, 2, 1])


@pytest.mark.parametrize("folder", ["usable", "a file"])
def test_modules_compiled_for_valgrind_are_cached_where_the_cache_folder_works(
    folder: str, tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    if folder == "a file":
        cache.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("HOME", raising=False)
    out = measure_instructions(select([EXPORTED]), tmp_path / "x.json", repeats=1)
    assert _benchmarks(out)[f"{EXPORTED}@instructions"].get_values()[0] > 1000
    if folder == "usable":
        assert any(p.is_file() for p in (cache / "wasmtime").rglob("*"))
    else:
        assert cache.read_text() == "not a folder"


@pytest.mark.parametrize("how", ["missing from PATH", "named"])
def test_a_missing_valgrind_says_how_to_install_it(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    valgrind = "valgrind"
    if how == "named":
        valgrind = str(tmp_path / "no-such-valgrind")
    else:
        monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(WasmcmpError, match=r"need valgrind.*apt-get install valgrind"):
        measure_instructions(select([GREENLET]), tmp_path / "x.json", valgrind=valgrind)
    assert list(tmp_path.iterdir()) == []


def test_a_trapping_guest_is_refused_before_valgrind_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(cases.ARGS, "cube", (13,))
    trapping = Case(str(FIXTURE_GUESTS / "trap"), "exported", "cube", "checked")
    with pytest.raises(GuestTrap, match=r"trap/exported/cube/checked: cube\(13\) trapped"):
        measure_instructions([trapping], tmp_path / "x.json")
    assert list(tmp_path.iterdir()) == []


def test_a_process_past_its_timeout_is_killed_and_named(tmp_path: Path, scratch: Path) -> None:
    with pytest.raises(MeasurementFailed, match=r"^wat/exported/add/checked: .* within 1\.5 s"):
        measure_instructions(select(["wat/exported/add/checked"]), tmp_path / "x.json", timeout=1.5)
    assert list(tmp_path.iterdir()) == []
    assert _ours(scratch) == []
    assert list(scratch.iterdir()) == []


def test_a_guest_spinning_under_callgrind_is_stopped_and_named(tmp_path: Path) -> None:
    # the worker learns a guest of the user's own as the command hands it on, with --guest
    folder = tmp_path / "initspin"
    shutil.copytree(REPO / "guests" / "wat", folder)
    shutil.copy(FIXTURE_GUESTS / "initspin" / "exported.wat", folder)
    spinning = "initspin/exported/add/checked"
    command = [
        "valgrind",
        *CALLGRIND,
        f"--callgrind-out-file={tmp_path / 'callgrind.out'}",
        f"--log-file={tmp_path / 'valgrind.log'}",
        *(sys.executable, "-m", "wasmcmp.instructions_worker", "--case", spinning),
        *("--guest", f"initspin={folder}"),
        *("--call-timeout", "2", "--loops", "20"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=BOUND, check=False)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["error"] == GuestTimeout.__name__
    assert "initspin/exported/add/checked" in report["message"]
    assert "within 2 s" in report["message"]


def test_the_worker_refuses_to_count_outside_valgrind() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wasmcmp.instructions_worker", "--case", GREENLET, "--loops", "5"],
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )
    assert done.returncode == 1
    assert "counts only under callgrind" in json.loads(done.stdout)["message"]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_sigterm_stops_valgrind_and_leaves_nothing(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from wasmcmp.cases import select; "
        "from wasmcmp.instructions import measure_instructions; "
        f"measure_instructions(select([{GREENLET!r}]), Path(sys.argv[1]))"
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "x.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline and proc.poll() is None and not _ours(scratch):
        time.sleep(0.05)
    assert _ours(scratch), "valgrind never started"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=BOUND)
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in err
    assert _ours(scratch) == []
    assert [p.name for p in tmp_path.iterdir()] == ["scratch"]
    assert list(scratch.iterdir()) == []
