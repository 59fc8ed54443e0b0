"""An `EditPlan`: every change a command wants made to a workbook, as plain data.

Commands build a plan from pure results; an adapter applies the whole plan at once — the file
adapter through the part-preserving writer (one atomic save), the live-Excel adapter through
xlwings (one block write per range). Nothing here does I/O.

Coordinates are 1-based and in the user's terms: `row` is the number Excel shows, `col` the
column index (A = 1). Sheet names are the names in the workbook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ..model.values import plain_value

Value = str | int | float | bool | dt.date | dt.datetime | None

# Number formats used across xlcrm, so every sheet formats alike.
FMT_DATE = "yyyy-mm-dd"
FMT_DATETIME = "yyyy-mm-dd hh:mm"
FMT_MONEY = "#,##0.00"
FMT_INT = "#,##0"
FMT_PERCENT = "0.0%"
FMT_TEXT = "@"

# Fills (ARGB) with meaning.
FILL_ERROR = "FFFFC7CE"  # light red: a cell Check flagged as an error
FILL_WARNING = "FFFFEB9C"  # light yellow: a warning
FILL_OVERDUE = "FFFCE4D6"  # light orange: an overdue row on Due Today
FILL_HEADER = "FFDDEBF7"  # light blue: tool-sheet headers
FILL_TITLE = "FF1F4E78"  # dark blue: a block title


@dataclass(frozen=True)
class CellStyle:
    """A style to apply; the writer maps it to (possibly new) entries in styles.xml."""

    number_format: str | None = None
    bold: bool = False
    fill: str | None = None  # ARGB
    font_color: str | None = None  # ARGB
    wrap: bool = False
    align: Literal["left", "center", "right"] | None = None


class ColumnValues(Mapping[int, Value]):
    """A column's values by sheet row, kept as two arrays: a computed column of 10⁶ values is a
    row array and a typed Series, not a dict of 10⁶ Python objects (≈ 200 bytes each). Reads like
    that dict (row → value, NaN/NaT → None, datetime64 → datetime); the writer takes the arrays."""

    def __init__(self, rows, values: pd.Series):
        self.rows = np.asarray(rows, dtype=np.int64)
        self.series = values.reset_index(drop=True)
        if len(self.rows) != len(self.series):
            raise ValueError("rows and values differ in length")
        self._position: dict[int, int] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[int]:
        return iter(self.rows.tolist())

    def __getitem__(self, row: int) -> Value:
        if self._position is None:
            self._position = {r: i for i, r in enumerate(self.rows.tolist())}
        return plain_value(self.series.iat[self._position[row]])

    def __repr__(self) -> str:
        return f"ColumnValues({len(self)} rows)"


@dataclass
class ColumnWrite:
    """Write one column of values into a user's sheet, addressed by sheet row.

    If `col` is None the column is found by `header` in `header_row` (normalised match) or,
    failing that, created right of the last used column — inside the sheet's Excel Table when
    the data is in one (the table's `ref` and `tableColumns` are extended, header = column name).
    Cells not in `values` are left alone. A value of None clears the cell's value (style kept).
    `values` is a dict, or `ColumnValues` for a long column.
    Existing cells keep their style unless `style` is given; new cells get `style`.
    """

    sheet: str
    header: str
    header_row: int
    values: Mapping[int, Value]
    col: int | None = None
    style: CellStyle | None = None
    header_style: CellStyle | None = None  # for a newly created header cell only
    width: float | None = None  # for a newly created column only
    owner: str | None = None  # "customers.grade": a computed column xlcrm owns (recorded when created)


@dataclass
class CellWrite:
    sheet: str
    row: int
    col: int
    value: Value
    style: CellStyle | None = None


@dataclass
class Block:
    """A rectangular table on a tool-owned sheet: a header row (df.columns) and data rows."""

    df: pd.DataFrame
    title: str | None = None  # one bold title row above the header
    at: tuple[int, int] | None = None  # (row, col) of the title (or header); None: below the previous block
    number_formats: dict[str, str] = field(default_factory=dict)  # df column → number format
    widths: dict[str, float] = field(default_factory=dict)  # df column → width (characters)
    row_fills: dict[int, str] = field(default_factory=dict)  # positional row in df → ARGB fill
    autofilter: bool = False  # at most one block per sheet (Excel allows one sheet autofilter)
    total_row: bool = False  # last df row is a total: bold
    dropdowns: dict[str, list[str]] = field(default_factory=dict)  # df column → values offered in a dropdown
    cell_fills: dict[str, dict[int, str]] = field(default_factory=dict)  # df column → {positional row: ARGB}
    wrap: tuple[str, ...] = ()  # df columns whose text wraps (long problem / suggestion text)

    @property
    def height(self) -> int:
        return (1 if self.title else 0) + 1 + len(self.df)


@dataclass
class Chart:
    """A native chart drawn from one block of the same sheet."""

    kind: Literal["bar", "column", "line", "pie"]
    title: str
    block: int  # index into SheetReplace.blocks
    categories: str  # df column holding the category labels
    series: list[str]  # df columns, one series each
    anchor: tuple[int, int]  # (row, col) of the chart's top-left cell
    size: tuple[int, int] = (15, 8)  # (columns, rows) the chart spans
    stacked: bool = False
    axis_format: str = "#,##0"  # the value axis' number format (thousands separators)


@dataclass
class SheetReplace:
    """Replace every cell of a tool-owned sheet (creating the sheet if missing)."""

    sheet: str
    blocks: list[Block]
    after: str | None = None  # when created: insert after this sheet (None: at the end)
    hidden: Literal[False, "hidden", "veryHidden"] = False
    freeze_header: bool = True  # freeze the rows above the first block's data
    charts: list[Chart] = field(default_factory=list)
    tab_color: str | None = None  # ARGB
    text_columns: bool = True  # str values stay text ("00123" never becomes 123)
    owner: str | None = None  # the tool sheet key; the writer replaces only a sheet xlcrm recorded as this

    @property
    def name(self) -> str:
        """The old spelling of `sheet` (every edit now names its sheet `sheet`); kept for callers in flight."""
        return self.sheet


@dataclass
class AppendRows:
    """Append rows below the last used row of a sheet (created with `header` if missing)."""

    sheet: str
    df: pd.DataFrame
    after: str | None = None
    number_formats: dict[str, str] = field(default_factory=dict)
    widths: dict[str, float] = field(default_factory=dict)
    hidden: Literal[False, "hidden", "veryHidden"] = False
    owner: str | None = None  # the tool sheet key (None: rows appended to a user's data sheet)

    @property
    def name(self) -> str:
        """The old spelling of `sheet` (every edit now names its sheet `sheet`); kept for callers in flight."""
        return self.sheet


@dataclass(frozen=True)
class CellMark:
    row: int
    col: int
    note: str
    severity: Literal["error", "warning"] = "error"


@dataclass
class MarkCells:
    """Mark cells of a user's sheet with a fill and a note.

    The marks replace every mark xlcrm made on this sheet before: cells marked last time and not
    now get their own fill back and lose xlcrm's note (an empty list clears all of xlcrm's marks).
    The user's own notes and fills are never removed.
    """

    sheet: str
    marks: list[CellMark]


@dataclass
class DeleteRows:
    """Remove whole data rows from a user's sheet (used by merge after the rows are archived)."""

    sheet: str
    rows: list[int]


@dataclass
class InsertRows:
    """Insert whole rows into a user's sheet, moving the rows below down (as Excel does).

    `rows` maps the row number each new row has afterwards to its values by column index, so
    re-inserting the rows a DeleteRows removed (undo of a merge) puts them back where they were.
    """

    sheet: str
    rows: dict[int, dict[int, Value]]
    number_formats: dict[int, str] = field(default_factory=dict)  # column index → number format


Edit = ColumnWrite | CellWrite | SheetReplace | AppendRows | MarkCells | DeleteRows | InsertRows


@dataclass(frozen=True)
class Stamp:
    """After every edit: the tokens (`workbook.stamp`) of `sheets` in the file being saved replace the
    `stamp.MARKER` cell of the state sheet `sheet` (written by the same plan); `sheets` = ("*",): every
    sheet but that one. File writer only: in live Excel the marker stays, which reads as "no tokens"."""

    sheet: str
    sheets: tuple[str, ...]


@dataclass
class EditPlan:
    edits: list[Edit] = field(default_factory=list)
    operation: str = ""  # "check", "regrade", … (for the backup name and logs)
    stamp: Stamp | None = None
    # The caller reads the edits no more once written: the writer lets go of each once it is made
    # (the L book's tool sheets' frames, ~1 GB, were otherwise held to the end of the write).
    handed_over: bool = False

    def add(self, edit: Edit) -> EditPlan:
        self.edits.append(edit)
        return self

    def extend(self, other: EditPlan) -> EditPlan:
        self.edits.extend(other.edits)
        return self

    def __bool__(self) -> bool:
        return bool(self.edits)
