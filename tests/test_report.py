"""The seed-style table of a run; a comparison as table, comment, summary and JSON."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from wasmcmp.compare import Comparison, compare, crossings, parse_factors
from wasmcmp.format import ns_per_op, quantity
from wasmcmp.report import (
    COMMENT_LIMIT,
    COMMENT_MARKER,
    github_outputs,
    headline,
    render_comment,
    render_json,
    render_summary,
    render_terminal,
    run_markdown,
    run_table,
)
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
    found = {x.imported: round(x.value, 6) for x in crossings(run.measurements)}
    assert found == {
        "go/imported-thread/add/checked": 16.0,
        "go/imported-greenlet/add/checked": 2.0,
    }


def test_table_lists_cases_in_ns_and_the_ratio() -> None:
    table = run_table(
        _run({"go/exported/add/checked": 24.5e-9, "go/imported-thread/add/checked": 394e-9})
    )
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["case", "ns/op", "(median)"]
    assert any(line.startswith("go/exported/add/checked") and " 24.5 " in line for line in lines)
    assert any("imported-thread" in line and "16.08\u00d7" in line for line in lines)


def test_markdown_has_a_mermaid_bar_chart_and_escapes_names() -> None:
    hostile = "x|`<b>`\n```/exported/a/b"
    markdown = run_markdown(_run({"go/exported/add/checked": 1e-6, hostile: 2e-6}))
    assert "```mermaid\nxychart-beta" in markdown
    assert "bar [1000.0, 2000.0]" in markdown
    assert markdown.count("```") == 2  # the name cannot close or open a fence
    assert "<b>" not in markdown
    assert "x_&#96;" not in markdown  # the chart label is sanitized, the table cell escaped
    assert '"x___b______/exported/a/b"' in markdown


@given(st.floats(min_value=1e-12, max_value=10.0, allow_nan=False))
def test_ns_per_op_round_trips_to_the_shown_precision(seconds: float) -> None:
    text = ns_per_op(seconds)
    shown = float(text.replace(",", ""))
    assert abs(shown - seconds * 1e9) <= (0.5 if seconds * 1e9 >= 100 else 0.05) + 1e-9


# -- comparisons ---------------------------------------------------------------------------


NS = 1e-9
CASE_HEADER_CELLS = 7
OUR_TAGS = re.compile(r"</?(code|details|summary)>")


def spread(center: float, n: int = 21, width: float = 0.02) -> list[float]:
    # 21 samples a side: asv's Mann-Whitney U uses its normal approximation, which is quick.
    return [center * (1 - width + 2 * width * i / (n - 1)) for i in range(n)]


def run(values: dict[str, float], commit: str, failed: frozenset[str] = frozenset()) -> Run:
    return Run(
        source=Path(f"{commit}.json"),
        machine="gha-Linux",
        env="virtualenv-py3.12",
        measurements={k: measurement_from_samples(k, spread(v)) for k, v in values.items()},
        commit=commit,
        failed=failed,
    )


BASE = {
    "go/exported/add/checked": 100 * NS,
    "go/imported-thread/add/checked": 900 * NS,
    "go/imported-greenlet/add/checked": 400 * NS,
    "wat/exported/add/unchecked": 80 * NS,
}


def slowdown() -> Comparison:
    head = dict(BASE, **{"go/imported-thread/add/checked": 1200 * NS})
    return compare(run(BASE, "a" * 40), run(head, "b" * 40))


def unchanged() -> Comparison:
    return compare(run(BASE, "a" * 40), run(BASE, "b" * 40))


def table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("| ")]


def unescaped_pipes(line: str) -> int:
    return line.count("|")


# -- the comment ----------------------------------------------------------------------------------


def test_the_comment_opens_with_the_marker_and_a_one_line_verdict() -> None:
    lines = render_comment(slowdown()).splitlines()
    assert lines[0] == COMMENT_MARKER
    assert lines[1].startswith("### ")
    assert "1 case regressed" in lines[1]


def test_the_comment_names_regressed_cases_before_the_fold() -> None:
    comment = render_comment(slowdown())
    above, _, below = comment.partition("<details>")
    assert "<code>go/imported-thread/add/checked</code>" in above
    assert "1.33\u00d7" in above
    # every case is in the folded details
    for case in BASE:
        assert f"<code>{case}</code>" in below


def test_the_comment_shows_imported_over_exported_ratios() -> None:
    comment = render_comment(slowdown())
    crossing = [r for r in table_rows(comment) if "<code>imported-thread</code>" in r]
    assert crossing
    assert "9.00\u00d7" in crossing[0]
    assert "12.00\u00d7" in crossing[0]


def test_an_unchanged_comparison_says_so() -> None:
    comparison = unchanged()
    assert headline(comparison) == "no significant change (4 unchanged)"
    assert "regressed" not in render_comment(comparison).splitlines()[1]


def test_the_method_states_the_test_and_its_level() -> None:
    comment = render_comment(slowdown())
    assert "Mann-Whitney U" in comment
    assert "p &lt; 0.01" in comment
    assert "Holm" in comment
    assert "worker process" in comment


hostile = st.text(min_size=1, max_size=60) | st.sampled_from(
    [
        COMMENT_MARKER,
        "go/`x`|y<!-- z -->",
        "@octocat [link](https://example.com) ![img](x) **bold** _em_",
        "<script>alert(1)</script>",
        "| a | b |\n| c |",
        "&lt;!-- wasmcmp:compare --&gt;",
        "www.example.com :smile: #1 ~~x~~",
    ]
)


@settings(max_examples=100, deadline=None)
@given(st.lists(hostile, min_size=1, max_size=5, unique=True))
def test_case_names_cannot_forge_the_marker_or_break_out_of_their_cell(names: list[str]) -> None:
    base = run(dict.fromkeys(names, 100 * NS), "a" * 40)
    head = run(dict.fromkeys(names, 200 * NS), "b" * 40, failed=frozenset(names[:1]))
    for markdown in (render_comment(compare(base, head)), render_summary(compare(base, head))):
        assert markdown.count(COMMENT_MARKER) == (1 if markdown.startswith(COMMENT_MARKER) else 0)
        # Once our own tags and marker are gone, no '<' and no backtick is left: names
        # reach the page only as character references.
        bare = OUR_TAGS.sub("", markdown.removeprefix(COMMENT_MARKER))
        assert "<" not in bare
        assert "`" not in bare
        assert "@" not in bare
        for row in table_rows(markdown):
            assert unescaped_pipes(row) == CASE_HEADER_CELLS + 1, row


def test_a_huge_comparison_stays_under_githubs_comment_limit() -> None:
    names = {f"wat/imported-thread/f{i:04}/checked": 100 * NS for i in range(2000)}
    comparison = compare(run(names, "a" * 40), run(names, "b" * 40))
    comment = render_comment(comparison)
    assert len(comment.encode()) < COMMENT_LIMIT
    assert "more cases: see the job summary" in comment
    summary = render_summary(comparison)
    assert all(f"<code>{name}</code>" in summary for name in names)


def test_the_step_summary_has_no_marker_but_the_same_content() -> None:
    comparison = slowdown()
    summary = render_summary(comparison)
    assert COMMENT_MARKER not in summary
    assert summary == render_comment(comparison).removeprefix(COMMENT_MARKER + "\n")


# -- terminal, JSON and outputs -------------------------------------------------------------------


def test_the_terminal_table_lists_the_worst_first_and_escapes_control_characters() -> None:
    base = run({"go/exported/add/checked": 100 * NS, "evil\x1b[2J": 100 * NS}, "a" * 40)
    head = run({"go/exported/add/checked": 150 * NS, "evil\x1b[2J": 100 * NS}, "b" * 40)
    text = render_terminal(compare(base, head))
    assert "\x1b" not in text
    assert "evil\\x1b[2J" in text
    rows = [
        line for line in text.splitlines() if line.split(" ", 1)[0] in ("regressed", "unchanged")
    ]
    assert rows[0].startswith("regressed")
    assert "go/exported/add/checked" in rows[0]
    assert text.startswith("wasmcmp compare: 1 case regressed")


def test_json_is_plain_data_with_every_case() -> None:
    data = json.loads(render_json(slowdown()))
    assert data["verdict"] == "regressed"
    assert data["counts"]["regressed"] == 1
    assert data["test"] == {
        "name": "Mann-Whitney U",
        "alternative": "two-sided",
        "level": 0.01,
        "unit": "one mean per pyperf worker process (asv: one sample per process)",
        "correction": "Holm",
        "fallback": "99% CI overlap",
    }
    cases = {c["case"]: c for c in data["cases"]}
    assert set(cases) == set(BASE)
    slow = cases["go/imported-thread/add/checked"]
    assert slow["verdict"] == "regressed"
    assert slow["significant"] is True
    assert slow["base"]["samples"] == 21


def test_json_turns_infinite_numbers_into_null() -> None:
    base = run({"x/exported/add/checked": 0.0}, "a" * 40)
    head = run({"x/exported/add/checked": 100 * NS}, "b" * 40)
    data = json.loads(render_json(compare(base, head)))
    assert data["cases"][0]["ratio"] is None


def test_github_outputs_carry_the_verdict_and_counts() -> None:
    assert github_outputs(slowdown()) == {
        "verdict": "regressed",
        "regressions": "1",
        "failed": "0",
        "improved": "0",
        "blocking": "1",
    }
    lenient = compare(
        run(BASE, "a" * 40),
        run(dict(BASE, **{"go/imported-thread/add/checked": 1200 * NS}), "b" * 40),
        parse_factors(["go/imported-*=1.5"]),
    )
    assert github_outputs(lenient)["verdict"] == "unchanged"


@given(st.floats(min_value=1e-12, max_value=1e4))
def test_times_are_shown_with_at_most_three_digits_before_the_point(seconds: float) -> None:
    text = quantity(seconds, "seconds")
    number, unit = text.split(" ")
    assert unit in ("ns", "µs", "ms", "s")
    assert float(number.replace(",", "")) < 1000 or unit == "s"


def test_a_benchmarks_own_unit_is_escaped_like_a_name() -> None:
    unit = "<img src=x onerror=alert(1)>|`"
    base = run({"x/exported/add/checked": 100 * NS}, "a" * 40)
    head = run({"x/exported/add/checked": 100 * NS}, "b" * 40)
    foreign = {name: replace(m, unit=unit) for name, m in head.measurements.items()}
    comparison = compare(base, replace(head, measurements=foreign))
    comment = render_comment(comparison)
    assert "<img" not in comment
    assert "&#60;img" in comment
    for row in table_rows(comment):
        assert unescaped_pipes(row) == CASE_HEADER_CELLS + 1, row


def test_with_instruction_counts_the_comment_shows_both_metrics_per_case() -> None:
    def counted(values: dict[str, float], commit: str) -> Run:
        timed = run(values, commit)
        counts = {
            f"{name}@instructions": replace(
                measurement_from_samples(f"{name}@instructions", [v * 1e12] * 3),
                unit="instructions",
            )
            for name, v in values.items()
        }
        return replace(timed, measurements={**timed.measurements, **counts})

    slow = dict(
        BASE, **{"go/imported-thread/add/checked": BASE["go/imported-thread/add/checked"] * 1.03}
    )
    comment = render_comment(compare(counted(BASE, "a" * 40), counted(slow, "b" * 40)))
    rows = table_rows(comment)
    header = next(r for r in rows if r.startswith("| verdict |"))
    assert "time: base (99% CI)" in header
    assert "instructions: base" in header
    thread = [r for r in rows if "go/imported-thread/add/checked" in r]
    assert thread
    assert all("regressed" in r for r in thread)  # +3% instructions is beyond 1.01
    assert "+3.0%" in thread[0]
    assert "blind to waiting" in comment
    # a count is judged by its threshold, not by a test: the terminal says so, and the
    # method gives the factor as set
    assert "instructions 1.005" in comment
    terminal = render_terminal(compare(counted(BASE, "a" * 40), counted(slow, "b" * 40)))
    counts = [line for line in terminal.splitlines() if "@instructions  " in line]
    assert counts
    assert all(line.rstrip().endswith("threshold") for line in counts), counts
    verdict_rows = [r for r in rows if r.split(" | ")[0].endswith(("regressed", "unchanged"))]
    assert len(verdict_rows) >= 4
    for row in verdict_rows:
        assert unescaped_pipes(row) == len(header.split(" | ")) + 1, row
