"""The `xlcrm` script's entry point: starts the read's head start, then imports and runs the CLI.

Kept apart from `xlcrm.cli` on purpose: importing the CLI imports pandas and the rest (about a
second on one core), and the biggest sheet of the book can be parsing on the other core meanwhile
(see `xlcrm.workbook.headstart`). Nothing heavy may be imported above `main`'s last line.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    from .workbook import headstart

    headstart.start_for_argv(sys.argv[1:] if argv is None else argv)
    from .cli import main as cli_main

    cli_main(argv)


if __name__ == "__main__":
    main()
