"""The wheel carries the guests, so installing wasmcmp needs no Go toolchain."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (built,) = out.glob("wasmcmp-*.whl")
    return built


def test_wheel_carries_every_guest_module_and_the_console_script(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for role in ("exported", "imported_add", "imported_cube"):
        assert f"wasmcmp/_guests/go/{role}.wasm" in names
        assert f"wasmcmp/_guests/wat/{role}.wat" in names
    assert "wasmcmp/paths/unchecked.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "wasmcmp = wasmcmp.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_finds_its_guests_and_answers(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site-packages"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    probe = (
        "import wasmcmp.guests as g, wasmcmp.cases as c;"
        "print(g.guests_dir().name);"
        "p = c.Case('go', 'exported', 'cube', 'unchecked').open(); print(p.call(2000)); p.close()"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["_guests", "-589934592"]
