"""The salesperson's daily loop: Check (校验), Regrade (评级), Due Today (今日跟进), and Run all.

Each `plan_*` function is pure: a CrmBook in, a `Planned` (edits + result + the book as it will
be) out, so `run` can chain check → regrade → due over one read and one write.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from ..errors import Msg, Problem, Severity, XlcrmError
from ..forked import Forked
from ..model.book import empty_frame, with_columns
from ..model.values import blank_mask
from ..ops.changelog import LOG_COLUMNS, change_rows, same_values
from ..ops.classify import CLASSIFICATIONS, classify_customers
from ..ops.followup import due_list, owners_of, schedule, stale_list
from ..ops.grade import GRADE_ORDER, grade_customers
from ..ops.ids import assign_missing_ids
from ..ops.lookup import CustomerKeys
from ..ops.purchases import customer_money
from ..ops.service import service_problems
from ..ops.validate import check_book, sort_problems
from ..procs import return_free_memory
from ..schema import CUSTOMERS, DUE_TODAY, ISSUES, STALE, Kind, choice_label, match_header
from ..workbook.book import CrmBook
from ..workbook.edits import (
    FILL_ERROR,
    FILL_HEADER,
    FILL_WARNING,
    AppendRows,
    Block,
    CellMark,
    CellStyle,
    ColumnValues,
    ColumnWrite,
    EditPlan,
    MarkCells,
    SheetReplace,
)
from ..workbook.port import WorkbookPort
from . import run_cache
from .base import (
    FORMATS,
    CommandResult,
    Context,
    Planned,
    after_data_sheets,
    apply_planned,
    change_log_edit,
    command,
    tool_frame,
)
from .options import Options, option
from .service_lists import add_service_lists

COMPUTED = ("grade", "last_contact", "next_follow_up", "abc_class", "total_purchases", "outstanding",
            *CLASSIFICATIONS)
LOGGED = ("grade", "abc_class", "outstanding")  # computed values a manager cares about
# Rows (all three data sheets) from which `run` checks in a forked child while it grades: below this
# the whole check takes under ~0.1 s, not worth a fork.
PARALLEL_CHECK_ROWS = 100_000


def _count(problems: list[Problem], severity: Severity) -> int:
    return sum(p.severity == severity for p in problems)


# --------------------------------------------------------------------------- check


@dataclasses.dataclass(frozen=True)
class NewIds:
    """The check's first step: an ID for every customer row that had none."""

    book: CrmBook  # the book as read, with the new IDs in Basic Info
    ids: pd.Series  # the new IDs, by Basic Info's row index (empty if none was missing)


def assign_ids(book: CrmBook, archived_ids: tuple[str, ...] = ()) -> NewIds:
    """IDs for the customers without one, never one in use, archived or referenced (see `assign_missing_ids`)."""
    # IDs follow-ups and purchases refer to (1.3M references on the M book; hashed by Arrow in there).
    referenced = pd.concat([book.followups["customer_id"], book.purchases["customer_id"]], ignore_index=True)
    new_ids = assign_missing_ids(book.customers, book.settings, archived=archived_ids, avoid=referenced)
    if not len(new_ids):
        return NewIds(book, new_ids)
    ids = book.customers["customer_id"].copy()
    ids.loc[new_ids.index] = new_ids
    return NewIds(dataclasses.replace(book, customers=with_columns(book.customers, {"customer_id": ids})), new_ids)


def find_problems(book: CrmBook, today: dt.date) -> list[Problem]:
    """Every problem of the book (its IDs assigned), in the order a user fixes them. Pure: `run` computes
    it in a forked child while it grades (`forked.Forked`)."""
    return sort_problems(
        [*book.problems, *check_book(book.customers, book.followups, book.purchases, sheets=book.sheets, raw=book.raw,
                                     settings=book.settings, today=today),
         *(service_problems(book.service, book.customers, sheets=book.sheets, raw=book.raw, today=today)
           if book.service is not None else ())], book.sheets)


def plan_check(book: CrmBook, ctx: Context, *, archived_ids: tuple[str, ...] = ()) -> Planned:
    """Assign missing IDs, find every problem, mark the cells and list them on the Issues sheet."""
    new = assign_ids(book, archived_ids)
    return finish_check(new, find_problems(new.book, ctx.today), ctx)


def finish_check(new: NewIds, problems: list[Problem], ctx: Context) -> Planned:
    """The check's edits and result: the new IDs written and logged, the problem cells marked, the Issues sheet."""
    book, new_ids = new.book, new.ids
    lang = ctx.language(book)
    plan = EditPlan(operation="check")
    info = book.sheets["customers"]
    if len(new_ids):
        rows = book.customers.loc[new_ids.index, "_row"]
        plan.add(ColumnWrite(info.name, info.header_of("customer_id", CUSTOMERS.column("customer_id").header(lang)),
                             info.header_row, dict(zip(rows.astype(int), new_ids)), col=info.columns.get("customer_id"),
                             style=CellStyle(number_format="@")))
    for key, sheet in book.sheets.items():
        plan.add(MarkCells(sheet.name, _marks(problems, key, sheet, lang)))
    plan.add(_issues_sheet(book, problems, ctx, lang))

    if len(new_ids):
        log = pd.DataFrame({"customer_id": new_ids.to_numpy(), "field": info.header_of("customer_id"), "old": "",
                            "new": new_ids.to_numpy()})
        log.insert(0, "operation", _op_label("check", lang))
        log.insert(0, "user", ctx.user)
        log.insert(0, "time", pd.Timestamp(dt.datetime.now()).floor("s"))
        plan.add(change_log_edit(book, log[list(LOG_COLUMNS)], lang))

    errors, warnings = _count(problems, Severity.ERROR), _count(problems, Severity.WARNING)
    issues = book.sheet_name_for("issues")
    msg = Msg("校验完成：{e} 个错误，{w} 个警告{ids}。问题单元格已标色并加批注，清单见“{sheet}”工作表。",
              "Check done: {e} errors, {w} warnings{ids_en}. Problem cells are coloured and noted; the list is on "
              "the '{sheet}' sheet.",
              {"e": errors, "w": warnings, "sheet": issues,
               "ids": f"；新编号 {len(new_ids)} 个" if len(new_ids) else "",
               "ids_en": f"; {len(new_ids)} new customer IDs" if len(new_ids) else ""})
    result = CommandResult("check", msg, {"errors": errors, "warnings": warnings, "new_ids": len(new_ids),
                                          "problems": len(problems)},
                           data={"problems": [_problem_dict(p) for p in problems]})
    return Planned(plan, result, book)


def _marks(problems: list[Problem], key: str, sheet, lang: str) -> list[CellMark]:
    """One mark per cell; several problems on one cell share one note, the worst severity wins."""
    notes: dict[tuple[int, int], list[str]] = {}
    worst: dict[tuple[int, int], str] = {}
    for p in problems:
        if p.sheet_key != key or p.severity == Severity.INFO:
            continue
        col = sheet.columns.get(p.column_key or "customer_id")
        if not col:
            continue
        cell = (p.row, col)
        text = p.message.text(lang) + (f"（{p.suggestion.text(lang)}）" if p.suggestion and lang != "en"
                                       else f" ({p.suggestion.text(lang)})" if p.suggestion else "")
        notes.setdefault(cell, []).append(text)
        if p.severity == Severity.ERROR or cell not in worst:
            worst[cell] = p.severity.value
    return [CellMark(r, c, "\n".join(notes[(r, c)]), worst[(r, c)]) for (r, c) in sorted(notes)]


SEVERITY_FILLS = {Severity.ERROR: FILL_ERROR, Severity.WARNING: FILL_WARNING}  # as the marked cells
SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def _issues_sheet(book: CrmBook, problems: list[Problem], ctx: Context, lang: str) -> SheetReplace:
    """Errors first, then warnings (each in the order a user fixes them); the severity cell coloured like
    the marked cells; problem and suggestion wrapped. Internal codes stay in --format json only."""
    ordered = sorted(problems, key=lambda p: SEVERITY_RANK.get(p.severity, 9))  # stable: keeps sheet/row order
    df = pd.DataFrame([{
        "severity": p.severity.label(lang),
        "sheet": p.sheet,
        "row": p.row,
        "column": p.column,
        "value": _shown(p.value),
        "problem": p.message.text(lang),
        "suggestion": p.suggestion.text(lang) if p.suggestion else "",
    } for p in ordered], columns=[c.key for c in ISSUES.columns if c.key != "code"])
    frame, formats, widths = tool_frame(ISSUES, df, lang)
    severity, problem, suggestion = (ISSUES.column(k).header(lang) for k in ("severity", "problem", "suggestion"))
    fills = {i: SEVERITY_FILLS[p.severity] for i, p in enumerate(ordered) if p.severity in SEVERITY_FILLS}
    e, w = _count(problems, Severity.ERROR), _count(problems, Severity.WARNING)
    title = (f"Check of {ctx.today:%Y-%m-%d}: {e} errors, {w} warnings" if lang == "en"
             else f"校验结果 {ctx.today:%Y-%m-%d}：{e} 个错误，{w} 个警告")
    if not problems:
        title += " — no problems found ✓" if lang == "en" else " — 没有发现问题 ✓"
    return SheetReplace(book.sheet_name_for("issues"), [Block(frame, title=title, number_formats=formats,
                                                              widths=widths, autofilter=True,
                                                              cell_fills={severity: fills},
                                                              wrap=(problem, suggestion))],
                        after=after_data_sheets(book), owner="issues")


def _shown(value: object) -> str:
    """A problem's value as the user would recognise it (a date without a midnight time)."""
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    text = str(value)
    return text[:-9] if text.endswith(" 00:00:00") else text


def _problem_dict(p: Problem) -> dict:
    return {"sheet": p.sheet, "row": p.row, "column": p.column, "value": p.value, "code": p.code,
            "severity": p.severity.value, "zh": p.message.text("zh-CN"), "en": p.message.text("en")}


# --------------------------------------------------------------------------- regrade


def compute_columns(book: CrmBook, today: dt.date) -> pd.DataFrame:
    """Every computed Basic Info column, plus what Due Today shows, for each customer row."""
    keys = CustomerKeys.of(book.customers, book.followups, book.purchases)  # the IDs hashed once for all four
    grades = grade_customers(book.customers, book.followups, book.settings, today, keys)
    money = customer_money(book.customers, book.purchases, book.settings, today, keys)
    sched = schedule(book.customers, book.followups, grades["grade"], book.settings, today, keys)
    classes = classify_customers(book.customers, book.purchases, book.settings, today,
                                 demand=grades["demand"], expected_close=grades["expected_close"],
                                 revenue_12m=money["revenue_12m"], last_contact=sched["last_contact"], keys=keys)
    return pd.concat([grades, money, sched, classes], axis=1)


def plan_regrade(book: CrmBook, ctx: Context, computed: pd.DataFrame | None = None) -> Planned:
    """Write grade, last/next contact, ABC class, totals and overdue receivables; log what changed."""
    lang = ctx.language(book)
    computed = compute_columns(book, ctx.today) if computed is None else computed
    info = book.sheets["customers"]
    plan = EditPlan(operation="regrade")
    rows = book.customers["_row"].astype(int).to_numpy()
    header_style = CellStyle(bold=True, fill=FILL_HEADER)
    # xlcrm's own columns: the ones it made before, else new ones beside any user column of the same name.
    headers = {key: book.computed_header("customers", key, lang) for key in COMPUTED}
    for key in COMPUTED:
        col = CUSTOMERS.column(key)
        new = computed[key]
        if col.kind == Kind.MONEY:
            new = new.round(2)
        elif col.choices and key != "grade":  # classifications: codes inside, labels in the workbook
            # One lookup per distinct code, then taken by position (Series.map hashes every row again).
            codes, distinct = pd.factorize(new)  # a blank → -1: the appended NaN
            shown = np.array([*(choice_label(col.choices, code, lang) if code else np.nan for code in distinct), np.nan],
                             dtype=object)
            new = pd.Series(shown[codes], index=new.index, dtype=object)
        todo = np.ones(len(rows), dtype=bool)
        if key in info.columns:  # an existing column: write only the cells whose value changes
            old = book.customers[key]
            todo = ~same_values(old, computed[key]) | (old.isna() & computed[key].notna()).to_numpy()
        header, col_index = headers[key]
        plan.add(ColumnWrite(info.name, header, info.header_row,
                             ColumnValues(rows[todo], new[todo]), col=col_index,
                             style=CellStyle(number_format=FORMATS.get(col.kind, "@")), header_style=header_style,
                             width=col.width, owner=f"customers.{key}"))

    labels = {k: headers[k][0] for k in LOGGED}
    log = change_rows(book.customers["customer_id"], book.customers, computed, LOGGED, labels=labels,
                      operation=_op_label("regrade", lang), user=ctx.user, now=dt.datetime.now())
    edit = change_log_edit(book, log, lang)
    if edit:
        plan.add(edit)

    grade_counts = computed["grade"].value_counts().reindex(["A", "B", "C", "D", "E"], fill_value=0)
    changed = int((log["field"] == labels["grade"]).sum()) if len(log) else 0
    old_grades = book.customers["grade"] if "grade" in book.customers else pd.Series(index=computed.index, dtype=object)
    first = int((blank_mask(old_grades) & computed["grade"].notna().to_numpy()).sum())
    dist = " ".join(f"{g}:{n}" for g, n in grade_counts.items())
    msg = Msg("评级完成：{n} 位客户（{dist}）{first}，{c} 位等级有变化，已记入“{log}”。",
              "Regrade done: {n} customers ({dist}){first_en}; {c} grades changed, recorded on '{log}'.",
              {"n": len(computed), "dist": dist, "c": changed, "log": book.sheet_name_for("change_log"),
               "first": f"，其中 {first} 位首次评级" if first else "",
               "first_en": f", {first} graded for the first time" if first else ""})
    updated = with_columns(book.customers, {key: computed[key] for key in COMPUTED})
    result = CommandResult("regrade", msg, {"customers": len(computed), "grade_changes": changed, "first_grades": first,
                                            **{f"grade_{g}": int(n) for g, n in grade_counts.items()}})
    return Planned(plan, result, dataclasses.replace(book, customers=updated))


# --------------------------------------------------------------------------- due today


# Due Today rows coloured by grade (A warm → E grey), so the day's priorities show at a glance.
GRADE_FILLS = {"A": "FFF8CBAD", "B": "FFFFE699", "C": "FFE2EFDA", "D": "FFDDEBF7", "E": "FFEDEDED"}


def grade_option(value: object) -> tuple[str, ...] | None:
    """`--grade A,B` (also "a b", "A，B") as grades; anything but A–E is a clear error."""
    if value is None or value == "" or value == ():
        return None
    parts = value if isinstance(value, (list, tuple)) else str(value).replace("，", ",").replace(" ", ",").split(",")
    grades = tuple(dict.fromkeys(str(p).strip().upper() for p in parts if str(p).strip()))
    bad = [g for g in grades if g not in GRADE_ORDER]
    if bad:
        raise XlcrmError("等级“{bad}”无效：请用 A、B、C、D、E，多个用逗号分隔（如 A,B）。",
                         "Grade '{bad}' is not valid: use A, B, C, D or E, several separated by commas (e.g. A,B).",
                         bad=",".join(bad))
    return grades or None


def check_owner(customers: pd.DataFrame, owner: str | None) -> None:
    """`--owner` naming nobody on Basic Info is a typo, not an empty day: say so and list the owners."""
    if not owner:
        return
    owners = owners_of(customers)
    if owner.strip() not in owners:
        raise XlcrmError("没有负责人叫“{owner}”。客户资料中的负责人：{owners}",
                         "No salesperson is called '{owner}'. Owners on Basic Info: {owners_en}",
                         owner=owner, owners="、".join(owners) or "（无）", owners_en=", ".join(owners) or "(none)")


def plan_due(book: CrmBook, ctx: Context, computed: pd.DataFrame | None = None) -> Planned:
    """Fill Due Today (今日跟进) and Stale (久未跟进) for everyone, or for one salesperson / some grades."""
    lang = ctx.language(book)
    check_owner(book.customers, ctx.owner)
    grades = grade_option(ctx.opts(DueOptions).grade)
    computed = compute_columns(book, ctx.today) if computed is None else computed
    due = due_list(book.customers, computed, ctx.today, owner=ctx.owner, grades=grades)
    stale = stale_list(book.customers, computed, book.settings, ctx.today, owner=ctx.owner)
    overdue = int((due["days_overdue"] > 0).sum())
    who = f" · {ctx.owner}" if ctx.owner else ""
    who += f" · {','.join(grades)}" if grades else ""

    frame, formats, widths = tool_frame(DUE_TODAY, due, lang)
    if due.empty:
        title = (f"Due today {ctx.today:%Y-%m-%d}{who}: nobody to follow up today ✓" if lang == "en"
                 else f"今日需跟进客户 {ctx.today:%Y-%m-%d}{who}：今天没有需要跟进的客户 ✓")
    else:
        title = (f"Due today {ctx.today:%Y-%m-%d}{who}: {len(due)} customers, {overdue} overdue" if lang == "en"
                 else f"今日需跟进客户 {ctx.today:%Y-%m-%d}{who}：共 {len(due)} 位，其中逾期 {overdue} 位")
    fills = {i: GRADE_FILLS[g] for i, g in enumerate(due["grade"]) if g in GRADE_FILLS}
    due_sheet = SheetReplace(book.sheet_name_for("due_today"),
                             [Block(frame, title=title, number_formats=formats, widths=widths, row_fills=fills,
                                    autofilter=True)], after=book.sheets["customers"].name, owner="due_today")

    sframe, sformats, swidths = tool_frame(STALE, stale, lang)
    stitle = (f"No follow-up for {book.settings.stale_days}+ days ({ctx.today:%Y-%m-%d}{who}): {len(stale)} customers"
              if lang == "en" else
              f"超过 {book.settings.stale_days} 天未跟进 {ctx.today:%Y-%m-%d}{who}：共 {len(stale)} 位（可考虑重新分配）")
    stale_sheet = SheetReplace(book.sheet_name_for("stale"),
                               [Block(sframe, title=stitle, number_formats=sformats, widths=swidths, autofilter=True)],
                               after=book.sheet_name_for("due_today"), owner="stale")
    service_counts, service_msg, alerts = add_service_lists(book, ctx, computed, due_sheet)
    plan = EditPlan([due_sheet, stale_sheet, *([alerts] if alerts else [])], operation="due")
    if due.empty:
        msg = Msg("今天没有需要跟进的客户 ✓（“{sheet}”）；{s} 位超过 {d} 天未跟进，见“{stale}”。",
                  "Nobody is due for a follow-up today ✓ ('{sheet}'); {s} have had no follow-up for {d}+ days: "
                  "see '{stale}'.",
                  {"sheet": due_sheet.name, "s": len(stale), "d": book.settings.stale_days, "stale": stale_sheet.name})
    else:
        msg = Msg("今日需跟进 {n} 位客户（逾期 {o} 位），见“{sheet}”；{s} 位超过 {d} 天未跟进，见“{stale}”。",
                  "{n} customers are due today ({o} overdue): see '{sheet}'; {s} have had no follow-up for {d}+ "
                  "days: see '{stale}'.",
                  {"n": len(due), "o": overdue, "sheet": due_sheet.name, "s": len(stale),
                   "d": book.settings.stale_days, "stale": stale_sheet.name})
    if service_msg is not None:  # the book has a Service sheet: complaints past SLA, customers to reassign
        msg = Msg(msg.text("zh-CN") + "\n" + service_msg.text("zh-CN"), msg.text("en") + "\n" + service_msg.text("en"))
    by_grade = due["grade"].value_counts()
    result = CommandResult("due", msg, {"due": len(due), "overdue": overdue, "stale": len(stale),
                                        **{f"due_{g}": int(by_grade.get(g, 0)) for g in GRADE_ORDER},
                                        **service_counts})
    return Planned(plan, result, book)


# --------------------------------------------------------------------------- registered commands


@dataclasses.dataclass(frozen=True)
class DueOptions(Options):
    """Due Today (and Run all): whose customers, which grades."""

    owner: str | None = option(None, "只处理这位负责人", "Only this salesperson", metavar="NAME")
    grade: str | None = option(None, "只列这些等级，如 A,B", "Only these grades, e.g. A,B", metavar="A,B")


_OPS = {"check": ("校验", "Check"), "regrade": ("评级", "Regrade"), "due": ("今日跟进", "Due Today"),
        "run": ("全部运行", "Run all")}


def _op_label(tag: str, lang: str) -> str:
    zh, en = _OPS[tag]
    return en if lang == "en" else zh


def archived_ids(port: WorkbookPort, book: CrmBook) -> tuple[str, ...]:
    """IDs on the Archive sheet (merged customers): never handed out again."""
    archive = port.read_sheet(book.sheet_name_for("archive"))
    if archive is None or archive.empty:
        return ()
    ids: list[str] = []
    for col in archive.columns:
        if match_header("customers", col) == "customer_id":
            ids.extend(v for v in archive[col].dropna().astype(str) if v.strip())
    return tuple(ids)


@command("check", "校验", "Check", "检查数据、补客户编号、标出问题单元格并列出清单",
         "Check rows, assign missing IDs, mark problem cells and list them")
def check(port: WorkbookPort, ctx: Context) -> CommandResult:
    book = port.read()
    ctx.stage("校验", "Checking")
    return apply_planned(port, plan_check(book, ctx, archived_ids=archived_ids(port, book)), ctx)


@command("regrade", "评级", "Regrade", "按需求和预计成交日期评 A–E 级，更新计算列",
         "Grade customers A–E and update the computed columns")
def regrade(port: WorkbookPort, ctx: Context) -> CommandResult:
    book = port.read(writes=("customers",))
    ctx.stage("评级", "Grading")
    return apply_planned(port, plan_regrade(book, ctx), ctx)


@command("due", "今日跟进", "Due Today", "生成今日需跟进客户清单和久未跟进客户清单",
         "List the customers to follow up today and the stale ones", options=DueOptions)
def due(port: WorkbookPort, ctx: Context) -> CommandResult:
    return apply_planned(port, plan_due(port.read(), ctx), ctx)


@command("run", "全部运行", "Run all", "依次校验、评级、生成今日跟进（一次读取，一次保存）",
         "Check, regrade and fill Due Today in one go (one read, one save)", options=DueOptions)
def run_all(port: WorkbookPort, ctx: Context) -> CommandResult:
    if not ctx.dry_run and (again := run_cache.cached(port, ctx)) is not None:
        return again
    # Planned in a function of its own: once it returns, nothing holds the book's frames (0.8 GB for
    # the M workbook), so they are freed before the write makes its own peak.
    return apply_planned(port, _plan_run(port, ctx), ctx)


def _plan_run(port: WorkbookPort, ctx: Context) -> Planned:
    book = port.read(writes=("customers",))  # its computed columns
    ctx.stage("校验", "Checking")
    new = assign_ids(book, archived_ids(port, book))
    # The check and the grading need only the book with its IDs, not each other: on a big book the
    # problems are found in a forked child while this process grades (`forked`; M book: 1.6–1.8 s
    # for both instead of 2.2–2.5 s). Either way the problems are exactly `find_problems`' own.
    rows = len(book.customers) + len(book.followups) + len(book.purchases)
    released = False  # the text as typed let go by this process (the child checks with its own view)

    def check() -> list[Problem]:
        checked = new.book
        if released:  # the child failed after the text was let go: read it again from the unchanged file
            checked = dataclasses.replace(new.book, raw=port.read(writes=("customers",)).raw)
        return find_problems(checked, ctx.today)

    with Forked(check, worth_it=rows >= PARALLEL_CHECK_ROWS) as problems:
        if problems.forked:
            # Only the check reads the text as the user typed it (`raw`, 1.1 GB for the L book): once
            # the child has it, this process lets it go before grading (the planning's peak).
            released = True
            book.raw.clear()  # the same dict as new.book's
            return_free_memory()
        ctx.stage("评级", "Grading")
        computed = compute_columns(new.book, ctx.today)
        graded = plan_regrade(new.book, ctx, computed)
        ctx.stage("今日跟进", "Due today")
        due_plan = plan_due(graded.book, ctx, computed)
        checked = finish_check(new, problems.result(), ctx)
    plan = run_plan(book, (checked.plan, graded.plan, due_plan.plan))
    parts = (checked.result, graded.result, due_plan.result)
    msg = Msg("\n".join(r.text("zh-CN") for r in parts), "\n".join(r.text("en") for r in parts))
    counts = {**checked.result.counts, **graded.result.counts, **due_plan.result.counts}
    result = CommandResult("run", msg, counts, data={"problems": checked.result.data["problems"]})
    run_cache.record(plan, result, ctx)
    return Planned(plan, result, _without_rows(due_plan.book))


def run_plan(book: CrmBook, parts: tuple[EditPlan, ...]) -> EditPlan:
    """check + regrade + due as one plan, with one Change Log append for all.

    The order is chosen for the writer's memory and its second core (edits of different sheets do
    not depend on each other; each sheet's own edits keep their order). The writer holds a data
    sheet from its first edit to its last and deflates it on the other core once written, and it
    does not inflate a big sheet beside another: so the sheets that get computed columns come first,
    all their edits together; then the sheets that only get marks, smallest first (the next one is
    read while the last deflates); then the tool sheets, built while the biggest deflates."""
    plan = EditPlan(operation="run")
    logs, edits = [], []
    for part in parts:
        for edit in part.edits:
            if isinstance(edit, AppendRows) and edit.sheet == book.sheet_name_for("change_log"):
                logs.append(edit)
            else:
                edits.append(edit)
    computed = list(dict.fromkeys(e.sheet for e in edits if isinstance(e, ColumnWrite)))
    size = {info.name: info.last_row * max(info.last_column, 1) for info in book.sheets.values()}
    marked = sorted({e.sheet for e in edits if isinstance(e, MarkCells)} - set(computed),
                    key=lambda name: (size.get(name, 0), name))

    def rank(edit) -> tuple[int, int]:
        if isinstance(edit, (ColumnWrite, MarkCells)):
            if edit.sheet in computed:
                return 0, computed.index(edit.sheet)
            return 1, marked.index(edit.sheet)
        return 2, 0

    for edit in sorted(edits, key=rank):
        plan.add(edit)
    if logs:
        plan.add(dataclasses.replace(logs[0], df=pd.concat([e.df for e in logs], ignore_index=True)))
    return plan


def _without_rows(book: CrmBook) -> CrmBook:
    """The book with empty data frames: writing needs only its sheet names and language."""

    return dataclasses.replace(book, customers=empty_frame("customers"), followups=empty_frame("followups"),
                               purchases=empty_frame("purchases"), raw={})
