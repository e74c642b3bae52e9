"""Read a detection study (``benchmarks/detection_study.py``'s JSON) into frozen dataclasses.

The study holds raw comparisons only: A/A (the same code against itself; every case called
regressed is a false alarm) and A/B (a calibrated slowdown injected into one path; caught when
its case is called regressed). Rates are computed from them by whoever shows them, so nothing
shown is a number the file merely asserts. Every name in the file is untrusted text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from wasmcmp.errors import ResultsError

STUDY_FORMAT = "wasmcmp-detection-study"
STUDY_VERSION = 1
AA, AB = "A/A", "A/B"
#: the verdict that counts as an alarm (A/A) or a catch (A/B)
REGRESSED = "regressed"
RERUN = "python benchmarks/detection_study.py"


@dataclass(frozen=True)
class CaseOutcome:
    """One case of one comparison: its verdict, head/base and the test's p-value."""

    case: str
    verdict: str
    ratio: float | None
    p_value: float | None
    significant: bool | None

    @property
    def regressed(self) -> bool:
        """Return whether the case was called regressed."""
        return self.verdict == REGRESSED


@dataclass(frozen=True)
class StudyComparison:
    """One base-against-head comparison of the study, as a pull request would get it."""

    kind: str
    metric: str
    #: the slowed path (A/B); None for A/A
    path: str | None
    #: the slowed case (A/B); None for A/A
    case: str | None
    #: the injected slowdown as a fraction (0.05: 5%); 0 for A/A
    target: float
    repeat: int
    load: bool
    #: head/base of the slowed case, as measured (A/B)
    achieved: float | None
    p_value: float | None
    verdict: str
    cases: tuple[CaseOutcome, ...]
    seconds: float
    load_seconds: float

    @property
    def false_alarms(self) -> int:
        """Return how many cases were called regressed (A/A: every one is a false alarm)."""
        return sum(c.regressed for c in self.cases)

    @property
    def caught(self) -> bool:
        """Return whether the slowed case was called regressed (A/B)."""
        return self.verdict == REGRESSED

    @property
    def significant(self) -> bool | None:
        """Return whether the test called the slowed case different (A/B; None without it)."""
        return next((c.significant for c in self.cases if c.case == self.case), None)


@dataclass(frozen=True)
class Calibration:
    """What a statement of injected work costs on one path, measured where it runs."""

    metric: str
    path: str
    case: str
    per_call: float
    unit_cost: float
    unit: str


@dataclass(frozen=True)
class StudyMethod:
    """How the study measured and judged: the Action's settings it reproduces."""

    effort: str
    rounds: int
    instruction_repeats: int
    factors: tuple[str, ...]
    instructions_factor: float
    family_level: float
    correction: str
    test: str
    #: the subset of cases an A/A comparison measures
    cases: tuple[str, ...]
    #: how many cases the whole set has, for the per-pull-request estimate
    full_cases: int
    load: str
    injection: str


@dataclass(frozen=True)
class DetectionStudy:
    """A detection study: where it ran, how, and every comparison it made."""

    source: Path
    cpu: str
    cores: int | None
    platform: str
    python: str
    wasmtime: str
    wasmcmp: str
    valgrind: str | None
    date: datetime | None
    updated: datetime | None
    method: StudyMethod
    calibrations: tuple[Calibration, ...]
    comparisons: tuple[StudyComparison, ...]


class _Malformed(Exception):
    """A field is missing or of the wrong type; the message says where."""


def read_study(path: Path) -> DetectionStudy:
    """Return the detection study held by a JSON file; raise ResultsError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ResultsError(f"{path}: no such detection study; write one with `{RERUN}`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ResultsError(f"{path}: not a readable detection study ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != STUDY_FORMAT:
        raise ResultsError(f'{path}: not a detection study (no "format": {STUDY_FORMAT!r})')
    if data.get("version") != STUDY_VERSION:
        raise ResultsError(
            f"{path}: detection study version {data.get('version')!r}, this wasmcmp reads "
            f"version {STUDY_VERSION}; rerun `{RERUN}` or update wasmcmp"
        )
    try:
        return _study(path, data)
    except _Malformed as exc:
        raise ResultsError(f"{path}: malformed detection study: {exc}") from None


def _study(path: Path, data: Mapping[str, Any]) -> DetectionStudy:
    machine = _object(data, "machine", "the file")
    return DetectionStudy(
        source=path,
        cpu=_text(machine, "cpu", "machine"),
        cores=_integer(machine, "cores", "machine", null=True),
        platform=_text(machine, "platform", "machine"),
        python=_text(data, "python", "the file"),
        wasmtime=_text(data, "wasmtime", "the file"),
        wasmcmp=_text(data, "wasmcmp", "the file"),
        valgrind=_text(data, "valgrind", "the file", null=True),
        date=_date(data, "date"),
        updated=_date(data, "updated"),
        method=_method(_object(data, "method", "the file")),
        calibrations=tuple(
            _calibration(item, f"calibration {i + 1}")
            for i, item in enumerate(_list(data, "calibrations", "the file"))
        ),
        comparisons=tuple(
            _comparison(item, f"comparison {i + 1}")
            for i, item in enumerate(_list(data, "comparisons", "the file"))
        ),
    )


def _method(data: Mapping[str, Any]) -> StudyMethod:
    where = "method"
    return StudyMethod(
        effort=_text(data, "effort", where),
        rounds=_integer(data, "rounds", where),
        instruction_repeats=_integer(data, "instruction_repeats", where),
        factors=tuple(_texts(data, "factors", where)),
        instructions_factor=_number(data, "instructions_factor", where),
        family_level=_number(data, "family_level", where),
        correction=_text(data, "correction", where),
        test=_text(data, "test", where),
        cases=tuple(_texts(data, "cases", where)),
        full_cases=_integer(data, "full_cases", where),
        load=_text(data, "load", where),
        injection=_text(data, "injection", where),
    )


def _calibration(item: Any, where: str) -> Calibration:
    data = _as_object(item, where)
    return Calibration(
        metric=_text(data, "metric", where),
        path=_text(data, "path", where),
        case=_text(data, "case", where),
        per_call=_number(data, "per_call", where),
        unit_cost=_number(data, "unit_cost", where),
        unit=_text(data, "unit", where),
    )


def _comparison(item: Any, where: str) -> StudyComparison:
    data = _as_object(item, where)
    kind = _text(data, "kind", where)
    if kind not in (AA, AB):
        raise _Malformed(f"{where}: 'kind' must be {AA!r} or {AB!r}, not {kind!r}")
    target = _number(data, "target", where)
    if not (math.isfinite(target) and target >= 0):
        raise _Malformed(f"{where}: 'target' must be a fraction >= 0, not {target!r}")
    cases = tuple(
        _outcome(row, f"{where}, case {j + 1}") for j, row in enumerate(_list(data, "cases", where))
    )
    return StudyComparison(
        kind=kind,
        metric=_text(data, "metric", where),
        path=_text(data, "path", where, null=kind == AA),
        case=_text(data, "case", where, null=kind == AA),
        target=target,
        repeat=_integer(data, "repeat", where),
        load=_flag(data, "load", where),
        achieved=_number(data, "achieved", where, null=True),
        p_value=_number(data, "p", where, null=True),
        verdict=_text(data, "verdict", where),
        cases=cases,
        seconds=_number(data, "seconds", where),
        load_seconds=_number(data, "load_seconds", where),
    )


def _outcome(item: Any, where: str) -> CaseOutcome:
    data = _as_object(item, where)
    return CaseOutcome(
        case=_text(data, "case", where),
        verdict=_text(data, "verdict", where),
        ratio=_number(data, "ratio", where, null=True),
        p_value=_number(data, "p", where, null=True),
        significant=_flag(data, "significant", where, null=True),
    )


# -- typed fields: each names where it failed ------------------------------------------------


def _field(data: Mapping[str, Any], key: str, where: str, null: bool) -> Any:
    if key not in data:
        raise _Malformed(f"{where}: no {key!r}")
    value = data[key]
    if value is None and not null:
        raise _Malformed(f"{where}: {key!r} is null")
    return value


def _wrong(key: str, where: str, wanted: str, value: Any) -> _Malformed:
    return _Malformed(f"{where}: {key!r} must be {wanted}, not {type(value).__name__}")


def _text(data: Mapping[str, Any], key: str, where: str, *, null: bool = False) -> Any:
    value = _field(data, key, where, null)
    if value is not None and not isinstance(value, str):
        raise _wrong(key, where, "text", value)
    return value


def _number(data: Mapping[str, Any], key: str, where: str, *, null: bool = False) -> Any:
    value = _field(data, key, where, null)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong(key, where, "a number", value)
    return float(value)


def _integer(data: Mapping[str, Any], key: str, where: str, *, null: bool = False) -> Any:
    value = _field(data, key, where, null)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise _wrong(key, where, "a whole number", value)
    return value


def _flag(data: Mapping[str, Any], key: str, where: str, *, null: bool = False) -> Any:
    value = _field(data, key, where, null)
    if value is not None and not isinstance(value, bool):
        raise _wrong(key, where, "true or false", value)
    return value


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = _field(data, key, where, False)
    if not isinstance(value, list):
        raise _wrong(key, where, "a list", value)
    return value


def _texts(data: Mapping[str, Any], key: str, where: str) -> list[str]:
    values = _list(data, key, where)
    if not all(isinstance(v, str) for v in values):
        raise _Malformed(f"{where}: {key!r} must be a list of text")
    return values


def _object(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    return _as_object(_field(data, key, where, False), f"{where}: {key!r}")


def _as_object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(f"{where} must be an object, not {type(value).__name__}")
    return value


def _date(data: Mapping[str, Any], key: str) -> datetime | None:
    text = _text(data, key, "the file", null=True)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise _Malformed(f"{key!r} is not an ISO 8601 date: {text!r}") from None


__all__ = [
    "AA",
    "AB",
    "REGRESSED",
    "STUDY_FORMAT",
    "STUDY_VERSION",
    "Calibration",
    "CaseOutcome",
    "DetectionStudy",
    "StudyComparison",
    "StudyMethod",
    "read_study",
]
