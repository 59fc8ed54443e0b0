"""The fast reader: an .xlsx/.xlsm file (or a CSV of customers) → `CrmBook`.

One pass per sheet: fastexcel (calamine, Rust) reads every cell of the sheet as text, straight
into Arrow. The header row is then found in the first rows of that grid (title rows, two-row
headers and columns in any order are fine), blank rows are dropped (their row numbers stay
gaps), and the known columns are typed by `xlcrm.ops.normalize`. Reading everything as text is
what keeps "00123" and "13800138000" intact and lets `raw` hold what the user typed; it costs
about what fastexcel's own type inference costs (and no text is ever coerced to a blank number).
Formula cells give their cached values; hidden rows are read like any other.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import CancelledError, Future
from pathlib import Path

import pandas as pd

from ..model.book import CrmBook
from ..procs import return_free_memory
from ..schema import match_sheet
from . import headstart
from .assemble import Progress, assemble_book
from .csv_input import read_customers_csv
from .datasheet import (
    empty_raw,
    read_data_sheet,
    read_settings,
)
from .grid import (
    Grid,
    SheetLoader,
    column_letter,
    excel_tables,
    list_sheets,
    load_grid,
    open_workbook,
    part_sizes,
    sheet_parts,
    sheet_refs,
)
from .guard import ensure_readable
from .locate import DATA_KEYS, OPTIONAL_KEYS, HeaderMatch, find_header, guess_language, locate_sheets, read_ownership
from .shared_strings import SharedStringWatch


def read_book(
    path: Path, *, lang: str | None = None, progress: Progress | None = None, threads: int | None = None,
    keys: tuple[str, ...] | None = None,
) -> CrmBook:
    """Read a workbook (or a customers CSV) into a `CrmBook`.

    Raises FileRefused for files xlcrm cannot read (see `guard`), SchemaError when Basic Info or
    a required column is missing (the message lists what was found, in zh-CN and en).
    `threads`: sheets read at once (default 2 on machines with 2+ cores, else 1 = sequential).
    `keys`: read only these data sheets (e.g. a sync that knows the others are as it left them); the
    book then has no SheetInfo and empty frames for the rest. Settings are always read.
    """
    path = Path(path)
    kind = ensure_readable(path)
    if kind == "csv":
        return read_customers_csv(path, lang=lang)
    say = progress or (lambda _msg, _frac: None)
    say("打开工作簿 / Opening the workbook", 0.0)
    xl = open_workbook(path, kind)
    sheets = sheet_parts(path)
    names = [name for name, _, _ in sheets] or list(xl.sheet_names)
    # Chart sheets, Excel 4 macro sheets and dialog sheets hold no records: never looked into.
    worksheets = [name for name, k, _ in sheets if k == "worksheet"] if sheets else names
    parts = {name: part for name, _, part in sheets}
    strings = SharedStringWatch(path, parts)
    if threads is None:
        threads = 2 if (os.cpu_count() or 1) >= 2 else 1
    # The sheets named like a data sheet (or Settings) will be read whole anyway: start on them now,
    # biggest first, while ownership and headers are looked at. Others load when first looked at.
    sizes = part_sizes(path)
    likely = sorted((n for n in worksheets if _likely(n, keys)), key=lambda n: -sizes.get(parts.get(n, ""), 0))
    loader = SheetLoader(path, kind, xl, likely, threads, early=headstart.take)
    grids: dict[str, Grid] = {}  # sheets already loaded to look at their headers

    def grid_of(name: str) -> Grid:
        if name not in grids:
            grids[name] = loader.get(name)
        return grids[name]

    try:
        refs = sheet_refs(path)
        ownership = read_ownership(names, refs, grid_of)
        typing = _type_early(loader, likely, ownership, strings)
        by_key = locate_sheets(worksheets, grid_of, ownership, refs, keys)
        # A sheet typed early as the key it was located as needs its grid no more once typed: let it go
        # then, not when the book is put together (in key order, so Follow-ups' and Purchases' grids
        # were held while Basic Info, last to load, was typed: the read's peak on the L book).
        def let_go(name: str, typed: Future) -> None:
            if not typed.cancelled() and typed.exception() is None:  # else typed again from the grid
                grids.pop(name, None)

        for key, name in by_key.items():
            if typing.get(name, (None,))[0] == key:
                typing[name][1].add_done_callback(functools.partial(let_go, name))
        tables = excel_tables(path)

        def typed_early(name: str, key: str):
            early = typing.pop(name, None)
            if early is None or early[0] != key:  # located as another sheet than its name says
                return None
            try:
                result = early[1].result()
            except (Exception, CancelledError):  # typed again on this thread, where its error is raised in turn
                return None
            grids.pop(name, None)
            return result

        book = assemble_book(names, by_key, lambda name: strings.watch(grids.pop(name, None) or loader.get(name)),
                             lambda name: tables.get(name, []), lang=lang, say=say, ownership=ownership, keys=keys,
                             typed=typed_early)
    finally:
        loader.close()
    strings.verify(book)  # a damaged shared-string index would silently read as string 0
    # The parse's cells, its Arrow copies and the typing's temporaries are freed by now but kept by
    # the allocators; hand them back so what follows (planning, a forked check) starts from the book
    # itself (L book: 3.5 → 2.7 GB, planning's peak 4.6 → 3.7 GB; M: 21 ms, 1.03 → 0.80 GB).
    return_free_memory()
    say("完成 / Done", 1.0)
    book.path = path
    return book


def _type_early(loader: SheetLoader, names: list[str], ownership, strings: SharedStringWatch) -> dict:
    """Sheet name → (key, future of `read_data_sheet`) for each data sheet loading on the pool.

    locate_sheets needs every candidate's header before it decides, so it waits for the biggest
    sheet (Follow-ups) while the other core has finished Basic Info and Purchases. Typing those
    there, on the name's evidence, keeps both cores busy (M, alternating runs: the read 7.8–8.6 →
    6.5–7.4 s). The result is used only if the sheet is located as that key; else it is typed
    again, as before. (Typing Follow-ups two columns at a time as well gained nothing measurable
    and cost 100+ MB.)"""
    early = {}
    for name in names:
        key = match_sheet(name)
        if key not in (*DATA_KEYS, *OPTIONAL_KEYS):
            continue
        owned = ownership.owned_headers(key)

        def work(grid, key=key, owned=owned):
            return read_data_sheet(strings.watch(grid), key, owned)

        future = loader.then(name, work)
        if future is not None:
            early[name] = (key, future)
    return early


def _likely(name: str, keys: tuple[str, ...] | None) -> bool:
    """Is this sheet, by its name alone, one the read will load whole (a data sheet or Settings)?"""
    return match_sheet(name) == "settings" or headstart.named_like_data(name, keys)


def read_tool_sheet(path: Path, name: str) -> pd.DataFrame | None:
    """A tool-owned sheet (header in row 1, every value as text), or None if the workbook lacks it.

    `name` is the sheet's exact name (as `CrmBook.sheet_name_for` gives it; Excel ignores case): a
    user's sheet that merely means the same is never read as xlcrm's. Columns are the row-1 headers;
    values are `object` str or None.
    """
    path = Path(path)
    kind = ensure_readable(path)
    if kind == "csv":
        return None
    xl = open_workbook(path, kind)
    names = list(xl.sheet_names)
    chosen = next((n for n in names if n.casefold() == name.casefold()), None)
    if chosen is None:
        return None
    sheet = xl.load_sheet(chosen, header_row=0, dtypes="string")
    frame = sheet.to_pandas()
    frame = frame.astype(object).where(frame.notna(), None)
    frame.columns = [str(c) for c in frame.columns]
    return frame


__all__ = [
    "Grid",
    "Progress",
    "assemble_book",
    "load_grid",
    "locate_sheets",
    "open_workbook",
    "read_ownership",
    "HeaderMatch",
    "column_letter",
    "excel_tables",
    "find_header",
    "guess_language",
    "list_sheets",
    "empty_raw",
    "read_book",
    "read_data_sheet",
    "read_settings",
    "read_tool_sheet",
]
