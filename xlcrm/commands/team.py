"""Team operations on the store: per-owner books, handover (reassign), the shared pool (公海), and the
manager's Summary over the whole store. Each change is recorded in the store's change log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ..errors import Msg, XlcrmError
from ..ops.summary import compute_summary
from ..schema import SETTING_DEFAULTS
from ..settings import Settings
from ..workbook.file_adapter import FileWorkbook
from ..workbook.port import WorkbookPort
from .base import CommandResult, Context, apply_planned, command
from .options import Options, option
from .reports import plan_summary, row_labels, summary_markdown
from .sync import ALL, SyncRun, sync


@dataclass(frozen=True)
class BookOptions:
    store: str | None = None
    owner: str | None = None  # None with all=True: the manager's book
    all: bool = False
    redact: tuple[str, ...] = ()  # customer fields left out of the book (e.g. mobile, email)
    lang: str = "zh-CN"
    source: str = "cli"


@dataclass(frozen=True)
class ReassignOptions:
    from_owner: str
    to_owner: str
    store: str | None = None
    customers: tuple[str, ...] = ()  # customer IDs; empty: every customer of from_owner
    source: str = "cli"


@dataclass(frozen=True)
class PoolOptions:
    store: str | None = None
    days: int = SETTING_DEFAULTS["stale_days"]  # Settings 久未跟进天数, default 90 (the seed's three months)
    apply: bool = False  # return the listed customers to the pool
    owner: str | None = None
    source: str = "cli"


def make_book(out: Path, opts: BookOptions, ctx: Context) -> CommandResult:
    """A salesperson's workbook with only their customers (and their follow-ups and purchases), or
    the manager's with everyone's; made from the template when new, refreshed by a sync otherwise."""
    from ..store import open_store
    from ..template import new_workbook

    if not opts.all and not opts.owner:
        raise XlcrmError("请用 --owner 指定负责人，或用 --all 生成经理的全员工作簿。",
                         "Give --owner NAME, or --all for the manager's book with everyone.")
    scope = ALL if opts.all else opts.owner
    open_store(opts.store)  # unreachable store: refused before a file is made
    if not Path(out).exists():
        new_workbook(Path(out), lang=opts.lang, owners=None if opts.all else [opts.owner])
    sync_opts = SyncRun(store=opts.store, scope=scope, redact=opts.redact, source=opts.source)
    with FileWorkbook(out) as port:
        return sync(port, ctx, sync_opts)


def reassign(opts: ReassignOptions, ctx: Context) -> CommandResult:
    """Hand customers from one salesperson to another (接替): owner changed in the store with their
    follow-ups and purchases; each customer's change is in the change log. Books follow at their sync."""
    from sqlalchemy import and_, select

    from ..store import open_store, tables
    from ..store.repository import Repository

    engine = open_store(opts.store)
    t = tables.customers
    with engine.begin() as conn:
        query = select(t.c.uid, t.c.customer_id).where(and_(t.c.owner == opts.from_owner, t.c.deleted.is_(False)))
        rows = conn.execute(query).all()
        if opts.customers:
            wanted = set(opts.customers)
            unknown = wanted - {r[1] for r in rows}
            if unknown:
                raise XlcrmError("这些客户编号不属于 {owner}（或不存在）：{ids}。没有改动任何内容。",
                                 "These customer IDs are not {owner}'s (or do not exist): {ids}. Nothing was changed.",
                                 owner=opts.from_owner, ids=", ".join(sorted(unknown)))
            rows = [r for r in rows if r[1] in wanted]
        repo = Repository(conn, ctx.user, opts.source)
        repo.ensure_owners([opts.to_owner])
        moved = repo.set_owner([r[0] for r in rows], opts.to_owner)
        logged = repo.flush_log()
    msg = Msg(f"已把 {moved} 位客户从 {opts.from_owner} 移交给 {opts.to_owner}（已记入变更日志）。双方下次同步时工作簿随之更新。",
              f"Handed {moved} customers from {opts.from_owner} to {opts.to_owner} (in the change log). Both "
              "workbooks follow at their next sync.")
    return CommandResult("reassign", msg, {"reassigned": moved, "logged": logged}, written=moved > 0,
                         data={"customers": sorted(r[1] for r in rows if r[1])})


def stale_customers(conn, days: int, today: dt.date, owner: str | None = None) -> list[dict]:
    """Customers nobody followed up for `days` days (never followed up: counted from their created
    date, else listed), excluding those already in the pool."""
    from sqlalchemy import and_, func, select

    from ..store import tables

    c, f = tables.customers, tables.followups
    last = (select(f.c.customer_id, func.max(f.c.date).label("last")).where(f.c.deleted.is_(False))
            .group_by(f.c.customer_id).subquery())
    query = (select(c.c.uid, c.c.customer_id, c.c.company, c.c.owner, c.c.created, last.c.last)
             .select_from(c.outerjoin(last, last.c.customer_id == c.c.customer_id))
             .where(and_(c.c.deleted.is_(False), c.c.owner.is_distinct_from(tables.POOL_OWNER))))
    if owner:
        query = query.where(c.c.owner == owner)
    cutoff = (today - dt.timedelta(days=days)).isoformat()
    out = []
    for uid, cid, company, who, created, seen in conn.execute(query):
        since = seen or created
        if since is None or since[:10] < cutoff:
            idle = (today - dt.date.fromisoformat(since[:10])).days if since else None
            out.append({"uid": uid, "customer_id": cid, "company": company, "owner": who, "last_follow_up": seen,
                        "days_idle": idle})
    return sorted(out, key=lambda r: (r["owner"] or "", r["customer_id"] or ""))


def pool(opts: PoolOptions, ctx: Context) -> CommandResult:
    from ..store import open_store, tables
    from ..store.repository import Repository

    engine = open_store(opts.store)
    with engine.begin() as conn:
        stale = stale_customers(conn, opts.days, ctx.today, opts.owner)
        moved = logged = 0
        if opts.apply and stale and not ctx.dry_run:
            repo = Repository(conn, ctx.user, opts.source)
            moved = repo.set_owner([r["uid"] for r in stale], tables.POOL_OWNER)
            logged = repo.flush_log()
    if opts.apply:
        msg = Msg(f"{len(stale)} 位客户超过 {opts.days} 天未跟进，已退回公海 {moved} 位（已记入变更日志）。",
                  f"{len(stale)} customers had no follow-up for {opts.days} days; {moved} returned to the shared "
                  "pool (in the change log).")
    else:
        msg = Msg(f"{len(stale)} 位客户超过 {opts.days} 天未跟进（加 --apply 退回公海）。",
                  f"{len(stale)} customers had no follow-up for {opts.days} days (add --apply to return them to the "
                  "shared pool).")
    return CommandResult("pool", msg, {"stale": len(stale), "pooled": moved, "logged": logged}, written=moved > 0,
                         data={"customers": stale})


def store_summary(store: str | None, ctx: Context, port: WorkbookPort | None = None) -> CommandResult:
    """The manager's Summary over the whole store: printed, or written into the book `port` (its
    Summary sheet) when one is given."""
    from ..store import open_store
    from ..store.frames import store_frames

    engine = open_store(store)
    with engine.connect() as conn:
        frames = store_frames(conn)
    if port is not None:
        book = port.read()
        book.customers, book.followups, book.purchases = frames["customers"], frames["followups"], frames["purchases"]
        return apply_planned(port, plan_summary(book, ctx), ctx)
    lang = ctx.lang or "zh-CN"
    s = compute_summary(frames["customers"], frames["followups"], frames["purchases"], Settings(), ctx.today,
                        row_labels(lang))
    k = dict(s.kpis)
    msg = Msg(f"团队汇总（全部负责人）：客户 {k['customers']} 位，本月销售额 {k['sales_month']:,.2f}，逾期应收 "
              f"{k['overdue_receivables']:,.2f}。",
              f"Team summary (every owner): {k['customers']} customers, sales this month {k['sales_month']:,.2f}, "
              f"overdue receivables {k['overdue_receivables']:,.2f}.")
    return CommandResult("summary", msg, counts=k, data={"kpis": k, "by_owner": s.activity_by_owner.to_dict("records"),
                                                         "markdown": summary_markdown(s, lang)})


# --------------------------------------------------------------------------- the 移交 / Handover button

HANDOVER_KEY = "handover"
HANDOVER_HEADERS = {"from": ("原负责人", "From"), "to": ("接替者", "To"),
                    "customers": ("客户编号（空 = 全部）", "Customer IDs (blank = all)"), "result": ("结果", "Result")}


def _handover_rows(frame) -> list[dict]:
    """The filled rows of the Handover sheet (a title row sits above its header)."""
    if frame is None or frame.empty:
        return []
    if HANDOVER_HEADERS["from"][0] not in frame.columns and HANDOVER_HEADERS["from"][1] not in frame.columns:
        frame = frame.iloc[1:].set_axis([str(c) for c in frame.iloc[0]], axis=1)
    pick = {k: next((h for h in names if h in frame.columns), None) for k, names in HANDOVER_HEADERS.items()}
    if pick["from"] is None or pick["to"] is None:
        return []
    out = []
    for rec in frame.to_dict("records"):
        values = {k: (str(rec[h]).strip() if h and rec.get(h) not in (None, "") else "") for k, h in pick.items()}
        if values["from"] or values["to"]:
            out.append(values)
    return out


def handover_button(port: WorkbookPort, ctx: Context) -> CommandResult:
    """The ribbon's 移交 / Handover: the manager lists 原负责人 → 接替者 (and optionally customer IDs) on
    the Handover sheet and presses the button again; each row is a `reassign` in the store (logged,
    source=button) and gets its result. The first press makes the sheet."""
    import pandas as pd

    from ..workbook.edits import Block, EditPlan, SheetReplace

    store = ctx.opts(HandoverOptions).store
    book = port.read()
    lang = ctx.language(book)
    en = lang == "en"
    name = book.sheet_name_for(HANDOVER_KEY)  # xlcrm's own Handover sheet, or a free name beside the user's
    rows = _handover_rows(port.read_sheet(name)) if HANDOVER_KEY in book.tool_sheets else []
    moved = 0
    for r in rows:
        if r["result"] or not (r["from"] and r["to"]):
            continue
        ids = tuple(i.strip() for i in r["customers"].replace("，", ",").split(",") if i.strip())
        try:
            done = reassign(ReassignOptions(r["from"], r["to"], store=store, customers=ids, source=ctx.via), ctx)
            moved += done.counts["reassigned"]
            r["result"] = done.text(lang)
        except XlcrmError as exc:
            if "Cannot reach" in exc.render("en"):
                raise
            r["result"] = exc.render(lang)
    df = pd.DataFrame([[r["from"], r["to"], r["customers"], r["result"]] for r in rows],
                      columns=[v[1] if en else v[0] for v in HANDOVER_HEADERS.values()])
    title = ("Fill in From and To (and customer IDs, or leave blank for all of them), then press Handover again. "
             "Every handover is in the team store's change log." if en else
             "填写原负责人和接替者（客户编号可留空 = 全部客户），再按一次“移交”。每次移交都记入团队库的变更日志。")
    plan = EditPlan([SheetReplace(name, [Block(df, title=title, widths={df.columns[2]: 30, df.columns[3]: 60},
                                                wrap=(df.columns[3],))], owner=HANDOVER_KEY)], operation="reassign")
    if not ctx.dry_run:
        port.apply(plan)
    if rows:
        msg = Msg(f"已移交 {moved} 位客户（结果见“{name}”表）；各位销售同步后工作簿随之更新。",
                  f"Handed over {moved} customers (results on '{name}'); each salesperson's book follows at its sync.")
    else:
        msg = Msg(f"请在“{name}”表填写原负责人和接替者，然后再按一次“移交”。",
                  f"Fill in From and To on '{name}', then press Handover again.")
    return CommandResult("handover", msg, {"reassigned": moved}, written=not ctx.dry_run)


@dataclass(frozen=True)
class HandoverOptions(Options):
    store: str | None = option(None, "团队库地址（默认：XLCRM_STORE、个人配置、本机 SQLite 文件）",
                               "Team store URL (default: XLCRM_STORE, your config, a local SQLite file)", metavar="URL")


command("handover", "移交", "Handover", "把客户从原负责人移交给接替者（在“移交”表填写），记入团队库的变更日志",
        "Hand customers from one salesperson to another (listed on the Handover sheet), in the store's change log",
        options=HandoverOptions)(handover_button)


__all__ = ["BookOptions", "PoolOptions", "ReassignOptions", "handover_button", "make_book", "pool", "reassign",
           "stale_customers", "store_summary"]
