"""The base snapshot of a synced workbook — what the book and the store agreed on at the last sync.

Kept in the workbook itself, in very-hidden sheets xlcrm owns by name:

- `_xlcrm_sync`: meta rows (scope, redaction, the store's id, the store's change number at the last
  sync, which sheet holds which entity, open conflicts) and the sheet tokens (`workbook.stamp`);
- `_xlcrm_sync_customers`, `_xlcrm_sync_followups`, `_xlcrm_sync_purchases`: one row per record —
  uid, customer ID, sheet row, a 128-bit hash of the record's fields, the fields as JSON, and a flag
  for a record with an open conflict.

The hash lets a sync find the rows that changed without parsing a million JSON texts; the change
number and the tokens let it skip a sheet neither side touched. Books synced before this layout
kept every entity's rows in `_xlcrm_sync` (no hash): they are read as before and moved on the next
write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from ..workbook.edits import Block, SheetReplace
from ..workbook.stamp import MARKER, parse

ENTITIES = ("customers", "followups", "purchases")
SYNC_SHEET = "_xlcrm_sync"  # very hidden; internal sheets are xlcrm's by name (ownership.INTERNAL_PREFIX)
BASE_SHEETS = {e: f"{SYNC_SHEET}_{e}" for e in ENTITIES}
META_COLUMNS = ["entity", "uid", "key", "row", "data"]  # the layout of `_xlcrm_sync` (old books: with records)
BASE_COLUMNS = ["uid", "key", "row", "hash", "data", "pending"]
STAMP_KEY = "stamp"
HASH_KEYS = ("xlcrm-sync-hash1", "xlcrm-sync-hash2")  # two 64-bit hashes: 128 bits per record


@dataclass(slots=True)
class Record:
    """One record of the base: its sheet row, customer ID, fields hash and fields (JSON, parsed lazily)."""

    row: int
    key: str | None
    hash: str | None  # None: not known yet (a book from before hashes)
    data: str
    pending: bool = False  # an open conflict: merged again at every sync until decided
    _fields: dict | None = None

    def fields(self) -> dict:
        if self._fields is None:
            self._fields = json.loads(self.data or "{}")
        return self._fields


def record(row: int, fields: dict, hash_: str | None = None, pending: bool = False) -> Record:
    data = json.dumps({k: v for k, v in fields.items() if v is not None}, ensure_ascii=False, separators=(",", ":"))
    return Record(row, fields.get("customer_id"), hash_, data, pending, dict(fields))


def hash_rows(columns: list[list[str | None]]) -> list[str]:
    """A hash per row of canonical field texts (columns in the managed fields' order), vectorised."""
    if not columns or not columns[0]:
        return []
    frame = pd.DataFrame({i: pd.Series(c, dtype=object) for i, c in enumerate(columns)})
    a, b = (pd.util.hash_pandas_object(frame, index=False, hash_key=k).to_numpy().tolist() for k in HASH_KEYS)
    return [f"{x:016x}{y:016x}" for x, y in zip(a, b)]


def hash_fields(records: list[dict], managed: list[str]) -> list[str]:
    return hash_rows([[r.get(f) or None for r in records] for f in managed])


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


def read_base(frame: pd.DataFrame | None) -> dict[str, Record]:
    if frame is None or frame.empty or "uid" not in frame.columns:
        return {}
    out = {}
    for uid, key, row, hash_, data, pending in frame[BASE_COLUMNS].itertuples(index=False):
        if uid:
            out[str(uid)] = Record(int(float(row or 0)), key or None, hash_ or None, data or "{}", pending == "1")
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
    df = pd.DataFrame({"uid": list(records), "key": [r.key or "" for r in records.values()],
                       "row": [str(r.row) for r in records.values()], "hash": [r.hash or "" for r in records.values()],
                       "data": [r.data for r in records.values()],
                       "pending": ["1" if r.pending else "" for r in records.values()]}, columns=BASE_COLUMNS)
    return SheetReplace(BASE_SHEETS[entity], [Block(df)], hidden="veryHidden", freeze_header=False)
