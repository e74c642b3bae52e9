"""The site's pages, one module each, found and ordered here.

A page module defines ``PAGE``: its title, its place in the navigation, the file the nav
links to, whether it applies to this build, and a ``render`` that returns the files it writes
(template and context each). Adding a page is one module here and one template in
``site/templates``; no other page changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wasmcmp.compare import Comparison
from wasmcmp.publish.index import Index
from wasmcmp.publish.steps import Regression
from wasmcmp.publish.tables import RegressionRow
from wasmcmp.results.config import AsvConfig
from wasmcmp.results.study import DetectionStudy


@dataclass(frozen=True)
class Context:
    """What every page may read: the index and what the build found in it."""

    index: Index
    config: AsvConfig
    regressions: Sequence[Regression]
    #: the same regressions as table rows, newest first
    regression_rows: Sequence[RegressionRow]
    comparison: Comparison | None = None
    #: result files left out, each with the reason
    skipped: Sequence[tuple[Path, str]] = ()
    #: measurements of benchmarks whose code changed since (asv publish leaves these out too)
    outdated: int = 0
    #: a detection study's comparisons, for the trust page
    study: DetectionStudy | None = None


@dataclass(frozen=True)
class Rendered:
    """One file a page writes: where, from which template, with what."""

    path: str
    template: str
    context: Mapping[str, Any]


@dataclass(frozen=True)
class Page:
    """A page of the site: its place in the nav and how it is rendered."""

    title: str
    #: where it stands in the navigation, lowest first
    order: int
    #: the file the navigation links to
    path: str
    render: Callable[[Context], Iterable[Rendered]]
    applies: Callable[[Context], bool] = lambda context: True


def discover() -> list[Page]:
    """Return every page module's ``PAGE``, in navigation order."""
    found: list[Page] = []
    for module in pkgutil.iter_modules(__path__):
        page = getattr(importlib.import_module(f"{__name__}.{module.name}"), "PAGE", None)
        if isinstance(page, Page):
            found.append(page)
    return sorted(found, key=lambda p: (p.order, p.path))


__all__ = ["Context", "Page", "Rendered", "discover"]
