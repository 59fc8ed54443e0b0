"""Due Today as the salesperson's daily page, on real files: grade order, colours, the planned next
step, `--grade`, and `--owner` naming nobody."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import xlcrm
from xlcrm.cli import app
from xlcrm.commands.daily import GRADE_FILLS
from xlcrm.errors import XlcrmError
from xlcrm.template import build_template

TODAY = dt.date(2026, 11, 20)


def _book(path: Path, lang: str = "zh-CN") -> Path:
    """Five customers, one per grade, all due; the E one the most overdue."""
    demand = {"zh-CN": ("目标", "潜在", "无需求"), "en": ("Target", "Latent", "No need")}[lang]
    customers = pd.DataFrame({
        "customer_id": ["C000001", "C000002", "C000003", "C000004", "C000005"],
        "company": ["甲公司", "乙公司", "丙公司", "丁公司", "戊公司"],
        "owner": ["张伟", "张伟", "李娜", "李娜", "张伟"],
        "demand": [demand[2], demand[0], demand[0], demand[1], demand[0]],
        "expected_close": [None, "2026-12-10", "2027-01-30", None, "2027-04-01"],
        "created": ["2020-01-01"] * 5,
    })
    followups = pd.DataFrame({
        "customer_id": ["C000001", "C000002", "C000003", "C000004", "C000005", "C000005"],
        "date": ["2024-06-01", "2026-11-19", "2026-11-01", "2026-09-01", "2026-10-20", "2026-12-01"],
        "summary": ["年度问候", "电话沟通", "报价", "拜访", "送样", "现场演示"],
        "outcome": ["客户暂无需求", "有意向，继续跟进", "已报价，等待回复", "需再跟进", "价格有分歧", None],
        "next_step": [None, "寄送合同", None, "发新品目录", None, None],
    })
    return build_template(path, lang, customers=customers, followups=followups)


def test_due_today_grade_order_colours_and_next_step(tmp_path: Path):
    path = _book(tmp_path / "crm.xlsx")
    result = xlcrm.due(path, today=TODAY)
    ws = openpyxl.load_workbook(path)["今日跟进"]
    headers = [c.value for c in ws[2]]
    rows = [dict(zip(headers, [c.value for c in r])) for r in ws.iter_rows(min_row=3)]
    assert [r["客户等级"] for r in rows] == ["A", "B", "C", "D", "E"] and result.counts["due"] == 5
    assert rows[-1]["逾期天数"] > max(r["逾期天数"] for r in rows[:-1])  # most overdue, still last
    steps = {r["客户编号"]: r["下一步"] for r in rows}
    assert steps["C000002"] == "寄送合同" and steps["C000004"] == "发新品目录"  # the typed next step
    assert steps["C000005"] == "现场演示"  # no step typed: the planned (future-dated) follow-up
    assert steps["C000001"] is None and steps["C000003"] is None  # never the outcome
    assert not {"客户暂无需求", "有意向，继续跟进", "价格有分歧"} & set(steps.values())
    fills = [ws.cell(3 + i, 1).fill.fgColor.rgb for i in range(5)]
    assert fills == [GRADE_FILLS[g] for g in "ABCDE"]


def test_grade_option_cli_and_unknown_owner(tmp_path: Path):
    path = _book(tmp_path / "crm.xlsx")
    runner = CliRunner()
    out = runner.invoke(app, ["due", str(path), "--today", "2026-11-20", "--grade", "A,b", "--format", "json"])
    assert out.exit_code == 0, out.output
    grades = [c.value for c in openpyxl.load_workbook(path)["今日跟进"]["A"][2:]]
    assert grades == ["A", "B"]

    before = path.read_bytes()
    out = runner.invoke(app, ["due", str(path), "--today", "2026-11-20", "--owner", "王小明"])
    assert out.exit_code == 2 and "王小明" in out.output and "张伟、李娜" in out.output
    assert path.read_bytes() == before
    out = runner.invoke(app, ["run", str(path), "--today", "2026-11-20", "--grade", "F"])
    assert out.exit_code == 2 and "F" in out.output and path.read_bytes() == before


def test_owner_only_offered_where_it_filters():
    runner = CliRunner()
    for tag in ("check", "regrade", "summary"):
        assert "--owner" not in runner.invoke(app, [tag, "--help"]).output
    for tag in ("due", "run", "receivables", "export"):
        assert "--owner" in runner.invoke(app, [tag, "--help"]).output
    assert "--grade" in runner.invoke(app, ["due", "--help"]).output


def test_owner_filter_and_unknown_owner_in_english(tmp_path: Path):
    path = _book(tmp_path / "crm.xlsx", "en")
    mine = xlcrm.due(path, today=TODAY, owner="李娜")
    assert mine.counts["due"] == 2
    with pytest.raises(XlcrmError) as err:
        xlcrm.due(path, today=TODAY, owner="Nobody")
    assert "Owners on Basic Info: 张伟, 李娜" in err.value.render("en")
