"""The workbook port over a live Excel workbook (an xlwings `Book`): what the add-in's buttons use.

Reads: each sheet's *used range* once, as one 2-D block (not `expand="table"`, which stops at a
blank row), turned into the reader's all-text grid, so a live workbook yields exactly the
DataFrames the file reader gives (same header detection, same typing in `ops.normalize`).
Writes: every edit as rectangular blocks (one `.value = rows` per block, chunked), with `@` set
on a range *before* text values go in, so "00123" never becomes 123. Screen updating and
automatic calculation are paused while writing; the active sheet and the selection are restored.
Writes are not visible to reads in the same xlwings call, so nothing here reads what it wrote.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
from typing_extensions import assert_never  # typing.assert_never is 3.11+

from .. import schema
from ..model.book import CrmBook
from .edits import (
    AppendRows,
    Block,
    CellWrite,
    ColumnWrite,
    DeleteRows,
    Edit,
    EditPlan,
    InsertRows,
    MarkCells,
    SheetReplace,
)
from .ownership import STATE_SHEET, Ownership, OwnershipGuard, SheetRef
from .xlwings_edits import CHUNK_ROWS, MARK_COLUMNS, MARK_SHEET, XlwingsEdits
from .xlwings_values import argb_to_rgb, cell_text, rgb_to_hex, sheet_tables, used_values


class XlwingsWorkbook(XlwingsEdits):
    """`WorkbookPort` over an xlwings Book (live Excel)."""

    def __init__(self, book, *, chunk_rows: int = CHUNK_ROWS):
        self.book = book
        self.chunk_rows = chunk_rows
        self._book: CrmBook | None = None

    # -- identity ------------------------------------------------------------------------------
    @property
    def key(self) -> str:
        return str(getattr(self.book, "fullname", "") or self.book.name)

    @property
    def lang(self) -> str:
        if self._book is not None:
            return self._book.lang
        names = [s.name for s in self.book.sheets]
        customers = next((n for n in names if schema.match_sheet(n) == "customers"), "")
        return "en" if customers and customers.isascii() else schema.DEFAULT_LANG

    @property
    def read_only(self) -> bool:
        api = getattr(self.book, "api", None)
        for attr in ("ReadOnly", "read_only"):
            try:
                value = getattr(api, attr)
                value = value.get() if hasattr(value, "get") else value  # appscript on macOS
                return bool(value)
            except Exception:  # attribute absent on this platform
                continue
        return False

    # -- reading -------------------------------------------------------------------------------
    def _grid(self, sheet):
        from .reader import Grid

        rows = used_values(sheet)
        width = max((len(r) for r in rows), default=0)
        columns = [pa.array([cell_text(r[c]) if c < len(r) else None for r in rows], type=pa.string())
                   for c in range(width)]
        batch = pa.RecordBatch.from_arrays(columns, names=[f"c{c}" for c in range(width)]) if columns else \
            pa.RecordBatch.from_arrays([], names=[])
        return Grid(name=sheet.name, batch=batch, col_index=list(range(width)))

    def read(self, keys: tuple[str, ...] | None = None, *, writes: tuple[str, ...] = ()) -> CrmBook:
        """Every data sheet (`keys` and `writes` are for file readers: live Excel reads them all)."""
        from .reader import assemble_book, locate_sheets, read_ownership

        sheets = {s.name: s for s in self.book.sheets}
        names = list(sheets)
        grids: dict[str, object] = {}  # each used range is read once

        def grid_of(name: str):
            if name not in grids:
                grids[name] = self._grid(sheets[name])
            return grids[name]

        refs = [SheetRef(n, "", "visible" if getattr(sheets[n], "visible", True) else "hidden") for n in names]
        ownership = read_ownership(names, refs, grid_of)
        by_key = locate_sheets(names, grid_of, ownership, refs)
        self._book = assemble_book(names, by_key, grid_of, lambda name: sheet_tables(sheets[name]), ownership=ownership)
        return self._book

    def sheet_tokens(self) -> dict[str, str]:
        return {}  # the book lives in Excel: no saved parts to compare, every sheet is read

    def read_sheet(self, name: str) -> pd.DataFrame | None:
        sheet = self._find_sheet(name)
        if sheet is None:
            return None
        rows = used_values(sheet)
        if not rows:
            return pd.DataFrame()
        header = [cell_text(v) or "" for v in rows[0]]
        body = [[cell_text(v) for v in r] + [None] * (len(header) - len(r)) for r in rows[1:]]
        body = [r for r in body if any(v is not None for v in r)]
        frame = pd.DataFrame(body, columns=header, dtype=object)
        return frame.where(frame.notna(), None)

    def _find_sheet(self, name: str):
        # The exact name only (Excel ignores case): a user's sheet that means the same is not xlcrm's.
        return next((s for s in self.book.sheets if s.name.casefold() == name.casefold()), None)

    # -- writing -------------------------------------------------------------------------------
    def _guard(self) -> OwnershipGuard:
        def refs() -> list[SheetRef]:
            return [SheetRef(s.name, "", "visible" if getattr(s, "visible", True) else "hidden")
                    for s in self.book.sheets]

        def header_at(sheet: str, row: int, col: int) -> str:
            found = self._find_sheet(sheet)
            return (cell_text(found.range((row, col)).value) or "") if found is not None else ""

        own = self._book.ownership if self._book is not None else Ownership()
        return OwnershipGuard(own, refs, header_at)

    def apply(self, plan: EditPlan) -> None:
        guard = self._guard()  # never onto a sheet or column xlcrm did not create (see ownership)
        with self._quiet():
            for edit in plan.edits:
                created = guard.check(edit)
                self._apply(edit)
                guard.record(edit, created)
            if guard.changed:
                self._sheet_replace(SheetReplace(STATE_SHEET, [Block(guard.state_frame())], hidden="veryHidden",
                                                 freeze_header=False))

    def _apply(self, edit: Edit) -> None:
        match edit:
            case SheetReplace():
                self._sheet_replace(edit)
            case ColumnWrite():
                self._column_write(edit)
            case CellWrite():
                self._cell_write(edit)
            case AppendRows():
                self._append_rows(edit)
            case MarkCells():
                self._mark_cells(edit)
            case DeleteRows():
                self._delete_rows(edit)
            case InsertRows():
                self._insert_rows(edit)
            case _:  # a new Edit type must get a case here (the type checker says so too)
                assert_never(edit)

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """Screen updating and calculation off while writing; active sheet and selection restored."""
        app = self.book.app
        active = selection = None
        with contextlib.suppress(Exception):
            active = self.book.sheets.active
            selection = app.selection
        saved = {}
        for attr, value in (("screen_updating", False), ("calculation", "manual")):
            with contextlib.suppress(Exception):
                saved[attr] = getattr(app, attr)
                setattr(app, attr, value)
        try:
            yield
        finally:
            for attr, value in saved.items():
                with contextlib.suppress(Exception):
                    setattr(app, attr, value)
            with contextlib.suppress(Exception):
                if active is not None:
                    active.activate()
                if selection is not None:
                    selection.select()

    def notify(self, message: str) -> None:
        with contextlib.suppress(Exception):
            self.book.app.status_bar = message

    def alert(self, text: str, title: str = "xlcrm", mode: str = "info") -> None:
        self.book.app.alert(text, title=title, mode=mode)

    @contextlib.contextmanager
    def status(self, tag: str) -> Iterator[None]:
        self.notify(f"xlcrm: {tag} …")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                self.book.app.status_bar = False

    def selection(self) -> tuple[str, int] | None:
        """(sheet name, 1-based row) of the selected cell, for buttons acting on one row (客户卡)."""
        try:
            rng = self.book.app.selection
            return (rng.sheet.name, int(rng.row)) if rng is not None else None
        except Exception:  # a chart or a shape is selected, or no window
            return None

    def row_values(self, sheet_name: str, row: int, width: int = 30) -> list[object]:
        """The first `width` cells of one row (the Card button reads a customer ID off a tool sheet's row)."""
        sheet = self._find_sheet(sheet_name)
        if sheet is None:
            return []
        with contextlib.suppress(Exception):
            return list(sheet.range((row, 1), (row, width)).options(ndim=1).value)
        return []

    def show_sheet_named(self, key: str) -> None:
        sheet = self._find_sheet(schema.SHEETS_BY_KEY[key].name(self.lang))
        if sheet is not None:
            with contextlib.suppress(Exception):
                sheet.activate()


__all__ = ["CHUNK_ROWS", "MARK_COLUMNS", "MARK_SHEET", "XlwingsWorkbook", "argb_to_rgb", "cell_text",
           "rgb_to_hex"]
