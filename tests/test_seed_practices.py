"""Issue 15 items 2–5, on real files: the Service sheet and complaints past their SLA, the classification
columns (owned like every computed column), the manager's weekly review on the Summary, and the
customer card (command, API, CLI, the button on the selected row, a user's own 客户卡 left alone)."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from typer.testing import CliRunner

import xlcrm
from xlcrm.errors import XlcrmError
from xlcrm.workbook.ownership import STATE_SHEET
from xlcrm.workbook.reader import read_book

TODAY = dt.date(2026, 11, 20)
CUSTOMER_HEADERS = ["客户编号", "公司名称", "联系人", "手机", "负责人", "建档日期", "成交状态", "预计成交日期", "客户来源", "城市"]
CUSTOMERS = [
    ["C000001", "甲公司", "张三", "13800138000", "张伟", "2026-01-10", None, "2026-11-25", "展会", "北京"],
    ["C000002", "乙公司", "李四", "13900139000", "张伟", "2026-11-18", "潜在", "2026-12-10", "网络", "上海"],
    ["C000003", "丙公司", "王五", "13700137000", "王芳", "2025-01-03", None, None, None, None],
]
FOLLOWUPS = [
    ["C000001", "2026-11-17", "电话", "报价"],
    ["C000002", "2026-11-19", "微信", "介绍产品"],
    ["C000003", "2025-06-01", "电话", "问候"],
]
PURCHASES = [
    ["C000001", "SO-1", "2026-10-02", "A型", 1200, 1200],
    ["C000001", "SO-2", "2026-11-02", "B型", 3000, 1000],
]
SERVICE_HEADERS = ["客户编号", "日期", "类型", "内容", "处理人", "解决日期"]
SERVICE = [
    ["C000001", "2026-11-15", "投诉", "到货外箱破损", "张伟", None],  # 5 days open: past the 3-day SLA
    ["C000002", "2026-11-19", "投诉", "发票有误", "张伟", None],  # 1 day: not yet
    ["C000001", "2026-11-01", "投诉", "交货延迟", "张伟", "2026-11-03"],  # resolved
    ["C000003", "2026-10-01", "售后", "上门维修", "王芳", "2026-10-01"],  # service keeps C000003 off reassignment
]


def _book(path: Path, *, service: bool = True, settings: list[list] | None = None, extra_sheet: str | None = None) -> Path:
    """A workbook as a user made it (xlsxwriter, not xlcrm)."""
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    sheets = [("客户资料", CUSTOMER_HEADERS, CUSTOMERS), ("跟进记录", ["客户编号", "跟进日期", "方式", "跟进内容"], FOLLOWUPS),
              ("购买记录", ["客户编号", "订单号", "日期", "产品", "金额", "已收金额"], PURCHASES)]
    if service:
        sheets.append(("服务记录", SERVICE_HEADERS, SERVICE))
    if settings:
        sheets.append(("设置", ["键", "值"], settings))
    for name, headers, rows in sheets:
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, headers)
        for r, row in enumerate(rows, start=1):
            ws.write_row(r, 0, row)
    if extra_sheet:
        ws = wb.add_worksheet(extra_sheet)
        ws.write_row(0, 0, ["我的备忘", "不要动"])
    wb.close()
    return path


def _rows(path: Path, sheet: str) -> list[list]:
    ws = openpyxl.load_workbook(path)[sheet]
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def _column(path: Path, header: str) -> list:
    rows = _rows(path, "客户资料")
    i = rows[0].index(header)
    return [r[i] for r in rows[1:]]


# --------------------------------------------------------------------------- service & complaints


def test_a_book_without_a_service_sheet_works_as_before(tmp_path: Path):
    path = _book(tmp_path / "b.xlsx", service=False)
    book = read_book(path)
    assert book.service is None and "service" not in book.sheets
    assert not [p for p in book.problems if p.sheet_key == "service"]  # an optional sheet is not "missing"
    result = xlcrm.due(path, today=TODAY)
    assert "open_complaints" not in result.counts and "投诉" not in result.text("zh-CN")
    assert "服务提醒" not in openpyxl.load_workbook(path).sheetnames
    assert "投诉" not in _rows(path, "今日跟进")[0][0]


def test_a_users_sheet_named_service_without_its_columns_is_left_alone(tmp_path: Path):
    path = _book(tmp_path / "b.xlsx", service=False, extra_sheet="服务")  # "服务": a memo, not a Service sheet
    book = read_book(path)
    assert book.service is None and "service" not in book.sheets
    before = _rows(path, "服务")
    xlcrm.run(path, today=TODAY)
    assert _rows(path, "服务") == before


def test_complaints_past_the_sla_are_flagged_on_due_today_and_the_summary(tmp_path: Path):
    path = _book(tmp_path / "b.xlsx")
    book = read_book(path)
    assert len(book.service) == 4 and book.sheets["service"].name == "服务记录"
    assert set(book.service["type"]) == {"complaint", "aftersale"}
    result = xlcrm.due(path, today=TODAY)
    assert result.counts["open_complaints"] == 1
    assert "1 件投诉超过 3 天未解决" in result.text("zh-CN") and "1 complaints unresolved after 3 days" in result.text("en")
    due = _rows(path, "今日跟进")
    assert "另有 1 件投诉超过 3 天未解决，见“服务提醒”" in due[0][0]
    assert due[1][0] == "客户等级"  # Due Today stays one list
    rows = _rows(path, "服务提醒")
    assert rows[0][0].startswith("超过 3 天未解决的投诉 2026-11-20：1 件")
    assert rows[1][:3] == ("客户编号", "客户", "负责人")
    assert rows[2][0] == "C000001" and rows[2][5] == "到货外箱破损" and rows[2][4] == 5
    assert rows[3] == (None,) * len(rows[3])  # the 1-day-old and the resolved ones are not listed
    assert [r for r in _rows(path, STATE_SHEET) if r[1] == "service_alerts"]

    out = xlcrm.run_command("summary", path, today=TODAY)
    assert out.counts["open_complaints"] == 1
    assert [c["customer_id"] for c in out.data["open_complaints"]] == ["C000001"]
    summary = [r[0] for r in _rows(path, "汇总") if r[0]]
    assert "超过 3 天未解决的投诉：1 件" in summary


def test_the_complaint_sla_comes_from_settings(tmp_path: Path):
    path = _book(tmp_path / "b.xlsx", settings=[["complaint_sla_days", 10]])
    assert read_book(path).settings.complaint_sla_days == 10
    assert xlcrm.due(path, today=TODAY).counts["open_complaints"] == 0


def test_no_follow_up_and_no_service_for_90_days_is_listed_for_reassignment(tmp_path: Path):
    path = _book(tmp_path / "b.xlsx")
    # C000003: last follow-up in 2025-06, but a service visit on 2026-10-01 — in touch.
    assert xlcrm.due(path, today=TODAY).counts["reassign"] == 0
    later = dt.date(2027, 1, 15)  # 106 days after that visit
    result = xlcrm.due(path, today=later)
    assert result.counts["reassign"] == 1
    rows = _rows(path, "服务提醒")
    title = next(i for i, r in enumerate(rows) if r[0] and "建议重新分配" in str(r[0]))
    assert rows[title + 2][0] == "C000003" and rows[title + 2][5] == 106


# --------------------------------------------------------------------------- classifications


def test_classifications_are_computed_columns_beside_the_users_own(tmp_path: Path):
    path = _book(tmp_path / "b.xlsx")
    before = _column(path, "成交状态")
    result = xlcrm.run(path, today=TODAY)
    assert _column(path, "成交状态") == before  # the user's typed column: untouched
    # 甲 bought (已成交); 乙 typed 潜在, which wins; 丙: no order, no recent contact → 潜在
    assert _column(path, "成交状态（系统）") == ["已成交", "潜在", "潜在"]
    # expected close in 5 days → 紧急, in 20 days → 缓急, none → 可慢反应
    assert _column(path, "紧急程度") == ["紧急", "缓急", "可慢反应"]
    assert _column(path, "重要程度（系统）") == ["一般", "一般", "一般"]  # 4,200 < 100,000 and nothing typed
    assert _column(path, "忠诚度") == ["回头客", "未购买", "未购买"]
    recorded = {r[4] for r in _rows(path, STATE_SHEET) if r[0] == "column"}
    assert {"成交状态（系统）", "紧急程度", "重要程度（系统）", "忠诚度"} <= recorded and "成交状态" not in recorded
    assert "您自己的" not in result.text("zh-CN")  # the （系统） in their own name is not a rename

    # The next run finds its own columns and changes nothing.
    header = _rows(path, "客户资料")[0]
    xlcrm.run(path, today=TODAY)
    assert _rows(path, "客户资料")[0] == header
    # Thresholds come from Settings: a lower key-customer revenue makes 甲 重要.
    book = read_book(path)
    book.settings.importance_key_revenue = 4000
    from xlcrm.commands.daily import compute_columns

    assert list(compute_columns(book, TODAY)["importance_tier"]) == ["key", "normal", "normal"]


def test_the_classifications_and_the_weekly_review_are_on_the_summary(tmp_path: Path):
    path = _book(tmp_path / "b.xlsx")
    result = xlcrm.run_command("summary", path, today=TODAY)
    classes = result.data["classifications"]
    assert classes["deal_stage"] == {"closed": 1, "negotiating": 0, "potential": 2}
    assert classes["loyalty"]["repeat"] == 1 and sum(classes["urgency"].values()) == 3
    review = {r["owner"]: r for r in result.data["weekly_review"]}
    zw = review["张伟"]
    assert (zw["customers"], zw["cards_added"], zw["followups_week"], zw["open_complaints"]) == (2, 1, 2, 1)
    assert zw["incomplete"] == 0 and review["王芳"]["incomplete"] == 1  # 丙 has no source, no city
    assert zw["cards_active"] == 2  # both had a follow-up this week
    assert zw["sales_30d"] == 3000 and zw["collected_30d"] == 1000 and zw["outstanding"] == 2000
    assert zw["collection_rate"] == pytest.approx(1 / 3)
    text = [r for r in _rows(path, "汇总") if any(r)]
    heads = [str(r[0]) for r in text if r[0]]
    assert any(h.startswith("每周检查") for h in heads) and any(h.startswith("客户分类") for h in heads)
    md = xlcrm.run_command("summary", path, today=TODAY, dry_run=True).data["markdown"]
    assert "## 每周检查（按负责人）" in md and "| 张伟 | 2 | 1 | 2 | 2 |" in md


# --------------------------------------------------------------------------- customer card


def test_card_lists_basic_info_follow_ups_purchases_and_service_together(tmp_path: Path):
    path = _book(tmp_path / "b.xlsx")
    result = xlcrm.card(path, customer_id="c000001")  # case and spaces do not matter
    assert result.written and result.counts == {"customers": 1, "followups": 1, "purchases": 2, "service": 2}
    rows = _rows(path, "客户卡")
    assert rows[0][0].startswith("客户卡：C000001 甲公司")
    info = {r[0]: r[1] for r in rows[2:rows.index((None,) * len(rows[0]))]}
    assert info["客户编号"] == "C000001" and info["负责人"] == "张伟" and info["建档日期"] == "2026-01-10"
    # computed for today although the book was never regraded: a clear date 5 days away, two orders
    assert info["客户等级"] == "A" and info["紧急程度"] == "紧急" and info["忠诚度"] == "回头客"
    assert info["累计购买"] == 4200 and info["最近跟进"] == "2026-11-17"
    firsts = [r[0] for r in rows if r[0]]
    buy = firsts.index("购买记录（2 条，最新在前）")
    assert rows[[r[0] for r in rows].index("购买记录（2 条，最新在前）") + 2][0] == "SO-2"  # newest first
    assert "跟进记录（1 条，最新在前）" in firsts and "服务记录（2 条，最新在前）" in firsts and buy > 0
    state = [r for r in _rows(path, STATE_SHEET) if r[0] == "sheet" and r[1] == "card"]
    assert state and state[0][3] == "客户卡"
    ws = openpyxl.load_workbook(path)["客户卡"]
    assert ws.page_setup.fitToWidth == 1 or ws.sheet_properties.pageSetUpPr.fitToPage  # printable


def test_an_unknown_id_is_a_bilingual_error_with_near_matches(tmp_path: Path):
    path = _book(tmp_path / "b.xlsx")
    before = path.read_bytes()
    with pytest.raises(XlcrmError) as err:
        xlcrm.card(path, customer_id="C00001")
    assert "找不到客户编号“C00001”" in err.value.render("zh-CN") and "C000001 甲公司" in err.value.render("zh-CN")
    assert "Close matches" in err.value.render("en")
    with pytest.raises(XlcrmError) as err:
        xlcrm.card(path, customer_id="C3")  # the same number, written short
    assert "C000003 丙公司" in err.value.render("zh-CN").split("相近的有：")[1].split("；")[0]
    with pytest.raises(XlcrmError) as err:
        xlcrm.card(path, customer_id="乙")  # a name fragment finds the customer too
    assert "C000002 乙公司" in err.value.render("en")
    assert path.read_bytes() == before


def test_a_users_own_card_sheet_is_never_overwritten(tmp_path: Path):
    path = _book(tmp_path / "b.xlsx", extra_sheet="客户卡")
    with zipfile.ZipFile(path) as zf:
        before = {n: zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/sheet5")}
    result = xlcrm.card(path, customer_id="C000002")
    assert "客户卡 (2)" in result.text("zh-CN")
    with zipfile.ZipFile(path) as zf:
        assert {n: zf.read(n) for n in before} == before
    assert _rows(path, "客户卡")[0][:2] == ("我的备忘", "不要动")
    xlcrm.card(path, customer_id="C000001")  # the next card reuses xlcrm's own sheet
    names = openpyxl.load_workbook(path).sheetnames
    assert names.count("客户卡 (2)") == 1 and "客户卡 (3)" not in names
    assert _rows(path, "客户卡 (2)")[0][0].startswith("客户卡：C000001")


def test_the_card_cli_and_json(tmp_path: Path):
    from xlcrm.cli import app

    path = _book(tmp_path / "b.xlsx")
    done = CliRunner().invoke(app, ["card", str(path), "C000003", "--format", "json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["command"] == "card" and data["customer_id"] == "C000003" and data["counts"]["service"] == 1
    bad = CliRunner().invoke(app, ["card", str(path), "X9"])
    assert bad.exit_code != 0 and "X9" in bad.output


def test_the_card_button_acts_on_the_selected_row(tmp_path: Path):
    from test_addin_runtime import fake_from_file

    from xlcrm.addin import run_tag
    from xlcrm.workbook.xlwings_adapter import XlwingsWorkbook

    path = _book(tmp_path / "b.xlsx")
    fake = fake_from_file(path)
    alerts: list[tuple[str, str, str]] = []
    port = XlwingsWorkbook(fake)
    run_tag("card", port, today=TODAY, alert=lambda *a: alerts.append(a))
    assert alerts[-1][2] == "critical" and "选中" in alerts[-1][0]  # nothing selected yet
    service = next(s for s in fake.sheets if s.name == "服务记录")
    fake.app.selection = service.range((5, 3))  # a service row of C000003
    run_tag("card", XlwingsWorkbook(fake), today=TODAY, alert=lambda *a: alerts.append(a))
    assert alerts[-1][2] == "info" and "C000003" in alerts[-1][0]
    card = next(s for s in fake.sheets if s.name == "客户卡")
    assert str(card.cells[(1, 1)]).startswith("客户卡：C000003 丙公司")


def test_the_card_button_on_a_due_today_row(tmp_path: Path):
    from test_addin_runtime import fake_from_file

    from xlcrm.addin import run_tag
    from xlcrm.workbook.xlwings_adapter import XlwingsWorkbook

    path = _book(tmp_path / "b.xlsx")
    xlcrm.due(path, today=TODAY)
    due = _rows(path, "今日跟进")
    wanted = due[2][2]  # the first customer on the list (title, header, rows)
    fake = fake_from_file(path)
    fake.app.selection = next(s for s in fake.sheets if s.name == "今日跟进").range((3, 5))
    alerts: list[tuple[str, str, str]] = []
    run_tag("card", XlwingsWorkbook(fake), today=TODAY, alert=lambda *a: alerts.append(a))
    assert alerts[-1][2] == "info" and wanted in alerts[-1][0]


def test_check_looks_at_the_service_sheet_too(tmp_path: Path):
    path = _book(tmp_path / "b.xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb["服务记录"].max_row == 5
    rows = [*SERVICE, ["C999999", "2026-11-10", "售后", "维修", "张伟", "2026-11-09"]]  # unknown ID, resolved before
    wbx = xlsxwriter.Workbook(str(tmp_path / "c.xlsx"))  # ok-to-save (brand-new fixture)
    for name, headers, data in (("客户资料", CUSTOMER_HEADERS, CUSTOMERS), ("服务记录", SERVICE_HEADERS, rows)):
        ws = wbx.add_worksheet(name)
        ws.write_row(0, 0, headers)
        for r, row in enumerate(data, start=1):
            ws.write_row(r, 0, row)
    wbx.close()
    result = xlcrm.check(tmp_path / "c.xlsx", today=TODAY)
    found = [(p["sheet"], p["row"], p["code"]) for p in result.data["problems"] if p["sheet"] == "服务记录"]
    assert found == [("服务记录", 6, "orphan"), ("服务记录", 6, "resolved_before_date")]
    issues = _rows(tmp_path / "c.xlsx", "问题")
    assert any(r[1] == "服务记录" and r[2] == 6 and r[3] == "客户编号" for r in issues[2:])


def test_a_users_own_loyalty_column_is_kept_and_xlcrms_goes_beside_it(tmp_path: Path):
    path = tmp_path / "b.xlsx"
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet("客户资料")
    ws.write_row(0, 0, [*CUSTOMER_HEADERS, "忠诚度"])
    for r, row in enumerate(CUSTOMERS, start=1):
        ws.write_row(r, 0, [*row, "铁粉"])
    pu = wb.add_worksheet("购买记录")
    pu.write_row(0, 0, ["客户编号", "订单号", "日期", "产品", "金额"])
    for r, row in enumerate(PURCHASES, start=1):
        pu.write_row(r, 0, row[:5])
    wb.close()
    result = xlcrm.run(path, today=TODAY)
    assert _column(path, "忠诚度") == ["铁粉"] * 3  # the user's own column: as typed
    assert _column(path, "忠诚度（系统）") == ["回头客", "未购买", "未购买"]
    assert "忠诚度（系统）" in result.text("zh-CN")  # the result says where xlcrm's values went
    xlcrm.run(path, today=TODAY)
    assert _rows(path, "客户资料")[0].count("忠诚度（系统）") == 1
