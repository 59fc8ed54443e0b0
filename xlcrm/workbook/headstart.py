"""The read's head start: the biggest data sheet starts parsing while the CLI is still importing.

`xlcrm run BOOK` spends about a second importing pandas and the rest, on one core, before it opens
the book. The read then waits on its biggest sheet (Follow-ups: 5 of the M book's 7 s), which
fastexcel parses without holding the GIL. So the CLI's entry point (`start_for_argv`), before it
imports anything heavy, starts that one sheet on a thread of its own, and the read's `SheetLoader`
takes the parse from here (`take`) instead of loading the sheet again.

Safe by construction: it only reads, the sheet is parsed exactly as the read parses it (whole, or a
huge one in stretches of rows: `grid.load_stretched`), and
`take` hands it out only for the same file, unchanged since (path, size, mtime, inode), and the same
sheet name. Whatever goes wrong here is dropped: the read then loads the sheet itself and raises its
own error, if any. A head start nobody takes costs the other core for a while and its memory until
the process ends, so it is made only for commands that read the whole book, and only for a sheet
big enough to matter.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from pathlib import Path

# CLI commands whose first step is reading the whole book (`port.read()`).
READING_COMMANDS = frozenset({"run", "check", "regrade", "due", "summary", "receivables", "dedupe", "merge",
                              "export", "card", "info"})
MIN_BYTES = 8 << 20  # inflated sheet XML; below this the parse is over in ~0.3 s, before the imports are
DECIDE_TIMEOUT = 30.0  # seconds `take` waits for the head start to pick its sheet (it takes milliseconds)
_SUFFIXES = (".xlsx", ".xlsm")


class HeadStart:
    """One sheet of one file, parsing on a daemon thread."""

    def __init__(self, path: Path):
        self.path = path
        self.decided = threading.Event()  # set once `sheet` is chosen (or nothing will be)
        self.sheet: str | None = None
        self.identity: tuple | None = None
        self.grid: Future = Future()

    def run(self) -> None:
        try:
            from . import grid  # pyarrow and lxml: cheap next to pandas, which the main thread is importing

            stat = os.stat(self.path)
            self.sheet = _biggest_data_sheet(self.path, grid)
            self.identity = _identity(self.path, stat)
        except Exception:  # the read will say what is wrong with the file
            self.sheet = None
        finally:
            self.decided.set()
        if self.sheet is None:
            return
        self.grid.set_running_or_notify_cancel()
        try:
            stretched = grid.load_stretched(self.path, self.sheet, grid.huge_sheets(self.path, "ooxml"))
            self.grid.set_result(stretched if stretched is not None
                                 else grid.load_grid(grid.open_workbook(self.path, "xlsx"), self.sheet))
        except BaseException as exc:  # handed to the read, which raises it as its own load would
            self.grid.set_exception(exc)


_current: HeadStart | None = None
_lock = threading.Lock()


def start_for_argv(args: list[str]) -> HeadStart | None:
    """Start a head start if `args` (the CLI's, without the program name) read a workbook whole."""
    command = next((a for a in args if a in READING_COMMANDS), None)
    if command is None:
        return None
    rest = args[args.index(command) + 1:]
    book = next((a for a in rest if not a.startswith("-") and a.lower().endswith(_SUFFIXES)), None)
    if book is None or not os.path.isfile(book):
        return None
    return start(Path(book))


def start(path: Path) -> HeadStart | None:
    """Start parsing `path`'s biggest data sheet on a daemon thread (None where threads cannot start)."""
    global _current
    head = HeadStart(Path(path))
    try:
        threading.Thread(target=head.run, name="xlcrm-headstart", daemon=True).start()
    except RuntimeError:  # no threads on this platform (Pyodide)
        return None
    with _lock:
        _current = head
    return head


def take(path: Path, name: str) -> Future | None:
    """The future `Grid` of sheet `name` of `path` if a head start parses exactly that; else None.

    Handed out once. The file must be the one the head start opened, unchanged since."""
    global _current
    with _lock:
        head = _current
    if head is None or not head.decided.wait(DECIDE_TIMEOUT) or head.sheet != name:
        return None
    try:
        same = head.identity is not None and _identity(Path(path), os.stat(path)) == head.identity
    except OSError:
        same = False
    with _lock:
        if not same or _current is not head:
            return None
        _current = None
    return head.grid


def _identity(path: Path, stat: os.stat_result) -> tuple:
    return os.path.realpath(path), stat.st_size, stat.st_mtime_ns, stat.st_ino


def named_like_data(name: str, keys: tuple[str, ...] | None = None) -> bool:
    """Is this sheet, by its name alone, a data sheet (or an optional one, e.g. Service) the read
    will load whole? The reader starts loading these at once (`reader._likely`); the head start
    picks the biggest of them. `keys`: only these sheet keys (a read of some sheets)."""
    from ..model.ownership import is_internal
    from ..schema import DATA_SHEETS, OPTIONAL_SHEETS, match_sheet

    key = match_sheet(name)
    return (any(key == spec.key for spec in (*DATA_SHEETS, *OPTIONAL_SHEETS)) and (keys is None or key in keys)
            and not is_internal(name))


def _biggest_data_sheet(path: Path, grid) -> str | None:
    """The read's first and longest load: the biggest worksheet named like a data sheet, if big enough."""
    parts = grid.sheet_parts(path)
    # A macro or dialog sheet makes the read open a filtered copy (grid.calamine_source): not worth it here.
    if not parts or any(kind not in ("worksheet", "chartsheet") for _, kind, _ in parts):
        return None
    sizes = grid.part_sizes(path)
    candidates = [(sizes.get(part, 0), name) for name, kind, part in parts
                  if kind == "worksheet" and named_like_data(name)]
    if not candidates:
        return None
    size, name = max(candidates)
    return name if size >= MIN_BYTES else None
