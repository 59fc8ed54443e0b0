"""Workbooks for the team-store tests: built with the project's template writer (new files), edited
afterwards only through xlcrm's own part-preserving writer — as a user's Excel edits would arrive."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from xlcrm.commands import run
from xlcrm.commands.base import Context
from xlcrm.store import open_store, tables
from xlcrm.template import write_crm_workbook
from xlcrm.workbook.edits import CellWrite, DeleteRows, EditPlan
from xlcrm.workbook.file_adapter import FileWorkbook
from xlcrm.workbook.reader import read_book, read_tool_sheet  # noqa: F401  (read_tool_sheet: for the tests)
from xlcrm.workbook.writer import apply_plan

TODAY = dt.date(2026, 11, 20)


def customers(owner: str, start: int, n: int, prefix: str = "") -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [f"C{start + i:06d}" for i in range(n)],
        "company": [f"{prefix or owner}客户{i}有限公司" for i in range(n)],
        "contact": [f"联系人{start + i}" for i in range(n)],
        "mobile": [f"139{start + i:08d}" for i in range(n)],
        "owner": [owner] * n,
        "deal_status": ["洽谈中"] * n,
        "created": [dt.date(2026, 1, 5)] * n,
    })


def followups(ids: list[str], by: str, day: dt.date = dt.date(2026, 11, 2)) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ids, "date": [day] * len(ids), "channel": ["电话"] * len(ids),
                         "by": [by] * len(ids), "summary": [f"电话沟通 {i}" for i in ids]})


def purchases(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ids, "order_no": [f"SO-{i}" for i in ids], "date": [dt.date(2026, 11, 3)] * len(ids),
                         "product": ["软件"] * len(ids), "amount": [1200.0] * len(ids), "paid_amount": [200.0] * len(ids)})


def make_book(path: Path, cust: pd.DataFrame, fu: pd.DataFrame | None = None, pu: pd.DataFrame | None = None) -> Path:
    return write_crm_workbook(path, frames={"customers": cust, "followups": fu, "purchases": pu})


def sync(path: Path, store: str, **options):
    with FileWorkbook(path) as port:
        return run("sync", port, Context(today=TODAY, user=options.pop("user", "tester"), via=options.pop("via", "api"),
                                         options={"store": store, **options}))


def cell(path: Path, sheet_key: str, customer_id: str, field: str) -> object:
    book = read_book(path)
    frame = book.frame(sheet_key)
    return frame.loc[frame["customer_id"] == customer_id, field].tolist()


def edit(path: Path, sheet_key: str, customer_id: str, field: str, value, nth: int = 0) -> None:
    """Change one cell of a data sheet, found by customer ID, with xlcrm's writer."""
    book = read_book(path)
    frame = book.frame(sheet_key)
    row = int(frame.loc[frame["customer_id"] == customer_id, "_row"].iloc[nth])
    info = book.sheets[sheet_key]
    apply_plan(path, EditPlan([CellWrite(info.name, row, info.columns[field], value)]), backup_dir=path.parent / "bk")


def delete_row(path: Path, sheet_key: str, customer_id: str) -> None:
    book = read_book(path)
    frame = book.frame(sheet_key)
    row = int(frame.loc[frame["customer_id"] == customer_id, "_row"].iloc[0])
    apply_plan(path, EditPlan([DeleteRows(book.sheets[sheet_key].name, [row])]), backup_dir=path.parent / "bk")


def decide(path: Path, decision: str) -> int:
    """Fill the Decision column of every row on the Conflicts sheet (as the user would in Excel)."""
    book = read_book(path)
    name = book.tool_sheets["conflicts"]
    frame = read_tool_sheet(path, name)
    header = [str(c) for c in frame.iloc[0]]  # a title row sits above the header
    col = next(header.index(h) for h in ("决定", "決定", "Decision") if h in header) + 1
    n = len(frame) - 1
    plan = EditPlan([CellWrite(name, 3 + i, col, decision) for i in range(n)])
    apply_plan(path, plan, backup_dir=path.parent / "bk")
    return n


def conflict_rows(path: Path) -> pd.DataFrame:
    book = read_book(path)
    frame = read_tool_sheet(path, book.tool_sheets["conflicts"])
    return frame.iloc[1:].set_axis([str(c) for c in frame.iloc[0]], axis=1).reset_index(drop=True)


def store_rows(store: str, entity: str, *, deleted: bool | None = False) -> list[dict]:
    t = tables.RECORDS[entity]
    q = select(t)
    if deleted is not None:
        q = q.where(t.c.deleted.is_(deleted))
    with open_store(store).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def change_log(store: str) -> list[dict]:
    with open_store(store).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(tables.change_log).order_by(tables.change_log.c.id))]
