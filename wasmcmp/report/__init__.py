"""What people read: the seed-style table of a run, and a Comparison in every form.

- ``run``: one run as the seed showed it, on a terminal and in Markdown.
- ``comparison``: base against head as a terminal table, the pull request comment and the
  step summary; ``data``: the same as JSON and as step outputs.
- ``markdown``: the escaping every renderer shares; names from results are untrusted.
"""

from wasmcmp.report.comparison import (
    COMMENT_LIMIT,
    COMMENT_MARKER,
    headline,
    method,
    render_comment,
    render_summary,
    render_terminal,
)
from wasmcmp.report.data import JSON_FORMAT, comparison_json, github_outputs, render_json
from wasmcmp.report.run import run_markdown, run_table

__all__ = [
    "COMMENT_LIMIT",
    "COMMENT_MARKER",
    "JSON_FORMAT",
    "comparison_json",
    "github_outputs",
    "headline",
    "method",
    "render_comment",
    "render_json",
    "render_summary",
    "render_terminal",
    "run_markdown",
    "run_table",
]
