"""What every call path shares: an engine and store of its own, a watchdog, open/close."""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

import wasmtime

from wasmcmp.errors import GuestTimeout, GuestTrap, WasmcmpError
from wasmcmp.guests import Guest, engine_config, load_module

#: seconds a single call, or one timed batch of calls, may take before the guest is stopped
DEFAULT_TIMEOUT = 5.0


class Watchdog:
    """Interrupts the engine's guests when an armed call or batch runs past its deadline.

    Arming costs one attribute store per call or batch; the thread polls a few times a
    second and bumps the engine's epoch only when the deadline has passed, which makes
    every store of that engine trap at its next epoch check.
    """

    def __init__(self, engine: wasmtime.Engine, timeout: float, label: str) -> None:
        self.timeout = timeout
        self.fired = False
        self._engine = engine
        self._deadline = math.inf
        self._stopping = threading.Event()
        self._tick = min(0.05, timeout / 10)
        self._thread = threading.Thread(target=self._watch, name=f"wasmcmp-watchdog {label}")
        self._thread.daemon = True
        self._thread.start()

    def arm(self) -> None:
        """Start the clock for one call or batch."""
        self._deadline = time.monotonic() + self.timeout

    def disarm(self) -> None:
        """Stop the clock."""
        self._deadline = math.inf

    def interrupt(self) -> None:
        """Make the engine's guests trap at their next epoch check."""
        self.fired = True
        self._engine.increment_epoch()

    def stop(self) -> None:
        """End the watchdog thread and wait for it."""
        self._stopping.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stopping.wait(self._tick):
            if time.monotonic() > self._deadline:
                self._deadline = math.inf
                self.interrupt()


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
        self.store = wasmtime.Store(self.engine)
        # The deadline is one tick past the current epoch, which only the watchdog advances.
        self.store.set_epoch_deadline(1)
        self.store.set_wasi(wasmtime.WasiConfig())
        self.linker = wasmtime.Linker(self.engine)
        self.linker.define_wasi()
        self.module = load_module(self.engine, guest, self.module_role())
        self.watchdog = Watchdog(self.engine, timeout, self.name)
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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def failure(self, exc: BaseException, args: tuple[int, ...]) -> WasmcmpError:
        """Return the WasmcmpError that explains a failed call with these arguments."""
        call = f"{self.function}({', '.join(map(str, args))})"
        if isinstance(exc, WasmcmpError):
            return exc
        if self.watchdog.fired or _is_interrupt(exc):
            return GuestTimeout(
                f"{self.name}: {call} did not answer within {self.timeout:g} s; the guest was "
                "interrupted (raise --timeout if it is merely slow)"
            )
        return GuestTrap(f"{self.name}: {call} trapped: {_trap_message(exc)}")

    def check_open(self) -> None:
        """Raise if the path was closed or a timeout left its guest unusable."""
        if self.closed:
            raise WasmcmpError(f"{self.name}: the call path is closed")
        if self.watchdog.fired:
            raise GuestTimeout(f"{self.name}: the guest was interrupted after a timeout")


def _is_interrupt(exc: BaseException) -> bool:
    return isinstance(exc, wasmtime.Trap) and exc.trap_code == wasmtime.TrapCode.INTERRUPT


def _trap_message(exc: BaseException) -> str:
    if isinstance(exc, wasmtime.Trap):
        lines = str(exc.message).strip().splitlines()
        return lines[0] if lines else "trap"
    return f"{type(exc).__name__}: {exc}"
