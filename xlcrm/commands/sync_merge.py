"""One sync attempt's merge, inside the store transaction: for each entity that may have changed,
match the workbook's rows to the base, load from the store only what the merge needs, merge field by
field (`ops.sync`), and write the pushes, inserts, soft deletes, conflicts and change log.

Customers go first: their new IDs (a collision in the store) and departures (handed to another owner)
decide which follow-ups and purchases must be merged too. New rows no store record could be a twin of
are inserted column-wise (`BULK` rows a time), never made into one object each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..ops.sync import Local, Merge, Push, Stored, identity, match_rows, merge_records
from ..store import tables
from ..store.repository import Repository, fields_of, new_uid
from . import sync_base as sbase
from . import sync_book as sb
from .sync_base import ALL, CHILDREN, ENTITIES, Record
from .sync_book import BookSource

BULK = 50_000  # rows per column-wise insert (a COPY each on PostgreSQL)


@dataclass
class EntityOutcome:
    merge: Merge
    view: sb.LocalView  # every row of the sheet
    local: list[Local]  # the rows that were merged (changed on either side, new, decided, in conflict)
    base: dict[str, Record]  # the base as read (decisions applied)
    linked: dict[str, tuple[int, dict]] = field(default_factory=dict)  # uid → (row, fields) linked on insert

    @property
    def managed(self) -> list[str]:
        return self.view.managed


@dataclass
class Outcome:
    entities: dict[str, EntityOutcome] = field(default_factory=dict)  # the entities merged (others skipped)
    new_ids: dict[int, str] = field(default_factory=dict)  # customers row → customer ID given by the store
    renamed: dict[str, str] = field(default_factory=dict)  # old customer ID → new (collision in the store)
    duplicates: list[dict] = field(default_factory=list)
    out_of_scope: set[str] = field(default_factory=set)  # customer IDs now someone else's: leave this book
    logged: int = 0
    decided: int = 0


@dataclass
class Plan:
    """What one attempt works from: the recorded meta, the sheets to merge and the change number."""

    meta: dict[str, str]
    legacy: dict[str, dict[str, Record]] | None
    since: int | None  # the store change number of the last sync; None: full sync
    local_changed: set[str]  # entities whose sheet differs from the last xlcrm write


def store_moved(conn, entity: str, since: int, scope: str | None, meta: dict[str, str]) -> bool:
    """Has the store anything for this book's `entity` since the last sync (or an open conflict)?"""
    if meta.get(f"pending:{entity}", "0") != "0":
        return True
    t = tables.RECORDS[entity]
    q = select(t.c.uid).where(t.c.seq > since)
    if scope and scope != ALL:
        q = q.where(t.c.owner == scope)
        if entity == "customers":  # a customer handed from this owner to another leaves the book
            log = tables.change_log
            gone = select(log.c.uid).where(log.c.seq > since, log.c.entity == "customers", log.c.field == "owner",
                                           log.c.old == scope)
            if conn.execute(gone.limit(1)).first() is not None:
                return True
    return conn.execute(q.limit(1)).first() is not None


def merge_all(repo: Repository, source: BookSource, plan: Plan, decisions, scope: str,
               redact: set[str]) -> Outcome:
    """Merge each entity that may have changed (customers first: their new IDs and departures decide
    which follow-ups and purchases must be merged too); the others are left exactly as they are."""
    owner = None if scope == ALL else scope
    out = Outcome()
    by_entity = {e: [d for d in decisions if d["entity"] == e] for e in ENTITIES}
    for entity in ENTITIES:
        needed = (plan.since is None or entity in plan.local_changed or by_entity[entity]
                  or (entity in CHILDREN and (out.out_of_scope or out.renamed))
                  or store_moved(repo.conn, entity, plan.since, scope, plan.meta))
        if not needed:
            continue
        book = source.data({entity})
        base = _base(source, plan, entity)
        managed = sb.managed_fields(book, entity, fields_of(entity), redact)
        decided = {d["uid"] for d in by_entity[entity]}  # merged again whatever their hashes say
        if decided:
            now = repo.by_uid(entity, decided)
            _fill(repo, entity, base, now, plan)
            out.decided += sb.apply_decisions(base, by_entity[entity], {u: s.fields for u, s in now.items()})
        _ensure_hashes(base, managed)
        view = sb.local_view(book, entity, managed)
        ctx = Merging(repo, plan, owner, decided)
        if entity == "customers":
            out.entities[entity] = e = _merge_customers(ctx, view, base, out)
            if owner is not None:  # handed over to someone else: the customer leaves this salesperson's book
                out.out_of_scope = {f.get("customer_id") for f in e.merge.base.values()
                                    if f.get("owner") and f.get("owner") != owner and f.get("customer_id")}
        else:
            out.entities[entity] = _merge_children(ctx, entity, view, base, out)
    c = out.entities.get("customers")
    if c is not None:
        repo.ensure_owners({rec.fields.get("owner") for rec in c.local} | {owner})
    out.logged = repo.flush_log()
    return out


@dataclass
class Merging:
    """What every entity's merge shares in one attempt."""

    repo: Repository
    plan: Plan
    owner: str | None  # None: everyone's book
    force: set[str]  # uids merged whatever their hashes say (decided by the user)


def _fill(repo: Repository, entity: str, base: dict[str, Record], store: dict[str, Stored], plan: Plan) -> None:
    """Give the base records the merge will look at their fields: from the store, as of the last sync."""
    need = {u: s for u, s in store.items() if u in base and not base[u].known}
    if not need:
        return
    seq = int(plan.meta.get("seq") or 0)
    for uid, fields in repo.fields_as_of(entity, need, seq).items():
        base[uid].fill(fields)


def _base(source: BookSource, plan: Plan, entity: str) -> dict[str, Record]:
    if plan.legacy is not None:
        return dict(plan.legacy[entity])
    if plan.since is None and not plan.meta:
        return {}
    return sbase.read_base(source.sheet(sbase.BASE_SHEETS[entity]))


def _ensure_hashes(base: dict[str, Record], managed: list[str]) -> None:
    """Records without a hash but with their fields (from a book before hashes) get one."""
    missing = [u for u, r in base.items() if r.hash is None and r.known]
    for uid, h in zip(missing, sbase.hash_fields([base[u].fields() for u in missing], managed)):
        base[uid].hash = h


def _load(repo: Repository, entity: str, owner: str | None, since: int | None, base: dict[str, Record],
          also: set[str]) -> dict[str, Stored]:
    """The store rows this merge needs: the whole scope (full sync), else the scope's rows written since
    the last sync, the customers handed from this owner to another since, and the rows named in `also`
    (changed here, gone from the sheet, decided, or of a customer that left the book)."""
    if since is not None and owner is not None and entity == "customers":
        also = also | repo.handed_away(owner, since)
    return repo.load(entity, owner, also=also, since=since)


def _merge_set(view: sb.LocalView, base: dict[str, Record], store: dict[str, Stored],
               force: set[str], with_new: bool = True) -> tuple[list[Local], dict[str, dict]]:
    """The rows to merge — new (unless `with_new` is False: the caller inserts those in bulk), changed
    here, changed in the store, gone from the sheet, in conflict, forced — as Local rows with their
    base fields; every other row is as the base has it."""
    seen = set()
    picked, merge_base = [], {}
    for i, uid in enumerate(view.uids):
        if uid is not None:
            seen.add(uid)
        elif not with_new:
            continue
        if uid is None or uid in store or uid in force or base[uid].pending or base[uid].hash != view.hashes[i]:
            picked.append(i)
            if uid is not None:
                merge_base[uid] = base[uid].fields()
    columns = view.columns_at(picked)  # canonical text of every picked row at once
    local = [Local(view.rows[i], dict(zip(view.managed, values)), view.uids[i])
             for i, values in zip(picked, zip(*columns))]
    for uid, r in base.items():
        if uid not in seen or (uid in store and uid not in merge_base):
            merge_base[uid] = r.fields()
    return local, merge_base


def _dirty(view: sb.LocalView, base: dict[str, Record], force: set[str]) -> set[str]:
    """Base uids the store must be asked about: changed here, gone from the sheet, in conflict."""
    seen = {u for u in view.uids if u is not None}
    out = {u for u, h in zip(view.uids, view.hashes) if u is not None and (base[u].hash != h or base[u].pending)}
    out |= {u for u, r in base.items() if u not in seen or r.pending}
    return out | (force & set(base))


def _merge_customers(ctx: Merging, view: sb.LocalView, base: dict[str, Record], out: Outcome) -> EntityOutcome:
    repo, owner, managed = ctx.repo, ctx.owner, view.managed
    by_id = {r.key: uid for uid, r in base.items() if r.key}
    for i in range(len(view)):
        cid = view.key(i)
        view.uids[i] = by_id.pop(cid, None) if cid else None
    store = _load(repo, "customers", owner, ctx.plan.since, base, _dirty(view, base, ctx.force))
    _fill(repo, "customers", base, store, ctx.plan)
    local, merge_base = _merge_set(view, base, store, ctx.force)
    merge = merge_records(merge_base, local, store, managed)
    result = EntityOutcome(merge, view, local, base)
    # A new row whose ID the book's scope already has in the store (first sync of a book made from the
    # store, or a sync stopped after its commit): the same customer — linked, its differences pushed.
    pulled = {s.fields.get("customer_id"): s for s in merge.pulled_new if s.fields.get("customer_id")}
    inserts = []
    for rec in merge.inserts:
        s = pulled.pop(rec.fields.get("customer_id"), None) if rec.uid is None else None
        if s is None:
            inserts.append(rec)
            continue
        merge.pulled_new.remove(s)
        merge.base.pop(s.uid, None)
        changes = {f: rec.fields.get(f) for f in managed if (rec.fields.get(f) or None) != (s.fields.get(f) or None)}
        if changes:
            merge.pushes.append(Push(s.uid, s.version, changes, {f: s.fields.get(f) for f in changes}))
        rec.uid = s.uid
        result.linked[s.uid] = (rec.row, dict(rec.fields))
    merge.inserts = inserts
    if inserts:
        _insert_customers(repo, inserts, managed, owner, out)
    _push(repo, "customers", merge, store)
    repo.add_conflicts([{"kind": "duplicate", "entity": "customers", "uid": d["uid"], "customer_id": d["customer_id"],
                         "field": d["matched_on"], "local": d["owner"], "other_uid": d["other_uid"],
                         "other_owner": d["other_owner"], "store": d["other_customer_id"]} for d in out.duplicates])
    return result


def _insert_customers(repo: Repository, inserts: list[Local], managed: list[str], owner: str | None,
                      out: Outcome) -> None:
    """New customers: a store ID when theirs is missing or taken, the book's owner, a 撞单 check."""
    taken = set(repo.customer_ids())
    everyone = _identities(repo)
    need_id = []
    for rec in inserts:  # no ID, an ID the store has, or one this book uses twice: the store's next ID
        cid = rec.fields.get("customer_id")
        if rec.uid is None and (not cid or cid in taken):
            need_id.append(rec)
        elif cid:
            taken.add(cid)
    fresh = iter(repo.next_customer_ids(len(need_id), taken))
    for rec in need_id:
        old, new = rec.fields.get("customer_id"), next(fresh)
        if old and old not in out.renamed:  # (a second card with the same ID keeps its children with the first)
            out.renamed[old] = new
        out.new_ids[rec.row] = new
        rec.fields["customer_id"] = new
    rows = []
    for rec in inserts:
        rec.uid = rec.uid or new_uid()
        if not rec.fields.get("owner") and owner and "owner" in managed:
            rec.fields["owner"] = owner
        rows.append({"uid": rec.uid, **rec.fields, "owner": rec.fields.get("owner") or owner})
        for kind, value in identity(rec.fields):
            other = everyone.get((kind, value))
            if other and other[1] != rows[-1]["owner"]:
                out.duplicates.append({"uid": rec.uid, "row": rec.row, "customer_id": rec.fields.get("customer_id"),
                                       "owner": rows[-1]["owner"], "matched_on": kind, "other_uid": other[0],
                                       "other_owner": other[1], "other_customer_id": other[2]})
                break
    repo.insert("customers", rows)


def _identities(repo: Repository) -> dict[tuple[str, str], tuple[str, str | None, str | None]]:
    """(kind, value) → (uid, owner, customer ID) over the store's live customers, for 撞单."""
    t = tables.customers
    out = {}
    q = select(t.c.uid, t.c.owner, t.c.customer_id, t.c.mobile, t.c.email, t.c.company).where(t.c.deleted.is_(False))
    for uid, owner, cid, mobile, email, company in repo.conn.execute(q):
        for key in identity({"mobile": mobile, "email": email, "company": company}):
            out.setdefault(key, (uid, owner, cid))
    return out


def _merge_children(ctx: Merging, entity: str, view: sb.LocalView, base: dict[str, Record],
                    out: Outcome) -> EntityOutcome:
    repo, owner, managed, force = ctx.repo, ctx.owner, view.managed, ctx.force
    if out.renamed and "customer_id" in managed:  # rows of a customer the store gave a new ID: re-pointed
        for i, cid in enumerate(view.keys):
            if cid in out.renamed:
                view.keys[i] = out.renamed[cid]
                view.hashes[i] = ""  # changed: merged
    view.uids = match_rows({u: (r.row, r.hash, r.key) for u, r in base.items()},
                           [(row, h, view.key(i)) for i, (row, h) in enumerate(zip(view.rows, view.hashes))])
    if out.out_of_scope:  # rows of customers leaving the book: their base records are merged (and removed)
        force = force | {u for u in view.uids if u is not None and base[u].key in out.out_of_scope}
    store = _load(repo, entity, owner, ctx.plan.since, base, _dirty(view, base, force))
    _fill(repo, entity, base, store, ctx.plan)
    # New rows with no record new to this book in the store to be a twin of (a first import, most
    # syncs): inserted column-wise, without a Local object for each of perhaps a million rows.
    may_twin = any(u not in base and not s.deleted for u, s in store.items())
    bulk = [] if may_twin else [i for i, u in enumerate(view.uids) if u is None]
    local, merge_base = _merge_set(view, base, store, force, with_new=not bulk)
    merge = merge_records(merge_base, local, store, managed)
    result = EntityOutcome(merge, view, local, base)
    if bulk:
        merge.bulk_inserted = _insert_rows(repo, entity, view, bulk, owner)
    # Same content on both sides, new to both the book and its base: one record, linked not doubled.
    pending: dict[tuple, list[Stored]] = {}
    for s in merge.pulled_new:
        pending.setdefault(tuple(s.fields.get(f) or None for f in managed), []).append(s)
    inserts = []
    for rec in merge.inserts:
        twins = pending.get(tuple(rec.fields.get(f) or None for f in managed)) if rec.uid is None else None
        if twins:
            s = twins.pop(0)
            merge.pulled_new.remove(s)
            merge.base.pop(s.uid, None)
            rec.uid = s.uid
            result.linked[s.uid] = (rec.row, dict(rec.fields))
        else:
            inserts.append(rec)
    merge.inserts = inserts
    for rec in inserts:
        rec.uid = rec.uid or new_uid()
    owner_of = repo.owners_of({r.fields.get("customer_id") for r in inserts} - {None}) if inserts else {}
    repo.insert(entity, [{"uid": r.uid, **r.fields, "owner": owner_of.get(r.fields.get("customer_id"), owner)}
                         for r in inserts])
    _push(repo, entity, merge, store)
    return result


def _insert_rows(repo: Repository, entity: str, view: sb.LocalView, rows: list[int], owner: str | None) -> int:
    """Insert the sheet rows `rows` (view indexes) as new records, column-wise in big batches; each
    gets its uid in `view.uids` and belongs to its customer's owner."""
    owner_of = repo.owners_of({view.keys[i] for i in rows} - {None})
    done = 0
    for start in range(0, len(rows), BULK):
        chunk = rows[start:start + BULK]
        uids = [new_uid() for _ in chunk]
        for i, uid in zip(chunk, uids):
            view.uids[i] = uid
        fields = dict(zip(view.managed, view.columns_at(chunk)))
        done += repo.insert_columns(entity, uids, fields, [owner_of.get(view.keys[i], owner) for i in chunk])
    return done


def _push(repo: Repository, entity: str, merge: Merge, store: dict[str, Stored]) -> None:
    repo.update_many(entity, merge.pushes, {p.uid: store[p.uid].fields.get("customer_id") if p.uid in store else None
                                            for p in merge.pushes})
    for p in merge.deletes:
        repo.soft_delete(entity, p, store[p.uid].fields.get("customer_id"))
    repo.add_conflicts([{"entity": entity, "uid": c.uid, "customer_id": c.customer_id, "field": c.field,
                         "base": c.base, "local": c.local, "store": c.store} for c in merge.conflicts])
