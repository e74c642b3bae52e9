"""The user's own guests: a folder of modules with the bundled guests' ABI, given a name.

``wasmcmp run --guest NAME=FOLDER`` (also ``call`` and ``cases``) and the asv suite's
``WASMCMP_GUESTS`` setting make each folder a guest of every case, ``NAME/exported/add/...``.
A name is a word of its own (never a bundled guest's: ``go/...`` in any result always means
the guest wasmcmp ships), and the folder must hold all three modules (``exported``,
``imported_add``, ``imported_cube``, each ``.wasm`` or ``.wat``), so that every case of the
guest exists. Their ABI is checked when a path loads them (``guests.check_abi``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from wasmcmp.errors import GuestNotFound, GuestSpecInvalid
from wasmcmp.guests import ROLES, Guest, bundled

#: where the asv suite reads the user's guests: ``NAME=FOLDER`` entries separated by
#: ``os.pathsep`` (``:`` on Linux and macOS, ``;`` on Windows), as in PATH
GUESTS_SETTING = "WASMCMP_GUESTS"

#: a user's guest name: a word that is safe in a case name, an asv parameter and a file name
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")


def own_guest(spec: str) -> Guest:
    """Return the guest a ``NAME=FOLDER`` names, its folder made absolute, once the name is
    free and the folder holds a module for every role."""
    name, equals, folder = spec.partition("=")
    if not equals or not name or not folder:
        raise GuestSpecInvalid(f"guest {spec!r}: expected NAME=FOLDER, e.g. mine=guests/mine")
    if not _NAME.fullmatch(name):
        raise GuestSpecInvalid(
            f"guest name {name!r}: use a letter, then up to 31 letters, digits, '_' or '-'"
        )
    if name.lower() in bundled():
        raise GuestSpecInvalid(
            f"guest name {name!r} is a bundled guest's: pick another, so that results named "
            f"{name.lower()}/... always mean the guest wasmcmp ships"
        )
    path = Path(folder).expanduser().resolve()
    if not path.is_dir():
        raise GuestNotFound(f"guest {name!r}: {folder} is not a folder")
    missing = [
        f"{role}.wasm or {role}.wat"
        for role in ROLES
        if not any((path / f"{role}{suffix}").is_file() for suffix in (".wasm", ".wat"))
    ]
    if missing:
        raise GuestNotFound(
            f"guest {name!r}: {path} has no {', '.join(missing)} (a guest folder holds all "
            f"three modules: {', '.join(ROLES)})"
        )
    return Guest(name, path)


def own_guests(specs: Iterable[str]) -> tuple[Guest, ...]:
    """Return the guests the ``NAME=FOLDER`` specs name, in their order; a name given twice
    is refused."""
    found: dict[str, Guest] = {}
    for guest in map(own_guest, specs):
        if guest.name in found:
            raise GuestSpecInvalid(
                f"guest {guest.name!r} is given twice ({found[guest.name].folder} and "
                f"{guest.folder})"
            )
        found[guest.name] = guest
    return tuple(found.values())


def guests_from_setting(value: str | None = None) -> tuple[Guest, ...]:
    """Return the guests WASMCMP_GUESTS names (``value``, by default the environment's).

    Its folders must be absolute: asv discovers and runs benchmarks in folders of its own.
    """
    value = os.environ.get(GUESTS_SETTING, "") if value is None else value
    specs = [entry for entry in value.split(os.pathsep) if entry.strip()]
    for spec in specs:
        folder = spec.partition("=")[2]
        if folder and not Path(folder).expanduser().is_absolute():
            raise GuestSpecInvalid(
                f"{GUESTS_SETTING} entry {spec!r}: give the folder as an absolute path (asv "
                f"runs benchmarks in folders of its own); separate entries with {os.pathsep!r}"
            )
    return own_guests(specs)
