"""The house reads as the data flow: no module imports one downstream of it, none grows past
what a reader holds in mind, and only ``names`` takes a case name apart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "wasmcmp"

#: each stage, left to right; a module may import only its own stage or one to its left
STAGES = (
    ("errors",),
    ("names",),
    ("format",),
    ("guests", "own_guests"),
    ("paths",),
    ("cases",),
    ("measure", "instructions", "instructions_worker"),
    ("results",),
    ("compare",),
    ("report", "publish"),
    ("cli", "__main__"),
)
RANK = {name: i for i, stage in enumerate(STAGES) for name in stage}
MODULE_LINES = 450


def _stage(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _modules() -> list[Path]:
    return sorted(
        p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE
    )


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wasmcmp."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.ImportFrom) and node.module == "wasmcmp":
            found.update(alias.name for alias in node.names if alias.name in RANK)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("wasmcmp."))
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_one_downstream_of_it(path: Path) -> None:
    stage = _stage(path)
    assert stage in RANK, f"{stage}: place the new module in STAGES"
    downstream = {m for m in _imports(path) if RANK.get(m, -1) > RANK[stage]}
    assert not downstream, f"{path.name} ({stage}) imports {sorted(downstream)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_longer_than_a_reader_holds(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MODULE_LINES


def test_only_names_takes_a_case_name_apart() -> None:
    offenders = [
        p.relative_to(PACKAGE)
        for p in PACKAGE.rglob("*.py")
        if p.name != "names.py" and 'split("/")' in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
