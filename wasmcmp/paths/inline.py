"""The imported-inline call path: the same guest loop, with no hand-off at all.

The host's work runs inside the conduit imports. A run of ``loops`` calls enters the guest's
``_start``; its request import hands out the operands directly and its response import keeps
the answer, so each round trip is two wasm-to-host crossings and nothing else. The
request after the ``loops``-th raises ``ConduitStop``, which unwinds the loop.

A guest whose loop was unwound cannot be entered again (Go's runtime would start over on
memory it already set up), so every run after the first gets a fresh store and instance,
made before the run. The clock runs inside the imports: from the first request to the
request after the last answer, so neither instantiation, nor the runtime's start-up before
the loop asks for work, nor the unwinding is timed; the batch is exactly ``loops`` round
trips.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from wasmcmp.paths.imported import ConduitStop, ImportedPath

#: the answer slot before the guest answered
_MISSING: Any = object()


class InlinePath(ImportedPath):
    """The guest loop runs inside the call; its imports do the host's work directly."""

    approach = "imported-inline"

    def before_launch(self) -> None:
        """Serve no requests: a start function asking for work is refused at once."""
        self._args: tuple[int, ...] = ()
        self._loops = 0
        self._served = 0
        self._expecting = False
        self._answer: Any = _MISSING
        self._started = self._stopped = 0.0
        #: whether the instance's loop was unwound, so the next run needs a fresh one
        self._spent = False

    def launch(self) -> None:
        """Mark the guest ready; its loop runs only inside a call or a timed batch."""
        self.launched = True

    def next_request(self) -> tuple[int, ...]:
        """Return the operands of the next round trip; raise ConduitStop after the last."""
        if self._expecting:
            raise self.out_of_turn(f"{self.function}_request", "asked for work before answering")
        served = self._served + 1
        if served > self._loops:
            self._stopped = perf_counter()
            raise ConduitStop
        if served == 1:
            self._started = perf_counter()
        self._served = served
        self._expecting = True
        return self._args

    def respond(self, result: int) -> None:
        """Keep the guest's answer."""
        if not self._expecting:
            raise self.out_of_turn(f"{self.function}_response", "answered without a request")
        self._expecting = False
        self._answer = result

    def call(self, *args: int) -> int:
        """Return the guest's answer for one call, within the timeout."""
        self._run(1, args)
        answer: int = self._answer
        return answer

    def timed(self, loops: int, args: tuple[int, ...]) -> float:
        """Return the seconds that ``loops`` calls with ``args`` took (one timed batch)."""
        self._run(loops, args)
        return self._stopped - self._started if loops > 0 else 0.0

    def ready(self, args: tuple[int, ...]) -> None:
        """Make the fresh instance the next run needs now, rather than inside that run."""
        self.check_open()
        if self._spent:
            self._renew(args)

    def _run(self, loops: int, args: tuple[int, ...]) -> None:
        """Run the guest loop for ``loops`` round trips, then unwind it; raise its failure."""
        self.check_open()
        if self._spent:
            self._renew(args)
        self._args, self._loops, self._served = args, loops, 0
        self._expecting, self._answer, self.error = False, _MISSING, None
        self._spent = True
        self.watchdog.arm()
        try:
            stopped = self.run_guest()
        finally:
            self.watchdog.disarm()
        if not stopped:
            raise self.guest_failure(args)

    def _renew(self, args: tuple[int, ...]) -> None:
        """Replace the spent instance with a fresh one in a fresh store."""
        spent = self.store
        self.store = self.new_store()
        spent.close()
        try:
            self.instantiate_guest()
        except Exception as exc:
            raise self.failure(exc, args, during=self.instantiating()) from exc
        self._spent = False
