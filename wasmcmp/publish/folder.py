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


#: files a user may add to a published site (GitHub Pages' custom domain), kept across builds
KEPT = ("CNAME",)


def check_out(out: Path, *, force: bool = False) -> Path:
    """Return the folder the site goes into (a link followed), after checking that replacing
    it loses nothing: it is new, empty, or a site whose manifest lists every file in it.

    With ``force``, a folder holding other files is replaced all the same (they are deleted).
    """
    if out.is_symlink():
        target = out.resolve()
        if not target.is_dir():
            raise SiteError(f"{out}: a link to {target}, which is not a folder; fix or remove it")
        out = target
    if not out.parent.is_dir():
        raise SiteError(f"{out.parent}: no such folder to write the site into; create it first")
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out}: exists and is not a folder; choose another --out")
    if force or not out.is_dir() or not any(out.iterdir()):
        return out
    written = written_files(out)
    if written is None:
        raise SiteError(
            f"{out}: folder is not empty and was not written by `wasmcmp site` (no manifest in "
            f"{MARKER}); choose a new or empty --out so nothing of yours is replaced, or pass "
            "--force to replace it and delete what it holds"
        )
    foreign = sorted(
        str(path.relative_to(out))
        for path in out.rglob("*")
        if not path.is_dir()
        and str(path.relative_to(out)) not in written
        and path.name not in (MARKER, ".nojekyll", *KEPT)
    )
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise SiteError(
            f"{out}: holds files `wasmcmp site` did not write ({shown}); move them out of "
            "--out, or pass --force to delete them with the old site"
        )
    return out


def written_files(out: Path) -> frozenset[str] | None:
    """Return the files a previous build's manifest lists, or None if there is no manifest."""
    try:
        data = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not str(data.get("written by", "")).startswith("wasmcmp "):
        return None
    files = data.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return frozenset(files)


#: writes the pages into the folder it is given; returns their paths, relative to it
PageWriter = Callable[[Path], list[str]]


def write_folder(
    out: Path, folder: Path, write_pages: PageWriter, steps: Mapping[str, Any]
) -> list[str]:
    """Return the pages written into ``out``: pages, assets and marker go into a temporary
    sibling first, which then replaces ``out`` in one rename (``check_out`` said it may)."""
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
        files = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
        for name in KEPT:
            if (out / name).is_file() and not (tmp / name).exists():
                shutil.copy2(out / name, tmp / name)
        marker = {
            "written by": f"wasmcmp {wasmcmp.__version__}",
            # what a later build may replace: every file this one wrote, and nothing else
            "files": files,
            # asv's step detection is the slow part of a build: keep its answers per history
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


__all__ = [
    "KEPT",
    "PageWriter",
    "check_out",
    "environment",
    "templates_dir",
    "write_folder",
    "written_files",
]
