"""Regressions: the lasting steps asv's step detection finds in every history, newest first."""

from __future__ import annotations

from collections.abc import Iterable

from wasmcmp.publish.pages import Context, Page, Rendered
from wasmcmp.publish.steps import DEFAULT_REGRESSION_THRESHOLD


def render(context: Context) -> Iterable[Rendered]:
    """Return the regressions page."""
    yield Rendered(
        "regressions.html",
        "regressions.html",
        {
            "regressions": context.regression_rows,
            "threshold": DEFAULT_REGRESSION_THRESHOLD,
            "thresholds": sorted(context.config.regressions_thresholds.items()),
            "order": context.index.order,
            "off_history": context.index.off_history,
        },
    )


PAGE = Page(title="Regressions", order=40, path="regressions.html", render=render)
