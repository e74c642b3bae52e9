"""The host side of every call path: open a guest, call add or cube, close cleanly.

A call path is an approach (how the host reaches the guest) in a binding tier (how values
cross wasmtime's API):

- approaches: ``exported`` (call the guest's exports), ``imported-inline`` (the seed's
  guest loop run inside the call, its imports doing the host's work: no hand-off),
  ``imported-greenlet`` (the same loop as a greenlet, no OS thread), ``imported-thread``
  (the seed's pattern: the loop on a thread, fed through queues);
- tiers: ``checked`` (wasmtime-py's public API) and ``unchecked`` (raw values through
  wasmtime's C API, see ``wasmcmp.paths.unchecked``).
"""

from __future__ import annotations

from wasmcmp.errors import WasmcmpError
from wasmcmp.guests import FUNCTIONS, Guest, find
from wasmcmp.names import APPROACHES, TIERS
from wasmcmp.paths.callpath import DEFAULT_TIMEOUT, CallPath
from wasmcmp.paths.exported import ExportedPath
from wasmcmp.paths.imported import GreenletPath, ThreadPath
from wasmcmp.paths.inline import InlinePath

_PATHS: dict[str, type[ExportedPath | InlinePath | GreenletPath | ThreadPath]] = {
    "exported": ExportedPath,
    "imported-inline": InlinePath,
    "imported-thread": ThreadPath,
    "imported-greenlet": GreenletPath,
}


def open_path(
    guest: Guest | str,
    approach: str,
    function: str,
    tier: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> CallPath:
    """Return an open call path; close it (or use it as a context manager) when done."""
    if approach not in _PATHS:
        raise WasmcmpError(
            f"unknown approach {approach!r}: expected one of {', '.join(APPROACHES)}"
        )
    if function not in FUNCTIONS:
        raise WasmcmpError(f"unknown function {function!r}: expected one of {', '.join(FUNCTIONS)}")
    if tier not in TIERS:
        raise WasmcmpError(f"unknown tier {tier!r}: expected one of {', '.join(TIERS)}")
    resolved = find(guest) if isinstance(guest, str) else guest
    return _PATHS[approach](resolved, function, tier, timeout)


__all__ = ["APPROACHES", "DEFAULT_TIMEOUT", "TIERS", "CallPath", "open_path"]
