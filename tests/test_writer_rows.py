"""DeleteRows / InsertRows on a real file: everything anchored below moves with its rows, and back."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from xlcrm.errors import XlcrmError
from xlcrm.workbook.edits import CellMark, DeleteRows, EditPlan, InsertRows, MarkCells
from xlcrm.workbook.file_adapter import FileWorkbook
from xlcrm.workbook.writer import apply_plan
from xlcrm.workbook.writer.rowshift import BrokenReference, DeleteShift, InsertShift, shift_formula

SHEET = "客户资料"


def build(path: Path, *, formula_on_row_5: bool = False, note_on_row_5: bool = False) -> Path:
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet(SHEET)
    ws.write_row(0, 0, ["客户编号", "公司名称", "手机", "网站", "金额", "备注", "", "双倍"])
    for r in range(2, 12):
        ws.write_row(r - 1, 0, [f"C{r:06d}", f"公司{r}", f"1380000{r:04d}"])
        ws.write_number(r - 1, 4, r * 100)
        ws.write_formula(r - 1, 7, f"=E{r}*2", None, r * 200)
    ws.write_url("D9", "https://example.com/9", string="example.com/9")
    ws.merge_range("F8:G8", "合并的备注")
    ws.merge_range("F3:F6", "跨行")
    ws.write_comment("B8", "用户的批注")
    if note_on_row_5:
        ws.write_comment("B5", "这一行的批注")
    ws.conditional_format("E2:E11", {"type": "cell", "criteria": ">", "value": 500,
                                     "format": wb.add_format({"bold": True})})
    ws.data_validation("C2:C1048576", {"validate": "length", "criteria": "<=", "value": 20})
    ws.write_formula("J1", "=SUM(E2:E11)", None, 6500)
    sums = wb.add_worksheet("汇总")
    sums.write_formula("A1", "=客户资料!E9", None, 900)
    sums.write_formula("A2", "=SUM('客户资料'!E2:E11)", None, 6500)
    sums.write_formula("A3", '="客户资料!E5"', None, "客户资料!E5")  # text, not a reference
    if formula_on_row_5:
        sums.write_formula("A4", "=客户资料!B5", None, "公司5")
    wb.define_name("Nine", "=客户资料!$B$9")
    wb.define_name("客户资料!_xlnm.Print_Area", "=客户资料!$A$1:$H$11")
    wb.close()
    return path


def marks(path: Path) -> set[str]:
    state = FileWorkbook(path).read_sheet("_xlcrm_marks")
    return set(state.loc[state["sheet"] == SHEET, "cell"])


def notes(path: Path) -> tuple[dict[str, str], set[tuple[int, int]]]:
    z = zipfile.ZipFile(path)
    comments = next(n for n in z.namelist() if re.search(r"comments\d*\.xml$", n))
    vml = next(n for n in z.namelist() if n.endswith(".vml"))
    xml = z.read(comments).decode()
    by_ref = dict(re.findall(r'<comment ref="([A-Z]+\d+)"[^>]*>.*?<t[^>]*>([^<]*)</t>', xml))
    anchors = {(int(r) + 1, int(c) + 1) for r, c in
               re.findall(r"<x:Row>(\d+)</x:Row>\s*<x:Column>(\d+)</x:Column>", z.read(vml).decode())}
    return by_ref, anchors


def test_shift_formula_tokens():
    d = DeleteShift([5])
    assert shift_formula('SUM(A2:A10)+$B$8*\'客户资料\'!C6+"A6"+LOG10(2)+T[A9]', "客户资料", True, d) == \
        'SUM(A2:A9)+$B$7*\'客户资料\'!C5+"A6"+LOG10(2)+T[A9]'
    assert shift_formula("Other!A9+A9", "客户资料", False, d) == "Other!A9+A9"  # another sheet's cells stay
    with pytest.raises(BrokenReference):
        shift_formula("客户资料!B5", "客户资料", False, d)
    i = InsertShift([5])
    assert shift_formula("SUM(E2:E10)+E9+4:6", "s", True, i) == "SUM(E2:E11)+E10+4:7"
    assert [i.row(r) for r in (4, 5, 6)] == [4, 6, 7]


def test_delete_then_insert_moves_everything_and_back(tmp_path: Path):
    path = build(tmp_path / "rows.xlsx")
    apply_plan(path, EditPlan([MarkCells(SHEET, [CellMark(7, 3, "手机号不完整"), CellMark(5, 3, "重复?", "warning")])]),
               backup_keep=0)
    assert marks(path) == {"C7", "C5"}
    original = openpyxl.load_workbook(path)[SHEET]
    row5 = {c: original.cell(5, c).value for c in range(1, 6)}

    apply_plan(path, EditPlan([DeleteRows(SHEET, [5])]), backup_keep=0)
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    assert [ws.cell(r, 1).value for r in (4, 5, 10)] == ["C000004", "C000006", "C000011"]
    assert ws["H5"].value == "=E5*2" and ws["H10"].value == "=E10*2" and ws["J1"].value == "=SUM(E2:E10)"
    assert wb["汇总"]["A1"].value == "=客户资料!E8" and wb["汇总"]["A2"].value == "=SUM('客户资料'!E2:E10)"
    assert wb["汇总"]["A3"].value == '="客户资料!E5"'
    assert ws["D8"].hyperlink.target == "https://example.com/9"
    assert {str(r) for r in ws.merged_cells.ranges} == {"F7:G7", "F3:F5"}
    assert ws.conditional_formatting and str(next(iter(ws.conditional_formatting)).sqref) == "E2:E10"
    assert str(ws.data_validations.dataValidation[0].sqref) == "C2:C1048576"
    assert wb.defined_names["Nine"].attr_text == "客户资料!$B$8"
    assert ws.print_area == "'客户资料'!$A$1:$H$10"
    assert ws["B7"].comment.text == "用户的批注"  # the user's note moved up with its cell
    assert marks(path) == {"C6"}  # xlcrm's mark on the deleted row went; the other followed its cell
    by_ref, anchors = notes(path)
    assert set(by_ref) == {"B7", "C6"} and anchors == {(7, 2), (6, 3)}

    apply_plan(path, EditPlan([InsertRows(SHEET, {5: row5})]), backup_keep=0)
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    assert [ws.cell(5, c).value for c in range(1, 6)] == list(row5.values())
    assert ws["C5"].data_type == "s" and ws["E5"].value == 500
    assert ws["H6"].value == "=E6*2" and ws["J1"].value == "=SUM(E2:E11)"
    assert wb["汇总"]["A1"].value == "=客户资料!E9" and wb.defined_names["Nine"].attr_text == "客户资料!$B$9"
    assert ws["D9"].hyperlink.target == "https://example.com/9" and ws["B8"].comment.text == "用户的批注"
    assert str(next(iter(ws.conditional_formatting)).sqref) == "E2:E11"
    assert marks(path) == {"C7"}
    assert notes(path) == ({"B8": "用户的批注", "C7": "手机号不完整"}, {(8, 2), (7, 3)})


@pytest.mark.parametrize(("kind", "expected"), [("formula", r"汇总.*A4.*#REF!"), ("note", r"B5.*notes")])
def test_refusals_name_the_cell_and_write_nothing(tmp_path: Path, kind: str, expected: str):
    path = build(tmp_path / "rows.xlsx", formula_on_row_5=kind == "formula", note_on_row_5=kind == "note")
    before = path.read_bytes()
    with pytest.raises(XlcrmError) as err:
        apply_plan(path, EditPlan([DeleteRows(SHEET, [5])]), backup_keep=0)
    assert re.search(expected, err.value.render("en"), re.S), err.value.render("en")
    assert "无法移动" in err.value.render("zh-CN")
    assert path.read_bytes() == before
