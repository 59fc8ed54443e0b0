"""Receivables (应收): per customer and per salesperson, ageing, the sheet and the CLI."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pandas as pd
import pytest
from frames import frame
from typer.testing import CliRunner

from xlcrm.commands.base import Context
from xlcrm.commands.reports import row_labels
from xlcrm.ops.receivables import customer_receivables, owner_receivables, receivable_totals, with_total
from xlcrm.template import build_template

TODAY = dt.date(2026, 6, 15)


def customers() -> pd.DataFrame:
    return frame("customers", [
        dict(customer_id="C1", company="甲公司", owner="李娜"),
        dict(customer_id="C2", company="乙公司", owner="王强"),
        dict(customer_id="C3", company=None, contact="张三", owner="李娜"),
        dict(customer_id="C4", company="丁公司", owner=None),
    ])


def purchases() -> pd.DataFrame:
    return frame("purchases", [
        # C1: 100 unpaid 45 days overdue + 50 due later (not overdue) + a cancelled order (ignored)
        dict(customer_id="C1", order_no="S1", date="2026-04-01", amount=100.0, payment_due="2026-05-01"),
        dict(customer_id="C1", order_no="S2", date="2026-06-01", amount=50.0, paid_amount=0.0, payment_due="2026-07-01"),
        dict(customer_id="C1", order_no="S3", date="2026-06-01", amount=999.0, status="cancelled", payment_due="2026-01-01"),
        # C2: half paid, 10 days overdue; and a fully paid order
        dict(customer_id="C2", order_no="S4", date="2026-05-01", amount=200.0, paid_amount=100.0, payment_due="2026-06-05"),
        dict(customer_id="C2", order_no="S5", date="2026-05-01", amount=80.0, status="paid", payment_due="2026-05-10"),
        # C3: 120 days overdue
        dict(customer_id="C3", order_no="S6", date="2026-01-01", amount=300.0, paid_amount=0.0, payment_due="2026-02-15"),
        # C4: paid in full → not listed
        dict(customer_id="C4", order_no="S7", date="2026-01-01", amount=70.0, paid_amount=70.0, payment_due="2026-02-01"),
        # An ID missing from Basic Info still owes money
        dict(customer_id="C9", order_no="S8", date="2026-03-01", amount=40.0, payment_due="2026-04-01"),
    ])


def test_per_customer():
    r = customer_receivables(customers(), purchases(), TODAY).set_index("customer_id")
    assert list(r.index) == ["C3", "C1", "C2", "C9"]  # most overdue first
    assert r.loc["C1", ["invoiced", "paid", "outstanding", "overdue"]].tolist() == [150.0, 0.0, 150.0, 100.0]
    assert r.loc["C1", "days_overdue"] == 45 and r.loc["C1", "overdue_31_60"] == 100.0
    assert r.loc["C1", "oldest_due"] == pd.Timestamp("2026-05-01") and r.loc["C1", "orders"] == 2
    assert r.loc["C2", ["invoiced", "paid", "outstanding", "overdue"]].tolist() == [280.0, 180.0, 100.0, 100.0]
    assert r.loc["C2", "days_overdue"] == 10 and r.loc["C2", "overdue_1_30"] == 100.0
    assert r.loc["C3", "company"] == "张三" and r.loc["C3", "overdue_over_90"] == 300.0
    assert r.loc["C3", "days_overdue"] == 120
    assert pd.isna(r.loc["C9", "company"]) and pd.isna(r.loc["C9", "_row"]) and r.loc["C9", "overdue"] == 40.0
    assert "C4" not in r.index
    all_rows = customer_receivables(customers(), purchases(), TODAY, only_open=False)
    assert set(all_rows["customer_id"]) == {"C1", "C2", "C3", "C4", "C9"}


def test_per_owner_and_totals():
    r = customer_receivables(customers(), purchases(), TODAY)
    o = owner_receivables(r, row_labels("zh-CN").unassigned).set_index("owner")
    assert o.loc["李娜", ["customers", "outstanding", "overdue"]].tolist() == [2, 450.0, 400.0]
    assert o.loc["李娜", "max_days_overdue"] == 120
    assert o.loc["（未分配）", "overdue"] == 40.0
    assert owner_receivables(r, row_labels("en").unassigned)["owner"].tolist()[-1] == "(unassigned)"
    total = with_total(owner_receivables(r, "（未分配）"), "owner", "合计").iloc[-1]
    assert total["owner"] == "合计" and total["overdue"] == 540.0 and total["max_days_overdue"] == 120
    assert receivable_totals(r) == {"customers_owing": 4, "customers_overdue": 4, "outstanding": 590.0,
                                    "overdue": 540.0, "max_days_overdue": 120}


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Frames in codes → what a user types (Chinese labels) for the template builder."""
    out = df.drop(columns="_row")
    if "status" in out:
        out["status"] = out["status"].map({"cancelled": "已取消", "paid": "已付款"})
    return out


@pytest.fixture
def workbook(tmp_path):
    path = tmp_path / "crm.xlsx"
    followups = frame("followups", [dict(customer_id="C1", date="2026-06-10", summary="催款")])
    build_template(path, "zh-CN", customers=_typed(customers()), followups=_typed(followups),
                   purchases=_typed(purchases()))
    return path


def test_sheet_written_through_the_port(workbook, tmp_path):
    from xlcrm.commands import run
    from xlcrm.workbook.file_adapter import FileWorkbook

    result = run("receivables", FileWorkbook(workbook, backup_dir=tmp_path / "bak"), Context(today=TODAY))
    assert result.written and result.counts["overdue"] == 540.0
    ws = openpyxl.load_workbook(workbook)["应收"]
    assert ws["A1"].value.startswith("应收汇总（按负责人）")
    header = [c.value for c in ws[2]]
    assert header[:3] == ["负责人", "客户数", "逾期客户数"]
    rows = {ws.cell(r, 1).value: [c.value for c in ws[r]] for r in range(3, 7)}
    assert rows["合计"][header.index("逾期应收")] == 540.0
    assert ws.cell(3, header.index("逾期应收") + 1).number_format == "#,##0.00"
    # Detail block, most overdue first, with an autofilter over it.
    found = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "客户"]  # name first, then ID
    assert found and ws.cell(found[0], 2).value == "客户编号"
    detail = [ws.cell(r, 2).value for r in range(found[0] + 1, found[0] + 5)]
    assert detail == ["C3", "C1", "C2", "C9"]
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith(f"A{found[0]}")


def test_owner_filter_and_cli_json(workbook):
    from xlcrm.cli import app

    res = CliRunner().invoke(app, ["receivables", str(workbook), "--today", TODAY.isoformat(), "--owner", "李娜",
                                   "--format", "json", "--dry-run"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["counts"]["outstanding"] == 450.0 and payload["written"] is False
    assert [o["owner"] for o in payload["by_owner"]] == ["李娜"]
    assert "应收" not in openpyxl.load_workbook(workbook).sheetnames  # dry run wrote nothing


def test_summary_shows_the_same_receivables(workbook):
    from xlcrm.commands.reports import plan_summary
    from xlcrm.workbook.reader import read_book

    s = plan_summary(read_book(workbook), Context(today=TODAY)).result.data["kpis"]
    assert (s["outstanding"], s["overdue_receivables"], s["overdue_customers"]) == (590.0, 540.0, 4)


def test_summary_with_an_empty_follow_up_sheet():
    from xlcrm.ops.summary import compute_summary
    from xlcrm.settings import Settings

    s = compute_summary(customers(), frame("followups", []), purchases(), Settings(), TODAY, row_labels("zh-CN"))
    assert s.kpis["followups_30d"] == 0 and s.kpis["overdue_receivables"] == 540.0
