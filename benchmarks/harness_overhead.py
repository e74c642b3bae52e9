"""How much does wasmcmp's harness add to what it measures?

Measures ``wat/exported/add/unchecked`` through ``wasmcmp.measure`` (pyperf worker
processes, calibrated loops) and, interleaved with it, a bare loop of the same raw call
written by hand against wasmtime-py's bindings, in fresh processes. Prints both medians and
the overhead. Run: ``python benchmarks/harness_overhead.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BARE_LOOP = r"""
import ctypes, statistics, time
import wasmtime
from wasmtime import _bindings as ffi
from wasmtime._ffi import dll

config = wasmtime.Config()
config.epoch_interruption = True
config.memory_may_move = False
engine = wasmtime.Engine(config)
store = wasmtime.Store(engine)
store.set_epoch_deadline(1)
module = wasmtime.Module(engine, open(WAT).read())
add = wasmtime.Instance(store, module, []).exports(store)["add"]

call = dll["wasmtime_func_call_unchecked"]
call.restype = ctypes.c_void_p
context, func = store._context(), ctypes.byref(add._func)
buffer = (ffi.wasmtime_val_raw_t * 2)()
first, second = buffer[0], buffer[1]
flag = ctypes.c_void_p()
trap = ctypes.byref(flag)

def batch(loops):
    start = time.perf_counter()
    for _ in range(loops):
        first.i32 = 1234567
        second.i32 = 7654321
        error = call(context, func, buffer, 2, trap)
        if error or flag.value:
            break
        result = first.i32
    return (time.perf_counter() - start) / loops

batch(20000)  # warm up
print(statistics.median(batch(LOOPS) for _ in range(VALUES)))
"""


def bare_loop(wat: Path, loops: int, values: int) -> float:
    """Return the median seconds per call of the hand-written loop, in a fresh process."""
    code = BARE_LOOP.replace("WAT", repr(str(wat))).replace("LOOPS", str(loops))
    code = code.replace("VALUES", str(values))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def main() -> None:
    """Print the harness's figure, the bare loop's, and the overhead between them."""
    from wasmcmp import Case, guests_dir, measure_cases, read_pyperf

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    args = parser.parse_args()

    case = Case("wat", "exported", "add", "unchecked")
    wat = guests_dir() / "wat" / "exported.wat"
    harness: list[float] = []
    bare: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(1, args.rounds + 1):
            out = Path(scratch) / f"round{round_}.json"
            measure_cases([case], out, effort="fast")
            harness.append(read_pyperf(out).measurements[case.name].value)
            bare.append(bare_loop(wat, loops=200_000, values=5))
            print(
                f"round {round_}: harness {harness[-1] * 1e9:.1f} ns/op, "
                f"bare loop {bare[-1] * 1e9:.1f} ns/op",
                flush=True,
            )
    h, b = statistics.median(harness), statistics.median(bare)
    print(f"\n{case.name} through wasmcmp/pyperf: {h * 1e9:.1f} ns/op (median of {len(harness)})")
    print(f"bare hand-written loop of the same call: {b * 1e9:.1f} ns/op")
    print(f"harness overhead: {(h / b - 1) * 100:+.1f}%")


if __name__ == "__main__":
    main()
