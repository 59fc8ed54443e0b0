"""Undo merge (撤销合并): restore the last merge — rows, IDs, child rows, filled cells — from the
undo record merge left on the dedupe memory sheet."""

from __future__ import annotations

import json

import pandas as pd

from ..errors import Msg, XlcrmError
from ..ops.changelog import log_rows
from ..ops.merge import decode_value
from ..schema import ARCHIVE, match_header
from ..workbook.book import CrmBook
from ..workbook.edits import (
    CellStyle,
    ColumnWrite,
    DeleteRows,
    EditPlan,
    InsertRows,
)
from ..workbook.writer.rowshift import InsertShift
from .base import CommandResult, Context, Planned, change_log_edit, zh_or_en
from .dedupe import (
    Memory,
    memory_edit,
)
from .merge_plan import (
    UNDO_KINDS,
    as_number,
    column_formats,
    customer_columns,
    dup_by_key,
    duplicates_sheet_edit,
    row_word,
    shown,
)


def plan_undo(book: CrmBook, ctx: Context, *, memory_sheet: pd.DataFrame | None,
              dup_sheet: pd.DataFrame | None = None, archive_sheet: pd.DataFrame | None = None) -> Planned:
    lang = ctx.language(book)
    memory = Memory.read(memory_sheet)
    rows = memory.of_kind("undo_row")
    if not len(memory.of_kind("undo_batch")):
        raise XlcrmError("没有可撤销的合并。", "There is no merge to undo.")
    info = book.sheets["customers"]
    plan = EditPlan(operation="undo_merge")
    columns = customer_columns(book)
    header_of = dict(columns)
    c = book.customers
    ids = c["customer_id"].astype(object).where(c["customer_id"].notna(), "").astype(str).str.strip()
    row_of = dict(zip(ids, c["_row"].astype(int), strict=True))
    log: list[dict] = []
    op = zh_or_en(lang, "撤销合并", "Undo merge")

    # 1. filled cells blank again
    for _, u in memory.of_kind("undo_fill").iterrows():
        col, mid = str(u["field"]), str(u["id_a"])
        if mid in row_of and col in header_of:
            plan.add(ColumnWrite(info.name, header_of[col], info.header_row, {row_of[mid]: None},
                                 col=info.columns.get(col) or info.extra_columns.get(col)))
            log.append({"customer_id": mid, "field": header_of[col], "old": shown(c.at[c.index[ids == mid][0], col]),
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
                            f"({row_word(lang)} {r})", "old": str(m["id_b"]), "new": str(m["id_a"])})
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
                    "old": zh_or_en(lang, "已归档", "archived"), "new": zh_or_en(lang, "已恢复", "restored")})
    if restored:
        formats = {col_of[k]: column_formats(columns)[h] for k, h in columns if h in column_formats(columns) and k in col_of}
        plan.add(InsertRows(info.name, restored, number_formats=formats))
        archived = _archive_rows(book, archive_sheet, masters)
        if archived:
            plan.add(DeleteRows(book.sheet_name_for(ARCHIVE.key), archived))
    plan.add(change_log_edit(book, log_rows(log, ctx.user, op), lang))
    plan.add(memory_edit(book, memory.with_rows(UNDO_KINDS, [])))
    if dup_sheet is not None and restored:
        shift = InsertShift(list(restored))
        now = {cid: shift.row(r) for cid, r in row_of.items() if cid}
        now.update({str(i): int(float(r)) for i, r in zip(rows["id_a"], rows["row"], strict=True)})
        plan.add(duplicates_sheet_edit(book, _restored_groups(dup_by_key(dup_sheet), memory), now, lang))
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
    numbers = [as_number(g) for g in dup["group"]]
    start = max([int(g) for g in numbers if isinstance(g, int)], default=0)
    renumber = {g: start + n for n, g in enumerate(dict.fromkeys(back["group"]), start=1)}
    back["group"] = back["group"].map(renumber).astype(str)
    return pd.concat([dup, back], ignore_index=True)


__all__ = ["plan_undo"]
