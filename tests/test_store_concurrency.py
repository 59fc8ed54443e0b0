"""Several salespeople sync at once against PostgreSQL, and the manager edits one of their customers
at the same moment: no update is lost, the one real conflict is listed, the change log is complete."""

from __future__ import annotations

import subprocess
import sys

import pytest
from team_fixtures import TODAY, cell, change_log, customers, edit, followups, make_book, store_rows, sync

from xlcrm.commands.base import Context
from xlcrm.commands.team import BookOptions
from xlcrm.commands.team import make_book as owner_book
from xlcrm.store import open_store, tables

PEOPLE = {"张伟": 1, "李娜": 101, "王芳": 201}
EDITS = {"张伟": ("contact", 1), "李娜": ("city", 101), "王芳": ("notes", 201)}  # field, first customer number


@pytest.mark.slow
def test_concurrent_syncs_lose_nothing(tmp_path, pg_server):
    import pgserver

    store = pgserver.fresh_database(pg_server, "concurrency")
    books = {}
    for name, start in PEOPLE.items():
        cust = customers(name, start, 20)
        books[name] = make_book(tmp_path / f"{start}.xlsx", cust, followups(list(cust.customer_id), name))
        sync(books[name], store, user=name)
    manager = tmp_path / "manager.xlsx"
    owner_book(manager, BookOptions(store=store, all=True), Context(today=TODAY, user="经理"))
    for name, (field, start) in EDITS.items():
        for i in range(5):
            edit(books[name], "customers", f"C{start + i:06d}", field, f"{name}-{field}-{i}")
    edit(manager, "customers", "C000001", "contact", "经理改的联系人")  # the same cell 张伟 changes
    edit(manager, "customers", "C000102", "notes", "经理的备注")  # the same customer 李娜 changes, another cell

    runs = {who: subprocess.Popen([sys.executable, "-c", f"import xlcrm; xlcrm.sync({str(path)!r}, store={store!r})"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for who, path in [*books.items(), ("经理", manager)]}
    for who, proc in runs.items():
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, f"{who}: {err}"

    rows = {r["customer_id"]: r for r in store_rows(store, "customers")}
    for name, (field, start) in EDITS.items():
        for i in range(5 if name != "张伟" else 0):
            assert rows[f"C{start + i:06d}"][field] == f"{name}-{field}-{i}"
    for i in range(1, 5):
        assert rows[f"C{1 + i:06d}"]["contact"] == f"张伟-contact-{i}"
    # Both edits of C000102 landed (no lost update), one version step each.
    assert rows["C000102"]["city"] == "李娜-city-1" and rows["C000102"]["notes"] == "经理的备注"
    assert rows["C000102"]["version"] == 3
    # C000001's contact: whoever synced first won; the other has exactly one conflict listed.
    assert rows["C000001"]["contact"] in ("张伟-contact-0", "经理改的联系人")
    with open_store(store).connect() as conn:
        conflicts = [dict(r._mapping) for r in conn.execute(tables.conflicts.select())]
    assert [(c["customer_id"], c["field"], c["kind"]) for c in conflicts] == [("C000001", "contact", "conflict")]
    assert {conflicts[0]["local"], conflicts[0]["store"]} == {"张伟-contact-0", "经理改的联系人"}
    # The change log: one entry per field that reached the store, by whom it came from.
    changes = [r for r in change_log(store) if not r["field"].startswith("(")]
    assert len(changes) == 4 + 1 + 5 + 5 + 1  # 张伟 C000002-5, one C000001 contact, 李娜, 王芳, the manager note
    assert sum(r["customer_id"] == "C000001" and r["field"] == "contact" for r in changes) == 1
    assert {r["source"] for r in changes} == {"api"}
    # Everyone syncs again: the books converge on the store (the conflict stays listed until decided).
    for path in [*books.values(), manager]:
        sync(path, store)
    assert cell(manager, "customers", "C000105", "city") == ["李娜-city-4"]
    assert cell(books["李娜"], "customers", "C000102", "notes") == ["经理的备注"]
    assert cell(books["王芳"], "customers", "C000201", "notes") == ["王芳-notes-0"]
