"""The exported call path: instantiate the guest once, call its exports."""

from __future__ import annotations

import time

import wasmtime

from wasmcmp.guests import EXPORTS, Guest
from wasmcmp.paths.callpath import CallPath
from wasmcmp.paths.unchecked import RawFunc


class ExportedPath(CallPath):
    """Calls ``add`` or ``cube`` as a guest export, in the checked or unchecked tier."""

    approach = "exported"

    def __init__(self, guest: Guest, function: str, tier: str, timeout: float) -> None:
        super().__init__(guest, function, tier, timeout)
        during = self.instantiating()
        try:
            exports = self.instantiate().exports(self.store)
            initialize = exports.get("_initialize")
            if isinstance(initialize, wasmtime.Func):
                # a reactor's (Go's) runtime set-up: it may spin or sleep like any call
                during = "_initialize()"
                with self.deadline():
                    initialize(self.store)
            func = exports[function]
            assert isinstance(func, wasmtime.Func)
        except BaseException as exc:
            self.fail_opening(exc, during)
        self._func = func
        self._raw: RawFunc | None = None
        if tier == "unchecked":
            self._raw = RawFunc(
                self.store,
                func,
                len(EXPORTS[function][0]),
                engine=self.engine,
                expired=self.watchdog.overdue,
                watching=self.watchdog.watching,
                tick=self.watchdog.tick,
            )

    def close(self) -> None:
        """Stop the raw call's ticker, then free the guest; safe to call twice."""
        raw = getattr(self, "_raw", None)
        if raw is not None:
            raw.close()
        super().close()

    def module_role(self) -> str:
        """Return ``exported``: both functions live in one module."""
        return "exported"

    def call(self, *args: int) -> int:
        """Return the guest's answer for one call, within the timeout."""
        self.check_open()
        self.watchdog.arm()
        try:
            if self._raw is not None:
                return self._raw.call(*args)
            result: int = self._func(self.store, *args)
            return result
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise self.failure(exc, args) from exc
        finally:
            self.watchdog.disarm()

    def timed(self, loops: int, args: tuple[int, ...]) -> float:
        """Return the seconds that ``loops`` calls with ``args`` took (one timed batch)."""
        self.check_open()
        self.watchdog.arm()
        try:
            if self._raw is not None:
                return self._raw.timed(loops, args)
            return self._timed_checked(loops, args)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise self.failure(exc, args) from exc
        finally:
            self.watchdog.disarm()

    def _timed_checked(self, loops: int, args: tuple[int, ...]) -> float:
        func, store = self._func, self.store
        perf_counter = time.perf_counter
        if len(args) == 2:
            a, b = args
            start = perf_counter()
            for _ in range(loops):
                func(store, a, b)
            return perf_counter() - start
        (a,) = args
        start = perf_counter()
        for _ in range(loops):
            func(store, a)
        return perf_counter() - start
