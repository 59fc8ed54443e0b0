"""Build the whole XML of a tool-owned sheet (Due Today, Summary, Issues …) from its blocks.

Generated column by column from the DataFrames (no per-cell objects), so a 100k-row sheet takes
well under a second. Formatting: header fill + bold, a dark title bar, number formats, text
columns as `@`, dates with a date format, widths, frozen header, autofilter, tab colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..edits import FILL_HEADER, FILL_TITLE, FMT_DATE, FMT_DATETIME, FMT_TEXT, Block, CellStyle, SheetReplace
from .cells import _EPOCH, _number, cell_ref, col_letter, encode_column, escape_text, range_ref
from .styles import StyleBook

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TITLE_STYLE = CellStyle(bold=True, fill=FILL_TITLE, font_color="FFFFFFFF")
HEADER_STYLE = CellStyle(bold=True, fill=FILL_HEADER)


@dataclass
class BlockPlace:
    """Where a block landed: what charts and autofilters refer to."""

    header_row: int
    first_row: int  # first data row
    last_row: int  # last data row (== header_row when there is no data)
    first_col: int
    columns: dict[str, int] = field(default_factory=dict)  # df column → sheet column


@dataclass
class ToolSheetXml:
    xml: bytes
    places: list[BlockPlace]
    autofilter: str | None  # range, for the _FilterDatabase name


def _first_col(cells: str) -> int:
    from .cells import col_index

    start = cells.find('r="') + 3
    end = start
    while cells[end].isalpha():
        end += 1
    return col_index(cells[start:end])


def display_width(text: str) -> float:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _serials(values: pd.Series) -> tuple[list[str | None], bool]:
    """Excel serials of a datetime column as text (None for NaT) and whether any has a time."""
    ts = pd.to_datetime(values, errors="coerce")
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_localize(None)
    mask = ts.isna().to_numpy()
    delta = (ts - pd.Timestamp(_EPOCH)).to_numpy(dtype="timedelta64[ns]")
    days = delta.astype("int64") / 86_400e9
    days = np.where(days < 61, days - 1, days)
    has_time = bool(np.any((~mask) & (days != np.floor(days))))
    out = [None if m else _number(float(d)) for d, m in zip(days.tolist(), mask.tolist())]
    return out, has_time


def _column_cells(series: pd.Series) -> tuple[list[tuple[str, str]], str]:
    """(kind, text) per value, and the column's natural kind ("n", "s", "d", "t", "b")."""
    if pd.api.types.is_datetime64_any_dtype(series):
        serials, has_time = _serials(series)
        kind = "t" if has_time else "d"
        return [("e", "") if v is None else (kind, v) for v in serials], kind
    if pd.api.types.is_bool_dtype(series):
        return [("b", "1" if v else "0") for v in series.tolist()], "b"
    if pd.api.types.is_integer_dtype(series) and not isinstance(series.dtype, pd.core.arrays.integer.IntegerDtype):
        return [("n", str(v)) for v in series.tolist()], "n"
    if pd.api.types.is_float_dtype(series):
        out = []
        for v in series.tolist():
            if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))):
                out.append(("e", ""))
            else:
                out.append(("n", _number(v)))
        return out, "n"
    kinds_list, texts = encode_column(series.tolist())
    cells = list(zip(kinds_list, texts))
    kinds = set(kinds_list) - {"e"}
    natural = kinds.pop() if len(kinds) == 1 else "s"
    return cells, natural


class _Styles:
    """Style indexes for a tool sheet, derived once per combination."""

    def __init__(self, book: StyleBook):
        self.book = book
        self.cache: dict[CellStyle, int] = {}

    def __call__(self, style: CellStyle) -> int:
        if style == CellStyle():
            return 0
        if style not in self.cache:
            self.cache[style] = self.book.derive(None, style)
        return self.cache[style]


def _format_for(kind: str, natural: str, block: Block, column: str, text_columns: bool) -> str | None:
    if column in block.number_formats:
        return block.number_formats[column]
    if kind == "d":
        return FMT_DATE
    if kind == "t":
        return FMT_DATETIME
    if kind == "s" and text_columns:
        return FMT_TEXT
    return None


def _cells_xml(
    cells: list[tuple[str, str]],
    col: int,
    first_row: int,
    block: Block,
    column: str,
    text_columns: bool,
    style_of: _Styles,
) -> list[str]:
    """The `<c>` elements of one column, one string per data row ("" for an empty unstyled cell)."""
    letter = col_letter(col)
    last_pos = len(cells) - 1
    plain: dict[str, str] = {}  # kind → ' s="n"' for rows without a fill or bold total

    def sattr(kind: str, i: int) -> str:
        fill = block.row_fills.get(i)
        bold = block.total_row and i == last_pos
        if fill is None and not bold and kind in plain:
            return plain[kind]
        fmt = _format_for(kind, kind, block, column, text_columns)
        s = style_of(CellStyle(number_format=fmt, fill=fill, bold=bold))
        text = f' s="{s}"' if s else ""
        if fill is None and not bold:
            plain[kind] = text
        return text

    out = []
    append = out.append
    for i, (kind, text) in enumerate(cells):
        r = first_row + i
        sa = sattr(kind, i)
        if kind == "s":
            if text[:1].isspace() or text[-1:].isspace() or "\n" in text:
                append(f'<c r="{letter}{r}"{sa} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
            else:
                append(f'<c r="{letter}{r}"{sa} t="inlineStr"><is><t>{text}</t></is></c>')
        elif kind == "n" or kind == "d" or kind == "t":
            append(f'<c r="{letter}{r}"{sa}><v>{text}</v></c>')
        elif kind == "b":
            append(f'<c r="{letter}{r}"{sa} t="b"><v>{text}</v></c>')
        else:
            append(f'<c r="{letter}{r}"{sa}/>' if sa else "")
    return out


def build_tool_sheet(
    spec: SheetReplace, styles: StyleBook, *, code_name: str | None = None, drawing_rid: str | None = None
) -> ToolSheetXml:
    style_of = _Styles(styles)
    rows: dict[int, list[str]] = {}
    places: list[BlockPlace] = []
    widths: dict[int, float] = {}
    next_row = 1
    autofilter = None
    max_col = 1
    for block in spec.blocks:
        top, left = block.at if block.at else (next_row, 1)
        row = top
        ncols = max(1, len(block.df.columns))
        if block.title:
            rows.setdefault(row, []).append(
                f'<c r="{cell_ref(row, left)}" s="{style_of(TITLE_STYLE)}" t="inlineStr"><is><t>'
                f"{escape_text(block.title)}</t></is></c>"
            )
            for c in range(left + 1, left + ncols):
                rows[row].append(f'<c r="{cell_ref(row, c)}" s="{style_of(TITLE_STYLE)}"/>')
            row += 1
        header_row = row
        place = BlockPlace(header_row, header_row + 1, header_row + len(block.df), left)
        hs = style_of(HEADER_STYLE)
        header_cells = rows.setdefault(header_row, [])
        for j, column in enumerate(block.df.columns):
            col = left + j
            place.columns[str(column)] = col
            header_cells.append(
                f'<c r="{cell_ref(header_row, col)}" s="{hs}" t="inlineStr"><is><t>'
                f"{escape_text(str(column))}</t></is></c>"
            )
        n = len(block.df)
        column_xml: list[list[str]] = []
        for j, column in enumerate(block.df.columns):
            col = left + j
            cells, natural = _column_cells(block.df.iloc[:, j])
            sample = [display_width(str(column))] + [display_width(t) for k, t in cells[:200] if k == "s"]
            if any(k in "dt" for k, _ in cells[:5]):
                sample.append(16 if natural == "t" else 11)
            width = block.widths.get(str(column)) or min(max(max(sample) + 2, 8), 60)
            widths[col] = max(widths.get(col, 0), width)
            column_xml.append(_cells_xml(cells, col, header_row + 1, block, str(column), spec.text_columns, style_of))
        for i, cells_text in enumerate(map("".join, zip(*column_xml))):
            rows.setdefault(header_row + 1 + i, []).append(cells_text)
        if block.autofilter and autofilter is None:
            autofilter = range_ref(header_row, left, max(header_row + n, header_row), left + ncols - 1)
        places.append(place)
        max_col = max(max_col, left + ncols - 1)
        next_row = header_row + n + 2
    last_row = max(rows) if rows else 1
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{R_NS}">',
    ]
    pr_attrs = f' codeName="{escape_text(code_name)}"' if code_name else ""
    tab = f'<tabColor rgb="{spec.tab_color}"/>' if spec.tab_color else ""
    if pr_attrs or tab:
        parts.append(f"<sheetPr{pr_attrs}>{tab}</sheetPr>" if tab else f"<sheetPr{pr_attrs}/>")
    parts.append(f'<dimension ref="{range_ref(1, 1, last_row, max_col)}"/>')
    if spec.freeze_header and places:
        split = places[0].header_row
        parts.append(
            f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{split}" topLeftCell="A{split + 1}" '
            f'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" '
            f'activeCell="A{split + 1}" sqref="A{split + 1}"/></sheetView></sheetViews>'
        )
    else:
        parts.append('<sheetViews><sheetView workbookViewId="0"/></sheetViews>')
    parts.append('<sheetFormatPr defaultRowHeight="15"/>')
    if widths:
        parts.append(
            "<cols>"
            + "".join(f'<col min="{c}" max="{c}" width="{w:.4g}" customWidth="1"/>' for c, w in sorted(widths.items()))
            + "</cols>"
        )
    parts.append("<sheetData>")
    for r in sorted(rows):
        cells = rows[r]
        if len(cells) > 1 and len(spec.blocks) > 1:  # blocks side by side: cells must ascend by column
            cells = sorted(cells, key=_first_col)
        parts.append(f'<row r="{r}">' + "".join(cells) + "</row>")
    parts.append("</sheetData>")
    if autofilter:
        parts.append(f'<autoFilter ref="{autofilter}"/>')
    parts.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>')
    if drawing_rid:
        parts.append(f'<drawing r:id="{drawing_rid}"/>')
    parts.append("</worksheet>")
    return ToolSheetXml("".join(parts).encode("utf-8"), places, autofilter)
