"""wasmcmp: what crossing the WebAssembly boundary costs from Python.

The few names a user or the asv suite needs, along the data flow::

    open_path / Case / select_cases -> measure_cases -> read_pyperf / read_asv
        -> compare_runs -> build_site (and ``wasmcmp.report`` for text)

A submodule's name is never reused for a function here (``wasmcmp.compare`` is a module;
its function is ``compare_runs``). Everything else lives in the module that owns it
(``wasmcmp.names``, ``wasmcmp.paths``, ``wasmcmp.results``, ``wasmcmp.report``,
``wasmcmp.publish``...). Names load on first use, so reading results or building the site
never imports wasmtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from wasmcmp.errors import (
    GuestAbiMismatch,
    GuestInvalid,
    GuestNotFound,
    GuestSpecInvalid,
    GuestTimeout,
    GuestTrap,
    InvalidFactor,
    MeasurementFailed,
    OutputLocked,
    ResultsError,
    SiteError,
    UnknownCase,
    WasmcmpError,
)

__version__ = "0.1.0"

if TYPE_CHECKING:
    from wasmcmp.cases import Case, all_cases
    from wasmcmp.cases import select as select_cases
    from wasmcmp.compare import Comparison, Verdict, parse_factors
    from wasmcmp.compare import compare as compare_runs
    from wasmcmp.guests import Guest, guests_dir
    from wasmcmp.instructions import measure_instructions
    from wasmcmp.measure import EFFORTS
    from wasmcmp.measure import measure as measure_cases
    from wasmcmp.names import APPROACHES, AXES, FUNCTIONS, GUESTS, TIERS
    from wasmcmp.own_guests import GUESTS_SETTING, guests_from_setting, own_guests
    from wasmcmp.paths import open_path
    from wasmcmp.publish import build_site
    from wasmcmp.results import (
        Measurement,
        Run,
        load_side,
        measurement_from_samples,
        read_asv,
        read_pyperf,
    )

#: public name -> (module, attribute)
_LAZY = {
    "APPROACHES": ("wasmcmp.names", "APPROACHES"),
    "AXES": ("wasmcmp.names", "AXES"),
    "FUNCTIONS": ("wasmcmp.names", "FUNCTIONS"),
    "GUESTS": ("wasmcmp.names", "GUESTS"),
    "TIERS": ("wasmcmp.names", "TIERS"),
    "Case": ("wasmcmp.cases", "Case"),
    "all_cases": ("wasmcmp.cases", "all_cases"),
    "select_cases": ("wasmcmp.cases", "select"),
    "open_path": ("wasmcmp.paths", "open_path"),
    "Guest": ("wasmcmp.guests", "Guest"),
    "guests_dir": ("wasmcmp.guests", "guests_dir"),
    "GUESTS_SETTING": ("wasmcmp.own_guests", "GUESTS_SETTING"),
    "guests_from_setting": ("wasmcmp.own_guests", "guests_from_setting"),
    "own_guests": ("wasmcmp.own_guests", "own_guests"),
    "EFFORTS": ("wasmcmp.measure", "EFFORTS"),
    "measure_cases": ("wasmcmp.measure", "measure"),
    "measure_instructions": ("wasmcmp.instructions", "measure_instructions"),
    "Measurement": ("wasmcmp.results", "Measurement"),
    "Run": ("wasmcmp.results", "Run"),
    "load_side": ("wasmcmp.results", "load_side"),
    "measurement_from_samples": ("wasmcmp.results", "measurement_from_samples"),
    "read_asv": ("wasmcmp.results", "read_asv"),
    "read_pyperf": ("wasmcmp.results", "read_pyperf"),
    "Comparison": ("wasmcmp.compare", "Comparison"),
    "Verdict": ("wasmcmp.compare", "Verdict"),
    "compare_runs": ("wasmcmp.compare", "compare"),
    "parse_factors": ("wasmcmp.compare", "parse_factors"),
    "build_site": ("wasmcmp.publish", "build_site"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'wasmcmp' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


__all__ = [
    "APPROACHES",
    "AXES",
    "EFFORTS",
    "FUNCTIONS",
    "GUESTS",
    "GUESTS_SETTING",
    "TIERS",
    "Case",
    "Comparison",
    "Guest",
    "GuestAbiMismatch",
    "GuestInvalid",
    "GuestNotFound",
    "GuestSpecInvalid",
    "GuestTimeout",
    "GuestTrap",
    "InvalidFactor",
    "Measurement",
    "MeasurementFailed",
    "OutputLocked",
    "ResultsError",
    "Run",
    "SiteError",
    "UnknownCase",
    "Verdict",
    "WasmcmpError",
    "__version__",
    "all_cases",
    "build_site",
    "compare_runs",
    "guests_dir",
    "guests_from_setting",
    "load_side",
    "measure_cases",
    "measure_instructions",
    "measurement_from_samples",
    "open_path",
    "own_guests",
    "parse_factors",
    "read_asv",
    "read_pyperf",
    "select_cases",
]
