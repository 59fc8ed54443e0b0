"""`xlcrm import`: CSV / workbook rows into a CRM workbook — mapping, update-by-key, appends, errors, undo."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xlcrm.api import run_command
from xlcrm.commands import REGISTRY
from xlcrm.errors import XlcrmError
from xlcrm.template import build_template, new_workbook
from xlcrm.workbook.reader import read_book

TODAY = "2026-11-20"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sheet(path: Path, name: str) -> list[list]:
    ws = openpyxl.load_workbook(path)[name]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def imp(book: Path, **kw):
    return run_command("import", book, today=TODAY, **kw)


@pytest.fixture
def known(sample_zh):
    """(book, a customer with a mobile, its ID, its row) from the zh sample."""
    c = read_book(sample_zh).customers
    row = c[c["mobile"].notna() & c["customer_id"].notna() & c["email"].isna()].iloc[0]
    return sample_zh, row


def test_csv_import_updates_by_mobile_appends_new_rows_and_lists_errors(tmp_path, known):
    book, old = known
    before = read_book(book)
    csv = tmp_path / "来源.csv"
    csv.write_bytes((
        "公司名称,手机,邮箱,成交状态,建档日期,我的列\n"
        "新公司甲,13911112222,a@x.cn,谈判中,2026-11-01,x\n"
        f"{old['company'] or ''},+86 {old['mobile']},new@mail.cn,已成交,2026-13-45,y\n"
        ",,,,,only-mine\n"
    ).encode("gbk"))

    dry = imp(book, source=str(csv), dry_run=True)
    assert not dry.written and sha(book) == sha(before.path)  # nothing written on a dry run
    mapping = {m["source"]: (m["target"], m["note"]) for m in dry.data["mapping"]}
    assert mapping["手机"] == ("手机", "") and mapping["我的列"][1] == "新列（你自己的列）"

    result = imp(book, source=str(csv))
    assert result.written
    assert result.counts["matched"] == 1 and result.counts["matched_by_mobile"] == 1
    assert result.counts["new_customers"] == 1 and result.counts["errors"] == 2
    errors = {(e["row"], e["column"]): e for e in result.data["errors"]}
    assert errors[(3, "建档日期")]["value"] == "2026-13-45" and "未导入" in errors[(3, "建档日期")]["zh"]
    assert (4, "") in errors  # a row naming nobody

    after = read_book(book)
    c = after.customers
    assert len(c) == len(before.customers) + 1
    updated = c[c["customer_id"] == old["customer_id"]].iloc[0]
    assert updated["email"] == "new@mail.cn" and updated["deal_status"] == "closed"
    assert updated["mobile"] == old["mobile"]  # the same number, written differently: not a change
    assert updated["created"] == old["created"] or (pd.isna(updated["created"]) and pd.isna(old["created"]))
    new = c.iloc[-1]
    assert new["company"] == "新公司甲" and new["customer_id"] == "C000301"  # the book's own ID pattern
    assert int(new["_row"]) == before.sheets["customers"].last_row + 1
    log = [r for r in sheet(book, "变更记录") if r[2] and str(r[2]).startswith("导入 IMP-")]
    fields = {r[4] for r in log}
    assert {"邮箱", "成交状态", "我的列"} <= fields and f"客户资料!{int(new['_row'])}:{int(new['_row'])}" in fields
    assert next(r for r in log if r[4] == "成交状态")[5:7] == ["谈判中", "已成交"]  # old → new, as the user reads them
    report = sheet(book, "导入报告")
    assert report[0][0].startswith("导入 IMP-") and report[1][:3] == ["来源工作表", "行号", "列"]
    assert ["来源.csv", 3, "建档日期", "2026-13-45"] == report[2][:4]

    undo = run_command("import", book, undo=True)
    assert undo.counts["removed_rows"] == 1 and undo.counts["restored_cells"] == 3 and undo.counts["kept"] == 0
    back = read_book(book).customers
    assert len(back) == len(before.customers)
    restored = back[back["customer_id"] == old["customer_id"]].iloc[0]
    assert pd.isna(restored["email"]) and restored["deal_status"] == old["deal_status"]
    with pytest.raises(XlcrmError, match="没有可撤销的导入"):
        run_command("import", book, undo=True)


def test_undo_keeps_what_the_user_changed_since(tmp_path, known):
    book, old = known
    csv = tmp_path / "in.csv"
    csv.write_text(f"客户编号,邮箱\n{old['customer_id']},first@mail.cn\n", encoding="utf-8")
    assert imp(book, source=str(csv)).counts["updated_cells"] == 1
    csv.write_text(f"客户编号,邮箱\n{old['customer_id']},second@mail.cn\n", encoding="utf-8")
    second = imp(book, source=str(csv))
    assert second.counts["matched_by_customer_id"] == 1
    # undo the first import now: its cell was changed since (by the second), so it stays
    first_id = None
    for r in sheet(book, "变更记录"):
        if r[2] and "IMP-" in str(r[2]) and r[6] == "first@mail.cn":
            first_id = str(r[2]).split()[-1]
    undo = run_command("import", book, undo=True, import_id=first_id)
    assert undo.counts["kept"] == 1 and undo.counts["restored_cells"] == 0
    assert read_book(book).customers.set_index("customer_id").at[old["customer_id"], "email"] == "second@mail.cn"


def test_workbook_source_brings_follow_ups_and_purchases_and_can_be_repeated(tmp_path):
    book = new_workbook(tmp_path / "crm.xlsx")
    source = build_template(
        tmp_path / "other.xlsx", "en",
        customers=pd.DataFrame({"customer_id": ["S-1", "S-2"], "company": ["Acme Ltd", "Beta GmbH"],
                                "mobile": ["13800138000", "13900139000"]}),
        followups=pd.DataFrame({"customer_id": ["S-1", "S-9"], "date": ["2026-11-01", "2026-11-02"],
                                "summary": ["call", "lost"]}),
        purchases=pd.DataFrame({"customer_id": ["S-2"], "order_no": ["O1"], "date": ["2026-10-01"],
                                "amount": [1200.5]}))
    first = imp(book, source=str(source))
    assert first.counts["new_customers"] == 2 and first.counts["new_followups"] == 1
    assert first.counts["new_purchases"] == 1
    assert first.data["id_map"] == {"S-1": "C000001", "S-2": "C000002"}
    [err] = first.data["errors"]
    assert (err["sheet"], err["row"], err["column"], err["value"]) == ("Follow-up", 3, "Customer ID", "S-9")
    b = read_book(book)
    assert b.followups[["customer_id", "summary"]].values.tolist() == [["C000001", "call"]]
    assert b.purchases[["customer_id", "amount"]].values.tolist() == [["C000002", 1200.5]]

    again = imp(book, source=str(source))  # the same file again: matched, nothing doubled
    assert again.counts["matched"] == 2 and again.counts["new_customers"] == 0
    assert again.counts["new_followups"] == 0 and again.counts["new_purchases"] == 0
    assert len(read_book(book).followups) == 1


def test_header_below_a_title_row(tmp_path):
    import xlsxwriter

    path = tmp_path / "titled.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("客户资料")
    ws.write_row(0, 0, ["我的客户名单"])
    ws.write_row(2, 0, ["客户编号", "公司名称", "手机"])
    ws.write_row(3, 0, ["K01", "甲公司", "13800138000"])
    wb.close()
    csv = tmp_path / "new.csv"
    csv.write_text("公司名称,手机\n乙公司,13900139000\n", encoding="utf-8-sig")
    result = imp(path, source=str(csv))
    assert result.counts["new_customers"] == 1
    rows = sheet(path, "客户资料")
    assert rows[0][0] == "我的客户名单" and rows[4][:3] == ["K02", "乙公司", "13900139000"]


def test_big5_csv_into_a_traditional_book(tmp_path):
    book = new_workbook(tmp_path / "crm.xlsx", lang="zh-TW")
    csv = tmp_path / "客戶.csv"
    csv.write_bytes("公司名稱,聯絡人,手機\n台北甲貿易有限公司,王小明,13800138000\n高雄乙科技,陳大文,13900139000\n"
                    .encode("big5"))
    result = imp(book, source=str(csv))
    assert result.counts["new_customers"] == 2
    assert "匯入" in result.text("zh-TW")
    c = read_book(book).customers
    assert c["company"].tolist() == ["台北甲貿易有限公司", "高雄乙科技"] and c["contact"].tolist() == ["王小明", "陳大文"]
    assert "匯入報告" in openpyxl.load_workbook(book).sheetnames


def test_import_refusals(tmp_path, sample_zh):
    with pytest.raises(XlcrmError, match="来源文件"):
        imp(sample_zh)
    with pytest.raises(XlcrmError, match="同一个文件"):
        imp(sample_zh, source=str(sample_zh))
    empty = tmp_path / "empty.csv"
    empty.write_text("公司名称,手机\n", encoding="utf-8")
    with pytest.raises(XlcrmError, match="没有可导入的行"):
        imp(sample_zh, source=str(empty))


def test_import_is_a_cli_command_not_a_ribbon_button():
    from xlcrm import addin_build as ab
    from xlcrm.addin import help_text

    assert REGISTRY["import"].ribbon is False
    assert "import" not in {b["tag"] for b in ab.ribbon_buttons()}
    assert "导入" not in help_text("zh-CN")
    # every other registered command stays a button (or is a documented CLI-only report)
    assert {t for t, s in REGISTRY.items() if not s.ribbon} == {"import", "info"}  # info: read-only, no button
