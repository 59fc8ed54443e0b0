"""Undo import (撤销导入): revert one import from what its Change Log rows recorded.

An updated cell gets its old value back unless it was changed since (then the newer value stays and
is listed); an appended row is removed (DeleteRows) if it still holds the customer it was added for.
"""

from __future__ import annotations

import re

import pandas as pd

from .. import schema
from ..errors import Msg, XlcrmError
from ..ops.changelog import LOG_COLUMNS, log_rows
from ..schema import CHANGE_LOG, Kind
from ..workbook.book import CrmBook
from ..workbook.edits import ColumnWrite, DeleteRows, EditPlan
from .base import CommandResult, Context, Planned, change_log_edit, zh_or_en
from .import_plan import IMPORT_ID, cell_style, old_value, shown

ROW_REF = re.compile(r"^(?P<sheet>.+)!(?P<row>\d+):(?P=row)$")
UNDO_WORDS = ("撤销", "撤銷", "undo")


def log_frame(sheet: pd.DataFrame | None) -> pd.DataFrame:
    """The Change Log with schema keys as columns (its headers may be in any language)."""
    if sheet is None or sheet.empty:
        return pd.DataFrame(columns=list(LOG_COLUMNS))
    names = {}
    for header in sheet.columns:
        norm = schema.normalize_name(schema.simplified(str(header)))
        for col in CHANGE_LOG.columns:
            if norm in {schema.normalize_name(n) for n in (col.key, col.zh, col.en, col.tw) if n}:
                names[header] = col.key
    frame = sheet.rename(columns=names).reindex(columns=list(LOG_COLUMNS))
    return frame.astype(object).where(frame.notna(), None)


def last_import(log: pd.DataFrame) -> str | None:
    """The id of the newest import that has not been undone."""
    done, undone = [], set()
    for op in log["operation"].dropna().astype(str):
        m = IMPORT_ID.search(op)
        if not m:
            continue
        if any(w in op.lower() for w in UNDO_WORDS):
            undone.add(m.group(0))
        elif m.group(0) not in done:
            done.append(m.group(0))
    todo = [i for i in done if i not in undone]
    return todo[-1] if todo else None  # the log is in time order


def _parse(text: object, kind: Kind | None) -> object:
    """A Change Log cell (read back as text) → the value to write back into the user's cell."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if kind == Kind.DATE:
        stamp = pd.to_datetime(str(text), errors="coerce")
        return str(text) if pd.isna(stamp) else stamp.to_pydatetime()
    if kind in (Kind.MONEY, Kind.NUMBER):
        try:
            return float(str(text).replace(",", ""))
        except ValueError:
            return str(text)
    return str(text)


def _same(current: object, logged: object, kind: Kind | None) -> bool:
    if kind == Kind.DATE:
        a = pd.to_datetime(current, errors="coerce") if current is not None else pd.NaT
        b = pd.to_datetime(logged, errors="coerce") if logged is not None else pd.NaT
        return (pd.isna(a) and pd.isna(b)) or (not pd.isna(a) and not pd.isna(b) and a.normalize() == b.normalize())
    if kind in (Kind.MONEY, Kind.NUMBER):
        try:
            return round(float(current), 2) == round(float(logged), 2)
        except (TypeError, ValueError):
            return current is None and logged is None
    return str(current or "").strip() == str(logged or "").strip()


def id_of(operation: object) -> str | None:
    m = IMPORT_ID.search(str(operation or ""))
    return m.group(0) if m else None


def plan_undo_import(book: CrmBook, ctx: Context, log_sheet: pd.DataFrame | None,
                     import_id: str | None = None) -> Planned:
    """Undo the import `import_id` (default: the last one not undone yet)."""
    lang = ctx.language(book)
    log = log_frame(log_sheet)
    import_id = import_id or last_import(log)
    if not import_id:
        raise XlcrmError("没有可撤销的导入（“{log}”中没有导入记录）。", "There is no import to undo (no import on '{log}').",
                         log=book.sheet_name_for("change_log"))
    rows = log[[id_of(op) == import_id for op in log["operation"]]]
    if rows.empty or any(any(w in str(op).lower() for w in UNDO_WORDS) for op in rows["operation"]):
        raise XlcrmError("导入 {id} 不存在或已撤销。", "Import {id} does not exist or was already undone.", id=import_id)
    plan = EditPlan(operation="undo_import")
    c, info = book.customers, book.sheets["customers"]
    ids = c["customer_id"].astype(object).where(c["customer_id"].notna(), "").astype(str).str.strip().str.upper()
    label_of = {v: lab for lab, v in ids.items() if v}
    out: list[dict] = []
    kept: list[str] = []
    by_col: dict[str, dict[int, object]] = {}
    deletes: dict[str, list[int]] = {}
    for r in rows.itertuples(index=False):
        field = str(r.field or "")
        cid = str(r.customer_id or "").strip()
        ref = ROW_REF.match(field)
        if ref:
            sheet, row = ref.group("sheet"), int(ref.group("row"))
            key = next((k for k, i in book.sheets.items() if i.name == sheet), None)
            frame = book.frame(key) if key else None
            here = frame[frame["_row"] == row] if frame is not None else None
            if here is None or here.empty or str(here["customer_id"].iloc[0] or "").strip().upper() != cid.upper():
                kept.append(f"{sheet}!{row}")
                continue
            deletes.setdefault(sheet, []).append(row)
            out.append({"customer_id": cid, "field": field, "old": zh_or_en(lang, "导入新增", "added by import"),
                        "new": zh_or_en(lang, "已删除", "removed")})
        elif cid and field and not IMPORT_ID.fullmatch(field):
            key = schema.match_header("customers", field) or (field if field in info.extra_columns else None)
            label = label_of.get(cid.upper())
            if key is None or label is None:
                kept.append(f"{cid} {field}")
                continue
            kind = schema.CUSTOMERS.column(key).kind if key in schema.CUSTOMERS.keys else None
            current = c.at[label, key] if key in c.columns else None
            current = None if current is None or (not isinstance(current, str) and pd.isna(current)) else current
            if kind in (Kind.CHOICE, Kind.BOOL):
                current = old_value(book, label, key)
            if not _same(current, _parse(r.new, kind), kind):
                kept.append(f"{cid} {field}")  # changed since the import: the user's newer value stays
                continue
            old = _parse(r.old, kind)
            by_col.setdefault(key, {})[int(c.at[label, "_row"])] = old
            out.append({"customer_id": cid, "field": field, "old": r.new, "new": shown(old)})
    for key, values in by_col.items():
        plan.add(ColumnWrite(info.name, info.header_of(key), info.header_row, values,
                             col=info.columns.get(key) or info.extra_columns.get(key), style=cell_style(key, "customers")))
    for sheet, numbers in deletes.items():
        plan.add(DeleteRows(sheet, sorted(numbers)))
    plan.add(change_log_edit(book, log_rows(out or [{"customer_id": "", "field": import_id, "old": "", "new": ""}], ctx.user,
                                        f"{zh_or_en(lang, '撤销导入', 'Undo import')} {import_id}"), lang))
    removed = sum(len(v) for v in deletes.values())
    msg = Msg("已撤销导入 {id}：删除新增的 {n} 行，恢复 {c} 个单元格。{kept}",
              "Import {id} undone: {n} added rows removed, {c} cells restored.{kept_en}",
              {"id": import_id, "n": removed, "c": sum(len(v) for v in by_col.values()),
               "kept": f"{len(kept)} 处导入后已被修改，保留现状：{'、'.join(kept[:10])}" if kept else "",
               "kept_en": f" {len(kept)} changed since the import, left as they are: {', '.join(kept[:10])}"
               if kept else ""})
    return Planned(plan, CommandResult("import", msg, {"removed_rows": removed, "restored_cells":
                                                      sum(len(v) for v in by_col.values()), "kept": len(kept)},
                                       data={"import_id": import_id, "kept": kept}), book)


__all__ = ["last_import", "plan_undo_import"]
