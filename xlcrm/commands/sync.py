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

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import Msg, XlcrmError
from ..ops.sync import Merge
from ..workbook.book import CrmBook
from ..workbook.edits import EditPlan, Stamp
from ..workbook.port import WorkbookPort
from . import sync_base as sbase
from . import sync_book as sb
from .base import CommandResult, Context, command
from .options import Options, option
from .sync_base import ALL, ENTITIES
from .sync_book import BookSource

if TYPE_CHECKING:
    from .sync_merge import Outcome

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


def infer_scope(book: CrmBook) -> str:
    """A never-synced book with one owner is that owner's book; otherwise everyone's."""
    owners = {o for o in book.customers["owner"].dropna().astype(str).str.strip() if o}
    return owners.pop() if len(owners) == 1 else ALL


def sync(port: WorkbookPort, ctx: Context, opts: SyncRun) -> CommandResult:
    # The store's modules (SQLAlchemy) load when a sync runs, not with the CLI: every other command
    # starts about 0.2 s sooner.
    from sqlalchemy.exc import IntegrityError

    from ..store import open_store
    from ..store.repository import Repository, StaleVersion
    from .sync_merge import Plan, merge_all, store_moved
    from .sync_plan import workbook_plan

    clock = [time.perf_counter()]
    source = BookSource(port)
    # First: it takes the file's lock and fingerprint, so what is read next is the file the write checks.
    tokens_now = port.sheet_tokens()
    meta, legacy = sbase.read_meta(source.sheet(sbase.SYNC_SHEET))
    first = not meta
    redact = set(opts.redact) if opts.redact else {r for r in meta.get("redact", "").split(",") if r}
    scope = opts.scope or meta.get("scope")
    since = _since(meta, legacy, scope, redact)
    local_changed = _local_changes(tokens_now, meta) if since is not None else set(ENTITIES)
    engine = open_store(opts.store)
    if since is not None:  # read now (not while holding the store's lock) what will most likely be needed
        with engine.connect() as conn:
            quiet = {e for e in ENTITIES if e not in local_changed
                     and not store_moved(conn, e, since, scope, meta)}
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
                outcome = merge_all(repo, source, plan, decisions, scope, redact)
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
    edits = workbook_plan(book, outcome, new_meta, lang, legacy is not None)
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


def _local_changes(now: dict[str, str], meta: dict[str, str]) -> set[str]:
    """Entities whose sheet is not exactly as the last sync wrote it (or is not known)."""
    recorded = sbase.tokens(meta)
    changed = set()
    for e in ENTITIES:
        name = meta.get(f"sheet:{e}")
        if not name or recorded.get(name) is None or recorded.get(name) != now.get(name):
            changed.add(e)
    return changed


def _decisions(source: BookSource, book: CrmBook, lang: str) -> list[dict]:
    name = book.tool_sheets.get(sb.CONFLICTS_KEY)
    return sb.read_decisions(source.sheet(name), lang) if name else []


def _pending(out: Outcome, entity: str, meta: dict[str, str]) -> int:
    e = out.entities.get(entity)
    if e is None:  # not merged this time: as it was
        return int(meta.get(f"pending:{entity}", "0") or 0)
    return len({c.uid for c in e.merge.conflicts}) + len(e.merge.kept_deleted)


def _store_id(conn) -> str:
    from sqlalchemy import select

    from ..store import tables
    from ..store.repository import new_uid

    t = tables.store_meta
    found = conn.execute(select(t.c.value).where(t.c.key == "store_id")).scalar()
    if found is None:
        found = new_uid()
        conn.execute(t.insert().values(key="store_id", value=found))
    return found


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
