"""Build the site: index the results, detect steps, render every page, write the folder."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

import wasmcmp
from wasmcmp.compare import Comparison
from wasmcmp.errors import SiteError
from wasmcmp.publish import folder as site_folder
from wasmcmp.publish.index import Index, build_index
from wasmcmp.publish.pages import Context, Page, discover
from wasmcmp.publish.steps import read_cache, regressions
from wasmcmp.publish.tables import regression_rows
from wasmcmp.results.asv import AsvResults
from wasmcmp.results.config import AsvConfig
from wasmcmp.results.model import Run
from wasmcmp.results.order import CommitOrder
from wasmcmp.results.study import DetectionStudy


@dataclass(frozen=True)
class SiteReport:
    """What a build wrote and what it left out."""

    out: Path
    pages: tuple[Path, ...]
    cases: int
    commits: int
    series: int
    regressions: int
    #: result files left out, each with the reason (also listed on the machines page)
    skipped: tuple[tuple[Path, str], ...] = ()
    seconds: float = 0.0


def build_site(
    out: Path,
    results: Sequence[AsvResults] = (),
    runs: Sequence[Run] = (),
    *,
    config: AsvConfig | None = None,
    comparison: Comparison | None = None,
    title: str | None = None,
    force: bool = False,
    order: CommitOrder | None = None,
    study: DetectionStudy | None = None,
) -> SiteReport:
    """Return what was written after building the static site for these results into ``out``.

    ``results`` are asv result folders (see ``results.read_asv``), ``runs`` pyperf runs (see
    ``results.read_pyperf``). ``config`` names the project and links commits when the
    folders carry no asv.conf.json of their own. With ``comparison`` (``compare.compare``),
    a page shows base against head. ``order`` (``results.find_commit_order``) puts commits in
    git order, as asv does; without it they go by date, and the pages say so. With ``study``
    (``results.study.read_study``), a trust page shows its false alarms and detection rates.
    The site is written to a temporary sibling folder and renamed into place: if anything
    fails, a previous site at ``out`` is left untouched. A folder holding files a build did
    not write is refused unless ``force`` (GitHub Pages' ``CNAME`` is kept); a link is followed.
    """
    started = time.perf_counter()
    out = site_folder.check_out(Path(out), force=force)
    conf = config or next((r.config for r in results if r.config.source), AsvConfig())
    index = build_index(results, runs, conf, order)
    if not index.history:
        where = ", ".join(str(r.folder) for r in results) or "the given files"
        raise SiteError(
            f"no measurements in {where}; check --results points at an asv results folder "
            "(with machine folders inside) or pass --pyperf files"
        )
    skipped = tuple(s for r in results for s in r.skipped)
    templates = site_folder.templates_dir()
    env = site_folder.environment(templates)
    found, steps = regressions(index, conf, read_cache(out) if out.is_dir() else {})
    context = Context(
        index=index,
        config=conf,
        regressions=found,
        regression_rows=regression_rows(index, found),
        comparison=comparison,
        skipped=skipped,
        outdated=sum(r.outdated for r in results),
        study=study,
    )
    pages = [page for page in discover() if page.applies(context)]
    common = _common(index, conf, pages, title or conf.project or "wasmcmp")

    def write_pages(tmp: Path) -> list[str]:
        return _render_pages(tmp, env, pages, context, common)

    written = site_folder.write_folder(out, templates, write_pages, steps)
    return SiteReport(
        out=out,
        pages=tuple(out / p for p in written),
        cases=len(index.history),
        commits=len(index.commits),
        series=len(index.series),
        regressions=len(found),
        skipped=skipped,
        seconds=time.perf_counter() - started,
    )


def _common(index: Index, config: AsvConfig, pages: Sequence[Page], project: str) -> dict[str, Any]:
    """Return what every page's template is given: the project, the nav, the span of time."""
    dated = [c.date for c in index.commits if c.date]
    url = config.project_url
    return {
        "project": project,
        "project_url": url if url and url.startswith(("https://", "http://")) else None,
        "nav": [(page.path, page.title) for page in pages],
        "series": index.series,
        "generated": datetime.now(UTC),
        "version": wasmcmp.__version__,
        "first_date": min(dated) if dated else None,
        "last_date": max(dated) if dated else None,
        "n_commits": len(index.commits),
        "n_cases": len(index.history),
    }


def _render_pages(
    tmp: Path,
    env: jinja2.Environment,
    pages: Sequence[Page],
    context: Context,
    common: dict[str, Any],
) -> list[str]:
    written: list[str] = []
    for page in pages:
        for rendered in page.render(context):
            values = {"title": page.title, **common, **rendered.context}
            html = env.get_template(rendered.template).render(
                root="../" * rendered.path.count("/"), current=rendered.path, **values
            )
            target = tmp / rendered.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, encoding="utf-8")
            written.append(rendered.path)
    return written


__all__ = ["SiteReport", "build_site"]
