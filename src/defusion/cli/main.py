"""The ``defusion`` command: one sub-command per module in this package."""

from __future__ import annotations

import argparse
import importlib
import sys

from defusion import __version__
from defusion.cli.errors import run_guarded

#: Sub-command name -> module in defusion.cli (imported only when used: fast --help).
COMMANDS = {
    "fuse": "fuse",
    "train": "train",
    "info": "info",
    "metrics": "metrics",
    "bench": "bench",
    "serve": "serve",
    "export": "export",
    "video": "video",
    "calibrate": "calibrate",
    "ui": "ui",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="defusion", description="DeFusion image fusion toolkit")
    parser.add_argument("--version", action="version", version=f"defusion {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"defusion.cli.{module_name}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module = args._module
    return run_guarded(lambda: module.run(args), getattr(module, "EXPECTED_ERRORS", ()))


if __name__ == "__main__":
    sys.exit(main())
