"""pyperf-calibrated timing of cases, run in a subprocess; the samples come back as a Run.

``measure()`` checks every case's answer in-process first (a clear error beats a dead
worker), then runs ``python -m wasmcmp.measure`` as a pyperf program: pyperf spawns worker
processes, calibrates the loop count, warms up and records values. This module is also that
program: ``python -m wasmcmp.measure --case NAME ... -o FILE`` accepts every pyperf option,
and ``--guest NAME=FOLDER`` for a case of the user's own guest.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.metadata
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from wasmcmp import __version__
from wasmcmp.cases import Case, expected
from wasmcmp.errors import MeasurementFailed, OutputLocked, WasmcmpError
from wasmcmp.own_guests import own_guests
from wasmcmp.paths import DEFAULT_TIMEOUT, CallPath

#: pyperf effort levels: how many worker processes and values per case
EFFORTS: dict[str, tuple[str, ...]] = {
    "fast": ("--fast",),
    "default": (),
    "rigorous": ("--rigorous",),
}


def check(case: Case, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Open the case's path, call it once and raise unless the answer is right."""
    with case.open(timeout) as path:
        verify(path, case)


def verify(path: CallPath, case: Case) -> None:
    """Raise MeasurementFailed unless the open path answers the case's call correctly."""
    want = expected(case.function, case.args)
    got = path.call(*case.args)
    if got != want:
        raise MeasurementFailed(
            f"{case.name}: {case.function}{case.args} answered {got}, expected {want}"
        )


def measure(
    cases: Sequence[Case],
    output: Path,
    *,
    effort: str = "default",
    timeout: float = DEFAULT_TIMEOUT,
    pyperf_args: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Return ``output``, the pyperf JSON of measuring the cases, written once all succeeded.

    The file is written to a temporary sibling and renamed into place, so a failed run
    leaves no partial file (and an earlier file of that name untouched). The output is
    locked for the run: a second run writing the same file is refused with OutputLocked.
    SIGTERM stops the run as Ctrl-C does: pyperf's processes are killed and nothing is left
    behind.
    """
    if effort not in EFFORTS:
        raise WasmcmpError(f"unknown effort {effort!r}: expected one of {', '.join(EFFORTS)}")
    if not cases:
        raise WasmcmpError("no cases to measure")
    output = Path(output)
    command = [
        sys.executable,
        "-m",
        "wasmcmp.measure",
        *EFFORTS[effort],
        # pyperf would warn "the benchmark result may be unstable" once per case, in a
        # paragraph each; its judgement is kept in the JSON's values and the table marks it
        "--quiet",
        *pyperf_args,
        "--call-timeout",
        repr(timeout),
    ]
    command += guest_args(cases)
    for case in cases:
        command += ["--case", case.name]
    with _sigterm_interrupts():
        for case in cases:
            check(case, timeout)
        output.parent.mkdir(parents=True, exist_ok=True)
        with (
            _locked(output),
            tempfile.TemporaryDirectory(dir=output.parent, prefix=f".{output.name}.") as scratch,
        ):
            partial = Path(scratch) / output.name
            _run_pyperf([*command, "-o", str(partial)], progress)
            if not partial.is_file():
                raise MeasurementFailed(f"pyperf wrote no results for {output}")
            os.replace(partial, output)
    return output


def guest_args(cases: Sequence[Case]) -> list[str]:
    """Return the ``--guest NAME=FOLDER`` options a worker needs to know the cases' guests
    of the user's own (none for bundled guests)."""
    folders = {case.guest: case.folder for case in cases if case.folder is not None}
    return [arg for name, folder in folders.items() for arg in ("--guest", f"{name}={folder}")]


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Make SIGTERM unwind like Ctrl-C while measuring, unless someone handles it already.

    Python's default ends the process on the spot, leaving pyperf's processes (a session
    of their own) running and the scratch folder and lock file behind.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may handle signals
        return
    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield  # the CLI (or the embedding program) already turns it into an exception
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _locked(output: Path) -> Iterator[None]:
    """Hold the output's lock file beside it for the run; remove it after.

    The lock is an flock, which the kernel drops when its holder dies: a lock file left by
    a killed run is stale by construction and is simply taken over.
    """
    lock = output.with_name(f".{output.name}.lock")
    descriptor = _take_lock(lock, output)
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"pid {os.getpid()} on {socket.gethostname()}".encode())
        yield
    finally:
        # Removed before it is unlocked: a run waiting on this file then sees it is gone.
        lock.unlink(missing_ok=True)
        os.close(descriptor)


def _take_lock(lock: Path, output: Path) -> int:
    while True:
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 200, 0).decode(errors="replace").strip()
            os.close(descriptor)
            raise OutputLocked(
                f"{output} is being written by another wasmcmp run "
                f"({holder or 'one that is starting'}; lock file {lock}): wait for it to "
                "finish or write elsewhere with -o"
            ) from None
        # The holder may have removed the file between our open and our lock: this lock
        # would then guard nothing, and the file there now is the one to take.
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.fstat(descriptor), os.stat(lock)):
                return descriptor
        os.close(descriptor)


def _run_pyperf(command: list[str], progress: Callable[[str], None] | None) -> None:
    # A session of its own, so an interruption can stop pyperf's workers too, not only
    # the manager (the workers would keep the pipes open and disturb what runs next).
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    errors: list[bytes] = []
    drain = threading.Thread(target=lambda: errors.extend(child.stderr or ()), daemon=True)
    drain.start()
    seen = b""
    try:
        assert child.stdout is not None
        # pyperf may print without a newline (its result line, a dot per worker when not
        # quiet): forward chunks, not lines.
        while chunk := os.read(child.stdout.fileno(), 4096):
            seen = (seen + chunk)[-4096:]
            if progress is not None:
                progress(chunk.decode(errors="replace"))
        code = child.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        raise
    finally:
        drain.join()
    if code != 0:
        starts = [line for line in seen.decode(errors="replace").splitlines() if line[:1] == "["]
        lines = [line.decode(errors="replace") for line in errors]
        raise MeasurementFailed(
            f"pyperf measurement failed (exit {code}) at {starts[-1] if starts else 'start'}: "
            f"{_first_error(lines)}"
        )


def _first_error(lines: list[str]) -> str:
    """Return the worker's own error line, else the one ending the first traceback."""
    for line in lines:
        if line.startswith("wasmcmp.errors."):
            return line.strip().removeprefix("wasmcmp.errors.")
    in_traceback = False
    for line in lines:
        if line.startswith("Traceback"):
            in_traceback = True
        elif in_traceback and line.strip() and not line.startswith((" ", "\t")):
            return line.strip()
    tail = "".join(lines[-5:]).strip()
    return tail or "no error output"


# -- the pyperf program ------------------------------------------------------------------

_opened: dict[Case, CallPath] = {}


def _time_case(loops: int, case: Case, timeout: float) -> float:
    path = _opened.get(case)
    if path is None:
        path = _opened[case] = case.open(timeout)
        verify(path, case)
    return path.timed(loops, case.args)


def _close_all() -> None:
    failures = []
    while _opened:
        _, path = _opened.popitem()
        try:
            path.close()
        except WasmcmpError as exc:
            failures.append(exc)
    if failures:
        raise failures[0]


def _forward(command: list[str], args: object) -> None:
    command += ["--call-timeout", repr(getattr(args, "call_timeout", DEFAULT_TIMEOUT))]
    for spec in getattr(args, "guest", []):
        command += ["--guest", spec]
    for name in getattr(args, "case", []):
        command += ["--case", name]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the cases named by ``--case`` as pyperf benchmarks (pyperf's own options apply)."""
    import pyperf

    metadata = {
        "wasmcmp_version": __version__,
        "wasmtime_version": importlib.metadata.version("wasmtime"),
    }
    if os.environ.get("WASMCMP_COMMIT"):
        metadata["wasmcmp_commit"] = os.environ["WASMCMP_COMMIT"]
    runner = pyperf.Runner(
        program_args=("-m", "wasmcmp.measure"), add_cmdline_args=_forward, metadata=metadata
    )
    runner.argparser.add_argument(
        "--case", action="append", default=[], help="case to measure (repeatable)"
    )
    runner.argparser.add_argument(
        "--guest", action="append", default=[], help="a guest of the user's own, NAME=FOLDER"
    )
    runner.argparser.add_argument(
        "--call-timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds a batch may take"
    )
    args = runner.parse_args(argv)
    guests = own_guests(args.guest)
    cases = [Case.parse(name, guests) for name in args.case]
    try:
        for index, case in enumerate(cases, 1):
            if not args.worker:
                print(f"[{index}/{len(cases)}] {case.name}", flush=True)
            runner.bench_time_func(case.name, _time_case, case, args.call_timeout)
    finally:
        _close_all()


if __name__ == "__main__":
    main()
