"""The matrix of named cases: ``{guest}/{approach}/{function}/{tier}``."""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wasmcmp import names
from wasmcmp.errors import UnknownCase
from wasmcmp.guests import EXPORTS, Guest, find
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
    #: the folder of a guest of the user's own (``--guest NAME=FOLDER``); None for a bundled
    #: guest, found by name
    folder: Path | None = None

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
        return open_path(
            self.find_guest(), self.approach, self.function, self.tier, timeout=timeout
        )

    def find_guest(self) -> Guest:
        """Return the guest whose modules this case runs."""
        return Guest(self.guest, self.folder) if self.folder else find(self.guest)

    @classmethod
    def parse(cls, name: str, guests: Sequence[Guest] = ()) -> Case:
        """Return the case with this name, whose guest may be one of ``guests`` (the user's
        own); raise UnknownCase naming what is wrong."""
        folders = {guest.name: guest.folder for guest in guests}
        parts = names.parts(name)
        if len(parts) != len(AXES):
            raise UnknownCase(
                f"case {name!r} is not of the form guest/approach/function/tier (e.g. {SEED[0]})"
            )
        for part, allowed, what in zip(
            parts,
            ((*GUESTS, *folders), APPROACHES, FUNCTIONS, TIERS),
            AXES,
            strict=True,
        ):
            if part not in allowed:
                raise UnknownCase(
                    f"case {name!r}: unknown {what} {part!r}, expected one of {', '.join(allowed)}"
                )
        guest, approach, function, tier = parts
        return cls(guest, approach, function, tier, folders.get(guest))


def all_cases(guests: Sequence[Guest] = ()) -> list[Case]:
    """Return every case, in guest (the bundled ones, then ``guests``, the user's own, in
    their order), approach, function, tier order."""
    folders: list[tuple[str, Path | None]] = [(name, None) for name in GUESTS]
    folders += [(guest.name, guest.folder) for guest in guests]
    return [
        Case(name, *combo, folder=folder)
        for name, folder in folders
        for combo in itertools.product(APPROACHES, FUNCTIONS, TIERS)
    ]


def select(patterns: Iterable[str], guests: Sequence[Guest] = ()) -> list[Case]:
    """Return the cases matching any of the glob patterns, in matrix order; ``guests`` are
    the user's own, besides the bundled ones.

    Raise UnknownCase for a pattern that matches nothing.
    """
    cases = all_cases(guests)
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
