"""`xlcrm sync` against real stores — an SQLite file and a PostgreSQL server — with real workbooks:
first import, only-local and only-store changes, conflicts and their decisions, soft deletes,
per-owner books, handover and the shared pool, all in the change log."""

from __future__ import annotations

import openpyxl
import pytest
from team_fixtures import (
    TODAY,
    cell,
    change_log,
    conflict_rows,
    customers,
    decide,
    delete_row,
    edit,
    followups,
    make_book,
    purchases,
    store_rows,
    sync,
)

from xlcrm.commands.base import Context
from xlcrm.commands.sync_base import SYNC_SHEET
from xlcrm.commands.sync_book import KEEP_MINE, TAKE_STORE
from xlcrm.commands.team import BookOptions, PoolOptions, ReassignOptions, pool, reassign
from xlcrm.commands.team import make_book as owner_book
from xlcrm.workbook.reader import read_book


@pytest.fixture
def team(tmp_path, store_url):
    """Two salespeople's books, first-synced into the store."""
    zw = customers("张伟", 1, 3)
    ln = customers("李娜", 101, 2)
    a = make_book(tmp_path / "zhang.xlsx", zw, followups(list(zw.customer_id[:2]), "张伟"), purchases([zw.customer_id[0]]))
    b = make_book(tmp_path / "li.xlsx", ln, followups(list(ln.customer_id), "李娜"))
    ra, rb = sync(a, store_url, user="张伟"), sync(b, store_url, user="李娜")
    return a, b, store_url, ra, rb


def test_first_sync_imports_every_row_once(team):
    a, b, store, ra, rb = team
    assert ra.counts["customers_inserted"] == 3 and ra.counts["followups_inserted"] == 2
    assert ra.counts["purchases_inserted"] == 1 and rb.counts["customers_inserted"] == 2
    assert len(store_rows(store, "customers")) == 5 and len(store_rows(store, "followups")) == 4
    rows = {r["customer_id"]: r for r in store_rows(store, "customers")}
    assert rows["C000001"]["owner"] == "张伟" and rows["C000101"]["owner"] == "李娜"
    assert rows["C000001"]["deal_status"] == "negotiating" and rows["C000001"]["created"] == "2026-01-05"
    assert all(r["version"] == 1 and r["updated_by"] in ("张伟", "李娜") for r in rows.values())
    kids = {r["customer_id"]: r["owner"] for r in store_rows(store, "followups")}
    assert kids == {"C000001": "张伟", "C000002": "张伟", "C000101": "李娜", "C000102": "李娜"}
    # The base snapshot sits in a very hidden sheet, and a second sync finds nothing to do.
    wb = openpyxl.load_workbook(a, read_only=False)
    assert wb[SYNC_SHEET].sheet_state == "veryHidden"
    again = sync(a, store)
    assert again.counts["pushed"] == 0 and again.counts["pulled"] == 0 and not again.counts["conflicts"]
    created = [r for r in change_log(store) if r["field"] == "(created)"]
    assert len(created) == 5 + 4 + 1 and {r["source"] for r in created} == {"api"}  # the test calls the command from Python


def test_only_local_change_is_pushed_with_a_version_and_logged(team):
    a, _b, store, *_ = team
    edit(a, "customers", "C000002", "company", "张伟新名字有限公司")
    result = sync(a, store, user="张伟", via="button")
    assert result.counts["customers_pushed"] == 1 and result.counts["conflicts"] == 0
    row = next(r for r in store_rows(store, "customers") if r["customer_id"] == "C000002")
    assert row["company"] == "张伟新名字有限公司" and row["version"] == 2 and row["updated_by"] == "张伟"
    log = [r for r in change_log(store) if r["field"] == "company"]
    assert [(r["old"], r["new"], r["who"], r["source"]) for r in log] == [
        ("张伟客户1有限公司", "张伟新名字有限公司", "张伟", "button")]


def test_only_store_change_is_pulled_into_the_workbook(team, tmp_path):
    a, _b, store, *_ = team
    manager = tmp_path / "manager.xlsx"
    owner_book(manager, BookOptions(store=store, all=True), Context(today=TODAY, user="经理"))
    assert len(read_book(manager).customers) == 5
    edit(manager, "customers", "C000003", "contact", "新联系人")
    edit(manager, "followups", "C000001", "summary", "经理补充：已报价")
    assert sync(manager, store).counts["pushed"] == 2
    pulled = sync(a, store)
    assert pulled.counts["customers_pulled"] == 1 and pulled.counts["followups_pulled"] == 1
    assert cell(a, "customers", "C000003", "contact") == ["新联系人"]
    assert cell(a, "followups", "C000001", "summary") == ["经理补充：已报价"]
    assert sync(a, store).counts["pulled"] == 0  # the new base took it in


def test_both_changed_is_a_conflict_until_the_user_decides(team, tmp_path):
    a, _b, store, *_ = team
    manager = tmp_path / "manager.xlsx"
    owner_book(manager, BookOptions(store=store, all=True), Context(today=TODAY, user="经理"))
    edit(a, "customers", "C000001", "contact", "张伟改的")
    edit(manager, "customers", "C000001", "contact", "经理改的")
    edit(manager, "customers", "C000001", "city", "杭州")  # a different field merges cleanly
    assert sync(manager, store).counts["pushed"] == 2
    result = sync(a, store)
    assert result.counts["conflicts"] == 1 and result.counts["customers_pulled"] == 1
    assert cell(a, "customers", "C000001", "contact") == ["张伟改的"]  # nothing overwritten
    assert cell(a, "customers", "C000001", "city") == ["杭州"]
    rows = conflict_rows(a)
    assert rows[["客户编号", "本工作簿", "团队库"]].values.tolist() == [["C000001", "张伟改的", "经理改的"]]
    assert sync(a, store).counts["conflicts"] == 1  # still listed: nothing is dropped silently
    decide(a, KEEP_MINE)
    decided = sync(a, store)
    assert decided.counts["decided"] == 1 and decided.counts["customers_pushed"] == 1 and decided.counts["conflicts"] == 0
    assert next(r for r in store_rows(store, "customers") if r["customer_id"] == "C000001")["contact"] == "张伟改的"
    assert conflict_rows(a).empty
    sync(manager, store)
    assert cell(manager, "customers", "C000001", "contact") == ["张伟改的"]


def test_take_store_decision_pulls_the_store_value(team, tmp_path):
    a, _b, store, *_ = team
    manager = tmp_path / "manager.xlsx"
    owner_book(manager, BookOptions(store=store, all=True), Context(today=TODAY))
    edit(a, "customers", "C000002", "contact", "mine")
    edit(manager, "customers", "C000002", "contact", "theirs")
    sync(manager, store)
    assert sync(a, store).counts["conflicts"] == 1
    decide(a, TAKE_STORE)
    assert sync(a, store).counts["customers_pulled"] == 1
    assert cell(a, "customers", "C000002", "contact") == ["theirs"]


def test_deleted_row_is_soft_deleted_and_leaves_the_other_books(team, tmp_path):
    a, _b, store, *_ = team
    manager = tmp_path / "manager.xlsx"
    owner_book(manager, BookOptions(store=store, all=True), Context(today=TODAY))
    delete_row(a, "followups", "C000002")
    assert sync(a, store).counts["followups_deleted"] == 1
    gone = store_rows(store, "followups", deleted=True)
    assert [r["customer_id"] for r in gone] == ["C000002"] and gone[0]["version"] == 2
    assert any(r["field"] == "(deleted)" for r in change_log(store))
    assert sync(manager, store).counts["followups_pulled_deleted"] == 1
    assert cell(manager, "followups", "C000002", "summary") == []
    assert len(read_book(manager).followups) == 3


def test_owner_book_holds_only_that_owners_rows_and_redacts(team, tmp_path):
    _a, _b, store, *_ = team
    li = tmp_path / "li_book.xlsx"
    result = owner_book(li, BookOptions(store=store, owner="李娜", redact=("mobile",)), Context(today=TODAY))
    book = read_book(li)
    assert sorted(book.customers.customer_id) == ["C000101", "C000102"] and result.counts["customers_pulled_new"] == 2
    assert set(book.followups.customer_id) == {"C000101", "C000102"} and book.purchases.empty
    assert book.customers.mobile.isna().all()  # redacted: never in this book
    edit(li, "customers", "C000101", "mobile", "13000000000")  # typed anyway: not synced back either
    sync(li, store)
    assert next(r for r in store_rows(store, "customers") if r["customer_id"] == "C000101")["mobile"] == "13900000101"


def test_reassign_and_pool_move_customers_and_are_logged(team):
    a, b, store, *_ = team
    ctx = Context(today=TODAY, user="经理")
    moved = reassign(ReassignOptions("张伟", "李娜", store=store, customers=("C000003",)), ctx)
    assert moved.counts["reassigned"] == 1
    owners = {r["customer_id"]: r["owner"] for r in store_rows(store, "customers")}
    assert owners["C000003"] == "李娜"
    history = [r for r in change_log(store) if r["field"] == "owner"]
    assert [(r["customer_id"], r["old"], r["new"], r["who"]) for r in history] == [("C000003", "张伟", "李娜", "经理")]
    # 张伟's book lets the customer go; 李娜's book receives it.
    assert sync(a, store).counts["left_book"] == 1 and cell(a, "customers", "C000003", "owner") == []
    assert sync(b, store).counts["customers_pulled_new"] == 1 and cell(b, "customers", "C000003", "owner") == ["李娜"]
    # The pool: C000003 has no follow-up (created 2026-01-05) → idle > 90 days; the others were followed up 2026-11-02.
    listed = pool(PoolOptions(store=store), ctx)
    assert sorted(r["customer_id"] for r in listed.data["customers"]) == ["C000003"]
    applied = pool(PoolOptions(store=store, apply=True), ctx)
    assert applied.counts["pooled"] == 1
    assert {r["customer_id"]: r["owner"] for r in store_rows(store, "customers")}["C000003"] == "公海"
    assert [r["new"] for r in change_log(store) if r["field"] == "owner"] == ["李娜", "公海"]


def test_a_customer_another_owner_has_is_flagged_on_sync(team, tmp_path):
    _a, _b, store, *_ = team
    dup = customers("王芳", 1, 1, prefix="张伟")  # same company name and mobile as 张伟's C000001, same ID too
    c = make_book(tmp_path / "wang.xlsx", dup)
    result = sync(c, store, user="王芳")
    assert result.counts["duplicates"] == 1
    assert result.data["duplicates"][0]["other_owner"] == "张伟"
    new_id = read_book(c).customers.customer_id.tolist()
    assert new_id != ["C000001"] and result.data["renamed"] == {"C000001": new_id[0]}  # the ID was taken
    rows = conflict_rows(c)
    assert rows["类型"].tolist() == ["撞单 / duplicate"] and "张伟" in rows["团队库"].iloc[0]


def test_owner_typed_in_the_managers_book_is_a_logged_handover(team, tmp_path):
    a, b, store, *_ = team
    manager = tmp_path / "manager.xlsx"
    owner_book(manager, BookOptions(store=store, all=True), Context(today=TODAY, user="经理"))
    edit(manager, "customers", "C000001", "owner", "李娜")
    sync(manager, store, user="经理", via="button")
    kids = {r["customer_id"]: r["owner"] for r in store_rows(store, "followups")}
    assert kids["C000001"] == "李娜"  # follow-ups and purchases go with the customer
    assert {r["customer_id"]: r["owner"] for r in store_rows(store, "purchases")}["C000001"] == "李娜"
    log = [r for r in change_log(store) if r["field"] == "owner"]
    assert [(r["old"], r["new"], r["who"], r["source"]) for r in log] == [("张伟", "李娜", "经理", "button")]
    assert sync(a, store).counts["left_book"] == 1
    sync(b, store)
    assert cell(b, "followups", "C000001", "by") == ["张伟"]  # the history came along


def test_handover_button_reassigns_what_the_manager_lists(team, tmp_path):
    from team_fixtures import read_tool_sheet

    from xlcrm.commands import run
    from xlcrm.workbook.edits import CellWrite, EditPlan
    from xlcrm.workbook.file_adapter import FileWorkbook
    from xlcrm.workbook.writer import apply_plan

    _a, _b, store, *_ = team
    manager = tmp_path / "manager.xlsx"
    owner_book(manager, BookOptions(store=store, all=True), Context(today=TODAY))
    ctx = Context(today=TODAY, user="经理", via="button", options={"store": store})
    first = run("handover", FileWorkbook(manager), ctx)  # the first press makes the sheet
    assert first.counts["reassigned"] == 0 and "移交" in read_book(manager).tool_sheets.values()
    name = read_book(manager).tool_sheets["handover"]
    apply_plan(manager, EditPlan([CellWrite(name, 3, 1, "张伟"), CellWrite(name, 3, 2, "李娜"),
                                  CellWrite(name, 3, 3, "C000002, C000003")]), backup_dir=tmp_path / "bk")
    second = run("handover", FileWorkbook(manager), ctx)
    assert second.counts["reassigned"] == 2
    owners = {r["customer_id"]: r["owner"] for r in store_rows(store, "customers")}
    assert owners["C000002"] == owners["C000003"] == "李娜" and owners["C000001"] == "张伟"
    assert {r["source"] for r in change_log(store) if r["field"] == "owner"} == {"button"}
    sheet = read_tool_sheet(manager, name)
    assert "已把 2 位客户" in sheet.iloc[1, 3]  # the row's result, kept on the sheet
    assert run("handover", FileWorkbook(manager), ctx).counts["reassigned"] == 0  # a done row is not redone
