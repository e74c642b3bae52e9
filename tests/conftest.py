"""Fixtures shared by the tests: the fixture guests and a thread-leak check."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from wasmcmp.guests import Guest

FIXTURE_GUESTS = Path(__file__).parent / "guests"
REPO = Path(__file__).resolve().parent.parent
#: real asv results of another project, kept beside the repository (see ../shared/README.md)
DJANGO = REPO.parent / "shared" / "asv-results" / "django"


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


def git(repo: Path, *args: str) -> str:
    """Run git in repo with a fixed identity; return its output."""
    done = subprocess.run(
        ["git", "-c", "user.name=wasmcmp", "-c", "user.email=test@wasmcmp.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def clone_project(dest: Path) -> Path:
    """Return a new git repository at dest holding this project's files (tracked and not
    ignored, as they are in the working tree), committed once on main."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "base")
    return dest


def commit_slowdown(repo: Path, iterations: int = 30000) -> str:
    """Commit real extra work in the thread conduit's response handler; return the commit.

    The thread conduit is the noisiest path (its OS thread handoff varies by tens of
    microseconds), so the work is large enough to be unmistakable in a few samples.
    """
    source = repo / "wasmcmp" / "paths" / "imported.py"
    text = source.read_text()
    anchor = "        self._expecting = False\n        self._responses.put(result)\n"
    assert anchor in text, "the thread conduit's respond() changed: update this helper"
    slowed = anchor.replace(
        "        self._responses.put(result)\n",
        f"        for _ in range({iterations}):\n            pass\n"
        "        self._responses.put(result)\n",
    )
    source.write_text(text.replace(anchor, slowed))
    git(repo, "commit", "-qam", "slow the thread conduit")
    return git(repo, "rev-parse", "HEAD")


def commit_greenlet_work(repo: Path, statements: int) -> str:
    """Commit a little real work in the greenlet conduit's response handler, ``statements``
    integer additions (a few hundred instructions per call); return the commit."""
    source = repo / "wasmcmp" / "paths" / "imported.py"
    text = source.read_text()
    anchor = (
        '            raise self.out_of_turn(f"{self.function}_response", '
        '"answered without a request")\n'
        "        self._result = result\n"
    )
    assert text.count(anchor) == 1, "the greenlet conduit's respond() changed: update this helper"
    work = "        _ = result + 1\n" * statements
    source.write_text(
        text.replace(anchor, anchor.replace("        self._result", work + "        self._result"))
    )
    git(repo, "commit", "-qam", "a little more work in the greenlet conduit")
    return git(repo, "rev-parse", "HEAD")


def descendants(pid: int) -> set[int]:
    """Return every process below ``pid``, read from /proc."""
    found: set[int] = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            child = int(stat.parent.name)
            found |= {child, *descendants(child)}
    return found


def alive(pid: int) -> bool:
    """Return whether a process runs (an orphan's zombie waits for a reaper, but runs nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
