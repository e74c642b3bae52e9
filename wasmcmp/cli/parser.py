"""The ``wasmcmp`` argument parser: one small function per subcommand."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from wasmcmp import __version__
from wasmcmp.cli.commands import (
    cmd_build_guests,
    cmd_call,
    cmd_cases,
    cmd_compare,
    cmd_run,
    cmd_site,
)

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _int32(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not -(2**31) <= value < 2**32:
        raise argparse.ArgumentTypeError(f"does not fit in 32 bits: {text!r}")
    return value - 2**32 if value >= 2**31 else value


def _add_timeout(parser: argparse.ArgumentParser) -> None:
    from wasmcmp.paths import DEFAULT_TIMEOUT

    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=DEFAULT_TIMEOUT,
        help="seconds a call or timed batch may take before the guest is stopped "
        f"(default {DEFAULT_TIMEOUT:g})",
    )


def _add_guest(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--guest",
        action="append",
        default=[],
        metavar="NAME=FOLDER",
        help="a guest of your own: a folder holding exported, imported_add and imported_cube "
        "(.wasm or .wat) with the guest ABI, named NAME in every case, NAME/exported/add/... "
        "(repeatable; NAME must not be a bundled guest's)",
    )


def _add_factor(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--factor", action="append", default=[], metavar="[PATTERN=]NUMBER", help=help_text
    )


def _parse_run(commands: Subparsers) -> None:
    run = commands.add_parser(
        "run",
        help="measure cases with pyperf and print the comparison table",
        description="Measure cases with pyperf (calibrated loops, worker processes, warmups), "
        "print ns/op per case and the imported/exported ratios, and write pyperf JSON that "
        "`python -m pyperf stats` and `compare_to` accept.",
    )
    run.add_argument(
        "--cases",
        action="append",
        metavar="GLOB",
        help="cases to measure, as glob patterns over guest/approach/function/tier "
        "(repeatable; default: the seed's four plus every add case)",
    )
    run.add_argument(
        "--metric",
        choices=("time", "instructions"),
        default="time",
        help="time: wall time per call with pyperf (default); instructions: instructions per "
        "call counted under valgrind's callgrind (deterministic, blind to waiting; needs "
        "valgrind)",
    )
    run.add_argument(
        "--repeats",
        type=_positive_int,
        default=3,
        help="callgrind processes per case with --metric instructions; their spread is the "
        "recorded jitter (default: %(default)s)",
    )
    effort = run.add_mutually_exclusive_group()
    effort.add_argument("--fast", action="store_true", help="fewer pyperf processes and values")
    effort.add_argument("--rigorous", action="store_true", help="more pyperf processes")
    run.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("wasmcmp-run.json"),
        help="pyperf JSON file to write (default: %(default)s)",
    )
    run.add_argument("--markdown", type=Path, help="also write a Markdown report here")
    _add_guest(run)
    _add_timeout(run)
    run.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    run.set_defaults(handler=cmd_run)


def _parse_call(commands: Subparsers) -> None:
    call = commands.add_parser(
        "call",
        help="call a case once and print the answer",
        description="Open a case's call path, call it once with the given i32 arguments and "
        "print the answer (exit 1 if it differs from Python's int32 arithmetic).",
    )
    call.add_argument("case", help="case name, e.g. go/imported-greenlet/cube/unchecked")
    call.add_argument("args", nargs="+", type=_int32, metavar="ARG", help="i32 arguments")
    _add_guest(call)
    _add_timeout(call)
    call.set_defaults(handler=cmd_call)


def _parse_cases(commands: Subparsers) -> None:
    cases = commands.add_parser("cases", help="list the cases", description=cmd_cases.__doc__)
    cases.add_argument("patterns", nargs="*", metavar="GLOB", help="glob patterns (default: all)")
    cases.add_argument(
        "--default", action="store_true", help="only the cases `wasmcmp run` measures by default"
    )
    cases.add_argument(
        "--asv-bench",
        action="store_true",
        help="print, one a line, the asv --bench regular expression of each case's benchmarks "
        "(time and instructions)",
    )
    _add_guest(cases)
    cases.set_defaults(handler=cmd_cases)


def _parse_compare(commands: Subparsers) -> None:
    from wasmcmp.compare import SIGNIFICANCE_LEVEL

    versus = commands.add_parser(
        "compare",
        help="compare a head run with its base: ratio, significance, verdict",
        description="Compare HEAD with BASE case by case: medians and 99%% intervals, "
        "head/base, a two-sided Mann-Whitney U test on the samples at "
        f"p < {SIGNIFICANCE_LEVEL:g} (asv's own test; with too few samples, asv's "
        "non-overlapping-interval check), and a verdict (regressed, improved, unchanged, new, "
        "missing, failed). A case regresses only when the change is significant and beyond "
        "its factor. Exit 1 on a regression with --fail-on-regression, 2 on unusable input.",
    )
    versus.add_argument("base", metavar="BASE", help="pyperf JSON file, or a commit in --results")
    versus.add_argument("head", metavar="HEAD", help="pyperf JSON file, or a commit in --results")
    versus.add_argument("--results", type=Path, metavar="DIR", help="asv results folder")
    versus.add_argument("--machine", help="asv machine of both sides")
    versus.add_argument("--base-machine", help="asv machine of BASE (default --machine)")
    versus.add_argument("--head-machine", help="asv machine of HEAD (default --machine)")
    versus.add_argument("--env", help="asv environment of both sides")
    _add_factor(
        versus,
        "slowdown beyond which a significant change is a regression (default 1.10); "
        "GLOB=NUMBER sets it for matching cases, the last match wins (repeatable)",
    )
    versus.add_argument(
        "--instructions-factor",
        type=float,
        default=None,
        metavar="NUMBER",
        help="growth beyond which an instruction count regresses (default 1.005, above the "
        "jitter measured); GLOB@instructions=NUMBER in --factor sets it per case",
    )
    versus.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 when a case regressed or fails in HEAD",
    )
    versus.add_argument(
        "--format",
        choices=("table", "markdown", "comment", "json"),
        default="table",
        help="what to print (default: %(default)s)",
    )
    versus.add_argument("--comment", type=Path, metavar="FILE", help="write the PR comment here")
    versus.add_argument(
        "--summary", type=Path, metavar="FILE", help="append Markdown here ($GITHUB_STEP_SUMMARY)"
    )
    versus.add_argument("--json", type=Path, metavar="FILE", help="write JSON here")
    versus.add_argument(
        "--github-output",
        type=Path,
        metavar="FILE",
        help="append verdict=, regressions=, ... here ($GITHUB_OUTPUT)",
    )
    versus.set_defaults(handler=cmd_compare)


def _parse_site(commands: Subparsers) -> None:
    site = commands.add_parser(
        "site",
        help="write the static site with comparison charts",
        description="Write a self-contained static site (works from file:// and GitHub Pages) "
        "from asv result folders and pyperf JSON files: the overview table and chart, history "
        "per case, imported/exported ratios over time, detected regressions, machines, and a "
        "base-vs-head comparison page when asked.",
    )
    site.add_argument(
        "--results",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="an asv results folder (repeatable)",
    )
    site.add_argument(
        "--pyperf",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a pyperf JSON file, e.g. from wasmcmp run (repeatable)",
    )
    site.add_argument(
        "--config", type=Path, metavar="FILE", help="asv.conf.json for the project name and links"
    )
    site.add_argument("--out", type=Path, required=True, metavar="DIR", help="site folder")
    site.add_argument(
        "--compare",
        nargs=2,
        metavar=("BASE", "HEAD"),
        help="add a comparison page: commits in --results, or pyperf files",
    )
    site.add_argument("--machine", help="asv machine of the compared commits")
    site.add_argument("--env", help="asv environment of the compared commits")
    _add_factor(site, "regression factor for the comparison page (default 1.10; repeatable)")
    _add_site_pages(site)
    site.set_defaults(handler=cmd_site)


def _add_site_pages(site: argparse.ArgumentParser) -> None:
    """Add what orders the commits and what the other pages show, and how --out is taken."""
    order = site.add_mutually_exclusive_group()
    order.add_argument(
        "--repo",
        type=Path,
        metavar="PATH",
        help="git repository whose first-parent history of asv.conf.json's branches orders "
        "the commits, as asv does (default: the current repository when it holds them)",
    )
    order.add_argument(
        "--commit-order",
        type=Path,
        metavar="FILE",
        help="the commits in git order, one hash a line, oldest first (for results whose "
        "repository is not at hand); without this or a repository, commits go by date",
    )
    site.add_argument("--title", help="site title (default: the asv project name)")
    site.add_argument(
        "--study",
        type=Path,
        metavar="FILE",
        help="a detection study's JSON (benchmarks/detection_study.py writes it): adds the "
        "trust page, its false alarms and detection rates",
    )
    site.add_argument(
        "--force",
        action="store_true",
        help="replace --out even if it holds files wasmcmp did not write (they are deleted; "
        "without this such a folder is refused, and CNAME is always kept)",
    )


def _parse_build_guests(commands: Subparsers) -> None:
    build = commands.add_parser(
        "build-guests",
        help="rebuild the Go and Rust guests (Go: the dev extra; Rust: rustc for wasm32)",
        description=cmd_build_guests.__doc__,
    )
    build.add_argument(
        "--lang",
        choices=("all", "go", "rust"),
        default="all",
        help="which guests to rebuild (default: all whose toolchain is installed)",
    )
    build.add_argument(
        "--source",
        type=Path,
        default=Path("guests"),
        help="the folder holding one source folder per language, go/ and rust/ (default: guests)",
    )
    build.add_argument(
        "--out",
        type=Path,
        default=Path("guests"),
        help="where to write each language's .wasm files, in go/ and rust/ (default: guests)",
    )
    build.set_defaults(handler=cmd_build_guests)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``wasmcmp`` command."""
    parser = argparse.ArgumentParser(
        prog="wasmcmp",
        description="Measure what crossing the WebAssembly boundary costs from Python "
        "(wasmtime), and track it across commits.",
    )
    parser.add_argument("--version", action="version", version=f"wasmcmp {__version__}")
    parser.add_argument("--debug", action="store_true", help="print tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        _parse_run,
        _parse_call,
        _parse_cases,
        _parse_compare,
        _parse_site,
        _parse_build_guests,
    ):
        add(commands)
    return parser
