"""The factor beyond which a significant change is a regression, per case pattern."""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence
from dataclasses import dataclass

from wasmcmp import names
from wasmcmp.errors import InvalidFactor

#: A case regresses when head is slower than base by more than this factor (and significantly).
DEFAULT_FACTOR = 1.10

#: a count of instructions regresses when it grows by more than this factor
DEFAULT_INSTRUCTION_FACTOR = 1.005


@dataclass(frozen=True)
class FactorRule:
    """A factor for the cases whose names match an fnmatch pattern."""

    pattern: str
    factor: float


@dataclass(frozen=True)
class Factors:
    """The default factor and per-pattern overrides; the last matching rule wins."""

    default: float = DEFAULT_FACTOR
    rules: tuple[FactorRule, ...] = ()
    #: the default for instruction counts (``...@instructions`` cases)
    instructions: float = DEFAULT_INSTRUCTION_FACTOR

    def for_case(self, case: str) -> float:
        """Return the factor that applies to a case.

        A pattern without a metric (``go/imported-*``) sets wall time's factor; one with a
        metric (``*@instructions``) sets that metric's threshold, so one metric's rules never
        loosen the other's.
        """
        counted = names.METRIC_MARK in case
        for rule in reversed(self.rules):
            if (names.METRIC_MARK in rule.pattern) == counted and fnmatch.fnmatchcase(
                case, rule.pattern
            ):
                return rule.factor
        return self.instructions if counted else self.default


def _parse_number(text: str, where: str) -> float:
    try:
        factor = float(text)
    except ValueError:
        factor = math.nan
    if not math.isfinite(factor) or factor < 1.0:
        raise InvalidFactor(
            f"--factor {where!r}: expected a number >= 1 such as 1.10 (10% slower), "
            f"or PATTERN=NUMBER such as 'go/imported-*=1.25'"
        )
    return factor


def parse_factors(
    texts: Sequence[str], instructions: float = DEFAULT_INSTRUCTION_FACTOR
) -> Factors:
    """Return the Factors given as ``1.10`` or ``PATTERN=1.25`` strings, in order, with the
    default threshold of instruction counts."""
    if not math.isfinite(instructions) or instructions < 1.0:
        raise InvalidFactor(
            f"--instructions-factor {instructions!r}: expected a number >= 1 such as 1.005"
        )
    default = DEFAULT_FACTOR
    rules: list[FactorRule] = []
    for text in texts:
        pattern, sep, number = text.rpartition("=")
        if not sep:
            default = _parse_number(text.strip(), text)
            continue
        if not pattern.strip():
            raise InvalidFactor(f"--factor {text!r}: the pattern before '=' is empty")
        rules.append(FactorRule(pattern.strip(), _parse_number(number.strip(), text)))
    return Factors(default, tuple(rules), instructions)


__all__ = ["DEFAULT_FACTOR", "DEFAULT_INSTRUCTION_FACTOR", "FactorRule", "Factors", "parse_factors"]
