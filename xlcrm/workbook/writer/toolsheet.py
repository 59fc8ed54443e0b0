"""Build the whole XML of a tool-owned sheet (Due Today, Summary, Issues …) from its blocks.

Generated column by column from the DataFrames (no per-cell objects), so a 100k-row sheet takes
well under a second. Formatting: header fill + bold, a dark title bar, number formats, text
columns as `@`, dates with a date format, widths sized from the values (numbers as they will be
shown, so no `###`), number headers right-aligned over their numbers, frozen header, autofilter,
tab colour, and a page setup for printing (see `page_setup`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...ooxml import fastrows
from ...ooxml.addresses import cell_ref, col_letter, range_ref
from ...ooxml.cellxml import cell_xml, escape_text
from ...ooxml.columns import Kinds, cells_xml, encode_series
from ...ooxml.package import Rope
from ..edits import (
    FILL_HEADER,
    FILL_TITLE,
    FMT_DATE,
    FMT_DATETIME,
    FMT_INT,
    FMT_MONEY,
    FMT_PERCENT,
    FMT_TEXT,
    Block,
    CellStyle,
    SheetReplace,
)
from .printing import page_setup
from .styles import StyleBook

if TYPE_CHECKING:
    from .toolahead import ChildStyles

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TITLE_STYLE = CellStyle(bold=True, fill=FILL_TITLE, font_color="FFFFFFFF")
HEADER_STYLE = CellStyle(bold=True, fill=FILL_HEADER)
NUMBER_HEADER_STYLE = CellStyle(bold=True, fill=FILL_HEADER, align="right")  # over right-aligned numbers
DEFAULT_WIDTH = 8.43  # Excel's width of a column with no <col> entry


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
    xml: Iterator[bytes] | Rope | bytes  # pieces as built; their Rope or bytes once the caller has them
    places: list[BlockPlace]
    autofilter: str | None  # range, for the _FilterDatabase name
    print_titles: str | None = None  # rows repeated on every printed page ("$1:$2"), for _xlnm.Print_Titles
    well_formed: bool = False  # these very bytes were found well-formed already (`toolahead`: in the child)


def _first_col(cells: str) -> int:
    from ...ooxml.addresses import col_index

    start = cells.find('r="') + 3
    end = start
    while cells[end].isalpha():
        end += 1
    return col_index(cells[start:end])


def display_width(text: str) -> float:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def number_width(series: pd.Series, fmt: str | None) -> float:
    """Characters the widest number of a column takes as formatted (so the column never shows ###)."""
    x = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    x = x[np.isfinite(x)]
    if not len(x):
        return 0
    big = float(np.abs(x).max())
    if fmt == FMT_MONEY:
        text = f"{big:,.2f}"
    elif fmt == FMT_INT:
        text = f"{big:,.0f}"
    elif fmt == FMT_PERCENT:
        text = f"{big:.1%}"
    elif fmt == "0":
        text = f"{big:.0f}"
    else:  # General: up to 11 significant characters
        text = f"{big:.10g}"
    return len(text) + bool((x < 0).any())


def _column_cells(series: pd.Series) -> tuple[Kinds, list[str], str]:
    """(kinds, texts) of a column and its natural kind ("n", "s", "d", "t", "b"); a date column
    is all dates or all date-times, so it is formatted alike."""
    kinds, texts = encode_series(series, one_date_kind=True)
    found = {kinds} if isinstance(kinds, str) else set(kinds)
    found.discard("e")
    natural = found.pop() if len(found) == 1 else "s"
    return kinds, texts, natural


class _Styles:
    """Style indexes for a tool sheet, derived once per combination, in the order cells first need them.

    `book` is the workbook's StyleBook or a stand-in whose `derive` may give a token for an index
    (`toolahead.ChildStyles`, in a forked child); either way only the ` s="…"` attribute text is
    made of what it returns."""

    def __init__(self, book: StyleBook | ChildStyles):
        self.book = book
        self.cache: dict[CellStyle, int | str] = {}

    def __call__(self, style: CellStyle) -> int | str:
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
    kinds: Kinds,
    texts: list[str],
    col: int,
    rows: list[str],
    block: Block,
    column: str,
    text_columns: bool,
    style_of: _Styles,
    variants: list[int],
    variant_styles: list[tuple[str | None, bool]],
) -> list[str]:
    """The `<c>` elements of one column, one string per data row ("" for an empty unstyled cell)."""
    sattr = _style_attr(block, column, text_columns, style_of, variant_styles)
    return cells_xml("", col_letter(col), rows, kinds, texts, sattr, variants)


def _style_attr(block: Block, column: str, text_columns: bool, style_of: _Styles,
                variant_styles: list[tuple[str | None, bool]]):
    """The ` s="n"` attribute of a column's cells of a kind and row variant (its style derived on first use)."""
    wrap = column in block.wrap

    def sattr(kind: str, variant: int) -> str:
        fill, bold = variant_styles[variant]
        fmt = _format_for(kind, kind, block, column, text_columns)
        s = style_of(CellStyle(number_format=fmt, fill=fill, bold=bold, wrap=wrap))
        return f' s="{s}"' if s else ""

    return sattr


def _row_variants(block: Block, column: str | None = None) -> tuple[list[int], list[tuple[str | None, bool]]]:
    """Per data row, an index into the (fill, bold) styles rows have: row fills, the column's own cell
    fills (they win) and the total row. Styles are numbered in the order rows first need them."""
    n = len(block.df)
    fills = np.full(n, None, dtype=object)
    own = block.cell_fills.get(column, {}) if column is not None else {}
    for given, only_set in ((block.row_fills, False), (own, True)):  # a cell's own fill wins where it has one
        at = [(i, f) for i, f in given.items() if 0 <= i < n and (f or not only_set)]
        if at:
            positions, values = zip(*at)
            fills[list(positions)] = values
    total = bool(block.total_row) and n > 0
    codes, found = pd.factorize(fills[: n - 1] if total else fills)  # blanks (None) → -1: variant 0
    styles: list[tuple[str | None, bool]] = [(None, False), *((fill, False) for fill in found.tolist())]
    variants = (codes + 1).tolist()
    if total:  # the total row is bold (with its fill, if any): a style no other row has
        variants.append(len(styles))
        styles.append((fills[n - 1], True))
    return variants, styles


def _wrapped_lines(texts: list[str], kinds: Kinds, width: float, first_row: int, lines: dict[int, int]) -> None:
    """Lines each wrapped text takes in a column `width` characters wide (CJK counted double)."""
    per_line = max(width - 1, 1)
    for i, text in enumerate(texts):
        kind = kinds if isinstance(kinds, str) else kinds[i]
        if kind != "s" or not text:
            continue
        n = sum(max(1, math.ceil(display_width(part) / per_line)) for part in text.split("\n"))
        if n > 1:
            lines[first_row + i] = max(lines.get(first_row + i, 1), n)


def code_name_of(old: bytes) -> str | None:
    """The VBA code name of the sheet a tool sheet replaces (kept, so the add-in's code still finds it)."""
    m = re.search(rb'<(?:\w+:)?sheetPr\b[^>]*\bcodeName="([^"]*)"', old)
    return m.group(1).decode("utf-8") if m else None


def _height(lines: dict[int, int], row: int) -> str:
    n = lines.get(row)
    return f' ht="{15 * n}" customHeight="1"' if n else ""


def _dropdowns_xml(validations: list[tuple[str, list[str]]]) -> str:
    """List validations; a warning (not a stop) so a value typed another way is still accepted."""
    items = []
    for sqref, values in validations:
        listed = ",".join(v.replace(",", " ").replace('"', "'") for v in values)[:255]
        items.append(f'<dataValidation type="list" errorStyle="warning" allowBlank="1" showErrorMessage="1" '
                     f'sqref="{sqref}"><formula1>"{escape_text(listed)}"</formula1></dataValidation>')
    return f'<dataValidations count="{len(items)}">' + "".join(items) + "</dataValidations>"


def build_tool_sheet(
    spec: SheetReplace, styles: StyleBook | ChildStyles, *, code_name: str | None = None,
    drawing_rid: str | None = None, polars: bool = True,
) -> ToolSheetXml:
    """The sheet, its XML as an iterator of UTF-8 pieces: the rows polars joins are made only as they
    are taken, so a caller that deflates them as they come never holds the whole sheet (the L book's
    Due Today: 515 MB of XML). Every style is derived before this returns, so the bytes do not depend
    on when the pieces are taken. `polars=False`: rows joined by Python only (the same bytes; in a
    forked child, where polars' thread pool did not survive the fork)."""
    style_of = _Styles(styles)
    rows: dict[int, list[str]] = {}  # sheet row → its cells, for titles, headers and blocks side by side
    places: list[BlockPlace] = []
    widths: dict[int, float] = {}
    # The data rows of a block no other block shares rows with, encoded a block at a time: (first row, pieces).
    segments: list[tuple[int, list[bytes]]] = []
    last_data_row = 0
    autofilter = None
    validations: list[tuple[str, list[str]]] = []
    max_col = 1
    extents: list[tuple[int, int]] = []  # first and last sheet row of each block, for page breaks
    lines: dict[int, int] = {}  # sheet row → lines of wrapped text (its height; no reader autofits reliably)
    spans = _block_spans(spec.blocks)
    for block, (top, left, alone) in zip(spec.blocks, spans, strict=True):
        row = top
        ncols = max(1, len(block.df.columns))
        if block.title:
            rows.setdefault(row, []).append(
                cell_xml("", cell_ref(row, left), style_of(TITLE_STYLE), "s", escape_text(block.title))
            )
            title_s = style_of(TITLE_STYLE)
            for c in range(left + 1, left + ncols):  # (a style index 0 is no attribute, as in `cell_xml`)
                rows[row].append(f'<c r="{cell_ref(row, c)}"' + (f' s="{title_s}"' if title_s else "") + "/>")
            row += 1
        header_row = row
        place = BlockPlace(header_row, header_row + 1, header_row + len(block.df), left)
        header_cells = rows.setdefault(header_row, [])
        n = len(block.df)
        column_xml: list[list[str]] = []
        fast = alone and polars and fastrows.worth_it(n * ncols)  # whole rows joined by polars, not cell by cell here
        prepared: list[fastrows.PreparedColumn] = []
        row_variants = _row_variants(block)  # once per block, for the columns without fills of their own
        row_numbers = [] if fast else list(map(str, range(header_row + 1, header_row + 1 + n)))  # as text
        for j, column in enumerate(block.df.columns):
            col = left + j
            place.columns[str(column)] = col
            kinds, texts, natural = _column_cells(block.df.iloc[:, j])
            hs = style_of(NUMBER_HEADER_STYLE if natural == "n" else HEADER_STYLE)
            header_cells.append(
                cell_xml("", cell_ref(header_row, col), hs, "s", escape_text(str(column)))
            )
            head_kinds = [kinds] * min(n, 200) if isinstance(kinds, str) else kinds[:200]
            sample = [display_width(str(column))] + [display_width(t) for k, t in zip(head_kinds, texts) if k == "s"]
            if any(k in "dt" for k in head_kinds[:5]):
                sample.append(16 if natural == "t" else 11)
            digits = number_width(block.df.iloc[:, j], block.number_formats.get(str(column))) if natural == "n" else 0
            sample.append(digits)
            width = block.widths.get(str(column)) or min(max(max(sample) + 2, 8), 60)
            width = max(width, digits + 2)  # a given width never hides a number behind ###
            widths[col] = max(widths.get(col, 0), width)
            variants, variant_styles = (_row_variants(block, str(column)) if str(column) in block.cell_fills
                                        else row_variants)
            if str(column) in block.wrap:
                _wrapped_lines(texts, kinds, width, header_row + 1, lines)
            if fast:
                sattr = _style_attr(block, str(column), spec.text_columns, style_of, variant_styles)
                prepared.append(fastrows.PreparedColumn.of("", col_letter(col), kinds, texts, sattr, variants).compact())
                del kinds, texts  # let this column's strs go before the next column's are made
                continue
            column_xml.append(
                _cells_xml(
                    kinds,
                    texts,
                    col,
                    row_numbers,
                    block,
                    str(column),
                    spec.text_columns,
                    style_of,
                    variants,
                    variant_styles,
                )
            )
        first = header_row + 1
        if fast:
            heights = [_height(lines, r) for r in range(first, first + n)] if lines else None
            segments.append((first, fastrows.rows_xml("", prepared, first, n, heights, ROWS_PER_PIECE)))
            if n and prepared:
                last_data_row = max(last_data_row, first + n - 1)
        elif alone:  # no other block in these rows: whole rows at once
            segments.append((first, _encoded_rows(column_xml, first, n, lines)))
            if n and column_xml:
                last_data_row = max(last_data_row, first + n - 1)
        else:
            for i, cells_text in enumerate(map("".join, zip(*column_xml))):
                rows.setdefault(first + i, []).append(cells_text)
        for column, values in block.dropdowns.items():
            if column in place.columns and values:
                col = place.columns[column]  # the data rows plus room for rows the user adds below
                validations.append((range_ref(first, col, max(first + n - 1, first) + 200, col), values))
        if block.autofilter and autofilter is None:
            autofilter = range_ref(header_row, left, max(header_row + n, header_row), left + ncols - 1)
        places.append(place)
        extents.append((top, header_row + n))
        max_col = max(max_col, left + ncols - 1)
    last_row = max([*rows, last_data_row]) if rows or last_data_row else 1
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{R_NS}">',
    ]
    one_list = len(places) == 1 and not spec.hidden  # a list: its title and header repeat on each page
    setup = page_setup(spec, extents, widths, max_col, (1, places[0].header_row) if one_list else None)
    pr_attrs = f' codeName="{escape_text(code_name)}"' if code_name else ""
    tab = f'<tabColor rgb="{spec.tab_color}"/>' if spec.tab_color else ""
    parts.append(f"<sheetPr{pr_attrs}>{tab}{setup.sheet_pr}</sheetPr>")
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
    tail = ["</sheetData>"]
    if autofilter:
        tail.append(f'<autoFilter ref="{autofilter}"/>')
    if validations:
        tail.append(_dropdowns_xml(validations))
    tail.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>')
    tail.append(setup.after_margins)
    if drawing_rid:
        tail.append(f'<drawing r:id="{drawing_rid}"/>')
    tail.append("</worksheet>")
    pieces = _sheet_pieces(parts, rows, segments, lines, len(spec.blocks) > 1, "".join(tail))
    return ToolSheetXml(pieces, places, autofilter, setup.print_titles)


def _sheet_pieces(head: list[str], rows: dict[int, list[str]], segments: list[tuple[int, Iterable[bytes]]],
                  lines: dict[int, int], side_by_side: bool, tail: str) -> Iterator[bytes]:
    """The sheet's UTF-8 from `head` (up to `<sheetData>`) to `tail`: the rows of `rows` and of the
    segments (blocks encoded whole, which never share a row with `rows`) in ascending order."""
    parts = head
    pending = iter(sorted(segments, key=lambda segment: segment[0]))
    segment = next(pending, None)
    for r in sorted(rows):
        while segment is not None and segment[0] < r:
            yield "".join(parts).encode("utf-8")
            yield from segment[1]
            parts, segment = [], next(pending, None)
        cells = rows[r]
        if len(cells) > 1 and side_by_side:  # blocks side by side: cells must ascend by column
            cells = sorted(cells, key=_first_col)
        parts.append(f'<row r="{r}"{_height(lines, r)}>' + "".join(cells) + "</row>")
    yield "".join(parts).encode("utf-8")
    while segment is not None:
        yield from segment[1]
        segment = next(pending, None)
    yield tail.encode("utf-8")


def _block_spans(blocks: list[Block]) -> list[tuple[int, int, bool]]:
    """(top row, left column, alone) of each block: `alone` when no other block has a row among its
    data rows, so they can be encoded whole rows at a time instead of merged cell by cell."""
    tops, next_row = [], 1
    for block in blocks:
        top, left = block.at if block.at else (next_row, 1)
        tops.append((top, left))
        next_row = top + block.height + 1  # a blank row between blocks stacked by default
    ranges = [(top, top + block.height - 1) for (top, _), block in zip(tops, blocks, strict=True)]
    out = []
    for i, ((top, left), block) in enumerate(zip(tops, blocks, strict=True)):
        first, last = top + block.height - len(block.df), top + block.height - 1
        alone = all(hi < first or lo > last for j, (lo, hi) in enumerate(ranges) if j != i)
        out.append((top, left, alone))
    return out


ROWS_PER_PIECE = 16_384


def _encoded_rows(column_xml: list[list[str]], first: int, n: int, lines: dict[int, int]) -> list[bytes]:
    """The `<row>` elements of a block's data rows (its columns' cells side by side), encoded
    ROWS_PER_PIECE rows at a time. Each column's cells are dropped as they are used: the L book's
    Due Today list (780k rows × 12 cells) would otherwise be held as cells, rows, one joined text
    (2 bytes per character once it holds any Chinese) and its UTF-8 all at once."""
    out = []
    if not column_xml:
        return out
    # Last piece first: cutting a list's tail is cheap, cutting its head moves all the rest.
    for start in reversed(range(0, n, ROWS_PER_PIECE)):
        piece = []
        for column in column_xml:
            piece.append(column[start:])
            del column[start:]
        out.append(
            "".join(
                f'<row r="{r}"{_height(lines, r)}>{cells_text}</row>'
                for r, cells_text in zip(range(first + start, first + n), map("".join, zip(*piece)))
            ).encode("utf-8")
        )
        n = start
    out.reverse()
    return out
