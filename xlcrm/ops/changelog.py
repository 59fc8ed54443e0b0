"""Rows for the Change Log sheet (变更记录): who changed which field of which customer, old → new."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..model.values import blank_mask

LOG_COLUMNS = ("time", "user", "operation", "customer_id", "field", "old", "new")


def log_rows(rows: list[dict], user: str, operation: str) -> pd.DataFrame:
    """Change Log rows from {customer_id, field, old, new} dicts, stamped now (to the second) with who and what."""
    df = pd.DataFrame(rows, columns=["customer_id", "field", "old", "new"])
    df.insert(0, "operation", operation)
    df.insert(0, "user", user)
    df.insert(0, "time", pd.Timestamp(dt.datetime.now()).floor("s"))
    return df[list(LOG_COLUMNS)]


def same_values(old: pd.Series, new: pd.Series) -> np.ndarray:
    """Element-wise equality where blank == blank, numbers compare to the cent, dates to the day."""
    if pd.api.types.is_datetime64_any_dtype(new) or pd.api.types.is_datetime64_any_dtype(old):
        o, n = pd.to_datetime(old, errors="coerce").dt.normalize(), pd.to_datetime(new, errors="coerce").dt.normalize()
        return ((o == n) | (o.isna() & n.isna())).to_numpy()
    if pd.api.types.is_numeric_dtype(new) and not pd.api.types.is_bool_dtype(new):
        o, n = pd.to_numeric(old, errors="coerce").round(2), pd.to_numeric(new, errors="coerce").round(2)
        return ((o == n) | (o.isna() & n.isna()) | (o.isna() & (n == 0))).to_numpy()
    o = old.astype(object).where(old.notna(), "")
    n = new.astype(object).where(new.notna(), "")
    return (o.astype(str).str.strip() == n.astype(str).str.strip()).to_numpy()


def change_rows(ids: pd.Series, old: pd.DataFrame, new: pd.DataFrame, fields: Iterable[str], *,
                labels: dict[str, str], operation: str, user: str, now: dt.datetime) -> pd.DataFrame:
    """One log row per (customer, field) whose value differs between `old` and `new` (same index).

    A value appearing where there was none (a first grade, a new computed column) is not a change
    of anything and is not logged: a first run on 100k customers would otherwise add 100k rows
    that say only "blank → B". A field missing from `old` has no old values at all.
    """
    parts = []
    for field in fields:
        if field not in old:
            continue
        changed = ~same_values(old[field], new[field]) & ~blank_mask(old[field])
        if not changed.any():
            continue
        parts.append(pd.DataFrame({
            "customer_id": ids[changed].to_numpy(),
            "field": labels.get(field, field),
            "old": old.loc[changed, field].to_numpy(),
            "new": new.loc[changed, field].to_numpy(),
        }))
    if not parts:
        return pd.DataFrame(columns=list(LOG_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "operation", operation)
    out.insert(0, "user", user)
    out.insert(0, "time", pd.Timestamp(now).floor("s"))
    return out[list(LOG_COLUMNS)]
