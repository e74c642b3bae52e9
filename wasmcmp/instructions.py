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
process timeout bounds a guest spinning after that. Workers never write Python's bytecode
cache, which is made fresh before they start (a worker writing it counted 0.6% off the
next). Modules are compiled once per run under ``valgrind --tool=none`` (native code needs
CPU features valgrind lacks): ~10 s saved per repeat of a Go case.

Blind spot: instructions do not see waiting. The thread conduit's hand-off between OS
threads costs wall time, not instructions (and valgrind runs one thread at a time): its
count is the work both threads do, not what a call costs, and it varies from run to run.
"""

from __future__ import annotations

import compileall
import contextlib
import dataclasses
import importlib.metadata
import json
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
from wasmcmp.measure import check, guest_args
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
#: the counted batches, in multiples of N: two of N and two of 2N calls, interleaved
BATCHES = (1, 2, 1, 2)

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
        # A worker that compiles a module and writes its bytecode cache starts its count
        # with another heap than the next worker, which finds the cache: the unchecked
        # export's count moved by 0.07-0.6%. So the package's cache is made fresh here
        # (whatever PYTHONDONTWRITEBYTECODE says), and workers never write one.
        compileall.compile_dir(Path(__file__).parent, quiet=2)
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
        env["PYTHONDONTWRITEBYTECODE"] = "1"
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
        warmup = read_dump(case, folder / "callgrind.out.2")
        batches = [
            read_dump(case, folder / f"callgrind.out.{6 + 2 * n}") for n in range(len(BATCHES))
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
    return (case.find_guest().folder.resolve(), module_role(case))


def module_role(case: Case) -> str:
    return "exported" if case.approach == names.EXPORTED else f"imported_{case.function}"


def _worker(case: Case, log: str) -> list[str]:
    """Return the rest of a valgrind command line: its log, and the worker it runs (-P: no
    working folder on sys.path, which would move the layout)."""
    python = [sys.executable, "-P", "-m", "wasmcmp.instructions_worker", "--case", case.name]
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


def read_dump(case: Case, dump: Path) -> int:
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
