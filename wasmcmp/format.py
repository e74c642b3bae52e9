"""Numbers as people read them: values with units, ratios, changes, p-values, verdict words.

The terminal report, the Markdown comment and the site all format through here, so one
figure reads the same wherever it appears. Values arrive in their base unit (seconds per
operation for times); the unit is chosen only when rendered.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

#: the multiplication sign of ratios and the en dash of intervals, spelled out for linters
TIMES = "\u00d7"
DASH = "\u2013"

#: verdict words in the order a reader needs them: what needs attention first
VERDICT_ORDER = ("regressed", "failed", "improved", "new", "missing", "unchanged")

#: what a comparison's verdict looks like at a glance
VERDICT_ICONS = {
    "regressed": "🔴",
    "failed": "❌",
    "improved": "🟢",
    "unchanged": "⚪",
    "new": "🆕",
    "missing": "⚫",
}


def verdict_rank(verdict: str) -> int:
    """Return a verdict's place in VERDICT_ORDER (unknown words last)."""
    return VERDICT_ORDER.index(verdict) if verdict in VERDICT_ORDER else len(VERDICT_ORDER)


def number(value: float | None) -> str:
    """Return a number with four significant digits (thousands grouped from 10,000 up)."""
    if value is None or math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.4g}" if abs(value) >= 1 else f"{value:.3g}"


@dataclass(frozen=True)
class Scale:
    """A display unit: its label and what a base-unit value is multiplied by."""

    label: str
    factor: float


def scale_for(unit: str, values: Iterable[float]) -> Scale:
    """Return the display unit for a set of values: the typical one reads below 1,000."""
    finite = sorted(abs(v) for v in values if math.isfinite(v))
    typical = finite[len(finite) // 2] if finite else 0.0
    if unit == "seconds":
        for factor, label in ((1e9, "ns/op"), (1e6, "µs/op"), (1e3, "ms/op")):
            # decided on the rounded figure, so 999.99 ns shows as 1 µs rather than 1e+03 ns
            if float(f"{typical * factor:.3g}") < 1000:
                return Scale(label, factor)
        return Scale("s/op", 1.0)
    if unit == "bytes":
        for factor, label in ((1.0, "bytes"), (1 / 1024, "KiB"), (1 / 1024**2, "MiB")):
            if typical * factor < 1024:
                return Scale(label, factor)
        return Scale("GiB", 1 / 1024**3)
    return Scale(unit or "value", 1.0)


def quantity(value: float, unit: str) -> str:
    """Return one value with its unit: ``512 ns``, ``1.234 µs``, ``8 bytes``."""
    if unit == "seconds":
        scale = scale_for(unit, (value,))
        return f"{number(value * scale.factor)} {scale.label.removesuffix('/op')}"
    return f"{number(value)} {unit}".rstrip()


def interval(low: float, high: float, scale: Scale) -> str:
    """Return a 99% interval in a scale (``505-520``, en dash), or "" when it is unknown."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f"{number(low * scale.factor)}{DASH}{number(high * scale.factor)}"


def spread(relative_width: float) -> str:
    """Return an interval's half-width as a percentage of the median: ``±1.2%``."""
    if not math.isfinite(relative_width):
        return "±inf"
    return f"±{relative_width * 50:.1f}%"


def ns_per_op(seconds: float) -> str:
    """Return seconds per op as ns/op with thousands separators (e.g. ``27,562``)."""
    nanoseconds = seconds * 1e9
    return f"{nanoseconds:,.0f}" if abs(nanoseconds) >= 100 else f"{nanoseconds:,.1f}"


def ratio(value: float | None) -> str:
    """Return a ratio as ``1.23`` then TIMES (``1,234`` from 100 up), ``∞``, or ``—``."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return "∞"
    return f"{value:,.0f}{TIMES}" if value >= 100 else f"{value:.2f}{TIMES}"


def change(value: float | None) -> str:
    """Return a head/base ratio as a signed percentage: ``+12.3%``, ``-4.0%``, or ``—``."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return "∞"
    return f"{(value - 1) * 100:+.1f}%"


def significance_text(p_value: float | None, significant: bool | None) -> str:
    """Return a significance test's outcome: ``p=0.0003``, ``intervals apart``, or ``—``."""
    if significant is None:
        return "—"
    if p_value is None:
        return "intervals apart" if significant else "intervals overlap"
    if p_value < 1e-4:
        return "p<0.0001"
    return f"p={p_value:.4f}"


def plural(n: int, word: str) -> str:
    """Return ``1 case`` or ``2 cases``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


__all__ = [
    "DASH",
    "TIMES",
    "VERDICT_ICONS",
    "VERDICT_ORDER",
    "Scale",
    "change",
    "interval",
    "ns_per_op",
    "number",
    "plural",
    "quantity",
    "ratio",
    "scale_for",
    "significance_text",
    "spread",
    "verdict_rank",
]
