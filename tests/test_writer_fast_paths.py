"""The writer's fast paths give the same workbook as its general paths.

Big sheets find their edited rows by bisecting bytes and are rendered as ropes of input slices;
appended rows and tool sheets are built column by column. Each is forced here on a small file
(by lowering its size thresholds) and compared with the general path, byte for byte or cell by cell.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import zipfile
import zlib
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from xlcrm.ooxml import fastrows
from xlcrm.ooxml.cellxml import cell_xml, encode
from xlcrm.ooxml.columns import cells_xml, encode_series, encode_values
from xlcrm.ooxml.fastzlib import deflate_chunks
from xlcrm.ooxml.package import Rope
from xlcrm.workbook.edits import (
    FMT_DATETIME,
    AppendRows,
    CellMark,
    CellStyle,
    CellWrite,
    ColumnValues,
    ColumnWrite,
    EditPlan,
    MarkCells,
)
from xlcrm.workbook.writer import apply_plan, rowindex, sheetxml, verify
from xlcrm.workbook.writer.editor import Editor

GAP = range(700, 900)  # rows with nothing in them (absent from the XML)


def _book(path: Path, rows: int = 2500) -> Path:
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet("客户资料")
    ws.write_row(0, 0, ["编号", "名称", "电话", "日期"])
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for i in range(1, rows):
        if i + 1 in GAP:
            continue
        ws.write_string(i, 0, f"C{i:05d}")
        ws.write_string(i, 1, f"名称{i} & co")
        ws.write_string(i, 2, f"0138{i:07d}")
        ws.write_datetime(i, 3, dt.datetime(2024, 3, 1) + dt.timedelta(days=i), date_fmt)
    log = wb.add_worksheet("变更记录")
    log.write_row(0, 0, ["时间", "操作人", "客户编号", "原值", "新值"])
    wb.close()
    return path


def _log(n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    return pd.DataFrame(
        {
            "时间": pd.to_datetime(["2026-11-20 08:30:05"] * n),
            "操作人": ["bench"] * n,
            "客户编号": [f"C{rng.randrange(10**5):05d}" for _ in range(n)],
            "原值": [rng.choice([None, "A", 1.5, " lead"]) for _ in range(n)],
            "新值": [rng.choice(["B", "x<y", 2, float("nan")]) for _ in range(n)],
        }
    )


def _plan() -> EditPlan:
    marks = [CellMark(r, 2, f"第 {r} 行", "error" if r % 2 else "warning") for r in (2, 3, 699, 900, 1500, 2499)]
    return EditPlan(
        [
            MarkCells("客户资料", marks),
            CellWrite("客户资料", 750, 2, "新的一行"),  # a row inside the gap: inserted in order
            ColumnWrite("客户资料", "等级", 1, {r: "AB"[r % 2] for r in (5, 760, 1200)}, style=CellStyle("@")),
            AppendRows("变更记录", _log(40, 1), number_formats={"时间": FMT_DATETIME}),
            AppendRows("变更记录", _log(25, 2)),
            CellWrite("变更记录", 10, 6, "备注"),  # into an appended row
            MarkCells("变更记录", [CellMark(30, 3, "看这里")]),
        ]
    )


def _write(tmp_path: Path, name: str, plan: EditPlan | None = None) -> dict[str, bytes]:
    """`plan` (default `_plan()`) applied to a copy of the test book: the file's members."""
    source = tmp_path / "source.xlsx"
    if not source.exists():
        _book(source)  # built once: xlsxwriter stamps the time into docProps/core.xml
    path = tmp_path / name
    shutil.copyfile(source, path)
    apply_plan(path, plan or _plan(), backup_keep=0)
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_bisected_rows_and_ropes_give_the_same_bytes(tmp_path: Path, monkeypatch) -> None:
    general = _write(tmp_path, "general.xlsx")
    monkeypatch.setattr(rowindex, "LAZY_MIN_BYTES", 0)
    monkeypatch.setattr(rowindex, "LAZY_MAX_ROWS", 10**9)
    monkeypatch.setattr(sheetxml, "ROPE_MIN_BYTES", 0)
    monkeypatch.setattr(verify, "INFLATE_LIMIT", 0)
    fast = _write(tmp_path, "fast.xlsx")
    assert fast == general
    sheet = general["xl/worksheets/sheet1.xml"]
    assert sheet.index(b'<row r="699"') < sheet.index(b'<row r="750"') < sheet.index(b'<row r="900"')


def test_appended_rows_built_by_column_match_cell_by_cell(tmp_path: Path, monkeypatch) -> None:
    _write(tmp_path, "fast.xlsx")
    monkeypatch.setattr(Editor, "_append_new_rows", Editor._append_cells)
    _write(tmp_path, "slow.xlsx")
    fast_path, slow_path = tmp_path / "fast.xlsx", tmp_path / "slow.xlsx"
    fast = openpyxl.load_workbook(fast_path)["变更记录"]
    slow = openpyxl.load_workbook(slow_path)["变更记录"]
    assert fast.max_row == slow.max_row == 66 and fast.dimensions == slow.dimensions
    for a, b in zip(fast.iter_rows(), slow.iter_rows()):
        for x, y in zip(a, b):
            assert (x.value, x.fill.fgColor.rgb) == (y.value, y.fill.fgColor.rgb), x.coordinate
            if x.coordinate != "C30":
                assert x.number_format == y.number_format, x.coordinate
    assert fast["F10"].value == "备注" and fast["C30"].fill.fgColor.rgb == "FFFFC7CE"
    # A mark on an appended text cell keeps its text format (the cell-by-cell path loses it).
    assert fast["C30"].number_format == "@" and fast["C31"].number_format == "@"
    assert fast["A2"].number_format == FMT_DATETIME and isinstance(fast["A2"].value, dt.datetime)


STYLES = {"s": 3, "d": 4, "t": 5}


def _sattr(kind: str, _variant: int) -> str:
    return f' s="{STYLES[kind]}"' if kind in STYLES else ""


def test_column_encoding_matches_encode_value_by_value() -> None:
    rng = random.Random(3)
    pool = [
        None,
        "abc",
        " lead",
        "tail ",
        "多\n行",
        "a&b",
        1.5,
        7,
        -0.0,
        1e20,
        True,
        float("nan"),
        dt.datetime(2020, 5, 6, 7, 8, 9, 123456),
        dt.datetime(1900, 1, 1),
        dt.date(2024, 1, 2),
        np.int64(4),
    ]
    for values in (
        [rng.choice(pool) for _ in range(400)],
        ["a", None, "b"],
        ["a", 1.5, float("nan"), 3, "x<y", None, 1e20, float("inf"), "_x0041_"],  # text and numbers
        [1.0, 2.5, None],
        [dt.datetime(2024, 1, 5)],
        # text with blanks (and numbers), no booleans: xml:space wherever a value needs it
        [" lead", None, "x"], ["x", None, "tail "], ["a", None, " mid", "b"], ["a", None, "多\n行", 2],
        [rng.choice(["a", "b c", None, 3]) for _ in range(50)],
    ):
        kinds, texts = encode_values(values)
        kinds = [kinds] * len(values) if isinstance(kinds, str) else kinds
        assert list(zip(kinds, texts)) == [encode(v) for v in values]
        rows = [str(i + 2) for i in range(len(values))]
        got = cells_xml("x:", "C", rows, kinds, texts, _sattr)
        want = ["" if k == "e" else cell_xml("x:", f"C{r}", STYLES.get(k), k, t) for r, k, t in zip(rows, kinds, texts)]
        assert got == want
    stamps = pd.Series(pd.to_datetime(["2024-01-05", None, "2024-01-05 10:23:17.5"], format="ISO8601"))
    kinds, texts = encode_series(stamps)
    assert list(zip(kinds, texts)) == [("d", "45296"), ("e", ""), encode(stamps[2].to_pydatetime())]
    assert encode_series(stamps, one_date_kind=True)[0] == ["t", "e", "t"]


@pytest.mark.parametrize("sizes", [[5, 300_000, 7], [1 << 20, 3, 1 << 19]])
def test_rope_deflates_and_reads_back(sizes: list[int]) -> None:
    pieces = [bytes([65 + i]) * n for i, n in enumerate(sizes)]
    rope = Rope([memoryview(p) for p in pieces])
    crc, payload = deflate_chunks(rope.pieces)
    whole = b"".join(pieces)
    assert zlib.decompress(payload, -15) == whole and crc == zlib.crc32(whole)
    assert len(rope) == len(whole) and rope.crc() == crc and rope.tobytes() == whole


def _record_deflates(monkeypatch) -> list[tuple[str, str]]:
    """A list that gets ("deflated", part) each time an edited part has been deflated."""
    from xlcrm.ooxml.package import Package

    events: list[tuple[str, str]] = []
    precompress = Package._precompress

    def deflated(self, name, data, first=None):
        precompress(self, name, data, first)
        events.append(("deflated", name))

    monkeypatch.setattr(Package, "_precompress", deflated)
    return events


def _write_recording(source: Path, path: Path, plan: EditPlan, events: list) -> tuple[dict[str, bytes], list]:
    """Apply `plan` to a copy of `source`: its members and the events recorded meanwhile."""
    shutil.copyfile(source, path)
    events.clear()
    apply_plan(path, plan, backup_keep=0)
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}, list(events)


def test_a_small_memory_budget_changes_when_sheets_are_inflated_not_the_bytes(tmp_path: Path, monkeypatch) -> None:
    """Two sheets over 1 MB: by default the second is inflated on the other core while the first
    is edited; with no room for both, it is read only after the first has been deflated."""
    from xlcrm.ooxml.package import Package
    from xlcrm.workbook.writer import editor as editor_module

    source = tmp_path / "two.xlsx"
    wb = xlsxwriter.Workbook(str(source))  # ok-to-save (brand-new fixture)
    for name in ("客户资料", "跟进记录"):
        ws = wb.add_worksheet(name)
        for i in range(30_000):
            ws.write_row(i, 0, [f"C{i:05d}", f"{name} 第 {i} 行的说明文字", i * 1.5])
    wb.close()
    plan = EditPlan([
        ColumnWrite("客户资料", "等级", 1, {r: "AB"[r % 2] for r in range(2, 30_001)}),
        MarkCells("跟进记录", [CellMark(r, 2, f"第 {r} 行") for r in (2, 999, 29_999)]),
    ])
    events = _record_deflates(monkeypatch)
    inflate = Package._inflate
    monkeypatch.setattr(Package, "_inflate", lambda self, name: events.append(("inflate", name)) or inflate(self, name))
    first, second = ("inflate", "xl/worksheets/sheet2.xml"), ("deflated", "xl/worksheets/sheet1.xml")
    roomy, roomy_events = _write_recording(source, tmp_path / "roomy.xlsx", plan, events)
    assert roomy_events.index(first) < roomy_events.index(second)  # prefetched while the first is edited
    monkeypatch.setattr(editor_module, "HELD_BUDGET", 1)
    tight, tight_events = _write_recording(source, tmp_path / "tight.xlsx", plan, events)
    assert tight_events.index(second) < tight_events.index(first)  # only once the first is deflated
    assert tight == roomy


def test_a_big_tool_sheet_waits_for_room_only_when_memory_is_short(tmp_path: Path, monkeypatch) -> None:
    """A tool sheet is built once the sheets edited before it have been deflated, when it would not
    fit beside them in `HELD_BUDGET` (the L book's Due Today beside Basic Info); the bytes are the same."""
    from xlcrm.workbook.edits import Block, SheetReplace
    from xlcrm.workbook.writer import editor as editor_module

    source = tmp_path / "book.xlsx"
    wb = xlsxwriter.Workbook(str(source))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet("客户资料")
    for i in range(30_000):
        ws.write_row(i, 0, [f"C{i:05d}", f"第 {i} 行的说明文字", i * 1.5])
    wb.close()
    due = pd.DataFrame({"客户编号": [f"C{i:05d}" for i in range(5000)], "等级": ["A"] * 5000})
    plan = EditPlan([
        ColumnWrite("客户资料", "等级", 1, {r: "AB"[r % 2] for r in range(2, 30_001)}),
        SheetReplace("今日跟进", [Block(due)]),
    ])
    events = _record_deflates(monkeypatch)
    build = editor_module.build_tool_sheet
    monkeypatch.setattr(editor_module, "build_tool_sheet",
                        lambda edit, *a, **k: events.append(("build", edit.sheet)) or build(edit, *a, **k))
    roomy, _ = _write_recording(source, tmp_path / "roomy.xlsx", plan, events)
    monkeypatch.setattr(editor_module, "HELD_BUDGET", 1)
    tight, tight_events = _write_recording(source, tmp_path / "tight.xlsx", plan, events)
    assert tight_events.index(("deflated", "xl/worksheets/sheet1.xml")) < tight_events.index(("build", "今日跟进"))
    assert tight == roomy


def test_a_column_given_as_arrays_writes_what_the_same_dict_writes(tmp_path: Path) -> None:
    """`ColumnValues` (rows + a typed Series, as regrade passes its computed columns) reads like the
    dict of plain values and gives the same file."""
    from xlcrm.workbook.edits import ColumnValues

    rows = np.array([2, 5, 760, 1200, 1500, 2400])
    columns = {
        "金额": pd.Series([1.5, np.nan, 3.0, 1e-7, 12345678.25, -2.0]),
        "下次联系": pd.Series(pd.to_datetime(["2026-11-20", None, "2026-12-01 08:30", "1999-01-01", None, "2030-02-28"], format="mixed")),
        "等级": pd.Series(["A", None, "B", "  空格 ", "x<y & _x0041_", np.nan], dtype=object),
        "次数": pd.Series([1, 2, 3, 4, 5, 6], dtype="int64"),
    }
    for series in columns.values():
        as_arrays = ColumnValues(rows, series)
        plain = {int(r): (None if pd.isna(v) else v.to_pydatetime() if isinstance(v, pd.Timestamp) else
                          v.item() if isinstance(v, np.generic) else v) for r, v in zip(rows, series)}
        assert dict(as_arrays) == plain and list(as_arrays) == rows.tolist() and len(as_arrays) == 6
        assert all(type(v) in (float, int, str, dt.datetime, type(None)) for v in as_arrays.values())

    def write(name: str, by_arrays: bool) -> dict[str, bytes]:
        path = tmp_path / name
        _book(path)
        edits = [ColumnWrite("客户资料", header, 1, ColumnValues(rows, s) if by_arrays else
                             {int(r): v for r, v in ColumnValues(rows, s).items()},
                             style=CellStyle(number_format=FMT_DATETIME) if header == "下次联系" else None)
                 for header, s in columns.items()]
        apply_plan(path, EditPlan(edits), backup_keep=0)
        with zipfile.ZipFile(path) as zf:
            return {n: zf.read(n) for n in zf.namelist() if n != "docProps/core.xml"}

    assert write("arrays.xlsx", True) == write("dict.xlsx", False)


def test_big_lists_and_computed_columns_built_in_pieces_give_the_same_bytes(tmp_path: Path, monkeypatch) -> None:
    """Tool sheets are encoded ROWS_PER_PIECE rows at a time and computed columns are rendered
    RENDER_BLOCK_ROWS rows at a time (for the memory of a million-row book); tiny pieces here."""
    from xlcrm.workbook.edits import Block, SheetReplace
    from xlcrm.workbook.writer import toolsheet

    n = 60
    df = pd.DataFrame(
        {
            "客户编号": [f"C{i:05d}" for i in range(n)],
            "说明": [("很长的说明文字 " * (i % 4)) + f"第{i}行" for i in range(n)],
            "日期": pd.to_datetime(["2026-11-20"] * n) + pd.to_timedelta(range(n), unit="D"),
            "金额": [i * 1.5 if i % 7 else None for i in range(n)],
        }
    )
    block = Block(df, title="今日需跟进客户", row_fills={3: "FFFFC7CE", 20: "FFFFC7CE"}, wrap=("说明",),
                  cell_fills={"金额": {5: "FFC6EFCE"}}, autofilter=True)

    def plan() -> EditPlan:
        rows = {r: f"级{r % 5}" for r in range(2, 2500) if r not in GAP}
        return EditPlan([
            ColumnWrite("客户资料", "等级", 1, rows),
            ColumnWrite("客户资料", "分数", 1, {r: r * 0.5 for r in range(2500, 1, -3) if r not in GAP}),
            SheetReplace("今日跟进", [block]),
        ])

    whole = _write(tmp_path, "whole.xlsx", plan())
    monkeypatch.setattr(toolsheet, "ROWS_PER_PIECE", 7)
    monkeypatch.setattr(sheetxml, "RENDER_BLOCK_ROWS", 13)
    pieces = _write(tmp_path, "pieces.xlsx", plan())
    assert pieces == whole
    wb = openpyxl.load_workbook(tmp_path / "pieces.xlsx", read_only=True)
    listed = [row for row in wb["今日跟进"].iter_rows(values_only=True)]
    assert listed[2][0] == "C00000" and listed[-1][0] == f"C{n - 1:05d}" and len(listed) == n + 2
    wb.close()


@pytest.mark.skipif(not fastrows.installed(), reason="polars is not installed")
@pytest.mark.parametrize("prefix", ["", "x:"])
def test_rows_joined_by_polars_equal_the_cells_python_writes(prefix: str) -> None:
    """`fastrows.rows_xml` (polars) gives exactly the rows `cells_xml` + a Python join give, with the
    styles derived in the same order (their numbers in styles.xml depend on it)."""
    rng = random.Random(5)
    pool = [None, "abc", " lead", "tail ", "多\n行", "a&b", 1.5, 7, True, float("nan"), dt.datetime(2020, 5, 6, 7, 8),
            dt.date(2024, 1, 2), "中文", ""]
    n = 300
    columns = [
        [rng.choice(pool) for _ in range(n)],  # every kind, blanks, xml:space
        [f"C{i:05d}" for i in range(n)],  # one kind, one shape
        [rng.choice([None, 2.5, 3]) for _ in range(n)],  # numbers with blanks: unstyled blanks are left out
        [rng.choice(["x", " y"]) for _ in range(n)],
    ]
    variants = [[0] * n, [rng.choice([0, 1, 2]) for _ in range(n)], None, [rng.choice([0, 3]) for _ in range(n)]]
    heights = [rng.choice(["", ' ht="30" customHeight="1"']) for _ in range(n)]

    def sattr_of(log: list, j: int):
        def sattr(kind: str, variant: int) -> str:
            log.append((j, kind, variant))
            return f' s="{10 * j + variant}"' if (kind, variant) != ("e", 0) else ""
        return sattr

    encoded = [encode_values(values) for values in columns]
    python_log: list = []
    rows = [str(r) for r in range(7, 7 + n)]
    cells = [cells_xml(prefix, "ABCD"[j], rows, kinds, texts, sattr_of(python_log, j), variants[j])
             for j, (kinds, texts) in enumerate(encoded)]
    want = "".join(f'<row r="{r}"{h}>' + "".join(c) + "</row>" for r, h, *c in zip(rows, heights, *cells)).encode()

    polars_log: list = []
    prepared = [fastrows.PreparedColumn.of(prefix, "ABCD"[j], kinds, texts, sattr_of(polars_log, j), variants[j])
                for j, (kinds, texts) in enumerate(encoded)]
    for per_piece in (n, 7, 1):
        assert b"".join(fastrows.rows_xml(prefix, prepared, 7, n, heights, per_piece)) == want
    assert polars_log == python_log
    compact = [column.compact() for column in prepared]  # texts as Arrow (how tool sheets hold them)
    assert all(isinstance(column.texts, fastrows.pl.Series) for column in compact)
    assert b"".join(fastrows.rows_xml(prefix, compact, 7, n, heights, 7)) == want
    assert b"".join(fastrows.rows_xml(prefix, prepared[1:2], 7, n, None, 64)).startswith(b'<row r="7"><')


@pytest.mark.skipif(not fastrows.installed(), reason="polars is not installed")
@pytest.mark.parametrize("sparse", [False, True])
def test_computed_columns_joined_by_polars_give_the_same_bytes(tmp_path: Path, monkeypatch, sparse: bool) -> None:
    """Computed columns are joined by polars; the file is byte for byte what the Python join writes
    (with marks on some of those rows, rows absent from the sheet, and — `sparse` — a column that
    skips rows)."""
    from xlcrm.workbook.writer import lazycolumns

    rows = [r for r in range(2, 2500) if r not in GAP]

    def plan() -> EditPlan:
        edits = [
            ColumnWrite("客户资料", "等级", 1, ColumnValues(rows, pd.Series([" A" if r % 11 == 0 else "B" for r in rows]))),
            ColumnWrite("客户资料", "金额", 1, ColumnValues(rows, pd.Series([r * 0.5 if r % 5 else None for r in rows]))),
            ColumnWrite("客户资料", "下次联系", 1,
                        ColumnValues(rows, pd.Series(pd.to_datetime("2026-11-20") + pd.to_timedelta(rows, unit="D"))),
                        style=CellStyle(number_format="yyyy-mm-dd")),
            MarkCells("客户资料", [CellMark(10, 2, "名称有误", "error"), CellMark(1500, 5, "等级?", "warning")]),
        ]
        if sparse:
            edits.append(ColumnWrite("客户资料", "备注", 1, {r: f"第{r}行" for r in rows[::3]}))
        return EditPlan(edits)

    monkeypatch.setattr(sheetxml, "RENDER_BLOCK_ROWS", 97)
    monkeypatch.setattr(fastrows, "MIN_CELLS", 0)
    joined = []
    real = lazycolumns.LazyRows._joined_by_polars
    monkeypatch.setattr(lazycolumns.LazyRows, "_joined_by_polars",
                        staticmethod(lambda *args: joined.append(1) or real(*args)))
    fast = _write(tmp_path, "fast.xlsx", plan())
    assert joined  # sparse columns too: a column's cells are placed at its rows
    monkeypatch.setattr(fastrows, "pl", None)
    assert _write(tmp_path, "python.xlsx", plan()) == fast


def test_a_polars_that_cannot_load_here_leaves_the_join_to_python(monkeypatch) -> None:
    """polars warns before it crashes on a processor without the instructions its build needs (old
    office PCs); that, like any failure to load it, means Python joins the rows."""
    import builtins

    real_import = builtins.__import__

    def unlucky(name, *args, **kwargs):
        if name == "polars":
            raise RuntimeWarning("Missing required CPU features.")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(fastrows, "pl", fastrows._UNTRIED)
    monkeypatch.setattr(builtins, "__import__", unlucky)
    assert not fastrows.installed()
    assert not fastrows.worth_it(10**9)


def test_rows_of_lazy_columns_are_united_as_a_sort_would():
    """`lazycolumns._union` marks rows in a table instead of sorting them: the same rows, ascending,
    once each — also for numbers no sheet row has (sorted then)."""
    from xlcrm.workbook.writer.lazycolumns import _union

    rng = np.random.default_rng(7)
    cases = [
        [np.array([5, 3, 9, 3]), np.array([1, 9]), np.array([], dtype=np.int64)],
        [rng.integers(1, 1_048_577, 50_000), rng.integers(1, 1_048_577, 7)],
        [np.array([1_048_576]), np.array([2])],
        [np.array([-1, 4]), np.array([2_000_000, 4])],
        [np.array([], dtype=np.int64)],
    ]
    for arrays in cases:
        expected = np.unique(np.concatenate(arrays)).astype(np.int64)
        got = _union(arrays)
        assert got.dtype == np.int64 and got.tolist() == expected.tolist()


def test_texts_scanned_once_are_written_as_texts_scanned_twice():
    """`_texts` marks a column plain (no escaping, no xml:space) in one scan; `cells_xml` and
    `cell_shapes` then skip theirs. Values that look plain only across the separator, or only at the
    column's ends, must not be taken for plain."""
    from xlcrm.ooxml.cellxml import cell_tags
    from xlcrm.ooxml.columns import PlainTexts, cell_shapes

    tricky = ["a\ue000 b", "\ue000", " x", "y ", "a\nb", "_x0041_", "a&b", "", "\u3000全角"]
    for bad in tricky:
        for values in ([bad], [bad, "ok"], ["ok", bad], ["ok", bad, "ok"], ["ok", None, bad]):
            kinds, texts = encode_values(values)
            assert list(zip([kinds] * len(values) if isinstance(kinds, str) else kinds, texts)) == \
                [encode(v) for v in values]
            rows = [str(i + 2) for i in range(len(values))]
            want = ["" if k == "e" else cell_xml("x:", f"C{r}", STYLES.get(k), k, t)
                    for r, (k, t) in zip(rows, map(encode, values))]
            assert cells_xml("x:", "C", rows, kinds, texts, _sattr) == want
            codes, shapes = cell_shapes("x:", kinds, texts, _sattr)
            made = ["" if shapes[c] is None else f"{cell_tags('x:').open}C{r}{shapes[c][0]}{t}{shapes[c][1]}"
                    for r, c, t in zip(rows, codes.tolist(), texts)]
            assert made == want
    kinds, texts = encode_values(["plain", "text", None])
    assert isinstance(texts, PlainTexts) and isinstance(texts[1:], PlainTexts)
    assert not isinstance(encode_values(["a", " b"])[1], PlainTexts)


def test_the_plain_scans_agree_with_one_regex_of_all_that_is_not_plain():
    """`columns._plain` splits the test into scans that run at memchr speed (a class, a substring,
    `\\ue000\\s` on the join and on its reverse); it must say exactly what one regex of everything
    that makes a joined column not plain says; and `_any_preserve` (the same split) must find exactly
    the columns with a value that needs xml:space."""
    import random
    import re

    from xlcrm.ooxml.cellxml import NEEDS_WORK, needs_preserve
    from xlcrm.ooxml.columns import _SEP, _any_preserve, _plain

    whole = re.compile(NEEDS_WORK.pattern + r"|\n|\ue000\s|\s\ue000")
    alphabet = ["a", "中", " ", "\u3000", "\t", "\n", "_", "x", "&", "<", "\x01", "\ud800", "\ufffe", "\x85", _SEP]
    rng = random.Random(7)
    seen = {True: 0, False: 0}
    for _ in range(20_000):
        joined = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        want = whole.search(joined) is None
        assert _plain(joined) is want, repr(joined)
        seen[want] += 1
        values = joined.split(_SEP)
        assert _any_preserve(values) is any(map(needs_preserve, values)), repr(values)
    assert min(seen.values()) > 1000  # both verdicts were tried often
