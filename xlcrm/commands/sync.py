"""`xlcrm sync BOOK [--store URL]`: push the workbook's changes to the team store, pull everyone else's.

One sync = read the book and its base snapshot → one store transaction (load the book's scope, merge
field by field, push with version checks, list conflicts, append the change log) → commit → write the
workbook once (pulled values, new rows, removed rows, the new base, the 冲突 / Conflicts sheet).

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
from ..ops.sync import Local, Merge, Push, Stored, identity, match_rows, merge_records
from ..store import open_store, tables
from ..store.repository import Repository, StaleVersion, fields_of, new_uid
from ..workbook.book import CrmBook
from ..workbook.edits import DeleteRows, EditPlan
from ..workbook.port import WorkbookPort
from . import sync_book as sb
from .base import CommandResult, Context, command
from .options import Options, option

ENTITIES = ("customers", "followups", "purchases")
CHILDREN = ("followups", "purchases")
ALL = "*"
ATTEMPTS = 8


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
    local: list[Local]
    managed: list[str]
    linked: dict[str, tuple[int, dict]] = field(default_factory=dict)  # uid → (row, fields) linked on insert


@dataclass
class Outcome:
    entities: dict[str, EntityOutcome] = field(default_factory=dict)
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


def sync(port: WorkbookPort, ctx: Context, opts: SyncRun) -> CommandResult:
    clock = [time.perf_counter()]
    book = port.read()
    lang = ctx.language(book)
    state = port.read_sheet(sb.SYNC_SHEET)  # read once; a retry parses it again (the merge mutates `base`)
    meta, base = sb.read_state(state)
    decisions = []
    if sb.CONFLICTS_KEY in book.tool_sheets:
        decisions = sb.read_decisions(port.read_sheet(book.tool_sheets[sb.CONFLICTS_KEY]), lang)
    first = not meta
    scope = opts.scope or meta.get("scope") or infer_scope(book)
    redact = set(opts.redact) if opts.redact else {r for r in meta.get("redact", "").split(",") if r}
    engine = open_store(opts.store)
    clock.append(time.perf_counter())
    ctx.stage("同步：团队库", "Sync: team store")
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
                outcome = _merge_all(repo, book, base, decisions, scope, redact)
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
            meta, base = sb.read_state(state)  # a fresh base: the failed attempt mutated it
    clock.append(time.perf_counter())
    new_meta = {"scope": scope, "redact": ",".join(sorted(redact)), "store_id": store_id}
    plan = _workbook_plan(book, outcome, new_meta, lang)
    result = _result(outcome, scope, first, plan, lang)
    if plan and not ctx.dry_run:
        ctx.stage("写入工作簿", "Writing the workbook")
        port.apply(plan)
        result.written = True
    clock.append(time.perf_counter())
    result.data["seconds"] = {name: round(clock[i + 1] - clock[i], 3) for i, name in
                              enumerate(("read", "store", "workbook")) if i + 1 < len(clock)}
    return result


def _store_id(conn) -> str:
    t = tables.store_meta
    found = conn.execute(select(t.c.value).where(t.c.key == "store_id")).scalar()
    if found is None:
        found = new_uid()
        conn.execute(t.insert().values(key="store_id", value=found))
    return found


def _merge_all(repo: Repository, book: CrmBook, base, decisions, scope: str, redact: set[str]) -> Outcome:
    owner = None if scope == ALL else scope
    out = Outcome()
    store: dict[str, dict[str, Stored]] = {}
    for entity in ENTITIES:
        store[entity] = repo.load(entity, owner, also=base[entity].keys())
    out.decided = sb.apply_decisions(base, decisions, {e: {u: s.fields for u, s in store[e].items()} for e in store})
    out.entities["customers"] = _merge_customers(repo, book, base["customers"], store["customers"], scope, redact, out)
    owner_of = {}
    for s in store["customers"].values():
        owner_of[s.fields.get("customer_id")] = s.owner
    for rec in out.entities["customers"].local:
        owner_of[rec.fields.get("customer_id")] = rec.fields.get("owner") or owner
    for entity in CHILDREN:
        out.entities[entity] = _merge_children(repo, book, entity, base[entity], store[entity], redact, out, owner_of)
    repo.ensure_owners({o for o in owner_of.values() if o})
    out.logged = repo.flush_log()
    if owner is not None:  # handed over to someone else: the customer leaves this salesperson's book
        c = out.entities["customers"]
        out.out_of_scope = {f.get("customer_id") for f in c.merge.base.values()
                            if f.get("owner") and f.get("owner") != owner and f.get("customer_id")}
    return out


def _merge_customers(repo, book, base, store, scope, redact, out: Outcome) -> EntityOutcome:
    managed = sb.managed_fields(book, "customers", fields_of("customers"), redact)
    local = sb.local_rows(book, "customers", managed)
    by_id = {f.get("customer_id"): uid for uid, (_row, f) in base.items() if f.get("customer_id")}
    for rec in local:
        uid = by_id.pop(rec.fields.get("customer_id"), None) if rec.fields.get("customer_id") else None
        rec.uid = uid
    merge = merge_records({u: f for u, (_r, f) in base.items()}, local, store, managed)
    result = EntityOutcome(merge, local, managed)
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
    ids = repo.customer_ids()
    everyone = _identities(repo)
    owner = None if scope == ALL else scope
    taken = set(ids)
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
    _push(repo, "customers", merge, store)
    repo.add_conflicts([{"kind": "duplicate", "entity": "customers", "uid": d["uid"], "customer_id": d["customer_id"],
                         "field": d["matched_on"], "local": d["owner"], "other_uid": d["other_uid"],
                         "other_owner": d["other_owner"], "store": d["other_customer_id"]} for d in out.duplicates])
    return result


def _identities(repo: Repository) -> dict[tuple[str, str], tuple[str, str | None, str | None]]:
    """(kind, value) → (uid, owner, customer ID) over the store's live customers, for 撞单."""
    t = tables.customers
    out = {}
    q = select(t.c.uid, t.c.owner, t.c.customer_id, t.c.mobile, t.c.email, t.c.company).where(t.c.deleted.is_(False))
    for uid, owner, cid, mobile, email, company in repo.conn.execute(q):
        for key in identity({"mobile": mobile, "email": email, "company": company}):
            out.setdefault(key, (uid, owner, cid))
    return out


def _merge_children(repo, book, entity, base, store, redact, out: Outcome, owner_of) -> EntityOutcome:
    managed = sb.managed_fields(book, entity, fields_of(entity), redact)
    local = sb.local_rows(book, entity, managed)
    for rec in local:
        if rec.fields.get("customer_id") in out.renamed:
            rec.fields["customer_id"] = out.renamed[rec.fields["customer_id"]]
    match_rows(base, local, managed)
    merge = merge_records({u: f for u, (_r, f) in base.items()}, local, store, managed)
    result = EntityOutcome(merge, local, managed)
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
    repo.insert(entity, [{"uid": r.uid, **r.fields, "owner": owner_of.get(r.fields.get("customer_id"))}
                         for r in inserts])
    _push(repo, entity, merge, store)
    return result


def _push(repo: Repository, entity: str, merge: Merge, store: dict[str, Stored]) -> None:
    for p in merge.pushes:
        repo.update(entity, p, store[p.uid].fields.get("customer_id") if p.uid in store else None)
    for p in merge.deletes:
        repo.soft_delete(entity, p, store[p.uid].fields.get("customer_id"))
    repo.add_conflicts([{"entity": entity, "uid": c.uid, "customer_id": c.customer_id, "field": c.field,
                         "base": c.base, "local": c.local, "store": c.store} for c in merge.conflicts])


def _workbook_plan(book: CrmBook, out: Outcome, meta: dict[str, str], lang: str) -> EditPlan:
    plan = EditPlan(operation="sync")
    new_base: dict[str, dict[str, tuple[int, dict]]] = {}
    conflicts = []
    for entity in ENTITIES:
        e = out.entities[entity]
        m = e.merge
        cells: dict[str, dict[int, str | None]] = {}
        for p in m.pulls:
            for f, v in p.changes.items():
                cells.setdefault(f, {})[p.row] = v
        if entity == "customers":
            for row, cid in out.new_ids.items():
                cells.setdefault("customer_id", {})[row] = cid
        elif out.renamed:
            for rec in e.local:
                if rec.fields.get("customer_id") in out.renamed.values():
                    cells.setdefault("customer_id", {})[rec.row] = rec.fields["customer_id"]
        if entity in book.sheets:
            plan.edits.extend(sb.column_writes(book, entity, cells, lang))
        gone = {uid for uid, _row in m.pulled_deletes}
        leaving = {r.uid for r in e.local if r.fields.get("customer_id") in out.out_of_scope}
        removed = sorted({r.row for r in e.local if r.uid in gone | leaving})
        if removed:
            plan.add(DeleteRows(book.sheets[entity].name, removed))
        kept: dict[str, tuple[int, dict]] = {}
        for rec in e.local:
            if rec.uid is None or rec.uid in gone or rec.uid in leaving:
                continue
            fields = m.base.get(rec.uid) or e.linked.get(rec.uid, (0, rec.fields))[1]
            kept[rec.uid] = (rec.row - bisect.bisect_left(removed, rec.row), dict(fields))
        for uid, fields in m.kept_deleted.items():
            kept[uid] = (0, fields)
        arriving = [s for s in m.pulled_new if s.fields.get("customer_id") not in out.out_of_scope]
        info = book.sheets.get(entity)
        first = (info.last_row if info else 1) - len(removed) + 1
        plan.edits.extend(sb.append_rows(book, entity, [s.fields for s in arriving], e.managed, lang, first))
        for i, s in enumerate(arriving):
            kept[s.uid] = (first + i, {f: s.fields.get(f) for f in e.managed})
        new_base[entity] = kept
        conflicts += [(entity, c) for c in m.conflicts]
    plan.add(sb.state_sheet(meta, new_base))
    if conflicts or out.duplicates or sb.CONFLICTS_KEY in book.tool_sheets:
        plan.add(sb.conflicts_sheet(book, conflicts, out.duplicates, lang))
    return plan


def _result(out: Outcome, scope: str, first: bool, plan: EditPlan, lang: str) -> CommandResult:
    counts: dict[str, int | float] = {}
    for entity, e in out.entities.items():
        counts.update(e.merge.counts(f"{entity}_"))
        counts[f"{entity}_linked"] = len(e.linked)
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
