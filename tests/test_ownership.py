"""xlcrm writes only what it can prove it created (issue 10 items 1–4), checked on the real files.

A user's own sheet named like a tool sheet, a user's own column named like a computed column, a user
sheet that only looks a little like customer data: each is input, never output. The proof is the
very-hidden `_xlcrm_state` sheet, where xlcrm records each sheet and column it creates.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import needs
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

import xlcrm
from xlcrm.errors import SchemaError
from xlcrm.template import new_workbook
from xlcrm.workbook.edits import Block, EditPlan, SheetReplace
from xlcrm.workbook.ownership import STATE_SHEET, NotOwned
from xlcrm.workbook.reader import read_book
from xlcrm.workbook.writer import apply_plan

TODAY = dt.date(2026, 11, 20)
CUSTOMERS = [
    ["C000001", "甲公司", "张三", "13800138000", "张伟", "2026-10-01"],
    ["C000002", "乙公司", "李四", "13900139000", "张伟", "2026-10-02"],
    ["C000003", "丙公司", "王五", "13700137000", "王芳", "2026-10-03"],
]
CUSTOMER_HEADERS = ["客户编号", "公司名称", "联系人", "手机", "负责人", "创建日期"]


def _user_book(path: Path, build_extra=None, *, customer_headers=CUSTOMER_HEADERS, customers=CUSTOMERS) -> Path:
    """A workbook as a user made it (not by xlcrm): the three sheets, plus whatever `build_extra` adds."""
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    if build_extra is not None:
        build_extra(wb, "before")
    ws = wb.add_worksheet("客户资料")
    ws.write_row(0, 0, customer_headers)
    for r, row in enumerate(customers, start=1):
        ws.write_row(r, 0, row)
    fu = wb.add_worksheet("跟进记录")
    fu.write_row(0, 0, ["客户编号", "跟进日期", "方式", "跟进内容"])
    fu.write_row(1, 0, ["C000001", "2026-11-01", "电话", "报价"])
    pu = wb.add_worksheet("购买记录")
    pu.write_row(0, 0, ["客户编号", "订单号", "日期", "产品", "金额"])
    pu.write_row(1, 0, ["C000001", "SO-1", "2026-11-02", "A型", 1200])
    if build_extra is not None:
        build_extra(wb, "after")
    wb.close()
    return path


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _sheet_part(path: Path, name: str) -> str:
    """The worksheet part behind sheet `name` (via workbook.xml and its rels)."""
    from lxml import etree

    parts = _parts(path)
    wbx = etree.fromstring(parts["xl/workbook.xml"])
    rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    rid = next(s.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
               for s in wbx.iter("{*}sheet") if s.get("name") == name)
    target = next(r.get("Target") for r in rels if r.get("Id") == rid)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def _state(path: Path) -> list[list]:
    ws = openpyxl.load_workbook(path)[STATE_SHEET]
    return [[c.value for c in row] for row in ws.iter_rows()]


# --------------------------------------------------------------------------- 1. tool sheets


def _user_summary(wb, when):
    if when != "after":
        return
    ws = wb.add_worksheet("汇总")  # the user's own summary, with a conditional format and a chart
    ws.write_row(0, 0, ["月份", "销售额"])
    for i, v in enumerate((100, 250, 175), start=1):
        ws.write_row(i, 0, [f"{i}月", v])
    ws.conditional_format("B2:B4", {"type": "data_bar"})
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=汇总!$B$2:$B$4"})
    ws.insert_chart("D2", chart)


def test_a_users_summary_sheet_is_kept_and_xlcrms_goes_beside_it(tmp_path: Path):
    path = _user_book(tmp_path / "book.xlsx", _user_summary)
    part = _sheet_part(path, "汇总")
    before = _parts(path)
    result = xlcrm.run_command("summary", path, today=TODAY)
    after = _parts(path)
    # the user's sheet, its drawing and chart: byte for byte
    for name in (part, *[n for n in before if "chart" in n or "drawing" in n]):
        assert after[name] == before[name], name
    wb = openpyxl.load_workbook(path)
    assert wb["汇总"]["A1"].value == "月份" and wb["汇总"]["B3"].value == 250
    assert "汇总 (2)" in wb.sheetnames
    assert "“汇总”是您自己的" in result.text("zh-CN") and "'汇总 (2)'" in result.text("en")
    assert ["sheet", "summary"] == [c for c in next(r for r in _state(path) if r[1] == "summary")[:2]]

    # The next Summary regenerates xlcrm's own sheet, found by its record: no "汇总 (3)".
    xlcrm.run_command("summary", path, today=TODAY)
    names = openpyxl.load_workbook(path).sheetnames
    assert names.count("汇总 (2)") == 1 and "汇总 (3)" not in names
    assert _parts(path)[part] == before[part]


def test_a_users_handover_sheet_is_kept_and_xlcrms_goes_beside_it(tmp_path: Path):
    """Team sheets (移交 / Handover, 冲突 / Conflicts) are tool sheets like the others: named by the schema,
    written only when xlcrm made them."""

    def handover_notes(wb, when):
        if when == "after":
            ws = wb.add_worksheet("移交")
            ws.write_row(0, 0, ["离职员工", "交接日期"])
            ws.write_row(1, 0, ["赵六", "2026-12-01"])

    path = _user_book(tmp_path / "book.xlsx", handover_notes)
    part = _sheet_part(path, "移交")
    before = _parts(path)
    xlcrm.handover(path, today=TODAY, store=str(tmp_path / "team.sqlite"))  # the first press makes the sheet
    assert _parts(path)[part] == before[part]
    names = openpyxl.load_workbook(path).sheetnames
    assert "移交 (2)" in names
    xlcrm.handover(path, today=TODAY, store=str(tmp_path / "team.sqlite"))  # pressed again: its own sheet
    names = openpyxl.load_workbook(path).sheetnames
    assert names.count("移交 (2)") == 1 and "移交 (3)" not in names
    assert _parts(path)[part] == before[part]


def test_a_renamed_tool_sheet_is_followed_by_its_id(tmp_path: Path):
    path = _user_book(tmp_path / "book.xlsx")
    xlcrm.run_command("summary", path, today=TODAY)
    # The user renames xlcrm's 汇总 to "十一月汇总" (Excel keeps its sheetId): xlcrm still owns it.
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace('name="汇总"'.encode(), 'name="十一月汇总"'.encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:  # ok-to-save (the user's rename, simulated)
        for n, b in parts.items():
            zf.writestr(n, b)
    xlcrm.run_command("summary", path, today=TODAY)
    names = openpyxl.load_workbook(path).sheetnames
    assert "十一月汇总" in names and "汇总" not in names and "汇总 (2)" not in names


def test_a_real_excel_sheet_named_summary_survives_summary(tmp_path: Path):
    """A real Excel workbook whose sheet (with Excel 2010 conditional formats) the user named 'Summary'."""
    path = Path(shutil.copyfile(needs.excel_authored("NewStyleConditionalFormattings.xlsx"), tmp_path / "real.xlsx"))
    parts = _parts(path)
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b'name="CF"', b'name="Summary"')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:  # ok-to-save (renaming the fixture's sheet)
        for n, b in parts.items():
            zf.writestr(n, b)
    # Add an English CRM through xlcrm's writer (as an import would), then run the manager's Summary.
    customers = pd.DataFrame([["C000001", "Acme", "Ann", "13800138000", "Wei"]],
                             columns=["Customer ID", "Company", "Contact", "Mobile", "Owner"])
    apply_plan(path, EditPlan([SheetReplace("Basic Info", [Block(customers)])]), backup_keep=0)
    part = _sheet_part(path, "Summary")
    before = _parts(path)[part]
    xlcrm.run_command("summary", path, today=TODAY, lang="en")
    assert _parts(path)[part] == before
    assert "Summary (2)" in openpyxl.load_workbook(path).sheetnames


def test_the_writer_refuses_an_unowned_sheet_even_if_a_command_asks(tmp_path: Path):
    """The safety net below the commands: a SheetReplace for the summary role onto a user's sheet."""
    path = _user_book(tmp_path / "book.xlsx", _user_summary)
    before = path.read_bytes()
    plan = EditPlan([SheetReplace("汇总", [Block(pd.DataFrame({"a": [1]}))], owner="summary")])
    with pytest.raises(NotOwned) as info:
        apply_plan(path, plan, backup_keep=0)
    assert "汇总" in info.value.msg.text("zh-CN") and "untouched" in info.value.msg.text("en")
    assert path.read_bytes() == before


def _drop_sheet(path: Path, name: str) -> None:
    """Remove sheet `name` from the package (workbook.xml entry, rel, content type, part)."""
    import re

    part = _sheet_part(path, name)
    parts = _parts(path)
    wbx = parts["xl/workbook.xml"].decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(name)}"[^>]*r:id="(rId\d+)"[^>]*/>', wbx)
    parts["xl/workbook.xml"] = wbx.replace(rid.group(0), "").encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    parts["xl/_rels/workbook.xml.rels"] = re.sub(rf'<Relationship [^>]*Id="{rid.group(1)}"[^>]*/>', "", rels).encode()
    ct = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = re.sub(rf'<Override [^>]*PartName="/{re.escape(part)}"[^>]*/>', "", ct).encode()
    del parts[part]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:  # ok-to-save (making a round-1 file)
        for n, b in parts.items():
            zf.writestr(n, b)


def test_a_round1_book_without_state_is_adopted_not_duplicated(tmp_path: Path):
    """A book xlcrm made before ownership was recorded (hidden Lists + How-to, its own 汇总, no state
    sheet): the canonical names are xlcrm's, so 汇总 is regenerated in place, and that is recorded."""
    path = new_workbook(tmp_path / "round1.xlsx", "zh-CN")
    xlcrm.run_command("summary", path, today=TODAY)  # the Summary, then forget that xlcrm recorded anything
    _drop_sheet(path, STATE_SHEET)
    assert STATE_SHEET not in openpyxl.load_workbook(path).sheetnames
    book = read_book(path)
    assert book.ownership.legacy and book.tool_sheets.get("summary") == "汇总"
    xlcrm.run_command("summary", path, today=TODAY)
    names = openpyxl.load_workbook(path).sheetnames
    assert "汇总" in names and "汇总 (2)" not in names
    assert _state(path)[1][0] == "legacy"  # stays a legacy book after the first record


# --------------------------------------------------------------------------- 2. data sheets by evidence


def test_a_users_orders_sheet_does_not_hijack_purchases(tmp_path: Path):
    def orders_first(wb, when):
        if when == "before":
            ws = wb.add_worksheet("Orders")
            ws.write_row(0, 0, ["Order", "Item"])
            ws.write_row(1, 0, ["X-1", "pen"])

    path = _user_book(tmp_path / "book.xlsx", orders_first)
    book = read_book(path)
    assert book.sheets["purchases"].name == "购买记录"
    result = xlcrm.run_command("summary", path, today=TODAY)
    assert result.counts["customers"] == 3
    assert openpyxl.load_workbook(path)["Orders"]["A2"].value == "X-1"


def test_traditional_purchases_after_an_orders_sheet(tmp_path: Path):
    wb = xlsxwriter.Workbook(str(tmp_path / "tw.xlsx"))  # ok-to-save (brand-new fixture)
    wb.add_worksheet("客戶資料").write_row(0, 0, ["客戶編號", "公司名稱", "手機"])
    wb.get_worksheet_by_name("客戶資料").write_row(1, 0, ["C1", "甲", "13800138000"])
    wb.add_worksheet("Orders").write_row(0, 0, ["單號", "金額"])
    pu = wb.add_worksheet("購買記錄")
    pu.write_row(0, 0, ["客戶編號", "訂單號", "日期", "金額"])
    pu.write_row(1, 0, ["C1", "SO-1", "2026-11-02", 99])
    wb.close()
    book = read_book(tmp_path / "tw.xlsx")
    assert book.sheets["purchases"].name == "購買記錄" and len(book.purchases) == 1


# --------------------------------------------------------------------------- 3. no silent adoption


def _pets(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet("pets")
    ws.write_row(0, 0, ["Name", "Owner", "Species"])
    ws.write_row(1, 0, ["Rex", "Ann", "dog"])
    ws.write_row(2, 0, ["Tom", "Bob", "cat"])
    wb.close()
    return path


@pytest.mark.parametrize("command", ["check", "run", "summary"])
def test_an_unrelated_sheet_is_not_adopted(tmp_path: Path, command: str):
    path = _pets(tmp_path / "pets.xlsx")
    before = path.read_bytes()
    with pytest.raises(SchemaError) as info:
        xlcrm.run_command(command, path, today=TODAY)
    zh, en = info.value.msg.text("zh-CN"), info.value.msg.text("en")
    assert "客户资料" in zh and "Basic Info" in en and "pets" in en
    assert path.read_bytes() == before


def test_a_weak_match_says_what_was_found_and_how_to_name_it(tmp_path: Path):
    wb = xlsxwriter.Workbook(str(tmp_path / "list.xlsx"))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet("名单")
    ws.write_row(0, 0, ["公司名称", "备注"])  # a company column, but no way to reach anyone
    ws.write_row(1, 0, ["甲公司", "老客户"])
    wb.close()
    with pytest.raises(SchemaError) as info:
        xlcrm.run_command("check", tmp_path / "list.xlsx", today=TODAY)
    zh, en = info.value.msg.text("zh-CN"), info.value.msg.text("en")
    assert "名单" in zh and "公司名称" in zh and "改名为“客户资料”" in zh
    assert "rename it to 'Basic Info'" in en


def test_a_clear_customer_list_under_another_name_is_adopted(tmp_path: Path):
    wb = xlsxwriter.Workbook(str(tmp_path / "clients.xlsx"))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet("我的客户")
    ws.write_row(0, 0, ["客户编号", "公司名称", "联系人", "手机"])
    ws.write_row(1, 0, ["C1", "甲公司", "张三", "13800138000"])
    wb.close()
    assert read_book(tmp_path / "clients.xlsx").sheets["customers"].name == "我的客户"


# --------------------------------------------------------------------------- 4. computed columns


def test_a_users_own_next_date_and_grade_columns_are_input(tmp_path: Path):
    headers = [*CUSTOMER_HEADERS, "下次跟进", "客户等级"]
    rows = [[*r, d, g] for r, d, g in zip(CUSTOMERS, ["2026-12-01", "2026-11-25", "2027-01-10"], ["A", "C", "B"],
                                          strict=True)]
    path = _user_book(tmp_path / "book.xlsx", customer_headers=headers, customers=rows)
    result = xlcrm.run(path, today=TODAY)
    ws = openpyxl.load_workbook(path)["客户资料"]
    header = [c.value for c in ws[1]]
    # the user's columns: every typed value exactly as typed
    typed_dates = [ws.cell(r, header.index("下次跟进") + 1).value for r in range(2, 5)]
    typed_grades = [ws.cell(r, header.index("客户等级") + 1).value for r in range(2, 5)]
    assert typed_dates == ["2026-12-01", "2026-11-25", "2027-01-10"] and typed_grades == ["A", "C", "B"]
    # xlcrm's own columns beside them, recorded as xlcrm's
    assert "客户等级（系统）" in header and "下次跟进（系统）" in header
    recorded = {r[4] for r in _state(path) if r[0] == "column"}
    assert {"客户等级（系统）", "下次跟进（系统）"} <= recorded and "客户等级" not in recorded
    # …and used as the user meant: the typed grade is an override, the typed date the plan
    grades = [ws.cell(r, header.index("客户等级（系统）") + 1).value for r in range(2, 5)]
    assert grades == ["A", "C", "B"]
    nexts = [ws.cell(r, header.index("下次跟进（系统）") + 1).value for r in range(2, 5)]
    assert [v.date() if hasattr(v, "date") else v for v in nexts][1] == dt.date(2026, 11, 25)
    assert "您自己的" in result.text("zh-CN")

    # A second run finds its own columns by their record and adds nothing more.
    xlcrm.run(path, today=TODAY)
    again = [c.value for c in openpyxl.load_workbook(path)["客户资料"][1]]
    assert again == header


def test_change_log_rows_carry_the_customer_id(tmp_path: Path):
    rows = [[*CUSTOMERS[0][:3], "138 0013 8000", *CUSTOMERS[0][4:]], CUSTOMERS[1], ["", "丙公司", "王五", "13700137000",
                                                                                    "王芳", "2026-10-03"]]
    path = _user_book(tmp_path / "book.xlsx", customers=rows)
    xlcrm.run(path, today=TODAY)
    log = openpyxl.load_workbook(path)["变更记录"]
    header = [c.value for c in log[1]]
    col = header.index("客户编号")
    entries = [[c.value for c in row] for row in log.iter_rows(min_row=2)]
    assert entries and all(e[col] for e in entries), entries
