"""A huge sheet read in stretches of rows (`workbook.stretches`).

What must hold: the Grid is exactly the one the whole sheet's parse gives — rows, columns, text,
"not null" marks — wherever the cuts fall (blank rows, columns used only further down, dates under
either date system, shared strings, booleans, whitespace); anything the stretches cannot place
gives None, so the read loads the sheet whole; and a read of the book is the same either way.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import xlsxwriter

from xlcrm.workbook import grid, headstart, stretches
from xlcrm.workbook.reader import read_book


def _book(path: Path, *, date1904: bool = False, inline: bool = False) -> Path:
    """A sheet of ~600 rows that has what a real Basic Info has: a title row, a header, typed
    cells of every kind, blank rows (a run of them too), and a column used only far down."""
    wb = xlsxwriter.Workbook(str(path), {"date_1904": date1904, "constant_memory": inline})
    ws = wb.add_worksheet("客户资料")
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write(0, 0, "客户名单 2026")
    for col, header in enumerate(["客户编号", "客户名称", "电话", "成交日期", "金额", "已付", "备注"]):
        ws.write(1, col + 1, header)
    for row in range(2, 600):
        if row % 37 == 0 or 200 <= row < 260:  # blank rows, and a run of them
            continue
        ws.write_string(row, 1, f"C{row:05d}")
        ws.write_string(row, 2, f"公司 {row} <&> 有限公司")
        ws.write_string(row, 3, f"0{13800000000 + row}")
        ws.write_datetime(row, 4, dt.datetime(2024, 1, 1) + dt.timedelta(days=row), date)
        ws.write_number(row, 5, row * 1.5)
        ws.write_boolean(row, 6, row % 2 == 0)
        ws.write_string(row, 7, "   " if row % 5 == 0 else f"备注{row}")
        if row > 450:
            ws.write_string(row, 10, "后来才用的列")
    shaded = wb.add_format({"bg_color": "#FFFF00"})
    for row in range(210, 216):  # rows holding only formatted blank cells: rows without a value
        ws.write_blank(row, 1, None, shaded)
        ws.write_blank(row, 12, None, shaded)
    wb.close()
    return path


def _part(path: Path, name: str) -> str:
    return {n: p for n, _, p in grid.sheet_parts(path)}[name]


def _stretched(path: Path, name: str, stretch_bytes: int) -> grid.Grid | None:
    cells = stretches.load_in_stretches(path, _part(path, name), stretch_bytes)
    return grid.Grid(name, *cells) if cells is not None else None


def _whole(path: Path, name: str) -> grid.Grid:
    return grid.load_grid(grid.open_workbook(path, "xlsx"), name)


def _same(stretched: grid.Grid, whole: grid.Grid) -> None:
    """The same grid, but for the text type: the stretches join their columns as large_string."""
    assert stretched.name == whole.name and stretched.col_index == whole.col_index
    large = pa.schema([f.with_type(pa.large_string()) for f in whole.batch.schema])
    assert stretched.batch.schema == large  # names and "not null" marks
    assert stretched.batch.equals(whole.batch.cast(large) if whole.batch.num_columns else whole.batch)


@pytest.mark.parametrize("stretch_bytes", [1, 2_000, 9_000, 40_000, 10 << 20])
@pytest.mark.parametrize("inline", [False, True], ids=["shared-strings", "inline-strings"])
def test_stretches_give_the_whole_sheets_grid(tmp_path, stretch_bytes, inline):
    path = _book(tmp_path / "b.xlsx", inline=inline)
    stretched = _stretched(path, "客户资料", stretch_bytes)
    assert stretched is not None
    _same(stretched, _whole(path, "客户资料"))


@pytest.mark.parametrize(("stretch_bytes", "slow"), [(1, 0), (2_000, 2)])
def test_a_stretch_is_parsed_from_its_first_row_or_placed_the_slow_way(tmp_path, monkeypatch, stretch_bytes, slow):
    """A stretch after the first is parsed from its first row with a value (no empty rows laid out
    above it). One whose first or last row holds no value (formatted blank rows; at 2 kB, two
    stretches) cannot be placed so and is parsed again past the rows before it; one with no value
    at all (at 1 byte, each of those rows) adds no cells. Each way, the whole sheet's grid."""
    path = _book(tmp_path / "b.xlsx")
    calls: list[int | None] = []
    parse = stretches._parse

    def counted(reader, after, first, last):
        class Counted:
            def load_sheet(self, *args, **kwargs):
                calls.append(kwargs["skip_rows"])
                return reader.load_sheet(*args, **kwargs)

        return parse(Counted(), after, first, last)

    monkeypatch.setattr(stretches, "_parse", counted)
    stretched = _stretched(path, "客户资料", stretch_bytes)
    assert stretched is not None
    _same(stretched, _whole(path, "客户资料"))
    assert calls[0] == 0  # the first stretch: from row 1
    assert calls[1:].count(None) > 10  # every later stretch tried from its first row with a value …
    assert len([skip for skip in calls[1:] if skip is not None]) == slow  # … and these parsed again


def test_the_books_date_system_reads_the_same(tmp_path):
    path = _book(tmp_path / "b.xlsx", date1904=True)
    stretched = _stretched(path, "客户资料", 5_000)
    _same(stretched, _whole(path, "客户资料"))
    assert stretched.batch.column(4).to_pylist()[2].startswith("2024-01-03")  # a date, not a number off by 1,462 days


def _rewritten(src: Path, dst: Path, change) -> Path:
    """`src` with its first sheet's XML passed through `change` (every other part copied)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            zout.writestr(info.filename, data)
    return dst


def test_rows_numbered_by_position_are_left_to_the_whole_parse(tmp_path):
    src = _book(tmp_path / "b.xlsx")
    path = _rewritten(src, tmp_path / "c.xlsx", lambda xml: re.sub(rb'(<row\b[^>]*?) r="\d+"', rb"\1", xml))
    assert _stretched(path, "客户资料", 5_000) is None


def test_rows_out_of_order_are_left_to_the_whole_parse(tmp_path):
    src = _book(tmp_path / "b.xlsx")

    def swap(xml: bytes) -> bytes:  # the last row moved to the front of sheetData
        rows = re.findall(rb"<row\b.*?</row>", xml, re.S)
        body = rows[-1] + b"".join(rows[:-1])
        return re.sub(rb"<sheetData>.*</sheetData>", lambda _m: b"<sheetData>" + body + b"</sheetData>", xml, flags=re.S)

    path = _rewritten(src, tmp_path / "c.xlsx", swap)
    assert _stretched(path, "客户资料", 5_000) is None


def test_a_damaged_part_is_left_to_the_whole_load(tmp_path):
    path = _book(tmp_path / "b.xlsx")
    part = _part(path, "客户资料")
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(part)
    blob = bytearray(path.read_bytes())
    blob[info.header_offset + 30 + len(info.filename) + 100] ^= 0xFF  # a byte of the deflated XML
    path.write_bytes(bytes(blob))
    assert stretches.load_in_stretches(path, part, 5_000) is None


def test_an_empty_sheet_gives_an_empty_grid(tmp_path):
    path = tmp_path / "e.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("客户资料").write_blank(0, 0, None, wb.add_format({"bold": True}))
    wb.close()
    stretched = _stretched(path, "客户资料", 10)
    _same(stretched, _whole(path, "客户资料"))


def test_a_book_read_with_its_sheets_in_stretches_is_the_same_book(sample_zh, monkeypatch):
    monkeypatch.setattr(headstart, "_current", None)
    whole = read_book(sample_zh)
    monkeypatch.setattr(stretches, "MIN_BYTES", 0)  # every sheet "huge"
    monkeypatch.setattr(stretches, "STRETCH_BYTES", 20_000)
    used = []
    real = stretches.load_in_stretches

    names = {p: n for n, _, p in grid.sheet_parts(sample_zh)}

    def spy(path, part, stretch_bytes=stretches.STRETCH_BYTES):
        out = real(path, part, 20_000)
        used.append((names[part], out is not None))
        return out

    monkeypatch.setattr(stretches, "load_in_stretches", spy)
    book = read_book(sample_zh)
    assert {"客户资料", "跟进记录", "购买记录"} <= {name for name, ok in used if ok}
    for key in ("customers", "followups", "purchases"):
        pd.testing.assert_frame_equal(book.frame(key), whole.frame(key))
        pd.testing.assert_frame_equal(book.raw[key], whole.raw[key])
    assert book.problems == whole.problems and book.sheets == whole.sheets


def test_the_switch_turns_stretches_off(monkeypatch):
    assert stretches.worth_it(stretches.MIN_BYTES + 1)
    assert not stretches.worth_it(stretches.MIN_BYTES)
    monkeypatch.setenv("XLCRM_STRETCHES", "0")
    assert not stretches.worth_it(stretches.MIN_BYTES + 1)
