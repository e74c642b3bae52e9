"""The unchecked binding tier: raw values through wasmtime's C API, buffers allocated once.

wasmtime offers two flavors of host<->guest call. The checked one (wasmtime-py's
``Func.__call__`` and ``Linker.define_func``) looks up the function's type and converts
every value on every call. The unchecked one (``wasmtime_func_call_unchecked`` and
``wasmtime_linker_define_func_unchecked``) passes a flat buffer of raw values and trusts
the caller to match the signature, which the guest ABI check has already done.

This is the only module that touches wasmtime-py's generated bindings. The raw functions,
the callback type and ``wasmtime_val_raw_t`` it relies on are the same in every wasmtime-py
release from 30 to 50 (the range ``pyproject.toml`` allows and ``make versions`` measures).
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import wasmtime
from wasmtime import _bindings as ffi
from wasmtime import _func as wasmtime_func
from wasmtime._ffi import dll

ValRaw = ffi.wasmtime_val_raw_t


#: whether libc can run wasmtime's epoch bump on a timer thread of its own (POSIX timers
#: with SIGEV_THREAD, and an ABI that passes a sigval the way it passes a pointer)
KEEPS_GIL = (
    sys.platform == "linux"
    and platform.machine() in ("x86_64", "aarch64")
    and hasattr(ctypes.CDLL(None), "timer_create")
)


def foreign(library: str | None, name: str) -> Any:
    """Return a C function as this tier calls wasmtime's: a fresh function pointer without
    argtypes and with a plain address as the result (ctypes then builds no pointer object
    per call, which would cost more than the call itself), keeping the GIL where
    ``KEEPS_GIL`` (see ``EpochTicker``)."""
    function = (ctypes.PyDLL if KEEPS_GIL else ctypes.CDLL)(library)[name]
    function.restype = ctypes.c_void_p
    return function


_call_unchecked = foreign(dll._name, "wasmtime_func_call_unchecked")
_error_new = foreign(dll._name, "wasmtime_error_new")
_deadline_callback = dll["wasmtime_store_epoch_deadline_callback"]
_deadline_callback.restype = None
_engine_clone_raw = foreign(dll._name, "wasmtime_engine_clone")
_engine_delete = dll["wasm_engine_delete"]
_engine_delete.argtypes = [ctypes.c_void_p]
_engine_delete.restype = None
_define_unchecked = dll["wasmtime_linker_define_func_unchecked"]
_define_unchecked.restype = ctypes.c_void_p
_memory_data = dll["wasmtime_memory_data"]
_memory_data.restype = ctypes.c_void_p
_memory_data_size = dll["wasmtime_memory_data_size"]
_memory_data_size.restype = ctypes.c_size_t
_trap_new = dll["wasmtime_trap_new"]
_trap_new.restype = ctypes.c_void_p

#: (env, caller, args_and_results, count) -> NULL or an owned wasm_trap_t*
RawCallback = ctypes.CFUNCTYPE(
    ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t
)

_HOST_FAILED = b"host import raised an exception"


def raised(error: int | None, trap: ctypes.c_void_p) -> BaseException:
    """Return the exception for a raw error or trap pointer, taking ownership.

    A host function defined through wasmtime-py (a WASI replacement) that raised leaves its
    exception for the next checked call to re-raise; the unchecked call raises it instead,
    as the checked one would, so it neither gets lost nor surfaces in an unrelated call.
    """
    pending = wasmtime_func.LAST_EXCEPTION
    wasmtime_func.LAST_EXCEPTION = None
    reported: BaseException
    if trap.value:
        owned = ctypes.cast(trap.value, ctypes.POINTER(ffi.wasm_trap_t))
        trap.value = None
        reported = wasmtime.Trap._from_ptr(owned)
    elif error:
        reported = wasmtime.WasmtimeError._from_ptr(
            ctypes.cast(error, ctypes.POINTER(ffi.wasmtime_error_t))
        )
    else:
        reported = wasmtime.WasmtimeError("wasmtime reported neither an error nor a trap")
    return reported if pending is None else pending


class _TimeSpec(ctypes.Structure):
    _fields_ = [("seconds", ctypes.c_long), ("nanoseconds", ctypes.c_long)]


class _TimerSpec(ctypes.Structure):
    _fields_ = [("interval", _TimeSpec), ("first", _TimeSpec)]


class _SigEvent(ctypes.Structure):
    """glibc's ``struct sigevent`` (64 bytes) for ``SIGEV_THREAD``."""

    _fields_ = [
        ("value", ctypes.c_void_p),
        ("signo", ctypes.c_int),
        ("notify", ctypes.c_int),
        ("function", ctypes.c_void_p),
        ("attributes", ctypes.c_void_p),
        ("padding", ctypes.c_int * 8),
    ]


_SIGEV_THREAD = 2
_CLOCK_MONOTONIC = 1
#: seconds an engine handed to a timer outlives the timer: a notification already on its
#: way (a libc thread about to bump the epoch) must still find the engine there
_GRACE = 2.0
_retired: list[tuple[float, int]] = []


class EpochTicker:
    """Bumps an engine's epoch every ``tick`` seconds while started, from libc's timer
    thread, which never takes the GIL.

    A call that keeps the GIL (``KEEPS_GIL``) stops every Python thread, the watchdog's
    included, for as long as the guest runs. This timer's notification calls
    ``wasmtime_engine_increment_epoch`` itself, handed its own clone of the engine as the
    timer's sigval, so no Python runs on that thread; each bump makes the running guest
    consult the store's epoch deadline callback, on the calling thread, which decides in
    Python whether the guest must stop (see ``RawFunc``).
    """

    def __init__(self, engine: wasmtime.Engine, tick: float) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self._settime, self._delete = libc.timer_settime, libc.timer_delete
        self._clone: int = _engine_clone(engine.ptr())
        event = _SigEvent(
            value=self._clone,
            notify=_SIGEV_THREAD,
            function=ctypes.cast(dll.wasmtime_engine_increment_epoch, ctypes.c_void_p).value,
        )
        self._timer: ctypes.c_void_p | None = ctypes.c_void_p()
        if libc.timer_create(_CLOCK_MONOTONIC, ctypes.byref(event), ctypes.byref(self._timer)):
            error = ctypes.get_errno()
            self._timer = None
            _engine_delete(self._clone)
            raise OSError(error, f"timer_create: {os.strerror(error)}")
        seconds, fraction = divmod(tick, 1.0)
        every = _TimeSpec(int(seconds), int(fraction * 1e9))
        self._ticking = ctypes.byref(_TimerSpec(every, every))
        self._still = ctypes.byref(_TimerSpec())

    def start(self) -> None:
        """Start bumping the epoch every tick."""
        self._settime(self._timer, 0, self._ticking, None)

    def stop(self) -> None:
        """Stop bumping the epoch."""
        self._settime(self._timer, 0, self._still, None)

    def close(self) -> None:
        """Delete the timer; its engine clone is freed once no notification can be left."""
        if self._timer is None:
            return
        self._delete(self._timer)
        self._timer = None
        now = time.monotonic()
        while _retired and _retired[0][0] < now:
            _engine_delete(_retired.pop(0)[1])
        _retired.append((now + _GRACE, self._clone))


def _engine_clone(engine: Any) -> int:
    clone: int = _engine_clone_raw(engine)
    return clone


#: (context, env, epoch deadline delta, update kind) -> NULL to go on, or an owned error
_DeadlineCallback = ctypes.CFUNCTYPE(
    ctypes.c_size_t,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.POINTER(ctypes.c_uint64),
    ctypes.POINTER(ctypes.c_uint8),
)
_STOPPED = b"interrupted: the guest ran past its deadline or was asked to stop"


class RawFunc:
    """A guest export called with wasmtime_func_call_unchecked through one reused buffer.

    Where ``KEEPS_GIL``, the call keeps the GIL, so no Python thread runs while the guest
    does: an ``EpochTicker`` bumps the engine's epoch every ``tick`` seconds of a call or
    batch, and at each bump the store's epoch deadline callback asks ``expired()`` (on the
    calling thread) whether to stop the guest. An exception raised there, such as Ctrl-C's
    KeyboardInterrupt, stops the guest too and is what the call raises.
    """

    def __init__(
        self,
        store: wasmtime.Store,
        func: wasmtime.Func,
        slots: int,
        *,
        engine: wasmtime.Engine,
        expired: Callable[[], bool],
        watching: Callable[[], bool],
        tick: float,
    ) -> None:
        self._store = store
        self._func = func
        self._context = store._context()
        self._func_ref = ctypes.byref(func._func)
        self.buffer = (ValRaw * slots)()
        self.slots = tuple(self.buffer[i] for i in range(slots))
        self.trap = ctypes.c_void_p()
        self._trap_ref = ctypes.byref(self.trap)
        #: the five argument objects each call passes, in order (for comparing floors)
        self.arguments = (self._context, self._func_ref, self.buffer, slots, self._trap_ref)
        #: what stopped the guest from the deadline callback, for the call to raise
        self.stopped: BaseException | None = None
        self._ticker: EpochTicker | None = None
        self._watching = watching
        self._hook: Callable[[Any], Any] = sys.unraisablehook
        if KEEPS_GIL:

            def check_in(context: int, env: int, delta: Any, kind: Any) -> int:
                try:
                    if self.stopped is None and not expired():
                        delta[0] = 1
                        kind[0] = 0  # WASMTIME_UPDATE_DEADLINE_CONTINUE
                        return 0
                except BaseException as exc:
                    self.stopped = exc
                error: int = _error_new(_STOPPED)
                return error

            self._check_in_function = check_in
            self._check_in = _DeadlineCallback(check_in)
            _deadline_callback(store.ptr(), self._check_in, None, None)
            self._ticker = EpochTicker(engine, tick)

    def _start(self) -> EpochTicker | None:
        # A signal's handler may run as the callback is entered, before its own try: ctypes
        # then reports the exception as unraisable, and this hook keeps it for the call.
        # No deadline once the watchdog is stopped (the instruction count's batches): its
        # ticks would add work that follows wall time to what callgrind counts.
        ticker = self._ticker if self._watching() else None
        if ticker is not None:
            self._hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
            ticker.start()
        return ticker

    def _stop(self, ticker: EpochTicker | None) -> None:
        if ticker is not None:
            ticker.stop()
            sys.unraisablehook = self._hook

    def _unraisable(self, unraisable: Any) -> None:
        if unraisable.object is self._check_in_function and self.stopped is None:
            self.stopped = unraisable.exc_value
        else:
            self._hook(unraisable)

    def close(self) -> None:
        """Stop and delete the ticker (the store may be freed after)."""
        if self._ticker is not None:
            self._ticker.close()
            self._ticker = None

    def call(self, *args: int) -> int:
        """Return the export's i32 result for these i32 arguments."""
        for slot, value in zip(self.slots, args, strict=True):
            slot.i32 = value
        ticker = self._start()
        try:
            error = _call_unchecked(
                self._context, self._func_ref, self.buffer, len(self.buffer), self._trap_ref
            )
        finally:
            self._stop(ticker)
        if error or self.trap.value:
            raise self._failed(error)
        result: int = self.slots[0].i32
        return result

    def _failed(self, error: int | None) -> BaseException:
        reported = raised(error, self.trap)
        stopped, self.stopped = self.stopped, None
        return stopped or reported

    def timed(self, loops: int, args: tuple[int, ...]) -> float:
        """Return the seconds ``loops`` calls took; raise the first trap or error."""
        ticker = self._start()
        try:
            error, elapsed = self._batch(loops, args)
        finally:
            self._stop(ticker)
        if error or self.trap.value:
            raise self._failed(error)
        return elapsed

    def _batch(self, loops: int, args: tuple[int, ...]) -> tuple[int | None, float]:
        call, context, func, buffer, trap = (
            _call_unchecked,
            self._context,
            self._func_ref,
            self.buffer,
            self._trap_ref,
        )
        count = len(buffer)
        flag = self.trap
        error = None
        perf_counter = time.perf_counter
        if len(args) == 2:
            first, second = self.slots
            a, b = args
            start = perf_counter()
            for _ in range(loops):
                first.i32 = a
                second.i32 = b
                error = call(context, func, buffer, count, trap)
                if error or flag.value:
                    break
                _result = first.i32
            elapsed = perf_counter() - start
        else:
            (first,) = self.slots
            (a,) = args
            start = perf_counter()
            for _ in range(loops):
                first.i32 = a
                error = call(context, func, buffer, count, trap)
                if error or flag.value:
                    break
                _result = first.i32
            elapsed = perf_counter() - start
        return error, elapsed


def define_import(
    linker: wasmtime.Linker,
    module: str,
    name: str,
    ty: wasmtime.FuncType,
    trampoline: Callable[[int | None, int, int, int], int],
) -> Any:
    """Define a raw host import; return the callback object, which must outlive the linker.

    ``trampoline(env, caller, values, count)`` gets the address of the import's raw
    argument/result slots and returns 0, or ``host_failed()`` to trap and unwind the guest.
    """
    callback = RawCallback(trampoline)
    module_bytes = module.encode()
    name_bytes = name.encode()
    error = _define_unchecked(
        linker.ptr(),
        module_bytes,
        len(module_bytes),
        name_bytes,
        len(name_bytes),
        ty.ptr(),
        callback,
        None,
        None,
    )
    if error:
        raise raised(error, ctypes.c_void_p())
    return callback


def host_failed() -> int:
    """Return a new trap for a raw import to hand wasmtime after a Python exception."""
    trap: int = _trap_new(_HOST_FAILED, len(_HOST_FAILED))
    return trap


class SlotViews(dict[int, Any]):
    """Views of raw value slots by address, made once each (``views.get(address)`` or
    ``views.view(address)``).

    wasmtime passes a raw import its slots on the native stack; a guest loop calls from the
    same depth, so the same few addresses recur and a dictionary lookup replaces a cast.
    """

    def __init__(self, count: int) -> None:
        super().__init__()
        self._type = ValRaw * count

    def view(self, address: int) -> Any:
        """Return the slots at this address, remembering the view."""
        view = self[address] = self._type.from_address(address)
        return view


class MemoryWords:
    """The guest's linear memory as an array of int32, for writing operands by pointer."""

    def __init__(self, store: wasmtime.Store, memory: wasmtime.Memory) -> None:
        self._store = store
        self._memory = memory
        self.words: Any = None
        self.limit = 0
        self.refresh()

    def refresh(self) -> None:
        """Re-read the memory's size after it grew (its base never moves; see engine_config)."""
        context = self._store._context()
        memory_ref = ctypes.byref(self._memory._memory)
        self.base: int = _memory_data(context, memory_ref)
        size = _memory_data_size(context, memory_ref)
        self.limit = size - 4
        self.words = (ctypes.c_int32 * (size // 4)).from_address(self.base)

    def store(self, address: int, value: int) -> None:
        """Write an int32 at any address inside the memory, aligned or not, as i32.store
        does; raise IndexError outside it (the checked tier's rules)."""
        address &= 0xFFFFFFFF  # wasm pointers are unsigned; i32 slots read them signed
        if address > self.limit:
            self.refresh()
            if address > self.limit:
                raise IndexError(f"guest pointer {address:#x} is outside its memory")
        ctypes.memmove(self.base + address, value.to_bytes(4, "little", signed=True), 4)
