"""The ``modelauth`` command: ``modelauth demo`` (more subcommands as the project grows)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="modelauth", description="Amplify-grade model authorization, locally"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run sample requests through every auth mode on embedded moto")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from modelauth.demo import run

        return run()
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
