"""The seed-style table, the ratios and the Markdown report."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from wasmcmp.report import format_ns, ratios, run_markdown, run_table
from wasmcmp.results import Run, measurement_from_samples


def _run(values: dict[str, float]) -> Run:
    measurements = {
        case: measurement_from_samples(case, [v * f for f in (0.98, 1.0, 1.01, 1.03, 0.99)])
        for case, v in values.items()
    }
    return Run(source=Path("x.json"), machine="m", env="pyperf", measurements=measurements)


def test_ratios_pair_each_imported_approach_with_its_exported_case() -> None:
    run = _run(
        {
            "go/exported/add/checked": 25e-9,
            "go/imported-thread/add/checked": 400e-9,
            "go/imported-greenlet/add/checked": 50e-9,
            "go/imported-thread/cube/checked": 400e-9,  # no exported cube: no ratio
        }
    )
    found = {(r.approach, r.function): round(r.value, 6) for r in ratios(run.measurements)}
    assert found == {("imported-thread", "add"): 16.0, ("imported-greenlet", "add"): 2.0}


def test_table_lists_cases_in_ns_and_the_ratio() -> None:
    table = run_table(
        _run({"go/exported/add/checked": 24.5e-9, "go/imported-thread/add/checked": 394e-9})
    )
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["case", "ns/op", "(median)"]
    assert any(line.startswith("go/exported/add/checked") and " 24.5 " in line for line in lines)
    assert any("imported-thread" in line and "16.08x" in line for line in lines)


def test_markdown_has_a_mermaid_bar_chart_and_escapes_names() -> None:
    markdown = run_markdown(_run({"go/exported/add/checked": 1e-6, "x|`<b>`/exported/a/b": 2e-6}))
    assert "```mermaid\nxychart-beta" in markdown
    assert "bar [1000.0, 2000.0]" in markdown
    assert "<b>`" not in markdown.split("```mermaid")[0].replace("`x|<b>/exported/a/b`", "")


@given(st.floats(min_value=1e-12, max_value=10.0, allow_nan=False))
def test_format_ns_round_trips_to_the_shown_precision(seconds: float) -> None:
    text = format_ns(seconds)
    shown = float(text.replace(",", ""))
    assert abs(shown - seconds * 1e9) <= (0.5 if seconds * 1e9 >= 100 else 0.05) + 1e-9
