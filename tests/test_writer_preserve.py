"""The representative edit changes exactly what it should, on Excel-made and generated workbooks."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import needs
import openpyxl
import pandas as pd
import pytest
from writer_fixtures import (
    ODD_NAME,
    assert_package_sound,
    build_plain_xlsx,
    build_rich_xlsm,
    members,
    representative_plan,
)

from xlcrm.ooxml.package import Package
from xlcrm.workbook.writer import apply_plan
from xlcrm.workbook.writer.sheets import Workbook

WRITABLE_AUTHORED = [
    "61652.xlsx",
    "62629_target.xlsm",
    "64759.xlsx",
    "NewStyleConditionalFormattings.xlsx",
    "SimpleMacro.xlsm",
    "WithTextBox.xlsx",
    "button07.xlsm",
]
# Parts a representative edit may rewrite (besides those of the sheets it creates).
BOOK_PARTS = {
    "[Content_Types].xml",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/styles.xml",
    "docProps/app.xml",
    "xl/calcChain.xml",
}


def _first_sheet(path: Path) -> tuple[str, str]:
    wb = Workbook(Package(path.read_bytes()))
    entry = wb.sheets()[0]
    return entry.name, entry.part


def _sheet_tables(path: Path, sheet_part: str) -> set[str]:
    pkg = Package(path.read_bytes())
    return {t for t in pkg.rel_targets(sheet_part).values() if "/tables/" in t}


def _check_representative(path: Path, tmp_path: Path) -> None:
    sheet, part = _first_sheet(path)
    before = members(path)
    original = path.read_bytes()
    rows = [2, 3, 4, 5, 6]
    allowed = BOOK_PARTS | {part} | _sheet_tables(path, part)
    result = apply_plan(path, representative_plan(sheet, 1, rows), backup_dir=tmp_path / "bk")
    after = members(path)
    changed = {n for n in before if before[n] != after.get(n)}
    assert changed == set(result.parts_changed)
    assert changed <= allowed, changed - allowed
    for name in before.keys() - changed:
        assert after[name] == before[name]
    assert result.sheets_created == ["汇总", "今日跟进"]
    assert result.backup is not None and result.backup.read_bytes() == original
    assert_package_sound(path)

    # Run 2 regenerates the tool sheet (another chart kind) and adds one more sheet: again nothing else moves.
    before2 = members(path)
    summary_part = Workbook(Package(path.read_bytes())).find("汇总").part
    state_part = Workbook(Package(path.read_bytes())).find("_xlcrm_state").part  # records the new sheet
    result2 = apply_plan(
        path, representative_plan(sheet, 1, rows, chart_kind="pie", new_sheet="第三张"), backup_dir=tmp_path / "bk"
    )
    after2 = members(path)
    allowed2 = allowed | {summary_part, state_part, "xl/worksheets/_rels/" + summary_part.rsplit("/", 1)[1] + ".rels"}
    changed2 = {n for n in before2 if before2[n] != after2.get(n)}
    removed = set(before2) - set(after2)
    assert {p for p in changed2 - removed} <= allowed2, changed2 - allowed2
    assert all("/charts/" in p or "/drawings/" in p for p in removed), removed
    assert result2.sheets_created == ["第三张"]
    assert_package_sound(path)

    # openpyxl and pandas (calamine) read the new values back: text stays text, dates are dates.
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    header_col = next(c.column for c in ws[1] if c.value == "xlcrm结果")
    got = [ws.cell(r, header_col).value for r in rows]
    assert got[:4] == ["A", "00123", dt.datetime(2024, 5, 6), 12.5] and got[4] is None
    assert ws.cell(3, header_col).data_type == "s"
    assert ws.cell(4, header_col).is_date
    names = wb.sheetnames
    at = names.index(sheet)
    assert names[at + 1 : at + 4] == ["第三张", "今日跟进", "汇总"]
    assert [c.value for c in wb["汇总"][2]] == ["等级", "客户数", "金额"]
    assert wb["今日跟进"]["A2"].value == "00123"
    frames = pd.read_excel(path, sheet_name=None, engine="calamine", header=None)
    due = frames["今日跟进"]
    assert due.iloc[1, 0] == "00123"
    assert pd.Timestamp(due.iloc[1, 1]) == pd.Timestamp("2024-05-06")
    assert frames["汇总"].iloc[2, 1] == 3


@pytest.mark.parametrize("name", WRITABLE_AUTHORED)
def test_representative_edit_on_excel_authored(name: str, tmp_path: Path) -> None:
    src = needs.excel_authored(name)
    path = tmp_path / name
    shutil.copyfile(src, path)
    _check_representative(path, tmp_path)


def test_representative_edit_on_generated_xlsm(tmp_path: Path) -> None:
    path = build_rich_xlsm(tmp_path / "rich.xlsm")
    vba = members(path)["xl/vbaProject.bin"]
    _check_representative(path, tmp_path)
    out = members(path)
    assert out["xl/vbaProject.bin"] == vba
    # The new column joined the Excel Table: header text equals tableColumn@name, ref widened.
    wb = openpyxl.load_workbook(path)
    table = wb["客户资料"].tables["Customers"]
    assert table.ref == "A1:G9"
    assert table.tableColumns[-1].name == "xlcrm结果"
    # Defined names still point at the same sheets after two insertions.
    assert wb.defined_names["StatusList"].attr_text == "Lists!$A$1:$A$3"
    assert "LocalName" in wb["Lists"].defined_names
    assert wb[ODD_NAME].print_area is not None
    assert wb["Hidden"].sheet_state == "hidden"


def test_generated_plain_xlsx_keeps_text_and_dates(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "plain.xlsx")
    _check_representative(path, tmp_path)
    df = pd.read_excel(path, sheet_name="客户资料", engine="calamine", dtype={"编号": str})
    assert df["编号"].tolist()[:3] == ["00000", "00001", "00002"]


def test_result_reports_what_happened(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "plain.xlsx")
    result = apply_plan(path, representative_plan("客户资料", 1, [2, 3]), backup_dir=tmp_path / "bk", backup_keep=2)
    assert result.bytes_written == path.stat().st_size
    assert "xl/worksheets/sheet1.xml" in result.parts_changed
    assert any(p.startswith("xl/charts/") for p in result.parts_added)
    assert result.seconds > 0
    assert "已保存" in result.summary() and "Saved" in result.summary("en")
    for _ in range(3):
        apply_plan(path, representative_plan("客户资料", 1, [2, 3]), backup_dir=tmp_path / "bk", backup_keep=2)
    assert len(list((tmp_path / "bk").iterdir())) == 2


def test_untouched_parts_are_copied_compressed(tmp_path: Path) -> None:
    path = build_rich_xlsm(tmp_path / "rich.xlsm")
    with zipfile.ZipFile(path) as zf:
        raw_before = {i.filename: (i.CRC, i.compress_size, i.compress_type) for i in zf.infolist()}
    apply_plan(path, representative_plan("客户资料", 1, [2]), backup_keep=0)
    with zipfile.ZipFile(path) as zf:
        raw_after = {i.filename: (i.CRC, i.compress_size, i.compress_type) for i in zf.infolist()}
    for name in ("xl/vbaProject.bin", "xl/media/image1.png", "xl/theme/theme1.xml", "xl/drawings/vmlDrawing1.vml"):
        assert raw_after[name] == raw_before[name]
