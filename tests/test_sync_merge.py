"""The pure per-field three-way merge (xlcrm/ops/sync.py): every case of base / workbook / store."""

from __future__ import annotations

from xlcrm.ops.sync import DELETED, Local, Stored, identity, match_rows, merge_records

F = ["customer_id", "company", "city"]


def _base(**fields):
    return {"customer_id": "C1", "company": "甲", "city": "杭州", **fields}


def test_field_by_field():
    base = {"u1": _base()}
    local = [Local(2, _base(company="甲公司", city="杭州"), "u1")]  # company changed here
    store = {"u1": Stored("u1", 4, _base(company="甲", city="上海"))}  # city changed there
    m = merge_records(base, local, store, F)
    assert [(p.uid, p.version, p.changes, p.old) for p in m.pushes] == [("u1", 4, {"company": "甲公司"}, {"company": "甲"})]
    assert [(p.row, p.changes) for p in m.pulls] == [(2, {"city": "上海"})]
    assert m.base["u1"] == _base(company="甲公司", city="上海") and not m.conflicts


def test_both_changed_differently_is_a_conflict_and_keeps_the_base():
    m = merge_records({"u1": _base()}, [Local(2, _base(city="北京"), "u1")], {"u1": Stored("u1", 2, _base(city="上海"))}, F)
    assert [(c.field, c.base, c.local, c.store, c.row) for c in m.conflicts] == [("city", "杭州", "北京", "上海", 2)]
    assert m.base["u1"]["city"] == "杭州" and not m.pushes and not m.pulls


def test_both_changed_the_same_way_is_agreed_and_blank_equals_none():
    m = merge_records({"u1": _base(city=None)}, [Local(2, _base(city="上海"), "u1")],
                      {"u1": Stored("u1", 2, _base(city="上海"))}, F)
    assert not (m.pushes or m.pulls or m.conflicts) and m.base["u1"]["city"] == "上海"
    m = merge_records({"u1": _base(city="")}, [Local(2, _base(city=None), "u1")], {"u1": Stored("u1", 2, _base(city=None))}, F)
    assert not (m.pushes or m.pulls or m.conflicts)


def test_new_rows_both_ways_and_deletions():
    base = {"u1": _base(), "u2": _base(customer_id="C2")}
    local = [Local(2, _base(), "u1"), Local(3, _base(customer_id="C9"))]  # u2 deleted here, C9 new here
    store = {"u1": Stored("u1", 1, _base(), deleted=True), "u2": Stored("u2", 1, _base(customer_id="C2")),
             "u3": Stored("u3", 1, _base(customer_id="C3"))}
    m = merge_records(base, local, store, F)
    assert [r.fields["customer_id"] for r in m.inserts] == ["C9"]
    assert [(d.uid, d.version) for d in m.deletes] == [("u2", 1)]
    assert m.pulled_deletes == [("u1", 2)] and [s.uid for s in m.pulled_new] == ["u3"]


def test_deleted_on_one_side_edited_on_the_other_is_listed():
    base = {"u1": _base(), "u2": _base(customer_id="C2")}
    local = [Local(2, _base(city="北京"), "u1")]  # u1 edited here (deleted there); u2 deleted here (edited there)
    store = {"u1": Stored("u1", 2, _base(), deleted=True), "u2": Stored("u2", 2, _base(customer_id="C2", city="广州"))}
    m = merge_records(base, local, store, F)
    assert sorted((c.uid, c.local, c.store) for c in m.conflicts) == [("u1", "北京", DELETED), ("u2", DELETED, "广州")]
    assert "u2" in m.kept_deleted and not m.deletes and not m.pulled_deletes


def test_a_row_the_store_never_saw_is_inserted_with_its_uid():
    m = merge_records({"u1": _base()}, [Local(2, _base(), "u1")], {}, F)
    assert [(r.uid, r.row) for r in m.inserts] == [("u1", 2)]


def test_match_rows_by_content_then_by_row():
    base = {"a": (2, ("C1", "x"), "C1"), "b": (3, ("C1", "y"), "C1")}
    rows = [(2, ("C1", "NEW"), "C1"), (3, ("C1", "x"), "C1"), (4, ("C1", "z"), "C1")]
    # "x" moved down a row: found by content; row 2 and row 4 are new ("b" was deleted)
    assert match_rows(base, rows) == [None, "a", None]
    rows = [(2, ("C1", "x"), "C1"), (3, ("C1", "edited"), "C1")]
    assert match_rows(base, rows) == ["a", "b"]  # b edited in place
    assert match_rows(base, [(3, ("C2", "edited"), "C2")]) == [None]  # another customer's row: new


def test_identity_folds_width_case_and_brackets():
    a = identity({"mobile": "+86 139-0000-0001", "email": "Li@X.com", "company": "杭州（甲）科技 有限公司"})
    b = identity({"mobile": "13900000001", "email": "li@x.com", "company": "杭州(甲)科技有限公司"})
    assert a == b and {k for k, _ in a} == {"mobile", "email", "company"}
