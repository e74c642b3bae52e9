"""Instructions per call of cases under valgrind's callgrind, written as pyperf JSON.

``measure_instructions()`` checks each case's answer in-process, then runs ``python -m
wasmcmp.instructions`` under callgrind (JIT code included) once per repeat; a repeat's
pyperf value is that process's instructions per call.

Isolating the loop: callgrind's client requests, inside the process. Instrumentation starts
after start-up, imports, instantiation and the answer check; batches of N, 2N, N and 2N
calls then run, each between two dumps (a dump writes and zeroes every thread's count), and
the value is the difference of the smallest 2N and the smallest N count over N: the
difference cancels what a batch costs besides its calls, and the smallest of two drops
what happened once in one batch (it can only add). The
requests are valgrind.h's marker instructions in an executable page, called through ctypes.
Set aside after trying: two processes of N and 2N calls (start-up alone varied by tens of
millions of instructions); ``--toggle-collect``/``--dump-before`` on a function (Python
frames are no C symbols; a libc marker called through ctypes never matched by name);
toggling collection by request (per thread: it would miss the thread conduit's guest).

Jitter: a count moves with the hash seed (up to ~2%, checked calls) and, through memory
layout, with the command line, environment and folder (~1%, greenlet). So each repeat draws
a seed and a command-line length from the case and its index, and runs with a minimal
environment and relative paths: the repeats' spread shows that sensitivity, and a rerun
lands within ~0.1%. The watchdog is stopped once the guest is open (its wake-ups, and the
unchecked export's epoch ticks, follow wall time: they added up to ~0.7%, unevenly); the
process timeout bounds a guest spinning after that. Modules are compiled once per run
under ``valgrind --tool=none`` (native code needs CPU features valgrind lacks): ~10 s saved
per repeat of a Go case.

Blind spot: instructions do not see waiting. The thread conduit's hand-off between OS
threads costs wall time, not instructions (and valgrind runs one thread at a time): its
count is the work both threads do, not what a call costs, and it varies from run to run.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import functools
import gc
import importlib.metadata
import json
import mmap
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from wasmcmp import __version__, errors, names
from wasmcmp.cases import Case
from wasmcmp.errors import MeasurementFailed, WasmcmpError
from wasmcmp.guests import engine_config, load_module
from wasmcmp.measure import check, guest_args, verify
from wasmcmp.own_guests import own_guests
from wasmcmp.paths import DEFAULT_TIMEOUT

METRIC = "instructions"  # in case names: ``wat/exported/add/checked@instructions``
METHOD = (
    "callgrind instructions per call: (count of 2N calls - count of N calls) / N, the "
    "smaller of two batches of each size, batches between client-request dumps (all "
    "threads) in one process per repeat; start-up, "
    "imports, instantiation and the answer check not counted; hash seed and command-line "
    "length drawn per case and repeat"
)
DEFAULT_REPEATS = 3
#: seconds one valgrind process may take before it is killed
PROCESS_TIMEOUT = 300.0
#: calls before the counted batches; their count also calibrates N
WARMUP_LOOPS = 20
#: about how many instructions the batch of N calls takes when N is calibrated
LOOP_BUDGET = 5_000_000
#: the counted batches, in multiples of N: two of N and two of 2N calls, interleaved
BATCHES = (1, 2, 1, 2)
MIN_LOOPS, MAX_LOOPS = 20, 10_000

CALLGRIND = (
    "--tool=callgrind",
    "--vgdb=no",  # no gdbserver: its pipes in TMPDIR would outlive a killed process
    "--smc-check=all-non-file",  # wasmtime's JIT writes code into anonymous memory
    "--instr-atstart=no",  # start-up runs uninstrumented, faster; the worker starts it
    "--separate-threads=no",  # one count for all threads: the thread conduit's guest too
    *("--dump-instr=no", "--dump-line=no"),
)
#: the only variables of the caller's environment a worker gets
ENVIRONMENT = ("PYTHONPATH", "LD_LIBRARY_PATH", "VALGRIND_LIB")
INSTALL = "install it with `apt-get install valgrind` (Debian, Ubuntu) or your package manager"


@dataclasses.dataclass(frozen=True)
class Count:
    """One callgrind process: instructions of the warm-up, N and 2N calls; its seconds."""

    loops: int
    warmup_loops: int
    warmup: int
    single: int
    double: int
    seconds: float

    @property
    def per_call(self) -> float:
        """Return the instructions per call: the two batches' difference over ``loops``."""
        return (self.double - self.single) / self.loops


def jitter(values: Sequence[float]) -> float:
    """Return the spread (max - min) of repeated counts relative to their median."""
    return (max(values) - min(values)) / statistics.median(values)


def find_valgrind(valgrind: str | Path = "valgrind") -> tuple[Path, str]:
    """Return the valgrind executable and its version; raise WasmcmpError if it is missing."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        raise WasmcmpError(f"instruction counts need x86-64 (this is {platform.machine()})")
    found = shutil.which(str(valgrind))
    if found is None:
        raise WasmcmpError(f"instruction counts need valgrind; {valgrind} is not found: {INSTALL}")
    try:
        done = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise WasmcmpError(f"{found} does not run ({exc}): {INSTALL}") from exc
    if done.returncode != 0 or not done.stdout.startswith("valgrind"):
        raise WasmcmpError(f"{found} is not valgrind ({done.stdout}{done.stderr}): {INSTALL}")
    return Path(found), done.stdout.strip()


def measure_instructions(
    cases: Sequence[Case],
    output: Path,
    *,
    repeats: int = DEFAULT_REPEATS,
    loops: int | None = None,
    timeout: float = PROCESS_TIMEOUT,
    valgrind: str | Path = "valgrind",
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Return ``output``, the pyperf JSON of the cases' instructions per call, written (to a
    temporary sibling, then renamed) once all succeeded. Each case's answer is checked
    first; each repeat is one callgrind process, killed after ``timeout`` seconds, which
    calibrates N unless ``loops`` gives it."""
    if not cases or repeats < 1 or (loops is not None and loops < 1) or not timeout > 0:
        raise WasmcmpError(
            f"nothing to count: {len(cases)} cases, {repeats} repeats, loops {loops}, "
            f"timeout {timeout} (each must be at least 1, the timeout positive)"
        )
    executable, version = find_valgrind(valgrind)
    say = progress or (lambda text: None)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with _sigterm_interrupts():
        for case in cases:
            check(case, min(timeout, DEFAULT_TIMEOUT))
        # A path of fixed length: the worker's folder, like its command line, moves the count.
        with tempfile.TemporaryDirectory(prefix="wasmcmp-callgrind-") as scratch:
            compiled = _compile_modules(cases, Path(scratch), executable, timeout, say)
            results: dict[Case, list[Count]] = {}
            for index, case in enumerate(cases, 1):
                counts = results[case] = []
                for repeat in range(repeats):
                    module = compiled[_module(case)]
                    counts.append(_count(case, executable, loops, timeout, module, repeat))
                values = [count.per_call for count in counts]
                say(
                    f"[{index}/{len(cases)}] {case.name}: {statistics.median(values):,.0f} "
                    f"instructions/call, jitter {jitter(values):.2%}, "
                    f"{sum(count.seconds for count in counts):.1f} s\n"
                )
        with tempfile.TemporaryDirectory(dir=output.parent, prefix=f".{output.name}.") as staged:
            partial = Path(staged) / output.name
            _suite(results, version).dump(str(partial))
            os.replace(partial, output)
    return output


def _count(
    case: Case, valgrind: Path, loops: int | None, timeout: float, compiled: Path, repeat: int
) -> Count:
    """Return what one callgrind process counted for the case, in the repeat's layout."""
    with tempfile.TemporaryDirectory(dir=compiled.parent, prefix="callgrind-") as dumped:
        # hash seed and layout drawn per case and repeat; of the caller's environment only
        # what the worker needs to start, and relative paths (see the module's docstring)
        draw = random.Random(f"{case.name}/{repeat}")
        env = {k: os.environ[k] for k in ENVIRONMENT if k in os.environ}
        env["PYTHONHASHSEED"] = str(draw.randrange(2**32))
        command = [
            *(str(valgrind), *CALLGRIND, "--callgrind-out-file=callgrind.out"),
            *_worker(case, "valgrind.log"),
            # half the process's time: a guest spinning as it opens is reported as such
            *("--call-timeout", repr(timeout / 2), "--dumps", "callgrind.out"),
            *(("--loops", str(loops)) if loops else ()),
            *("--compiled", f"../{compiled.name}", "--layout", "x" * draw.randrange(64)),
        ]
        log = (folder := Path(dumped)) / "valgrind.log"
        report, seconds = _run(case, command, timeout, "callgrind", log, cwd=folder, env=env)
        warmup = _dumped(case, folder / "callgrind.out.2")
        batches = [
            _dumped(case, folder / f"callgrind.out.{6 + 2 * n}") for n in range(len(BATCHES))
        ]
    return Count(report["loops"], report["warmup_loops"], warmup, *smallest(batches), seconds)


def smallest(batches: Sequence[int]) -> tuple[int, int]:
    """Return the smallest count of the N-call batches and of the 2N-call batches, counted
    in the order of BATCHES: what happens once (a straggling thread, an allocator's new
    arena) only adds, so the smallest of each size is a batch without it."""
    if len(batches) != len(BATCHES):
        raise MeasurementFailed(f"{len(batches)} batch counts, expected {len(BATCHES)}")
    sizes = list(zip(BATCHES, batches, strict=True))
    single, double = (min(count for size, count in sizes if size == k) for k in (1, 2))
    return single, double


def _compile_modules(
    cases: Sequence[Case], scratch: Path, valgrind: Path, timeout: float, say: Callable[[str], None]
) -> dict[tuple[Path, str], Path]:
    """Return each module the cases need, compiled for valgrind's CPU, by folder and role."""
    compiled: dict[tuple[Path, str], Path] = {}
    for case in cases:
        if (key := _module(case)) not in compiled:
            target = scratch / f"module-{len(compiled)}.cwasm"
            command = [str(valgrind), "--tool=none", "--vgdb=no", *_worker(case, f"{target}.log")]
            command += ["--compile-to", str(target)]
            _, seconds = _run(case, command, timeout, "compiling", Path(f"{target}.log"))
            say(f"compiled {key[0].name}/{key[1]} under valgrind ({seconds:.1f} s)\n")
            compiled[key] = target
    return compiled


def _module(case: Case) -> tuple[Path, str]:
    return (case.find_guest().folder.resolve(), _role(case))


def _role(case: Case) -> str:
    return "exported" if case.approach == names.EXPORTED else f"imported_{case.function}"


def _worker(case: Case, log: str) -> list[str]:
    """Return the rest of a valgrind command line: its log, and the worker it runs (-P: no
    working folder on sys.path, which would move the layout)."""
    python = [sys.executable, "-P", "-m", "wasmcmp.instructions", "--case", case.name]
    return [f"--log-file={log}", *python, *guest_args([case])]


def _run(
    case: Case, command: list[str], timeout: float, what: str, log: Path, **popen: Any
) -> tuple[dict[str, Any], float]:
    """Run one valgrind process in a session of its own; return its report and seconds."""
    start = time.monotonic()
    pipe = subprocess.PIPE
    child = subprocess.Popen(command, stdout=pipe, stderr=pipe, start_new_session=True, **popen)
    try:
        out, err = child.communicate(timeout=timeout)
    except BaseException as exc:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise MeasurementFailed(
                f"{case.name}: {what} under valgrind did not finish within {timeout:g} s and "
                "was stopped; raise the timeout (or count fewer loops)"
            ) from None
        raise
    seconds = time.monotonic() - start
    lines = out.decode(errors="replace").strip().splitlines()
    report: dict[str, Any] = json.loads(lines[-1]) if lines and lines[-1][:1] == "{" else {}
    if child.returncode == 0 and "error" not in report:
        return report, seconds
    kind = getattr(errors, str(report.get("error")), None)
    if isinstance(kind, type) and issubclass(kind, WasmcmpError):
        raise kind(f"{case.name} under valgrind: {report.get('message')}")
    text = err.decode(errors="replace").strip() or (log.read_text() if log.is_file() else "")
    said = text.strip().splitlines()[-1:] or ["no error output"]
    raise MeasurementFailed(
        f"{case.name}: {what} under valgrind failed (exit {child.returncode}): {said[0]}"
    )


def _dumped(case: Case, dump: Path) -> int:
    """Return the instruction count of one callgrind dump (its ``totals:`` line)."""
    text = dump.read_text(errors="replace") if dump.is_file() else ""
    for line in text.splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise MeasurementFailed(f"{case.name}: callgrind wrote no count to {dump.name}")


def _suite(results: dict[Case, list[Count]], valgrind_version: str) -> Any:
    import pyperf

    common: dict[str, Any] = {
        "unit": "integer",
        "wasmcmp_metric": METRIC,
        "instructions_method": METHOD,
        "valgrind_version": valgrind_version,
        "valgrind_options": " ".join(CALLGRIND),
        "wasmcmp_version": __version__,
        "wasmtime_version": importlib.metadata.version("wasmtime"),
    }
    if os.environ.get("WASMCMP_COMMIT"):
        common["wasmcmp_commit"] = os.environ["WASMCMP_COMMIT"]
    benchmarks = []
    for case, counts in results.items():
        name = names.CaseName(case.guest, case.approach, case.function, case.tier, METRIC)
        metadata = {
            **common,
            "name": str(name),
            "instructions_jitter": round(jitter([count.per_call for count in counts]), 6),
            "instructions_seconds": round(sum(count.seconds for count in counts), 2),
        }
        runs = [
            pyperf.Run(
                [round(count.per_call)],
                warmups=[(count.warmup_loops, count.warmup / count.warmup_loops)],
                metadata={**metadata, "loops": count.loops, "duration": round(count.seconds, 3)},
            )
            for count in counts
        ]
        benchmarks.append(pyperf.Benchmark(runs))
    return pyperf.BenchmarkSuite(benchmarks)


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Make SIGTERM unwind like Ctrl-C (the default would leave valgrind's session running)."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- the worker, run under valgrind ---------------------------------------------------------


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
            f"{case.name}: `python -m wasmcmp.instructions` counts only under callgrind; "
            "measure_instructions (wasmcmp run --metric instructions) runs it so"
        )
    if args.compiled:
        _preload(case, Path(args.compiled))
    dump = functools.partial(requests.request, ClientRequests.DUMP_STATS)
    with case.open(args.call_timeout) as path:
        # No watchdog once the guest is open (it stopped one spinning at start-up): its
        # thread's wake-ups and the unchecked export's epoch ticks follow wall time, and a
        # tick during the answer check's first, slow call could still be on its way in a
        # batch. The answer was checked outside valgrind; the process timeout bounds a
        # guest that spins from now on.
        path.watchdog.stop()
        verify(path, case)
        # what is alive now stays out of every later collection, which are then cheap
        gc.collect()
        gc.freeze()
        requests.request(ClientRequests.START_INSTRUMENTATION)
        dumped = 0

        def counted(calls: int) -> int:
            """Run one batch of calls between two dumps; return its count."""
            nonlocal dumped
            path.ready(case.args)  # imported-inline's fresh instance: made before, not counted
            gc.collect()  # each batch starts with no collection pending
            dump()  # odd dumps: what came before the batch (a dump zeroes every thread's count)
            path.timed(calls, case.args)
            dump()  # even dumps: the batch
            dumped += 2
            return _dumped(case, Path(f"{args.dumps}.{dumped}"))

        # The warm-up (dumps 2 and 4: W and 2W calls) calibrates N on the difference, what a
        # call costs without what a batch costs once (imported-inline unwinds its guest).
        once, twice = counted(WARMUP_LOOPS), counted(2 * WARMUP_LOOPS)
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

    source = case.find_guest().module_file(_role(case))
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
    module = load_module(wasmtime.Engine(config), case.find_guest(), _role(case))
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
