"""The worker of ``wasmcmp.instructions``: one case counted inside a callgrind process.

``measure_instructions()`` runs ``python -m wasmcmp.instructions_worker`` under valgrind:
with ``--compile-to`` under ``--tool=none`` to compile the case's module for valgrind's CPU,
otherwise under callgrind to count the case's calls between client-request dumps (see
``wasmcmp.instructions`` for the method). It prints one JSON line: what it counted, or the
error.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import gc
import json
import mmap
import sys
from collections.abc import Sequence
from pathlib import Path

from wasmcmp.cases import Case
from wasmcmp.errors import WasmcmpError
from wasmcmp.guests import engine_config, load_module
from wasmcmp.instructions import BATCHES, module_role, read_dump
from wasmcmp.measure import verify
from wasmcmp.own_guests import own_guests
from wasmcmp.paths import DEFAULT_TIMEOUT

#: calls before the counted batches; their count also calibrates N
WARMUP_LOOPS = 20
#: about how many instructions the batch of N calls takes when N is calibrated
LOOP_BUDGET = 5_000_000
MIN_LOOPS, MAX_LOOPS = 20, 10_000


class ClientRequests:
    """Valgrind's client requests (valgrind.h, callgrind.h), issued from Python on x86-64:
    valgrind.h's marker (rotate rdi by 3, 13, 61 and 51 bits, then exchange rbx with itself;
    rax points at the request and its arguments, rdx holds the default answer) is a no-op
    on a real CPU, and a request valgrind recognises and answers in rdx."""

    CODE = bytes.fromhex(
        "4889f8"  # mov rax, rdi      the request block, the function's argument
        "31d2"  # xor edx, edx        the default answer
        "48c1c703" "48c1c70d" "48c1c73d" "48c1c733"  # rol rdi, 3 / 13 / 61 / 51
        "4887db"  # xchg rbx, rbx     the request
        "4889d0"  # mov rax, rdx      the answer, returned
        "c3"  # ret
    )  # fmt: skip
    RUNNING_ON_VALGRIND = 0x1001
    DUMP_STATS = 0x43540000  # VG_USERREQ_TOOL_BASE('C', 'T')
    START_INSTRUMENTATION = DUMP_STATS + 4

    def __init__(self) -> None:
        prot = mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC
        try:
            self._page = mmap.mmap(-1, mmap.PAGESIZE, prot=prot)
        except OSError as exc:
            raise WasmcmpError(f"no executable page for callgrind's requests: {exc}") from exc
        self._page.write(self.CODE)
        address = ctypes.addressof(ctypes.c_char.from_buffer(self._page))
        self._call = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p)(address)
        self._block = (ctypes.c_uint64 * 6)()

    def request(self, code: int) -> int:
        """Return valgrind's answer to a request (0 when not under valgrind)."""
        self._block[0] = code
        return int(self._call(ctypes.addressof(self._block)))


def _count_in_worker(case: Case, args: argparse.Namespace) -> dict[str, int]:
    requests = ClientRequests()
    if not requests.request(ClientRequests.RUNNING_ON_VALGRIND):
        raise WasmcmpError(
            f"{case.name}: `python -m wasmcmp.instructions_worker` counts only under callgrind; "
            "measure_instructions (wasmcmp run --metric instructions) runs it so"
        )
    if args.compiled:
        _preload(case, Path(args.compiled))
    dump = functools.partial(requests.request, ClientRequests.DUMP_STATS)
    with case.open(args.call_timeout) as path:
        # No watchdog once the guest is open (it stopped one spinning at start-up): its
        # thread's wake-ups and the unchecked export's epoch ticks follow wall time. The
        # answer was checked outside valgrind; the process timeout bounds a guest that
        # spins from now on.
        path.watchdog.stop()
        verify(path, case)
        # what is alive now stays out of every later collection, which are then cheap
        gc.collect()
        gc.freeze()
        requests.request(ClientRequests.START_INSTRUMENTATION)

        def counted(calls: int) -> None:
            """Run one batch of calls between two dumps (the even ones)."""
            path.ready(case.args)  # imported-inline's fresh instance: made before, not counted
            gc.collect()  # each batch starts with no collection pending
            dump()  # odd dumps: what came before the batch (a dump zeroes every thread's count)
            path.timed(calls, case.args)
            dump()  # even dumps: the batch

        # The warm-up (dumps 2 and 4: W and 2W calls) calibrates N on the difference, what a
        # call costs without what a batch costs once (imported-inline unwinds its guest).
        counted(WARMUP_LOOPS)
        counted(2 * WARMUP_LOOPS)
        once, twice = (read_dump(case, Path(f"{args.dumps}.{n}")) for n in (2, 4))
        per_call = (twice - once) / WARMUP_LOOPS
        loops = args.loops or _calibrated(per_call if per_call > 0 else once / WARMUP_LOOPS)
        for batch in BATCHES:  # dumps 6, 8, 10, 12: N, 2N, N, 2N calls
            counted(batch * loops)
    return {"loops": loops, "warmup_loops": WARMUP_LOOPS}


def _calibrated(per_call: float) -> int:
    """Return the N whose batch takes about LOOP_BUDGET instructions, rounded to 1-2-5."""
    target = min(LOOP_BUDGET / max(per_call, 1), MAX_LOOPS)
    steps = [m * 10**e for e in range(1, 6) for m in (1, 2, 5)]
    return max([s for s in steps if MIN_LOOPS <= s <= target], default=MIN_LOOPS)


def _preload(case: Case, compiled: Path) -> None:
    """Hand the loader the module compiled ahead, as if this process had compiled it."""
    from wasmcmp import guests

    source = case.find_guest().module_file(module_role(case))
    stat = source.stat()
    with guests._compiled_lock:
        guests._compiled[(source.resolve(), stat.st_mtime_ns, stat.st_size)] = compiled.read_bytes()


def _compile_in_worker(case: Case, target: Path) -> None:
    import wasmtime

    config = engine_config()
    # wasmtime's own cache of compiled code (in the user's cache folder) makes a module
    # compiled once for valgrind's CPU a load on every later run: ~13 s -> 2.5 s for Go
    with contextlib.suppress(wasmtime.WasmtimeError):  # no cache folder: compile each time
        config.cache = True
    module = load_module(wasmtime.Engine(config), case.find_guest(), module_role(case))
    target.write_bytes(bytes(module.serialize()))


def main(argv: Sequence[str] | None = None) -> None:
    """Count one case under callgrind (or compile its module), printing a JSON report."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--case", required=True, help="the case to count")
    parser.add_argument("--guest", action="append", default=[], help="own guest, NAME=FOLDER")
    parser.add_argument("--loops", type=int, help="N: count N and 2N calls (default: calibrated)")
    parser.add_argument("--call-timeout", type=float, default=DEFAULT_TIMEOUT)
    parser.add_argument("--dumps", help="callgrind's --callgrind-out-file, to calibrate N")
    parser.add_argument("--compiled", help="the case's module, compiled ahead under valgrind")
    parser.add_argument("--compile-to", help="compile the case's module to this file instead")
    parser.add_argument("--layout", default="", help="ignored: its length moves the heap")
    args = parser.parse_args(argv)
    report: dict[str, int] = {}
    try:
        case = Case.parse(args.case, own_guests(args.guest))
        if args.compile_to:
            _compile_in_worker(case, Path(args.compile_to))
        else:
            report = _count_in_worker(case, args)
    except WasmcmpError as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}), flush=True)
        sys.exit(1)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
