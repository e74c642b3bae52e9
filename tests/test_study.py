"""The detection study: its reader, the trust page built from it, `wasmcmp site --study`, and
the study script's resumable run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wasmcmp.errors import ResultsError
from wasmcmp.publish import build_site
from wasmcmp.results import read_pyperf
from wasmcmp.results.study import AA, AB, read_study

from .conftest import REPO
from .result_files import HOSTILE, write_pyperf
from .test_site import CHROMIUM, CHROMIUM_ARGS

SCRIPT = REPO / "benchmarks" / "detection_study.py"
SUBSET = ("wat/exported/add/checked", "wat/imported-greenlet/add/unchecked")


def outcome(case: str, verdict: str = "unchanged", ratio: float = 1.0) -> dict[str, Any]:
    return {"case": case, "verdict": verdict, "ratio": ratio, "p": 0.5, "significant": False}


def aa(repeat: int, load: bool, metric: str = "time", alarm: str | None = None) -> dict[str, Any]:
    """Return an A/A comparison of the subset; ``alarm`` names a case called regressed."""
    cases = [outcome(c, "regressed" if c == alarm else "unchanged") for c in SUBSET]
    return {
        "kind": AA,
        "metric": metric,
        "path": None,
        "case": None,
        "target": 0.0,
        "repeat": repeat,
        "load": load,
        "injected": 0,
        "achieved": None,
        "p": None,
        "verdict": "regressed" if alarm else "unchanged",
        "cases": cases,
        "seconds": 90.0,
        "load_seconds": 45.0 if load else 0.0,
        "loadavg": [1.0, 1.2],
        "finished": "2025-03-01T12:00:00+00:00",
    }


def ab(repeat: int, caught: bool, path: str, case: str, metric: str = "time") -> dict[str, Any]:
    """Return an A/B comparison with a 5% slowdown injected into ``path``."""
    verdict = "regressed" if caught else "unchanged"
    return {
        **aa(repeat, False, metric),
        "kind": AB,
        "path": path,
        "case": case,
        "target": 0.05,
        "injected": 12,
        "achieved": 1.06 if caught else 1.04,
        "p": 0.001,
        "verdict": verdict,
        "cases": [{**outcome(case, verdict, 1.05), "significant": caught}],
        "load_seconds": 0.0,
    }


def study_json(comparisons: list[dict[str, Any]], cpu: str = "AMD EPYC") -> dict[str, Any]:
    return {
        "format": "wasmcmp-detection-study",
        "version": 1,
        "machine": {"cpu": cpu, "cores": 2, "platform": "Linux-x86_64"},
        "python": "3.11.7",
        "wasmtime": "50.0.1",
        "wasmcmp": "0.1.0",
        "valgrind": None,
        "date": "2025-03-01T10:00:00+00:00",
        "updated": "2025-03-01T12:00:00+00:00",
        "method": {
            "effort": "default",
            "pyperf_args": ["--processes", "4", "--values", "3"],
            "rounds": 2,
            "instruction_repeats": 1,
            "factors": ["1.10", "*/imported-thread/*=1.50"],
            "instructions_factor": 1.01,
            "family_level": 0.01,
            "correction": "Holm",
            "test": "Mann-Whitney U",
            "cases": list(SUBSET),
            "full_cases": 24,
            "targets": {"time": [0.05, 0.1]},
            "aa_repeats": 4,
            "ab_repeats": 5,
            "load": "every other A/A repeat",
            "injection": "statements",
        },
        "calibrations": [
            {
                "metric": "time",
                "path": "exported-unchecked",
                "case": "wat/exported/add/unchecked",
                "per_call": 4.4e-7,
                "unit_cost": 2.1e-9,
                "unit": "seconds",
            }
        ],
        "comparisons": comparisons,
    }


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# -- the reader -----------------------------------------------------------------------------


def test_a_study_reads_into_its_comparisons(tmp_path: Path) -> None:
    comparisons = [aa(0, False), aa(0, True, alarm=SUBSET[1])]
    comparisons += [ab(i, i < 3, "imported-greenlet", SUBSET[1]) for i in range(5)]
    study = read_study(write(tmp_path / "study.json", study_json(comparisons)))
    assert (study.cpu, study.cores, study.method.full_cases) == ("AMD EPYC", 2, 24)
    assert study.method.factors == ("1.10", "*/imported-thread/*=1.50")
    assert [c.kind for c in study.comparisons] == [AA, AA] + [AB] * 5
    assert [c.false_alarms for c in study.comparisons[:2]] == [0, 1]
    assert [c.caught for c in study.comparisons[2:]] == [True] * 3 + [False] * 2
    assert study.comparisons[2].achieved == pytest.approx(1.06)
    assert study.calibrations[0].unit_cost == pytest.approx(2.1e-9)
    assert study.date is not None
    assert study.date.year == 2025


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["comparisons"][0].pop(key)


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["comparisons"][0].__setitem__(key, value)


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (lambda data: data.__setitem__("format", "pyperf"), "not a detection study"),
        (lambda data: data.__setitem__("version", 9), "version 9"),
        (lambda data: data.pop("machine"), "no 'machine'"),
        (_drop("verdict"), "comparison 1: no 'verdict'"),
        (_set("kind", "A/C"), "'kind' must be"),
        (_set("target", -0.1), "'target' must be a fraction"),
        (_set("load", "yes"), "'load' must be true or false"),
        (_set("repeat", 1.5), "'repeat' must be a whole number"),
        (_set("cases", {}), "'cases' must be a list"),
        (_set("cases", [7]), "case 1 must be an object"),
        (lambda data: data["method"].__setitem__("factors", [1.1]), "list of text"),
        (lambda data: data.__setitem__("date", "yesterday"), "ISO 8601"),
    ],
)
def test_a_malformed_study_is_an_error_naming_the_file_and_the_field(
    tmp_path: Path, spoil: Callable[[dict[str, Any]], None], said: str
) -> None:
    data = study_json([aa(0, False)])
    spoil(data)
    path = write(tmp_path / "study.json", data)
    with pytest.raises(ResultsError, match=re.escape(said)) as raised:
        read_study(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("text", ["", "{", "[1, 2]", "\xff"])
def test_a_study_that_is_not_json_is_an_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "study.json"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ResultsError, match=re.escape(str(path))):
        read_study(path)


def test_a_missing_study_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match=r"no such detection study.*detection_study\.py"):
        read_study(tmp_path / "absent.json")


# -- the trust page -------------------------------------------------------------------------


def _pyperf(folder: Path) -> Path:
    return write_pyperf(folder / "run.json", {SUBSET[0]: [2.5e-5, 2.6e-5, 2.4e-5]})


def _hostile_study(folder: Path) -> Path:
    comparisons = [aa(i // 2, i % 2 == 1, alarm=SUBSET[0] if i == 3 else None) for i in range(4)]
    comparisons += [aa(i, False, "instructions") for i in range(2)]
    comparisons += [ab(i, i < 3, "imported-greenlet", SUBSET[1]) for i in range(5)]
    # every name a study carries is untrusted
    comparisons += [ab(i, i == 0, HOSTILE[0], HOSTILE[1], metric=HOSTILE[2]) for i in range(2)]
    comparisons[0]["cases"][1]["case"] = HOSTILE[1]
    return write(folder / "study.json", study_json(comparisons, cpu=HOSTILE[0]))


def test_the_trust_page_counts_from_the_raw_comparisons(tmp_path: Path) -> None:
    study = read_study(_hostile_study(tmp_path))
    out = tmp_path / "site"
    build_site(out, runs=[read_pyperf(_pyperf(tmp_path))], study=study)
    html = (out / "trust.html").read_text()
    assert ">Trust</a>" in (out / "index.html").read_text()
    nav = re.findall(r'<nav aria-label="Pages">(.*?)</nav>', html, re.S)[0]
    assert nav.index("Regressions") < nav.index("Trust")

    def row(table: str, **attrs: str) -> str:
        body = re.findall(rf'<table id="{table}">(.*?)</table>', html, re.S)[0]
        marks = "".join(f' data-{k}="{v}"' for k, v in attrs.items())
        return re.findall(rf"<tr{marks}>(.*?)</tr>", body, re.S)[0]

    # time: 4 pull requests of 2 cases, one case called regressed (with load)
    assert "1 of 8" in row("alarm-rates", metric="time", load="all")
    assert "1 of 4" in row("alarm-rates", metric="time", load="all")
    assert "0 of 4" in row("alarm-rates", metric="time", load="no load")
    assert "1 of 4" in row("alarm-rates", metric="time", load="neighbour&#39;s load")
    assert "0 of 4" in row("alarm-rates", metric="instructions", load="no load")
    # 1 - (1 - 1/8)^24, the whole set's estimate
    assert f"{1 - (7 / 8) ** 24:.0%}" in row("alarm-rates", metric="time", load="all")
    greenlet = row("detection-rates", metric="time", path="imported-greenlet")
    assert "3 of 5" in greenlet
    assert "60%" in greenlet
    assert "+5%" in greenlet
    assert "+6.0%" in greenlet  # the median measured change
    chart = re.findall(r'<svg class="bars" id="detection-chart".*?</svg>', html, re.S)[0]
    assert chart.count('<g class="bar">') == 2
    assert ">3/5</text>" in chart
    assert ">1/2</text>" in chart
    assert "2.1 ns" in html  # a calibration
    assert "3.7% false positives" in html
    assert "2.66%" in html


def test_hostile_names_on_the_trust_page_are_escaped(tmp_path: Path) -> None:
    study = read_study(_hostile_study(tmp_path))
    out = tmp_path / "site"
    build_site(out, runs=[read_pyperf(_pyperf(tmp_path))], study=study)
    html = (out / "trust.html").read_text()
    for name in HOSTILE:
        assert name not in html
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    assert html.count("<script") == 1  # site.js, nothing else


def test_the_trust_page_loads_clean_in_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: see tests/test_site.py")
    from playwright.sync_api import sync_playwright

    out = tmp_path / "site"
    build_site(
        out, runs=[read_pyperf(_pyperf(tmp_path))], study=read_study(_hostile_study(tmp_path))
    )
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (errors.append(d.message), d.dismiss()))
        page.goto((out / "trust.html").as_uri())
        page.wait_for_selector("html[data-ready]")
        assert page.evaluate("window.__pwned") is None
        assert page.locator("#detection-chart .bar").count() == 2
        browser.close()
    assert errors == []


def test_no_study_no_trust_page(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(out, runs=[read_pyperf(_pyperf(tmp_path))])
    assert not (out / "trust.html").exists()
    assert "Trust" not in (out / "index.html").read_text()


# -- the command line -----------------------------------------------------------------------


def _wasmcmp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wasmcmp", *args], capture_output=True, text=True, timeout=300
    )


def test_site_with_a_study_writes_the_trust_page(tmp_path: Path) -> None:
    study = _hostile_study(tmp_path)
    done = _wasmcmp(
        "site",
        "--pyperf",
        str(_pyperf(tmp_path)),
        "--study",
        str(study),
        "--out",
        str(tmp_path / "site"),
    )
    assert done.returncode == 0, done.stderr
    assert "3 of 5" in (tmp_path / "site" / "trust.html").read_text()


@pytest.mark.parametrize("content", [None, "{}", '{"format": "wasmcmp-detection-study"}'])
def test_site_with_an_unusable_study_exits_2_naming_it(tmp_path: Path, content: str | None) -> None:
    study = tmp_path / "study.json"
    if content is not None:
        study.write_text(content)
    done = _wasmcmp(
        "site",
        "--pyperf",
        str(_pyperf(tmp_path)),
        "--study",
        str(study),
        "--out",
        str(tmp_path / "site"),
    )
    assert done.returncode == 2
    assert f"wasmcmp: error: {study}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "site").exists()


# -- the study script -----------------------------------------------------------------------


TINY = ("--cases", "wat/exported/add/unchecked", "--metrics", "time", "--effort", "fast")


def _study_env(tmp_path: Path) -> dict[str, str]:
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(scratch)}


def _processes_naming(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(f"{proc.name}: {cmdline}")
    return found


@pytest.mark.slow
def test_the_study_resumes_and_stops_cleanly(tmp_path: Path) -> None:
    output = tmp_path / "results" / "detection.json"
    env = _study_env(tmp_path)
    command = [sys.executable, str(SCRIPT), *TINY, "--ab-repeats", "0", "-o", str(output)]

    first = subprocess.run(
        [*command, "--aa-repeats", "1"], env=env, capture_output=True, text=True, timeout=300
    )
    assert first.returncode == 0, first.stderr
    data = json.loads(output.read_text())
    assert [(c["kind"], c["repeat"], c["load"]) for c in data["comparisons"]] == [(AA, 0, False)]
    assert data["method"]["effort"] == "fast"
    assert "A/A | time" in first.stdout  # the summary table

    again = subprocess.run(
        [*command, "--aa-repeats", "1"], env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr
    assert "nothing to measure" in again.stderr
    assert json.loads(output.read_text())["comparisons"] == data["comparisons"]

    # the second A/A repeat has a neighbour's load: stop the study while it runs
    child = subprocess.Popen(
        [*command, "--aa-repeats", "2"], env=env, stderr=subprocess.PIPE, text=True
    )
    assert child.stderr is not None
    neighbour = None
    deadline = time.monotonic() + 120
    while neighbour is None and time.monotonic() < deadline:
        line = child.stderr.readline()
        found = re.search(r"neighbour's load on \(pid (\d+)", line)
        neighbour = int(found.group(1)) if found else None
        assert line or child.poll() is None, "the study ended before its neighbour started"
    assert neighbour is not None
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=60) == 130
    child.stderr.close()
    assert json.loads(output.read_text())["comparisons"] == data["comparisons"]
    assert not Path(f"/proc/{neighbour}").exists()
    assert _processes_naming(env["TMPDIR"]) == []
    assert list(Path(env["TMPDIR"]).iterdir()) == []
    assert [p.name for p in output.parent.iterdir()] == [output.name]


def test_the_study_refuses_to_mix_methods(tmp_path: Path) -> None:
    output = write(tmp_path / "detection.json", study_json([aa(0, False)]))
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *TINY, "-o", str(output)],
        env=_study_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "effort='default'" in done.stderr
    assert "cases=" in done.stderr


def test_the_study_summary_reads_a_file_without_measuring(tmp_path: Path) -> None:
    output = write(tmp_path / "detection.json", study_json([aa(0, False, alarm=SUBSET[0])]))
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--summary", "-o", str(output)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 of 2 cases; 1 of 1 pull requests" in done.stdout
