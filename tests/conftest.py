"""Fixtures shared by the tests: the fixture guests and a thread-leak check."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from wasmcmp.guests import Guest

FIXTURE_GUESTS = Path(__file__).parent / "guests"
REPO = Path(__file__).resolve().parent.parent


def fixture_guest(name: str) -> Guest:
    """Return one of the misbehaving guests under tests/guests."""
    return Guest(name, FIXTURE_GUESTS / name)


@pytest.fixture
def no_leaked_threads() -> Iterator[None]:
    """Fail the test if it leaves more threads running than it found."""
    before = {t.ident for t in threading.enumerate()}
    yield
    leaked = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not leaked, f"threads left running: {[t.name for t in leaked]}"
