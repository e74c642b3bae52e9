"""format: one style for every number, ratio, change and test outcome people read."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasmcmp import format as fmt
from wasmcmp.compare import Verdict


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_a_number_keeps_four_significant_digits(value: float) -> None:
    text = fmt.number(value)
    shown = float(text.replace(",", ""))
    assert shown == pytest.approx(value, rel=5e-4, abs=5e-4 if abs(value) < 1 else 0.5)


def test_numbers_that_are_not_finite_have_words() -> None:
    assert fmt.number(None) == "—"
    assert fmt.number(math.nan) == "—"
    assert fmt.number(math.inf) == "∞"
    assert fmt.number(-math.inf) == "-∞"
    assert fmt.number(123456.0) == "123,456"


@given(st.floats(min_value=1e-12, max_value=1e4))
def test_a_time_scale_keeps_the_typical_value_below_a_thousand(seconds: float) -> None:
    scale = fmt.scale_for("seconds", [seconds])
    assert scale.label in ("ns/op", "µs/op", "ms/op", "s/op")
    assert float(f"{seconds * scale.factor:.3g}") < 1000 or scale.label == "s/op"


def test_ratios_changes_and_outcomes_read_one_way() -> None:
    assert fmt.ratio(16.08) == "16.08\u00d7"
    assert fmt.ratio(1234.4) == "1,234\u00d7"
    assert fmt.ratio(None) == "—"
    assert fmt.ratio(math.inf) == "∞"
    assert fmt.change(1.123) == "+12.3%"
    assert fmt.change(0.96) == "-4.0%"
    assert fmt.significance_text(0.00003, True) == "p<0.0001"
    assert fmt.significance_text(0.25, False) == "p=0.2500"
    assert fmt.significance_text(None, True) == "intervals apart"
    assert fmt.significance_text(None, False) == "intervals overlap"
    assert fmt.significance_text(None, None) == "—"


def test_every_verdict_has_a_place_and_an_icon() -> None:
    assert set(fmt.VERDICT_ORDER) == {v.value for v in Verdict}
    assert set(fmt.VERDICT_ICONS) == {v.value for v in Verdict}
    assert fmt.verdict_rank("regressed") < fmt.verdict_rank("unchanged") < fmt.verdict_rank("?")


@given(st.floats(min_value=1e-7, max_value=1.0, allow_nan=False))
def test_a_negative_time_is_shown_as_its_positive_twin_with_a_sign(seconds: float) -> None:
    # a hand-off cheaper than the noise is a negative difference of two medians
    assert fmt.ns_per_op(-seconds) == "-" + fmt.ns_per_op(seconds)
