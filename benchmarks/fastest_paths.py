"""The fastest honest paths, measured side by side with the floors they are held to.

One pyperf run measures the unchecked cases named by ``--cases`` together with:

- ``floor/labs``: libc's ``labs`` called through ctypes with the same five argument
  objects, through the same kind of function pointer, as the unchecked tier's call of
  ``wasmtime_func_call_unchecked``: what any ctypes call with those arguments costs;
- ``floor/greenlet/GUEST/FUNCTION``: a minimal hand-written greenlet round trip over the
  guest's two raw conduit imports, with none of the conduit's checks.

It then prints each case against its floor: an exported call against ``floor/labs``
(target 1.3x), an ``imported-greenlet`` case against the minimal greenlet loop of its guest
and function (target 1.1x), and any other imported approach against the unchecked exported
call of its guest and function (no target; measured alongside when not named).

Run: ``python benchmarks/fastest_paths.py [--cases PATTERN ...] [--json FILE] [--fast]``;
pyperf's own options (``--fast``, ``--rigorous``, ``-p``, ``-n``, ``-l``...) apply.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import greenlet
import pyperf
import wasmtime

from wasmcmp.cases import Case, expected
from wasmcmp.cases import select as select_cases
from wasmcmp.guests import WASI_MODULE, engine_config, find, load_module
from wasmcmp.paths import CallPath
from wasmcmp.paths.unchecked import (
    MemoryWords,
    RawFunc,
    SlotViews,
    define_import,
    foreign,
    host_failed,
)

DEFAULT_CASES = (
    "wat/exported/add/unchecked",
    "go/exported/add/unchecked",
    "wat/imported-greenlet/add/unchecked",
    "go/imported-greenlet/add/unchecked",
)
LABS = "floor/labs"
#: how far above its floor each approach should stay
TARGETS = {"exported": 1.3, "imported-greenlet": 1.1}


@dataclass(frozen=True)
class Row:
    """One line of the table: a case, the floor it is held to, and that floor's target."""

    case: str
    floor: str
    target: float | None


def plan(patterns: list[str]) -> tuple[list[str], list[Row]]:
    """Return the benchmark names to measure, in order, and the table's rows."""
    cases = [c for c in select_cases(patterns) if c.tier == "unchecked"]
    if not cases:
        raise SystemExit(f"no unchecked case matches {' '.join(patterns)}")
    rows: list[Row] = []
    for case in cases:
        if case.approach == "exported":
            floor = LABS
        elif case.approach == "imported-greenlet":
            floor = f"floor/greenlet/{case.guest}/{case.function}"
        else:
            floor = Case(case.guest, "exported", case.function, "unchecked").name
        rows.append(Row(case.name, floor, TARGETS.get(case.approach)))
    names: list[str] = []
    for row in rows:
        for name in (row.floor, row.case):
            if name not in names:
                names.append(name)
    return names, rows


# -- what each benchmark times -----------------------------------------------------------


def labs_floor() -> Callable[[int], float]:
    """Return a batch timer of ``labs`` called with a RawFunc's own argument objects."""
    engine = wasmtime.Engine(engine_config())
    store = wasmtime.Store(engine)
    module = load_module(engine, find("wat"), "exported")
    add = wasmtime.Instance(store, module, []).exports(store)["add"]
    assert isinstance(add, wasmtime.Func)
    raw = RawFunc(
        store, add, 2, engine=engine, expired=lambda: False, watching=lambda: True, tick=0.05
    )
    labs = foreign(None, "labs")
    context, func, buffer, count, trap = raw.arguments

    def batch(loops: int) -> float:
        start = pyperf.perf_counter()
        for _ in range(loops):
            labs(context, func, buffer, count, trap)
        return pyperf.perf_counter() - start

    batch.keep = (store, raw)  # type: ignore[attr-defined]
    return batch


def greenlet_floor(guest_name: str, function: str) -> Callable[[int], float]:
    """Return a batch timer of a minimal greenlet round trip over the raw conduit imports."""
    guest = find(guest_name)
    engine = wasmtime.Engine(engine_config())
    store = wasmtime.Store(engine)
    store.set_epoch_deadline(1)
    linker = wasmtime.Linker(engine)
    module = load_module(engine, guest, f"imported_{function}")
    if any(imp.module == WASI_MODULE for imp in module.imports):
        store.set_wasi(wasmtime.WasiConfig())
        linker.define_wasi()
    i32 = wasmtime.ValType.i32
    host = greenlet.getcurrent()
    answer = [0]
    words: list[Any] = []
    twos, ones = SlotViews(2), SlotViews(1)

    def add_request(env: int | None, caller: int, values: int, count: int) -> int:
        try:
            a, b = host.switch(answer[0])
        except BaseException:  # closing: unwind the guest
            return host_failed()
        slots = twos.get(values) or twos.view(values)
        memory = words[0]
        memory[slots[0].i32 >> 2] = a
        memory[slots[1].i32 >> 2] = b
        return 0

    def cube_request(env: int | None, caller: int, values: int, count: int) -> int:
        try:
            (ones.get(values) or ones.view(values))[0].i32 = host.switch(answer[0])[0]
        except BaseException:
            return host_failed()
        return 0

    def respond(env: int | None, caller: int, values: int, count: int) -> int:
        answer[0] = (ones.get(values) or ones.view(values))[0].i32
        return 0

    if function == "add":
        request = define_import(
            linker, "conduit", "add_request", wasmtime.FuncType([i32(), i32()], []), add_request
        )
    else:
        request = define_import(
            linker, "conduit", "cube_request", wasmtime.FuncType([], [i32()]), cube_request
        )
    response = define_import(
        linker, "conduit", f"{function}_response", wasmtime.FuncType([i32()], []), respond
    )
    exports = linker.instantiate(store, module).exports(store)
    start, memory = exports["_start"], exports["memory"]
    assert isinstance(start, wasmtime.Func)
    assert isinstance(memory, wasmtime.Memory)
    words.append(MemoryWords(store, memory).words)
    guest_loop = greenlet.greenlet(lambda: start(store))
    guest_loop.switch()
    args = Case(guest_name, "exported", function, "unchecked").args
    got = guest_loop.switch(args)
    if got != expected(function, args):
        raise SystemExit(f"the minimal {guest_name} {function} loop answered {got}")
    switch = guest_loop.switch

    def batch(loops: int) -> float:
        start = pyperf.perf_counter()
        for _ in range(loops):
            switch(args)
        return pyperf.perf_counter() - start

    batch.keep = (store, linker, request, response, guest_loop)  # type: ignore[attr-defined]
    return batch


def case_timer(case: Case) -> Callable[[int], float]:
    """Return a batch timer of the case's own path, opened once and checked."""
    path: CallPath = case.open()
    got = path.call(*case.args)
    if got != expected(case.function, case.args):
        raise SystemExit(f"{case.name} answered {got}")

    def batch(loops: int) -> float:
        return path.timed(loops, case.args)

    batch.keep = path  # type: ignore[attr-defined]
    return batch


def timer(name: str) -> Callable[[int], float]:
    """Return the batch timer of a benchmark name."""
    if name == LABS:
        return labs_floor()
    if name.startswith("floor/greenlet/"):
        _, _, guest, function = name.split("/")
        return greenlet_floor(guest, function)
    return case_timer(Case.parse(name))


_timers: dict[str, Callable[[int], float]] = {}


def _time(loops: int, name: str) -> float:
    # Opened lazily: a worker process measures one benchmark, and a greenlet path must be
    # the only path open on its thread.
    batch = _timers.get(name) or _timers.setdefault(name, timer(name))
    return batch(loops)


# -- the run and its table -----------------------------------------------------------------


def median_ns(bench: pyperf.Benchmark) -> float:
    """Return a benchmark's median in ns per call."""
    return statistics.median(bench.get_values()) * 1e9


def table(rows: list[Row], medians: dict[str, float]) -> str:
    """Return the Markdown table of every case against its floor."""
    lines = [
        "| case | ns/call | floor | ns/call | ratio | target |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for row in rows:
        case, floor = medians[row.case], medians[row.floor]
        ratio = case / floor
        target = "" if row.target is None else f"{row.target:.1f}x"
        if row.target is not None:
            target += " met" if ratio <= row.target else " missed"
        lines.append(
            f"| {row.case} | {case:,.0f} | {row.floor} | {floor:,.0f} | {ratio:.2f}x | {target} |"
        )
    return "\n".join(lines)


def write_suite(benches: list[pyperf.Benchmark], output: Path) -> None:
    """Write the pyperf JSON to a temporary sibling, then rename it into place."""
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    os.close(handle)
    try:
        pyperf.BenchmarkSuite(benches).dump(partial, replace=True)
        os.replace(partial, output)
    finally:
        Path(partial).unlink(missing_ok=True)


def _forward(command: list[str], args: argparse.Namespace) -> None:
    for pattern in args.cases or DEFAULT_CASES:
        command += ["--cases", pattern]


def main(argv: list[str] | None = None) -> None:
    """Measure the floors and the cases, write pyperf JSON and print the table."""
    runner = pyperf.Runner(add_cmdline_args=_forward)
    runner.argparser.description = __doc__.split("\n\n")[0] if __doc__ else None
    runner.argparser.add_argument(
        "--cases",
        action="append",
        metavar="PATTERN",
        help=f"unchecked cases to measure (repeatable; default: {' '.join(DEFAULT_CASES)})",
    )
    runner.argparser.add_argument(
        "--json",
        type=Path,
        default=Path("fastest-paths.json"),
        help="where to write the pyperf JSON of every benchmark (default: %(default)s)",
    )
    args = runner.parse_args(argv)
    names, rows = plan(args.cases or list(DEFAULT_CASES))
    benches: list[pyperf.Benchmark] = []
    try:
        for index, name in enumerate(names, 1):
            if not args.worker:
                print(f"[{index}/{len(names)}] {name}", flush=True)
            bench = runner.bench_time_func(name, _time, name)
            if bench is not None:
                benches.append(bench)
    finally:
        for batch in _timers.values():
            keep = getattr(batch, "keep", None)
            if isinstance(keep, CallPath):
                keep.close()
    if args.worker or len(benches) != len(names):
        return
    write_suite(benches, args.json)
    medians = {bench.get_name(): median_ns(bench) for bench in benches}
    print()
    print(table(rows, medians))
    print(f"\npyperf JSON: {args.json}")


if __name__ == "__main__":
    main()
