"""The versions matrix: its asv configuration, its real results and the Versions page.

The results are those of one real ``make versions`` run, kept in benchmarks/results/versions.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wasmcmp.format import TIMES
from wasmcmp.publish import build_site
from wasmcmp.publish.index import build_index
from wasmcmp.publish.pages.versions import version_key, version_sections
from wasmcmp.results import AsvConfig, read_asv

from .conftest import REPO
from .test_site import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, serve

VERSIONS_CONFIG = REPO / "asv.versions.conf.json"
RESULTS = REPO / "benchmarks" / "results" / "versions"


def _config(path: Path) -> Any:
    import asv.config

    return asv.config.Config.load(str(path))


def _matrix(conf: Any) -> list[dict[str, str]]:
    """Return every environment asv makes of a config, as {python, wasmtime}."""
    from asv.environment import iter_matrix

    envs = []
    for combination in iter_matrix(conf.environment_type, conf.pythons, conf):
        found = {name or kind: value for (kind, name), value in combination.items()}
        envs.append({"python": found["python"], "wasmtime": found.get("wasmtime", "")})
    return envs


# -- the configuration ----------------------------------------------------------------------------


def test_versions_config_spans_releases_at_one_python_and_pythons_at_the_newest() -> None:
    conf = _config(VERSIONS_CONFIG)
    envs = _matrix(conf)
    releases = sorted({e["wasmtime"] for e in envs}, key=version_key)
    first, newest = conf.pythons[0], releases[-1]
    assert len(releases) >= 4
    assert version_key(newest)[0] - version_key(releases[0])[0] >= 20  # about two years
    assert sorted(e["wasmtime"] for e in envs if e["python"] == first) == sorted(releases)
    for python in conf.pythons[1:]:
        assert [e["wasmtime"] for e in envs if e["python"] == python] == [newest]
    assert len(envs) == len(releases) + len(conf.pythons) - 1


def test_versions_results_are_kept_apart_and_the_default_run_stays_one_environment() -> None:
    versions, default = _config(VERSIONS_CONFIG), _config(REPO / "asv.conf.json")
    assert versions.results_dir != default.results_dir
    assert versions.env_dir != default.env_dir
    assert default.matrix == {}
    assert len(default.pythons) == 1
    assert len(_matrix(default)) == 1
    # the same project, built and installed the same way: only the environments differ
    for key in ("project", "repo", "build_command", "install_command", "benchmark_dir"):
        assert getattr(versions, key) == getattr(default, key), key


def test_every_release_in_the_matrix_is_one_pyproject_allows() -> None:
    from packaging.requirements import Requirement

    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    pin = Requirement(re.search(r'"(wasmtime[^"]*)"', pyproject).group(1))  # type: ignore[union-attr]
    for env in _matrix(_config(VERSIONS_CONFIG)):
        assert pin.specifier.contains(env["wasmtime"]), env


# -- the results of a real run --------------------------------------------------------------------


@pytest.fixture(scope="module")
def results() -> Any:
    if not (RESULTS / "benchmarks.json").is_file():
        pytest.fail(f"{RESULTS} holds no asv results: run `make versions` and copy them there")
    return read_asv(RESULTS, VERSIONS_CONFIG)


def _env_files() -> list[Path]:
    return sorted(p for p in RESULTS.glob("*/*.json") if p.name != "machine.json")


def test_each_environment_records_its_python_and_release(results: Any) -> None:
    envs = {run.env: run for run in results.runs}
    assert len(envs) == len(results.runs) == len(_matrix(_config(VERSIONS_CONFIG)))
    for name, run in envs.items():
        release = run.metadata["requirement:wasmtime"]
        assert name == f"virtualenv-py{run.python}-wasmtime{release}"
        assert len(run.measurements) >= 2, name


def test_the_history_keeps_one_series_per_environment(results: Any) -> None:
    index = build_index([results], [], results.config)
    assert sorted(s.env for s in index.series) == sorted(run.env for run in results.runs)
    for case, by_series in index.history.items():
        assert len(by_series) == len(index.series), case


def _raw(case: str, python: str, release: str) -> float:
    """Return a case's value straight from its environment's result file."""
    guest, approach, function, tier = case.partition("@")[0].split("/")
    benchmark = "track_instructions" if case.endswith("@instructions") else "track_call"
    (path,) = [p for p in _env_files() if p.stem.endswith(f"-py{python}-wasmtime{release}")]
    data = json.loads(path.read_text(encoding="utf-8"))
    # asv leaves a row's trailing empty columns (the profile) out
    row = dict(
        zip(
            data["result_columns"],
            data["results"][f"call_paths.CallPaths.{benchmark}"],
            strict=False,
        )
    )
    combos = [tuple(v.strip("'") for v in combo) for combo in itertools.product(*row["params"])]
    value: float = row["result"][combos.index((guest, approach, function, tier))]
    return value


def _env(axis: str, value: str, held: str) -> tuple[str, str]:
    """Return (python, release) of a value on an axis, the other held."""
    return (held, value) if axis == "wasmtime" else (value, held)


def test_the_page_lines_up_releases_and_pythons_with_ratios_to_the_newest(results: Any) -> None:
    index = build_index([results], [], results.config)
    sections = {s.axis.key: s for s in version_sections(index)}
    assert set(sections) == {"wasmtime", "python"}
    conf = _config(VERSIONS_CONFIG)
    releases = [v for v, _ in sections["wasmtime"].values]
    assert releases == sorted({e["wasmtime"] for e in _matrix(conf)}, key=version_key)
    assert [v for v, _ in sections["python"].values] == conf.pythons
    assert sections["wasmtime"].held == (f"Python {conf.pythons[0]}",)
    assert sections["python"].held == (f"wasmtime-py {releases[-1]}",)
    for key, section in sections.items():
        assert {b.metric for b in section.blocks} == {"time", "instructions"}
        for block in section.blocks:
            assert len(block.figures) == len(block.rows) == len(index.history) // 2
            for row in block.rows:
                assert row.cells[-1] is not None
                assert row.cells[-1].ratio == "newest"
                case = row.name.full
                values = [v for v, _ in section.values]
                held = section.held[0].split()[-1]
                newest = _raw(case, *_env(key, values[-1], held))
                for value, shown in zip(values[:-1], row.cells[:-1], strict=True):
                    assert shown is not None, (case, value)
                    expected = _raw(case, *_env(key, value, held)) / newest
                    assert shown.ratio == f"{expected:.2f}{TIMES}", (case, value)


def test_a_single_environment_has_no_versions_page(tmp_path: Path) -> None:
    one = tmp_path / "results"
    shutil.copy(RESULTS / "benchmarks.json", one.mkdir() or one / "benchmarks.json")
    newest = _env_files()[-1]
    (one / newest.parent.name).mkdir()
    shutil.copy(newest.parent / "machine.json", one / newest.parent.name)
    shutil.copy(newest, one / newest.parent.name)
    build_site(tmp_path / "site", [read_asv(one)], config=AsvConfig(project="wasmcmp"))
    assert not (tmp_path / "site" / "versions.html").exists()
    assert "versions.html" not in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


# -- the page in a browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the site `wasmcmp site` writes from the versions results, as make versions does."""
    out = tmp_path_factory.mktemp("versions") / "site"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "wasmcmp",
            "site",
            "--results",
            str(RESULTS),
            "--config",
            str(VERSIONS_CONFIG),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    with serve(str(site)) as address:
        yield address


def test_the_versions_page_in_chromium(server: str, results: Any) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: set WASMCMP_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(server + "index.html")
        page.click("nav >> text=Versions")
        page.wait_for_selector("html[data-ready]")
        assert page.url.endswith("/versions.html")
        sections = page.locator("section.versions")
        assert sections.count() == 2
        cases = len(
            {m.case.partition("@")[0] for r in results.runs for m in r.measurements.values()}
        )
        for axis, bars in (("wasmtime", 5), ("python", 3)):
            section = page.locator(f'section.versions[data-axis="{axis}"]')
            charts = section.locator("svg.bars")
            assert charts.count() == 2 * cases  # both metrics
            first = charts.nth(0)
            assert first.locator("g.bar rect").count() == bars
            # every bar but the newest carries its ratio to the newest, and an interval
            labels = first.locator("text.bar-label").all_text_contents()
            assert len(labels) == bars - 1
            assert all(t.endswith(TIMES) for t in labels)
            box = first.bounding_box()
            assert box is not None
            assert box["width"] > 100
            assert box["height"] > 100
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "site-versions.png"), full_page=True)
        # a case links to its history, which draws one line per environment
        page.locator("table.versions-table a").first.click()
        page.wait_for_selector("html[data-ready]")
        assert "/history/" in page.url
        legend = page.locator('[data-chart="0"] .legend button')
        assert legend.count() == len(results.runs)
        assert errors == []
        browser.close()


def test_make_versions_runs_the_matrix_once_per_python_and_writes_the_site() -> None:
    done = subprocess.run(
        ["make", "-n", "versions", "PYTHONS=3.11 3.12", "VERSION_CASES=wat/exported/add/*"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    conf = _config(VERSIONS_CONFIG)
    run = next(line for line in done.stdout.splitlines() if "asv run" in line)
    assert f"--config {VERSIONS_CONFIG.name}" in run
    assert "-E virtualenv:3.11 -E virtualenv:3.12" in done.stdout
    assert "'HEAD^!'" in done.stdout
    assert "'wat/exported/add/*'" in done.stdout
    assert f"wasmcmp site --results {conf.results_dir} --config {VERSIONS_CONFIG.name}" in (
        done.stdout
    )
