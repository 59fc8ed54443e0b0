"""Planning a merge (合并) of the duplicates decided on the Duplicates sheet, and the sheet helpers
merge and undo share: the master keeps its ID and gets its blanks filled, conflicts are listed in
the Change Log (never overwritten), follow-ups and purchases are re-pointed, merged rows move to
the Archive, and an undo record is kept.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd

from ..errors import Location, Msg, XlcrmError
from ..ops.changelog import log_rows
from ..ops.merge import MergeGroup, encode_value, is_blank, kind_of, plan_merge
from ..schema import ARCHIVE, CUSTOMERS, DUPLICATES, Kind
from ..workbook.book import CrmBook
from ..workbook.edits import (
    FMT_DATE,
    FMT_DATETIME,
    FMT_MONEY,
    AppendRows,
    CellStyle,
    ColumnWrite,
    DeleteRows,
    EditPlan,
    SheetReplace,
)
from ..workbook.writer.rowshift import DeleteShift
from .base import CommandResult, Context, Planned, after_data_sheets, change_log_edit, zh_or_en
from .dedupe import (
    DUP_COLUMNS,
    MASTER,
    MERGE,
    NOT_DUP,
    Memory,
    SheetDecisions,
    dup_header,
    dup_key,
    duplicates_edit,
    memory_edit,
    now_text,
    read_decisions,
)


def customer_columns(book: CrmBook) -> list[tuple[str, str]]:
    """(frame column, header on the sheet) for every column of Basic Info, in sheet order."""
    info = book.sheets["customers"]
    cols = [(k, info.headers.get(k) or CUSTOMERS.column(k).header(book.lang), i) for k, i in info.columns.items()]
    cols += [(h, h, i) for h, i in info.extra_columns.items() if h in book.customers.columns]
    return [(k, h) for k, h, _ in sorted(cols, key=lambda t: t[2])]


def cell_value(book: CrmBook, label, column: str) -> object:
    """A cell as the user typed it, so an archived row can be restored exactly.

    Text kinds (and choices: the label, not the code) come from the raw text; dates and numbers stay
    typed when the cell held a real date/number, and are the user's text when they typed text
    ("2025.04.12" stays "2025.04.12").
    """
    value = book.customers.at[label, column]
    raw = book.raw.get("customers")
    text = raw.at[label, column] if raw is not None and column in raw.columns else None
    kind = kind_of(column)
    if kind is None or is_blank(text):  # the user's own columns, or nothing typed
        if is_blank(value):
            return None
        if isinstance(value, pd.Timestamp):
            return value.to_pydatetime()
        return value.item() if hasattr(value, "item") else value
    if kind == Kind.DATE:
        if not is_blank(value) and str(text) in (str(value), value.strftime("%Y-%m-%d")):
            return value.to_pydatetime()
        return str(text)
    if kind in (Kind.MONEY, Kind.NUMBER):
        try:
            if not is_blank(value) and float(str(text).replace(",", "")) == float(value) and \
                    re.fullmatch(r"-?\d+(\.\d+)?", str(text)):
                return float(value)
        except ValueError:
            pass
        return str(text)
    return str(text)


def column_formats(columns: list[tuple[str, str]]) -> dict[str, str]:
    out = {}
    for key, header in columns:
        kind = kind_of(key)
        if kind == Kind.DATE:
            out[header] = FMT_DATE
        elif kind == Kind.MONEY:
            out[header] = FMT_MONEY
        elif kind is not None and kind != Kind.NUMBER:
            out[header] = "@"
    return out


def _groups_from_decisions(book: CrmBook, decisions: SheetDecisions) -> tuple[list[MergeGroup], list[dict]]:
    """Merge groups from what the user typed, read the way people mark lists; every row left out is listed.

    Marking only the duplicate 合并 merges it into the group's unmarked row (the highest on Basic
    Info if several); 保留为主 alone merges the unmarked rows into it; when every row says 合并 the
    highest on Basic Info keeps its ID. Rows marked 不是重复 never take part. A group with a word
    xlcrm cannot read (好的, 删除) is left alone and listed, as are IDs no longer on Basic Info.
    """
    ids = book.customers["customer_id"].astype(object).where(book.customers["customer_id"].notna(), "").astype(str)
    label_of = {cid.strip(): label for label, cid in ids.items() if cid.strip()}
    sheet = book.sheet_name_for(DUPLICATES.key)
    row_on_sheet = decisions.rows
    unknown = {}
    for grp, row, cid, text in decisions.unknown:
        unknown.setdefault(grp, []).append((row, cid, text))
    groups, ignored = [], []

    def skip(grp: str, cid: str, value: str, why: Msg, row: int | None = None) -> None:
        ignored.append({"sheet": sheet, "row": row or row_on_sheet.get((grp, cid)), "group": grp,
                        "customer_id": cid, "value": value, "reason": why})

    def basic_row(cid: str) -> int:
        return int(book.customers.at[label_of[cid], "_row"])

    for grp, rows in decisions.groups.items():
        if grp in unknown:
            for row, cid, text in unknown[grp]:
                skip(grp, cid, text, Msg("无法识别的决定“{v}”，本组未合并：请填写“合并”“保留为主”或“不是重复”",
                                         "decision '{v}' not understood, group not merged: use Merge, Keep as "
                                         "master or Not a duplicate", {"v": text}), row)
            continue
        live = [(cid, d) for cid, d in rows if d != NOT_DUP]
        merges = [cid for cid, d in live if d == MERGE]
        masters = [cid for cid, d in live if d == MASTER]
        if not merges and not masters:
            continue
        missing = [cid for cid in merges + masters if cid not in label_of]
        if missing:
            for cid in missing:
                skip(grp, cid, "", Msg("客户编号 {id} 已不在“客户资料”中，本组未合并",
                                       "customer ID {id} is no longer on Basic Info, group not merged", {"id": cid}))
            continue
        if len(masters) > 1:
            raise XlcrmError("第 {g} 组有多条“保留为主”：{ids}。每组只能有一个主记录。",
                             "Group {g} has more than one 'Keep as master': {ids}. Choose one master per group.",
                             location=Location(sheet=sheet), g=grp, ids=", ".join(masters))
        unmarked = sorted((cid for cid, d in live if d is None and cid in label_of), key=basic_row)
        if masters:
            master, merged = masters[0], merges or unmarked
        elif unmarked:
            master, merged = unmarked[0], merges
        else:
            ordered = sorted(merges, key=basic_row)
            master, merged = ordered[0], ordered[1:]
        if not merged:
            skip(grp, master, "", Msg("第 {g} 组只剩这一条，没有可并入的记录", "group {g} has no other record to merge "
                                      "with", {"g": grp}))
            continue
        groups.append(MergeGroup(label_of[master], tuple(label_of[cid] for cid in merged)))
    return groups, ignored


def plan_merge_book(book: CrmBook, ctx: Context, *, dup_sheet: pd.DataFrame | None,
                    memory_sheet: pd.DataFrame | None) -> Planned:
    lang = ctx.language(book)
    if dup_sheet is None:
        raise XlcrmError("还没有“查重”工作表：请先运行“查重”，在“决定”列填写后再合并。",
                         "There is no Duplicates sheet yet: run Duplicates, fill the Decision column, then merge.")
    decisions = read_decisions(dup_sheet)
    memory = Memory.read(memory_sheet)
    groups, ignored = _groups_from_decisions(book, decisions)
    notes = [Msg("“{sheet}”第 {row} 行（{id}）：{why}", "'{sheet}' row {row} ({id}): {why_en}",
                 {"sheet": i["sheet"], "row": i["row"], "id": i["customer_id"], "why": i["reason"].text("zh-CN"),
                  "why_en": i["reason"].text("en")}) for i in ignored]
    c = book.customers
    children = {"followups": book.followups, "purchases": book.purchases}
    if book.service is not None:  # the optional Service sheet's rows follow their customer too
        children["service"] = book.service
    outcome = plan_merge(c, groups, children)
    plan = EditPlan(operation="merge")
    info = book.sheets["customers"]
    columns = customer_columns(book)
    header_of = dict(columns)
    op = zh_or_en(lang, "合并", "Merge")
    log: list[dict] = []
    undo: list[dict] = []
    batch = now_text()
    undo.append({"kind": "undo_batch", "id_a": batch, "time": batch, "user": ctx.user})

    # 1. the master's blanks, filled (user-typed text for choices)
    by_col: dict[str, dict[int, object]] = {}
    for (master, col), _value in outcome.fills.items():
        src = next(g for g in groups if g.master == master)
        donor = next(lab for lab in src.merged if not is_blank(c.at[lab, col]))
        value = cell_value(book, donor, col)
        row = int(c.at[master, "_row"])
        by_col.setdefault(col, {})[row] = value
        mid = str(c.at[master, "customer_id"])
        log.append({"customer_id": mid, "field": header_of.get(col, col), "old": "", "new": shown(value)})
        undo.append({"kind": "undo_fill", "id_a": mid, "field": col})
    for col, values in by_col.items():
        if col not in header_of:
            continue
        kind = kind_of(col)
        style = CellStyle(number_format=FMT_DATE if kind == Kind.DATE else FMT_MONEY if kind == Kind.MONEY else "@"
                          if kind not in (Kind.NUMBER,) else None)
        plan.add(ColumnWrite(info.name, header_of[col], info.header_row, values,
                             col=info.columns.get(col) or info.extra_columns.get(col), style=style))

    # 2. child rows re-pointed to the master
    for key, moves in outcome.repoint.items():
        if not moves:
            continue
        sinfo = book.sheets[key]
        plan.add(ColumnWrite(sinfo.name, sinfo.header_of("customer_id"), sinfo.header_row,
                             {r: new for r, (_, new) in moves.items()}, col=sinfo.columns.get("customer_id"),
                             style=CellStyle(number_format="@")))
        for r, (old, new) in moves.items():
            log.append({"customer_id": new, "field": f"{sinfo.name}!{sinfo.header_of('customer_id')} ({row_word(lang)} {r})",
                        "old": old, "new": new})
            undo.append({"kind": "undo_repoint", "id_a": old, "id_b": new, "sheet": key, "row": str(r)})

    # 3. conflicts: listed, never overwritten
    for k in outcome.conflicts:
        log.append({"customer_id": k.master_id,
                    "field": zh_or_en(lang, "冲突（保留主记录的值）：", "conflict (master value kept): ") + header_of.get(k.field, k.field),
                    "old": shown(k.other_value) + zh_or_en(lang, f"（{k.other_id}）", f" ({k.other_id})"),
                    "new": shown(k.master_value)})

    # 4. merged rows → Archive (with the old → new ID map), then removed from Basic Info
    archived_rows = []
    stamp = pd.Timestamp(dt.datetime.now()).floor("s").to_pydatetime()
    for label in outcome.archived:
        old_id = str(c.at[label, "customer_id"])
        row = {zh_or_en(lang, "归档时间", "Archived"): stamp, zh_or_en(lang, "并入客户编号", "Merged into"): outcome.id_map[old_id],
               zh_or_en(lang, "原行号", "Original row"): int(c.at[label, "_row"])}
        for col, header in columns:
            value = cell_value(book, label, col)
            row[header] = value
            tag, text = encode_value(value)
            if tag:
                undo.append({"kind": "undo_row", "id_a": old_id, "id_b": outcome.id_map[old_id], "field": col,
                             "row": str(int(c.at[label, "_row"])), "vtype": tag, "value": text})
        archived_rows.append(row)
        log.append({"customer_id": old_id, "field": header_of.get("customer_id", "customer_id"), "old": old_id,
                    "new": zh_or_en(lang, f"已并入 {outcome.id_map[old_id]}，移至归档", f"merged into {outcome.id_map[old_id]}, archived")})
    if archived_rows:
        arch = pd.DataFrame(archived_rows)
        formats = {**column_formats(columns), arch.columns[0]: FMT_DATETIME}
        plan.add(AppendRows(book.sheet_name_for(ARCHIVE.key), arch, after=after_data_sheets(book),
                            number_formats=formats, owner=ARCHIVE.key))
    if log:
        plan.add(change_log_edit(book, log_rows(log, ctx.user, op), lang))
    nd_new = decisions.not_duplicate_pairs() - memory.not_duplicates()
    mem_rows = [{"kind": "not_duplicate", "id_a": a, "id_b": b, "time": batch, "user": ctx.user} for a, b in sorted(nd_new)]
    if outcome.archived:
        deleted = sorted(int(c.at[lab, "_row"]) for lab in outcome.archived)
        plan.add(DeleteRows(info.name, deleted))
        merged_ids = set(outcome.id_map) | set(outcome.id_map.values())
        dup = dup_by_key(dup_sheet)
        done = dup["customer_id"].isin(merged_ids).groupby(dup["group"]).transform("any")
        mem_rows += undo + [{"kind": "undo_dup", "id_a": r["customer_id"], "id_b": r["group"], "time": batch,
                             "value": json.dumps({k: shown(v) for k, v in r.items()}, ensure_ascii=False)}
                            for r in dup[done].to_dict("records")]
        plan.add(memory_edit(book, memory.with_rows(UNDO_KINDS, mem_rows)))
        shift = DeleteShift(deleted)
        plan.add(duplicates_sheet_edit(book, dup[~done], {cid: shift.row(r) for cid, r in rows_by_id(c).items()}, lang))
    elif mem_rows:
        plan.add(memory_edit(book, memory.with_rows((), mem_rows)))

    n_groups, n_merged = len(groups), len(outcome.archived)
    children = sum(len(m) for m in outcome.repoint.values())
    msg = Msg("合并完成：{g} 组，{m} 条记录并入主记录，{f} 个空白字段已补全，{ch} 条跟进/购买记录改指主记录，"
              "{k} 处冲突已列入“变更记录”（未覆盖）。被合并的记录已移至“{arch}”。可用“撤销合并”恢复。{notes}",
              "Merge done: {g} groups, {m} records merged into their masters, {f} blank fields filled, {ch} follow-up/"
              "purchase rows re-pointed, {k} conflicts listed in the Change Log (not overwritten). Merged records "
              "moved to '{arch}'. Undo merge restores them.{notes_en}",
              {"g": n_groups, "m": n_merged, "f": len(outcome.fills), "ch": children, "k": len(outcome.conflicts),
               "arch": book.sheet_name_for(ARCHIVE.key),
               "notes": "".join("\n" + n.text("zh-CN") for n in notes),
               "notes_en": "".join("\n" + n.text("en") for n in notes)})
    if not groups:
        msg = Msg("没有要合并的组：请在“查重”工作表的“决定”列填写“合并”或“保留为主”。{notes}",
                  "Nothing to merge: fill the Decision column of the Duplicates sheet with Merge or Keep as master.{notes_en}",
                  {"notes": "".join("\n" + n.text("zh-CN") for n in notes),
                   "notes_en": "".join("\n" + n.text("en") for n in notes)})
    res = CommandResult("merge", msg, {"groups": n_groups, "merged": n_merged, "filled": len(outcome.fills),
                                       "repointed": children, "conflicts": len(outcome.conflicts),
                                       "ignored": len(ignored)},
                        data={"id_map": outcome.id_map,
                              "ignored": [{**i, "reason": i["reason"].text(lang)} for i in ignored],
                              "conflicts": [{"master": k.master_id, "other": k.other_id, "field": k.field,
                                             "master_value": shown(k.master_value),
                                             "other_value": shown(k.other_value)} for k in outcome.conflicts]})
    return Planned(plan, res, book)


UNDO_KINDS = ("undo_batch", "undo_fill", "undo_repoint", "undo_row", "undo_dup")


def row_word(lang: str) -> str:
    return "row" if lang == "en" else "行"


def shown(value: object) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d") if (value.hour, value.minute) == (0, 0) else value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def rows_by_id(customers: pd.DataFrame) -> dict[str, int]:
    ids = customers["customer_id"].astype(object).where(customers["customer_id"].notna(), "").astype(str).str.strip()
    return {cid: int(r) for cid, r in zip(ids, customers["_row"], strict=True) if cid}


def dup_by_key(sheet: pd.DataFrame) -> pd.DataFrame:
    """The Duplicates sheet as read (all text), with its columns named by key (the sheet's language aside)."""
    keys = [k for k, _, _ in DUP_COLUMNS]
    frame = sheet.copy()
    frame.columns = [dup_key(c) or c for c in sheet.columns]
    frame = frame.loc[:, ~frame.columns.duplicated()].reindex(columns=keys)
    frame = frame.astype(object).where(frame.notna(), "")
    frame["customer_id"] = frame["customer_id"].astype(str).str.strip()
    frame["group"] = frame["group"].astype(str).str.replace(r"\.0$", "", regex=True)
    return frame.reset_index(drop=True)


def as_number(text: object) -> object:
    try:
        x = float(str(text))
    except ValueError:
        return None
    return int(x) if x.is_integer() else x


def duplicates_sheet_edit(book: CrmBook, frame: pd.DataFrame, row_of: dict[str, int | None], lang: str) -> SheetReplace:
    """The Duplicates sheet rewritten: the rows' current Basic Info row numbers, numbers stored as numbers."""
    df = frame.copy()
    df["row"] = [row_of.get(cid) or as_number(r) for cid, r in zip(df["customer_id"], df["row"], strict=True)]
    for key in ("group", "row", "score"):
        df[key] = [as_number(v) for v in df[key]]
    df.columns = [dup_header(k, zh, en, lang) for k, zh, en in DUP_COLUMNS]
    return duplicates_edit(book, df.reset_index(drop=True), lang)


__all__ = ["plan_merge_book"]
