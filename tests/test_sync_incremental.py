"""Incremental sync: only what changed since the last sync is loaded, merged and written — and the
result is the same as a full sync's (the book and the store agree after every round)."""

from __future__ import annotations

import datetime as dt
import random

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from team_fixtures import (
    conflict_rows,
    customers,
    decide,
    edit,
    followups,
    make_book,
    purchases,
    read_tool_sheet,
    store_rows,
    sync,
)

from xlcrm.commands import sync as sync_module
from xlcrm.commands.sync_base import BASE_SHEETS, META_COLUMNS, SYNC_SHEET, Record, pack, read_base, to_json
from xlcrm.commands.sync_book import TAKE_STORE, canon, canon_array, canon_column
from xlcrm.errors import FileRefused
from xlcrm.i18n import traditional
from xlcrm.ops.sync import Push
from xlcrm.schema import SHEETS_BY_KEY, Kind
from xlcrm.store import open_store, tables
from xlcrm.store.repository import Repository, StaleVersion, fields_of, new_uid
from xlcrm.template import write_crm_workbook
from xlcrm.workbook.edits import AppendRows, Block, EditPlan, SheetReplace
from xlcrm.workbook.file_adapter import FileWorkbook
from xlcrm.workbook.reader import read_book
from xlcrm.workbook.writer import apply_plan


@pytest.fixture
def book(tmp_path, store_url):
    cust = customers("张伟", 1, 12)
    ids = list(cust.customer_id)
    path = make_book(tmp_path / "zhang.xlsx", cust, followups(ids[:8] + ids[:4], "张伟"), purchases(ids[:5]))
    sync(path, store_url, user="张伟")
    return path, store_url


def _reads(monkeypatch) -> list:
    seen = []
    original = FileWorkbook.read

    def spy(self, keys=None):
        seen.append(keys)
        return original(self, keys)

    monkeypatch.setattr(FileWorkbook, "read", spy)
    return seen


def _store_update(store: str, entity: str, customer_id: str, field: str, value: str, nth: int = 0) -> None:
    t = tables.RECORDS[entity]
    with open_store(store).begin() as conn:
        rows = conn.execute(t.select().where(t.c.customer_id == customer_id, t.c.deleted.is_(False))
                            .order_by(t.c.uid)).all()
        row = rows[nth]._mapping
        repo = Repository(conn, "经理", "cli")
        repo.update(entity, Push(row["uid"], row["version"], {field: value}, {field: row[field]}), customer_id)
        repo.flush_log()


def test_nothing_new_on_either_side_reads_no_data_sheet(book, monkeypatch):
    path, store = book
    reads = _reads(monkeypatch)
    before = path.read_bytes()
    result = sync(path, store)
    assert result.data["merged"] == [] and result.counts["pushed"] == result.counts["pulled"] == 0
    assert reads == [()]  # the data sheets were not even opened
    assert path.read_bytes() == before and not result.written  # and the book is left as it was


def test_a_store_change_merges_only_its_entity(book, monkeypatch):
    path, store = book
    _store_update(store, "customers", "C000003", "city", "杭州")
    reads = _reads(monkeypatch)
    result = sync(path, store)
    assert result.data["merged"] == ["customers"] and result.counts["customers_pulled"] == 1
    assert reads == [("customers",)]
    frame = read_book(path).customers
    assert frame.loc[frame.customer_id == "C000003", "city"].item() == "杭州"
    assert sync(path, store).data["merged"] == []  # and then quiet again


def test_an_edit_by_xlcrm_or_another_program_is_found(book, tmp_path):
    path, store = book
    edit(path, "followups", "C000002", "summary", "改过的记录")
    result = sync(path, store)
    assert result.data["merged"] == ["followups"] and result.counts["followups_pushed"] == 1
    # Another program saving the file rewrites every part: every sheet is read again (nothing missed).
    wb = openpyxl.load_workbook(path)
    ws = wb[read_book(path).sheets["customers"].name]
    col = [c.value for c in ws[1]].index("公司名称") + 1
    ws.cell(row=3, column=col).value = "外部程序改的公司"
    wb.save(path)
    result = sync(path, store)
    assert sorted(result.data["merged"]) == ["customers", "followups", "purchases"]
    assert result.counts["customers_pushed"] == 1
    assert {r["company"] for r in store_rows(store, "customers")} >= {"外部程序改的公司"}


def test_a_book_from_before_per_entity_base_sheets_is_synced_and_moved(book):
    path, store = book
    rows = [["_meta", k, "", "", v] for k, v in (("scope", "张伟"), ("redact", ""))]
    for entity, sheet in BASE_SHEETS.items():  # the old layout: every record's fields as JSON
        stored = {r["uid"]: {k: r[k] for k in fields_of(entity)} for r in store_rows(store, entity)}
        records = read_base(read_tool_sheet(path, sheet))
        rows += [[entity, u, r.key, str(r.row), to_json(stored[u])] for u, r in records.items()]
    legacy = SheetReplace(SYNC_SHEET, [Block(pd.DataFrame(rows, columns=META_COLUMNS))], hidden="veryHidden",
                          freeze_header=False)
    apply_plan(path, EditPlan([legacy]), backup_dir=path.parent / "bk")
    edit(path, "customers", "C000004", "contact", "新联系人")
    result = sync(path, store)
    assert result.counts["customers_pushed"] == 1 and result.counts["customers_inserted"] == 0
    assert result.counts["followups_inserted"] == 0 and not result.counts["conflicts"]
    meta = read_tool_sheet(path, SYNC_SHEET)
    assert set(meta["entity"]) == {"_meta"}  # the records moved to their own sheets
    assert sync(path, store).data["merged"] == []


def _content(path, store, entity: str) -> tuple[list, list]:
    """The book's rows and the store's live rows of an entity, as sorted field tuples."""
    book = read_book(path)
    spec = SHEETS_BY_KEY[entity]
    keys = [k for k in fields_of(entity) if k in book.sheets[entity].columns]
    frame = book.frame(entity)
    cols = [canon_column(frame[k], spec.column(k).kind) for k in keys]
    mine = sorted(tuple(v or "" for v in row) for row in zip(*cols))
    theirs = sorted(tuple(r[k] or "" for k in keys) for r in store_rows(store, entity))
    return mine, theirs


def test_random_rounds_leave_book_and_store_equal(book):
    """Edits on both sides (disjoint fields), new rows on both sides, many syncs: after each, the book
    holds exactly the store's rows."""
    path, store = book
    rng = random.Random(7)
    ids = [f"C{i:06d}" for i in range(1, 13)]
    for round_ in range(6):
        for _ in range(rng.randint(0, 3)):
            edit(path, "customers", rng.choice(ids), "notes", f"本地 {round_}-{rng.random():.4f}")
        for _ in range(rng.randint(0, 3)):
            _store_update(store, "customers", rng.choice(ids), "city", f"城市{round_}{rng.randint(0, 99)}")
        if rng.random() < 0.6:
            cid = rng.choice(ids[:8])
            edit(path, "followups", cid, "summary", f"本地跟进 {round_}")
        if rng.random() < 0.6:
            _store_update(store, "followups", rng.choice(ids[:4]), "outcome", f"结果{round_}", nth=1)
        if rng.random() < 0.5:  # a new follow-up typed in the book
            info = read_book(path).sheets["followups"]
            new = pd.DataFrame({info.header_of("customer_id"): [rng.choice(ids)],
                                info.header_of("summary"): [f"新跟进 {round_}"]})
            apply_plan(path, EditPlan([AppendRows(info.name, new)]), backup_dir=path.parent / "bk")
        if rng.random() < 0.5:  # and one added by a colleague to the store
            with open_store(store).begin() as conn:
                Repository(conn, "经理", "cli").insert("purchases", [
                    {"uid": new_uid(), "customer_id": rng.choice(ids), "order_no": f"SO-R{round_}", "owner": "张伟"}])
        result = sync(path, store)
        assert not result.counts["conflicts"], result.data
        for entity in ("customers", "followups", "purchases"):
            mine, theirs = _content(path, store, entity)
            assert mine == theirs, (round_, entity)


def test_base_fields_come_back_from_the_store_as_of_the_last_sync(book):
    """The base keeps no fields for a record without conflict: the store's row with the changes logged
    since undone gives them back — so two store edits of one field still read as one change, and an
    edit here of that same field is a conflict against the value agreed at the last sync."""
    path, store = book
    original = [r["city"] for r in store_rows(store, "customers") if r["customer_id"] == "C000005"][0]
    _store_update(store, "customers", "C000005", "city", "上海")
    _store_update(store, "customers", "C000005", "city", "南京")
    _store_update(store, "customers", "C000006", "city", "苏州")
    edit(path, "customers", "C000006", "notes", "本地备注")
    edit(path, "customers", "C000005", "city", "广州")
    result = sync(path, store)
    assert result.counts["customers_conflicts"] == 1 and result.counts["customers_pulled"] == 1
    assert result.counts["customers_pushed"] == 1  # the note
    conflict = conflict_rows(path)
    row = conflict[conflict["客户编号"] == "C000005"].iloc[0]
    assert (row["上次同步"], row["本工作簿"], row["团队库"]) == (original, "广州", "南京")
    # Still listed at the next sync (its fields were kept in the base), then decided.
    again = sync(path, store)
    assert again.counts["customers_conflicts"] == 1 and again.data["merged"] == ["customers"]


@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
                          st.sampled_from([" ", "\u3000", "\xa0x", " a ", "\t\n"])), max_size=30))
@settings(max_examples=200, deadline=None)
def test_text_to_arrow_is_exactly_canon(values):
    """Customer IDs and every text field go through Arrow: blank and trimmed exactly as `canon` does."""
    series = pd.Series(values, dtype=object)
    assert canon_array(series, Kind.TEXT).to_pylist() == [canon(v, Kind.TEXT) for v in values]


@given(st.lists(st.one_of(st.none(), st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1))),
                max_size=20),
       st.lists(st.one_of(st.none(), st.decimals(min_value=-10**9, max_value=10**9, places=2)
                          .map(float)), max_size=20))
@settings(max_examples=200, deadline=None)
def test_dates_and_money_to_arrow_are_canon(dates, money):
    series = pd.Series(pd.to_datetime(pd.Series(dates, dtype=object)), dtype="datetime64[ns]")
    assert canon_array(series, Kind.DATE).to_pylist() == [canon(v, Kind.DATE) for v in series]
    floats = pd.Series(money, dtype="float64")
    assert canon_array(floats, Kind.MONEY).to_pylist() == [canon(v, Kind.MONEY) for v in floats]


def test_batched_updates_still_refuse_a_row_changed_meanwhile(book):
    """The pushes of a sync go in batches; one row someone else changed fails the whole batch (the
    sync then merges again), exactly as one-by-one updates with the version check would."""
    _path, store = book
    rows = sorted(store_rows(store, "customers"), key=lambda r: r["customer_id"])[:3]
    pushes = [Push(r["uid"], r["version"], {"city": "新城"}, {"city": r["city"]}) for r in rows]
    _store_update(store, "customers", rows[1]["customer_id"], "city", "别人先改了")
    with pytest.raises(StaleVersion), open_store(store).begin() as conn:
        Repository(conn, "测试", "cli").update_many("customers", pushes, {})
    assert [r["city"] for r in store_rows(store, "customers") if r["uid"] == rows[0]["uid"]] == [rows[0]["city"]]


def test_a_traditional_chinese_book_gets_its_conflicts_in_traditional(tmp_path, store_url):
    path = write_crm_workbook(tmp_path / "tw.xlsx", "zh-TW", frames={"customers": customers("陳怡", 1, 2)})
    sync(path, store_url)
    edit(path, "customers", "C000001", "contact", "我的")
    _store_update(store_url, "customers", "C000001", "contact", "他們的")
    assert sync(path, store_url).counts["conflicts"] == 1
    frame = read_tool_sheet(path, read_book(path).tool_sheets["conflicts"])
    header = [str(c) for c in frame.iloc[0]]
    assert "決定" in header and "團隊庫" in header and "衝突 / conflict" in frame.iloc[1].tolist()
    assert "衝突" in str(frame.columns[0]) or "同步時" in str(frame.columns[0])  # the title row
    decide(path, traditional(TAKE_STORE))
    result = sync(path, store_url)
    assert result.counts["decided"] == 1 and result.counts["customers_pulled"] == 1
    frame = read_book(path).customers
    assert frame.loc[frame.customer_id == "C000001", "contact"].item() == "他們的"


def test_bulk_inserted_rows_keep_every_character(tmp_path, store_url):
    """New follow-ups go to the store column-wise (CSV COPY on PostgreSQL): commas, quotes, line breaks,
    a lone space-padded text and blanks arrive exactly as the book has them."""
    cust = customers("张伟", 1, 3)
    ids = list(cust.customer_id)
    texts = ['逗号,和"引号"', "换行\n第二行", "  前后空格  ", None]
    fu = followups(ids + [ids[0]], "张伟")
    fu["summary"] = texts
    path = make_book(tmp_path / "b.xlsx", cust, fu)
    result = sync(path, store_url)
    assert result.counts["followups_inserted"] == 4
    stored = sorted((r["summary"] or "") for r in store_rows(store_url, "followups"))
    typed = read_book(path).followups["summary"].tolist()  # as the reader types it (padding trimmed)
    assert stored == sorted(t or "" for t in typed) and '逗号,和"引号"' in stored and "换行\n第二行" in stored
    assert all(r["owner"] == "张伟" and r["version"] == 1 for r in store_rows(store_url, "followups"))
    created = [r for r in _log(store_url) if r["entity"] == "followups"]
    assert len(created) == 4 and {r["field"] for r in created} == {"(created)"}
    assert sync(path, store_url).data["merged"] == []


def _log(store: str) -> list[dict]:
    with open_store(store).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(tables.change_log.select())]


def test_a_base_cell_holds_any_customer_id():
    """uid and hash are fixed-width, the row ends at the first colon: the customer ID may hold colons,
    spaces, anything; a record without a known hash reads back without one."""
    records = {"a" * 32: Record(7, "C:01 x", "0123456789abcdef", "", False), "b" * 32: Record(9, None, None)}
    frame = pd.DataFrame({"record": [pack(u, r) for u, r in records.items()], "data": [None, None]})
    back = read_base(frame)
    assert [(u, r.row, r.key, r.hash) for u, r in back.items()] == [("a" * 32, 7, "C:01 x", "0123456789abcdef"),
                                                                      ("b" * 32, 9, None, None)]


def test_a_save_between_the_token_check_and_the_read_is_not_missed(book, monkeypatch):
    """Tokens are taken with the file's fingerprint: a save right after them (Excel, between two
    reads) makes the write refuse — nothing is stamped as unchanged that was not — and the next sync
    pushes that edit."""
    path, store = book
    _store_update(store, "customers", "C000002", "city", "宁波")  # so that this sync has something to write
    real = sync_module.sbase.read_meta

    def meanwhile(frame):
        monkeypatch.setattr(sync_module.sbase, "read_meta", real)
        edit(path, "followups", "C000003", "summary", "刚在 Excel 里改的")
        return real(frame)

    monkeypatch.setattr(sync_module.sbase, "read_meta", meanwhile)
    with pytest.raises(FileRefused):
        sync(path, store)
    result = sync(path, store)
    assert result.counts["followups_pushed"] == 1 and result.counts["customers_pulled"] == 1
    assert "刚在 Excel 里改的" in {r["summary"] for r in store_rows(store, "followups")}
    assert sync(path, store).data["merged"] == []
