"""``bnbench`` command line. Every subcommand lives in its own module; bad input exits 2 with one line."""

from __future__ import annotations

import argparse
import sys

from bnbench import __version__
from bnbench.errors import BnbenchError


def build_parser() -> argparse.ArgumentParser:
    from bnbench.cli import correlate, indicators, score, search, spaces, study, train, truth

    parser = argparse.ArgumentParser(prog="bnbench", description="Rank-correlation benchmark of cheap NAS indicators")
    parser.add_argument("--version", action="version", version=f"bnbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (correlate, score, train, truth, indicators, spaces, study, search):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BnbenchError as err:
        print(f"bnbench: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bnbench: interrupted (finished work is saved; rerun the same command to resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
