"""Every command on an empty or nearly empty book: a fresh `xlcrm new` (zh, en), the .xlsm templates,
a 1- and a 2-customer book with no follow-ups and no purchases, and a GBK CSV (dry run: read-only).

What a user opening the file sees: a Summary of zeros, an empty Due Today with a friendly line, no crash.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import xlcrm
from xlcrm.errors import XlcrmError
from xlcrm.template import build_template, new_workbook
from xlcrm.workbook.reader import read_book

TODAY = dt.date(2026, 11, 20)
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
COMMANDS = ("check", "regrade", "due", "run", "dedupe", "merge", "summary", "receivables", "export")


def _customers(n: int) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"C{i:06d}" for i in range(1, n + 1)],
                         "company": ["甲公司", "乙公司"][:n], "contact": ["张三", "李四"][:n],
                         "mobile": ["13800138000", "13900139000"][:n], "owner": ["张伟"] * n,
                         "created": ["2026-11-01"] * n})


def make_book(kind: str, folder: Path) -> Path:
    if kind in ("new_zh", "new_en"):
        return new_workbook(folder / f"{kind}.xlsx", "en" if kind == "new_en" else "zh-CN")
    if kind.startswith("xlsm_"):
        dst = folder / f"template_{kind[5:]}.xlsm"
        shutil.copyfile(TEMPLATES / f"xlcrm_template_{kind[5:]}.xlsm", dst)
        return dst
    if kind in ("one", "two"):
        return build_template(folder / f"{kind}.xlsx", "zh-CN", customers=_customers(1 if kind == "one" else 2))
    if kind == "gbk_csv":
        path = folder / "customers.csv"
        path.write_bytes("客户编号,公司名称,联系人,手机,负责人\nC000001,甲公司,张三,13800138000,张伟\n".encode("gbk"))
        return path
    raise ValueError(kind)


BOOKS = ("new_zh", "new_en", "xlsm_zh", "xlsm_en", "one", "two", "gbk_csv")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", BOOKS)
def test_every_command_works_on_an_empty_or_nearly_empty_book(kind: str, command: str, tmp_path: Path):
    path = make_book(kind, tmp_path)
    dry = kind == "gbk_csv"  # a CSV is read, never written
    if command == "merge" and dry:  # no Duplicates sheet can exist in a CSV: a clear error, not a crash
        with pytest.raises(XlcrmError, match="查重"):
            xlcrm.run_command(command, path, today=TODAY, dry_run=True)
        return
    if command == "merge":
        xlcrm.run_command("dedupe", path, today=TODAY)
    result = xlcrm.run_command(command, path, today=TODAY, dry_run=dry)
    assert result.text("zh-CN") and result.text("en")
    if not dry:
        read_book(path)  # the written file reads back


@pytest.mark.parametrize("kind", ("new_zh", "new_en", "xlsm_zh"))
def test_summary_of_an_empty_book_is_zeros(kind: str, tmp_path: Path):
    path = make_book(kind, tmp_path)
    result = xlcrm.run_command("summary", path, today=TODAY)
    assert result.counts["customers"] == 0 and result.counts["sales_month"] == 0
    assert result.counts["overdue_receivables"] == 0
    name = "Summary" if kind == "new_en" else "汇总"
    ws = openpyxl.load_workbook(path, data_only=True)[name]
    kpis = [ws.cell(r, 2).value for r in range(3, 3 + 13)]  # the KPI block: title, header, then values
    assert kpis == [0] * 13


@pytest.mark.parametrize("kind", ("new_zh", "new_en", "one"))
def test_empty_due_today_has_a_friendly_line(kind: str, tmp_path: Path):
    path = make_book(kind, tmp_path)
    result = xlcrm.due(path, today=TODAY)  # "one": created 2026-11-01, never contacted, D: due 2026-12-01
    assert result.counts["due"] == 0
    assert "今天没有需要跟进的客户" in result.text("zh-CN") and "Nobody is due" in result.text("en")
    name = "Due Today" if kind == "new_en" else "今日跟进"
    ws = openpyxl.load_workbook(path)[name]
    title = ws.cell(1, 1).value
    assert ("nobody to follow up today" in title) if kind == "new_en" else ("今天没有需要跟进的客户" in title)
    assert ws.max_row == 2  # title and header, no rows


def test_summary_with_customers_but_no_purchases(tmp_path: Path):
    path = make_book("two", tmp_path)
    result = xlcrm.run_command("summary", path, today=TODAY)
    assert result.counts["customers"] == 2 and result.counts["sales_year"] == 0
    assert result.counts["first_orders_30d"] == 0
