"""A Comparison as data: the JSON document and the step outputs a workflow reads."""

from __future__ import annotations

import json
import math
from typing import Any

from wasmcmp.compare import CI_OVERLAP, CORRECTION, MANN_WHITNEY_U, Comparison, Verdict
from wasmcmp.report.comparison import crossing_values, headline
from wasmcmp.results.model import Measurement, Run

#: Version of the JSON document ``render_json`` writes.
JSON_FORMAT = 1


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _measurement_json(m: Measurement | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "value": _finite(m.value),
        "ci_low": _finite(m.ci_low),
        "ci_high": _finite(m.ci_high),
        "unit": m.unit,
        "samples": len(m.samples),
    }


def _run_json(run: Run) -> dict[str, Any]:
    return {
        "source": str(run.source),
        "commit": run.commit,
        "machine": run.machine,
        "env": run.env,
        "python": run.python,
        "date": run.date.isoformat() if run.date else None,
    }


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    """Return the comparison as plain JSON-ready data (non-finite numbers become null)."""
    c = comparison
    return {
        "format": JSON_FORMAT,
        "verdict": c.verdict.value,
        "headline": headline(c),
        "counts": {v.value: n for v, n in c.counts.items()},
        "blocking": len(c.blocking),
        "test": {
            "name": MANN_WHITNEY_U,
            "alternative": "two-sided",
            "level": c.level,
            "unit": "one mean per pyperf worker process (asv: one sample per process)",
            "correction": CORRECTION,
            "fallback": CI_OVERLAP,
        },
        "factors": {
            "default": c.factors.default,
            "rules": [{"pattern": r.pattern, "factor": r.factor} for r in c.factors.rules],
        },
        "base": _run_json(c.base),
        "head": _run_json(c.head),
        "cases": [
            {
                "case": x.case,
                "verdict": x.verdict.value,
                "ratio": _finite(x.ratio),
                "factor": x.factor,
                "test": x.significance.test if x.significance else None,
                "p_value": x.significance.p_value if x.significance else None,
                "significant": x.significance.significant if x.significance else None,
                "base": _measurement_json(x.base),
                "head": _measurement_json(x.head),
            }
            for x in c.cases
        ],
        "crossings": [
            {
                "imported": x.imported,
                "exported": x.exported,
                "base": _finite(crossing_values(x)[0]),
                "head": _finite(crossing_values(x)[1]),
            }
            for x in c.crossings
        ],
    }


def render_json(comparison: Comparison) -> str:
    """Return the comparison as an indented JSON document."""
    document = comparison_json(comparison)
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def github_outputs(comparison: Comparison) -> dict[str, str]:
    """Return the step outputs for ``$GITHUB_OUTPUT``: verdict and counts, one line each."""
    c = comparison
    return {
        "verdict": c.verdict.value,
        "regressions": str(c.regressions),
        "failed": str(c.count(Verdict.FAILED)),
        "improved": str(c.count(Verdict.IMPROVED)),
        "blocking": str(len(c.blocking)),
    }


__all__ = ["JSON_FORMAT", "comparison_json", "github_outputs", "render_json"]
