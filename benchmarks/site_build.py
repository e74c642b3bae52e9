"""Measure ``wasmcmp site``: build time, how soon each page is ready in Chromium, asset weight.

    python benchmarks/site_build.py [--commits 1000] [--repeat 3] [--chromium /usr/bin/chromium]

Builds the site of the django-asv results (../shared/asv-results/django beside the repository)
and of a synthetic asv history written with asv's own API (``--commits`` commits x 24 wasmcmp
cases x 3 machines, 10 samples per point, a few steps), then prints:

- build time: reading the results and writing the site (median of ``--repeat``): cold, into
  a new folder; as a rebuild over the previous site (asv's step detection, the slow part, is
  cached there per history); and cold as a fresh ``python`` process, imports included;
- page readiness: milliseconds from navigation until every chart is drawn, read from the
  ``data-ready`` attribute the site's script sets, for each kind of page, served over
  localhost HTTP to headless Chromium (median of ``--repeat`` loads);
- weight: the JavaScript and CSS a page loads, raw and gzipped.

Targets: build under 2 s, every page ready under 1 s, JavaScript + CSS under 100 KB gzipped.
This file is not an asv benchmark: asv ignores it (it defines no ``time_`` names).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DJANGO = REPO.parent / "shared" / "asv-results" / "django" / "results"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: per-call levels (seconds) the synthetic history wanders around
LEVELS = {"exported": 1.2e-6, "imported-thread": 1.9e-5, "imported-greenlet": 3.1e-6}
BENCHMARK = "crossing.Crossing.time_call"
#: the synthetic set's guests and approaches: two and three, so that it stays the 24-case set
#: the targets are set for
GUESTS = ("go", "wat")
APPROACHES = tuple(LEVELS)


def write_synthetic(folder: Path, commits: int, machines: int = 3, seed: int = 7) -> Path:
    """Return an asv results folder of commits x 24 cases x machines, written by asv itself."""
    from asv import util
    from asv.results import Results
    from asv.runner import BenchmarkResult

    from wasmcmp import AXES, FUNCTIONS, TIERS

    rng = random.Random(seed)
    params = [[repr(v) for v in values] for values in (GUESTS, APPROACHES, FUNCTIONS, TIERS)]
    bench = {
        "name": BENCHMARK,
        "param_names": list(AXES),
        "params": params,
        "type": "time",
        "unit": "seconds",
        "version": "1",
    }
    util.write_json(str(folder / "benchmarks.json"), {BENCHMARK: bench}, 2)
    cases = [(g, a, f, t) for g in GUESTS for a in APPROACHES for f in FUNCTIONS for t in TIERS]
    # each case steps up or down by 10-40% at three commits of its own
    steps = {
        case: sorted((rng.randrange(commits), rng.choice((0.7, 0.85, 1.15, 1.4))) for _ in range(3))
        for case in cases
    }
    start = datetime(2023, 1, 2, tzinfo=UTC)
    for m in range(machines):
        name = f"runner-{m + 1}"
        util.write_json(
            str(folder / name / "machine.json"),
            {"machine": name, "arch": "x86_64", "os": "Linux", "num_cpu": "4", "ram": "16GB"},
            1,
        )
        speed = 1.0 + 0.15 * m
        for i in range(commits):
            commit = f"{rng.getrandbits(160):040x}"
            result = Results(
                {"machine": name, "python": "3.11"},
                {},
                commit,
                int((start + timedelta(hours=7 * i)).timestamp() * 1000),
                "3.11",
                "virtualenv-py3.11",
                {},
            )
            samples = []
            for case in cases:
                level = LEVELS[case[1]] * speed * (0.8 if case[3] == "unchecked" else 1.0)
                for at, factor in steps[case]:
                    if i >= at:
                        level *= factor
                samples.append([level * rng.gauss(1.0, 0.02) for _ in range(10)])
            result.add_result(
                {"name": BENCHMARK, "version": "1", "params": params},
                BenchmarkResult(
                    result=[0.0] * len(cases),
                    samples=samples,
                    number=[1] * len(cases),
                    errcode=0,
                    stderr="",
                    profile=None,
                ),
                record_samples=True,
            )
            result.save(str(folder))
    return folder


def build_once(results: Path, out: Path) -> float:
    """Return the seconds it took to read an asv results folder and write its site."""
    from wasmcmp import build_site, read_asv

    started = time.perf_counter()
    build_site(out, [read_asv(results)])
    return time.perf_counter() - started


def build_process(results: Path, out: Path) -> float:
    """Return the wall seconds of a fresh Python process that builds the site."""
    code = (
        "import sys; from pathlib import Path; from wasmcmp import build_site, read_asv; "
        "build_site(Path(sys.argv[2]), [read_asv(Path(sys.argv[1]))])"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(results), str(out)], check=True, cwd=REPO)
    return time.perf_counter() - started


def page_readiness(site: Path, chromium: str, repeat: int) -> dict[str, float]:
    """Return, per kind of page, the median milliseconds until its charts are drawn."""
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    histories = sorted(p.name for p in (site / "history").glob("*.html") if p.name != "index.html")
    pages = {
        "overview": "index.html",
        "history index": "history/index.html",
        "history (one case)": f"history/{histories[0]}",
        "ratios": "ratios.html",
        "regressions": "regressions.html",
        "machines": "machines.html",
    }
    found: dict[str, float] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            for label, path in pages.items():
                if not (site / path).is_file():
                    continue
                times = []
                for _ in range(repeat + 1):
                    page.goto(base + path)
                    page.wait_for_selector("html[data-ready]")
                    times.append(float(page.get_attribute("html", "data-ready") or "nan"))
                found[label] = statistics.median(times[1:])  # the first load warms the cache
            browser.close()
    finally:
        server.shutdown()
        thread.join()
    return found


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def asset_weight(site: Path) -> list[tuple[str, int, int]]:
    """Return (file, bytes, gzipped bytes) of every script and stylesheet a page loads."""
    files = [
        "vendor/uplot/uPlot.iife.min.js",
        "vendor/uplot/uPlot.min.css",
        "assets/site.js",
        "assets/site.css",
    ]
    out = []
    for name in files:
        data = (site / name).read_bytes()
        out.append((name, len(data), len(gzip.compress(data, compresslevel=9))))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measurements and print them; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--chromium", default=os.environ.get("WASMCMP_CHROMIUM", "/usr/bin/chromium")
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))

    with tempfile.TemporaryDirectory(prefix="wasmcmp-site-bench-") as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        synthetic = write_synthetic(tmp / "synthetic", args.commits)
        files = sum(1 for _ in synthetic.glob("*/*-*.json"))
        print(
            f"synthetic set: {args.commits} commits x 24 cases x 3 machines "
            f"({files} result files, written in {time.perf_counter() - started:.1f} s)"
        )
        sets = [("synthetic", synthetic)]
        if DJANGO.is_dir():
            sets.insert(0, ("django", DJANGO))
        else:
            print(f"django set: not found at {DJANGO}; skipped")
        print("\nbuild time (read results + write site), median of", args.repeat)
        print("  cold: into a new folder; rebuild: over the previous site, whose cached")
        print("  step detection it reuses for histories that did not change")
        for name, folder in sets:
            out = tmp / f"site-{name}"
            cold = []
            for _ in range(args.repeat):
                shutil.rmtree(out, ignore_errors=True)
                cold.append(build_once(folder, out))
            rebuild = [build_once(folder, out) for _ in range(args.repeat)]
            fresh = []
            for _ in range(args.repeat):
                shutil.rmtree(out, ignore_errors=True)
                fresh.append(build_process(folder, out))
            print(
                f"  {name:10} cold {statistics.median(cold):5.2f} s   "
                f"rebuild {statistics.median(rebuild):5.2f} s   "
                f"cold in a fresh python process {statistics.median(fresh):5.2f} s"
            )
        if Path(args.chromium).is_file():
            for name, _ in sets:
                print(f"\npage ready in Chromium, {name} (ms from navigation, median):")
                ready = page_readiness(tmp / f"site-{name}", args.chromium, args.repeat)
                for label, ms in ready.items():
                    print(f"  {label:20} {ms:6.0f} ms")
        else:
            print(f"\npage readiness: {args.chromium} not found; install Chromium to measure it")
        print("\nJavaScript and CSS per page")
        total_raw = total_gz = 0
        for name, raw, gz in asset_weight(tmp / "site-synthetic"):
            total_raw += raw
            total_gz += gz
            print(f"  {name:34} {raw / 1024:6.1f} KB  gzipped {gz / 1024:5.1f} KB")
        print(f"  {'total':34} {total_raw / 1024:6.1f} KB  gzipped {total_gz / 1024:5.1f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
