"""Where the time goes: each approach taken apart into crossings and hand-off, per group."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from wasmcmp.compare import breakdowns
from wasmcmp.report import run_markdown, run_table
from wasmcmp.results import Run, measurement_from_samples

SECONDS = st.floats(min_value=1e-9, max_value=1e-3, allow_nan=False)


def _run(values: dict[str, float]) -> Run:
    measurements = {
        case: measurement_from_samples(case, [v * f for f in (0.98, 1.0, 1.01, 1.03, 0.99)])
        for case, v in values.items()
    }
    return Run(source=Path("run.json"), machine="m", env="pyperf", measurements=measurements)


@given(SECONDS, SECONDS, SECONDS, SECONDS)
def test_the_parts_add_up_to_each_approachs_median(
    exported: float, inline: float, greenlet: float, thread: float
) -> None:
    run = _run(
        {
            "go/exported/add/unchecked": exported,
            "go/imported-inline/add/unchecked": inline,
            "go/imported-greenlet/add/unchecked": greenlet,
            "go/imported-thread/add/unchecked": thread,
        }
    )
    median = {name: m.value for name, m in run.measurements.items()}
    (found,) = breakdowns(run.measurements)
    assert found.group == "go/add/unchecked"
    assert found.exported == median["go/exported/add/unchecked"]
    assert found.crossings == median["go/imported-inline/add/unchecked"]
    # hand-offs in display order; each with the crossings makes up its conduit's median
    assert [a for a, _ in found.handoffs] == ["imported-greenlet", "imported-thread"]
    for approach in ("imported-greenlet", "imported-thread"):
        handoff = found.handoff(approach)
        assert handoff is not None
        whole = median[f"go/{approach}/add/unchecked"]
        # a difference of floats: exact up to rounding at the scale of the larger operand
        assert abs(found.crossings + handoff - whole) <= 1e-12 * max(whole, found.crossings)


def test_a_group_is_broken_down_only_with_its_inline_case_and_one_more() -> None:
    run = _run(
        {
            # no inline case: nothing to take the hand-off apart from
            "go/exported/add/checked": 25e-6,
            "go/imported-thread/add/checked": 85e-6,
            # inline alone: nothing to compare it with
            "wat/imported-inline/cube/checked": 12e-6,
            # inline and a conduit, no exported case
            "rust/imported-inline/add/unchecked": 1.1e-6,
            "rust/imported-greenlet/add/unchecked": 2.0e-6,
        }
    )
    (found,) = breakdowns(run.measurements)
    assert found.group == "rust/add/unchecked"
    assert found.exported is None
    assert found.handoff("imported-thread") is None
    handoff = found.handoff("imported-greenlet")
    assert handoff is not None
    assert abs(handoff - 0.9e-6) < 1e-12


def test_a_hand_off_cheaper_than_the_noise_is_reported_as_measured() -> None:
    run = _run(
        {"wat/imported-inline/add/checked": 14e-6, "wat/imported-greenlet/add/checked": 13e-6}
    )
    (found,) = breakdowns(run.measurements)
    handoff = found.handoff("imported-greenlet")
    assert handoff is not None
    assert handoff < 0


def test_metrics_are_broken_down_apart() -> None:
    run = _run(
        {
            "wat/exported/add/unchecked": 440e-9,
            "wat/imported-inline/add/unchecked": 1.1e-6,
            "wat/exported/add/unchecked@instructions": 5_900,
            "wat/imported-inline/add/unchecked@instructions": 12_000,
        }
    )
    found = {(b.group, b.metric): b for b in breakdowns(run.measurements)}
    assert set(found) == {("wat/add/unchecked", "time"), ("wat/add/unchecked", "instructions")}
    assert found["wat/add/unchecked", "instructions"].crossings == 12_000


def test_the_run_table_and_markdown_show_the_breakdown() -> None:
    run = _run(
        {
            "go/exported/add/unchecked": 440e-9,
            "go/imported-inline/add/unchecked": 1_100e-9,
            "go/imported-greenlet/add/unchecked": 2_000e-9,
            "go/imported-thread/add/unchecked": 60_000e-9,
            "go/exported/add/checked": 25_000e-9,
            "go/imported-thread/add/checked": 85_000e-9,  # no inline checked: no row
        }
    )
    table = run_table(run).split("where the time goes (ns/op)")[1].splitlines()
    assert table[3].split() == ["go", "add", "unchecked", "440", "1,100", "900", "58,900"]
    assert len(table) == 4
    markdown = run_markdown(run)
    assert "| <code>go/add/unchecked</code> | 440 | 1,100 | 900 | 58,900 |" in markdown.splitlines()


def test_one_line_names_the_cases_pyperf_judged_unstable() -> None:
    run = _run(
        {
            "go/exported/add/unchecked": 440e-9,
            "go/imported-inline/add/unchecked": 1_100e-9,
            "go/imported-thread/add/unchecked": 60_000e-9,
        }
    )
    shaky = replace(
        run.measurements["go/imported-thread/add/unchecked"],
        unstable=("the standard deviation (20 us) is 33% of the mean (60 us)",),
    )
    run = replace(run, measurements={**run.measurements, shaky.case: shaky})
    lines = run_table(run).splitlines()
    marked = [line.split()[0] for line in lines if line.endswith(" unstable")]
    assert marked == ["go/imported-thread/add/unchecked"]
    assert [line for line in lines if line.startswith("pyperf:")] == [
        "pyperf: the results of 1 case (go/imported-thread/add/unchecked) may be unstable; "
        "python -m pyperf check run.json says why"
    ]
    every = {name: replace(m, unstable=("too few values",)) for name, m in run.measurements.items()}
    lines = run_table(replace(run, measurements=every)).splitlines()
    assert "pyperf: the results of all 3 cases may be unstable" in lines[-1]
    stable = {name: replace(m, unstable=()) for name, m in run.measurements.items()}
    assert "pyperf:" not in run_table(replace(run, measurements=stable))
