"""Every case answers as Python's int32 arithmetic does, over the whole i32 range."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wasmcmp.cases import DEFAULT_PATTERNS, SEED, Case, all_cases, expected, int32, select
from wasmcmp.errors import UnknownCase
from wasmcmp.names import APPROACHES, FUNCTIONS, GUESTS, TIERS
from wasmcmp.paths import CallPath

i32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)

CASES = all_cases()


@pytest.fixture(scope="module", params=CASES, ids=[c.name for c in CASES])
def opened(request: pytest.FixtureRequest) -> Iterator[tuple[Case, CallPath]]:
    case: Case = request.param
    with case.open() as path:
        yield case, path


def test_every_guest_has_all_16_cases_with_stable_names() -> None:
    names = [c.name for c in CASES]
    assert len(APPROACHES) * len(FUNCTIONS) * len(TIERS) == 16
    assert len(names) == len(set(names)) == 16 * len(GUESTS)
    assert {c.guest for c in CASES} == set(GUESTS)
    assert set(SEED) <= set(names)
    for guest in GUESTS:
        assert f"{guest}/imported-greenlet/add/checked" in names
        assert f"{guest}/imported-inline/cube/unchecked" in names


@settings(max_examples=60, deadline=None)
@given(a=i32, b=i32)
def test_every_case_matches_int32_arithmetic(opened: tuple[Case, CallPath], a: int, b: int) -> None:
    case, path = opened
    args = (a, b) if case.function == "add" else (a,)
    assert path.call(*args) == expected(case.function, args)


def test_wraparound_examples(opened: tuple[Case, CallPath]) -> None:
    case, path = opened
    if case.function == "cube":
        assert path.call(2000) == -589934592
        assert path.call(-(2**31)) == 0
    else:
        assert path.call(2**31 - 1, 1) == -(2**31)
        assert path.call(-(2**31), -1) == 2**31 - 1


def test_timed_batch_returns_elapsed_seconds(opened: tuple[Case, CallPath]) -> None:
    case, path = opened
    elapsed = path.timed(50, case.args)
    assert elapsed > 0
    # the path still answers correctly after a timed batch
    assert path.call(*case.args) == expected(case.function, case.args)


@given(st.integers())
def test_int32_wraps_like_wasm(value: int) -> None:
    wrapped = int32(value)
    assert -(2**31) <= wrapped < 2**31
    assert (wrapped - value) % 2**32 == 0


def test_select_globs_in_matrix_order() -> None:
    chosen = select(["*/exported/cube/*", "go/imported-thread/add/checked"])
    assert GUESTS[0] == "go"
    assert [c.name for c in chosen] == [
        "go/exported/cube/checked",
        "go/exported/cube/unchecked",
        "go/imported-thread/add/checked",
        *(f"{guest}/exported/cube/{tier}" for guest in GUESTS[1:] for tier in TIERS),
    ]
    default = {c.name for c in select(DEFAULT_PATTERNS)}
    assert set(SEED) <= default


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("go/exported/add", "guest/approach/function/tier"),
        ("zig/exported/add/checked", "unknown guest 'zig'"),
        ("go/imported/add/checked", "unknown approach 'imported'"),
        ("go/exported/mul/checked", "unknown function 'mul'"),
        ("go/exported/add/raw", "unknown tier 'raw'"),
    ],
)
def test_parse_names_what_is_wrong(name: str, message: str) -> None:
    with pytest.raises(UnknownCase, match=message):
        Case.parse(name)


def test_a_pattern_matching_nothing_is_an_error() -> None:
    with pytest.raises(UnknownCase, match="no case matches 'go/exported/div/\\*'"):
        select(["go/exported/div/*"])
