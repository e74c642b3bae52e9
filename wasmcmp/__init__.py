"""wasmcmp: what crossing the WebAssembly boundary costs from Python."""

from wasmcmp.errors import (
    GuestAbiMismatch,
    GuestInvalid,
    GuestNotFound,
    GuestTimeout,
    GuestTrap,
    MeasurementFailed,
    ResultsError,
    UnknownCase,
    WasmcmpError,
)

__version__ = "0.1.0"

__all__ = [
    "GuestAbiMismatch",
    "GuestInvalid",
    "GuestNotFound",
    "GuestTimeout",
    "GuestTrap",
    "MeasurementFailed",
    "ResultsError",
    "UnknownCase",
    "WasmcmpError",
    "__version__",
]
