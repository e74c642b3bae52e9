"""Read pyperf JSON files and asv result folders into one small data model.

- ``model``: ``Measurement`` (one case measured once) and ``Run`` (one commit or file on one
  machine and environment), frozen; nothing downstream touches raw JSON.
- ``pyperf``: a pyperf file, as ``wasmcmp run`` writes it.
- ``asv``: asv result folders of any project, with ``benchmarks.json`` and ``machine.json``;
  ``config``: the project's ``asv.conf.json``.
- ``order``: the commits' git order (first-parent history, or a list of commits).
- ``select``: pick one side of a comparison, a pyperf file or an asv commit.
"""

from wasmcmp.results.asv import ASV_RESULTS_VERSION, AsvBenchmark, AsvResults, read_asv
from wasmcmp.results.config import AsvConfig, read_asv_config
from wasmcmp.results.model import Measurement, Run, measurement_from_samples
from wasmcmp.results.order import CommitOrder, find_commit_order, read_commit_order
from wasmcmp.results.pyperf import read_pyperf
from wasmcmp.results.select import load_side, pick_side, select_run

__all__ = [
    "ASV_RESULTS_VERSION",
    "AsvBenchmark",
    "AsvConfig",
    "AsvResults",
    "CommitOrder",
    "Measurement",
    "Run",
    "find_commit_order",
    "load_side",
    "measurement_from_samples",
    "pick_side",
    "read_asv",
    "read_asv_config",
    "read_commit_order",
    "read_pyperf",
    "select_run",
]
