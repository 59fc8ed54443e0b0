"""Check → Regrade → Due on the real sample workbook, through the file adapter and the CLI.

What a user would verify by opening the file: IDs assigned, problem cells marked and listed,
computed columns filled, Due Today sorted, Change Log rows — and running again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from pathlib import Path

import needs
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import xlcrm
from xlcrm.cli import app
from xlcrm.errors import SchemaError
from xlcrm.workbook.reader import read_book

TODAY = dt.date(2026, 11, 20)  # the samples' own "today"
SAMPLES = needs.SAMPLES


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dirt(kind: str) -> list[dict]:
    items = json.loads((SAMPLES / "xlcrm_sample_zh.dirt.json").read_text(encoding="utf-8"))
    items = items["dirt"] if isinstance(items, dict) else items
    return [d for d in items if d["kind"] == kind]


def sheet_rows(path: Path, name: str, header: int = 0) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=name, engine="calamine", header=header, dtype=object)


def test_run_on_sample_writes_everything_a_user_expects(sample_zh: Path):
    result = xlcrm.run(sample_zh, today=TODAY)
    assert result.written and result.counts["new_ids"] == len(dirt("missing_id"))

    book = read_book(sample_zh)
    c = book.customers
    # every customer has an ID now, none reused, in the workbook's own pattern
    assert c["customer_id"].notna().all()
    assert c["customer_id"].str.fullmatch(r"C\d{6}").all()
    # computed columns filled (grade for everyone; dates typed as dates)
    assert set(c["grade"]) <= set("ABCDE") and c["grade"].notna().all()
    assert pd.api.types.is_datetime64_any_dtype(c["next_follow_up"]) and c["next_follow_up"].notna().all()
    assert (c["total_purchases"] >= 0).all()

    # Issues sheet: one row per problem, naming sheet/row/column as the user sees them
    issues = sheet_rows(sample_zh, "问题", header=1)
    assert len(issues) == result.counts["problems"] > 0
    assert {"级别", "工作表", "行号", "列", "当前值", "问题", "建议"} <= set(issues.columns)
    for d in dirt("bad_phone_short") + dirt("bad_email_double_at"):
        hit = issues[(issues["行号"].astype(int) == d["row"]) & (issues["列"] == d["header"])]
        assert len(hit) == 1, d

    # the bad cells are marked with a note in the user's sheet
    wb = openpyxl.load_workbook(sample_zh)
    ws = wb["客户资料"]
    d = dirt("bad_email_double_at")[0]
    col = next(cell.column for cell in ws[1] if cell.value == d["header"])
    assert ws.cell(d["row"], col).comment is not None

    # Due Today: grade first (A→E), then the most overdue within a grade
    due = sheet_rows(sample_zh, "今日跟进", header=1)
    assert len(due) == result.counts["due"]
    ranks = due["客户等级"].map("ABCDE".index).tolist()
    assert ranks == sorted(ranks)
    for _, group in due.groupby("客户等级"):
        days = group["逾期天数"].astype(int).tolist()
        assert days == sorted(days, reverse=True)

    # Change Log: new IDs recorded with who and when; a first grade is not a change of anything
    log = sheet_rows(sample_zh, "变更记录")
    assert (log["字段"] == "客户编号").sum() == result.counts["new_ids"]
    assert (log["字段"] == "客户等级").sum() == 0
    assert result.counts["first_grades"] == len(c) and result.counts["grade_changes"] == 0
    assert f"其中 {len(c)} 位首次评级" in result.text("zh-CN")


def test_running_twice_is_idempotent(sample_zh: Path):
    first = xlcrm.run(sample_zh, today=TODAY)
    ids_before = read_book(sample_zh).customers[["_row", "customer_id"]]
    log_before = sheet_rows(sample_zh, "变更记录")
    comments_before = _comment_count(sample_zh)

    second = xlcrm.run(sample_zh, today=TODAY)
    assert second.counts["new_ids"] == 0 and second.counts["grade_changes"] == 0
    assert second.counts["problems"] == first.counts["problems"] - 0  # same problems, still listed
    pd.testing.assert_frame_equal(read_book(sample_zh).customers[["_row", "customer_id"]], ids_before)
    assert len(sheet_rows(sample_zh, "变更记录")) == len(log_before)  # no duplicated log rows
    assert _comment_count(sample_zh) == comments_before  # marks not stacked


def _comment_count(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(zf.read(n).count(b"<comment ") for n in zf.namelist() if "comments" in n and n.endswith(".xml"))


def test_reread_gives_the_same_grades(sample_zh: Path):
    xlcrm.regrade(sample_zh, today=TODAY)
    written = read_book(sample_zh).customers.set_index("_row")["grade"]
    again = xlcrm.regrade(sample_zh, today=TODAY, dry_run=True)
    assert again.counts["grade_changes"] == 0
    assert written.notna().all()


def test_dry_run_and_owner_filter(sample_zh: Path):
    before = sha(sample_zh)
    result = xlcrm.due(sample_zh, today=TODAY, dry_run=True)
    assert not result.written and sha(sample_zh) == before
    owner = read_book(sample_zh).customers["owner"].dropna().iloc[0]
    mine = xlcrm.due(sample_zh, today=TODAY, owner=owner)
    due = sheet_rows(sample_zh, "今日跟进", header=1)
    assert len(due) == mine.counts["due"] and set(due["负责人"]) == {owner}


def test_english_workbook(sample_en: Path):
    result = xlcrm.run(sample_en, today=TODAY)
    assert "Check done" in result.text("en")
    names = pd.ExcelFile(sample_en, engine="calamine").sheet_names
    assert {"Issues", "Due Today", "Stale", "Change Log"} <= set(names)


def test_missing_sheet_is_a_clear_error_and_file_untouched(tmp_path: Path):
    path = tmp_path / "wrong.xlsx"
    pd.DataFrame({"名字": ["a"], "年龄": [3]}).to_excel(path, index=False, sheet_name="随便")  # a new file, not a user's
    before = sha(path)
    with pytest.raises(SchemaError) as err:
        xlcrm.check(path, today=TODAY)
    assert "随便" in str(err.value)  # lists what was found
    assert sha(path) == before


def test_text_in_a_date_column_is_reported_not_fatal(sample_zh: Path, tmp_path: Path):
    from xlcrm.template import build_template

    path = tmp_path / "dates.xlsx"
    customers = pd.DataFrame({"customer_id": ["C000001", "C000002"], "company": ["甲公司", "乙公司"],
                              "owner": ["张伟", "张伟"], "created": ["2026-01-05", "上周三"]})
    build_template(path, "zh-CN", customers=customers)
    result = xlcrm.check(path, today=TODAY)
    issues = sheet_rows(path, "问题", header=1)
    bad = issues[issues["当前值"] == "上周三"]
    assert len(bad) == 1 and bad["列"].iloc[0] == "建档日期" and int(bad["行号"].iloc[0]) == 3
    assert result.counts["errors"] >= 1


def test_cli_run_and_refusal(sample_zh: Path):
    runner = CliRunner()
    out = runner.invoke(app, ["run", str(sample_zh), "--today", "2026-11-20", "--lang", "en"])
    assert out.exit_code == 0, out.output
    assert "Check done" in out.output and "Regrade done" in out.output
    lock = sample_zh.with_name("~$" + sample_zh.name)
    lock.write_bytes(b"")
    before = sha(sample_zh)
    out = runner.invoke(app, ["check", str(sample_zh)])
    assert out.exit_code == 3 and sha(sample_zh) == before
    assert "Excel" in out.output


def test_fixing_a_cell_removes_its_mark_on_the_next_check(sample_zh: Path):
    from xlcrm.workbook.edits import CellWrite, EditPlan
    from xlcrm.workbook.writer import apply_plan

    d = dirt("bad_email_double_at")[0]
    xlcrm.check(sample_zh, today=TODAY)
    ws = openpyxl.load_workbook(sample_zh)["客户资料"]
    col = next(cell.column for cell in ws[1] if cell.value == d["header"])
    marked = ws.cell(d["row"], col)
    assert marked.comment is not None and marked.fill.fgColor.rgb == "FFFFC7CE"
    neighbour_fill = ws.cell(d["row"] + 1, col).fill.fgColor.rgb

    # the user corrects the address (as Excel would), then runs Check again
    apply_plan(sample_zh, EditPlan([CellWrite("客户资料", d["row"], col, "fixed@example.com")]))
    result = xlcrm.check(sample_zh, today=TODAY)
    ws = openpyxl.load_workbook(sample_zh)["客户资料"]
    fixed = ws.cell(d["row"], col)
    assert fixed.value == "fixed@example.com" and fixed.comment is None
    assert fixed.fill.fgColor.rgb == neighbour_fill  # the cell's own look is back
    issues = sheet_rows(sample_zh, "问题", header=1)
    assert not ((issues["行号"].astype(int) == d["row"]) & (issues["列"] == d["header"])).any()
    assert len(issues) == result.counts["problems"]


def test_regrade_rewrites_only_cells_whose_value_changes(sample_zh: Path):
    from xlcrm.commands.base import Context
    from xlcrm.commands.daily import plan_regrade
    from xlcrm.workbook.edits import ColumnWrite

    xlcrm.regrade(sample_zh, today=TODAY)
    planned = plan_regrade(read_book(sample_zh), Context(today=TODAY))
    writes = [e for e in planned.plan.edits if isinstance(e, ColumnWrite)]
    from xlcrm.commands.daily import COMPUTED

    assert len(writes) == len(COMPUTED) and all(not w.values for w in writes)  # nothing changed, nothing to write
    later = plan_regrade(read_book(sample_zh), Context(today=TODAY + dt.timedelta(days=40)))
    grade = next(w for w in later.plan.edits if isinstance(w, ColumnWrite) and w.header == "客户等级")
    assert 0 < len(grade.values) < 300  # time passing changes some grades, not all


def test_a_grade_that_changes_is_logged_old_to_new(sample_zh: Path):
    xlcrm.regrade(sample_zh, today=TODAY)
    before = read_book(sample_zh).customers.set_index("customer_id")["grade"]
    later = xlcrm.regrade(sample_zh, today=TODAY + dt.timedelta(days=40))
    after = read_book(sample_zh).customers.set_index("customer_id")["grade"]
    moved = before[before != after]
    log = sheet_rows(sample_zh, "变更记录")
    grades = log[log["字段"] == "客户等级"].set_index("客户编号")
    assert 0 < len(moved) == len(grades) == later.counts["grade_changes"]
    assert later.counts["first_grades"] == 0
    for cid, old in moved.items():
        assert (grades.loc[cid, "原值"], grades.loc[cid, "新值"]) == (old, after[cid])


def test_run_plan_orders_edits_for_the_writer(sample_zh: Path):
    """Basic Info's columns and marks together first, then the sheets that only get marks, smallest
    first, then the tool sheets; one Change Log append, last. Nothing is lost or added."""
    from xlcrm.commands import daily
    from xlcrm.commands.base import Context
    from xlcrm.workbook.edits import AppendRows, ColumnWrite, MarkCells

    book = read_book(sample_zh)
    ctx = Context(today=dt.date(2026, 11, 20), user="test")
    checked = daily.plan_check(book, ctx)
    computed = daily.compute_columns(checked.book, ctx.today)
    graded = daily.plan_regrade(checked.book, ctx, computed)
    due = daily.plan_due(graded.book, ctx, computed)
    parts = (checked.plan, graded.plan, due.plan)
    plan = daily.run_plan(book, parts)
    kinds = ["cells " + e.sheet if isinstance(e, (ColumnWrite, MarkCells)) else type(e).__name__ for e in plan.edits]
    runs = [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]
    assert runs[0] == "cells 客户资料" and runs[-2:] == ["SheetReplace", "AppendRows"]
    marked = [r.removeprefix("cells ") for r in runs[1:-2]]
    assert len(marked) == len(set(marked)) >= 2
    assert marked.index("购买记录") < marked.index("跟进记录")  # 600 rows before 2,000
    every = [e for p in parts for e in p.edits if not isinstance(e, AppendRows)]
    assert sorted(map(repr, every)) == sorted(repr(e) for e in plan.edits if not isinstance(e, AppendRows))
