"""The edits one sync makes to the workbook: pulled values into their cells, new IDs, rows removed
(deleted in the store, or of customers handed to someone else), rows arriving from the store, the
new base (cell by cell when its records stay in order), the meta sheet and the Conflicts sheet."""

from __future__ import annotations

import bisect

from ..workbook.book import CrmBook
from ..workbook.edits import DeleteRows, EditPlan
from . import sync_base as sbase
from . import sync_book as sb
from .sync_base import Record
from .sync_merge import EntityOutcome, Outcome


def workbook_plan(book: CrmBook, out: Outcome, meta: dict[str, str], lang: str, legacy: bool) -> EditPlan:
    plan = EditPlan(operation="sync")
    conflicts = []
    for entity, e in out.entities.items():
        m, view = e.merge, e.view
        cells: dict[str, dict[int, str | None]] = {}
        for p in m.pulls:
            for f, v in p.changes.items():
                cells.setdefault(f, {})[p.row] = v
        if entity == "customers":
            for row, cid in out.new_ids.items():
                cells.setdefault("customer_id", {})[row] = cid
        elif out.renamed and "customer_id" in view.managed:
            for i, cid in enumerate(view.keys):
                if view.hashes[i] == "" and cid in out.renamed.values():  # re-pointed in _merge_children
                    cells.setdefault("customer_id", {})[view.rows[i]] = cid
        if entity in book.sheets:
            plan.edits.extend(sb.column_writes(book, entity, cells, lang))
        gone = {uid for uid, _row in m.pulled_deletes}
        removed = sorted({row for i, (row, uid) in enumerate(zip(view.rows, view.uids))
                          if uid in gone or view.key(i) in out.out_of_scope})
        if removed:
            plan.add(DeleteRows(book.sheets[entity].name, removed))
        records = _new_base(e, set(removed), removed)
        info = book.sheets.get(entity)
        arriving = [s for s in m.pulled_new if s.fields.get("customer_id") not in out.out_of_scope]
        first = (info.last_row if info else 1) - len(removed) + 1
        plan.edits.extend(sb.append_rows(book, entity, [s.fields for s in arriving], e.managed, lang, first))
        fields = [{f: s.fields.get(f) for f in e.managed} for s in arriving]
        for i, (s, h) in enumerate(zip(arriving, sbase.hash_fields(fields, e.managed))):
            records[s.uid] = Record(first + i, fields[i].get("customer_id"), h)
        plan.edits.extend(sbase.base_edits(entity, e.base, records, rewrite=legacy or not e.base))
        conflicts += [(entity, c) for c in m.conflicts]
    plan.add(sbase.meta_sheet(meta))
    if conflicts or out.duplicates or sb.CONFLICTS_KEY in book.tool_sheets:
        plan.add(sb.conflicts_sheet(book, conflicts, out.duplicates, lang))
    return plan


def _new_base(e: EntityOutcome, removed_rows: set[int], removed: list[int]) -> dict[str, Record]:
    """The entity's base after this sync, in sheet order: each merged row from the merge's agreed fields
    (or, inserted into the store just now, its own), every other row as it was (row number moved up
    past removed rows); records deleted here but kept for a conflict at row 0."""
    m, view = e.merge, e.view
    merged = {r.row: r for r in e.local}
    pending = {c.uid for c in m.conflicts} | set(m.kept_deleted)
    records: dict[str, Record] = {}
    fresh: dict[str, dict] = {}
    for i, row in enumerate(view.rows):
        if row in removed_rows:
            continue
        rec = merged.get(row)
        uid = rec.uid if rec is not None else view.uids[i]
        if uid is None:
            continue
        at = row - bisect.bisect_left(removed, row)
        if rec is None and uid not in e.base:  # inserted in bulk just now: its own hash
            records[uid] = Record(at, view.keys[i], view.hashes[i] or None)
            continue
        if rec is None:  # not merged: as it was (the same record when it stays at its row)
            old = e.base[uid]
            records[uid] = old if old.row == at else Record(at, old.key, old.hash, old.data, old.pending)
            continue
        fresh[uid] = m.base.get(uid) or (e.linked[uid][1] if uid in e.linked else rec.fields)
        records[uid] = Record(at, fresh[uid].get("customer_id"), None)
    for uid, fields in m.kept_deleted.items():
        fresh[uid] = fields
        records[uid] = Record(0, fields.get("customer_id"), None)
    for (uid, fields), h in zip(fresh.items(), sbase.hash_fields(list(fresh.values()), view.managed)):
        r = records[uid]
        r.hash, r.pending = h, uid in pending
        r.data = sbase.to_json(fields) if r.pending else ""
    return records
