"""The readers: asv result folders (ours and another project's) and pyperf JSON files."""

from __future__ import annotations

import json
import math
import random
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasmcmp.errors import ResultsError
from wasmcmp.names import benchmark_name
from wasmcmp.results import (
    AsvConfig,
    read_asv,
    read_asv_config,
    read_pyperf,
)

from .conftest import DJANGO
from .result_files import (
    CROSSING,
    AsvRun,
    Bench,
    commit_hash,
    crossing_samples,
    wasmcmp_history,
    write_asv_results,
    write_pyperf,
)

needs_django = pytest.mark.skipif(
    not (DJANGO / "results").is_dir(),
    reason=f"the django-asv results are not at {DJANGO} (../shared/asv-results/django)",
)


def _one_file(folder: Path) -> Path:
    return next(p for p in sorted(folder.glob("*/*.json")) if p.name != "machine.json")


# -- another project's results ---------------------------------------------------------------------


@needs_django
def test_django_results_are_read_with_their_machines_dates_and_samples() -> None:
    found = read_asv(DJANGO / "results")
    assert len(found.runs) == 336
    assert found.skipped == ()
    assert set(found.machines) == {"ubuntu-22.04", "macos-12", "windows-2022"}
    assert {run.machine for run in found.runs} == set(found.machines)
    envs = {(run.machine, run.env) for run in found.runs}
    assert ("ubuntu-22.04", "conda-py3.10") in envs
    # no git repository: every date comes from the result file itself
    dates = [run.date for run in found.runs]
    assert all(d is not None for d in dates)
    assert min(d for d in dates if d) >= datetime(2020, 1, 1, tzinfo=UTC)
    assert max(d for d in dates if d) <= datetime(2023, 1, 1, tzinfo=UTC)
    assert all(run.commit and len(run.commit) == 40 for run in found.runs)
    measurements = [m for run in found.runs for m in run.measurements.values()]
    assert len(measurements) > 5000
    assert any(m.samples for m in measurements)
    for m in measurements:
        assert m.unit == "seconds"
        assert m.value > 0
        assert m.ci_low <= m.ci_high
        assert m.benchmark in found.benchmarks


@needs_django
def test_django_config_gives_the_project_and_commit_links() -> None:
    found = read_asv(DJANGO / "results")
    assert found.config.project == "Django"
    assert found.config.source == DJANGO / "asv.conf.json"
    url = found.config.commit_url("00370342ca3a478660372975b3309ffc4d535be1")
    assert url == "http://github.com/django/django/commit/00370342ca3a478660372975b3309ffc4d535be1"


@needs_django
def test_django_results_of_changed_benchmarks_are_left_out_as_asv_publish_does() -> None:
    found = read_asv(DJANGO / "results")
    assert found.outdated > 0
    current = {name: b.version for name, b in found.benchmarks.items()}
    for run in found.runs:
        for m in run.measurements.values():
            assert m.benchmark in current


@needs_django
def test_a_corrupt_file_among_django_results_is_named_and_the_rest_still_read(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "results"
    shutil.copytree(DJANGO / "results", copy)
    victim = sorted((copy / "macos-12").glob("*-*.json"))[0]
    victim.write_text(victim.read_text()[:500])
    found = read_asv(copy)
    assert len(found.runs) == 335
    assert [p for p, _ in found.skipped] == [victim]
    assert str(victim) in found.skipped[0][1]


# -- wasmcmp's own parameterization ----------------------------------------------------------------


def test_wasmcmp_parameters_become_case_names(tmp_path: Path) -> None:
    found = read_asv(wasmcmp_history(tmp_path / "results", commits=3))
    run = found.runs[0]
    assert len(run.measurements) == 24
    m = run.measurements["wat/imported-greenlet/cube/unchecked"]
    assert m.benchmark == CROSSING.name
    assert m.params == (
        ("guest", "wat"),
        ("approach", "imported-greenlet"),
        ("function", "cube"),
        ("tier", "unchecked"),
    )
    assert m.unit == "seconds"
    assert len(m.samples) == 10
    assert m.ci_low <= m.value <= m.ci_high
    assert m.q25 is not None
    assert m.q75 is not None
    assert found.benchmarks[CROSSING.name].param_names == tuple(CROSSING.param_names)


def test_statistics_are_asvs_own(tmp_path: Path) -> None:
    from asv_runner.statistics import compute_stats

    found = read_asv(wasmcmp_history(tmp_path / "results", commits=1))
    m = found.runs[0].measurements["go/exported/add/checked"]
    value, stats = compute_stats(list(m.samples), 1)
    assert m.value == pytest.approx(value)
    assert m.ci_low == pytest.approx(stats["ci_99_a"], rel=1e-4)
    assert m.ci_high == pytest.approx(stats["ci_99_b"], rel=1e-4)


def test_commit_date_and_environment_come_from_the_result_file(tmp_path: Path) -> None:
    found = read_asv(wasmcmp_history(tmp_path / "results", commits=2))
    by_commit = {run.commit: run for run in found.runs}
    run = by_commit[commit_hash(1)]
    assert run.date == datetime(2025, 1, 7, 9, 0, tzinfo=UTC)
    assert run.machine == "ci-linux"
    assert run.env == "virtualenv-py3.11"
    assert run.python == "3.11"
    assert run.source.parent.name == "ci-linux"


def test_failed_and_skipped_combinations(tmp_path: Path) -> None:
    bench = Bench(
        "suite.Sizes.time_sort",
        ("n", "kind"),
        (("10", "100"), ("'list'", "'tuple'")),
    )
    rng = random.Random(0)
    ok = [1e-3 * rng.gauss(1, 0.01) for _ in range(8)]
    folder = write_asv_results(
        tmp_path / "results",
        [bench],
        [
            AsvRun(
                "box",
                "py",
                commit_hash(1),
                datetime(2025, 1, 1, tzinfo=UTC),
                {bench.name: [ok, None, ok, ok]},
            )
        ],
    )
    path = _one_file(folder)
    data = json.loads(path.read_text())
    data["results"][bench.name][0][3] = math.nan  # asv's mark for a skipped combination
    path.write_text(json.dumps(data))
    run = read_asv(folder).runs[0]
    assert set(run.measurements) == {
        "suite.Sizes.time_sort(10, list)",
        "suite.Sizes.time_sort(100, list)",
    }
    assert run.failed == frozenset({"suite.Sizes.time_sort(10, tuple)"})
    assert run.measurements["suite.Sizes.time_sort(100, list)"].params == (
        ("n", "100"),
        ("kind", "list"),
    )


def test_track_and_memory_benchmarks_keep_their_units(tmp_path: Path) -> None:
    track = Bench("suite.track_items", type="track", unit="items")
    mem = Bench("suite.peakmem_load", type="peakmem", unit="bytes")
    folder = write_asv_results(
        tmp_path / "results",
        [track, mem],
        [
            AsvRun(
                "box",
                "py",
                commit_hash(1),
                datetime(2025, 1, 1, tzinfo=UTC),
                {track.name: [[42.0]], mem.name: [[1.5e6]]},
            )
        ],
    )
    run = read_asv(folder).runs[0]
    assert run.measurements["suite.track_items"].unit == "items"
    assert run.measurements["suite.track_items"].value == 42.0
    assert run.measurements["suite.peakmem_load"].unit == "bytes"


def test_without_benchmarks_json_parameters_are_numbered(tmp_path: Path) -> None:
    folder = wasmcmp_history(tmp_path / "results", commits=1)
    (folder / "benchmarks.json").unlink()
    run = read_asv(folder).runs[0]
    name = f"{CROSSING.name}(go, exported, add, checked)"
    assert run.measurements[name].params[0] == ("param1", "go")


def test_a_changed_benchmark_leaves_its_old_results_out(tmp_path: Path) -> None:
    folder = wasmcmp_history(tmp_path / "results", commits=2)
    info = json.loads((folder / "benchmarks.json").read_text())
    info[CROSSING.name]["version"] = "2"
    (folder / "benchmarks.json").write_text(json.dumps(info))
    found = read_asv(folder)
    assert found.outdated == 2
    assert all(not run.measurements for run in found.runs)


# -- unreadable files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda text: text[: len(text) // 2], "not readable JSON"),
        (lambda text: "", "not readable JSON"),
        (lambda text: "[1, 2]", "not an asv result file"),
        (lambda text: text.replace('"version": 2', '"version": 7'), "format version 7"),
        (lambda text: text.replace('"results": {', '"results": 3, "x": {'), "malformed"),
    ],
    ids=["truncated", "empty", "not-an-object", "unknown-version", "malformed"],
)
def test_a_damaged_file_is_skipped_with_a_warning_naming_it(
    tmp_path: Path, damage: object, says: str
) -> None:
    folder = wasmcmp_history(tmp_path / "results", commits=3)
    victim = _one_file(folder)
    text = json.dumps(json.loads(victim.read_text()), indent=1)
    assert callable(damage)
    victim.write_text(damage(text))
    found = read_asv(folder)
    assert len(found.runs) == 2
    assert len(found.skipped) == 1
    path, reason = found.skipped[0]
    assert path == victim
    assert str(victim) in reason
    assert says in reason


def test_an_unreadable_machine_json_falls_back_to_the_folder_name(tmp_path: Path) -> None:
    folder = wasmcmp_history(tmp_path / "results", commits=2)
    (folder / "ci-linux" / "machine.json").write_text("{")
    found = read_asv(folder)
    assert len(found.runs) == 2
    assert {run.machine for run in found.runs} == {"ci-linux"}
    assert found.skipped[0][0] == folder / "ci-linux" / "machine.json"


def test_a_format_1_file_is_upgraded_as_asv_update_would(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    (folder / "old").mkdir(parents=True)
    (folder / "old" / "machine.json").write_text('{"machine": "old", "version": 1}')
    (folder / "old" / "abcdef12-py.json").write_text(
        json.dumps(
            {
                "version": 1,
                "commit_hash": "abcdef1234567890",
                "date": 1_600_000_000_000,
                "env_name": "py",
                "params": {"machine": "old"},
                "python": "3.8",
                "requirements": {},
                "results": {
                    "suite.time_a": {
                        "result": [0.5],
                        "params": [],
                        "stats": [{"ci_99": [0.4, 0.6], "q_25": 0.45, "q_75": 0.55}],
                        "samples": [[0.4, 0.5, 0.6]],
                    }
                },
            }
        )
    )
    run = read_asv(folder).runs[0]
    m = run.measurements["suite.time_a"]
    assert (m.value, m.ci_low, m.ci_high, m.samples) == (0.5, 0.4, 0.6, (0.4, 0.5, 0.6))


def test_a_missing_folder_is_an_error_saying_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="no such asv results folder"):
        read_asv(tmp_path / "nope")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.floats(min_value=0.0, max_value=1.0), junk=st.binary(max_size=40))
def test_any_damage_to_a_file_never_stops_the_read(tmp_path: Path, cut: float, junk: bytes) -> None:
    folder = tmp_path / "results"
    if not folder.exists():
        wasmcmp_history(folder, commits=2)
        (tmp_path / "pristine.json").write_bytes(_one_file(folder).read_bytes())
    victim = _one_file(folder)
    good = (tmp_path / "pristine.json").read_bytes()
    victim.write_bytes(good[: int(len(good) * cut)] + junk)
    found = read_asv(folder)
    assert len(found.runs) + len(found.skipped) == 2
    for path, reason in found.skipped:
        assert path == victim
        assert str(victim) in reason


#: parameter values asv's repr keeps verbatim between its quotes (printable, no quote or escape)
_VALUE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\\'\""),
    min_size=1,
    max_size=12,
).filter(str.isprintable)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(_VALUE, min_size=1, max_size=3, unique=True))
def test_parameter_values_round_trip_through_asvs_repr(tmp_path: Path, values: list[str]) -> None:
    folder = tmp_path / f"r{abs(hash(tuple(values)))}"
    bench = Bench("suite.time_p", ("p",), (tuple(repr(v) for v in values),))
    samples = [[1e-3, 1.1e-3, 0.9e-3] for _ in values]
    write_asv_results(
        folder,
        [bench],
        [AsvRun("m", "e", commit_hash(1), datetime(2025, 1, 1, tzinfo=UTC), {bench.name: samples})],
    )
    run = read_asv(folder).runs[0]
    assert sorted(dict(m.params)["p"] for m in run.measurements.values()) == sorted(values)
    assert set(run.measurements) == {benchmark_name(bench.name, {"p": v}) for v in values}


# -- asv.conf.json ---------------------------------------------------------------------------------


def test_config_beside_a_results_dir_elsewhere_is_found(tmp_path: Path) -> None:
    folder = wasmcmp_history(tmp_path / ".asv" / "results", commits=1)
    (tmp_path / "asv.conf.json").write_text(
        '// asv allows comments\n{"version": 1, "project": "wasmcmp",'
        ' "results_dir": ".asv/results",'
        ' "show_commit_url": "https://github.com/o/wasmcmp/commit/",'
        ' "regressions_thresholds": {"crossing": 0.1}}'
    )
    found = read_asv(folder)
    assert found.config.project == "wasmcmp"
    assert found.config.commit_url("abc1234") == "https://github.com/o/wasmcmp/commit/abc1234"
    assert found.config.regressions_thresholds == {"crossing": 0.1}


def test_an_explicit_config_wins_and_only_web_links_are_kept(tmp_path: Path) -> None:
    folder = wasmcmp_history(tmp_path / "results", commits=1)
    conf = tmp_path / "other.json"
    conf.write_text('{"project": "x", "show_commit_url": "javascript:alert(1)//"}')
    found = read_asv(folder, config=conf)
    assert found.config.project == "x"
    assert found.config.commit_url("abc") is None
    assert AsvConfig().commit_url("abc") is None


def test_an_unreadable_config_is_an_error_naming_it(tmp_path: Path) -> None:
    conf = tmp_path / "asv.conf.json"
    conf.write_text("{nope")
    with pytest.raises(ResultsError, match=r"asv\.conf\.json"):
        read_asv_config(conf)


# -- pyperf files ----------------------------------------------------------------------------------


def test_pyperf_file_is_read_as_one_run(tmp_path: Path) -> None:
    rng = random.Random(2)
    cases = {
        "go/exported/add/checked": crossing_samples(rng)[0],
        "go/imported-thread/add/checked": crossing_samples(rng)[2],
    }
    path = write_pyperf(tmp_path / "run.json", cases, hostname="laptop", commit="abc123")
    run = read_pyperf(path)
    assert run.machine == "laptop"
    assert run.env == "pyperf"
    assert run.commit == "abc123"
    assert run.date == datetime(2025, 2, 1, 12, 0, tzinfo=UTC)
    assert set(run.measurements) == set(cases)
    m = run.measurements["go/exported/add/checked"]
    assert len(m.samples) == 10
    assert m.ci_low <= m.value <= m.ci_high


def test_each_pyperf_worker_process_is_one_unit(tmp_path: Path) -> None:
    import pyperf

    processes = [[1.0e-6, 1.2e-6, 1.1e-6], [2.0e-6, 2.2e-6, 2.1e-6]]
    # the calibration run has warmups only; each worker process then records its values
    runs = [pyperf.Run([], warmups=[(1, 1.5e-6)], metadata={"name": "c", "loops": 1})]
    runs += [
        pyperf.Run(values, warmups=[(1, values[0])], metadata={"name": "c", "loops": 1})
        for values in processes
    ]
    path = tmp_path / "run.json"
    pyperf.BenchmarkSuite([pyperf.Benchmark(runs)]).dump(str(path))
    measured = read_pyperf(path).measurements["c"]
    assert len(measured.samples) == 6
    assert measured.units == pytest.approx((1.1e-6, 2.1e-6))


def test_a_damaged_pyperf_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text('{"version": "1.0", "benchmarks": [')
    with pytest.raises(ResultsError, match=re.escape(str(path))):
        read_pyperf(path)
