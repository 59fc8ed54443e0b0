"""The workbook port over a file on disk: fast reader in, part-preserving writer out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..model.book import CrmBook
from .edits import EditPlan
from .guard import Fingerprint, ensure_readable, resolve
from .lock import WorkbookLock


class FileWorkbook:
    """A workbook file. Reads once per command; writes through `writer.apply_plan` (atomic, with backup).

    From `read` to the end of `apply` (or `close`) the workbook's advisory lock is held, so a
    second xlcrm waits; the fingerprint taken at `read` makes `apply` refuse a file that changed
    in between (saved in Excel), instead of applying row-numbered edits to other rows.
    `unlock_protected`: write protected sheets (else the Settings switch decides).
    """

    def __init__(self, path: str | Path, *, backup_dir: Path | None = None,
                 progress: Callable[[str, float], None] | None = None, echo: Callable[[str], None] = print,
                 unlock_protected: bool = False, lock_wait: float | None = None):
        self.path = Path(path)
        self.backup_dir = backup_dir
        self.progress = progress
        self.echo = echo
        self.unlock_protected = unlock_protected
        # Only what `apply` needs from the book read: holding the whole CrmBook (its frames, ~0.8 GB
        # for 1.4M rows) through the write would add it to the write's own peak.
        self._settings = None
        self._lang = "zh-CN"
        self._lock = WorkbookLock(resolve(self.path), lock_wait)
        self.fingerprint: Fingerprint | None = None  # the file as `read` saw it
        self._ahead = None  # writer.ahead.WriteAhead: sheets `apply` will write, inflated while the command plans
        self.last_write = None  # the writer's WriteResult of the last apply

    @property
    def lang(self) -> str:
        return self._lang

    def _hold(self) -> None:
        """Start the read → write span: the lock, and the file's fingerprint taken before anything of it
        is read (a change after that — saved in Excel between two reads — then fails the write's check)."""
        kind = ensure_readable(self.path)  # a clean refusal (missing, a folder …) before any lock
        if kind == "csv":
            return
        real = resolve(self.path)
        if not self._lock.held:  # the link's target may have changed since __init__
            self._lock = WorkbookLock(real, self._lock.wait)
        self._lock.acquire()
        try:
            if self.fingerprint is None:
                self.fingerprint = Fingerprint.of(real)
        except BaseException:
            self.close()
            raise

    def read(self, keys: tuple[str, ...] | None = None, *, writes: tuple[str, ...] = ()) -> CrmBook:
        from .reader import read_book

        self._hold()
        try:
            book = read_book(self.path, progress=self.progress, keys=keys)
        except BaseException:
            self.close()
            raise
        self._settings, self._lang = book.settings, book.lang
        self._write_ahead(book, writes)
        return book

    def _write_ahead(self, book: CrmBook, writes: tuple[str, ...]) -> None:
        """Inflate the sheets the command will write into while it plans (`writer.ahead`)."""
        from .grid import sheet_parts
        from .writer.ahead import WriteAhead

        if self._ahead is not None:
            self._ahead.drop()
            self._ahead = None
        names = {book.sheets[key].name for key in writes if key in book.sheets}
        if not names:
            return
        parts = [part for name, kind, part in sheet_parts(resolve(self.path)) if name in names and kind == "worksheet"]
        self._ahead = WriteAhead.start(resolve(self.path), parts)

    def read_sheet(self, name: str) -> pd.DataFrame | None:
        from .reader import read_tool_sheet

        return read_tool_sheet(self.path, name)

    def sheet_tokens(self) -> dict[str, str]:
        """Sheet name → stamp token of the file now (see workbook.stamp); read from the zip directory.
        Starts the read → write span like `read`: tokens that said "unchanged" cannot go stale unseen."""
        from .grid import sheet_parts
        from .stamp import file_tokens

        self._hold()
        return file_tokens(self.path, {name: part for name, _kind, part in sheet_parts(self.path)})

    def apply(self, plan: EditPlan) -> None:
        from ..procs import return_free_memory
        from .writer import apply_plan

        return_free_memory()  # the write's peak then adds to less of what the command freed
        settings = self._settings
        keep = settings.backup_keep if settings else 10
        unlock = self.unlock_protected or bool(settings and settings.write_protected)
        try:
            self.last_write = apply_plan(self.path, plan, backup_dir=self.backup_dir, backup_keep=keep,
                                         lang=self.lang, fingerprint=self.fingerprint, unlock_protected=unlock,
                                         lock_wait=self._lock.wait, ahead=self._ahead)
        finally:
            self.close()  # the read → write span is over
        self.fingerprint = None  # a second apply needs a fresh read

    def close(self) -> None:
        """End the read → write span: release the lock (reading again takes it again)."""
        if self._ahead is not None:
            self._ahead.drop()
            self._ahead = None
        self._lock.release()

    def __enter__(self) -> FileWorkbook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.release()

    def check(self, plan: EditPlan) -> None:
        """Make every edit in memory and verify the result, writing nothing: a dry run then meets
        every refusal the real write would (a formula on a deleted row, a note that would be lost)."""
        from .guard import detect
        from .writer import plan_to_bytes

        # A CSV is only ever read: its dry run is a preview (a real write refuses it up front).
        if plan and detect(resolve(self.path)) != "csv":
            plan_to_bytes(self.path.read_bytes(), plan, self.lang)

    def notify(self, message: str) -> None:
        self.echo(message)
