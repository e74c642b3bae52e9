"""The ``wasmcmp`` command: parse arguments, run the subcommand, set the exit code.

- ``parser``: one small parser function per subcommand;
- ``commands``: each subcommand's handler, a short pipeline (load, compare, render, write).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import traceback
from collections.abc import Sequence

from wasmcmp.cli.parser import build_parser
from wasmcmp.errors import WasmcmpError

EXIT_ERROR = 2
EXIT_INTERNAL = 3


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: unwind exactly as Ctrl-C does, so every cleanup runs."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # A CI runner or `timeout` stops a job with SIGTERM; Python's default would end the
    # process on the spot and leave worker processes and temporary folders behind.
    if threading.current_thread() is not threading.main_thread():
        return _run(args)  # only the main thread may handle signals
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _run(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = args.handler(args)
    except Terminated:
        print("wasmcmp: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
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


__all__ = ["EXIT_ERROR", "EXIT_INTERNAL", "Terminated", "build_parser", "main"]
