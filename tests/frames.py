"""Build DataFrames in the reader's conventions (book.py) from plain rows, for testing pure ops."""

from __future__ import annotations

import pandas as pd

from xlcrm.model.book import CrmBook, SheetInfo
from xlcrm.schema import SHEETS_BY_KEY, Kind


def frame(sheet_key: str, rows: list[dict], first_row: int = 2) -> pd.DataFrame:
    spec = SHEETS_BY_KEY[sheet_key]
    data = {}
    for col in spec.columns:
        values = [r.get(col.key) for r in rows]
        if col.kind == Kind.DATE:
            data[col.key] = pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[ns]")
        elif col.kind in (Kind.MONEY, Kind.NUMBER):
            data[col.key] = pd.Series(values, dtype=object).astype(float)
        else:
            data[col.key] = pd.Series(values, dtype=object)
    out = pd.DataFrame(data)
    out["_row"] = [r.get("_row", first_row + i) for i, r in enumerate(rows)]
    return out


def sheet_info(sheet_key: str, name: str | None = None) -> SheetInfo:
    spec = SHEETS_BY_KEY[sheet_key]
    cols = {c.key: i + 1 for i, c in enumerate(spec.columns)}
    return SheetInfo(sheet_key, name or spec.zh, 1, cols, {c.key: c.zh for c in spec.columns},
                     last_column=len(cols))


def book(customers: list[dict], followups: list[dict] = (), purchases: list[dict] = (), **kw) -> CrmBook:
    frames = {"customers": frame("customers", list(customers)), "followups": frame("followups", list(followups)),
              "purchases": frame("purchases", list(purchases))}
    raw = {k: f.drop(columns="_row").astype(object).where(f.notna(), None).map(
        lambda v: v.strftime("%Y-%m-%d") if hasattr(v, "strftime") else (None if v is None else str(v)))
        for k, f in frames.items()}
    return CrmBook(frames["customers"], frames["followups"], frames["purchases"],
                   sheets={k: sheet_info(k) for k in frames}, raw=raw, **kw)
