"""Read what a project's ``asv.conf.json`` says: its name, commit links, thresholds."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wasmcmp.errors import ResultsError

#: what a commit hash looks like: only these become links
_HASH = re.compile(r"[0-9a-fA-F]{7,64}")


@dataclass(frozen=True)
class AsvConfig:
    """What ``asv.conf.json`` says about the project: its name and how to link a commit."""

    project: str = ""
    project_url: str | None = None
    show_commit_url: str | None = None
    #: benchmark name regex -> relative step size below which asv reports no regression
    regressions_thresholds: Mapping[str, float] = field(default_factory=dict)
    #: the branches asv follows, whose first-parent history orders the commits
    branches: tuple[str, ...] = ()
    source: Path | None = None

    def commit_url(self, commit: str) -> str | None:
        """Return the web address of a commit, or None if the project gives no http(s) one or
        the commit is not a hash (a result file's commit is untrusted text)."""
        base = self.show_commit_url
        if not base or not base.startswith(("https://", "http://")):
            return None
        if not _HASH.fullmatch(commit):
            return None
        return base + commit


def read_asv_config(path: Path) -> AsvConfig:
    """Return the project name, commit link and thresholds an ``asv.conf.json`` gives."""
    path = Path(path)
    data = _config_data(path)
    thresholds: dict[str, float] = {}
    raw = data.get("regressions_thresholds")
    if isinstance(raw, dict):
        for pattern, value in raw.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                thresholds[str(pattern)] = float(value)
    commit_url = data.get("show_commit_url")
    project_url = data.get("project_url")
    return AsvConfig(
        project=str(data.get("project") or ""),
        project_url=project_url if isinstance(project_url, str) else None,
        show_commit_url=commit_url if isinstance(commit_url, str) else None,
        regressions_thresholds=thresholds,
        branches=tuple(str(b) for b in data.get("branches") or () if isinstance(b, str)),
        source=path,
    )


def _config_data(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read the asv configuration ({exc})") from exc
    try:
        data = json.loads(text)
    except ValueError:
        import json5  # asv.conf.json may hold JavaScript comments, as asv itself allows

        try:
            data = json5.loads(text)
        except ValueError as exc:
            raise ResultsError(
                f"{path}: not a readable asv.conf.json ({exc}); fix it or leave out --config"
            ) from exc
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: asv.conf.json must hold a JSON object")
    return data


def find_asv_config(folder: Path) -> Path | None:
    # asv keeps results in "results" beside asv.conf.json unless results_dir says otherwise
    for candidate in (folder.parent, folder.parent.parent):
        conf = candidate / "asv.conf.json"
        if not conf.is_file():
            continue
        try:
            results_dir = _config_data(conf).get("results_dir", "results")
        except ResultsError:
            continue
        if (candidate / str(results_dir)).resolve() == folder.resolve():
            return conf
    return None


__all__ = ["AsvConfig", "find_asv_config", "read_asv_config"]
