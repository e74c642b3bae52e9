"""The static site: results in, a folder of pages out, as asv's publish is split.

- ``build``: orchestrates: index, steps, pages, folder.
- ``index``: every measurement by case, series and commit, built once and then only read.
- ``steps``: asv's step detection over every history, in worker processes, with a cache.
- ``charts`` and ``tables``: what charts and table rows show, shared by the pages.
- ``pages/``: one module per page, each declaring its title, place in the nav and template.
- ``folder``: the Jinja2 environment over the top-level ``site/`` templates, the atomic swap.
"""

from wasmcmp.publish.build import SiteReport, build_site
from wasmcmp.publish.folder import templates_dir
from wasmcmp.publish.steps import DEFAULT_REGRESSION_THRESHOLD, MARKER

__all__ = ["DEFAULT_REGRESSION_THRESHOLD", "MARKER", "SiteReport", "build_site", "templates_dir"]
