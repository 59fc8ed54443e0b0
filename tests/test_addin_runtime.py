"""The add-in at run time: the live-Excel adapter over a fake xlwings Book, and run_button/run_tag.

The fake implements the slice of xlwings' API the adapter uses (sheets, used_range, range by
coordinates, value/number_format/color/note, app alert/status bar/selection) and records every
write, so the tests can check *how* the adapter writes (one block per range, '@' before text).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import needs
import openpyxl
import pandas as pd
import pytest

from xlcrm import addin
from xlcrm.workbook.edits import (
    Block,
    CellMark,
    CellWrite,
    ColumnWrite,
    DeleteRows,
    EditPlan,
    InsertRows,
    MarkCells,
    SheetReplace,
)
from xlcrm.workbook.xlwings_adapter import XlwingsWorkbook, cell_text

REPO = Path(__file__).resolve().parents[1]
SAMPLE = needs.sample_path("zh")


# --------------------------------------------------------------------------- a fake xlwings


class FakeNote:
    def __init__(self, cell: FakeRange, text: str):
        self.cell, self.text = cell, text

    def delete(self) -> None:
        self.cell.sheet.notes.pop(self.cell.top_left, None)


class FakeFont:
    def __init__(self, rng: FakeRange):
        self.rng = rng

    @property
    def bold(self):
        return self.rng.sheet.bold.get(self.rng.top_left, False)

    @bold.setter
    def bold(self, value):
        for cell in self.rng.cells():
            self.rng.sheet.bold[cell] = value


class _Count:
    def __init__(self, n: int):
        self.count = n


class FakeRange:
    def __init__(self, sheet: FakeSheet, r1: int, c1: int, r2: int, c2: int):
        self.sheet, self.r1, self.c1, self.r2, self.c2 = sheet, r1, c1, r2, c2
        self._ndim = None

    top_left = property(lambda self: (self.r1, self.c1))
    row = property(lambda self: self.r1)
    column = property(lambda self: self.c1)
    rows = property(lambda self: _Count(self.r2 - self.r1 + 1))
    columns = property(lambda self: _Count(self.c2 - self.c1 + 1))
    left = property(lambda self: 48.0 * (self.c1 - 1))
    top = property(lambda self: 15.0 * (self.r1 - 1))

    def cells(self):
        return [(r, c) for r in range(self.r1, self.r2 + 1) for c in range(self.c1, self.c2 + 1)]

    def options(self, ndim=None, **_):
        self._ndim = ndim
        return self

    @property
    def value(self):
        grid = [[self.sheet.cells.get((r, c)) for c in range(self.c1, self.c2 + 1)] for r in range(self.r1, self.r2 + 1)]
        if self._ndim == 2:
            return grid
        if self._ndim == 1:
            return [v for row in grid for v in row]
        if len(grid) == 1 and len(grid[0]) == 1:
            return grid[0][0]
        return grid if len(grid) > 1 and len(grid[0]) > 1 else [v for row in grid for v in row]

    @value.setter
    def value(self, value):
        rows = value if isinstance(value, list) and value and isinstance(value[0], list) else [[value]]
        self.sheet.log.append(("value", self.r1, self.c1, len(rows), max(len(r) for r in rows)))
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                cell = (self.r1 + i, self.c1 + j)
                fmt = self.sheet.formats.get(cell)
                if isinstance(v, str) and fmt != "@" and v.isdigit():
                    v = float(v)  # what Excel does to "00123" in a General cell
                if v is None:
                    self.sheet.cells.pop(cell, None)
                else:
                    self.sheet.cells[cell] = v

    @property
    def number_format(self):
        return self.sheet.formats.get(self.top_left, "General")

    @number_format.setter
    def number_format(self, fmt):
        self.sheet.log.append(("format", self.r1, self.c1, fmt))
        for cell in self.cells():
            self.sheet.formats[cell] = fmt

    @property
    def color(self):
        return self.sheet.colors.get(self.top_left)

    @color.setter
    def color(self, rgb):
        for cell in self.cells():
            if rgb is None:
                self.sheet.colors.pop(cell, None)
            else:
                self.sheet.colors[cell] = tuple(rgb)

    @property
    def font(self):
        return FakeFont(self)

    @property
    def column_width(self):
        return self.sheet.widths.get(self.c1)

    @column_width.setter
    def column_width(self, w):
        self.sheet.widths[self.c1] = w

    @property
    def note(self):
        return self.sheet.notes.get(self.top_left)

    def add_note(self, text):
        self.sheet.notes[self.top_left] = FakeNote(self, text)
        return self.sheet.notes[self.top_left]

    def delete(self):  # whole rows only (the adapter deletes "5:5")
        n = self.r2 - self.r1 + 1
        moved = {}
        for (r, c), v in self.sheet.cells.items():
            if r < self.r1:
                moved[(r, c)] = v
            elif r > self.r2:
                moved[(r - n, c)] = v
        self.sheet.cells = moved

    def insert(self, shift="down"):  # whole rows only (the adapter inserts "5:5")
        assert shift == "down"
        n = self.r2 - self.r1 + 1
        self.sheet.cells = {(r + n if r >= self.r1 else r, c): v for (r, c), v in self.sheet.cells.items()}
        self.sheet.formats = {(r + n if r >= self.r1 else r, c): v for (r, c), v in self.sheet.formats.items()}

    def select(self):
        self.sheet.book.app.selection = self


class FakeSheet:
    def __init__(self, book: FakeBook, name: str):
        self.book, self.name = book, name
        self.cells: dict[tuple[int, int], object] = {}
        self.formats, self.colors, self.bold, self.widths, self.notes = {}, {}, {}, {}, {}
        self.visible = True
        self.log: list[tuple] = []
        self.tables = []
        self.charts = []

    @property
    def used_range(self):
        if not self.cells:
            return FakeRange(self, 1, 1, 1, 1)
        rows = [r for r, _ in self.cells]
        cols = [c for _, c in self.cells]
        return FakeRange(self, min(rows), min(cols), max(rows), max(cols))

    def range(self, a, b=None):
        if isinstance(a, str):
            r1, r2 = (int(x) for x in a.split(":"))
            return FakeRange(self, r1, 1, r2, 16384)
        b = b or a
        return FakeRange(self, a[0], a[1], b[0], b[1])

    def clear(self):
        self.cells.clear()
        self.formats.clear()
        self.colors.clear()

    def activate(self):
        self.book.sheets.active = self


class FakeSheets(list):
    def __init__(self, book):
        super().__init__()
        self.book = book
        self.active = None

    def add(self, name, after=None):
        sheet = FakeSheet(self.book, name)
        self.insert(self.index(after) + 1 if after is not None else len(self), sheet)
        return sheet


class FakeApp:
    def __init__(self):
        self.alerts: list[tuple[str, str, str]] = []
        self.status_bar = False
        self.screen_updating = True
        self.calculation = "automatic"
        self.selection = None

    def alert(self, text, title=None, mode=None, **_):
        self.alerts.append((text, title, mode))


class FakeBook:
    def __init__(self, name="crm.xlsx"):
        self.name = self.fullname = name
        self.app = FakeApp()
        self.sheets = FakeSheets(self)


def fake_from_file(path: Path) -> FakeBook:
    """A fake live workbook holding the cell values Excel would give xlwings for `path`."""
    wb = openpyxl.load_workbook(path, data_only=True)
    book = FakeBook(path.name)
    for ws in wb.worksheets:
        sheet = book.sheets.add(ws.title)
        sheet.visible = ws.sheet_state == "visible"
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    sheet.cells[(cell.row, cell.column)] = cell.value
    book.sheets.active = book.sheets[0]
    return book


def small_book() -> FakeBook:
    book = FakeBook()
    s = book.sheets.add("客户资料")
    for c, h in enumerate(["客户编号", "公司名称", "手机", "邮编"], start=1):
        s.cells[(1, c)] = h
    s.cells.update({(2, 1): "C000001", (2, 2): "甲公司", (2, 3): "13800138000", (2, 4): "010010",
                    (4, 1): "C000002", (4, 2): "乙公司", (4, 4): 100080.0})
    s.formats.update({(2, 3): "@", (2, 4): "@"})
    book.sheets.active = s
    return book


# --------------------------------------------------------------------------- reading


def test_cell_text_matches_the_file_readers_text() -> None:
    assert cell_text(1.0) == "1" and cell_text(1.5) == "1.5" and cell_text(0.1 + 0.2) == "0.3"
    assert cell_text(13800138000.0) == "13800138000" and cell_text(True) == "true"
    assert cell_text(dt.datetime(2024, 1, 5, 13, 30)) == "2024-01-05 13:30:00"
    assert cell_text("  ") is None and cell_text(None) is None and cell_text("00123") == "00123"


def test_live_read_gives_the_same_frames_as_the_file_reader() -> None:
    from xlcrm.workbook.reader import read_book

    expected = read_book(SAMPLE)
    got = XlwingsWorkbook(fake_from_file(SAMPLE)).read()
    assert got.lang == expected.lang and got.settings == expected.settings
    for key in ("customers", "followups", "purchases"):
        pd.testing.assert_frame_equal(got.frame(key), expected.frame(key), check_dtype=False)
        assert got.sheets[key].columns == expected.sheets[key].columns
        assert got.sheets[key].header_row == expected.sheets[key].header_row
    assert [p.code for p in got.problems] == [p.code for p in expected.problems]


def test_read_keeps_leading_zeros_and_row_numbers_across_blank_rows() -> None:
    book = XlwingsWorkbook(small_book()).read()
    c = book.customers
    assert list(c["_row"]) == [2, 4]
    assert c.loc[0, "postcode"] == "010010" and c.loc[0, "mobile"] == "13800138000"
    assert book.sheets["customers"].columns["postcode"] == 4


def test_read_sheet_returns_a_tool_sheet_as_text() -> None:
    fake = small_book()
    issues = fake.sheets.add("问题")
    issues.cells.update({(1, 1): "行", (1, 2): "说明", (2, 1): 5.0, (2, 2): "缺手机"})
    frame = XlwingsWorkbook(fake).read_sheet("问题")
    assert list(frame.columns) == ["行", "说明"] and frame.iloc[0].tolist() == ["5", "缺手机"]
    assert XlwingsWorkbook(fake).read_sheet("Issues") is None  # by exact name only: never a user's look-alike
    assert XlwingsWorkbook(fake).read_sheet("Summary") is None


def test_missing_basic_info_is_a_schema_error() -> None:
    from xlcrm.errors import SchemaError

    fake = FakeBook()
    fake.sheets.add("Sheet1").cells[(1, 1)] = "hello"
    with pytest.raises(SchemaError):
        XlwingsWorkbook(fake).read()


# --------------------------------------------------------------------------- writing


def test_sheet_replace_writes_one_block_text_first_and_restores_the_view() -> None:
    fake = small_book()
    fake.app.selection = fake.sheets[0].range((2, 2))
    df = pd.DataFrame({"客户编号": ["00123", "00456"], "金额": [1.5, 2.0], "日期": [dt.date(2024, 1, 5), None]})
    plan = EditPlan([SheetReplace("今日跟进", [Block(df, title="今日需跟进客户", number_formats={"金额": "#,##0.00"})])])
    XlwingsWorkbook(fake).apply(plan)
    sheet = fake.sheets[-2]
    assert sheet.name == "今日跟进" and fake.sheets[-1].name == "_xlcrm_state"
    assert sheet.cells[(1, 1)] == "今日需跟进客户" and sheet.cells[(2, 1)] == "客户编号"
    assert sheet.cells[(3, 1)] == "00123" and sheet.formats[(3, 1)] == "@"  # never 123
    assert sheet.formats[(3, 2)] == "#,##0.00" and (4, 3) not in sheet.cells
    value_writes = [e for e in sheet.log if e[0] == "value" and e[1] == 3]
    assert value_writes == [("value", 3, 1, 2, 3)]  # the data rows: one block
    first_text = sheet.log.index(("format", 3, 1, "@"))
    assert first_text < sheet.log.index(value_writes[0])
    assert fake.sheets.active is fake.sheets[0] and fake.app.selection.top_left == (2, 2)
    assert fake.app.screen_updating is True and fake.app.calculation == "automatic"


def test_large_writes_are_chunked() -> None:
    fake = small_book()
    df = pd.DataFrame({"a": [str(i) for i in range(7)]})
    XlwingsWorkbook(fake, chunk_rows=3).apply(EditPlan([SheetReplace("导出", [Block(df)])]))
    export = next(s for s in fake.sheets if s.name == "导出")
    writes = [e for e in export.log if e[0] == "value" and e[1] > 1]
    assert [(e[1], e[3]) for e in writes] == [(2, 3), (5, 3), (8, 1)]
    assert [export.cells[(r, 1)] for r in range(2, 9)] == [str(i) for i in range(7)]


def test_column_write_finds_or_creates_the_column() -> None:
    fake = small_book()
    port = XlwingsWorkbook(fake)
    port.apply(EditPlan([
        ColumnWrite("客户资料", "邮编", 1, {2: "010011", 4: "100081"}),
        ColumnWrite("客户资料", "客户等级", 1, {2: "A", 3: None, 4: "B"}),
        CellWrite("客户资料", 3, 2, "丙公司"),
    ]))
    s = fake.sheets[0]
    assert s.cells[(2, 4)] == "010011" and s.cells[(4, 4)] == "100081" and s.formats[(4, 4)] == "@"
    assert s.cells[(1, 5)] == "客户等级" and s.cells[(2, 5)] == "A" and s.cells[(4, 5)] == "B"
    assert s.cells[(3, 2)] == "丙公司"
    assert [e for e in s.log if e[0] == "value" and e[2] == 5 and e[1] > 1] == [("value", 2, 5, 3, 1)]


def test_marks_are_replaced_on_the_next_run_and_rows_delete_bottom_up() -> None:
    fake = small_book()
    port = XlwingsWorkbook(fake)
    port.apply(EditPlan([MarkCells("客户资料", [CellMark(2, 3, "手机号不完整"), CellMark(4, 2, "重复?", "warning")])]))
    s = fake.sheets[0]
    assert s.colors[(2, 3)] == (0xFF, 0xC7, 0xCE) and s.notes[(2, 3)].text == "手机号不完整"
    state = port.read_sheet("_xlcrm_marks")
    assert len(state) == 2 and fake.sheets[-1].visible is False
    port.apply(EditPlan([MarkCells("客户资料", [CellMark(4, 2, "重复?", "warning")])]))
    assert (2, 3) not in s.colors and (2, 3) not in s.notes and (4, 2) in s.notes
    port.apply(EditPlan([DeleteRows("客户资料", [2, 3])]))
    assert s.cells[(2, 1)] == "C000002"


def test_insert_rows_puts_rows_back_where_they_were() -> None:
    fake = small_book()
    port = XlwingsWorkbook(fake)
    s = fake.sheets[0]
    before = dict(s.cells)
    gone = {r: {c: v for (rr, c), v in before.items() if rr == r} for r in (2, 4)}
    port.apply(EditPlan([DeleteRows("客户资料", [2, 4])]))
    port.apply(EditPlan([InsertRows("客户资料", gone, number_formats={1: "@"})]))
    assert s.cells == before
    assert s.formats[(2, 1)] == "@" and s.formats[(4, 1)] == "@"


# --------------------------------------------------------------------------- run_button / run_tag


def test_second_click_is_refused_politely(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(addin.tempfile, "gettempdir", lambda: str(tmp_path))
    fake = small_book()
    lock = addin.RunLock(XlwingsWorkbook(fake).key)
    assert lock.acquire()
    try:
        assert addin.run_button("due", fake) is None
        assert "正在处理" in fake.app.alerts[-1][0]
    finally:
        lock.release()
    assert lock.acquire() and (lock.release() is None)


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path) -> None:
    lock = addin.RunLock("book", tmp_path)
    lock.path.write_text("999999999 1\n")
    assert lock.acquire()
    lock.release()
    assert not lock.path.exists()


def test_expected_problems_become_one_friendly_alert(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(addin.tempfile, "gettempdir", lambda: str(tmp_path))
    fake = FakeBook("other.xlsx")
    fake.sheets.add("Sheet1").cells[(1, 1)] = "x"
    assert addin.run_button("check", fake) is None
    text, title, mode = fake.app.alerts[-1]
    assert "客户资料" in text and mode == "critical" and "Traceback" not in text
    assert fake.app.status_bar is False


def test_unknown_errors_are_logged_not_shown_as_tracebacks(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(addin.tempfile, "gettempdir", lambda: str(tmp_path))
    fake = small_book()
    monkeypatch.setattr(XlwingsWorkbook, "read", lambda self: 1 / 0)
    addin.run_button("due", fake)
    text = fake.app.alerts[-1][0]
    assert "ZeroDivisionError" in text and "Traceback" not in text
    assert "ZeroDivisionError" in (tmp_path / addin.LOG_NAME).read_text()


def test_help_lists_the_commands_in_the_workbooks_language(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(addin.tempfile, "gettempdir", lambda: str(tmp_path))
    fake = small_book()
    fake.sheets.add("使用说明")
    addin.run_button("help", fake)
    assert "校验" in fake.app.alerts[-1][0] and fake.sheets.active.name == "使用说明"


def test_handlers_through_the_file_adapter(tmp_path) -> None:
    from xlcrm.workbook.file_adapter import FileWorkbook

    path = tmp_path / "crm.xlsx"
    shutil.copy(SAMPLE, path)
    alerts = []
    result = addin.run_tag("due", FileWorkbook(path, backup_dir=tmp_path / "bk"), today=dt.date(2026, 11, 23),
                           alert=lambda *a: alerts.append(a))
    assert result is not None and result.written and len(alerts) == 1 and alerts[0][2] == "info"
    assert alerts[0][0] == result.text("zh-CN")
    assert "今日跟进" in openpyxl.load_workbook(path, read_only=True).sheetnames


def test_a_command_runs_over_the_live_adapter(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(addin.tempfile, "gettempdir", lambda: str(tmp_path))
    fake = fake_from_file(SAMPLE)
    result = addin.run_button("due", fake, today=dt.date(2026, 11, 23))
    assert result is not None and result.written
    assert fake.app.alerts[-1] == (result.text("zh-CN"), "xlcrm", "info")
    assert any(s.name == "今日跟进" and s.cells for s in fake.sheets)
