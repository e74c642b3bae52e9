"""compare: ratios, asv's significance test, factors per pattern, verdicts, and picking sides."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import replace
from pathlib import Path

import pyperf
import pytest
from asv import _stats
from asv.results import Results
from asv.runner import BenchmarkResult
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from wasmcmp.compare import (
    CI_OVERLAP,
    DEFAULT_FACTOR,
    DEFAULT_INSTRUCTION_FACTOR,
    DETERMINISTIC,
    FACTOR_ONLY,
    FAMILY_LEVEL,
    MANN_WHITNEY_U,
    SIGNIFICANCE_LEVEL,
    FactorRule,
    Factors,
    Verdict,
    compare,
    crossing_changes,
    holm,
    judge,
    parse_factors,
    ratio,
    significance,
)
from wasmcmp.errors import InvalidFactor, ResultsError, WasmcmpError
from wasmcmp.results import Measurement, Run, load_side, measurement_from_samples, select_run

NS = 1e-9

times = st.floats(min_value=1e-9, max_value=1.0, allow_nan=False, allow_infinity=False)
samples = st.lists(times, min_size=1, max_size=25)
factors = st.floats(min_value=1.0, max_value=3.0, allow_nan=False)
case_names = st.text(alphabet="abcxyz/-*", min_size=1, max_size=12)


def spread(center: float, n: int = 20, width: float = 0.02) -> list[float]:
    """Return n samples evenly spread over center * (1 +- width): no randomness in tests."""
    return [center * (1 - width + 2 * width * i / (n - 1)) for i in range(n)]


def m(case: str, values: list[float]) -> Measurement:
    return measurement_from_samples(case, values)


def run(measurements: dict[str, list[float]], **kwargs: object) -> Run:
    fields: dict[str, object] = {"source": Path("run.json"), "machine": "m", "env": "e"}
    fields.update(kwargs)
    return Run(
        measurements={name: m(name, values) for name, values in measurements.items()},
        **fields,  # type: ignore[arg-type]
    )


# -- arithmetic ---------------------------------------------------------------------------------


@given(times, times)
def test_ratio_is_head_over_base(base: float, head: float) -> None:
    assert ratio(base, head) == pytest.approx(head / base)
    assert (ratio(base, head) > 1) == (head > base)


def test_ratio_with_a_zero_base_is_infinite_unless_both_are_zero() -> None:
    assert ratio(0.0, 1.0) == math.inf
    assert ratio(0.0, 0.0) == 1.0


# asv's exact test on up to 20 samples a side can take a good part of a second.
@settings(deadline=None)
@given(samples, samples)
def test_significance_decides_exactly_as_asv(a: list[float], b: list[float]) -> None:
    base, head = m("c", a), m("c", b)
    sig = significance(base, head)
    stats_a = {"ci_99_a": base.ci_low, "ci_99_b": base.ci_high}
    stats_b = {"ci_99_a": head.ci_low, "ci_99_b": head.ci_high}
    assert sig.level == SIGNIFICANCE_LEVEL
    if len(a) == 1 or len(b) == 1:
        # asv's compare skips the test for a single sample (repeat 1): the factor decides
        assert sig.test == FACTOR_ONLY
        assert sig.significant
        return
    assert sig.significant == _stats.is_different(a, b, stats_a, stats_b, SIGNIFICANCE_LEVEL)
    if sig.test == MANN_WHITNEY_U:
        assert sig.p_value is not None
        assert sig.significant == (sig.p_value < SIGNIFICANCE_LEVEL)
    else:
        assert sig.test == CI_OVERLAP
        assert sig.p_value is None


def test_too_few_samples_fall_back_to_the_intervals() -> None:
    # 5 against 5 samples: the exact test's smallest p-value is 1/252 > 0.002.
    sig = significance(m("c", spread(100 * NS, 5)), m("c", spread(200 * NS, 5)))
    assert sig.test == CI_OVERLAP
    assert sig.p_value is None


# asv's exact test on up to 20 samples a side can take a good part of a second.
@settings(deadline=None)
@given(samples, samples, factors)
def test_verdict_follows_significance_and_factor(a: list[float], b: list[float], f: float) -> None:
    row = judge("c", m("c", a), m("c", b), f)
    assert row.significance is not None
    slower = row.head is not None and row.base is not None and row.head.value > row.base.value * f
    faster = row.head is not None and row.base is not None and row.head.value * f < row.base.value
    if row.verdict is Verdict.REGRESSED:
        assert row.significance.significant
        assert slower
    elif row.verdict is Verdict.IMPROVED:
        assert row.significance.significant
        assert faster
    else:
        assert row.verdict is Verdict.UNCHANGED
        assert not (row.significance.significant and (slower or faster))


# asv's exact test on up to 20 samples a side can take a good part of a second.
@settings(deadline=None)
@given(samples, samples, factors)
def test_swapping_base_and_head_swaps_regressed_and_improved(
    a: list[float], b: list[float], f: float
) -> None:
    forward = judge("c", m("c", a), m("c", b), f).verdict
    backward = judge("c", m("c", b), m("c", a), f).verdict
    swapped = {Verdict.REGRESSED: Verdict.IMPROVED, Verdict.IMPROVED: Verdict.REGRESSED}
    assert backward == swapped.get(forward, forward)


# asv's exact test on up to 20 samples a side can take a good part of a second.
@settings(deadline=None)
@given(samples)
def test_a_case_against_itself_is_unchanged(a: list[float]) -> None:
    assert judge("c", m("c", a), m("c", a), DEFAULT_FACTOR).verdict is Verdict.UNCHANGED


def test_a_real_slowdown_beyond_the_factor_regresses() -> None:
    row = judge("c", m("c", spread(100 * NS)), m("c", spread(125 * NS)), 1.10)
    assert row.verdict is Verdict.REGRESSED
    assert row.ratio == pytest.approx(1.25)
    assert row.significance is not None
    assert row.significance.test == MANN_WHITNEY_U


def test_a_significant_change_within_the_factor_is_unchanged() -> None:
    row = judge(
        "c", m("c", spread(100 * NS, width=0.001)), m("c", spread(105 * NS, width=0.001)), 1.10
    )
    assert row.significance is not None
    assert row.significance.significant
    assert row.verdict is Verdict.UNCHANGED


def test_a_large_change_that_is_not_significant_is_unchanged() -> None:
    # Two samples against two: no test can call that significant, whatever the ratio.
    row = judge("c", m("c", [100 * NS, 300 * NS]), m("c", [150 * NS, 400 * NS]), 1.10)
    assert row.verdict is Verdict.UNCHANGED


# -- factors ------------------------------------------------------------------------------------


@given(st.lists(st.tuples(case_names, factors), max_size=5), case_names, factors)
def test_the_last_matching_pattern_wins(
    rules: list[tuple[str, float]], case: str, default: float
) -> None:
    import fnmatch

    parsed = Factors(default, tuple(FactorRule(p, f) for p, f in rules))
    matching = [f for p, f in rules if fnmatch.fnmatchcase(case, p)]
    assert parsed.for_case(case) == (matching[-1] if matching else default)


@given(st.lists(st.tuples(st.text(alphabet="abgo/-*?[]", min_size=1, max_size=10), factors)))
def test_parse_factors_reads_rules_in_order(rules: list[tuple[str, float]]) -> None:
    assume(all(p.strip() == p for p, _ in rules))
    parsed = parse_factors([f"{p}={f!r}" for p, f in rules])
    assert parsed.rules == tuple(FactorRule(p, f) for p, f in rules)
    assert parsed.default == DEFAULT_FACTOR


def test_parse_factors_takes_a_bare_number_as_the_default() -> None:
    parsed = parse_factors(["1.05", "go/imported-*=1.25"])
    assert parsed.default == 1.05
    assert parsed.for_case("go/imported-thread/add/checked") == 1.25
    assert parsed.for_case("wat/imported-thread/add/checked") == 1.05


@pytest.mark.parametrize("text", ["0.9", "fast", "nan", "inf", "go/*=", "=1.2", "go/*=0.5"])
def test_parse_factors_rejects_what_is_not_a_factor(text: str) -> None:
    with pytest.raises(InvalidFactor, match="--factor"):
        parse_factors([text])
    assert issubclass(InvalidFactor, WasmcmpError)


# -- whole runs ---------------------------------------------------------------------------------


def test_compare_gives_every_verdict_and_the_overall_one() -> None:
    base = run(
        {
            "go/exported/add/checked": spread(100 * NS),
            "go/imported-thread/add/checked": spread(900 * NS),
            "wat/exported/add/checked": spread(100 * NS),
            "wat/exported/cube/checked": spread(100 * NS),
            "wat/gone/add/checked": spread(100 * NS),
        },
        commit="a" * 40,
    )
    head = run(
        {
            "go/exported/add/checked": spread(100 * NS),
            "go/imported-thread/add/checked": spread(1200 * NS),
            "wat/exported/add/checked": spread(50 * NS),
            "wat/new/add/checked": spread(100 * NS),
        },
        commit="b" * 40,
        failed=frozenset({"wat/exported/cube/checked"}),
    )
    result = compare(base, head)
    verdicts = {row.case: row.verdict for row in result.cases}
    assert verdicts == {
        "go/exported/add/checked": Verdict.UNCHANGED,
        "go/imported-thread/add/checked": Verdict.REGRESSED,
        "wat/exported/add/checked": Verdict.IMPROVED,
        "wat/exported/cube/checked": Verdict.FAILED,
        "wat/gone/add/checked": Verdict.MISSING,
        "wat/new/add/checked": Verdict.NEW,
    }
    assert result.verdict is Verdict.REGRESSED
    assert result.regressions == 1
    assert {row.case for row in result.blocking} == {
        "go/imported-thread/add/checked",
        "wat/exported/cube/checked",
    }
    assert sum(result.counts.values()) == len(result.cases)


@pytest.mark.parametrize(
    ("head_center", "failed", "expected"),
    [
        (100 * NS, frozenset(), Verdict.UNCHANGED),
        (50 * NS, frozenset(), Verdict.IMPROVED),
        (50 * NS, frozenset({"x/exported/add/checked"}), Verdict.FAILED),
        (300 * NS, frozenset({"x/exported/add/checked"}), Verdict.REGRESSED),
    ],
)
def test_the_overall_verdict_puts_regressions_before_failures_before_improvements(
    head_center: float, failed: frozenset[str], expected: Verdict
) -> None:
    base = run({"x/exported/add/unchecked": spread(100 * NS)})
    head = run({"x/exported/add/unchecked": spread(head_center)}, failed=failed)
    assert compare(base, head).verdict is expected


def test_two_empty_runs_are_unusable_input() -> None:
    with pytest.raises(ResultsError, match="no cases to compare"):
        compare(run({}), run({}))


def test_factor_patterns_reach_each_case() -> None:
    base = run({"go/imported-thread/add/checked": spread(100 * NS)})
    head = run({"go/imported-thread/add/checked": spread(120 * NS)})
    assert compare(base, head).verdict is Verdict.REGRESSED
    lenient = parse_factors(["go/imported-*=1.25"])
    result = compare(base, head, lenient)
    assert result.verdict is Verdict.UNCHANGED
    assert result.cases[0].factor == 1.25


def test_crossing_changes_divide_imported_by_exported_on_each_side() -> None:
    base = run(
        {
            "go/exported/add/checked": spread(100 * NS),
            "go/imported-thread/add/checked": spread(900 * NS),
            "go/imported-greenlet/add/checked": spread(400 * NS),
        }
    )
    head = run(
        {
            "go/exported/add/checked": spread(100 * NS),
            "go/imported-thread/add/checked": spread(1200 * NS),
        }
    )
    rows = {x.imported: x for x in crossing_changes(base, head)}
    assert set(rows) == {"go/imported-thread/add/checked", "go/imported-greenlet/add/checked"}
    thread = rows["go/imported-thread/add/checked"]
    assert thread.exported == "go/exported/add/checked"
    assert thread.base is not None
    assert thread.base.value == pytest.approx(9.0)
    assert thread.head is not None
    assert thread.head.value == pytest.approx(12.0)
    assert thread.change == pytest.approx(12.0 / 9.0)
    assert rows["go/imported-greenlet/add/checked"].head is None


# -- picking the two sides ------------------------------------------------------------------------


def test_select_run_takes_a_unique_prefix_and_explains_what_is_wrong() -> None:
    runs = [
        run({}, commit="abcdef1234" + "0" * 30, machine="m1", env="py311"),
        run({}, commit="abcdef1234" + "0" * 30, machine="m2", env="py311"),
        run({}, commit="abcd99" + "0" * 34, machine="m1", env="py311"),
    ]
    assert select_run(runs, "abcdef", machine="m2").machine == "m2"
    with pytest.raises(ResultsError, match="--machine"):
        select_run(runs, "abcdef")
    with pytest.raises(ResultsError, match="give more digits"):
        select_run(runs, "abcd", machine="m1")
    with pytest.raises(ResultsError, match="no results for commit '0123'"):
        select_run(runs, "0123")
    with pytest.raises(ResultsError, match="too short"):
        select_run(runs, "ab")


def write_pyperf(path: Path, values: dict[str, list[float]]) -> Path:
    """Write a pyperf JSON file holding one benchmark per case, as pyperf itself does."""
    benches = []
    for name, vals in values.items():
        run_ = pyperf.Run(vals, metadata={"name": name, "hostname": "box"}, collect_metadata=False)
        benches.append(pyperf.Benchmark([run_]))
    pyperf.BenchmarkSuite(benches).dump(str(path))
    return path


def test_load_side_reads_a_pyperf_file(tmp_path: Path) -> None:
    path = write_pyperf(tmp_path / "base.json", {"wat/exported/add/checked": spread(100 * NS)})
    side = load_side(str(path))
    assert set(side.measurements) == {"wat/exported/add/checked"}


def test_load_side_without_results_names_the_missing_option(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="--results"):
        load_side("abc1234")


CASES = (
    ("'go'", "'wat'"),
    ("'exported'", "'imported-thread'"),
    ("'add'",),
    ("'checked'",),
)
BENCHMARK = {
    "name": "crossing.Crossing.time_call",
    "version": "1",
    "params": [list(values) for values in CASES],
}


def write_asv_results(folder: Path, commit: str, slow: float, machine: str = "box") -> None:
    """Write an asv results folder for one commit with asv's own Results class."""
    results = Results(
        {"machine": machine, "python": "3.11"},
        {},
        commit,
        1_700_000_000_000,
        "3.11",
        "virtualenv-py3.11",
        {},
    )
    centers = [100 * NS, 900 * NS * slow, 120 * NS, 950 * NS * slow]
    results.add_result(
        BENCHMARK,
        BenchmarkResult(
            result=[statistics.median(spread(c)) for c in centers],
            samples=[spread(c) for c in centers],
            number=[1] * 4,
            errcode=0,
            stderr="",
            profile=None,
        ),
        record_samples=True,
    )
    results.save(str(folder))
    (folder / machine).mkdir(exist_ok=True)
    (folder / machine / "machine.json").write_text(json.dumps({"machine": machine, "version": 1}))
    info = {
        BENCHMARK["name"]: {
            "name": BENCHMARK["name"],
            "type": "time",
            "unit": "seconds",
            "param_names": ["guest", "approach", "function", "tier"],
            "params": BENCHMARK["params"],
            "version": "1",
        },
        "version": 2,
    }
    (folder / "benchmarks.json").write_text(json.dumps(info))


def test_two_asv_commits_on_one_machine_compare(tmp_path: Path) -> None:
    results = tmp_path / "results"
    base_commit, head_commit = "1" * 40, "2" * 40
    write_asv_results(results, base_commit, slow=1.0)
    write_asv_results(results, head_commit, slow=1.3)
    base = load_side(base_commit[:8], results=results, machine="box")
    head = load_side(head_commit, results=results)
    result = compare(base, head)
    verdicts = {row.case: row.verdict for row in result.cases}
    assert verdicts["go/imported-thread/add/checked"] is Verdict.REGRESSED
    assert verdicts["wat/imported-thread/add/checked"] is Verdict.REGRESSED
    assert verdicts["go/exported/add/checked"] is Verdict.UNCHANGED
    assert all(
        row.significance is None or row.significance.test == MANN_WHITNEY_U for row in result.cases
    )


def test_the_same_commit_on_two_machine_names_compares_with_itself(tmp_path: Path) -> None:
    results = tmp_path / "results"
    write_asv_results(results, "3" * 40, slow=1.0, machine="first")
    write_asv_results(results, "3" * 40, slow=1.0, machine="second")
    base = load_side("3333", results=results, machine="first")
    head = load_side("3333", results=results, machine="second")
    assert compare(base, head).verdict is Verdict.UNCHANGED


def test_an_unknown_commit_is_unusable_input(tmp_path: Path) -> None:
    results = tmp_path / "results"
    write_asv_results(results, "4" * 40, slow=1.0)
    with pytest.raises(ResultsError, match="no results for commit 'deadbeef'"):
        load_side("deadbeef", results=results)


def test_results_without_statistics_are_judged_by_the_factor_like_asv() -> None:
    inf = float("inf")
    bare = Measurement(case="c", value=100 * NS, ci_low=-inf, ci_high=inf)
    slower = Measurement(case="c", value=150 * NS, ci_low=-inf, ci_high=inf)
    row = judge("c", bare, slower, 1.10)
    assert row.significance is not None
    assert row.significance.test == FACTOR_ONLY
    assert row.verdict is Verdict.REGRESSED
    assert judge("c", bare, bare, 1.10).verdict is Verdict.UNCHANGED


def test_a_case_already_failing_on_base_does_not_block() -> None:
    def run(failed: set[str]) -> Run:
        return Run(
            source=Path("x"),
            machine="m",
            env="e",
            measurements={"ok": m("ok", spread(100 * NS, 10))},
            failed=frozenset(failed),
        )

    still_broken = compare(run({"broken"}), run({"broken"}))
    assert [c.verdict for c in still_broken.cases if c.case == "broken"] == [Verdict.FAILED]
    assert still_broken.blocking == ()
    newly_broken = compare(run(set()), run({"broken"}))
    assert [c.case for c in newly_broken.blocking] == ["broken"]


# -- statistics that fit how the numbers were taken ----------------------------------------------


@given(st.dictionaries(st.text(min_size=1, max_size=4), st.floats(0, 1), min_size=1, max_size=30))
def test_holm_adjusts_upward_and_keeps_the_order(p_values: dict[str, float]) -> None:
    adjusted = holm(p_values)
    assert set(adjusted) == set(p_values)
    for case, p in p_values.items():
        assert p <= adjusted[case] <= 1.0
        assert adjusted[case] <= min(1.0, len(p_values) * p) + 1e-12
    ranked = sorted(p_values, key=lambda c: (p_values[c], c))
    values = [adjusted[c] for c in ranked]
    assert values == sorted(values)


def test_a_comparison_tests_its_cases_as_one_family() -> None:
    names = [f"go/exported/f{i}/checked" for i in range(24)]
    base = run({n: spread(100 * NS) for n in names})
    head = run({n: spread((130 if i == 0 else 100) * NS) for i, n in enumerate(names)})
    result = compare(base, head)
    assert result.level == FAMILY_LEVEL
    raw = {
        n: significance(base.measurements[n], head.measurements[n], FAMILY_LEVEL / 24)
        for n in names
    }
    expected = holm({n: s.raw_p_value for n, s in raw.items() if s.raw_p_value is not None})
    for row in result.cases:
        assert row.significance is not None
        assert row.significance.p_value == pytest.approx(expected[row.case])
        assert row.significance.significant == (expected[row.case] < FAMILY_LEVEL)
    assert [r.case for r in result.cases if r.verdict is Verdict.REGRESSED] == [names[0]]


def test_process_means_are_the_units_of_the_test() -> None:
    # every value of head is slower, but the four processes' means are the same as base's:
    # values inside one process are not independent, so this is no evidence of a change
    means = (1.00, 1.04, 0.97, 1.02, 0.99, 1.03, 0.98, 1.01)
    base = replace(m("c", spread(100 * NS)), units=tuple(x * 100 * NS for x in means))
    head = replace(m("c", spread(103 * NS)), units=base.units)
    per_process = significance(base, head)
    assert per_process.test == MANN_WHITNEY_U
    assert not per_process.significant
    assert significance(replace(base, units=()), replace(head, units=())).significant


def test_instruction_counts_are_judged_by_their_threshold() -> None:
    def counts(value: float) -> Measurement:
        return replace(m("go/exported/add/checked@instructions", [value] * 3), unit="instructions")

    case = "go/exported/add/checked@instructions"
    base = Run(Path("b.json"), "m", "e", {case: counts(1000.0)})
    for head_count, verdict in ((1008.0, Verdict.REGRESSED), (1004.0, Verdict.UNCHANGED)):
        head = Run(Path("h.json"), "m", "e", {case: counts(head_count)})
        row = compare(base, head).cases[0]
        assert row.significance is not None
        assert row.significance.test == DETERMINISTIC
        assert row.factor == DEFAULT_INSTRUCTION_FACTOR
        assert row.verdict is verdict
    lenient = parse_factors(["*@instructions=1.02"])
    head = Run(Path("h.json"), "m", "e", {case: counts(1015.0)})
    assert compare(base, head, lenient).cases[0].verdict is Verdict.UNCHANGED
