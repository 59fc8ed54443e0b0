"""Merge (合并) and Undo merge (撤销合并) of the duplicates decided on the Duplicates sheet.

- `merge`: merge the groups marked on the Duplicates sheet: the master keeps its ID and gets its
  blanks filled, conflicts are listed in the Change Log (never overwritten), follow-ups and
  purchases are re-pointed, merged rows move to the Archive, and an undo record is kept.
- `merge` with `undo`: restore the last merge (rows, IDs, child rows, filled cells).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd

from ..errors import Location, Msg, XlcrmError
from ..ops.changelog import LOG_COLUMNS
from ..ops.merge import MergeGroup, decode_value, encode_value, is_blank, kind_of, plan_merge
from ..schema import ARCHIVE, CUSTOMERS, DEDUPE_MEMORY, DUPLICATES, Kind, match_header
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
    InsertRows,
    SheetReplace,
)
from ..workbook.port import WorkbookPort
from ..workbook.writer.rowshift import DeleteShift, InsertShift
from .base import CommandResult, Context, Planned, after_data_sheets, apply_planned, change_log_edit, command
from .dedupe import (
    DUP_COLUMNS,
    MASTER,
    MERGE,
    NOT_DUP,
    Memory,
    SheetDecisions,
    _dup_header,
    _dup_key,
    _label,
    _now,
    duplicates_edit,
    memory_edit,
    read_decisions,
)


def _customer_columns(book: CrmBook) -> list[tuple[str, str]]:
    """(frame column, header on the sheet) for every column of Basic Info, in sheet order."""
    info = book.sheets["customers"]
    cols = [(k, info.headers.get(k) or CUSTOMERS.column(k).header(book.lang), i) for k, i in info.columns.items()]
    cols += [(h, h, i) for h, i in info.extra_columns.items() if h in book.customers.columns]
    return [(k, h) for k, h, _ in sorted(cols, key=lambda t: t[2])]


def _cell_value(book: CrmBook, label, column: str) -> object:
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


def _formats(columns: list[tuple[str, str]]) -> dict[str, str]:
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


def _log(rows: list[dict], ctx: Context, op: str) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer_id", "field", "old", "new"])
    df.insert(0, "operation", op)
    df.insert(0, "user", ctx.user)
    df.insert(0, "time", pd.Timestamp(dt.datetime.now()).floor("s"))
    return df[list(LOG_COLUMNS)]


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
    columns = _customer_columns(book)
    header_of = dict(columns)
    op = _label(lang, "合并", "Merge")
    log: list[dict] = []
    undo: list[dict] = []
    batch = _now()
    undo.append({"kind": "undo_batch", "id_a": batch, "time": batch, "user": ctx.user})

    # 1. the master's blanks, filled (user-typed text for choices)
    by_col: dict[str, dict[int, object]] = {}
    for (master, col), _value in outcome.fills.items():
        src = next(g for g in groups if g.master == master)
        donor = next(lab for lab in src.merged if not is_blank(c.at[lab, col]))
        value = _cell_value(book, donor, col)
        row = int(c.at[master, "_row"])
        by_col.setdefault(col, {})[row] = value
        mid = str(c.at[master, "customer_id"])
        log.append({"customer_id": mid, "field": header_of.get(col, col), "old": "", "new": _shown(value)})
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
            log.append({"customer_id": new, "field": f"{sinfo.name}!{sinfo.header_of('customer_id')} ({_row_word(lang)} {r})",
                        "old": old, "new": new})
            undo.append({"kind": "undo_repoint", "id_a": old, "id_b": new, "sheet": key, "row": str(r)})

    # 3. conflicts: listed, never overwritten
    for k in outcome.conflicts:
        log.append({"customer_id": k.master_id,
                    "field": _label(lang, "冲突（保留主记录的值）：", "conflict (master value kept): ") + header_of.get(k.field, k.field),
                    "old": _shown(k.other_value) + _label(lang, f"（{k.other_id}）", f" ({k.other_id})"),
                    "new": _shown(k.master_value)})

    # 4. merged rows → Archive (with the old → new ID map), then removed from Basic Info
    archived_rows = []
    stamp = pd.Timestamp(dt.datetime.now()).floor("s").to_pydatetime()
    for label in outcome.archived:
        old_id = str(c.at[label, "customer_id"])
        row = {_label(lang, "归档时间", "Archived"): stamp, _label(lang, "并入客户编号", "Merged into"): outcome.id_map[old_id],
               _label(lang, "原行号", "Original row"): int(c.at[label, "_row"])}
        for col, header in columns:
            value = _cell_value(book, label, col)
            row[header] = value
            tag, text = encode_value(value)
            if tag:
                undo.append({"kind": "undo_row", "id_a": old_id, "id_b": outcome.id_map[old_id], "field": col,
                             "row": str(int(c.at[label, "_row"])), "vtype": tag, "value": text})
        archived_rows.append(row)
        log.append({"customer_id": old_id, "field": header_of.get("customer_id", "customer_id"), "old": old_id,
                    "new": _label(lang, f"已并入 {outcome.id_map[old_id]}，移至归档", f"merged into {outcome.id_map[old_id]}, archived")})
    if archived_rows:
        arch = pd.DataFrame(archived_rows)
        formats = {**_formats(columns), arch.columns[0]: FMT_DATETIME}
        plan.add(AppendRows(book.sheet_name_for(ARCHIVE.key), arch, after=after_data_sheets(book),
                            number_formats=formats, owner=ARCHIVE.key))
    if log:
        plan.add(change_log_edit(book, _log(log, ctx, op), lang))
    nd_new = decisions.not_duplicate_pairs() - memory.not_duplicates()
    mem_rows = [{"kind": "not_duplicate", "id_a": a, "id_b": b, "time": batch, "user": ctx.user} for a, b in sorted(nd_new)]
    if outcome.archived:
        deleted = sorted(int(c.at[lab, "_row"]) for lab in outcome.archived)
        plan.add(DeleteRows(info.name, deleted))
        merged_ids = set(outcome.id_map) | set(outcome.id_map.values())
        dup = _dup_by_key(dup_sheet)
        done = dup["customer_id"].isin(merged_ids).groupby(dup["group"]).transform("any")
        mem_rows += undo + [{"kind": "undo_dup", "id_a": r["customer_id"], "id_b": r["group"], "time": batch,
                             "value": json.dumps({k: _shown(v) for k, v in r.items()}, ensure_ascii=False)}
                            for r in dup[done].to_dict("records")]
        plan.add(memory_edit(book, memory.with_rows(UNDO_KINDS, mem_rows)))
        shift = DeleteShift(deleted)
        plan.add(_duplicates_edit(book, dup[~done], {cid: shift.row(r) for cid, r in _rows_by_id(c).items()}, lang))
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
                                             "master_value": _shown(k.master_value),
                                             "other_value": _shown(k.other_value)} for k in outcome.conflicts]})
    return Planned(plan, res, book)


UNDO_KINDS = ("undo_batch", "undo_fill", "undo_repoint", "undo_row", "undo_dup")


def _row_word(lang: str) -> str:
    return "row" if lang == "en" else "行"


def _shown(value: object) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d") if (value.hour, value.minute) == (0, 0) else value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _rows_by_id(customers: pd.DataFrame) -> dict[str, int]:
    ids = customers["customer_id"].astype(object).where(customers["customer_id"].notna(), "").astype(str).str.strip()
    return {cid: int(r) for cid, r in zip(ids, customers["_row"], strict=True) if cid}


def _dup_by_key(sheet: pd.DataFrame) -> pd.DataFrame:
    """The Duplicates sheet as read (all text), with its columns named by key (the sheet's language aside)."""
    keys = [k for k, _, _ in DUP_COLUMNS]
    frame = sheet.copy()
    frame.columns = [_dup_key(c) or c for c in sheet.columns]
    frame = frame.loc[:, ~frame.columns.duplicated()].reindex(columns=keys)
    frame = frame.astype(object).where(frame.notna(), "")
    frame["customer_id"] = frame["customer_id"].astype(str).str.strip()
    frame["group"] = frame["group"].astype(str).str.replace(r"\.0$", "", regex=True)
    return frame.reset_index(drop=True)


def _number(text: object) -> object:
    try:
        x = float(str(text))
    except ValueError:
        return None
    return int(x) if x.is_integer() else x


def _duplicates_edit(book: CrmBook, frame: pd.DataFrame, row_of: dict[str, int | None], lang: str) -> SheetReplace:
    """The Duplicates sheet rewritten: the rows' current Basic Info row numbers, numbers stored as numbers."""
    df = frame.copy()
    df["row"] = [row_of.get(cid) or _number(r) for cid, r in zip(df["customer_id"], df["row"], strict=True)]
    for key in ("group", "row", "score"):
        df[key] = [_number(v) for v in df[key]]
    df.columns = [_dup_header(k, zh, en, lang) for k, zh, en in DUP_COLUMNS]
    return duplicates_edit(book, df.reset_index(drop=True), lang)


# --------------------------------------------------------------------------- undo


def plan_undo(book: CrmBook, ctx: Context, *, memory_sheet: pd.DataFrame | None,
              dup_sheet: pd.DataFrame | None = None, archive_sheet: pd.DataFrame | None = None) -> Planned:
    lang = ctx.language(book)
    memory = Memory.read(memory_sheet)
    rows = memory.of_kind("undo_row")
    if not len(memory.of_kind("undo_batch")):
        raise XlcrmError("没有可撤销的合并。", "There is no merge to undo.")
    info = book.sheets["customers"]
    plan = EditPlan(operation="undo_merge")
    columns = _customer_columns(book)
    header_of = dict(columns)
    c = book.customers
    ids = c["customer_id"].astype(object).where(c["customer_id"].notna(), "").astype(str).str.strip()
    row_of = dict(zip(ids, c["_row"].astype(int), strict=True))
    log: list[dict] = []
    op = _label(lang, "撤销合并", "Undo merge")

    # 1. filled cells blank again
    for _, u in memory.of_kind("undo_fill").iterrows():
        col, mid = str(u["field"]), str(u["id_a"])
        if mid in row_of and col in header_of:
            plan.add(ColumnWrite(info.name, header_of[col], info.header_row, {row_of[mid]: None},
                                 col=info.columns.get(col) or info.extra_columns.get(col)))
            log.append({"customer_id": mid, "field": header_of[col], "old": _shown(c.at[c.index[ids == mid][0], col]),
                        "new": ""})
    # 2. child rows pointed back
    skipped = 0
    for key in ("followups", "purchases", "service"):
        moves = memory.of_kind("undo_repoint")
        moves = moves[moves["sheet"] == key]
        if not len(moves) or key not in book.sheets:
            continue
        sinfo = book.sheets[key]
        frame = book.frame(key)
        current = dict(zip(frame["_row"].astype(int), frame["customer_id"].astype(object), strict=True))
        values = {}
        for _, m in moves.iterrows():
            r = int(float(m["row"]))
            if str(current.get(r) or "").strip() == str(m["id_b"]):
                values[r] = str(m["id_a"])
                log.append({"customer_id": str(m["id_a"]), "field": f"{sinfo.name}!{sinfo.header_of('customer_id')} "
                            f"({_row_word(lang)} {r})", "old": str(m["id_b"]), "new": str(m["id_a"])})
            else:
                skipped += 1
        if values:
            plan.add(ColumnWrite(sinfo.name, sinfo.header_of("customer_id"), sinfo.header_row, values,
                                 col=sinfo.columns.get("customer_id"), style=CellStyle(number_format="@")))
    # 3. archived rows back on Basic Info, each at the row it had, and out of the Archive
    col_of = {**info.extra_columns, **info.columns}
    restored: dict[int, dict[int, object]] = {}
    masters: dict[str, str] = {}
    for (orig_row, old_id), cells in rows.groupby([rows["row"].astype(float).astype(int), rows["id_a"]], sort=True):
        restored[int(orig_row)] = {col_of[str(f)]: decode_value(t, v) for f, t, v in
                                   zip(cells["field"], cells["vtype"], cells["value"], strict=True)
                                   if str(f) in col_of}
        masters[str(old_id)] = str(cells["id_b"].iloc[0])
        log.append({"customer_id": str(old_id), "field": header_of.get("customer_id", "customer_id"),
                    "old": _label(lang, "已归档", "archived"), "new": _label(lang, "已恢复", "restored")})
    if restored:
        formats = {col_of[k]: _formats(columns)[h] for k, h in columns if h in _formats(columns) and k in col_of}
        plan.add(InsertRows(info.name, restored, number_formats=formats))
        archived = _archive_rows(book, archive_sheet, masters)
        if archived:
            plan.add(DeleteRows(book.sheet_name_for(ARCHIVE.key), archived))
    plan.add(change_log_edit(book, _log(log, ctx, op), lang))
    plan.add(memory_edit(book, memory.with_rows(UNDO_KINDS, [])))
    if dup_sheet is not None and restored:
        shift = InsertShift(list(restored))
        now = {cid: shift.row(r) for cid, r in row_of.items() if cid}
        now.update({str(i): int(float(r)) for i, r in zip(rows["id_a"], rows["row"], strict=True)})
        plan.add(_duplicates_edit(book, _restored_groups(_dup_by_key(dup_sheet), memory), now, lang))
    msg = Msg("已撤销上次合并：{n} 条客户记录放回“{sheet}”原来的行并移出“{arch}”，{ch} 条跟进/购买记录改回原编号。{skip}",
              "Last merge undone: {n} customer records back on their old rows of '{sheet}' and out of '{arch}', "
              "{ch} follow-up/purchase rows pointed back.{skip_en}",
              {"n": len(restored), "ch": len(memory.of_kind("undo_repoint")) - skipped, "sheet": info.name,
               "arch": book.sheet_name_for(ARCHIVE.key),
               "skip": f"{skipped} 条已被修改，未改动。" if skipped else "",
               "skip_en": f" {skipped} rows changed since, left alone." if skipped else ""})
    res = CommandResult("merge", msg, {"restored": len(restored), "skipped": skipped})
    return Planned(plan, res, book)


def _archive_rows(book: CrmBook, archive: pd.DataFrame | None, masters: dict[str, str]) -> list[int]:
    """Rows of the Archive holding the records being restored (the latest one of each)."""
    if archive is None or archive.empty:
        return []
    id_col = next((h for h in archive.columns if match_header("customers", h) == "customer_id"), None)
    into = next((h for h in archive.columns if str(h) in ("并入客户编号", "Merged into", "併入客戶編號")), None)
    if id_col is None:
        return []
    found: dict[str, int] = {}
    for i, (cid, master) in enumerate(zip(archive[id_col], archive[into] if into else [None] * len(archive),
                                          strict=True)):
        cid = str(cid or "").strip()
        if cid in masters and (master is None or str(master).strip() == masters[cid]):
            found[cid] = i + 2  # row 1 is the header
    return sorted(found.values())


def _restored_groups(dup: pd.DataFrame, memory: Memory) -> pd.DataFrame:
    """The Duplicates rows as they are, plus the groups the undone merge had taken off (decision cleared)."""
    saved = memory.of_kind("undo_dup")
    if not len(saved):
        return dup
    back = pd.DataFrame([json.loads(v) for v in saved["value"]]).reindex(columns=dup.columns).fillna("")
    back["decision"] = ""
    numbers = [_number(g) for g in dup["group"]]
    start = max([int(g) for g in numbers if isinstance(g, int)], default=0)
    renumber = {g: start + n for n, g in enumerate(dict.fromkeys(back["group"]), start=1)}
    back["group"] = back["group"].map(renumber).astype(str)
    return pd.concat([dup, back], ignore_index=True)


@command("merge", "合并", "Merge", "合并“查重”工作表上标记的重复客户（--undo 撤销上次合并）",
         "Merge the duplicates marked on the Duplicates sheet (--undo restores the last merge)")
def merge_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    book = port.read()
    mem = port.read_sheet(book.sheet_name_for(DEDUPE_MEMORY.key))
    dup = port.read_sheet(book.sheet_name_for(DUPLICATES.key))
    if ctx.options.get("undo"):
        planned = plan_undo(book, ctx, memory_sheet=mem, dup_sheet=dup,
                            archive_sheet=port.read_sheet(book.sheet_name_for(ARCHIVE.key)))
    else:
        planned = plan_merge_book(book, ctx, dup_sheet=dup, memory_sheet=mem)
    return apply_planned(port, planned, ctx)


@command("undo_merge", "撤销合并", "Undo merge", "撤销上次合并", "Restore the last merge")
def undo_merge_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    book = port.read()
    mem = port.read_sheet(book.sheet_name_for(DEDUPE_MEMORY.key))
    planned = plan_undo(book, ctx, memory_sheet=mem, dup_sheet=port.read_sheet(book.sheet_name_for(DUPLICATES.key)),
                        archive_sheet=port.read_sheet(book.sheet_name_for(ARCHIVE.key)))
    return apply_planned(port, planned, ctx)



__all__ = ["plan_merge_book", "plan_undo"]
