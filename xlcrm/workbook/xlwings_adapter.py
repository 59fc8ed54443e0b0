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
import datetime as dt
import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import schema
from ..errors import SchemaError
from .book import CrmBook
from .edits import (
    FILL_ERROR,
    FILL_HEADER,
    FILL_WARNING,
    FMT_DATE,
    FMT_TEXT,
    AppendRows,
    Block,
    CellStyle,
    CellWrite,
    ColumnWrite,
    DeleteRows,
    EditPlan,
    InsertRows,
    MarkCells,
    SheetReplace,
)
from .ownership import STATE_SHEET, Ownership, OwnershipGuard, SheetRef

CHUNK_ROWS = 5_000  # rows per block write: large writes through COM/AppleScript fail or stall
MARK_SHEET = "_xlcrm_marks"  # shared with the file writer's mark state (same columns)
MARK_COLUMNS = ["sheet", "cell", "severity", "note", "prev_style", "marked_style", "prev_fill", "note_added"]
_CHART_TYPES = {"bar": "bar_clustered", "column": "column_clustered", "line": "line", "pie": "pie"}


# --------------------------------------------------------------------------- values


def cell_text(value: object) -> str | None:
    """A cell value as the file reader sees it (calamine's text form), or None when blank."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else format(float(value), ".15g")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d 00:00:00")
    text = str(value)
    return text if text.strip() else None


def excel_value(value: object) -> object:
    """A Python/pandas value as xlwings writes it (NaN/NaT/NA → empty cell)."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def argb_to_rgb(argb: str) -> tuple[int, int, int]:
    h = argb[-6:]
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def rgb_to_hex(rgb) -> str:
    if not rgb:
        return ""
    r, g, b = rgb
    return f"FF{r:02X}{g:02X}{b:02X}"


# --------------------------------------------------------------------------- the adapter


class XlwingsWorkbook:
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

        rows = _used_values(sheet)
        width = max((len(r) for r in rows), default=0)
        columns = [pa.array([cell_text(r[c]) if c < len(r) else None for r in rows], type=pa.string())
                   for c in range(width)]
        batch = pa.RecordBatch.from_arrays(columns, names=[f"c{c}" for c in range(width)]) if columns else \
            pa.RecordBatch.from_arrays([], names=[])
        return Grid(name=sheet.name, batch=batch, col_index=list(range(width)))

    def read(self) -> CrmBook:
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
        self._book = assemble_book(names, by_key, grid_of, lambda name: _tables(sheets[name]), ownership=ownership)
        return self._book

    def read_sheet(self, name: str) -> pd.DataFrame | None:
        sheet = self._find_sheet(name)
        if sheet is None:
            return None
        rows = _used_values(sheet)
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

    def _apply(self, edit) -> None:
        if isinstance(edit, SheetReplace):
            self._sheet_replace(edit)
        elif isinstance(edit, ColumnWrite):
            self._column_write(edit)
        elif isinstance(edit, CellWrite):
            self._cell_write(edit)
        elif isinstance(edit, AppendRows):
            self._append_rows(edit)
        elif isinstance(edit, MarkCells):
            self._mark_cells(edit)
        elif isinstance(edit, DeleteRows):
            self._delete_rows(edit)
        elif isinstance(edit, InsertRows):
            self._insert_rows(edit)
        else:  # pragma: no cover - a new Edit type must be added here
            raise TypeError(f"unknown edit {type(edit).__name__}")

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

    def _sheet(self, name: str, after: str | None = None, create: bool = True):
        existing = {s.name: s for s in self.book.sheets}
        if name in existing:
            return existing[name], False
        if not create:
            raise SchemaError("找不到工作表“{sheet}”", "Sheet '{sheet}' not found", sheet=name)
        anchor = existing.get(after) if after else None
        if anchor is None:
            anchor = list(self.book.sheets)[-1]
        return self.book.sheets.add(name, after=anchor), True

    def _write_rows(self, sheet, row: int, col: int, rows: list[list[object]], text_cols: set[int] = frozenset()):
        """One block of values at (row, col), in chunks; '@' first on the text columns."""
        if not rows:
            return
        width = max(len(r) for r in rows)
        for start in range(0, len(rows), self.chunk_rows):
            part = [list(r) + [None] * (width - len(r)) for r in rows[start:start + self.chunk_rows]]
            top = row + start
            for c in sorted(text_cols):
                sheet.range((top, col + c), (top + len(part) - 1, col + c)).number_format = FMT_TEXT
            sheet.range((top, col), (top + len(part) - 1, col + width - 1)).value = part

    def _style(self, rng, style: CellStyle | None) -> None:
        if style is None:
            return
        if style.number_format:
            rng.number_format = style.number_format
        if style.fill:
            rng.color = argb_to_rgb(style.fill)
        with contextlib.suppress(Exception):
            if style.bold:
                rng.font.bold = True
            if style.font_color:
                rng.font.color = argb_to_rgb(style.font_color)
            if style.wrap:
                rng.wrap_text = True

    def _sheet_replace(self, edit: SheetReplace) -> None:
        sheet, _ = self._sheet(edit.name, edit.after)
        sheet.clear()
        row, col = 1, 1
        anchors: list[tuple[int, int, int]] = []  # per block: header row, first col, last data row
        for block in edit.blocks:
            if block.at is not None:
                row, col = block.at
            if block.title:
                sheet.range((row, col)).value = block.title
                with contextlib.suppress(Exception):
                    sheet.range((row, col)).font.bold = True
                row += 1
            df = block.df
            header_row = row
            self._write_rows(sheet, row, col, [[str(c) for c in df.columns]])
            hdr = sheet.range((row, col), (row, col + max(len(df.columns), 1) - 1))
            self._style(hdr, CellStyle(bold=True, fill=FILL_HEADER))
            rows = [[excel_value(v) for v in r] for r in df.itertuples(index=False, name=None)]
            text_cols = {i for i, c in enumerate(df.columns)
                         if edit.text_columns and any(isinstance(v, str) for v in df[c].tolist())}
            self._write_rows(sheet, row + 1, col, rows, text_cols)
            last = row + len(df)
            for name, fmt in block.number_formats.items():
                if name in df.columns and len(df):
                    c = col + list(df.columns).index(name)
                    sheet.range((row + 1, c), (last, c)).number_format = fmt
            for name, width in block.widths.items():
                if name in df.columns:
                    sheet.range((row, col + list(df.columns).index(name))).column_width = width
            for pos, fill in block.row_fills.items():
                sheet.range((row + 1 + pos, col), (row + 1 + pos, col + len(df.columns) - 1)).color = argb_to_rgb(fill)
            for name, fills in block.cell_fills.items():
                if name in df.columns:
                    for pos, fill in fills.items():
                        sheet.range((row + 1 + pos, col + list(df.columns).index(name))).color = argb_to_rgb(fill)
            for name in block.wrap:
                if name in df.columns and len(df):
                    c = col + list(df.columns).index(name)
                    with contextlib.suppress(Exception):
                        sheet.range((row + 1, c), (last, c)).api.WrapText = True
            if block.total_row and len(df):
                with contextlib.suppress(Exception):
                    sheet.range((last, col), (last, col + len(df.columns) - 1)).font.bold = True
            anchors.append((header_row, col, last))
            row = last + 2
        for chart in edit.charts:
            self._chart(sheet, edit.blocks[chart.block], anchors[chart.block], chart)
        if edit.hidden:
            with contextlib.suppress(Exception):
                sheet.visible = False
        if edit.tab_color:
            with contextlib.suppress(Exception):
                sheet.color = argb_to_rgb(edit.tab_color)

    def _chart(self, sheet, block: Block, anchor: tuple[int, int, int], chart) -> None:
        header_row, col, last = anchor
        cols = list(block.df.columns)
        with contextlib.suppress(Exception):  # charts are a convenience: never fail the command
            cat = col + cols.index(chart.categories)
            series = [col + cols.index(s) for s in chart.series]
            top_left = sheet.range(chart.anchor)
            c = sheet.charts.add(left=top_left.left, top=top_left.top, width=chart.size[0] * 48,
                                 height=chart.size[1] * 15)
            c.chart_type = _CHART_TYPES[chart.kind]
            c.set_source_data(sheet.range((header_row, min(cat, *series)), (last, max(cat, *series))))

    def _header_col(self, sheet, edit: ColumnWrite) -> tuple[int, bool]:
        if edit.col is not None:
            return edit.col, False
        used = sheet.used_range
        last_col = used.column + used.columns.count - 1 if used.value is not None else 0
        headers = sheet.range((edit.header_row, 1), (edit.header_row, max(last_col, 1))).options(ndim=1).value
        wanted = schema.normalize_name(edit.header)
        for i, h in enumerate(headers or [], start=1):
            if h is not None and schema.normalize_name(h) == wanted:
                return i, False
        return last_col + 1, True

    def _column_write(self, edit: ColumnWrite) -> None:
        sheet, _ = self._sheet(edit.sheet, create=False)
        col, new = self._header_col(sheet, edit)
        if new:
            cell = sheet.range((edit.header_row, col))
            cell.value = edit.header
            self._style(cell, edit.header_style or CellStyle(bold=True))
            if edit.width:
                cell.column_width = edit.width
        rows = sorted(edit.values)
        runs: list[list[int]] = []
        for r in rows:  # consecutive rows become one block
            if runs and r == runs[-1][-1] + 1:
                runs[-1].append(r)
            else:
                runs.append([r])
        for run in runs:
            values = [excel_value(edit.values[r]) for r in run]
            text = any(isinstance(v, str) for v in values)
            for start in range(0, len(run), self.chunk_rows):
                part = values[start:start + self.chunk_rows]
                top = run[start]
                rng = sheet.range((top, col), (top + len(part) - 1, col))
                if text:
                    rng.number_format = FMT_TEXT
                elif edit.style and edit.style.number_format:
                    rng.number_format = edit.style.number_format
                elif any(isinstance(v, (dt.date, dt.datetime)) for v in part):
                    rng.number_format = FMT_DATE
                rng.value = [[v] for v in part]
                if edit.style is not None:
                    self._style(rng, CellStyle(fill=edit.style.fill, bold=edit.style.bold,
                                               font_color=edit.style.font_color, wrap=edit.style.wrap))

    def _cell_write(self, edit: CellWrite) -> None:
        sheet, _ = self._sheet(edit.sheet, create=False)
        rng = sheet.range((edit.row, edit.col))
        value = excel_value(edit.value)
        if isinstance(value, str):
            rng.number_format = FMT_TEXT
        rng.value = value
        self._style(rng, edit.style)

    def _append_rows(self, edit: AppendRows) -> None:
        sheet, created = self._sheet(edit.name, edit.after)
        df = edit.df
        if created:
            self._write_rows(sheet, 1, 1, [[str(c) for c in df.columns]])
            self._style(sheet.range((1, 1), (1, len(df.columns))), CellStyle(bold=True, fill=FILL_HEADER))
            start = 2
        else:
            used = sheet.used_range
            start = used.row + used.rows.count if used.value is not None else 1
        rows = [[excel_value(v) for v in r] for r in df.itertuples(index=False, name=None)]
        text_cols = {i for i, c in enumerate(df.columns) if any(isinstance(v, str) for v in df[c].tolist())}
        self._write_rows(sheet, start, 1, rows, text_cols)
        for name, fmt in edit.number_formats.items():
            if name in df.columns and len(df):
                c = 1 + list(df.columns).index(name)
                sheet.range((start, c), (start + len(df) - 1, c)).number_format = fmt
        for name, width in edit.widths.items():
            if name in df.columns:
                sheet.range((1, 1 + list(df.columns).index(name))).column_width = width
        if edit.hidden and created:
            with contextlib.suppress(Exception):
                sheet.visible = False

    def _mark_cells(self, edit: MarkCells) -> None:
        from .writer.cells import cell_ref, split_ref

        sheet, _ = self._sheet(edit.sheet, create=False)
        state = self.read_sheet(MARK_SHEET)
        rows = [] if state is None or state.empty else state.reindex(columns=MARK_COLUMNS).to_dict("records")
        keep = [r for r in rows if str(r["sheet"]).casefold() != sheet.name.casefold()]
        for r in rows:  # take last run's marks on this sheet away
            if str(r["sheet"]).casefold() != sheet.name.casefold():
                continue
            row, col = split_ref(str(r["cell"]))
            rng = sheet.range((row, col))
            marked = {FILL_ERROR, FILL_WARNING}
            if rgb_to_hex(rng.color) in marked:  # the user did not recolour it since
                rng.color = argb_to_rgb(r["prev_fill"]) if r["prev_fill"] else None
            if str(r["note_added"]) in ("1", "True", "true") and rng.note is not None:
                with contextlib.suppress(Exception):
                    rng.note.delete()
        for m in edit.marks:
            rng = sheet.range((m.row, m.col))
            prev = rgb_to_hex(rng.color)
            rng.color = argb_to_rgb(FILL_ERROR if m.severity == "error" else FILL_WARNING)
            added = False
            if rng.note is None:
                with contextlib.suppress(Exception):
                    rng.add_note(m.note) if hasattr(rng, "add_note") else setattr(rng.note, "text", m.note)
                    added = True
            keep.append({"sheet": sheet.name, "cell": cell_ref(m.row, m.col), "severity": m.severity, "note": m.note,
                         "prev_style": "", "marked_style": "", "prev_fill": prev, "note_added": "1" if added else "0"})
        frame = pd.DataFrame(keep, columns=MARK_COLUMNS).astype(object)
        self._sheet_replace(SheetReplace(MARK_SHEET, [Block(frame)], hidden="veryHidden", freeze_header=False))

    def _delete_rows(self, edit: DeleteRows) -> None:
        sheet, _ = self._sheet(edit.sheet, create=False)
        for row in sorted(set(edit.rows), reverse=True):  # bottom up, so row numbers stay valid
            sheet.range(f"{row}:{row}").delete()

    def _insert_rows(self, edit: InsertRows) -> None:
        """Excel's own row insertion (it moves notes, formulas and ranges), then one block per row."""
        sheet, _ = self._sheet(edit.sheet, create=False)
        for row in sorted(edit.rows):  # top down: each row lands at the number it is given
            sheet.range(f"{row}:{row}").insert("down")
        for row, cells in sorted(edit.rows.items()):
            if not cells:
                continue
            first, last = min(cells), max(cells)
            values = [excel_value(cells.get(c)) for c in range(first, last + 1)]
            for c, fmt in edit.number_formats.items():
                if first <= c <= last and not isinstance(values[c - first], str):
                    sheet.range((row, c)).number_format = fmt
            text = {i for i, v in enumerate(values) if isinstance(v, str)}
            self._write_rows(sheet, row, first, [values], text)

    # -- the user ------------------------------------------------------------------------------
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


def _used_values(sheet) -> list[list[object]]:
    """The used range as rows, padded so row i is Excel row i + 1 and column j is column j + 1."""
    used = sheet.used_range
    values = used.options(ndim=2).value
    if not values or values == [[None]]:
        return []
    pad_left = [None] * (used.column - 1)
    rows = [[] for _ in range(used.row - 1)]
    rows += [pad_left + list(r) for r in values]
    return rows


def _tables(sheet) -> list[tuple[str, str]]:
    out = []
    with contextlib.suppress(Exception):
        for t in sheet.tables:
            out.append((t.name, t.range.address.replace("$", "")))
    return out
