"""What every call path shares: an engine and store of its own, a watchdog, open/close.

Every moment a guest runs is bounded: its start function and ``_initialize`` run under the
same deadline as a call, the only WASI call that can wait (``poll_oneoff``) wakes when the
deadline passes, and Ctrl-C (or SIGTERM, when a handler is installed) stops a guest that is
running on the main thread instead of waiting for the deadline.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import struct
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import NoReturn, Self

import wasmtime

from wasmcmp.errors import GuestTimeout, GuestTrap, WasmcmpError
from wasmcmp.guests import WASI_MODULE, Guest, describe_error, engine_config, load_module

#: seconds a single call, or one timed batch of calls, may take before the guest is stopped
DEFAULT_TIMEOUT = 5.0


class Watchdog:
    """Interrupts the engine's guests when an armed call or batch runs past its deadline.

    Arming costs one attribute store per call or batch; the thread polls a few times a
    second and bumps the engine's epoch only when the deadline has passed, which makes
    every store of that engine trap at its next epoch check. ``alarm`` is set at the same
    moment, for a guest that waits in a host call rather than running wasm.
    """

    def __init__(
        self, engine: wasmtime.Engine, timeout: float, label: str, alarm: threading.Event
    ) -> None:
        self.timeout = timeout
        self.fired = False
        self.alarm = alarm
        self._engine = engine
        self._deadline = math.inf
        self._stopping = threading.Event()
        #: seconds between two looks at the deadline
        self.tick = min(0.05, timeout / 10)
        self._thread = threading.Thread(target=self._watch, name=f"wasmcmp-watchdog {label}")
        self._thread.daemon = True
        _SIGNALS.watchdogs.add(self)
        self._thread.start()

    @property
    def armed(self) -> bool:
        """Return whether a call or batch is being timed."""
        return self._deadline != math.inf

    def arm(self) -> None:
        """Start the clock for one call or batch."""
        self._deadline = time.monotonic() + self.timeout

    def disarm(self) -> None:
        """Stop the clock."""
        self._deadline = math.inf

    def interrupt(self) -> None:
        """Make the engine's guests trap at their next epoch check, and wake any that wait."""
        self.fired = True
        self._engine.increment_epoch()
        self.alarm.set()

    def stop(self) -> None:
        """End the watchdog thread and wait for it."""
        _SIGNALS.watchdogs.discard(self)
        self._stopping.set()
        self._thread.join()

    def watching(self) -> bool:
        """Return whether the watchdog still watches the deadline (not stopped)."""
        return not self._stopping.is_set()

    def overdue(self) -> bool:
        """Return whether the guest must stop: the deadline passed (interrupting it) or a
        signal asked to stop. For a caller whose call keeps the GIL, so that this watchdog's
        thread cannot look (see ``wasmcmp.paths.unchecked.RawFunc``)."""
        self._look()
        return self.fired

    def _look(self) -> None:
        if time.monotonic() > self._deadline:
            self._deadline = math.inf
            self.interrupt()
        _SIGNALS.relay()

    def _watch(self) -> None:
        while not self._stopping.wait(self.tick):
            self._look()


class _SignalRelay:
    """Turns SIGINT and SIGTERM into an epoch bump for the guests being timed.

    Python runs a signal handler only between the main thread's bytecodes, never while that
    thread is inside wasm, so Ctrl-C alone would wait for the deadline. While a path opened
    on the main thread is open, Python's wakeup byte for a signal goes to a pipe that the
    watchdogs poll: the first to read SIGINT or SIGTERM interrupts every armed guest, wasm
    returns, and the handler (KeyboardInterrupt) runs.
    """

    def __init__(self) -> None:
        self.watchdogs: set[Watchdog] = set()
        self._lock = threading.Lock()
        self._users = 0
        self._pipe: tuple[int, int] | None = None

    def attach(self) -> bool:
        """Route signals through the pipe; return False where that is impossible."""
        if threading.current_thread() is not threading.main_thread():
            return False
        with self._lock:
            if self._pipe is None:
                read, write = os.pipe()
                os.set_blocking(read, False)
                os.set_blocking(write, False)
                previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
                if previous != -1:
                    # An event loop owns the wakeup fd; leave it its signals.
                    signal.set_wakeup_fd(previous)
                    os.close(read)
                    os.close(write)
                    return False
                self._pipe = (read, write)
            self._users += 1
            return True

    def detach(self) -> None:
        """Undo one attach; the last one on the main thread gives the wakeup fd back."""
        with self._lock:
            self._users -= 1
            main = threading.current_thread() is threading.main_thread()
            if self._users or self._pipe is None or not main:
                return
            read, write = self._pipe
            self._pipe = None
            if signal.set_wakeup_fd(-1) != write:  # someone replaced ours meanwhile
                signal.set_wakeup_fd(write)
                return
            os.close(read)
            os.close(write)

    def relay(self) -> None:
        """Interrupt every armed guest if SIGINT or SIGTERM arrived since the last look."""
        with self._lock:
            if self._pipe is None:
                return
            try:
                arrived = os.read(self._pipe[0], 512)
            except BlockingIOError:
                return
        if {signal.SIGINT, signal.SIGTERM} & set(arrived):
            for watchdog in list(self.watchdogs):
                if watchdog.armed:
                    watchdog.interrupt()


_SIGNALS = _SignalRelay()

#: the call paths open on each thread
_open_here = threading.local()


def _open_paths() -> set[CallPath]:
    paths: set[CallPath] | None = getattr(_open_here, "paths", None)
    if paths is None:
        paths = _open_here.paths = set()
    return paths


class CallPath(ABC):
    """The host side of one call path: open a guest, call its function, close cleanly."""

    approach = ""
    #: whether no other path may be open on the same thread while this one is. wasmtime
    #: keeps a per-thread stack of active calls; a guest suspended inside a host call (the
    #: greenlet conduit) sits on it, and another wasm call on the thread would push over it.
    exclusive = False

    def __init__(self, guest: Guest, function: str, tier: str, timeout: float) -> None:
        if timeout <= 0:
            raise WasmcmpError(f"timeout must be positive, got {timeout}")
        self.guest = guest
        self.function = function
        self.tier = tier
        self.timeout = timeout
        self.name = f"{guest.name}/{self.approach}/{function}/{tier}"
        self.closed = False
        opened = _open_paths()
        sharing = next((p for p in opened if p.exclusive or self.exclusive), None)
        if sharing is not None:
            raise WasmcmpError(
                f"{self.name}: {sharing.name if sharing.exclusive else self.name} must be the "
                "only call path open on its thread (a greenlet guest stays suspended inside "
                f"wasmtime); close {sharing.name} first or open this one on another thread"
            )
        self.engine = wasmtime.Engine(engine_config())
        self.linker = wasmtime.Linker(self.engine)
        self.module_file = guest.module_file(self.module_role())
        self.module = load_module(self.engine, guest, self.module_role())
        self._wasi = any(imp.module == WASI_MODULE for imp in self.module.imports)
        self.store = self.new_store()
        alarm = threading.Event()
        if self._wasi:
            _define_bounded_wasi(self.linker, alarm)
        self.watchdog = Watchdog(self.engine, timeout, self.name, alarm)
        self._relayed = _SIGNALS.attach()
        opened.add(self)

    @abstractmethod
    def module_role(self) -> str:
        """Return the role of the guest module this path instantiates."""

    @abstractmethod
    def call(self, *args: int) -> int:
        """Return the guest's answer for one call, within the timeout."""

    @abstractmethod
    def timed(self, loops: int, args: tuple[int, ...]) -> float:
        """Return the seconds that ``loops`` calls with ``args`` took (one timed batch)."""

    def ready(self, args: tuple[int, ...]) -> None:
        """Do now the set-up the next call or batch would do first (none on most paths), so
        that what is measured around the batch is only its calls."""
        del args  # most paths keep their instance from one batch to the next

    def new_store(self) -> wasmtime.Store:
        """Return a fresh store of this path's engine, under the deadline, with its WASI."""
        store = wasmtime.Store(self.engine)
        # The deadline is one tick past the current epoch, which only the watchdog advances.
        store.set_epoch_deadline(1)
        if self._wasi:
            store.set_wasi(wasmtime.WasiConfig())
        return store

    @contextlib.contextmanager
    def deadline(self) -> Iterator[None]:
        """Run the block under the call deadline (for instantiation and ``_initialize``)."""
        self.watchdog.arm()
        try:
            yield
        finally:
            self.watchdog.disarm()

    def instantiate(self) -> wasmtime.Instance:
        """Return the module instantiated; its start function runs under the deadline."""
        with self.deadline():
            return self.linker.instantiate(self.store, self.module)

    def close(self) -> None:
        """Stop the guest and every thread this path started; safe to call twice."""
        if self.closed:
            return
        self.abandon()
        # Free wasmtime's side now: the linker's host functions hold closures over this
        # path in wasmtime-py's global function table, a cycle Python's GC cannot see.
        for owned in (self.store, self.linker, self.module, self.engine):
            owned.close()

    def abandon(self) -> None:
        """Mark the path closed and stop its watchdog, leaving wasmtime's objects alone (for
        a guest thread that would not stop: its store cannot be freed under it)."""
        self.closed = True
        _open_paths().discard(self)
        self.watchdog.stop()
        if self._relayed:
            self._relayed = False
            _SIGNALS.detach()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
            return
        # The error that ended the block is what the user must see; a failure to close
        # after it is a footnote, not a replacement.
        try:
            self.close()
        except WasmcmpError as closing:
            exc.add_note(f"and closing the path failed: {closing}")

    def fail_opening(self, exc: BaseException, during: str) -> NoReturn:
        """Close the half-open path and raise the WasmcmpError explaining why opening failed
        (a KeyboardInterrupt goes on as it is)."""
        try:
            self.close()
        except WasmcmpError as closing:
            exc.add_note(f"and closing the path failed: {closing}")
        if isinstance(exc, WasmcmpError) or not isinstance(exc, Exception):
            raise exc
        raise self.failure(exc, during=during) from exc

    def failure(
        self, exc: BaseException, args: tuple[int, ...] = (), *, during: str = ""
    ) -> WasmcmpError:
        """Return the WasmcmpError that explains a failed call with these arguments (or a
        failed step while opening, ``during``)."""
        what = during or f"{self.function}({', '.join(map(str, args))})"
        if isinstance(exc, WasmcmpError):
            return exc
        if self.watchdog.fired or _is_interrupt(exc):
            return GuestTimeout(
                f"{self.name}: {what} did not {'finish' if during else 'answer'} within "
                f"{self.timeout:g} s; the guest was interrupted (raise --timeout if it is "
                "merely slow)"
            )
        return GuestTrap(f"{self.name}: {what} trapped: {_trap_message(exc)}")

    def check_open(self) -> None:
        """Raise if the path was closed or a timeout left its guest unusable."""
        if self.closed:
            raise WasmcmpError(f"{self.name}: the call path is closed")
        if self.watchdog.fired:
            raise GuestTimeout(f"{self.name}: the guest was interrupted after a timeout")

    def instantiating(self) -> str:
        """Return the words naming the opening step, for errors."""
        return f"instantiating {_shown(self.module_file)}"


def _shown(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _is_interrupt(exc: BaseException) -> bool:
    return isinstance(exc, wasmtime.Trap) and exc.trap_code == wasmtime.TrapCode.INTERRUPT


def _trap_message(exc: BaseException) -> str:
    """Return wasmtime's reason for a trap and where it happened, else the exception."""
    if isinstance(exc, wasmtime.Trap):
        frames = exc.frames
        if not frames:
            return describe_error(exc)
        frame = frames[0]
        function = frame.func_name or f"wasm function {frame.func_index}"
        return f"{describe_error(exc)} (in {function}, at module offset {frame.module_offset:#x})"
    if isinstance(exc, wasmtime.WasmtimeError):
        return describe_error(exc)
    return f"{type(exc).__name__}: {exc}"


# -- WASI ---------------------------------------------------------------------------------
#
# A guest that imports WASI gets wasmtime's, configured with nothing: no arguments,
# environment, files or inherited stdio, so no call can wait on the outside world. Of the
# calls left, only poll_oneoff can wait (a sleep); sched_yield returns at once. poll_oneoff
# is replaced by one that sleeps on the path's alarm, which the deadline and closing set.

_ERRNO_BADF, _ERRNO_FAULT, _ERRNO_INVAL, _ERRNO_NOTSUP = 8, 21, 28, 58
_CLOCK, _FD_WRITE, _ABSTIME = 0, 2, 1
#: userdata, tag, clock id or fd, timeout (ns), precision, flags
_SUBSCRIPTION = struct.Struct("<QB7xI4xQQH6x")
#: userdata, errno, type, nbytes, flags
_EVENT = struct.Struct("<QHB5xQH6x")
_I32 = wasmtime.ValType.i32


def _define_bounded_wasi(linker: wasmtime.Linker, alarm: threading.Event) -> None:
    linker.define_wasi()
    linker.allow_shadowing = True
    linker.define_func(
        WASI_MODULE,
        "poll_oneoff",
        wasmtime.FuncType([_I32() for _ in range(4)], [_I32()]),
        _bounded_poll_oneoff(alarm),
        access_caller=True,
    )
    linker.allow_shadowing = False


def _bounded_poll_oneoff(alarm: threading.Event) -> Callable[..., int]:
    def poll_oneoff(caller: wasmtime.Caller, subs: int, out: int, count: int, done: int) -> int:
        memory = caller.get("memory")
        subs, out, count, done = (v & 0xFFFFFFFF for v in (subs, out, count, done))
        if not isinstance(memory, wasmtime.Memory) or count == 0:
            return _ERRNO_INVAL
        data = _guest_bytes(caller, memory, subs, _SUBSCRIPTION.size * count)
        if data is None:
            return _ERRNO_FAULT
        ready: list[bytes] = []
        naps: list[tuple[int, int]] = []
        for userdata, tag, fd, timeout, _, flags in _SUBSCRIPTION.iter_unpack(data):
            if tag > _FD_WRITE:
                return _ERRNO_INVAL
            if tag == _CLOCK and not flags & _ABSTIME:
                naps.append((timeout, userdata))
                continue
            # An absolute time counts on wasmtime's clock, which the host cannot read; and
            # a guest has no file but its empty stdin and discarded stdout and stderr.
            errno = _ERRNO_NOTSUP if tag == _CLOCK else 0 if fd <= 2 else _ERRNO_BADF
            ready.append(_EVENT.pack(userdata, errno, tag, 0, 0))
        if not ready:
            nap = min(timeout for timeout, _ in naps)
            if alarm.wait(min(nap / 1e9, threading.TIMEOUT_MAX)):
                raise wasmtime.Trap("interrupted while sleeping in wasi poll_oneoff")
            ready = [_EVENT.pack(u, 0, _CLOCK, 0, 0) for t, u in naps if t <= nap]
        events = b"".join(ready)
        if _guest_bytes(caller, memory, out, len(events)) is None:
            return _ERRNO_FAULT
        if _guest_bytes(caller, memory, done, 4) is None:
            return _ERRNO_FAULT
        memory.write(caller, events, out)
        memory.write(caller, len(ready).to_bytes(4, "little"), done)
        return 0

    return poll_oneoff


def _guest_bytes(
    caller: wasmtime.Caller, memory: wasmtime.Memory, start: int, size: int
) -> bytearray | None:
    """Return the guest memory at [start, start + size), or None if it is out of bounds."""
    if start + size > memory.data_len(caller):
        return None
    return memory.read(caller, start, start + size)
