"""Hostile guests: every way a guest can misbehave ends in a WasmcmpError naming the case,
within the deadline, with no thread left behind; Ctrl-C stops it sooner.

A guest that could hang the process runs in a subprocess, so that a regression fails the
test instead of hanging the suite.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from wasmcmp.errors import GuestAbiMismatch, GuestInvalid, GuestTrap
from wasmcmp.guests import Guest
from wasmcmp.paths import APPROACHES, TIERS, open_path

from .conftest import FIXTURE_GUESTS, fixture_guest

PATHS = [(approach, tier) for approach in APPROACHES for tier in TIERS]
IMPORTED = [(approach, tier) for approach, tier in PATHS if approach != "exported"]
#: seconds a subprocess may take before the test calls it hung: far past any deadline used
BOUND = 20

#: opens a path on a guest folder, calls it once, prints what happened as JSON
DRIVER = """
import json, signal, sys, threading
from pathlib import Path
from wasmcmp.guests import Guest
from wasmcmp.paths import open_path

# Python leaves SIGINT ignored when its parent did; the test's Ctrl-C must land.
signal.signal(signal.SIGINT, signal.default_int_handler)
folder, approach, function, tier, timeout, first = sys.argv[1:]
args = (int(first), 1) if function == "add" else (int(first),)
threads = threading.active_count()
outcome = {"error": None}
try:
    print("opening", flush=True)
    guest = Guest(Path(folder).name, Path(folder))
    with open_path(guest, approach, function, tier, timeout=float(timeout)) as path:
        print("calling", flush=True)
        outcome["answer"] = path.call(*args)
except BaseException as exc:
    outcome = {"error": type(exc).__name__, "message": str(exc)}
    outcome["notes"] = getattr(exc, "__notes__", [])
outcome["threads_left"] = threading.active_count() - threads
print(json.dumps(outcome), flush=True)
"""


def drive(
    guest: str,
    approach: str,
    function: str,
    tier: str,
    first: int = 13,
    timeout: float = 0.5,
    folder: Path | None = None,
) -> dict[str, Any]:
    """Return what the driver saw opening the guest's path and calling it once."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            DRIVER,
            str(folder or FIXTURE_GUESTS / guest),
            approach,
            function,
            tier,
            str(timeout),
            str(first),
        ],
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outcome: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return outcome


# -- 1: a start function or _initialize that never returns ----------------------------------


@pytest.mark.parametrize("function", ["add", "cube"])
@pytest.mark.parametrize(("approach", "tier"), PATHS)
def test_a_start_function_that_spins_times_out_while_instantiating(
    approach: str, tier: str, function: str
) -> None:
    outcome = drive("startspin", approach, function, tier)
    role = "exported" if approach == "exported" else f"imported_{function}"
    assert outcome["error"] == "GuestTimeout"
    assert outcome["message"].startswith(
        f"startspin/{approach}/{function}/{tier}: instantiating startspin/{role}.wat did not "
        "finish within 0.5 s"
    )
    assert outcome["threads_left"] == 0


@pytest.mark.parametrize("tier", TIERS)
def test_an_initialize_that_never_returns_times_out(tier: str) -> None:
    outcome = drive("initspin", "exported", "add", tier)
    assert outcome["error"] == "GuestTimeout"
    assert "initspin/exported/add" in outcome["message"]
    assert "_initialize() did not finish within 0.5 s" in outcome["message"]
    assert outcome["threads_left"] == 0


# -- 2: a guest that sleeps in WASI ---------------------------------------------------------


@pytest.mark.parametrize("function", ["add", "cube"])
@pytest.mark.parametrize(("approach", "tier"), PATHS)
def test_an_hour_long_wasi_sleep_ends_at_the_deadline(
    approach: str, tier: str, function: str
) -> None:
    outcome = drive("sleep", approach, function, tier)
    call = "add(13, 1)" if function == "add" else "cube(13)"
    # the timeout itself reaches the user, not a failure to stop the guest's thread
    assert outcome["error"] == "GuestTimeout"
    assert outcome["message"].startswith(
        f"sleep/{approach}/{function}/{tier}: {call} did not answer within 0.5 s"
    )
    assert outcome["notes"] == []
    assert outcome["threads_left"] == 0


@pytest.mark.parametrize(("approach", "tier"), PATHS)
def test_a_short_wasi_sleep_is_honoured(approach: str, tier: str, tmp_path: Path) -> None:
    for role in ("exported", "imported_add"):
        wat = (FIXTURE_GUESTS / "sleep" / f"{role}.wat").read_text()
        hour = "(i64.const 3600000000000)"
        assert hour in wat
        (tmp_path / f"{role}.wat").write_text(wat.replace(hour, "(i64.const 1000000)"))
    outcome = drive("napping", approach, "add", tier, timeout=5, folder=tmp_path)
    assert outcome == {"error": None, "answer": 14, "threads_left": 0}


# -- Ctrl-C stops a guest at once, not at the deadline ------------------------------------------


@pytest.mark.parametrize(
    ("guest", "approach", "tier"),
    [
        ("startspin", "exported", "checked"),  # inside instantiation, on the main thread
        ("startspin", "imported-thread", "unchecked"),
        ("spin", "exported", "unchecked"),  # spinning in wasm on the main thread
        ("spin", "imported-greenlet", "checked"),
        ("spin", "imported-thread", "unchecked"),  # the caller waits on the guest's thread
        ("sleep", "exported", "checked"),  # sleeping in WASI on the main thread
        ("sleep", "imported-greenlet", "unchecked"),
        ("sleep", "imported-thread", "checked"),
        ("startspin", "imported-inline", "checked"),
        ("spin", "imported-inline", "unchecked"),  # the guest loop runs inside the call
        ("sleep", "imported-inline", "checked"),
    ],
)
def test_ctrl_c_stops_a_guest_long_before_its_deadline(
    guest: str, approach: str, tier: str
) -> None:
    command = [
        sys.executable,
        "-c",
        DRIVER,
        str(FIXTURE_GUESTS / guest),
        approach,
        "add",
        tier,
        "600",
        "13",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    ready = "opening" if guest == "startspin" else "calling"
    while (line := proc.stdout.readline()) and line.strip() != ready:
        pass
    time.sleep(0.5)  # let the guest get into wasm (or its sleep)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=BOUND)
    assert proc.returncode == 0, err
    outcome = json.loads(out.splitlines()[-1])
    assert outcome["error"] == "KeyboardInterrupt"
    assert outcome["threads_left"] == 0


# -- 10: a trap's reason and place; a module's broken limit ------------------------------------


@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize(("approach", "tier"), PATHS)
def test_a_trap_names_its_reason_and_first_frame(approach: str, tier: str) -> None:
    with (
        open_path(fixture_guest("trap"), approach, "add", tier) as path,
        pytest.raises(GuestTrap) as raised,
    ):
        path.call(13, 1)
    assert str(raised.value).startswith(
        f"trap/{approach}/add/{tier}: add(13, 1) trapped: wasm trap: wasm `unreachable` "
        "instruction executed (in wasm function "
    )
    assert ", at module offset 0x" in str(raised.value)


def _leb128(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + _leb128(len(payload)) + payload


def test_a_function_past_wasmtimes_size_limit_names_the_limit(tmp_path: Path) -> None:
    body = b"\x00" + b"\x01" * (12 * 2**20) + b"\x0b"  # no locals, 12 MiB of nop, end
    module = b"".join(
        [
            b"\0asm\x01\0\0\0",
            _section(1, b"\x01\x60\x00\x00"),  # one type: () -> ()
            _section(3, b"\x01\x00"),  # one function of that type
            _section(10, b"\x01" + _leb128(len(body)) + body),
        ]
    )
    (tmp_path / "exported.wasm").write_bytes(module)
    with pytest.raises(GuestInvalid) as raised:
        open_path(Guest("huge", tmp_path), "exported", "add", "checked")
    message = str(raised.value)
    assert "guest 'huge'" in message
    assert "exported.wasm is not a valid WebAssembly module: failed to parse" in message
    assert "function body size count exceeds limit of 7654321" in message


def test_an_import_the_host_does_not_provide_is_an_abi_mismatch(tmp_path: Path) -> None:
    (tmp_path / "exported.wat").write_text(
        '(module (import "env" "clock" (func (result i64)))'
        ' (func (export "add") (param i32 i32) (result i32) (local.get 0))'
        ' (func (export "cube") (param i32) (result i32) (local.get 0)))'
    )
    with pytest.raises(GuestAbiMismatch, match=r"imports env\.clock, but the host provides only"):
        open_path(Guest("envy", tmp_path), "exported", "add", "checked")


# -- 11: a start function that calls the conduit ----------------------------------------------


@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize("function", ["add", "cube"])
@pytest.mark.parametrize(("approach", "tier"), IMPORTED)
def test_a_start_function_calling_the_conduit_is_refused(
    approach: str, tier: str, function: str
) -> None:
    # the add guest asks for work from its start function, the cube guest answers
    name = f"{function}_request" if function == "add" else f"{function}_response"
    with pytest.raises(GuestAbiMismatch) as raised:
        open_path(fixture_guest("startcall"), approach, function, tier, timeout=5)
    assert str(raised.value) == (
        f"startcall/{approach}/{function}/{tier}: imported_{function}.wat calls "
        f"conduit.{name} from its start function, while being instantiated; the conduit "
        "serves only the loop in _start"
    )


# -- 12: one rule for guest pointers in both tiers ---------------------------------------------


@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize(("approach", "tier"), IMPORTED)
def test_unaligned_pointers_are_written_as_i32_store_would(approach: str, tier: str) -> None:
    with open_path(fixture_guest("unaligned"), approach, "add", tier) as path:
        assert path.call(1, 2) == 3
        assert path.call(-7, 2**31 - 1) == 2**31 - 8
        assert path.call(-(2**31), -1) == 2**31 - 1


@pytest.mark.usefixtures("no_leaked_threads")
@pytest.mark.parametrize(("approach", "tier"), IMPORTED)
def test_a_pointer_straddling_the_end_of_memory_traps_in_both_tiers(
    approach: str, tier: str, tmp_path: Path
) -> None:
    wat = (FIXTURE_GUESTS / "unaligned" / "imported_add.wat").read_text()
    request = "(call $req (i32.const 1) (i32.const 6))"
    assert request in wat
    (tmp_path / "imported_add.wat").write_text(
        wat.replace(request, "(call $req (i32.const 1) (i32.const 65534))")
    )
    with (
        open_path(Guest("straddle", tmp_path), approach, "add", tier) as path,
        pytest.raises(GuestTrap) as raised,
    ):
        path.call(1, 2)
    assert str(raised.value) == (
        f"straddle/{approach}/add/{tier}: add(1, 2) trapped: "
        "IndexError: guest pointer 0xfffe is outside its memory"
    )
