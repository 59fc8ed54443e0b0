"""Import (导入): bring a CSV's or another workbook's rows into the CRM workbook, and undo it.

    xlcrm import 客户.csv crm.xlsx --dry-run     # the header mapping and the counts, nothing written
    xlcrm import 客户.csv crm.xlsx               # update matched customers, append the new rows
    xlcrm import --undo crm.xlsx                 # revert the last import

What to change is decided by `ops.importing`; this module reads the source, turns the decision
into edits and records it. Every import has an id (IMP-YYYYMMDD-HHMMSS); its Change Log rows carry
it in the Operation column — one row per updated cell (old → new) and one per appended row (its
sheet and row, like 客户资料!57:57) — which is everything `--undo` needs: it restores the old
values of cells nobody changed since and removes the appended rows that still hold what was imported.
It is a CLI / API command, not a ribbon button: it needs a second file.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from .. import schema
from ..errors import Msg, SchemaError, XlcrmError
from ..ops.changelog import log_rows
from ..ops.ids import assign_missing_ids
from ..ops.importing import Incoming, RowError, decide
from ..schema import IMPORT_REPORT, Kind
from ..workbook.book import CrmBook
from ..workbook.edits import FMT_DATE, FMT_MONEY, AppendRows, Block, CellStyle, ColumnWrite, EditPlan, SheetReplace
from .base import CommandResult, Context, Planned, after_data_sheets, change_log_edit, tool_frame, zh_or_en

IMPORT_ID = re.compile(r"IMP-\d{8}-\d{6}(?:-\d+)?")


# --------------------------------------------------------------------------- the source


def read_source(path: Path, sheet: str | None = None) -> tuple[list[Incoming], list, str]:
    """The data sheets of a CSV or workbook → (incoming sheets, reading problems, source language)."""
    from ..workbook.guard import ensure_readable
    from ..workbook.reader import read_book

    path = Path(path)
    key = None
    if sheet:
        key = schema.match_sheet(sheet)
        if key not in ("customers", "followups", "purchases"):
            raise XlcrmError("“{sheet}”不是数据工作表：请用 客户资料、跟进记录 或 购买记录。",
                             "'{sheet}' is not a data sheet: use customers, followups or purchases.", sheet=sheet)
    if ensure_readable(path) == "csv":
        from ..workbook.csv_input import read_csv_sheet

        book = read_csv_sheet(path, key)
    else:
        try:
            book = read_book(path)
        except SchemaError:
            if key is None:
                raise
            book = None
        if key is not None and (book is None or key not in book.sheets):
            book = _single_sheet(path, key)
    incoming = []
    for k, info in book.sheets.items():
        if key is not None and k != key:
            continue
        frame = book.frame(k)
        extra = [h for h in info.extra_columns if h in frame.columns]
        if len(frame):
            incoming.append(Incoming(k, info.name, frame, book.raw[k], dict(info.headers), extra))
    return incoming, book.problems, book.lang


def _single_sheet(path: Path, key: str) -> CrmBook:
    """A workbook without Basic Info (say, an order export): the first sheet whose headers fit `key`."""
    from ..ops import normalize
    from ..workbook.reader import empty_raw, find_header, load_grid, open_workbook, read_data_sheet

    xl = open_workbook(path, "ooxml")
    for name in xl.sheet_names:
        grid = load_grid(xl, name)
        if find_header(key, grid.head(30)) is not None:
            typed, raw, info, problems = read_data_sheet(grid, key)
            frames = {k: normalize.empty_frame(k) for k in ("customers", "followups", "purchases")}
            raws = {k: empty_raw(k) for k in frames}
            frames[key], raws[key] = typed, raw
            return CrmBook(frames["customers"], frames["followups"], frames["purchases"], sheets={key: info},
                           sheet_names=list(xl.sheet_names), problems=problems, raw=raws, path=path)
    raise SchemaError("“{name}”中没有可导入的“{what}”表头。", "'{name}' has no '{what_en}' headers to import.",
                      name=path.name, what=schema.sheet_name(key, "zh-CN"), what_en=schema.sheet_name(key, "en"))


def header_mapping(book: CrmBook, incoming: list[Incoming], lang: str) -> list[dict]:
    """Source header → the book's column, one entry per source column (shown before anything is written)."""
    out = []
    for inc in incoming:
        spec = schema.SHEETS_BY_KEY[inc.key]
        info = book.sheets.get(inc.key)
        target_sheet = book.sheet_name_for(inc.key)
        for col in spec.columns:
            if col.key not in inc.headers:
                continue
            if col.computed:
                to, note = "", zh_or_en(lang, "计算列，不导入（由“评级”计算）", "computed column, not imported (Regrade fills it)")
            elif info is not None and col.key in info.columns:
                to, note = info.header_of(col.key), ""
            else:
                to, note = col.header(lang), zh_or_en(lang, "新列", "new column")
            out.append({"sheet": inc.key, "source_sheet": inc.sheet, "source": inc.headers[col.key], "field": col.key,
                        "target_sheet": target_sheet, "target": to, "note": note})
        for h in inc.extra:
            kept = info is not None and h in info.extra_columns
            out.append({"sheet": inc.key, "source_sheet": inc.sheet, "source": h, "field": None,
                        "target_sheet": target_sheet, "target": h,
                        "note": "" if kept else zh_or_en(lang, "新列（你自己的列）", "new column (your own)")})
    return out


# --------------------------------------------------------------------------- values


def _value(value: object, key: str, sheet_key: str, lang: str) -> object:
    """An incoming typed value as a cell: choices as labels in the book's language, dates as dates."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    spec = schema.SHEETS_BY_KEY[sheet_key]
    col = next((c for c in spec.columns if c.key == key), None)
    if col is not None and col.kind in (Kind.CHOICE, Kind.BOOL):
        return schema.choice_label(col.choices, value, lang)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def cell_style(key: str, sheet_key: str) -> CellStyle:
    col = next((c for c in schema.SHEETS_BY_KEY[sheet_key].columns if c.key == key), None)
    if col is None or col.is_text:
        return CellStyle(number_format="@")
    return CellStyle(number_format={Kind.DATE: FMT_DATE, Kind.MONEY: FMT_MONEY}.get(col.kind, "General"))


def old_value(book: CrmBook, label, key: str) -> object:
    """What the user had in a cell, as typed where it is text (so undo puts back "00123", not 123)."""
    raw = book.raw.get("customers")
    col = next((c for c in schema.CUSTOMERS.columns if c.key == key), None)
    if col is not None and (col.is_text or col.kind == Kind.BOOL) and raw is not None and key in raw.columns:
        text = raw.at[label, key]
        return None if pd.isna(text) else str(text)
    value = book.customers.at[label, key] if key in book.customers.columns else None
    return _value(value, key, "customers", book.lang)


def shown(value: object) -> object:
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return "" if value is None else value


# --------------------------------------------------------------------------- import


def _id_maker(book: CrmBook, archived: tuple[str, ...]):
    def new_ids(n: int) -> list[str]:
        frame = pd.DataFrame({"customer_id": [*book.customers["customer_id"].astype(object), *[None] * n]})
        referenced = (*book.followups["customer_id"].dropna(), *book.purchases["customer_id"].dropna())
        ids = assign_missing_ids(frame, book.settings, archived=archived, avoid=referenced)
        return ids[ids.index >= len(book.customers)].tolist()  # rows already lacking an ID get theirs from Check

    return new_ids


def plan_import(book: CrmBook, ctx: Context, incoming: list[Incoming], problems: list, *, source: str,
                archived: tuple[str, ...] = (), used_ids: set[str] = frozenset()) -> Planned:
    lang = ctx.language(book)
    now = dt.datetime.now().replace(microsecond=0)
    import_id, n = f"IMP-{now:%Y%m%d-%H%M%S}", 1
    while import_id in used_ids:  # two imports within one second
        n += 1
        import_id = f"IMP-{now:%Y%m%d-%H%M%S}-{n}"
    decision = decide({k: book.frame(k) for k in ("customers", "followups", "purchases")}, incoming,
                      problems=problems, new_ids=_id_maker(book, archived), region=book.settings.phone_region)
    mapping = header_mapping(book, incoming, lang)
    plan = EditPlan(operation="import")
    log: list[dict] = []
    counts = {"updated_customers": 0, "updated_cells": 0, "errors": len(decision.errors)}

    cust = decision.sheets.get("customers")
    if cust is not None and cust.changes:
        info = book.sheets["customers"]
        by_col: dict[str, dict[int, object]] = {}
        for ch in cust.changes:
            row = int(book.customers.at[ch.label, "_row"])
            new = _value(ch.new, ch.column, "customers", lang)
            by_col.setdefault(ch.column, {})[row] = new
            header = info.header_of(ch.column, _header(ch.column, "customers", lang))
            log.append({"customer_id": str(book.customers.at[ch.label, "customer_id"]), "field": header,
                        "old": shown(old_value(book, ch.label, ch.column)), "new": shown(new)})
        for key, values in by_col.items():
            plan.add(ColumnWrite(info.name, info.header_of(key, _header(key, "customers", lang)), info.header_row,
                                 values, col=info.columns.get(key) or info.extra_columns.get(key),
                                 style=cell_style(key, "customers"), header_style=CellStyle(bold=True)))
        counts["updated_customers"] = len({ch.label for ch in cust.changes})
        counts["updated_cells"] = len(cust.changes)

    for key in ("customers", "followups", "purchases"):
        part = decision.sheets.get(key)
        counts[f"new_{key}"] = 0 if part is None or part.new_rows is None else len(part.new_rows)
        if part is None or part.new_rows is None or part.new_rows.empty:
            continue
        edits, name, first = append_rows(book, key, part.new_rows, lang)
        for edit in edits:
            plan.add(edit)
        for i, (cid, src) in enumerate(zip(part.new_rows["customer_id"], part.new_rows["_source_row"], strict=True)):
            log.append({"customer_id": cid, "field": f"{name}!{first + i}:{first + i}", "old": "",
                        "new": zh_or_en(lang, f"新增（来源第 {src} 行）", f"added (source row {src})")})

    added = sum(counts[f"new_{k}"] for k in ("customers", "followups", "purchases"))
    if log:
        head = {"customer_id": "", "field": import_id, "old": source,
                "new": zh_or_en(lang, f"更新 {counts['updated_cells']} 格，新增 {added} 行，错误 {len(decision.errors)} 个",
                          f"{counts['updated_cells']} cells updated, {added} rows added, "
                          f"{len(decision.errors)} errors")}
        plan.add(change_log_edit(book, log_rows([head, *log], ctx.user, f"{zh_or_en(lang, '导入', 'Import')} {import_id}"), lang))
    plan.add(_report(book, decision.errors, mapping, import_id, source, lang))

    matched = cust.matched if cust else 0
    unchanged = sum(p.unchanged for p in decision.sheets.values())
    msg = Msg("导入 {id}（来自“{src}”）：匹配到 {m} 位已有客户，更新 {u} 位的 {c} 个单元格；新增客户 {nc} 位、跟进 {nf} 条、"
              "购买 {np} 条；{same} 行与工作簿相同未改动；{e} 个问题，见“{report}”。可用 `xlcrm import --undo` 撤销。",
              "Import {id} (from '{src}'): {m} existing customers matched, {c} cells of {u} updated; {nc} new "
              "customers, {nf} follow-ups and {np} purchases added; {same} rows already the same; {e} problems, see "
              "'{report}'. `xlcrm import --undo` reverts it.",
              {"id": import_id, "src": source, "m": matched, "u": counts["updated_customers"],
               "c": counts["updated_cells"], "nc": counts["new_customers"], "nf": counts["new_followups"],
               "np": counts["new_purchases"], "same": unchanged, "e": len(decision.errors),
               "report": book.sheet_name_for(IMPORT_REPORT.key)})
    counts.update(matched=matched, unchanged=unchanged)
    if cust is not None:
        counts.update({f"matched_by_{k}": v for k, v in cust.matched_by.items()})
    result = CommandResult("import", msg, counts, data={
        "import_id": import_id, "source": source, "mapping": mapping, "id_map": decision.id_map,
        "errors": [_error_dict(e) for e in decision.errors]})
    return Planned(plan, result, book)


def _header(key: str, sheet_key: str, lang: str) -> str:
    spec = schema.SHEETS_BY_KEY[sheet_key]
    return spec.column(key).header(lang) if key in spec.keys else key


def append_rows(book: CrmBook, key: str, rows: pd.DataFrame, lang: str) -> tuple[list, str, int]:
    """New rows below a sheet's last row: (edits, sheet, first row number). Excel Tables grow with them."""
    info = book.sheets.get(key)
    cols = [c for c in rows.columns if c != "_source_row"]
    headers = {c: (info.header_of(c, _header(c, key, lang)) if info else _header(c, key, lang)) for c in cols}
    df = pd.DataFrame({headers[c]: [_value(v, c, key, lang) for v in rows[c]] for c in cols})
    formats = {headers[c]: cell_style(c, key).number_format for c in cols}
    widths = {_header(c.key, key, lang): c.width for c in schema.SHEETS_BY_KEY[key].columns}
    if info is None:  # the book has no such sheet yet: created with the schema's headers
        name = book.sheet_name_for(key)
        return [AppendRows(name, df, after=after_data_sheets(book), number_formats=formats, widths=widths)], name, 2
    first = info.last_row + 1
    if info.header_row == 1:
        return [AppendRows(info.name, df, number_formats=formats, widths=widths)], info.name, first
    # A header below a title row: AppendRows finds headers on row 1 only, so write the columns in place.
    edits = [ColumnWrite(info.name, headers[c], info.header_row, {first + i: v for i, v in enumerate(df[headers[c]])},
                         col=info.columns.get(c) or info.extra_columns.get(c), style=cell_style(c, key),
                         header_style=CellStyle(bold=True)) for c in cols]
    return edits, info.name, first


def _error_dict(e: RowError) -> dict:
    return {"sheet": e.sheet, "row": e.row, "column": e.column, "value": e.value, "zh": e.why.text("zh-CN"),
            "en": e.why.text("en")}


def _report(book: CrmBook, errors: list[RowError], mapping: list[dict], import_id: str, source: str,
            lang: str) -> SheetReplace:
    df = pd.DataFrame([{"sheet": e.sheet, "row": e.row, "column": e.column, "value": "" if e.value is None else
                        str(e.value), "problem": e.why.text(lang)} for e in errors],
                      columns=[c.key for c in IMPORT_REPORT.columns])
    frame, formats, widths = tool_frame(IMPORT_REPORT, df, lang)
    title = zh_or_en(lang, f"导入 {import_id}（来自“{source}”）：{len(errors)} 个问题", f"Import {import_id} (from "
               f"'{source}'): {len(errors)} problems") + (zh_or_en(lang, " — 全部导入 ✓", " — everything imported ✓")
                                                         if not errors else "")
    heads = (zh_or_en(lang, "来源工作表", "Source sheet"), zh_or_en(lang, "来源列", "Source column"),
             zh_or_en(lang, "导入到", "Imported into"), zh_or_en(lang, "说明", "Note"))
    mapped = pd.DataFrame([(m["source_sheet"], m["source"], f"{m['target_sheet']} · {m['target']}" if m["target"]
                            else "—", m["note"]) for m in mapping], columns=list(heads))
    blocks = [Block(frame, title=title, number_formats=formats, widths=widths, autofilter=True),
              Block(mapped, title=zh_or_en(lang, "表头对应", "Header mapping"), widths=dict(zip(heads, (16, 18, 30, 30),
                                                                                       strict=True)))]
    return SheetReplace(book.sheet_name_for(IMPORT_REPORT.key), blocks, after=after_data_sheets(book))


__all__ = ["IMPORT_ID", "append_rows", "cell_style", "header_mapping", "old_value", "plan_import",
           "read_source", "shown"]
