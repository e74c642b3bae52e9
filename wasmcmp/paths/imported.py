"""The imported call paths: the guest loops forever asking the host for work.

The guest's ``_start`` calls ``{function}_request`` to get operands and
``{function}_response`` to hand back the answer. A conduit connects those imports to the
host's ``call``:

- ``imported-thread`` (the seed's pattern): the guest loop runs on its own thread and the
  imports block on ``queue.SimpleQueue``, Python's channel;
- ``imported-greenlet``: no OS thread; the guest runs as a greenlet and the request import
  switches back to the caller, which resumes it with the next operands.

(``imported-inline``, in ``wasmcmp.paths.inline``, runs the same loop inside the call, with
no conduit between the imports and the host.)

Closing raises ``ConduitStop`` inside the guest's pending request, which unwinds its loop,
and interrupts a guest still running. The conduit serves only the loop in ``_start``: a
start function that calls it is refused while the module is instantiated.
"""

from __future__ import annotations

import queue
import threading
import time
from abc import abstractmethod
from collections.abc import Callable
from typing import Any, NoReturn

import greenlet
import wasmtime

from wasmcmp.errors import GuestAbiMismatch, GuestTimeout, GuestTrap, WasmcmpError
from wasmcmp.guests import CONDUIT_MODULE, CONDUITS, Guest
from wasmcmp.paths.callpath import CallPath
from wasmcmp.paths.unchecked import MemoryWords, SlotViews, define_import, host_failed


class ConduitStop(BaseException):
    """Raised inside the guest's pending request to unwind its loop when the path closes."""


#: what the host receives instead of an answer when the guest loop has ended
_FAILED: Any = object()
#: the greenlet conduit's answer slot when the guest has not answered yet
_MISSING: Any = object()

_I32 = wasmtime.ValType.i32


def _functype(signature: tuple[tuple[str, ...], tuple[str, ...]]) -> wasmtime.FuncType:
    params, results = signature
    return wasmtime.FuncType([_I32() for _ in params], [_I32() for _ in results])


class ImportedPath(CallPath):
    """Instantiates an imported guest with its conduit imports and runs its loop."""

    def __init__(self, guest: Guest, function: str, tier: str, timeout: float) -> None:
        super().__init__(guest, function, tier, timeout)
        #: why the guest loop ended, when it ended other than by closing
        self.error: BaseException | None = None
        #: whether the guest loop runs; before, only a start function can call the conduit
        self.launched = False
        self._words: MemoryWords | None = None
        self._callbacks: list[Any] = []
        self.before_launch()
        try:
            if tier == "unchecked":
                self._define_unchecked()
            else:
                self._define_checked()
            self.instantiate_guest()
            self.launch()
        except BaseException as exc:
            self.fail_opening(exc, self.instantiating())

    def instantiate_guest(self) -> None:
        """Instantiate the module in the store; keep its ``_start`` and memory."""
        exports = self.instantiate().exports(self.store)
        start, memory = exports["_start"], exports["memory"]
        assert isinstance(start, wasmtime.Func)
        assert isinstance(memory, wasmtime.Memory)
        self._start = start
        self._memory = memory
        if self.tier == "unchecked" and self.function == "add":
            self._words = MemoryWords(self.store, memory)

    def module_role(self) -> str:
        """Return ``imported_add`` or ``imported_cube``."""
        return f"imported_{self.function}"

    # -- the conduit, on the guest's side ------------------------------------------------

    @abstractmethod
    def before_launch(self) -> None:
        """Set the conduit up so that a call from the guest's start function fails at once."""

    @abstractmethod
    def launch(self) -> None:
        """Start the guest loop (on a thread or as a greenlet); set ``launched``."""

    @abstractmethod
    def next_request(self) -> tuple[int, ...]:
        """Return the next operands for the guest; raise ConduitStop when closing."""

    @abstractmethod
    def respond(self, result: int) -> None:
        """Hand the guest's answer to the waiting caller."""

    def run_guest(self) -> bool:
        """Run the guest loop until it ends; return True when it ended by closing."""
        try:
            self._start(self.store)
        except ConduitStop:
            return True
        except BaseException as exc:
            if isinstance(self.error, ConduitStop):
                return True
            self.error = self.error or exc
            if not isinstance(self.error, Exception):
                # Ctrl-C (or a greenlet's exit) belongs to the caller, not to the guest
                raise self.error from None
            return False
        self.error = GuestTrap(f"{self.name}: the guest's _start returned instead of looping")
        return False

    def guest_failure(self, args: tuple[int, ...]) -> WasmcmpError:
        """Return the error that ended the guest loop, as seen by a call with these args."""
        return self.failure(self.error or GuestTrap(f"{self.name}: guest loop ended"), args)

    def out_of_turn(self, name: str, what: str) -> WasmcmpError:
        """Return the error for a guest calling the conduit import ``name`` out of turn."""
        if not self.launched:
            return GuestAbiMismatch(
                f"{self.name}: {self.module_file.name} calls {CONDUIT_MODULE}.{name} from its "
                "start function, while being instantiated; the conduit serves only the loop "
                "in _start"
            )
        return GuestTrap(f"{self.name}: the guest {what}")

    def fail_opening(self, exc: BaseException, during: str) -> NoReturn:
        """Close the half-open path and raise what explains the failure: a raw import's
        exception is kept in ``error`` while wasmtime reports only a trap."""
        if self.error is not None and isinstance(exc, wasmtime.Trap | wasmtime.WasmtimeError):
            exc = self.error
        if isinstance(exc, ConduitStop) and not self.launched:
            exc = self.out_of_turn(f"{self.function}_request", "asked for work")
        super().fail_opening(exc, during)

    def _import_failed(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc

    def _define_checked(self) -> None:
        request, response = CONDUITS[self.function]
        next_request, respond = self.next_request, self.respond
        if self.function == "add":

            def add_request(caller: wasmtime.Caller, a_ptr: int, b_ptr: int) -> None:
                a, b = next_request()
                write = self._memory.write
                # wasm pointers are unsigned; Memory.write would read a negative one as an
                # offset from the end of memory. Any alignment is fine, as for i32.store.
                try:
                    write(caller, a.to_bytes(4, "little", signed=True), a_ptr & 0xFFFFFFFF)
                    write(caller, b.to_bytes(4, "little", signed=True), b_ptr & 0xFFFFFFFF)
                except IndexError:
                    # the same words as the unchecked tier's
                    size = self._memory.data_len(caller)
                    pointers = [p & 0xFFFFFFFF for p in (a_ptr, b_ptr)]
                    bad = next((p for p in pointers if p + 4 > size), pointers[0])
                    raise IndexError(f"guest pointer {bad:#x} is outside its memory") from None

            self._define(request, add_request, access_caller=True)
        else:

            def cube_request() -> int:
                return next_request()[0]

            self._define(request, cube_request)
        self._define(response, respond)

    def _define(self, name: str, func: Callable[..., Any], access_caller: bool = False) -> None:
        signature = CONDUITS[self.function][name]
        self.linker.define_func(
            CONDUIT_MODULE, name, _functype(signature), func, access_caller=access_caller
        )

    def _define_unchecked(self) -> None:
        request, response = CONDUITS[self.function]
        next_request, respond, failed = self.next_request, self.respond, self._import_failed
        ones = SlotViews(1)
        one, make_one = ones.get, ones.view
        # Each trampoline is written out whole: on this path a Python call is a large
        # share of the round trip.
        if self.function == "add":
            twos = SlotViews(2)
            two, make_two = twos.get, twos.view

            def add_request(env: int | None, caller: int, values: int, count: int) -> int:
                try:
                    a, b = next_request()
                    slots = two(values) or make_two(values)
                    a_ptr, b_ptr = slots[0].i32, slots[1].i32
                    memory = self._words
                    assert memory is not None
                    if not (0 <= a_ptr <= memory.limit and 0 <= b_ptr <= memory.limit) or (
                        (a_ptr | b_ptr) & 3
                    ):
                        # out of bounds, grown, or unaligned: the checked tier's rules, slowly
                        memory.store(a_ptr, a)
                        memory.store(b_ptr, b)
                    else:
                        words = memory.words
                        words[a_ptr >> 2] = a
                        words[b_ptr >> 2] = b
                except BaseException as exc:
                    failed(exc)
                    return host_failed()
                return 0

            self._define_raw(request, add_request)
        else:

            def cube_request(env: int | None, caller: int, values: int, count: int) -> int:
                try:
                    (one(values) or make_one(values))[0].i32 = next_request()[0]
                except BaseException as exc:
                    failed(exc)
                    return host_failed()
                return 0

            self._define_raw(request, cube_request)

        def answer(env: int | None, caller: int, values: int, count: int) -> int:
            try:
                respond((one(values) or make_one(values))[0].i32)
            except BaseException as exc:
                failed(exc)
                return host_failed()
            return 0

        self._define_raw(response, answer)

    def _define_raw(
        self, name: str, trampoline: Callable[[int | None, int, int, int], int]
    ) -> None:
        signature = CONDUITS[self.function][name]
        callback = define_import(
            self.linker, CONDUIT_MODULE, name, _functype(signature), trampoline
        )
        self._callbacks.append(callback)


class ThreadPath(ImportedPath):
    """The seed's conduit: the guest loop on its own thread, fed through two queues."""

    approach = "imported-thread"

    def before_launch(self) -> None:
        """Queue the stop sentinel: a start function asking for work unwinds at once."""
        self._requests: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._requests.put(None)
        self._responses: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._expecting = False

    def launch(self) -> None:
        """Start the guest loop on its own thread; it blocks in its first request."""
        self._requests = queue.SimpleQueue()
        self.launched = True
        self._thread = threading.Thread(target=self._serve, name=f"wasmcmp guest {self.name}")
        self._thread.daemon = True
        self._thread.start()

    def _serve(self) -> None:
        if not self.run_guest():
            self._responses.put(_FAILED)

    def next_request(self) -> tuple[int, ...]:
        """Return the next operands, blocking until the host puts them."""
        item: tuple[int, ...] | None = self._requests.get()
        if item is None:
            raise ConduitStop
        self._expecting = True
        return item

    def respond(self, result: int) -> None:
        """Put the guest's answer on the response queue."""
        if not self._expecting:
            raise self.out_of_turn(f"{self.function}_response", "answered without a request")
        self._expecting = False
        self._responses.put(result)

    def call(self, *args: int) -> int:
        """Return the guest's answer for one call, within the timeout."""
        self.check_open()
        self._requests.put(args)
        try:
            result: int = self._responses.get(True, self.timeout)
        except queue.Empty:
            raise self._hung(args) from None
        if result is _FAILED:
            raise self.guest_failure(args)
        return result

    def timed(self, loops: int, args: tuple[int, ...]) -> float:
        """Return the seconds that ``loops`` calls with ``args`` took (one timed batch)."""
        self.check_open()
        put, get, timeout, failed = self._requests.put, self._responses.get, self.timeout, _FAILED
        perf_counter = time.perf_counter
        result = None
        try:
            start = perf_counter()
            for _ in range(loops):
                put(args)
                result = get(True, timeout)
                if result is failed:
                    break
            elapsed = perf_counter() - start
        except queue.Empty:
            raise self._hung(args) from None
        if result is failed:
            raise self.guest_failure(args)
        return elapsed

    def _hung(self, args: tuple[int, ...]) -> WasmcmpError:
        # The guest may be spinning in wasm (the epoch stops it) or blocked in an import
        # (the stop sentinel unwinds it); close() then joins its thread.
        self.watchdog.interrupt()
        self._requests.put(None)
        return self.failure(TimeoutError(), args)

    def close(self) -> None:
        """Stop the guest loop and join its thread; safe to call twice."""
        if self.closed:
            return
        thread = getattr(self, "_thread", None)
        if thread is not None:
            # The sentinel unwinds a guest waiting for work; the interrupt stops one still
            # running (spinning in wasm, or sleeping in WASI, which the alarm wakes).
            self._requests.put(None)
            self.watchdog.interrupt()
            thread.join(self.timeout)
            if thread.is_alive():
                self.abandon()
                raise GuestTimeout(
                    f"{self.name}: the guest thread did not stop within {self.timeout:g} s of "
                    "closing; it is blocked where neither the deadline nor the conduit reach"
                )
        super().close()


class GreenletPath(ImportedPath):
    """No OS thread: the guest runs as a greenlet that the caller switches into."""

    approach = "imported-greenlet"
    exclusive = True

    def before_launch(self) -> None:
        """Leave no answer slot: a start function asking for work is refused at once."""
        self._result: Any = _MISSING

    def launch(self) -> None:
        """Start the guest greenlet; it runs until its first request switches back."""
        if self._result is not _MISSING:  # the start function answered: refuse it now
            raise self.out_of_turn(f"{self.function}_response", "answered without a request")
        self.launched = True
        self._result = None
        self._host = greenlet.getcurrent()
        self._guest = greenlet.greenlet(self._serve)
        self.watchdog.arm()
        try:
            first = self._guest.switch()
        finally:
            self.watchdog.disarm()
        if first is _FAILED:
            raise self.guest_failure(())

    def _serve(self) -> Any:
        return None if self.run_guest() else _FAILED

    def next_request(self) -> tuple[int, ...]:
        """Switch to the caller with the last answer; return the operands it sends back."""
        result = self._result
        if result is _MISSING:
            raise self.out_of_turn(f"{self.function}_request", "asked for work before answering")
        self._result = _MISSING
        item: tuple[int, ...] = self._host.switch(result)
        return item

    def respond(self, result: int) -> None:
        """Keep the guest's answer for the switch back to the caller."""
        if self._result is not _MISSING:
            raise self.out_of_turn(f"{self.function}_response", "answered without a request")
        self._result = result

    def call(self, *args: int) -> int:
        """Return the guest's answer for one call, within the timeout."""
        self.check_open()
        self.watchdog.arm()
        try:
            result: int = self._guest.switch(args)
        finally:
            self.watchdog.disarm()
        if result is _FAILED:
            raise self.guest_failure(args)
        return result

    def timed(self, loops: int, args: tuple[int, ...]) -> float:
        """Return the seconds that ``loops`` calls with ``args`` took (one timed batch)."""
        self.check_open()
        switch, failed = self._guest.switch, _FAILED
        perf_counter = time.perf_counter
        result = None
        self.watchdog.arm()
        try:
            start = perf_counter()
            for _ in range(loops):
                result = switch(args)
                if result is failed:
                    break
            elapsed = perf_counter() - start
        finally:
            self.watchdog.disarm()
        if result is failed:
            raise self.guest_failure(args)
        return elapsed

    def close(self) -> None:
        """Unwind the guest greenlet; safe to call twice."""
        if self.closed:
            return
        guest = getattr(self, "_guest", None)
        try:
            if guest is not None and not guest.dead:
                guest.throw(ConduitStop)
        finally:
            super().close()
