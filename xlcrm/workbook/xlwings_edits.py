"""Each edit type applied to a live Excel workbook through xlwings: rectangular block writes
(chunked), `@` set before text goes in, native charts, marks with notes, rows deleted/inserted.
`XlwingsWorkbook` dispatches to these (see its `_apply`)."""

from __future__ import annotations

import contextlib
import datetime as dt

import pandas as pd

from .. import schema
from ..errors import SchemaError
from ..model.values import plain_value  # NaN/NaT/NA → empty cell, as xlwings writes it
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
    InsertRows,
    MarkCells,
    SheetReplace,
)
from .xlwings_values import argb_to_rgb, rgb_to_hex

CHUNK_ROWS = 5_000  # rows per block write: large writes through COM/AppleScript fail or stall
MARK_SHEET = "_xlcrm_marks"  # shared with the file writer's mark state (same columns)
MARK_COLUMNS = ["sheet", "cell", "severity", "note", "prev_style", "marked_style", "prev_fill", "note_added"]
_CHART_TYPES = {"bar": "bar_clustered", "column": "column_clustered", "line": "line", "pie": "pie"}


class XlwingsEdits:
    """The edit handlers of `XlwingsWorkbook` (needs its `book`, `chunk_rows`, `_find_sheet` and `read_sheet`)."""

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
        sheet, _ = self._sheet(edit.sheet, edit.after)
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
            rows = [[plain_value(v) for v in r] for r in df.itertuples(index=False, name=None)]
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
            values = [plain_value(edit.values[r]) for r in run]
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
        value = plain_value(edit.value)
        if isinstance(value, str):
            rng.number_format = FMT_TEXT
        rng.value = value
        self._style(rng, edit.style)

    def _append_rows(self, edit: AppendRows) -> None:
        sheet, created = self._sheet(edit.sheet, edit.after)
        df = edit.df
        if created:
            self._write_rows(sheet, 1, 1, [[str(c) for c in df.columns]])
            self._style(sheet.range((1, 1), (1, len(df.columns))), CellStyle(bold=True, fill=FILL_HEADER))
            start = 2
        else:
            used = sheet.used_range
            start = used.row + used.rows.count if used.value is not None else 1
        rows = [[plain_value(v) for v in r] for r in df.itertuples(index=False, name=None)]
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
        from ..ooxml.addresses import cell_ref, split_ref

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
            values = [plain_value(cells.get(c)) for c in range(first, last + 1)]
            for c, fmt in edit.number_formats.items():
                if first <= c <= last and not isinstance(values[c - first], str):
                    sheet.range((row, c)).number_format = fmt
            text = {i for i, v in enumerate(values) if isinstance(v, str)}
            self._write_rows(sheet, row, first, [values], text)

    # -- the user ------------------------------------------------------------------------------
