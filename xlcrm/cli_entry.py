"""The `xlcrm` script's entry point: starts the read's head start, then imports and runs the CLI.

Kept apart from `xlcrm.cli` on purpose: importing the CLI imports pandas and the rest (about a
second on one core), and the biggest sheet of the book can be parsing on the other core meanwhile
(see `xlcrm.workbook.headstart`). Nothing heavy may be imported above `main`'s last line.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    from .workbook import headstart

    headstart.start_for_argv(sys.argv[1:] if argv is None else argv)
    from .cli import main as cli_main

    cli_main(argv)


def script() -> None:
    """What the `xlcrm` script and `python -m xlcrm` run: `main`, then a quick exit.

    A command that read a big book leaves about a gigabyte of Python objects (modules' caches,
    pandas, polars); the interpreter's teardown frees them one by one — 0.2–0.4 s on the M book —
    just before the process ends and the system takes its memory back anyway. So once the command
    has returned (its file written and closed, its `finally` blocks run), `exit_now` ends the
    process. An exception other than SystemExit ends it the usual way, with its traceback."""
    try:
        main()
    except SystemExit as exc:
        exit_now(exc.code)
    exit_now(0)


def exit_now(code: object) -> None:
    """End the process with `code` (as SystemExit would read it) without the interpreter's teardown:
    exit handlers (the workbook locks', logging's) run and the output is flushed first. While another
    non-daemon thread is still running, the usual exit instead (it waits for that thread)."""
    import threading

    me = threading.current_thread()
    if any(t is not me and not t.daemon and t.is_alive() for t in threading.enumerate()):
        raise SystemExit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # SystemExit("message"): printed, status 1 — as Python does
        print(code, file=sys.stderr)
        status = 1
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`xlcrm … | head`) or a closed stream
            pass
    os._exit(status if os.name == "nt" else status & 0xFF)  # Windows keeps wide codes, as sys.exit does there


if __name__ == "__main__":
    script()
