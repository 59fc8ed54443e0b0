"""The base snapshot of a synced workbook — what the book and the store agreed on at the last sync.

Kept in the workbook itself, in very-hidden sheets xlcrm owns by name:

- `_xlcrm_sync`: meta rows (scope, redaction, the store's id, the store's change number at the last
  sync, which sheet holds which entity, open conflicts) and the sheet tokens (`workbook.stamp`);
- `_xlcrm_sync_customers`, `_xlcrm_sync_followups`, `_xlcrm_sync_purchases`: one row per record, in
  sheet order — one text cell `<uid: 32 hex><hash: 16 hex><row>:<customer ID>` (one cell, not four: a
  million-row base renders and reads four times lighter), and for a record with an open conflict a
  second cell with its fields as JSON.

A record without an open conflict agreed with the store at the last sync's change number, so its
fields need not be kept: the store gives them back (its row now, with the changes logged since undone,
`Repository.fields_as_of`). The hash finds the rows that changed here without that; the change number
and the tokens let a sync skip a sheet neither side touched. Books synced before this layout kept
every record's fields in `_xlcrm_sync`: they are read as before and moved on the next write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from ..workbook.edits import Block, ColumnWrite, SheetReplace
from ..workbook.stamp import MARKER, parse

ENTITIES = ("customers", "followups", "purchases")
CHILDREN = ("followups", "purchases")
ALL = "*"  # the scope of everyone's book (the manager's)
SYNC_SHEET = "_xlcrm_sync"  # very hidden; internal sheets are xlcrm's by name (ownership.INTERNAL_PREFIX)
BASE_SHEETS = {e: f"{SYNC_SHEET}_{e}" for e in ENTITIES}
META_COLUMNS = ["entity", "uid", "key", "row", "data"]  # the layout of `_xlcrm_sync` (old books: with records)
BASE_COLUMNS = ["record", "data"]
NO_HASH = "-" * 16
STAMP_KEY = "stamp"
HASH_KEY = "xlcrm-sync-hash1"  # 16 bytes: pandas' SipHash key (fixed, so hashes match across runs)


@dataclass(slots=True)
class Record:
    """One record of the base: sheet row, customer ID, fields hash, and its fields when known (kept as
    JSON for an open conflict; otherwise filled in from the store when the merge needs them)."""

    row: int
    key: str | None
    hash: str | None  # None: not known (a book from before hashes, or a decision changed the record)
    data: str = ""  # the fields as JSON: only for a record in conflict (or from an old book)
    pending: bool = False  # an open conflict: merged again at every sync until decided
    _fields: dict | None = None

    @property
    def known(self) -> bool:
        return self._fields is not None or bool(self.data)

    def fields(self) -> dict:
        if self._fields is None:
            if not self.data:
                raise LookupError("base fields not loaded from the store")  # a bug, never the user's
            self._fields = json.loads(self.data)
        return self._fields

    def fill(self, fields: dict) -> None:
        self._fields = fields


def to_json(fields: dict) -> str:
    return json.dumps({k: v for k, v in fields.items() if v is not None}, ensure_ascii=False, separators=(",", ":"))


def record(row: int, fields: dict, hash_: str | None = None, pending: bool = False) -> Record:
    """A base record from agreed fields (kept in memory; written as JSON only when in conflict)."""
    return Record(row, fields.get("customer_id"), hash_, to_json(fields) if pending else "", pending, fields)


def hash_arrays(arrays: list) -> list[str]:
    """A 64-bit hash per row of Arrow string columns: each row joined into one text (a separator no trimmed
    field ends with, a marker for blank) and hashed in one vectorised pass."""
    import pyarrow.compute as pc

    joined = pc.binary_join_element_wise(*arrays, "\x1f", null_handling="replace", null_replacement="\x00")
    # categorize=False: the same SipHash values, without first factorising (mostly unique) rows.
    hashed = pd.util.hash_array(joined.to_numpy(zero_copy_only=False), hash_key=HASH_KEY, categorize=False)
    return [f"{x:016x}" for x in hashed.tolist()]


def hash_fields(records: list[dict], managed: list[str]) -> list[str]:
    """A 64-bit hash per record of its canonical field texts (in the managed fields' order)."""
    import pyarrow as pa

    if not records or not managed:
        return []
    return hash_arrays([pa.array([r.get(f) or None for r in records], type=pa.string()) for f in managed])


# --------------------------------------------------------------------------- reading

def read_meta(frame: pd.DataFrame | None) -> tuple[dict[str, str], dict[str, dict[str, Record]] | None]:
    """(meta, records of a book from before per-entity sheets — else None) from `_xlcrm_sync`."""
    meta: dict[str, str] = {}
    if frame is None or frame.empty or "entity" not in frame.columns:
        return meta, None
    legacy: dict[str, dict[str, Record]] = {e: {} for e in ENTITIES}
    found = False
    for entity, uid, key, row, data in frame[META_COLUMNS].itertuples(index=False):
        if entity == "_meta":
            meta[str(uid)] = data or ""
        elif entity in legacy and uid:
            legacy[entity][str(uid)] = Record(int(float(row or 0)), key or None, None, data or "{}")
            found = True
    return meta, (legacy if found else None)


def pack(uid: str, r: Record) -> str:
    """A record as its one base cell (uid and hash fixed-width first, so a customer ID may hold anything)."""
    if len(uid) != 32 or (r.hash is not None and len(r.hash) != 16):
        raise ValueError(f"base record {uid!r}: uid must be 32 and hash 16 characters")
    return f"{uid}{r.hash or NO_HASH}{r.row}:{r.key or ''}"


def read_base(frame: pd.DataFrame | None) -> dict[str, Record]:
    if frame is None or frame.empty or "record" not in frame.columns:
        return {}
    out = {}
    datas = frame["data"].tolist() if "data" in frame.columns else [None] * len(frame)
    for cell, data in zip(frame["record"].tolist(), datas):
        if not cell or len(cell) < 50:
            continue
        row, _, key = cell[48:].partition(":")
        hash_ = cell[32:48]
        out[cell[:32]] = Record(int(row or 0), key or None, None if hash_ == NO_HASH else hash_, data or "",
                                bool(data))
    return out


def tokens(meta: dict[str, str]) -> dict[str, str]:
    return parse(meta.get(STAMP_KEY))


# --------------------------------------------------------------------------- writing

def meta_sheet(meta: dict[str, str]) -> SheetReplace:
    """`_xlcrm_sync` with the meta rows and the stamp marker (the writer fills in the tokens)."""
    rows = [["_meta", k, "", "", v] for k, v in sorted(meta.items()) if k != STAMP_KEY]
    rows.append(["_meta", STAMP_KEY, "", "", MARKER])
    return SheetReplace(SYNC_SHEET, [Block(pd.DataFrame(rows, columns=META_COLUMNS))], hidden="veryHidden",
                        freeze_header=False)


def base_sheet(entity: str, records: dict[str, Record]) -> SheetReplace:
    df = pd.DataFrame({"record": [pack(uid, r) for uid, r in records.items()],
                       "data": [r.data if r.pending else None for r in records.values()]}, columns=BASE_COLUMNS)
    return SheetReplace(BASE_SHEETS[entity], [Block(df)], hidden="veryHidden", freeze_header=False)


def base_edits(entity: str, old: dict[str, Record], new: dict[str, Record], rewrite: bool = False) -> list:
    """The edits that turn the base sheet holding `old` into one holding `new`: nothing when equal; the
    changed cells when the records are the same ones in the same order (the usual sync: a few rows
    changed, a whole sheet left in place); else the sheet written anew."""
    if not rewrite and list(old) == list(new):
        cells: dict[str, dict[int, str | None]] = {c: {} for c in BASE_COLUMNS}
        for at, (uid, r) in enumerate(new.items(), start=2):
            o = old[uid]
            if (o.key, o.row, o.hash) != (r.key, r.row, r.hash):
                cells["record"][at] = pack(uid, r)
            if (o.data if o.pending else "") != (r.data if r.pending else ""):
                cells["data"][at] = r.data if r.pending else None
        return [ColumnWrite(BASE_SHEETS[entity], name, 1, values, col=BASE_COLUMNS.index(name) + 1)
                for name, values in cells.items() if values]
    return [base_sheet(entity, new)]
