"""Write the site's folder: the Jinja2 environment over ``site/``, assets, the marker, and the
atomic swap that leaves a previous site untouched when a build fails."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

import wasmcmp
from wasmcmp import format as fmt
from wasmcmp.errors import SiteError
from wasmcmp.publish.steps import MARKER, cache_version


def templates_dir() -> Path:
    """Return the folder holding the site's templates and assets (wheel or source tree)."""
    packaged = Path(wasmcmp.__file__).parent / "_site"
    if packaged.is_dir():
        return packaged
    return Path(wasmcmp.__file__).resolve().parent.parent / "site"


def environment(folder: Path) -> jinja2.Environment:
    """Return the Jinja2 environment of the templates in ``folder``: autoescaped, strict."""
    if not (folder / "templates" / "base.html").is_file():
        raise SiteError(
            f"{folder}: the site templates are missing; reinstall wasmcmp or run from a checkout"
        )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "separators": (",", ":")}
    env.filters["num"] = fmt.number
    env.filters["date"] = _date_text
    env.filters["day"] = _day_text
    return env


def _date_text(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _day_text(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d") if value else "—"


def check_out(out: Path) -> None:
    """Raise SiteError unless ``out`` may receive a site: new, empty, or a previous site."""
    if not out.parent.is_dir():
        raise SiteError(f"{out.parent}: no such folder to write the site into; create it first")
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise SiteError(
            f"{out}: folder is not empty and was not written by `wasmcmp site`; "
            "choose a new or empty --out so nothing of yours is replaced"
        )


#: writes the pages into the folder it is given; returns their paths, relative to it
PageWriter = Callable[[Path], list[str]]


def write_folder(
    out: Path, folder: Path, write_pages: PageWriter, steps: Mapping[str, Any]
) -> list[str]:
    """Return the pages written into ``out``: pages, assets and marker go into a temporary
    sibling first, which then replaces ``out`` in one rename."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    # mkdtemp makes the folder private (0700); the site it becomes must be readable by the
    # web server and by GitHub Pages, like any folder made under the user's umask.
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    try:
        pages = write_pages(tmp)
        for sub in ("assets", "vendor"):
            shutil.copytree(folder / sub, tmp / sub)
        (tmp / ".nojekyll").write_text("")
        # asv's step detection is the slow part of a build: keep its answers per history
        marker = {
            "written by": f"wasmcmp {wasmcmp.__version__}",
            "cache": cache_version(),
            "steps": steps,
        }
        (tmp / MARKER).write_text(json.dumps(marker, separators=(",", ":")), encoding="utf-8")
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return pages


def _swap_into_place(tmp: Path, out: Path) -> None:
    if not out.exists():
        tmp.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    old.rmdir()
    out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


__all__ = ["PageWriter", "check_out", "environment", "templates_dir", "write_folder"]
