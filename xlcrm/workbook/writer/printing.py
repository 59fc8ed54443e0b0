"""Page setup of a tool sheet, so a manager can print it: A4, landscape when the sheet is wide, fit to
one page wide (as many pages down as needed), the header rows repeated on every page of a list, page
numbers in the footer, and — on sheets of several tables and charts — page breaks between sections
so no table start or chart is cut in two.

The page arithmetic is an estimate in Excel's units (a width unit ≈ 7 px at 96 dpi, rows 15 pt); it
only decides where sections go, Excel / LibreOffice still lay the page out themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...ooxml.cellxml import escape_text
from ..edits import SheetReplace

A4 = (8.27, 11.69)  # inches
MARGINS = (0.7, 0.75)  # left/right, top/bottom (the pageMargins below)
HEADER_FOOTER = 0.6  # inches taken by the footer line and its spacing
INCH_PER_WIDTH = 7 / 96  # one character of column width
ROW_INCH = 15 / 72
PORTRAIT_MAX_WIDTH = 90  # more width units than fit across a portrait A4 page: print landscape


@dataclass
class PageSetup:
    sheet_pr: str  # child of <sheetPr>
    after_margins: str  # <pageSetup>, <headerFooter>, <rowBreaks>
    print_titles: str | None  # "$1:$2" for _xlnm.Print_Titles, or None


def _sections(spec: SheetReplace, extents: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Row ranges that must stay on one page if they fit: each block with the charts beside it."""
    ranges = list(extents)
    for chart in spec.charts:
        ranges.append((chart.anchor[0], chart.anchor[0] + chart.size[1] - 1))
    ranges.sort()
    merged: list[list[int]] = []
    for top, bottom in ranges:
        if merged and top <= merged[-1][1] + 2:  # a chart one blank row below its table belongs to it
            merged[-1][1] = max(merged[-1][1], bottom)
        else:
            merged.append([top, bottom])
    return [(a, b) for a, b in merged]


def row_breaks(sections: list[tuple[int, int]], rows_per_page: int) -> list[int]:
    """Rows after which a page ends: before any section that would otherwise straddle two pages."""
    breaks: list[int] = []
    page_top = 1
    for top, bottom in sections:
        while top - page_top >= rows_per_page:  # long sections above already ran onto later pages
            page_top += rows_per_page
        fits_alone = bottom - top + 1 <= rows_per_page
        room = rows_per_page - (top - page_top)  # rows left on this page for the section
        # A section that fits on a page moves to a new one rather than straddle two; a longer one (a
        # long list) starts here unless only its title and a few rows would fit.
        if bottom - page_top + 1 > rows_per_page and top > page_top and (fits_alone or room < 6):
            breaks.append(top - 1)
            page_top = top
        while bottom - page_top + 1 > rows_per_page:  # a section taller than a page breaks by itself
            page_top += rows_per_page
    return breaks


def page_setup(spec: SheetReplace, extents: list[tuple[int, int]], widths: dict[int, float], max_col: int,
               header_rows: tuple[int, int] | None) -> PageSetup:
    """`extents`: (first, last) sheet row of each block; `widths`: column → width; `header_rows`: the rows
    to repeat on each printed page (a one-table sheet), or None."""
    right = max([max_col, *(c.anchor[1] + c.size[0] - 1 for c in spec.charts)])
    total = sum(widths.get(c, 8.43) for c in range(1, right + 1))
    landscape = total > PORTRAIT_MAX_WIDTH
    page_w, page_h = (A4[1], A4[0]) if landscape else A4
    usable_w = page_w - 2 * MARGINS[0]
    usable_h = page_h - 2 * MARGINS[1] - HEADER_FOOTER
    scale = min(1.0, usable_w / max(total * INCH_PER_WIDTH + right * 5 / 96, 1e-9))  # + 5 px padding a column
    rows_per_page = max(10, int(usable_h / (ROW_INCH * scale)))
    breaks = row_breaks(_sections(spec, extents), rows_per_page) if len(spec.blocks) > 1 else []

    orientation = "landscape" if landscape else "portrait"
    footer = escape_text("&A — &P / &N")  # sheet name, page / pages
    after = [f'<pageSetup paperSize="9" orientation="{orientation}" fitToWidth="1" fitToHeight="0"/>',
             f"<headerFooter><oddFooter>&amp;C{footer}</oddFooter></headerFooter>"]
    if breaks:
        after.append(f'<rowBreaks count="{len(breaks)}" manualBreakCount="{len(breaks)}">'
                     + "".join(f'<brk id="{r}" max="16383" man="1"/>' for r in breaks) + "</rowBreaks>")
    titles = f"${header_rows[0]}:${header_rows[1]}" if header_rows else None
    return PageSetup('<pageSetUpPr fitToPage="1"/>', "".join(after), titles)
