"""`xlcrm sync BOOK [--store URL]`: push the workbook's changes to the team store, pull everyone else's.

One sync = read the book and its base snapshot → one store transaction (load what changed, merge
field by field, push with version checks, list conflicts, append the change log) → commit → write the
workbook once (pulled values, new rows, removed rows, the new base, the 冲突 / Conflicts sheet).

Incremental: the store hands out a change number per transaction and the book records the one it saw
(`sync_base`). A sync loads only store rows written since, finds the workbook's changed rows by their
fields hash, and merges just those; a sheet whose token (`workbook.stamp`) shows it is exactly as the
last xlcrm write left it, with nothing new in the store, is not even read. The first sync, a changed
scope or redaction, or a book from before change numbers takes the full path (the whole scope).

The store commits first. A sync stopped at any point leaves the store as it was or fully updated (one
transaction) and the workbook untouched or fully written (atomic save); the next sync then finds the
rows it had pushed already in the store and links them instead of adding them twice.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import Msg, XlcrmError
from ..model.book import empty_frame
from ..ops.sync import Local, Merge, Push, Stored, identity, match_rows, merge_records
from ..store import open_store, tables
from ..store.repository import Repository, StaleVersion, fields_of, new_uid
from ..workbook.book import CrmBook
from ..workbook.edits import DeleteRows, EditPlan, Stamp
from ..workbook.port import WorkbookPort
from . import sync_base as sbase
from . import sync_book as sb
from .base import CommandResult, Context, command
from .options import Options, option
from .sync_base import ENTITIES, Record

CHILDREN = ("followups", "purchases")
ALL = "*"
ATTEMPTS = 8
BULK = 50_000  # rows per column-wise insert (a COPY each on PostgreSQL)


@dataclass(frozen=True)
class SyncRun:
    """One sync as the code runs it (the command's options plus where the run came from)."""

    store: str | None = None  # the store URL (else XLCRM_STORE, the user's config, the default SQLite file)
    scope: str | None = None  # whose book: an owner's name, "*" for everyone; None: as recorded / inferred
    redact: tuple[str, ...] = ()  # customer fields kept out of this book (confidentiality)
    source: str = "cli"  # for the change log: button | cli | api | import


@dataclass(frozen=True)
class SyncOptions(Options):
    store: str | None = option(None, "团队库地址（默认：XLCRM_STORE、个人配置、本机 SQLite 文件）",
                               "Team store URL (default: XLCRM_STORE, your config, a local SQLite file)", metavar="URL")
    owner: str | None = option(None, "这本工作簿属于谁（* = 全部）；默认按上次同步或负责人列判断",
                               "Whose book this is (* = everyone); default: as last synced / from the owners",
                               metavar="NAME")
    redact: str | None = option(None, "不放进这本工作簿的客户字段，如 mobile,email",
                                "Customer fields kept out of this book, e.g. mobile,email", metavar="FIELDS")


def split_fields(value: str | None) -> tuple[str, ...]:
    return tuple(f.strip() for f in str(value or "").replace("，", ",").split(",") if f.strip())


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


def infer_scope(book: CrmBook) -> str:
    """A never-synced book with one owner is that owner's book; otherwise everyone's."""
    owners = {o for o in book.customers["owner"].dropna().astype(str).str.strip() if o}
    return owners.pop() if len(owners) == 1 else ALL


class BookSource:
    """The workbook's sheets for one sync, read when first needed and then kept (a retry after a
    version clash reads nothing again): data sheets by entity, base sheets, the Conflicts sheet."""

    def __init__(self, port: WorkbookPort):
        self.port = port
        self.book: CrmBook | None = None
        self.keys: set[str] = set()
        self._frames: dict[str, object] = {}

    def data(self, keys: set[str]) -> CrmBook:
        missing = set(keys) - self.keys
        if self.book is None or missing:
            wanted = tuple(k for k in ENTITIES if k in self.keys | set(keys))
            fresh = self.port.read(keys=wanted)
            fresh.raw = {}  # the text as typed is not synced (the typed values are): a big book's worth freed
            if self.book is not None:  # keep the frames already typed (the merge may hold them)
                for key in self.keys:
                    setattr(fresh, key, self.book.frame(key))
            self.book, self.keys = fresh, set(wanted)
        return self.book

    def release(self) -> None:
        """Drop the typed frames once merged (the plan needs only the sheets' layout): a big book's
        memory back before the writer renders."""
        for key in self.keys:
            setattr(self.book, key, empty_frame(key))

    def sheet(self, name: str):
        if name not in self._frames:
            self._frames[name] = self.port.read_sheet(name)
        return self._frames[name]


@dataclass
class Plan:
    """What one attempt works from: the recorded meta, the sheets to merge and the change number."""

    meta: dict[str, str]
    legacy: dict[str, dict[str, Record]] | None
    since: int | None  # the store change number of the last sync; None: full sync
    local_changed: set[str]  # entities whose sheet differs from the last xlcrm write


def sync(port: WorkbookPort, ctx: Context, opts: SyncRun) -> CommandResult:
    clock = [time.perf_counter()]
    source = BookSource(port)
    meta, legacy = sbase.read_meta(source.sheet(sbase.SYNC_SHEET))
    first = not meta
    redact = set(opts.redact) if opts.redact else {r for r in meta.get("redact", "").split(",") if r}
    scope = opts.scope or meta.get("scope")
    since = _since(meta, legacy, scope, redact)
    local_changed = _local_changes(port, meta) if since is not None else set(ENTITIES)
    engine = open_store(opts.store)
    if since is not None:  # read now (not while holding the store's lock) what will most likely be needed
        with engine.connect() as conn:
            quiet = {e for e in ENTITIES if e not in local_changed
                     and not _store_moved(conn, e, since, scope, meta)}
        book = source.data(set(ENTITIES) - quiet)
    else:
        book = source.data(set(ENTITIES))
    scope = scope or infer_scope(book)
    lang = ctx.lang or (book.lang if book.sheets else meta.get("lang") or book.lang)
    decisions = _decisions(source, book, lang)
    clock.append(time.perf_counter())
    ctx.stage("同步：团队库", "Sync: team store")
    plan = Plan(meta, legacy, since, local_changed)
    for attempt in range(ATTEMPTS):
        try:
            with engine.connect() as conn:
                trans = conn.begin()
                store_id = _store_id(conn)
                if meta.get("store_id") and meta["store_id"] != store_id:
                    raise XlcrmError(
                        "这个工作簿上次是与另一个团队库同步的（库标识 {was}，现在 {now}）。没有写入任何内容。",
                        "This workbook was last synced with another team store (id {was}, now {now}). Nothing "
                        "was written.", was=meta["store_id"], now=store_id)
                repo = Repository(conn, ctx.user, opts.source)
                seq = repo.seq  # taken first: whatever commits after this sync's reads gets a higher number
                outcome = _merge_all(repo, source, plan, decisions, scope, redact)
                if ctx.dry_run:
                    trans.rollback()
                else:
                    trans.commit()
            break
        except (StaleVersion, IntegrityError):
            if attempt == ATTEMPTS - 1:
                raise XlcrmError("团队库一直在被别人修改，{n} 次尝试后仍未同步。没有写入任何内容，请稍后再试。",
                                 "The team store kept changing under this sync; gave up after {n} tries. Nothing "
                                 "was written; try again shortly.", n=ATTEMPTS) from None
    clock.append(time.perf_counter())
    source.release()
    for e in outcome.entities.values():
        e.view.values = []
    book = source.book
    sheets = {e: (book.sheets[e].name if e in book.sheets else meta.get(f"sheet:{e}", "")) for e in ENTITIES}
    new_meta = {"scope": scope, "redact": ",".join(sorted(redact)), "store_id": store_id, "seq": str(seq),
                "lang": lang, **{f"sheet:{e}": n for e, n in sheets.items() if n},
                **{f"pending:{e}": str(n) for e in ENTITIES
                   if (n := _pending(outcome, e, meta))}}
    edits = _workbook_plan(book, outcome, new_meta, lang, legacy is not None)
    edits.stamp = Stamp(sbase.SYNC_SHEET, tuple(n for n in sheets.values() if n))
    result = _result(outcome, scope, first, edits, lang)
    # Nothing merged and nothing else to record: the book stays as it is (an older change number
    # only means the next sync asks the store about a few more rows).
    unchanged = not outcome.entities and legacy is None and \
        {k: v for k, v in new_meta.items() if k != "seq"} == \
        {k: v for k, v in meta.items() if k not in ("seq", sbase.STAMP_KEY)}
    if not ctx.dry_run and not unchanged:
        ctx.stage("写入工作簿", "Writing the workbook")
        port.apply(edits)
        result.written = True
    clock.append(time.perf_counter())
    result.data["seconds"] = {name: round(clock[i + 1] - clock[i], 3) for i, name in
                              enumerate(("read", "store", "workbook")) if i + 1 < len(clock)}
    result.data["merged"] = sorted(outcome.entities)
    return result


def _since(meta: dict[str, str], legacy, scope: str | None, redact: set[str]) -> int | None:
    """The change number to load from, or None for the full path (first sync, a book from before change
    numbers, another scope or redaction than last time)."""
    if not meta or legacy is not None or not meta.get("seq", "").isdigit():
        return None
    if scope != meta.get("scope") or ",".join(sorted(redact)) != meta.get("redact", ""):
        return None
    return int(meta["seq"])


def _local_changes(port: WorkbookPort, meta: dict[str, str]) -> set[str]:
    """Entities whose sheet is not exactly as the last sync wrote it (or is not known)."""
    recorded, now = sbase.tokens(meta), port.sheet_tokens()
    changed = set()
    for e in ENTITIES:
        name = meta.get(f"sheet:{e}")
        if not name or recorded.get(name) is None or recorded.get(name) != now.get(name):
            changed.add(e)
    return changed


def _store_moved(conn, entity: str, since: int, scope: str | None, meta: dict[str, str]) -> bool:
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


def _decisions(source: BookSource, book: CrmBook, lang: str) -> list[dict]:
    name = book.tool_sheets.get(sb.CONFLICTS_KEY)
    return sb.read_decisions(source.sheet(name), lang) if name else []


def _pending(out: Outcome, entity: str, meta: dict[str, str]) -> int:
    e = out.entities.get(entity)
    if e is None:  # not merged this time: as it was
        return int(meta.get(f"pending:{entity}", "0") or 0)
    return len({c.uid for c in e.merge.conflicts}) + len(e.merge.kept_deleted)


def _store_id(conn) -> str:
    t = tables.store_meta
    found = conn.execute(select(t.c.value).where(t.c.key == "store_id")).scalar()
    if found is None:
        found = new_uid()
        conn.execute(t.insert().values(key="store_id", value=found))
    return found


def _merge_all(repo: Repository, source: BookSource, plan: Plan, decisions, scope: str,
               redact: set[str]) -> Outcome:
    """Merge each entity that may have changed (customers first: their new IDs and departures decide
    which follow-ups and purchases must be merged too); the others are left exactly as they are."""
    owner = None if scope == ALL else scope
    out = Outcome()
    by_entity = {e: [d for d in decisions if d["entity"] == e] for e in ENTITIES}
    for entity in ENTITIES:
        needed = (plan.since is None or entity in plan.local_changed or by_entity[entity]
                  or (entity in CHILDREN and (out.out_of_scope or out.renamed))
                  or _store_moved(repo.conn, entity, plan.since, scope, plan.meta))
        if not needed:
            continue
        book = source.data({entity})
        base = _base(source, plan, entity)
        managed = sb.managed_fields(book, entity, fields_of(entity), redact)
        decided = {d["uid"] for d in by_entity[entity]}  # merged again whatever their hashes say
        if decided:
            now = repo.load(entity, owner, also=decided, since=2 ** 62)
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


def _as_fields(stored: dict[str, Stored]) -> dict[str, dict]:
    return {u: s.fields for u, s in stored.items()}


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
    twins = any(u not in base and not s.deleted for u, s in store.items())
    bulk = [] if twins else [i for i, u in enumerate(view.uids) if u is None]
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


def _workbook_plan(book: CrmBook, out: Outcome, meta: dict[str, str], lang: str, legacy: bool) -> EditPlan:
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


def _result(out: Outcome, scope: str, first: bool, plan: EditPlan, lang: str) -> CommandResult:
    counts: dict[str, int | float] = {}
    for entity in ENTITIES:  # an entity not merged this time (nothing new on either side) counts zeros
        e = out.entities.get(entity)
        counts.update((e.merge if e else Merge()).counts(f"{entity}_"))
        counts[f"{entity}_linked"] = len(e.linked) if e else 0
    pushed = sum(counts[f"{e}_pushed"] + counts[f"{e}_inserted"] + counts[f"{e}_deleted"] for e in ENTITIES)
    pulled = sum(counts[f"{e}_pulled"] + counts[f"{e}_pulled_new"] + counts[f"{e}_pulled_deleted"] for e in ENTITIES)
    conflicts = sum(counts[f"{e}_conflicts"] for e in ENTITIES)
    counts.update(pushed=pushed, pulled=pulled, conflicts=conflicts, duplicates=len(out.duplicates),
                  new_ids=len(out.new_ids), logged=out.logged, decided=out.decided, left_book=len(out.out_of_scope))
    who = "全部负责人" if scope == ALL else scope
    who_en = "every owner" if scope == ALL else scope
    msg = Msg(
        ("首次同步（导入）" if first else "已同步") + f"（{who}）：推送 {pushed} 处，拉取 {pulled} 处，冲突 {conflicts} 处，"
        f"撞单 {len(out.duplicates)} 位。" + ("冲突和撞单列在“冲突”工作表，请在“决定”列选择后再同步。" if conflicts or out.duplicates else ""),
        ("First sync (import)" if first else "Synced") + f" ({who_en}): {pushed} changes pushed, {pulled} pulled, "
        f"{conflicts} conflicts, {len(out.duplicates)} duplicates of other owners' customers."
        + (" Conflicts and duplicates are on the Conflicts sheet: choose in Decision, then sync again."
           if conflicts or out.duplicates else ""))
    return CommandResult("sync", msg, counts, data={"scope": scope, "duplicates": out.duplicates,
                                                   "renamed": out.renamed})


@command("sync", "同步", "Sync", "与团队库同步：推送本工作簿的修改，拉取同事的修改，两边都改的列为冲突",
         "Sync with the team store: push this workbook's changes, pull others', list conflicts", options=SyncOptions)
def sync_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    opts = ctx.opts(SyncOptions)
    return sync(port, ctx, SyncRun(opts.store, opts.owner, split_fields(opts.redact), ctx.via))
