"""Call paths open, answer, fail clearly within the timeout, and close without leaks."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import pytest

from wasmcmp.cases import int32
from wasmcmp.errors import (
    GuestAbiMismatch,
    GuestInvalid,
    GuestNotFound,
    GuestTimeout,
    GuestTrap,
    WasmcmpError,
)
from wasmcmp.guests import Guest
from wasmcmp.paths import APPROACHES, TIERS, open_path

from .conftest import REPO, fixture_guest

PATHS = [(approach, tier) for approach in APPROACHES for tier in TIERS]
IMPORTED = [(approach, tier) for approach, tier in PATHS if approach != "exported"]
ids = [f"{a}/{t}" for a, t in PATHS]


def operands(function: str, first: int) -> tuple[int, ...]:
    return (first, 1) if function == "add" else (first,)


@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize("function", ["add", "cube"])
@pytest.mark.parametrize(("approach", "tier"), PATHS, ids=ids)
def test_a_trap_raises_guest_trap_naming_the_case(approach: str, tier: str, function: str) -> None:
    with open_path(fixture_guest("trap"), approach, function, tier, timeout=5) as path:
        assert path.call(*operands(function, 2)) == (3 if function == "add" else 8)
        with pytest.raises(GuestTrap) as raised:
            path.call(*operands(function, 13))
    message = str(raised.value)
    assert f"trap/{approach}/{function}/{tier}" in message
    assert f"{function}(13" in message
    assert "unreachable" in message or "host import" in message or "trap" in message


@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize(("approach", "tier"), PATHS, ids=ids)
def test_a_trap_inside_a_timed_batch_is_raised(approach: str, tier: str) -> None:
    with (
        open_path(fixture_guest("trap"), approach, "cube", tier, timeout=5) as path,
        pytest.raises(GuestTrap, match="cube\\(13\\)"),
    ):
        path.timed(10, (13,))


@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize("function", ["add", "cube"])
@pytest.mark.parametrize(("approach", "tier"), PATHS, ids=ids)
def test_a_spinning_guest_is_interrupted(approach: str, tier: str, function: str) -> None:
    with open_path(fixture_guest("spin"), approach, function, tier, timeout=0.5) as path:
        assert path.call(*operands(function, 2)) in (3, 8)
        with pytest.raises(GuestTimeout, match=r"did not answer within 0\.5 s"):
            path.call(*operands(function, 13))
        # the interrupted path refuses further calls instead of hanging
        with pytest.raises(GuestTimeout):
            path.call(*operands(function, 2))


@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize(("approach", "tier"), PATHS, ids=ids)
def test_a_spinning_guest_inside_a_timed_batch_is_interrupted(approach: str, tier: str) -> None:
    with (
        open_path(fixture_guest("spin"), approach, "add", tier, timeout=0.5) as path,
        pytest.raises(GuestTimeout),
    ):
        path.timed(1000, (13, 1))


@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize("function", ["add", "cube"])
@pytest.mark.parametrize("tier", TIERS)
def test_a_guest_blocked_in_an_import_times_out_on_the_thread_conduit(
    tier: str, function: str
) -> None:
    with (
        open_path(fixture_guest("block"), "imported-thread", function, tier, timeout=0.5) as path,
        pytest.raises(GuestTimeout, match="did not answer"),
    ):
        path.call(*operands(function, 13))


@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize("function", ["add", "cube"])
@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("approach", ["imported-greenlet", "imported-inline"])
def test_a_guest_skipping_its_answer_is_caught_by_the_greenlet_and_inline_paths(
    approach: str, tier: str, function: str
) -> None:
    with (
        open_path(fixture_guest("block"), approach, function, tier) as path,
        pytest.raises(GuestTrap, match="asked for work before answering"),
    ):
        path.call(*operands(function, 13))


@pytest.mark.parametrize(
    ("approach", "function", "message"),
    [
        ("exported", "add", r"missing export cube, expected \(i32\) -> \(i32\)"),
        (
            "imported-thread",
            "add",
            r"import conduit.add_request is \(i32\) -> \(\), expected \(i32, i32\) -> \(\)",
        ),
        ("imported-greenlet", "cube", "imports conduit.cube_log, which the host does not"),
        ("imported-inline", "cube", "imports conduit.cube_log, which the host does not"),
    ],
)
def test_abi_mismatches_name_the_guest_and_what_was_expected(
    approach: str, function: str, message: str
) -> None:
    with pytest.raises(GuestAbiMismatch, match=message) as raised:
        open_path(fixture_guest("badabi"), approach, function, "checked")
    assert "guest 'badabi'" in str(raised.value)


def test_a_malformed_module_is_guest_invalid(tmp_path: Path) -> None:
    (tmp_path / "exported.wasm").write_bytes(b"\0asm\x01\0\0\0garbage")
    with pytest.raises(GuestInvalid, match=r"exported.wasm is not a valid WebAssembly module"):
        open_path(Guest("broken", tmp_path), "exported", "add", "checked")


def test_a_truncated_wat_is_guest_invalid(tmp_path: Path) -> None:
    (tmp_path / "imported_cube.wat").write_text('(module (func (export "_start")')
    with pytest.raises(GuestInvalid, match=r"imported_cube\.wat"):
        open_path(Guest("broken", tmp_path), "imported-thread", "cube", "unchecked")


def test_a_missing_module_is_guest_not_found(tmp_path: Path) -> None:
    with pytest.raises(GuestNotFound, match=r"no exported.wasm or exported.wat"):
        open_path(Guest("empty", tmp_path), "exported", "add", "checked")
    with pytest.raises(GuestNotFound, match="unknown guest 'nope'"):
        open_path("nope", "exported", "add", "checked")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("wat", "imported", "add", "checked"), "unknown approach"),
        (("wat", "exported", "mul", "checked"), "unknown function"),
        (("wat", "exported", "add", "raw"), "unknown tier"),
    ],
)
def test_unknown_path_parts_are_refused(args: tuple[str, str, str, str], message: str) -> None:
    with pytest.raises(WasmcmpError, match=message):
        open_path(*args)


@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize(("approach", "tier"), PATHS, ids=ids)
def test_close_is_idempotent_and_a_closed_path_refuses_calls(approach: str, tier: str) -> None:
    path = open_path("wat", approach, "add", tier)
    path.close()
    path.close()
    with pytest.raises(WasmcmpError, match="closed"):
        path.call(1, 2)


@pytest.mark.usefixtures("no_leaked_threads")
def test_two_paths_open_at_once_do_not_interfere() -> None:
    with (
        open_path("wat", "imported-thread", "cube", "unchecked") as thread_path,
        open_path("wat", "exported", "add", "unchecked") as exported_path,
        open_path("go", "imported-thread", "add", "checked") as go_thread_path,
    ):
        for i in range(50):
            assert thread_path.call(i) == i**3
            assert exported_path.call(i, 2) == i + 2
            assert go_thread_path.call(i, 3) == i + 3


@pytest.mark.usefixtures("no_leaked_threads")
def test_a_greenlet_path_is_alone_on_its_thread() -> None:
    with (
        open_path("wat", "exported", "add", "unchecked"),
        pytest.raises(WasmcmpError, match="only call path open on its thread"),
    ):
        open_path("wat", "imported-greenlet", "add", "unchecked")
    with open_path("wat", "imported-greenlet", "add", "unchecked") as greenlet_path:
        with pytest.raises(WasmcmpError, match="close wat/imported-greenlet/add/unchecked"):
            open_path("wat", "exported", "add", "checked")
        assert greenlet_path.call(2, 3) == 5
        # another thread has its own wasmtime call stack: paths open there are fine
        answers: list[int] = []

        def elsewhere() -> None:
            with open_path("wat", "imported-greenlet", "cube", "checked") as path:
                answers.append(path.call(3))

        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
        assert answers == [27]
    with open_path("wat", "exported", "add", "checked") as path:
        assert path.call(1, 1) == 2


@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize(("approach", "tier"), IMPORTED, ids=[f"{a}/{t}" for a, t in IMPORTED])
def test_a_pointer_outside_guest_memory_traps_instead_of_writing(
    approach: str, tier: str, tmp_path: Path
) -> None:
    wat = (REPO / "guests" / "wat" / "imported_add.wat").read_text()
    request = "(call $add_request (i32.const 0) (i32.const 4))"
    assert request in wat
    (tmp_path / "imported_add.wat").write_text(
        wat.replace(request, "(call $add_request (i32.const -4) (i32.const 4))")
    )
    with (
        open_path(Guest("hostile", tmp_path), approach, "add", tier) as path,
        # both tiers, in the same words: wasm pointers are unsigned, so -4 is near 4 GiB
        pytest.raises(
            GuestTrap, match=r"IndexError: guest pointer 0xfffffffc is outside its memory"
        ),
    ):
        path.call(1, 2)


def _rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize(("approach", "tier"), [*IMPORTED, ("exported", "unchecked")])
def test_a_thousand_open_close_cycles_leave_memory_flat(approach: str, tier: str) -> None:
    def cycle(times: int) -> None:
        for i in range(times):
            with open_path("wat", approach, "add", tier) as path:
                assert path.call(i, 1) == i + 1

    cycle(100)  # warm up allocator pools and caches
    gc.collect()
    before = _rss_bytes()
    threads = threading.active_count()
    cycle(1000)
    gc.collect()
    grown = _rss_bytes() - before
    assert threading.active_count() == threads
    # a leak of one store, engine or thread stack per cycle would be tens of MiB
    assert grown < 8 * 2**20, f"RSS grew {grown / 2**20:.1f} MiB over 1000 cycles"


#: an imported cube guest that counts its answers in a global and traps at the eleventh
COUNTING_CUBE = """
(module
  (import "conduit" "cube_request" (func $req (result i32)))
  (import "conduit" "cube_response" (func $resp (param i32)))
  (global $answered (mut i32) (i32.const 0))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $a i32)
    (loop $serve
      (local.set $a (call $req))
      (global.set $answered (i32.add (global.get $answered) (i32.const 1)))
      (if (i32.gt_u (global.get $answered) (i32.const 10)) (then unreachable))
      (call $resp (i32.mul (i32.mul (local.get $a) (local.get $a)) (local.get $a)))
      (br $serve))))
"""


@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize("tier", TIERS)
def test_an_inline_batch_is_exactly_its_loops_on_a_fresh_instance(
    tier: str, tmp_path: Path
) -> None:
    (tmp_path / "imported_cube.wat").write_text(COUNTING_CUBE)
    with open_path(Guest("counting", tmp_path), "imported-inline", "cube", tier) as path:
        # each run starts a fresh instance: ten answers per run never reach the trap
        for _ in range(3):
            assert path.timed(10, (3,)) >= 0
            assert path.call(3) == 27
        with pytest.raises(GuestTrap, match=r"cube\(3\) trapped: wasm trap: wasm `unreachable`"):
            path.timed(11, (3,))
        # a trap spends only that run's instance
        assert path.call(4) == 64


@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize("tier", TIERS)
def test_the_go_guest_starts_over_for_every_inline_run(tier: str) -> None:
    # Go's runtime cannot be entered again once its loop unwound: each run is a new instance
    with open_path("go", "imported-inline", "add", tier) as path:
        for i in range(3):
            assert path.call(i, 2**31 - 1) == int32(i + 2**31 - 1)
            assert path.timed(100, (i, 5)) > 0
