"""The workbook side of a sync: rows as canonical field text, the 冲突 / Conflicts sheet, and the edits
that bring store changes in (the base snapshot is `sync_base`).

Canonical text is what both sides compare: dates `YYYY-MM-DD`, numbers without a trailing `.0`,
choices as their code, text as typed. The store keeps exactly this text.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd

from .. import schema
from ..i18n import traditional
from ..model.book import empty_frame
from ..ops.sync import DELETED, Conflict
from ..workbook.book import CrmBook
from ..workbook.edits import (
    FMT_DATE,
    FMT_MONEY,
    AppendRows,
    Block,
    CellStyle,
    ColumnWrite,
    SheetReplace,
    Value,
)
from ..workbook.port import WorkbookPort
from .sync_base import ENTITIES, Record, hash_arrays, record

CONFLICTS_KEY = "conflicts"
KEEP_MINE = "用本工作簿 / Keep mine"
TAKE_STORE = "用团队库 / Take store"
CONFLICT_HEADERS = {  # key → (zh, en)
    "kind": ("类型", "Kind"), "sheet": ("工作表", "Sheet"), "row": ("行", "Row"),
    "customer_id": ("客户编号", "Customer ID"), "field": ("列", "Column"), "base": ("上次同步", "At last sync"),
    "local": ("本工作簿", "This workbook"), "store": ("团队库", "Team store"), "decision": ("决定", "Decision"),
    "uid": ("记录标识", "Record uid"), "entity": ("表", "Entity"), "field_key": ("字段", "Field key"),
}


# --------------------------------------------------------------------------- values

def canon(value: object, kind: schema.Kind) -> str | None:
    """A cell's value as the store keeps it."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if kind == schema.Kind.DATE:
        if isinstance(value, (pd.Timestamp, dt.datetime)):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
    if kind in (schema.Kind.MONEY, schema.Kind.NUMBER):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    text = str(value)
    return text if text.strip() else None


def cell_value(text: str | None, column: schema.Column, lang: str) -> Value:
    """Canonical text back to what the workbook shows (a date, a number, a choice's label)."""
    if text is None:
        return None
    try:
        if column.kind == schema.Kind.DATE:
            return dt.date.fromisoformat(text)
        if column.kind in (schema.Kind.MONEY, schema.Kind.NUMBER):
            return float(text)
    except ValueError:
        return text
    if column.kind in (schema.Kind.CHOICE, schema.Kind.BOOL) and column.choices:
        return schema.choice_label(column.choices, text, lang)
    return text


def cell_style(column: schema.Column) -> CellStyle | None:
    if column.kind == schema.Kind.DATE:
        return CellStyle(number_format=FMT_DATE)
    if column.kind == schema.Kind.MONEY:
        return CellStyle(number_format=FMT_MONEY)
    return None


def managed_fields(book: CrmBook, entity: str, fields: list[str], redact: set[str]) -> list[str]:
    """The fields a book syncs: those its sheet has a column for, less the redacted ones."""
    info = book.sheets.get(entity)
    have = set(info.columns) if info else set()
    return [f for f in fields if f in have and f not in redact]


def canon_column(values: pd.Series, kind: schema.Kind) -> list[str | None]:
    """`canon` for a whole column at once (vectorised for the common kinds: big books sync fast)."""
    if kind == schema.Kind.DATE and pd.api.types.is_datetime64_any_dtype(values):
        text = values.dt.strftime("%Y-%m-%d").astype(object)
        return [t if isinstance(t, str) else None for t in text.tolist()]
    if kind in (schema.Kind.MONEY, schema.Kind.NUMBER) and pd.api.types.is_float_dtype(values):
        return [None if v != v else (str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v))
                for v in values.tolist()]
    if values.dtype == object and kind not in (schema.Kind.DATE, schema.Kind.MONEY, schema.Kind.NUMBER):
        return [v if isinstance(v, str) and v.strip() else (None if v is None or isinstance(v, str) else canon(v, kind))
                for v in values.tolist()]
    return [canon(v, kind) for v in values.tolist()]


# What Python's str.strip() removes (every str.isspace() character), for Arrow to trim exactly alike.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


@dataclass
class LocalView:
    """Every non-blank row of an entity's sheet: the typed values as read, each row's fields hash and
    customer ID, and once matched its base uid. Canonical text is made only for the rows a merge
    looks at (`fields`), so a million unchanged follow-ups cost one vectorised hash."""

    managed: list[str]
    kinds: list[schema.Kind] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    # One column per managed field: the Arrow text when it is exactly `canon` (text, dates), else the
    # values as read (floats: `canon` makes their text when a row is merged).
    values: list = field(default_factory=list)
    exact: list[bool] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)  # customer IDs (canonical)
    hashes: list[str] = field(default_factory=list)
    uids: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def fields(self, i: int) -> dict[str, str | None]:
        out = {f: (col[i].as_py() if exact else canon(col[i], kind))
               for f, kind, col, exact in zip(self.managed, self.kinds, self.values, self.exact)}
        if "customer_id" in out:
            out["customer_id"] = self.keys[i]
        return out

    def key(self, i: int) -> str | None:
        return self.keys[i]

    def columns_at(self, rows: list[int]) -> list[list[str | None]]:
        """The canonical text of many rows at once, one list per managed field (for bulk inserts)."""
        import pyarrow as pa

        if not rows:
            return [[] for _ in self.managed]
        picked = pa.array(rows, type=pa.int64())
        out = []
        for f, kind, col, exact in zip(self.managed, self.kinds, self.values, self.exact):
            if f == "customer_id":
                out.append([self.keys[i] for i in rows])
            elif exact:
                out.append(col.take(picked).to_pylist())
            else:
                out.append([canon(v, kind) for v in col[rows].tolist()])
        return out


def local_view(book: CrmBook, entity: str, managed: list[str]) -> LocalView:
    spec = schema.SHEETS_BY_KEY[entity]
    view = LocalView(managed, [spec.column(f).kind for f in managed])
    frame = book.frame(entity)
    if frame.empty or not managed:
        view.values, view.exact = [[] for _ in managed], [False] * len(managed)
        return view
    arrays = [canon_array(frame[f], kind) for f, kind in zip(managed, view.kinds)]
    import numpy as np
    import pyarrow.compute as pc

    filled = np.zeros(len(frame), dtype=bool)
    for a in arrays:
        filled |= pc.is_valid(a).to_numpy(zero_copy_only=False)
    keep = np.flatnonzero(filled)
    every = len(keep) == len(frame)
    if not every:
        arrays = [a.take(keep) for a in arrays]
        frame = frame.iloc[keep]
    view.rows = [int(r) for r in frame["_row"].tolist()]
    view.exact = [not (kind in (schema.Kind.MONEY, schema.Kind.NUMBER) and pd.api.types.is_float_dtype(frame[f]))
                  for f, kind in zip(managed, view.kinds)]
    view.values = [a if exact else frame[f].to_numpy() for f, a, exact in zip(managed, arrays, view.exact)]
    view.keys = arrays[managed.index("customer_id")].to_pylist() if "customer_id" in managed else [None] * len(keep)
    view.hashes = hash_arrays(arrays)
    view.uids = [None] * len(view.rows)
    return view


def canon_array(values: pd.Series, kind: schema.Kind):
    """A column as Arrow strings equal to `canon` of each value (blank → null): vectorised for text,
    dates and plain numbers; `canon` itself for anything unusual (a bool, a date typed as text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        if kind == schema.Kind.DATE and pd.api.types.is_datetime64_any_dtype(values):
            return pa.array(values, from_pandas=True).cast(pa.date32()).cast(pa.string())
        if kind in (schema.Kind.MONEY, schema.Kind.NUMBER) and pd.api.types.is_float_dtype(values):
            # Arrow's shortest float text is Python's repr for money as typed (1200, 0.1, 12.34); the
            # rare value it writes otherwise (1e+15, -0) only makes that row look changed: merged, no loss.
            return pa.array(values, from_pandas=True).cast(pa.string())
        if values.dtype == object and kind not in (schema.Kind.DATE, schema.Kind.MONEY, schema.Kind.NUMBER):
            text = pa.array(values, type=pa.string(), from_pandas=True)
            trimmed = pc.utf8_trim(text, characters=WHITESPACE)
            return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), text)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    return pa.array(canon_column(values, kind), type=pa.string())


# --------------------------------------------------------------------------- reading the book

class BookSource:
    """The workbook's sheets for one sync, read when first needed and then kept (a retry after a
    version clash reads nothing again): data sheets by entity, base sheets, the Conflicts sheet."""

    def __init__(self, port: WorkbookPort):
        self.port = port
        self.book: CrmBook | None = None
        self.keys: set[str] = set()
        self._frames: dict[str, object] = {}

    def data(self, keys: set[str]) -> CrmBook:
        missing = set(keys) - self.keys
        if self.book is None or missing:
            wanted = tuple(k for k in ENTITIES if k in self.keys | set(keys))
            fresh = self.port.read(keys=wanted)
            fresh.raw = {}  # the text as typed is not synced (the typed values are): a big book's worth freed
            if self.book is not None:  # keep the frames already typed (the merge may hold them)
                for key in self.keys:
                    setattr(fresh, key, self.book.frame(key))
            self.book, self.keys = fresh, set(wanted)
        return self.book

    def release(self) -> None:
        """Drop the typed frames once merged (the plan needs only the sheets' layout): a big book's
        memory back before the writer renders."""
        for key in self.keys:
            setattr(self.book, key, empty_frame(key))

    def sheet(self, name: str):
        if name not in self._frames:
            self._frames[name] = self.port.read_sheet(name)
        return self._frames[name]



# --------------------------------------------------------------------------- conflicts sheet

def conflicts_sheet_name(book: CrmBook) -> str:
    return book.sheet_name_for(CONFLICTS_KEY)  # xlcrm's own Conflicts sheet, or a free name beside the user's


def _zh(text: str, lang: str) -> str:
    return traditional(text) if lang == "zh-TW" else text


def _h(key: str, lang: str) -> str:
    zh, en = CONFLICT_HEADERS[key]
    return en if lang == "en" else _zh(zh, lang)


def _choices(lang: str) -> list[str]:
    return [_zh(KEEP_MINE, lang), _zh(TAKE_STORE, lang)]


def _decision(text: str) -> str | None:
    """"mine" / "store" for a Decision cell in any of the sheet's languages, else None."""
    for lang in ("zh-CN", "zh-TW"):
        mine, store = _choices(lang)
        if text in (mine, store):
            return "mine" if text == mine else "store"
    return None


def read_decisions(frame: pd.DataFrame | None, lang: str) -> list[dict]:
    """Rows of the Conflicts sheet the user decided: entity, uid, field, local, store, decision."""
    if frame is None or frame.empty:
        return []
    spellings = {k: (zh, traditional(zh), en) for k, (zh, en) in CONFLICT_HEADERS.items()}
    if not any(h in frame.columns for h in spellings["decision"]):  # a title row above: the header is row 1
        frame = frame.iloc[1:].set_axis([str(c) for c in frame.iloc[0]], axis=1)
    names = {k: next((h for h in spellings[k] if h in frame.columns), None)
             for k in ("entity", "uid", "field_key", "local", "store", "decision")}
    if any(v is None for v in names.values()):
        return []
    out = []
    for rec in frame.to_dict("records"):
        decision = _decision((rec[names["decision"]] or "").strip())
        if decision and rec[names["uid"]]:
            out.append({"entity": rec[names["entity"]], "uid": rec[names["uid"]], "field": rec[names["field_key"]],
                        "local": rec[names["local"]], "store": rec[names["store"]], "decision": decision})
    return out


def apply_decisions(base: dict[str, Record], decisions: list[dict], store_now: dict[str, dict]) -> int:
    """Turn the user's decisions (one entity's) into base changes, so the merge does the rest: "keep
    mine" makes the store's value the base (the workbook's becomes an only-local change → pushed);
    "take store" makes the workbook's value the base (→ pulled). A deletion decided the other way
    forgets the record. A changed record's hash is cleared (worked out again from its fields)."""
    done = 0
    for d in decisions:
        if d["uid"] not in base:
            continue
        old = base[d["uid"]]
        if not old.known:  # gone from the store altogether: nothing to decide against
            continue
        if DELETED in (d["local"], d["store"]):
            local_deleted = d["local"] == DELETED
            if (d["decision"] == "mine") == local_deleted:  # delete it everywhere: base = store
                base[d["uid"]] = record(old.row, dict(store_now.get(d["uid"], old.fields())))
            else:  # keep it: forget the base, the record comes back as new on its side
                del base[d["uid"]]
        else:
            fields = dict(old.fields())
            fields[d["field"]] = d["store"] if d["decision"] == "mine" else d["local"]
            base[d["uid"]] = record(old.row, fields)
        done += 1
    return done


def conflicts_sheet(book: CrmBook, conflicts: list[tuple[str, Conflict]], duplicates: list[dict],
                    lang: str) -> SheetReplace:
    rows = []
    for entity, c in conflicts:
        spec = schema.SHEETS_BY_KEY[entity]
        header = spec.column(c.field).header(lang) if c.field in spec.keys else c.field
        sheet = book.sheets[entity].name if entity in book.sheets else spec.name(lang)
        rows.append({"kind": _zh("冲突", lang) + " / conflict", "sheet": sheet, "row": c.row, "customer_id": c.customer_id,
                     "field": header, "base": c.base, "local": c.local, "store": c.store, "decision": None,
                     "uid": c.uid, "entity": entity, "field_key": c.field})
    for d in duplicates:
        rows.append({"kind": _zh("撞单", lang) + " / duplicate", "sheet": book.sheets["customers"].name, "row": d["row"],
                     "customer_id": d["customer_id"], "field": d["matched_on"], "base": None,
                     "local": d["owner"], "store": f"{d['other_owner'] or '—'} {d['other_customer_id'] or ''}".strip(),
                     "decision": None, "uid": d["uid"], "entity": "customers", "field_key": "owner"})
    df = pd.DataFrame(rows, columns=list(CONFLICT_HEADERS))
    df.columns = [_h(k, lang) for k in CONFLICT_HEADERS]
    title = (_zh("同步时两边都改过的单元格：在“决定”列选择保留哪一个，然后再同步一次。撞单：另一位负责人已有的客户。", lang)
             if lang != "en" else "Cells changed on both sides since the last sync: choose in Decision, then sync "
             "again. Duplicate: a customer another salesperson already has.")
    block = Block(df, title=title, autofilter=True, dropdowns={_h("decision", lang): _choices(lang)},
                  widths={_h("base", lang): 18, _h("local", lang): 18, _h("store", lang): 18, _h("decision", lang): 22,
                          _h("uid", lang): 34})
    return SheetReplace(conflicts_sheet_name(book), [block], owner=CONFLICTS_KEY, tab_color="FFC00000")


# --------------------------------------------------------------------------- pulls into the workbook

def column_writes(book: CrmBook, entity: str, cells: dict[str, dict[int, str | None]], lang: str) -> list[ColumnWrite]:
    """Store values into existing rows: field → {row: canonical text}, one ColumnWrite per column."""
    info = book.sheets[entity]
    spec = schema.SHEETS_BY_KEY[entity]
    out = []
    for f, values in cells.items():
        if not values or f not in info.columns:
            continue
        column = spec.column(f)
        out.append(ColumnWrite(info.name, info.header_of(f), info.header_row,
                               {r: cell_value(v, column, lang) for r, v in values.items()}, col=info.columns[f],
                               style=cell_style(column)))
    return out


def append_rows(book: CrmBook, entity: str, records: list[dict], fields: list[str], lang: str,
                first_row: int) -> list:
    """New rows below the sheet's data (the sheet's Excel Table grows with them)."""
    if not records:
        return []
    spec = schema.SHEETS_BY_KEY[entity]
    info = book.sheets.get(entity)
    fields = [f for f in fields if info is None or f in info.columns]
    headers = {f: (info.header_of(f) if info else spec.column(f).header(lang)) for f in fields}
    df = pd.DataFrame({headers[f]: [cell_value(r.get(f), spec.column(f), lang) for r in records] for f in fields})
    formats = {headers[f]: s.number_format for f in fields if (s := cell_style(spec.column(f)))}
    if info is None:
        return [AppendRows(book.sheet_name_for(entity), df, number_formats=formats)]
    if info.header_row == 1:
        return [AppendRows(info.name, df, number_formats=formats)]
    # A header below a title row: AppendRows finds headers on row 1 only, so write the columns in place.
    return [ColumnWrite(info.name, headers[f], info.header_row,
                        {first_row + i: v for i, v in enumerate(df[headers[f]])}, col=info.columns[f],
                        style=cell_style(spec.column(f))) for f in fields]
