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
import time
from collections.abc import Callable
from typing import Any

import wasmtime
from wasmtime import _bindings as ffi
from wasmtime import _func as wasmtime_func
from wasmtime._ffi import dll

ValRaw = ffi.wasmtime_val_raw_t

# Fresh function pointers without argtypes and with a plain address as the result: ctypes
# then builds no pointer object per call, which would cost more than the call itself.
_call_unchecked = dll["wasmtime_func_call_unchecked"]
_call_unchecked.restype = ctypes.c_void_p
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


class RawFunc:
    """A guest export called with wasmtime_func_call_unchecked through one reused buffer."""

    def __init__(self, store: wasmtime.Store, func: wasmtime.Func, slots: int) -> None:
        self._store = store
        self._func = func
        self._context = store._context()
        self._func_ref = ctypes.byref(func._func)
        self.buffer = (ValRaw * slots)()
        self.slots = tuple(self.buffer[i] for i in range(slots))
        self.trap = ctypes.c_void_p()
        self._trap_ref = ctypes.byref(self.trap)

    def call(self, *args: int) -> int:
        """Return the export's i32 result for these i32 arguments."""
        for slot, value in zip(self.slots, args, strict=True):
            slot.i32 = value
        error = _call_unchecked(
            self._context, self._func_ref, self.buffer, len(self.buffer), self._trap_ref
        )
        if error or self.trap.value:
            raise raised(error, self.trap)
        result: int = self.slots[0].i32
        return result

    def timed(self, loops: int, args: tuple[int, ...]) -> float:
        """Return the seconds ``loops`` calls took; raise the first trap or error."""
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
        if error or flag.value:
            raise raised(error, flag)
        return elapsed


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
