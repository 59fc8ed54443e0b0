"""`CrmBook`: what the reader hands to the operations — three DataFrames and where they came from.

DataFrame conventions (every reader and adapter produces exactly these):
- one column per schema key of the sheet, always present (a column the user's sheet lacks is all
  missing), typed by `schema.Kind`: text kinds are `object` str or None (IDs, phones and postcodes
  keep their leading zeros), DATE is `datetime64[ns]` (NaT when blank or unreadable), MONEY and
  NUMBER are float64 (NaN when blank or unreadable), CHOICE/BOOL hold the choice *code*
  (e.g. "negotiating", "yes") or None; the text the user typed is kept in `raw` below;
- column `_row`: the 1-based sheet row number Excel shows (int64) — how every finding and every
  write is located;
- the user's unknown columns, under their header text as found, values as read (kept, never lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..settings import Settings
from .messages import Problem
from .ownership import Ownership, free_header, free_name

ROW = "_row"


def dtype_for(kind) -> str:
    """The pandas dtype a column of this `schema.Kind` has (see the conventions above)."""
    from ..schema import Kind

    if kind == Kind.DATE:
        return "datetime64[ns]"
    if kind in {Kind.MONEY, Kind.NUMBER}:
        return "float64"
    return "object"


def empty_frame(sheet_key: str) -> pd.DataFrame:
    """A typed frame with every schema column and no rows."""
    from ..schema import SHEETS_BY_KEY

    data: dict[str, pd.Series] = {ROW: pd.Series([], dtype="int64")}
    for col in SHEETS_BY_KEY[sheet_key].columns:
        data[col.key] = pd.Series([], dtype=dtype_for(col.kind))
    return pd.DataFrame(data)


def with_columns(frame: pd.DataFrame, columns: dict[str, pd.Series]) -> pd.DataFrame:
    """`frame` with these columns set (replaced or added at the end), sharing every other column.

    For "the book as it will be" after a command: a deep copy of Basic Info costs ~1 s on a
    million-row book (35 text columns of Python objects), and only a few columns change. Whole
    columns are swapped, never written into, so `frame` stays as it was (with or without pandas'
    copy-on-write)."""
    out = frame.copy(deep=False)
    for key, values in columns.items():
        out[key] = values
    return out


@dataclass
class SheetInfo:
    """Where one data sheet's records are, so results can be written back beside them."""

    key: str  # schema sheet key
    name: str  # the sheet's name in the workbook
    header_row: int  # 1-based row of the header
    columns: dict[str, int]  # schema key → 1-based column index, for columns the sheet has
    headers: dict[str, str]  # schema key → header text as the user sees it
    extra_columns: dict[str, int] = field(default_factory=dict)  # unknown header → column index
    last_column: int = 0  # 1-based index of the last used column
    last_row: int = 0  # 1-based index of the last non-blank row
    table: str | None = None  # Excel Table (ListObject) name holding the data, if any

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1

    def header_of(self, key: str, fallback: str | None = None) -> str:
        return self.headers.get(key) or fallback or key


@dataclass
class CrmBook:
    customers: pd.DataFrame
    followups: pd.DataFrame
    purchases: pd.DataFrame
    settings: Settings = field(default_factory=Settings)
    lang: str = "zh-CN"
    sheets: dict[str, SheetInfo] = field(default_factory=dict)  # schema key → SheetInfo (data sheets found)
    sheet_names: list[str] = field(default_factory=list)  # every sheet of the workbook, in order
    tool_sheets: dict[str, str] = field(default_factory=dict)  # tool sheet key → its name in this workbook
    problems: list[Problem] = field(default_factory=list)  # found while reading (unreadable dates, …)
    raw: dict[str, pd.DataFrame] = field(default_factory=dict)  # sheet key → typed-as-text values, same index
    path: Path | None = None
    ownership: Ownership = field(default_factory=Ownership)  # what xlcrm created in this workbook
    new_tool_sheets: dict[str, str] = field(default_factory=dict)  # tool key → free name chosen for a new sheet
    service: pd.DataFrame | None = None  # the optional Service sheet (服务记录); None when the book has none

    def frame(self, key: str) -> pd.DataFrame:
        if key == "service":
            return self.service if self.service is not None else empty_frame("service")
        return {"customers": self.customers, "followups": self.followups, "purchases": self.purchases}[key]

    def sheet_name_for(self, key: str) -> str:
        """The sheet xlcrm writes for `key`: a data sheet, the tool sheet xlcrm made before, or a new one.

        A new tool sheet gets the schema name in the book's language, or — when a sheet of the user's
        already has that name — the first free `name (2)`, `name (3)`…: the user's sheet is never taken.
        """
        from ..schema import sheet_name

        if key in self.sheets:
            return self.sheets[key].name
        if key in self.tool_sheets:
            return self.tool_sheets[key]
        if key not in self.new_tool_sheets:
            taken = [*self.sheet_names, *self.new_tool_sheets.values()]
            self.new_tool_sheets[key] = free_name(sheet_name(key, self.lang), taken)
        return self.new_tool_sheets[key]

    def renamed_tool_sheets(self) -> dict[str, str]:
        """New tool sheets that could not take their usual name (a user's sheet has it): key → name used."""
        from ..schema import sheet_name

        return {k: n for k, n in self.new_tool_sheets.items() if n != sheet_name(k, self.lang)}

    def computed_header(self, sheet_key: str, key: str, lang: str) -> tuple[str, int | None]:
        """Where xlcrm writes computed column `key`: (header, column index) of the column it owns, or
        (a free header, None) for a new one — beside, never over, a user's column of the same name."""
        from ..schema import SHEETS_BY_KEY

        info = self.sheets[sheet_key]
        if key in info.columns:
            return info.headers[key], info.columns[key]
        wanted = SHEETS_BY_KEY[sheet_key].column(key).header(lang)
        return free_header(wanted, [*info.headers.values(), *info.extra_columns], lang), None
