"""The per-field three-way merge behind `xlcrm sync` — pure: no workbook, no database.

Three views of each record: the *base* (what the workbook and the store agreed on at the last sync,
kept in the workbook's hidden sync sheet), the *local* row (the workbook now) and the *store* row.
Field by field:

- local = base, store ≠ base  → pull (write the store's value into the workbook)
- local ≠ base, store = base  → push (write the workbook's value to the store, version-checked)
- both changed, to the same value → nothing to do
- both changed, differently    → a conflict for the user to decide (the field's base stays as it
  was, so the conflict is listed again until decided; nothing is dropped silently)

Records: a local row without a base is new (insert); a base record gone from the workbook was deleted
there (soft delete in the store, unless the store changed it meanwhile: conflict); a store record
not in the base is new to this book (pulled); a store record soft-deleted is removed from the book
unless the workbook changed it (conflict).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

Fields = dict[str, "str | None"]
DELETED = "<deleted>"  # how a deletion shows in a conflict's local/store value


@dataclass
class Local:
    row: int  # the sheet row Excel shows
    fields: Fields
    uid: str | None = None  # matched base record (None: new in the workbook)


@dataclass
class Stored:
    uid: str
    version: int
    fields: Fields
    owner: str | None = None
    deleted: bool = False


@dataclass
class Conflict:
    uid: str
    row: int | None
    field: str
    base: str | None
    local: str | None
    store: str | None
    customer_id: str | None = None


@dataclass
class Push:
    uid: str
    version: int  # the version the store must still have (optimistic check)
    changes: Fields  # field → new value
    old: Fields  # field → the store's value being replaced (for the change log)


@dataclass
class Pull:
    uid: str
    row: int
    changes: Fields


@dataclass
class Merge:
    pushes: list[Push] = field(default_factory=list)
    inserts: list[Local] = field(default_factory=list)  # new rows to add to the store
    deletes: list[Push] = field(default_factory=list)  # soft deletes (changes = {})
    pulls: list[Pull] = field(default_factory=list)
    pulled_new: list[Stored] = field(default_factory=list)  # store rows to append to the workbook
    pulled_deletes: list[tuple[str, int]] = field(default_factory=list)  # (uid, row) to remove from the workbook
    conflicts: list[Conflict] = field(default_factory=list)
    base: dict[str, Fields] = field(default_factory=dict)  # the new base, per uid kept in the workbook
    kept_deleted: dict[str, Fields] = field(default_factory=dict)  # deleted here, in conflict: base kept
    bulk_inserted: int = 0  # new rows inserted column-wise, never made into `Local`s (a first import)

    def counts(self, prefix: str = "") -> dict[str, int]:
        """Pushed and pulled count changed fields; the others count records."""
        return {f"{prefix}pushed": sum(len(p.changes) for p in self.pushes), f"{prefix}inserted": len(self.inserts) + self.bulk_inserted,
                f"{prefix}deleted": len(self.deletes), f"{prefix}pulled": sum(len(p.changes) for p in self.pulls),
                f"{prefix}pulled_new": len(self.pulled_new), f"{prefix}pulled_deleted": len(self.pulled_deletes),
                f"{prefix}conflicts": len(self.conflicts)}


def _same(a: str | None, b: str | None) -> bool:
    return (a or None) == (b or None)


def merge_records(base: dict[str, Fields], local: list[Local], store: dict[str, Stored], managed: list[str],
                  *, key: str = "customer_id") -> Merge:
    """Merge one entity. `managed`: the fields this workbook has columns for (others are left alone)."""
    out = Merge()
    seen: set[str] = set()
    for rec in local:
        if rec.uid is None or rec.uid not in base:
            out.inserts.append(rec)
            continue
        seen.add(rec.uid)
        b, s = base[rec.uid], store.get(rec.uid)
        if s is None:  # the workbook knows it, the store never did (a sync stopped before its commit)
            out.inserts.append(rec)
            continue
        if s.deleted:
            changed = [f for f in managed if not _same(rec.fields.get(f), b.get(f))]
            if not changed:
                out.pulled_deletes.append((rec.uid, rec.row))
                continue
            for f in changed:  # edited here, deleted in the store: the user decides
                out.conflicts.append(Conflict(rec.uid, rec.row, f, b.get(f), rec.fields.get(f), DELETED,
                                              rec.fields.get(key)))
            out.base[rec.uid] = dict(b)
            continue
        pushed, old, pulled, agreed = {}, {}, {}, dict(b)
        for f in managed:
            lv, bv, sv = rec.fields.get(f), b.get(f), s.fields.get(f)
            if _same(lv, sv):
                agreed[f] = sv
            elif _same(lv, bv):
                pulled[f] = sv
                agreed[f] = sv
            elif _same(sv, bv):
                pushed[f], old[f] = lv, sv
                agreed[f] = lv
            else:
                out.conflicts.append(Conflict(rec.uid, rec.row, f, bv, lv, sv, rec.fields.get(key) or s.fields.get(key)))
        if pushed:
            out.pushes.append(Push(rec.uid, s.version, pushed, old))
        if pulled:
            out.pulls.append(Pull(rec.uid, rec.row, pulled))
        out.base[rec.uid] = agreed
    for uid, b in base.items():
        if uid in seen:
            continue
        s = store.get(uid)
        if s is None or s.deleted:
            continue  # gone on both sides
        changed = [f for f in managed if not _same(s.fields.get(f), b.get(f))]
        if changed:  # deleted here, edited in the store: keep it listed, decide later
            for f in changed:
                out.conflicts.append(Conflict(uid, None, f, b.get(f), DELETED, s.fields.get(f), s.fields.get(key)))
            out.kept_deleted[uid] = dict(b)
        else:
            out.deletes.append(Push(uid, s.version, {}, {}))
    for uid, s in store.items():
        if uid not in base and not s.deleted:
            out.pulled_new.append(s)
            out.base[uid] = {f: s.fields.get(f) for f in managed}
    return out


def match_rows(base: dict[str, tuple[int, object, str | None]],
               rows: list[tuple[int, object, str | None]]) -> list[str | None]:
    """The base uid of each workbook row of a sheet without its own ID (follow-ups, purchases); each
    side as (sheet row, content, customer ID), content being anything comparable (the fields' hash).
    First rows whose content is exactly a base record's (wherever they moved; of twins, the one at
    the same row), then a row at the
    base's row number for the same customer (edited in place). Rows left over are new (None)."""
    by_content: dict[object, list[str]] = defaultdict(list)
    for uid, (_row, content, _key) in base.items():
        by_content[content].append(uid)
    out: list[str | None] = [None] * len(rows)
    taken: set[str] = set()
    for i, (row, content, _key) in enumerate(rows):
        uids = by_content.get(content)
        if not uids:
            continue
        # Twins (the same content twice): the one that was at this row, else the first.
        uid = next((u for u in uids if base[u][0] == row), uids[0])
        uids.remove(uid)
        out[i] = uid
        taken.add(uid)
    by_row = {row: uid for uid, (row, _c, _k) in base.items() if uid not in taken}
    for i, (row, _content, key) in enumerate(rows):
        if out[i] is not None:
            continue
        uid = by_row.get(row)
        if uid is not None and uid not in taken and _same(base[uid][2], key):
            out[i] = uid
            taken.add(uid)
    return out


def identity(fields: Fields) -> list[tuple[str, str]]:
    """What makes two customer cards the same customer across books (撞单): the mobile's last 11
    digits, the e-mail, the company name folded (width, case, spaces and brackets ignored)."""
    import re
    import unicodedata

    keys = []
    digits = re.sub(r"\D", "", fields.get("mobile") or "")
    if len(digits) >= 7:
        keys.append(("mobile", digits[-11:]))
    email = (fields.get("email") or "").strip().casefold()
    if "@" in email:
        keys.append(("email", email))
    company = unicodedata.normalize("NFKC", fields.get("company") or "").casefold()
    company = re.sub(r"[\s()\[\]（）【】·.,，、\-]+", "", company)
    if len(company) >= 2:
        keys.append(("company", company))
    return keys
