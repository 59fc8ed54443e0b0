"""Marks (fill + note) are idempotent and reversible; Tables stay consistent; DeleteRows moves rows up."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
from writer_fixtures import build_plain_xlsx, build_rich_xlsm

from xlcrm.workbook.edits import (
    FILL_ERROR,
    FILL_WARNING,
    AppendRows,
    CellMark,
    CellWrite,
    ColumnWrite,
    DeleteRows,
    EditPlan,
    MarkCells,
)
from xlcrm.workbook.writer import apply_plan


def _cells(path: Path, part: str = "xl/worksheets/sheet1.xml") -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        xml = zf.read(part).decode()
    return dict(re.findall(r'<c r="([A-Z]+\d+)"([^>]*)>', xml))


def test_marks_do_not_stack_and_clear_back_to_the_original(tmp_path: Path) -> None:
    path = build_rich_xlsm(tmp_path / "rich.xlsm")
    original = _cells(path)
    marks = MarkCells(
        "客户资料",
        [CellMark(3, 2, "名称重复"), CellMark(2, 2, "与用户批注同格"), CellMark(4, 3, "邮编可疑", "warning")],
    )
    apply_plan(path, EditPlan([marks]), backup_keep=0)
    once = (path.read_bytes(), _cells(path))
    wb = openpyxl.load_workbook(path)
    ws = wb["客户资料"]
    assert ws["B3"].fill.fgColor.rgb == FILL_ERROR and ws["B3"].comment.text == "名称重复"
    assert ws["C4"].fill.fgColor.rgb == FILL_WARNING
    assert ws["B2"].comment.text == "用户自己的批注"  # the user's note is kept, not replaced
    assert wb["_xlcrm_marks"].sheet_state == "veryHidden"
    apply_plan(path, EditPlan([marks]), backup_keep=0)
    assert _cells(path) == once[1]
    with zipfile.ZipFile(path) as zf:
        comments = zf.read("xl/comments1.xml").decode()
    assert comments.count("名称重复") == 1
    # A new run with fewer marks takes the old ones away; an empty list clears all of xlcrm's.
    apply_plan(path, EditPlan([MarkCells("客户资料", [CellMark(3, 2, "名称重复")])]), backup_keep=0)
    ws = openpyxl.load_workbook(path)["客户资料"]
    assert ws["C4"].fill.fgColor.rgb != FILL_WARNING and ws["C4"].comment is None
    apply_plan(path, EditPlan([MarkCells("客户资料", [])]), backup_keep=0)
    assert _cells(path) == original
    ws = openpyxl.load_workbook(path)["客户资料"]
    assert ws["B3"].comment is None and ws["B2"].comment.text == "用户自己的批注"


def test_user_restyled_mark_is_left_alone(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "p.xlsx")
    apply_plan(path, EditPlan([MarkCells("客户资料", [CellMark(2, 2, "x")])]), backup_keep=0)
    # The user gives the cell their own style 0 (as if they cleared formatting) before the next run.
    apply_plan(path, EditPlan([CellWrite("客户资料", 2, 2, "名称0")]), backup_keep=0)
    from xlcrm.workbook.edits import CellStyle

    apply_plan(path, EditPlan([CellWrite("客户资料", 2, 2, "名称0", CellStyle(fill="FF00FF00"))]), backup_keep=0)
    apply_plan(path, EditPlan([MarkCells("客户资料", [])]), backup_keep=0)
    assert openpyxl.load_workbook(path)["客户资料"]["B2"].fill.fgColor.rgb == "FF00FF00"


def test_table_grows_with_new_column_and_appended_rows(tmp_path: Path) -> None:
    path = build_rich_xlsm(tmp_path / "rich.xlsm")
    plan = EditPlan(
        [
            ColumnWrite("客户资料", "等级", 1, {2: "A", 9: "B"}),
            ColumnWrite("客户资料", "状态", 1, {3: "已成交"}),  # existing header: no new column
            AppendRows("客户资料", pd.DataFrame({"客户编号": ["C0100"], "邮编": ["000123"], "等级": ["C"]})),
        ]
    )
    apply_plan(path, plan, backup_keep=0)
    ws = openpyxl.load_workbook(path)["客户资料"]
    table = ws.tables["Customers"]
    assert table.ref == "A1:G10"
    assert [c.name for c in table.tableColumns] == [c.value for c in ws[1][:7]]
    assert ws["F3"].value == "已成交" and ws["G2"].value == "A" and ws["G10"].value == "C"
    assert ws["C10"].value == "000123" and ws["C10"].data_type == "s"


def test_table_header_cell_write_renames_column(tmp_path: Path) -> None:
    path = build_rich_xlsm(tmp_path / "rich.xlsm")
    apply_plan(path, EditPlan([CellWrite("客户资料", 1, 2, "公司全称")]), backup_keep=0)
    ws = openpyxl.load_workbook(path)["客户资料"]
    assert ws["B1"].value == "公司全称" == ws.tables["Customers"].tableColumns[1].name


def test_delete_rows_moves_rows_up_and_shrinks_ranges(tmp_path: Path) -> None:
    path = build_rich_xlsm(tmp_path / "rich.xlsm")
    ws0 = openpyxl.load_workbook(path)["客户资料"]
    ids = [ws0.cell(r, 1).value for r in range(2, 10)]
    apply_plan(path, EditPlan([DeleteRows("客户资料", [3, 5])]), backup_keep=0)
    wb = openpyxl.load_workbook(path)
    ws = wb["客户资料"]
    assert [ws.cell(r, 1).value for r in range(2, 8)] == [ids[0], ids[2], *ids[4:]]
    assert ws.cell(8, 1).value is None
    assert ws.tables["Customers"].ref == "A1:F7"
    assert str(ws.data_validations.dataValidation[0].sqref) == "F2:F499"  # F2:F501 less rows 3 and 5
    assert ws["D3"].is_date and ws["C3"].value == "000002"


def test_delete_rows_moves_formulas_and_charts(tmp_path: Path) -> None:
    path = build_rich_xlsm(tmp_path / "rich.xlsm")
    apply_plan(path, EditPlan([DeleteRows("It's 客户 表", [2])]), backup_keep=0)
    wb = openpyxl.load_workbook(path)
    ws = wb["It's 客户 表"]
    assert [ws.cell(r, 3).value for r in range(2, 5)] == ["=B2*2", "=B3*2", "=B4*2"]  # moved up with their rows
    assert ws.cell(5, 1).value is None
    chart = zipfile.ZipFile(path).read("xl/charts/chart1.xml").decode()
    assert "$B$2:$B$4" in chart and "$A$2:$A$4" in chart
