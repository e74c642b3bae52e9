"""The matrix of named cases: ``{guest}/{approach}/{function}/{tier}``."""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from wasmcmp import names
from wasmcmp.errors import UnknownCase
from wasmcmp.guests import EXPORTS
from wasmcmp.names import APPROACHES, AXES, FUNCTIONS, GUESTS, TIERS
from wasmcmp.paths import DEFAULT_TIMEOUT, CallPath, open_path

#: the operands every measurement uses; the answer is checked before timing starts
ARGS: dict[str, tuple[int, ...]] = {"add": (1234567, 7654321), "cube": (1234,)}

#: the four cases of the Go study wasmcmp starts from
SEED = (
    "go/exported/add/checked",
    "go/exported/cube/checked",
    "go/imported-thread/add/checked",
    "go/imported-thread/cube/checked",
)

#: what ``wasmcmp run`` and the pull request check measure by default (18 cases): the seed's
#: four; every approach's unchecked add for every guest (the floor of each crossing, what
#: each guest runtime adds to it, and the breakdown of where the time goes); and Go's
#: checked greenlet and inline add, which with the seed's checked add cases take the cost
#: apart in the checked tier too. Cube repeats add's story at one operand.
DEFAULT_PATTERNS = (
    *SEED,
    "*/*/add/unchecked",
    "go/imported-greenlet/add/checked",
    "go/imported-inline/add/checked",
)


@dataclass(frozen=True)
class Case:
    """One measurable combination of guest, approach, function and binding tier."""

    guest: str
    approach: str
    function: str
    tier: str

    @property
    def name(self) -> str:
        """Return the stable name, ``{guest}/{approach}/{function}/{tier}``."""
        return str(names.CaseName(self.guest, self.approach, self.function, self.tier))

    @property
    def args(self) -> tuple[int, ...]:
        """Return the operands this case is measured with."""
        return ARGS[self.function]

    def asv_bench(self) -> str:
        """Return the asv ``--bench`` regular expression of this case's benchmarks."""
        quoted = ", ".join(
            f"'{re.escape(part)}'" for part in (self.guest, self.approach, self.function, self.tier)
        )
        return rf"track_(call|instructions)\({quoted}\)$"

    def open(self, timeout: float = DEFAULT_TIMEOUT) -> CallPath:
        """Return this case's call path, opened."""
        return open_path(self.guest, self.approach, self.function, self.tier, timeout=timeout)

    @classmethod
    def parse(cls, name: str) -> Case:
        """Return the case with this name; raise UnknownCase naming what is wrong."""
        parts = names.parts(name)
        if len(parts) != len(AXES):
            raise UnknownCase(
                f"case {name!r} is not of the form guest/approach/function/tier (e.g. {SEED[0]})"
            )
        for part, allowed, what in zip(
            parts,
            (GUESTS, APPROACHES, FUNCTIONS, TIERS),
            AXES,
            strict=True,
        ):
            if part not in allowed:
                raise UnknownCase(
                    f"case {name!r}: unknown {what} {part!r}, expected one of {', '.join(allowed)}"
                )
        return cls(*parts)


def all_cases() -> list[Case]:
    """Return every case, in guest, approach, function, tier order."""
    return [Case(*combo) for combo in itertools.product(GUESTS, APPROACHES, FUNCTIONS, TIERS)]


def select(patterns: Iterable[str]) -> list[Case]:
    """Return the cases matching any of the glob patterns, in matrix order.

    Raise UnknownCase for a pattern that matches nothing.
    """
    cases = all_cases()
    chosen: set[Case] = set()
    for pattern in patterns:
        matched = [c for c in cases if fnmatch.fnmatchcase(c.name, pattern)]
        if not matched:
            raise UnknownCase(
                f"no case matches {pattern!r}; cases look like {SEED[0]} "
                "(list them with `wasmcmp cases`)"
            )
        chosen.update(matched)
    return [c for c in cases if c in chosen]


def int32(value: int) -> int:
    """Return value wrapped to a signed 32-bit integer, as wasm's i32 arithmetic does."""
    return (value + 2**31) % 2**32 - 2**31


def expected(function: str, args: tuple[int, ...]) -> int:
    """Return what the guest must answer: Python's int32 arithmetic for the function."""
    arity = len(EXPORTS[function][0])
    if len(args) != arity:
        raise UnknownCase(f"{function} takes {arity} argument(s), got {len(args)}")
    if function == "add":
        return int32(args[0] + args[1])
    return int32(args[0] ** 3)
