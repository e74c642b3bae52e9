"""names: the one place a case name is taken apart or put together."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from wasmcmp import names
from wasmcmp.cases import all_cases

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=12)


@given(WORD, st.sampled_from(names.APPROACHES), WORD, WORD)
def test_a_case_name_round_trips(guest: str, approach: str, function: str, tier: str) -> None:
    case = names.CaseName(guest, approach, function, tier)
    assert names.parse(str(case)) == case
    params = dict(zip(names.AXES, (guest, approach, function, tier), strict=True))
    assert names.from_params(params) == case


def test_every_case_of_the_matrix_is_a_case_name() -> None:
    for case in all_cases():
        parsed = names.parse(case.name)
        assert parsed is not None
        assert (parsed.guest, parsed.approach, parsed.function, parsed.tier) == (
            case.guest,
            case.approach,
            case.function,
            case.tier,
        )


def test_other_benchmark_names_are_not_cases() -> None:
    for name in (
        "query_benchmarks.QueryBench.time_filter",
        "a/b/c",
        "a/b/c/d/e",
        "go/somewhere/add/checked",  # not an approach
        "go//add/checked",
        "",
    ):
        assert names.parse(name) is None, name


def test_an_imported_case_divides_by_its_exported_twin() -> None:
    assert names.exported_twin("go/imported-thread/add/checked") == "go/exported/add/checked"
    assert names.exported_twin("rust/imported-future/cube/unchecked") == (
        "rust/exported/cube/unchecked"
    )
    assert names.exported_twin("go/exported/add/checked") is None
    assert names.exported_twin("bench.time_x") is None


def test_a_result_is_identified_by_its_parameters_before_its_name() -> None:
    params = tuple(zip(names.AXES, ("go", "exported", "add", "checked"), strict=True))
    found = names.identify("bench(go, exported, add, checked)", "bench", params)
    assert found == names.CaseName("go", "exported", "add", "checked")
    # parameters of another shape never make a case, whatever the name looks like
    assert names.identify("go/exported/add/checked", "bench", (("x", "1"),)) is None
    # a pyperf result has no parameters: its name decides
    assert names.identify("go/exported/add/checked", "", ()) is not None
    assert names.identify("go/exported/add/checked", "other", ()) is None


def test_asv_benchmarks_are_named_as_cases_or_with_their_arguments() -> None:
    axes = dict(zip(names.AXES, ("go", "exported", "add", "checked"), strict=True))
    assert names.benchmark_name("b.track_call", axes) == "go/exported/add/checked"
    assert names.benchmark_name("b.time_x", {"n": "10", "m": "'a'"}) == "b.time_x(10, 'a')"
    assert names.benchmark_name("b.time_x") == "b.time_x"


def test_display_order_puts_known_axes_first_in_their_order() -> None:
    approaches = ["zz", *reversed(names.APPROACHES)]
    assert sorted(approaches, key=names.approach_rank) == [*names.APPROACHES, "zz"]
    groups = list(itertools.product(("wat", "go"), ("cube", "add"), ("zz", *names.TIERS)))
    ordered = sorted(groups, key=lambda g: names.group_rank(*g))
    assert ordered[:3] == [
        ("go", "add", "checked"),
        ("go", "add", "unchecked"),
        ("go", "add", "zz"),
    ]
    cases = ["bench.time_a", "go/exported/add/checked"]
    assert sorted(cases, key=names.case_rank) == ["go/exported/add/checked", "bench.time_a"]
