"""Reads and writes of the store's rows, inside one transaction the caller holds.

Every write carries the transaction's change sequence number (`seq`, one per transaction, handed out
under the store_meta row lock, so numbers follow commit order): a sync asks only for rows written
after its book's last sync. Every update is optimistic: `UPDATE … WHERE uid = :uid AND version = :seen`, and a row someone else
changed meanwhile raises `StaleVersion` (the caller rolls back, re-reads and merges again). Every
change lands in the append-only change log with who, when and the source (button/cli/import/sync).
New rows go column-wise: on PostgreSQL a CSV `COPY … FROM STDIN` made by Arrow, executemany elsewhere.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable

from sqlalchemy import and_, bindparam, func, select, text, update
from sqlalchemy.engine import Connection

from ..ops.sync import Push, Stored
from . import tables

BATCH = 5000


class StaleVersion(Exception):
    """A row changed in the store after it was read: merge again."""


def new_uid() -> str:
    """128 random bits as 32 hex digits (a uuid4's randomness; os.urandom is 10× faster to make)."""
    return os.urandom(16).hex()


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def fields_of(entity: str) -> list[str]:
    """The fields a workbook row maps to; for customers the owner is one of them."""
    keys = tables.field_keys(entity)
    return [*keys, "owner"] if entity == "customers" else keys


class Repository:
    def __init__(self, conn: Connection, who: str, source: str):
        self.conn, self.who, self.source = conn, who or "?", source
        self.log_rows: list[dict] = []
        self.logged = 0  # change-log rows written by this transaction
        self._seq: int | None = None

    # -- change sequence -------------------------------------------------------------------------
    @property
    def seq(self) -> int:
        """This transaction's change number; the first call takes it (and the counter's row lock,
        held to commit: a later transaction gets a higher number and commits after this one)."""
        if self._seq is None:
            self.conn.execute(text("UPDATE store_meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) "
                                   "WHERE key = :k"), {"k": tables.SEQ_KEY})
            found = self.conn.execute(select(tables.store_meta.c.value)
                                      .where(tables.store_meta.c.key == tables.SEQ_KEY)).scalar()
            if found is None:  # a store made before the counter existed
                self.conn.execute(tables.store_meta.insert().values(key=tables.SEQ_KEY, value="1"))
                found = "1"
            self._seq = int(found)
        return self._seq

    # -- reading ---------------------------------------------------------------------------------
    def load(self, entity: str, owner: str | None, also: Iterable[str] = (), *,
             since: int | None = None) -> dict[str, Stored]:
        """Rows of `entity` in a book's scope (one owner's, or all with owner None), plus the rows named
        in `also` (the book's base records, wherever they went: reassigned, deleted). `since`: only
        rows written after that change number."""
        table = tables.RECORDS[entity]
        keys = fields_of(entity)
        cols = [table.c.uid, table.c.version, table.c.owner, table.c.deleted, *[table.c[k] for k in keys]]
        out: dict[str, Stored] = {}
        query = select(*cols)
        if since is not None:
            query = query.where(table.c.seq > since)
        if owner is not None:
            query = query.where(table.c.owner == owner)
        for row in self.conn.execute(query):
            out[row[0]] = Stored(row[0], row[1], dict(zip(keys, row[4:])), row[2], bool(row[3]))
        out.update(self.by_uid(entity, [u for u in also if u not in out]))
        return out

    def fields_as_of(self, entity: str, current: dict[str, Stored], seq: int) -> dict[str, dict]:
        """Each row's fields as they were at change number `seq`: its fields now, with every change
        logged after `seq` undone (the earliest such change's old value). The change log holds every
        field change with its old value, so this is exact."""
        keys = set(fields_of(entity))
        out = {u: dict(s.fields) for u, s in current.items()}
        log = tables.change_log
        uids = list(out)
        for i in range(0, len(uids), BATCH):
            q = (select(log.c.uid, log.c.field, log.c.old)
                 .where(log.c.seq > seq, log.c.entity == entity, log.c.uid.in_(uids[i:i + BATCH]))
                 .order_by(log.c.id.desc()))
            for uid, name, old in self.conn.execute(q):  # newest first: the earliest change is applied last
                if name in keys:
                    out[uid][name] = old
        return out

    def by_uid(self, entity: str, uids: Iterable[str]) -> dict[str, Stored]:
        """The rows with these uids, whoever owns them, deleted or not."""
        table = tables.RECORDS[entity]
        keys = fields_of(entity)
        cols = [table.c.uid, table.c.version, table.c.owner, table.c.deleted, *[table.c[k] for k in keys]]
        wanted, out = list(uids), {}
        for i in range(0, len(wanted), BATCH):
            for row in self.conn.execute(select(*cols).where(table.c.uid.in_(wanted[i:i + BATCH]))):
                out[row[0]] = Stored(row[0], row[1], dict(zip(keys, row[4:])), row[2], bool(row[3]))
        return out

    def handed_away(self, owner: str, since: int) -> set[str]:
        """Customers whose owner changed from `owner` to someone else after change number `since`."""
        log = tables.change_log
        q = select(log.c.uid).where(log.c.seq > since, log.c.entity == "customers", log.c.field == "owner",
                                    log.c.old == owner)
        return {r[0] for r in self.conn.execute(q)}

    def customer_ids(self) -> dict[str, tuple[str, str | None]]:
        """customer_id → (uid, owner) of every customer in the store (deleted ones keep their ID)."""
        t = tables.customers
        return {r[0]: (r[1], r[2]) for r in self.conn.execute(select(t.c.customer_id, t.c.uid, t.c.owner))
                if r[0] is not None}

    def owners_of(self, customer_ids: Iterable[str]) -> dict[str, str | None]:
        """customer_id → owner for the given IDs (their follow-ups and purchases are the owner's too)."""
        t = tables.customers
        ids = list(customer_ids)
        out = {}
        for i in range(0, len(ids), BATCH):
            out.update(self.conn.execute(select(t.c.customer_id, t.c.owner).where(t.c.customer_id.in_(ids[i:i + BATCH]))).all())
        return out

    def next_customer_ids(self, n: int, taken: set[str], prefix: str = "C", width: int = 6) -> list[str]:
        """`n` fresh IDs in the store's numbering (C000123…), above every ID in use."""
        pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
        top = max((int(m.group(1)) for cid in taken if (m := pattern.match(cid))), default=0)
        return [f"{prefix}{top + i:0{width}d}" for i in range(1, n + 1)]

    # -- writing ---------------------------------------------------------------------------------
    def insert(self, entity: str, rows: list[dict]) -> int:
        """Insert new records (each a dict of fields + uid, owner), logged as created."""
        if not rows:
            return 0
        fields = {k: [r.get(k) for r in rows] for k in fields_of(entity) if k != "owner"}
        return self.insert_columns(entity, [r["uid"] for r in rows], fields, [r.get("owner") for r in rows])

    def insert_columns(self, entity: str, uids: list[str], fields: dict[str, list], owners: list) -> int:
        """`insert` for many rows given column-wise (a first import's follow-ups): on PostgreSQL one CSV
        `COPY` per call, the CSV made by Arrow (no Python per row); elsewhere executemany."""
        n = len(uids)
        if not n:
            return 0
        stamp, seq = now().isoformat(), self.seq
        blank = [None] * n
        self._insert_columns(tables.RECORDS[entity], {
            "uid": uids, "version": [1] * n, "updated_at": [stamp] * n, "updated_by": [self.who] * n,
            "owner": owners, "deleted": [False] * n, "seq": [seq] * n,
            **{k: fields.get(k, blank) for k in fields_of(entity) if k != "owner"}})
        cids = fields.get("customer_id", blank)
        self._insert_columns(tables.change_log, {
            "entity": [entity] * n, "uid": uids, "customer_id": cids, "field": ["(created)"] * n, "old": blank,
            "new": cids, "who": [self.who] * n, "at": [stamp] * n, "source": [self.source] * n, "seq": [seq] * n})
        self.logged += n
        return n

    def _insert_columns(self, table, columns: dict[str, list]) -> None:
        if self.conn.dialect.name != "postgresql":
            names = list(columns)
            rows = (dict(zip(names, values)) for values in zip(*columns.values()))
            if table is tables.change_log or "updated_at" in columns:  # SQLite wants datetimes, not ISO text
                rows = (_with_datetimes(r) for r in rows)
            for chunk in _batches(rows, BATCH):
                self.conn.execute(table.insert(), chunk)
            return
        import io

        import pyarrow as pa
        import pyarrow.csv as pacsv

        data = pa.table({name: pa.array(values) for name, values in columns.items()})
        buf = io.BytesIO()
        pacsv.write_csv(data, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
        quoted = ", ".join(f'"{c}"' for c in columns)
        raw = self.conn.connection.driver_connection
        # CSV: an unquoted empty field is NULL, a quoted one "" an empty text (Arrow quotes every text).
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({quoted}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buf.getvalue())

    def update(self, entity: str, push: Push, customer_id: str | None = None) -> None:
        table = tables.RECORDS[entity]
        values = {"version": table.c.version + 1, "updated_at": now(), "updated_by": self.who, "seq": self.seq,
                  **push.changes}
        result = self.conn.execute(update(table).where(and_(table.c.uid == push.uid, table.c.version == push.version))
                                   .values(**values))
        if result.rowcount != 1:
            raise StaleVersion(push.uid)
        if entity == "customers" and "owner" in push.changes and customer_id:  # a handover typed in a book
            cid = push.changes.get("customer_id") or customer_id
            for child in (tables.followups, tables.purchases):
                self.conn.execute(update(child).where(child.c.customer_id == cid).values(
                    owner=push.changes["owner"], version=child.c.version + 1, updated_at=now(), updated_by=self.who,
                    seq=self.seq))
        self.log_rows.extend({"entity": entity, "uid": push.uid, "customer_id": customer_id, "field": f,
                              "old": push.old.get(f), "new": v} for f, v in push.changes.items())

    def update_many(self, entity: str, pushes: list[Push], customer_ids: dict[str, str | None]) -> None:
        """`update` for many rows: one batched statement per set of changed fields (a customer's owner
        change, which also moves its follow-ups and purchases, goes one by one)."""
        table = tables.RECORDS[entity]
        if not self.conn.dialect.supports_sane_multi_rowcount:
            for p in pushes:
                self.update(entity, p, customer_ids.get(p.uid))
            return
        groups: dict[tuple[str, ...], list[Push]] = {}
        for p in pushes:
            if entity == "customers" and "owner" in p.changes:
                self.update(entity, p, customer_ids.get(p.uid))
            else:
                groups.setdefault(tuple(sorted(p.changes)), []).append(p)
        stamp = now()
        for names, group in groups.items():
            stmt = (update(table).where(and_(table.c.uid == bindparam("_uid"), table.c.version == bindparam("_seen")))
                    .values(version=table.c.version + 1, updated_at=stamp, updated_by=self.who, seq=self.seq,
                            **{n: bindparam(f"_v_{n}") for n in names}))
            for i in range(0, len(group), BATCH):
                chunk = group[i:i + BATCH]
                result = self.conn.execute(stmt, [{"_uid": p.uid, "_seen": p.version,
                                                   **{f"_v_{n}": p.changes[n] for n in names}} for p in chunk])
                if result.rowcount != len(chunk):
                    raise StaleVersion(entity)
            self.log_rows.extend({"entity": entity, "uid": p.uid, "customer_id": customer_ids.get(p.uid), "field": f,
                                  "old": p.old.get(f), "new": v} for p in group for f, v in p.changes.items())

    def soft_delete(self, entity: str, push: Push, customer_id: str | None = None) -> None:
        table = tables.RECORDS[entity]
        result = self.conn.execute(update(table).where(and_(table.c.uid == push.uid, table.c.version == push.version))
                                   .values(version=table.c.version + 1, updated_at=now(), updated_by=self.who,
                                           deleted=True, seq=self.seq))
        if result.rowcount != 1:
            raise StaleVersion(push.uid)
        self.log_rows.append({"entity": entity, "uid": push.uid, "customer_id": customer_id, "field": "(deleted)",
                              "old": None, "new": None})

    def set_owner(self, uids: list[str], new_owner: str | None) -> int:
        """Hand customers (and their follow-ups and purchases) to `new_owner`; logged per customer."""
        t = tables.customers
        changed = 0
        for i in range(0, len(uids), BATCH):
            chunk = uids[i:i + BATCH]
            rows = self.conn.execute(select(t.c.uid, t.c.owner, t.c.customer_id).where(t.c.uid.in_(chunk))).all()
            moved = [r for r in rows if r[1] != new_owner]
            if not moved:
                continue
            ids = [r[0] for r in moved]
            self.conn.execute(update(t).where(t.c.uid.in_(ids)).values(
                owner=new_owner, version=t.c.version + 1, updated_at=now(), updated_by=self.who, seq=self.seq))
            cids = [r[2] for r in moved if r[2] is not None]
            for child in (tables.followups, tables.purchases):
                for j in range(0, len(cids), BATCH):
                    self.conn.execute(update(child).where(child.c.customer_id.in_(cids[j:j + BATCH]))
                                      .values(owner=new_owner, version=child.c.version + 1, updated_at=now(),
                                              updated_by=self.who, seq=self.seq))
            self.log_rows.extend({"entity": "customers", "uid": r[0], "customer_id": r[2], "field": "owner",
                                  "old": r[1], "new": new_owner} for r in moved)
            changed += len(moved)
        return changed

    def add_conflicts(self, rows: list[dict]) -> None:
        if rows:
            stamp = now()
            self.conn.execute(tables.conflicts.insert(), [
                {"kind": "conflict", "field": None, "base": None, "local": None, "store": None, "other_uid": None,
                 "other_owner": None, "customer_id": None, **r, "who": self.who, "at": stamp, "resolved": False}
                for r in rows])

    def ensure_owners(self, names: Iterable[str]) -> None:
        t = tables.owners
        have = {r[0] for r in self.conn.execute(select(t.c.name))}
        new = sorted({n for n in names if n and n not in have})
        if new:
            self.conn.execute(t.insert(), [{"name": n, "role": "sales", "active": True, "created_at": now()}
                                           for n in new])

    def flush_log(self) -> int:
        """Write the collected change-log rows (append-only); returns how many this transaction wrote."""
        rows, self.log_rows = self.log_rows, []
        if rows:
            stamp, n = now().isoformat(), len(rows)
            self._insert_columns(tables.change_log, {
                **{k: [r[k] for r in rows] for k in ("entity", "uid", "customer_id", "field")},
                "old": [_text(r["old"]) for r in rows], "new": [_text(r["new"]) for r in rows],
                "who": [self.who] * n, "at": [stamp] * n, "source": [self.source] * n, "seq": [self.seq] * n})
            self.logged += n
        return self.logged

    # -- reports ---------------------------------------------------------------------------------
    def history(self, customer_id: str | None = None, field: str | None = None) -> list[dict]:
        t = tables.change_log
        q = select(t).order_by(t.c.id)
        if customer_id:
            q = q.where(t.c.customer_id == customer_id)
        if field:
            q = q.where(t.c.field == field)
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def count(self, entity: str) -> int:
        t = tables.RECORDS[entity]
        return self.conn.execute(select(func.count()).select_from(t).where(t.c.deleted.is_(False))).scalar_one()


def _batches(rows: Iterable[dict], size: int):
    batch = []
    for r in rows:
        batch.append(r)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _with_datetimes(row: dict) -> dict:
    for key in ("updated_at", "at"):
        if isinstance(row.get(key), str):
            row[key] = dt.datetime.fromisoformat(row[key])
    return row


def _text(value: object) -> str | None:
    return None if value is None else str(value)
