"""The published site: what it writes, how it fails, and how it behaves in a real Chromium."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import random
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from wasmcmp.errors import SiteError
from wasmcmp.publish import MARKER, build_site
from wasmcmp.results import AsvConfig, read_asv, read_pyperf

from .conftest import DJANGO, REPO
from .result_files import (
    HOSTILE,
    AsvRun,
    Bench,
    commit_hash,
    crossing_samples,
    wasmcmp_history,
    write_asv_results,
    write_pyperf,
)

ARTIFACTS = REPO / "test-artifacts"
#: Debian's chromium; WASMCMP_CHROMIUM names another Chromium or Chrome (e.g. on a CI runner)
CHROMIUM = Path(os.environ.get("WASMCMP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
COMMIT_URL = "https://github.com/example/wasmcmp/commit/"
#: the step wasmcmp_history puts in one case: slower from this commit on
STEP_CASE = "go/imported-thread/add/checked"
STEP_AT = 8


def _hostile_results(folder: Path) -> Path:
    """Return an asv results folder whose names all try to inject markup or script."""
    named = Bench(f"hostile.{HOSTILE[0]}")
    params = Bench("hostile.Params.time_p", ("p",), ((repr(HOSTILE[1]), "'plain'"),))
    rng = random.Random(5)
    runs = [
        AsvRun(
            machine=HOSTILE[2],
            env="hostile-env",
            env_name=HOSTILE[0],
            commit=commit_hash(100 + i),
            date=datetime(2025, 3, 1, tzinfo=UTC) + timedelta(days=i),
            samples={
                named.name: [[2e-6 * rng.gauss(1, 0.01) for _ in range(6)]],
                params.name: [[3e-6 * rng.gauss(1, 0.01) for _ in range(6)] for _ in range(2)],
            },
        )
        for i in range(4)
    ]
    return write_asv_results(folder, [named, params], runs, {HOSTILE[2]: {"cpu": HOSTILE[1]}})


@dataclass(frozen=True)
class Built:
    """A site built for the tests, and what went into it."""

    out: Path
    commits: tuple[str, ...]


@pytest.fixture(scope="module")
def wasmcmp_site(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Build the wasmcmp matrix on two machines, a pyperf file, hostile names and a comparison."""
    from wasmcmp.compare import Comparison, compare

    root = tmp_path_factory.mktemp("wasmcmp")
    ours = read_asv(
        wasmcmp_history(
            root / "results",
            commits=14,
            machines=("ci-linux", "ci-macos"),
            step_at=STEP_AT,
            step_case=STEP_CASE,
        )
    )
    hostile = read_asv(_hostile_results(root / "hostile"))
    rng = random.Random(9)
    samples = crossing_samples(rng)
    laptop = read_pyperf(
        write_pyperf(
            root / "laptop.json",
            {"go/exported/add/checked": samples[0], STEP_CASE: samples[2]},
            hostname="laptop",
            commit=commit_hash(13),
        )
    )
    by_commit = {(r.machine, r.commit): r for r in ours.runs}
    comparison: Comparison = compare(
        by_commit[("ci-linux", commit_hash(STEP_AT - 1))],
        by_commit[("ci-linux", commit_hash(STEP_AT))],
    )
    out = root / "site"
    build_site(
        out,
        [ours, hostile],
        [laptop],
        config=AsvConfig(project="wasmcmp", show_commit_url=COMMIT_URL),
        comparison=comparison,
    )
    return Built(out, tuple(commit_hash(i) for i in range(14)))


@pytest.fixture(scope="module")
def django_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the django-asv results (../shared/asv-results/django), as another project's."""
    if not (DJANGO / "results").is_dir():
        pytest.skip(f"the django-asv results are not at {DJANGO} (../shared/asv-results/django)")
    out = tmp_path_factory.mktemp("django") / "site"
    build_site(out, [read_asv(DJANGO / "results")])
    return out


def _pages(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))


# -- what gets written -----------------------------------------------------------------------------


def test_every_page_and_asset_is_written(wasmcmp_site: Built) -> None:
    out = wasmcmp_site.out
    for page in (
        "index.html",
        "history/index.html",
        "ratios.html",
        "regressions.html",
        "compare.html",
        "machines.html",
    ):
        assert (out / page).is_file(), page
    assert len(list((out / "history").glob("*.html"))) == 1 + 24 + 3
    for asset in (
        "assets/site.js",
        "assets/site.css",
        "vendor/uplot/uPlot.iife.min.js",
        "vendor/uplot/uPlot.min.css",
        "vendor/uplot/LICENSE",
    ):
        assert (out / asset).is_file(), asset
    assert (out / ".nojekyll").is_file()
    assert (out / MARKER).is_file()


def test_no_page_reaches_the_network_or_names_the_builders_folders(wasmcmp_site: Built) -> None:
    out = wasmcmp_site.out
    for page in _pages(out):
        html = (out / page).read_text()
        assert str(out.parent) not in html, page
        for src in re.findall(r'(?:src|href)="([^"]+)"', html):
            if src.startswith(("http://", "https://")):
                # only links a person follows: commits and diffs, never scripts or styles
                assert src.startswith(COMMIT_URL) or "/compare/" in src, (page, src)


def test_overview_has_the_seed_table_ratios_and_bar_chart(wasmcmp_site: Built) -> None:
    html = (wasmcmp_site.out / "index.html").read_text()
    assert "imported-thread / exported" in html
    assert "imported-greenlet / exported" in html
    # ci-linux, ci-macos and the laptop's pyperf, each drawn on a linear and a log axis
    assert html.count('<svg class="bars"') == 6
    assert html.count('data-scale="log" hidden') == 3
    assert 'href="history/go-exported-add-checked.html"' in html
    assert "\u00d7" in html  # the ratio labels


def test_the_injected_step_is_the_newest_regression_with_its_commit_range(
    wasmcmp_site: Built,
) -> None:
    html = (wasmcmp_site.out / "regressions.html").read_text()
    assert STEP_CASE in html
    before, after = wasmcmp_site.commits[STEP_AT - 1], wasmcmp_site.commits[STEP_AT]
    assert f'href="{COMMIT_URL}{before}"' in html
    assert f'href="{COMMIT_URL}{after}"' in html
    assert f"https://github.com/example/wasmcmp/compare/{before}...{after}" in html
    assert re.search(r"\+(4[5-9]|5[0-5])\.\d%", html)  # a 1.5x step: about +50%


def test_comparison_page_shows_the_regression_verdict(wasmcmp_site: Built) -> None:
    html = (wasmcmp_site.out / "compare.html").read_text()
    assert '<span class="badge verdict-regressed">1 regressed</span>' in html
    rows = html[html.index("<tbody>") :].split("<tr>")[1:]
    regressed = [row for row in rows if 'verdict-regressed">regressed' in row]
    assert len(regressed) == 1
    assert STEP_CASE in regressed[0]


class _Tags(HTMLParser):
    """Every start tag of a page, with its attributes, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_hostile_names_are_escaped_in_every_page(wasmcmp_site: Built) -> None:
    out = wasmcmp_site.out
    for page in _pages(out):
        parser = _Tags()
        parser.feed((out / page).read_text())
        for tag, attrs in parser.tags:
            assert tag != "img", page
            assert not any(name.startswith("on") for name in attrs), (page, tag, attrs)
            if tag == "script":
                # only our own files, and data the browser never runs
                assert attrs.get("type") == "application/json" or (attrs.get("src") or "").endswith(
                    ("uPlot.iife.min.js", "site.js")
                ), (page, attrs)
    machines = (out / "machines.html").read_text()
    assert "&lt;/script&gt;&lt;script&gt;window.__pwned = 3&lt;/script&gt;" in machines


def test_a_rebuild_replaces_the_site_and_keeps_the_step_cache(tmp_path: Path) -> None:
    from wasmcmp.compare import compare

    found = read_asv(wasmcmp_history(tmp_path / "results", commits=6))
    out = tmp_path / "site"
    build_site(out, [found], comparison=compare(found.runs[0], found.runs[-1]))
    assert (out / "compare.html").is_file()  # a page this build wrote and the next one won't
    steps = json.loads((out / MARKER).read_text())["steps"]
    build_site(out, [found])
    assert not (out / "compare.html").exists()
    assert json.loads((out / MARKER).read_text())["steps"] == steps
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "site"]


def test_a_failed_build_leaves_the_previous_site_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = read_asv(wasmcmp_history(tmp_path / "results", commits=4))
    out = tmp_path / "site"
    build_site(out, [found])
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(shutil, "copytree", broken)
    with pytest.raises(OSError, match="disk full"):
        build_site(out, [found], title="changed")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "site"]


def test_a_folder_it_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    found = read_asv(wasmcmp_history(tmp_path / "results", commits=3))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(SiteError, match="not written by `wasmcmp site`"):
        build_site(mine, [found])
    assert (mine / "notes.txt").read_text() == "keep me"


def test_a_corrupt_results_file_is_left_out_and_named_on_the_site(tmp_path: Path) -> None:
    folder = wasmcmp_history(tmp_path / "results", commits=4)
    victim = sorted((folder / "ci-linux").glob("*-*.json"))[1]
    victim.write_text('{"version": 2, "results": {')
    report = build_site(tmp_path / "site", [read_asv(folder)])
    assert [p for p, _ in report.skipped] == [victim]
    assert report.commits == 3
    machines = (tmp_path / "site" / "machines.html").read_text()
    assert f"ci-linux/{victim.name}" in machines
    assert str(tmp_path) not in machines


def test_no_measurements_is_an_error_saying_what_to_pass(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    with pytest.raises(SiteError, match="--results"):
        build_site(tmp_path / "site", [read_asv(tmp_path / "results")])
    assert not (tmp_path / "site").exists()


def test_a_site_from_pyperf_files_alone(tmp_path: Path) -> None:
    rng = random.Random(4)
    samples = crossing_samples(rng)
    runs = [
        read_pyperf(
            write_pyperf(
                tmp_path / f"run{i}.json",
                {"go/exported/add/checked": samples[0], "go/imported-thread/add/checked": s},
                date=datetime(2025, 2, 1 + i, tzinfo=UTC),
            )
        )
        for i, s in enumerate((samples[2], samples[3]))
    ]
    report = build_site(tmp_path / "site", runs=runs)
    assert report.series == 1
    assert report.commits == 2
    assert (tmp_path / "site" / "ratios.html").is_file()


def test_django_results_publish_every_benchmark(django_site: Path) -> None:
    found = read_asv(DJANGO / "results")
    cases = {c for run in found.runs for c in run.measurements}
    assert len(list((django_site / "history").glob("*.html"))) == len(cases) + 1
    index = (django_site / "index.html").read_text()
    assert "Django benchmarks" in index
    machines = (django_site / "machines.html").read_text()
    for machine in ("ubuntu-22.04", "macos-12", "windows-2022"):
        assert machine in machines
    regressions = (django_site / "regressions.html").read_text()
    assert 'href="http://github.com/django/django/commit/' in regressions
    assert not (django_site / "ratios.html").exists()  # no guest/approach/function/tier cases


# -- in Chromium -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(wasmcmp_site: Built, django_site: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the address of a localhost server holding both sites (wasmcmp/ and django/)."""
    root = tmp_path_factory.mktemp("served")
    shutil.copytree(wasmcmp_site.out, root / "wasmcmp")
    shutil.copytree(django_site, root / "django")
    return str(root)


@contextlib.contextmanager
def serve(folder: str) -> Iterator[str]:
    """Serve the folder over HTTP on a free local port; yield its address."""
    handler = functools.partial(_QuietHandler, directory=folder)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()


@pytest.fixture(scope="module")
def server(served: str) -> Iterator[str]:
    with serve(served) as address:
        yield address


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the site's browser tests need it. "
            "Install it (Debian: apt-get install -y chromium; CI installs it) or set "
            "WASMCMP_CHROMIUM to a Chromium or Chrome executable"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass(frozen=True)
class Watched:
    """A page with everything that went wrong on it so far."""

    page: Any
    errors: list[str]
    dialogs: list[str]

    def goto(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_selector("html[data-ready]")

    def assert_clean(self, where: str) -> None:
        assert self.errors == [], (where, self.errors)
        assert self.dialogs == [], (where, self.dialogs)
        assert self.page.evaluate("window.__pwned") is None, where


@pytest.fixture
def page(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})

    def offline(route: Any) -> None:
        # no network: a page that opens a commit gets a stand-in instead of github.com
        if urlsplit(route.request.url).hostname in ("127.0.0.1", None):
            route.continue_()
        else:
            route.fulfill(status=200, content_type="text/plain", body="offline")

    context.route("**/*", offline)
    watched = Watched(context.new_page(), [], [])
    watched.page.on(
        "console", lambda m: watched.errors.append(m.text) if m.type == "error" else None
    )
    watched.page.on("pageerror", lambda e: watched.errors.append(str(e)))

    def dialog(d: Any) -> None:
        watched.dialogs.append(d.message)
        d.dismiss()

    watched.page.on("dialog", dialog)
    yield watched
    context.close()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"site-{name}.png"), full_page=True)


def _chart_point(page: Any, chart: int = 0, series: int = 1, back: int = 2) -> dict[str, Any]:
    """Return where on screen a chart draws a point, and that point's commit."""
    found: dict[str, Any] = page.evaluate(
        """([chart, series, back]) => {
            const card = document.querySelector(`[data-chart="${chart}"]`);
            const u = card.chart.u;
            let i = u.data[0].length - 1 - back;
            while (i > 0 && u.data[series][i] === null) i--;
            const r = u.over.getBoundingClientRect();
            return {
                x: r.left + card.chart.xPos(i, false),
                y: r.top + u.valToPos(u.data[series][i], "y"),
                commit: card.chart.commits[i].id,
                label: card.chart.commits[i].label,
            };
        }""",
        [chart, series, back],
    )
    return found


def test_every_page_loads_clean_and_its_links_resolve(
    page: Watched, server: str, wasmcmp_site: Built, django_site: Path
) -> None:
    # every page of ours; of django's, one of each kind (they share the templates)
    visits = [f"wasmcmp/{name}" for name in _pages(wasmcmp_site.out)]
    django = _pages(django_site)
    histories = [n for n in django if n.startswith("history/") and n != "history/index.html"]
    visits += [
        f"django/{name}"
        for name in ("index.html", "history/index.html", "regressions.html", "machines.html")
    ]
    visits += [f"django/{name}" for name in histories[:: max(1, len(histories) // 3)]]
    targets: dict[str, str] = {}
    for visit in visits:
        page.goto(server + visit)
        page.assert_clean(visit)
        hrefs: list[str] = page.page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
        for href in hrefs:
            targets.setdefault(href.split("#")[0], visit)
    for target, where in targets.items():
        if target.startswith(server):
            assert page.page.request.get(target).status == 200, (where, target)
        else:
            assert target.startswith(
                (COMMIT_URL, "https://github.com/example/", "http://github.com/django/")
            ), (where, target)
    assert len(targets) > 60


def test_charts_draw_and_hover_shows_the_commit(
    page: Watched, server: str, wasmcmp_site: Built
) -> None:
    page.goto(f"{server}wasmcmp/history/go-imported-thread-add-checked.html")
    inked = page.page.evaluate(
        """() => {
            const canvas = document.querySelector('.plot canvas');
            const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
            let n = 0;
            for (let i = 3; i < px.data.length; i += 4) if (px.data[i] > 0) n++;
            return n;
        }"""
    )
    assert inked > 2000
    marked = page.page.evaluate(
        """() => {
            const chart = document.querySelector('[data-chart]').chart;
            return chart.spec.marks.map(m => chart.commits[chart.spec.x.indexOf(m)].id);
        }"""
    )
    assert marked == [wasmcmp_site.commits[STEP_AT]]  # the step's first slow commit
    point = _chart_point(page.page)
    page.page.mouse.move(point["x"], point["y"])
    tip = page.page.locator(".tip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    assert f"commit {point['label']}" in text
    assert "µs/op" in text
    assert "ci-linux" in text
    assert re.search(r"\[\d+(\.\d+)?\u2013\d+(\.\d+)?\]", text)  # the interval
    _shot(page.page, "history-hover")
    page.assert_clean("history")


def test_a_click_on_a_point_opens_its_commit(page: Watched, server: str) -> None:
    page.goto(f"{server}wasmcmp/history/go-imported-thread-add-checked.html")
    point = _chart_point(page.page)
    page.page.mouse.move(point["x"], point["y"])
    with page.page.context.expect_page() as opened:
        page.page.mouse.click(point["x"], point["y"])
    assert opened.value.url == COMMIT_URL + point["commit"]


def test_log_scale_zoom_and_legend(page: Watched, server: str) -> None:
    page.goto(f"{server}wasmcmp/history/go-exported-add-checked.html")
    page.page.check("[data-log]")
    assert page.page.evaluate("document.querySelector('[data-chart]').chart.u.scales.y.distr") == 3
    box = page.page.locator(".u-over").bounding_box()
    assert box is not None
    full = page.page.evaluate(
        "(() => { const s = document.querySelector('[data-chart]').chart.u.scales.x;"
        " return s.max - s.min; })()"
    )
    page.page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    page.page.mouse.down()
    page.page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2, steps=5)
    page.page.mouse.up()
    zoomed = page.page.evaluate(
        "(() => { const s = document.querySelector('[data-chart]').chart.u.scales.x;"
        " return s.max - s.min; })()"
    )
    assert zoomed < full * 0.5
    page.page.click("[data-reset]")
    reset = page.page.evaluate(
        "(() => { const s = document.querySelector('[data-chart]').chart.u.scales.x;"
        " return s.max - s.min; })()"
    )
    assert reset == pytest.approx(full)
    page.page.check("[data-order]")
    assert page.page.evaluate("document.querySelector('[data-chart]').chart.u.data[0][3]") == 3
    page.page.locator(".legend button").first.click()
    assert (
        page.page.evaluate("document.querySelector('[data-chart]').chart.u.series[1].show") is False
    )
    page.assert_clean("toggles")


def test_overview_ratios_and_regressions_render(
    page: Watched, server: str, wasmcmp_site: Built
) -> None:
    page.goto(f"{server}wasmcmp/index.html")
    bars = page.page.locator("svg.bars:visible rect[height]")
    assert bars.count() >= 24
    assert page.page.locator("table.seed:visible tbody tr").count() == 8
    page.page.locator("[data-tab='1']").click()
    assert "ci-macos" in page.page.locator("[data-panel='1']").inner_text()
    page.page.locator("[data-tab='0']").click()
    _shot(page.page, "overview")
    page.goto(f"{server}wasmcmp/ratios.html")
    assert page.page.locator(".plot canvas").count() == 8
    _shot(page.page, "ratios")
    page.goto(f"{server}wasmcmp/regressions.html")
    assert STEP_CASE in page.page.locator("table.regressions").inner_text()
    _shot(page.page, "regressions")
    page.goto(f"{server}wasmcmp/compare.html")
    _shot(page.page, "compare")
    page.assert_clean("overview, ratios, regressions, compare")


def test_hostile_names_show_as_text(page: Watched, server: str, wasmcmp_site: Built) -> None:
    page.goto(f"{server}wasmcmp/machines.html")
    text = page.page.locator("main").inner_text()
    for hostile in HOSTILE:
        assert hostile in text
    page.goto(f"{server}wasmcmp/history/index.html")
    page.page.fill("[data-filter]", "hostile")
    assert page.page.locator("table.cases tbody tr:visible").count() == 3
    text = page.page.locator("table.cases").inner_text()
    assert HOSTILE[0] in text
    assert HOSTILE[1] in text
    _shot(page.page, "hostile-index")
    slug = page.page.locator("table.cases tbody tr:visible a").first.get_attribute("href")
    page.goto(f"{server}wasmcmp/history/{slug}")
    point = _chart_point(page.page, back=1)
    page.page.mouse.move(point["x"], point["y"])
    page.page.locator(".tip").wait_for(state="visible")
    assert HOSTILE[2] in page.page.locator(".tip").inner_text()
    assert HOSTILE[2] in page.page.locator(".legend").inner_text()
    _shot(page.page, "hostile-history")
    page.assert_clean("hostile pages")


def test_django_history_in_the_browser(page: Watched, server: str, django_site: Path) -> None:
    page.goto(f"{server}django/index.html")
    _shot(page.page, "django-overview")
    first = page.page.locator("table.cases tbody a").first.get_attribute("href")
    page.goto(f"{server}django/{first}")
    assert (
        page.page.evaluate("document.querySelector('[data-chart]').chart.spec.series.length") >= 3
    )
    point = _chart_point(page.page)
    page.page.mouse.move(point["x"], point["y"])
    page.page.locator(".tip").wait_for(state="visible")
    _shot(page.page, "django-history")
    page.assert_clean("django")


def test_the_site_works_from_file_urls(page: Watched, wasmcmp_site: Built) -> None:
    for name in ("index.html", "history/go-exported-add-checked.html", "ratios.html"):
        page.goto((wasmcmp_site.out / name).as_uri())
        page.assert_clean(f"file://{name}")
    assert page.page.locator(".plot canvas").count() == 8


#: one run of every approach for Go's add: medians in seconds, a hundredfold apart
BREAKDOWN_RUN = {
    "go/exported/add/unchecked": 440e-9,
    "go/imported-inline/add/unchecked": 1_100e-9,
    "go/imported-greenlet/add/unchecked": 2_000e-9,
    "go/imported-thread/add/unchecked": 60_000e-9,
}


def test_the_overview_breaks_the_time_down_and_toggles_a_log_axis(
    page: Watched, tmp_path: Path
) -> None:
    rng = random.Random(3)
    samples = {
        case: [v * rng.gauss(1, 0.002) for _ in range(9)] for case, v in BREAKDOWN_RUN.items()
    }
    run = read_pyperf(write_pyperf(tmp_path / "run.json", samples))
    build_site(tmp_path / "site", [], [run])
    page.goto((tmp_path / "site" / "index.html").as_uri())

    # a stacked bar per approach, with its parts' numbers beside it
    table = page.page.locator("table.breakdown[data-breakdown='go/add/unchecked']")
    rows = table.locator("tbody tr")
    assert [rows.nth(i).get_attribute("data-approach") for i in range(rows.count())] == [
        "exported",
        "imported-inline",
        "imported-greenlet",
        "imported-thread",
    ]
    median = {case: m.value for case, m in run.measurements.items()}
    inline = median["go/imported-inline/add/unchecked"]
    numbers = [rows.nth(i).locator(".stack-numbers").inner_text() for i in range(4)]
    # the section's unit is µs/op: each part as the table rounds it
    parts = [
        [median["go/exported/add/unchecked"]],
        [inline],
        [inline, median["go/imported-greenlet/add/unchecked"] - inline],
        [inline, median["go/imported-thread/add/unchecked"] - inline],
    ]
    for shown, values in zip(numbers, parts, strict=True):
        figures = [float(x) for x in re.findall(r"-?[\d.]+", shown.replace(",", ""))]
        assert figures[: len(values)] == pytest.approx([v * 1e6 for v in values], rel=2e-3)
    # a stacked bar's total is its approach's median
    total = float(numbers[3].split(" = ")[1].replace(",", ""))
    assert total == pytest.approx(median["go/imported-thread/add/unchecked"] * 1e6, rel=2e-3)
    widths = {
        (rows.nth(i).get_attribute("data-approach"), part.get_attribute("data-part")): float(
            part.get_attribute("width") or 0
        )
        for i in range(4)
        for part in rows.nth(i).locator("rect").all()
    }
    thread = (
        widths["imported-thread", "2 import crossings"]
        + widths["imported-thread", "thread hand-off"]
    )
    assert widths["imported-inline", "2 import crossings"] / thread == pytest.approx(
        inline / median["go/imported-thread/add/unchecked"], abs=0.01
    )
    assert "greenlet hand-off" in page.page.locator(".breakdown-legend").inner_text()

    # the bar chart: linear at first, where the exported bar is a sliver; log on demand
    figure = page.page.locator("[data-bar-scales]")
    linear, log = figure.locator("[data-scale='linear']"), figure.locator("[data-scale='log']")

    def exported_bar_height() -> float:
        visible = linear if linear.is_visible() else log
        return float(visible.locator("g.bar rect").first.get_attribute("height") or 0)

    assert linear.is_visible()
    assert not log.is_visible()
    flat = exported_bar_height()
    figure.locator("[data-log]").check()
    assert log.is_visible()
    assert not linear.is_visible()
    assert exported_bar_height() > 10 * flat
    figure.locator("[data-log]").uncheck()
    assert linear.is_visible()
    _shot(page.page, "overview-breakdown")
    page.assert_clean("overview breakdown and log axis")
