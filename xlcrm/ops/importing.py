"""Import (导入): decide what rows from another file do to a CRM workbook. Pure: frames in, decisions out.

- Customers are matched to the book by key, in order: customer ID, then mobile, e-mail and unified
  social credit code, normalised as duplicate-finding normalises them (+86 and spaces, case, …).
  A matched customer gets the incoming values that differ from what the book holds; a blank
  incoming cell never clears the book's value. An unmatched customer is a new row with a new ID.
- Follow-ups and purchases are appended; their customer ID may be the source's own (re-pointed to
  the ID the customer has in the book) or one the book already has. A row already in the book
  (same customer, date and content) is not added twice, so an import can be repeated.
- Every incoming cell xlcrm cannot take (an unreadable date, an unknown choice, a missing required
  value, a customer that cannot be found) is one `RowError`, located in the *source* as its user sees it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema
from ..errors import Msg
from ..schema import Kind
from . import dedupe_normalize as dn
from .changelog import same_values

ROW = "_row"
KEYS = ("customer_id", "mobile", "email", "credit_code")
CREDIT_HEADERS = ("统一社会信用代码", "社会信用代码", "信用代码", "统一信用代码", "税号", "纳税人识别号", "統一社會信用代碼",
                  "credit code", "uscc", "unified social credit code", "tax id")
# Columns that make a customer row worth importing: without any of them the row names nobody.
IDENTIFYING = ("company", "contact", "mobile", "phone", "email")
# What makes a follow-up / purchase "the same row" as one already in the book.
SAME_ROW = {"followups": ("customer_id", "date", "summary", "outcome"),
            "purchases": ("customer_id", "order_no", "date", "product", "amount")}


@dataclass
class Incoming:
    """One sheet of the source: its typed and as-typed frames (schema keys + kept columns)."""

    key: str  # schema sheet key
    sheet: str  # its name in the source (the file name for a CSV)
    typed: pd.DataFrame
    raw: pd.DataFrame
    headers: dict[str, str]  # schema key → source header
    extra: list[str] = field(default_factory=list)  # the source's own columns, by header


@dataclass(frozen=True)
class RowError:
    sheet: str  # source sheet
    row: int  # source row as its user sees it
    column: str  # source header ("" for the whole row)
    value: object
    why: Msg


@dataclass(frozen=True)
class CellChange:
    label: object  # index label of the book's row
    column: str  # schema key or kept-column header
    old: object
    new: object


@dataclass
class SheetImport:
    """What happens to one data sheet of the book."""

    key: str
    changes: list[CellChange] = field(default_factory=list)
    new_rows: pd.DataFrame | None = None  # typed, schema keys + kept columns, `_source_row`
    matched: int = 0
    unchanged: int = 0  # matched rows (or repeated rows) that brought nothing new
    matched_by: dict[str, int] = field(default_factory=dict)


@dataclass
class ImportDecision:
    sheets: dict[str, SheetImport]
    errors: list[RowError]
    id_map: dict[str, str]  # source customer ID → the ID in the book (matched or new)


def _text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str).str.strip()


def credit_columns(frame: pd.DataFrame) -> list[str]:
    wanted = {dn.fold(h).replace(" ", "").replace("_", "") for h in CREDIT_HEADERS}
    return [c for c in frame.columns if isinstance(c, str) and c != ROW
            and dn.fold(c).replace(" ", "").replace("_", "") in wanted]


def match_keys(frame: pd.DataFrame, region: str = "CN") -> dict[str, pd.Series]:
    """The normalised match keys of a customers frame ("" where blank or not usable)."""
    credit = credit_columns(frame)
    return {
        "customer_id": _text(frame["customer_id"]).str.upper(),
        "mobile": dn.phones_series(frame["mobile"], region).astype(str),
        "email": dn.emails_series(frame["email"]).astype(str),
        "credit_code": (dn.credit_codes_series(frame[credit[0]]).astype(str) if credit
                        else pd.Series("", index=frame.index, dtype=object)),
    }


def _unreadable(inc: Incoming, problems: Iterable) -> dict[tuple[int, str], Msg]:
    """(source row, column key) → why, for cells typed but not readable (bad date, unknown choice…)."""
    out: dict[tuple[int, str], Msg] = {}
    for p in problems:
        if p.sheet == inc.sheet and p.sheet_key == inc.key and p.column_key:
            out[(int(p.row), p.column_key)] = p.message
    spec = schema.SHEETS_BY_KEY[inc.key]
    for col in spec.columns:
        if col.kind in schema.TEXT_KINDS and col.kind != Kind.CHOICE or col.key not in inc.headers:
            continue
        bad = inc.typed[col.key].isna().to_numpy() & inc.raw[col.key].notna().to_numpy()
        for r in inc.typed.loc[bad, ROW].astype(int):
            out.setdefault((r, col.key), Msg("无法识别这个值", "this value cannot be read"))
    return out


def _columns(inc: Incoming) -> list[str]:
    spec = schema.SHEETS_BY_KEY[inc.key]
    return [c.key for c in spec.columns if c.key in inc.headers and not c.computed] + list(inc.extra)


def decide(book_frames: dict[str, pd.DataFrame], incoming: list[Incoming], *, problems: Iterable = (),
           new_ids: callable, region: str = "CN") -> ImportDecision:
    """What importing `incoming` into a book with `book_frames` does.

    `new_ids(n)` hands out n new customer IDs in the book's own pattern.
    """
    problems = list(problems)
    errors: list[RowError] = []
    sheets: dict[str, SheetImport] = {}
    id_map: dict[str, str] = {}
    by_key = {i.key: i for i in incoming}
    if "customers" in by_key:
        sheets["customers"], cust_errors, id_map = _customers(book_frames["customers"], by_key["customers"],
                                                              problems, new_ids, region)
        errors += cust_errors
    known_ids = {s.upper(): s for s in _text(book_frames["customers"]["customer_id"]) if s}
    for key in ("followups", "purchases"):
        if key in by_key:
            sheets[key], child_errors = _children(book_frames[key], by_key[key], problems, id_map, known_ids)
            errors += child_errors
    return ImportDecision(sheets, errors, id_map)


def _customers(book: pd.DataFrame, inc: Incoming, problems: list, new_ids, region: str):
    errors: list[RowError] = []
    bad = _unreadable(inc, problems)
    bad_by_row = _by_row(bad)
    cols = _columns(inc)
    result = SheetImport("customers", matched_by={k: 0 for k in KEYS})
    book_keys = match_keys(book, region)
    index = {k: {v: label for label, v in reversed(list(book_keys[k].items())) if v} for k in KEYS}
    in_keys = match_keys(inc.typed, region)
    seen: dict[tuple[str, str], int] = {}  # key value → source row of an earlier incoming row
    new_rows: list[dict] = []
    id_map: dict[str, str] = {}
    pending_ids: list[tuple[int, str]] = []  # (position in new_rows, the source's own ID)
    for pos, label in enumerate(inc.typed.index):
        src_row = int(inc.typed.at[label, ROW])
        usable = {c: (src_row, c) not in bad for c in cols}
        if not any(_filled(inc.typed.at[label, c]) and usable.get(c, True) for c in IDENTIFYING if c in cols):
            errors.append(RowError(inc.sheet, src_row, "", None,
                                   Msg("这一行没有公司名称、联系人、手机、电话或邮箱，未导入",
                                       "the row has no company, contact, mobile, phone or e-mail; not imported")))
            continue
        errors += _cell_errors(inc, label, src_row, bad_by_row.get(src_row, {}), usable)
        keys = {k: in_keys[k].iat[pos] for k in KEYS}
        twin = next((seen[(k, v)] for k, v in keys.items() if v and (k, v) in seen), None)
        if twin is not None:
            errors.append(RowError(inc.sheet, src_row, "", None,
                                   Msg("与导入文件第 {r} 行是同一客户（编号、手机、邮箱或信用代码相同），未重复导入",
                                       "the same customer as source row {r} (same ID, mobile, e-mail or credit code); "
                                       "not imported twice", {"r": twin})))
            continue
        for k, v in keys.items():
            if v:
                seen[(k, v)] = src_row
        hit = next(((k, index[k][v]) for k, v in keys.items() if v and v in index[k]), None)
        source_id = str(inc.typed.at[label, "customer_id"] or "").strip() if _filled(inc.typed.at[label, "customer_id"]) else ""
        if hit is not None:
            how, target = hit
            result.matched += 1
            result.matched_by[how] += 1
            if source_id:
                id_map[source_id.upper()] = str(book.at[target, "customer_id"])
            changes = [CellChange(target, c, book.at[target, c] if c in book.columns else None, inc.typed.at[label, c])
                       for c in cols if c != "customer_id" and usable[c] and _filled(inc.typed.at[label, c])
                       and _differs(book[c].get(target) if c in book.columns else None, inc.typed.at[label, c],
                                    _kind(c), region)]
            result.changes += changes
            result.unchanged += not changes
            continue
        row = {c: (inc.typed.at[label, c] if usable[c] else None) for c in cols if c != "customer_id"}
        row["_source_row"] = src_row
        if source_id:
            pending_ids.append((len(new_rows), source_id))
        new_rows.append(row)
    ids = new_ids(len(new_rows)) if new_rows else []
    for row, cid in zip(new_rows, ids, strict=True):
        row["customer_id"] = cid
    for pos, source_id in pending_ids:
        id_map[source_id.upper()] = new_rows[pos]["customer_id"]
    result.new_rows = _frame(new_rows, ["customer_id", *[c for c in cols if c != "customer_id"]])
    return result, errors, id_map


def _children(book: pd.DataFrame, inc: Incoming, problems: list, id_map: dict[str, str], known: dict[str, str]):
    errors: list[RowError] = []
    bad = _unreadable(inc, problems)
    bad_by_row = _by_row(bad)
    cols = _columns(inc)
    spec = schema.SHEETS_BY_KEY[inc.key]
    required = [c.key for c in spec.columns if c.required and c.key != "customer_id"]
    result = SheetImport(inc.key)
    same = [k for k in SAME_ROW[inc.key] if k in cols]
    existing = {_row_key(book, label, same) for label in book.index} if len(book) else set()
    new_rows: list[dict] = []
    id_header = inc.headers.get("customer_id", "customer_id")
    for label in inc.typed.index:
        src_row = int(inc.typed.at[label, ROW])
        cid = inc.typed.at[label, "customer_id"]
        text = str(cid).strip() if _filled(cid) else ""
        target = id_map.get(text.upper()) or known.get(text.upper())
        if not text or target is None:
            why = (Msg("没有客户编号，未导入", "no customer ID; not imported") if not text else
                   Msg("客户编号 {id} 在工作簿和导入的客户中都找不到，未导入",
                       "customer ID {id} is neither in the workbook nor among the imported customers; not imported",
                       {"id": text}))
            errors.append(RowError(inc.sheet, src_row, id_header, text or None, why))
            continue
        missing = [c for c in required if (src_row, c) in bad or not _filled(inc.typed.at[label, c])]
        if missing:
            for c in missing:
                errors.append(RowError(inc.sheet, src_row, inc.headers.get(c, c), inc.raw.at[label, c],
                                       Msg("必填的值缺少或无法识别，此行未导入",
                                           "a required value is missing or cannot be read; the row was not imported")))
            continue
        row = {c: (inc.typed.at[label, c] if (src_row, c) not in bad else None) for c in cols}
        errors += _cell_errors(inc, label, src_row, bad_by_row.get(src_row, {}), row)
        row["customer_id"] = target
        key = _dict_key(row, same)
        if key in existing:
            result.unchanged += 1
            continue
        existing.add(key)
        row["_source_row"] = src_row
        new_rows.append(row)
    result.new_rows = _frame(new_rows, ["customer_id", *[c for c in cols if c != "customer_id"]])
    return result, errors


def _by_row(bad: dict[tuple[int, str], Msg]) -> dict[int, dict[str, Msg]]:
    out: dict[int, dict[str, Msg]] = {}
    for (r, c), why in bad.items():
        out.setdefault(r, {})[c] = why
    return out


def _cell_errors(inc: Incoming, label, src_row: int, bad: dict[str, Msg], columns) -> list[RowError]:
    """One error per unreadable cell of a row that is imported without it."""
    return [RowError(inc.sheet, src_row, inc.headers.get(c, c), inc.raw.at[label, c],
                     Msg("{why}；此格未导入", "{why_en}; this cell was not imported",
                         {"why": why.text("zh-CN"), "why_en": why.text("en")}))
            for c, why in bad.items() if c in columns]


def _frame(rows: list[dict], cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[*cols, "_source_row"]) if rows else pd.DataFrame(columns=[*cols, "_source_row"])


def _filled(value: object) -> bool:
    if value is None or value is pd.NaT:
        return False
    if isinstance(value, float) and np.isnan(value):
        return False
    return not (isinstance(value, str) and not value.strip())


def _kind(key: str) -> Kind | None:
    return next((c.kind for c in schema.CUSTOMERS.columns if c.key == key), None)


def _differs(old: object, new: object, kind: Kind | None = None, region: str = "CN") -> bool:
    """Whether `new` changes the cell: +86 138… is the same mobile, A@X.CN the same e-mail."""
    if kind == Kind.PHONE and _filled(old):
        a, b = dn.normalize_phone(old, region), dn.normalize_phone(new, region)
        if a and b:
            return a != b
    if kind == Kind.EMAIL and _filled(old):
        a, b = dn.normalize_email(old), dn.normalize_email(new)
        if a and b:
            return a != b
    return not bool(same_values(pd.Series([old]), pd.Series([new]))[0])


def _norm(value: object) -> object:
    if not _filled(value):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.normalize()
    if isinstance(value, float):
        return round(value, 2)
    return str(value).strip().upper()


def _row_key(frame: pd.DataFrame, label, cols: list[str]) -> tuple:
    return tuple(_norm(frame.at[label, c]) for c in cols)


def _dict_key(row: dict, cols: list[str]) -> tuple:
    return tuple(_norm(row.get(c)) for c in cols)


__all__ = ["KEYS", "CellChange", "ImportDecision", "Incoming", "RowError", "SheetImport", "credit_columns", "decide",
           "match_keys"]
