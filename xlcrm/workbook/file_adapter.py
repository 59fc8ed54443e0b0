"""The workbook port over a file on disk: fast reader in, part-preserving writer out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .book import CrmBook
from .edits import EditPlan


class FileWorkbook:
    """A workbook file. Reads once per command; writes through `writer.apply_plan` (atomic, with backup)."""

    def __init__(self, path: str | Path, *, backup_dir: Path | None = None,
                 progress: Callable[[str, float], None] | None = None, echo: Callable[[str], None] = print):
        self.path = Path(path)
        self.backup_dir = backup_dir
        self.progress = progress
        self.echo = echo
        self._book: CrmBook | None = None
        self.last_write = None  # the writer's WriteResult of the last apply

    @property
    def lang(self) -> str:
        return self._book.lang if self._book else "zh-CN"

    def read(self) -> CrmBook:
        from .reader import read_book

        self._book = read_book(self.path, progress=self.progress)
        return self._book

    def read_sheet(self, name: str) -> pd.DataFrame | None:
        from .reader import read_tool_sheet

        return read_tool_sheet(self.path, name)

    def apply(self, plan: EditPlan) -> None:
        from .writer import apply_plan

        keep = self._book.settings.backup_keep if self._book else 10
        self.last_write = apply_plan(self.path, plan, backup_dir=self.backup_dir, backup_keep=keep, lang=self.lang)

    def check(self, plan: EditPlan) -> None:
        """Make every edit in memory and verify the result, writing nothing: a dry run then meets
        every refusal the real write would (a formula on a deleted row, a note that would be lost)."""
        from .writer import plan_to_bytes

        if plan:
            plan_to_bytes(self.path.read_bytes(), plan, self.lang)

    def notify(self, message: str) -> None:
        self.echo(message)
