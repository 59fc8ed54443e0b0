"""The workbook port: the only way commands touch a workbook (a file, or live Excel via xlwings)."""

from __future__ import annotations

from typing import Protocol

import pandas as pd

from ..model.book import CrmBook
from .edits import EditPlan


class WorkbookPort(Protocol):
    def read(self, keys: tuple[str, ...] | None = None, *, writes: tuple[str, ...] = ()) -> CrmBook:
        """Read the data sheets (`keys`: only these; default all) and the settings, once per command.
        `writes`: the data sheets the command will write into (a hint: the file port prepares them
        for the write while the command plans)."""
        ...

    def read_sheet(self, name: str) -> pd.DataFrame | None:
        """A tool-owned sheet as a DataFrame (header in row 1, values as text), or None if absent."""
        ...

    def sheet_tokens(self) -> dict[str, str]:
        """Sheet name → stamp token (workbook.stamp) of each sheet as saved now; {} when unknown."""
        ...

    def apply(self, plan: EditPlan) -> None:
        """Make every edit of the plan; all or nothing."""
        ...

    def notify(self, message: str) -> None:
        """Tell the user something (a console line, or an alert in Excel)."""
        ...
