"""Values as the template writer puts them in cells: None (blank), text, or a number / date serial;
a column's chunk of rows converted at once where its dtype allows it."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import schema
from .i18n import pick
from .ooxml.dates import to_serial, to_serials
from .schema import Column


def _is_blank(v: object) -> bool:
    if v is None or v is pd.NaT or v is pd.NA:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v == ""


def _as_text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # 13800138000.0 → "13800138000"
    return str(v)


def cell_value(v: object, column: Column | None, lang: str) -> str | float | None:
    """A value as a cell holds it: None (blank), str (text cell) or float (number / date serial)."""
    if _is_blank(v):
        return None
    if v.__class__ is str:
        return v
    if isinstance(v, (bool, np.bool_)):
        if column is not None and column.choices:
            return schema.choice_label(column.choices, "yes" if v else "no", lang)
        return pick(lang, "是", "Yes") if v else pick(lang, "否", "No")
    if isinstance(v, (dt.date, np.datetime64)):
        if isinstance(v, np.datetime64):
            v = pd.Timestamp(v).to_pydatetime()
        if column is not None and column.is_text:
            return v.strftime("%Y-%m-%d")
        return to_serial(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        if column is not None and column.is_text:
            return _as_text(float(v))
        return float(v)
    return str(v)


def chunk_values(
    series: pd.Series, start: int, stop: int, column: Column | None, lang: str, overrides: Mapping[int, object] | None
) -> list:
    """Cell values of rows [start, stop) of one column, vectorised where the dtype allows it."""
    part = series.iloc[start:stop]
    if pd.api.types.is_datetime64_any_dtype(part.dtype) and not (column is not None and column.is_text):
        days = part.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        serial = to_serials(days)
        values = [None if math.isnan(x) else x for x in serial.tolist()]
    elif pd.api.types.is_float_dtype(part.dtype) and not (column is not None and column.is_text):
        values = [None if math.isnan(x) else x for x in part.to_numpy(dtype="float64").tolist()]
    else:
        values = [cell_value(v, column, lang) for v in part.astype(object).tolist()]
    if overrides:
        for i, v in overrides.items():
            if start <= i < stop:
                values[i - start] = cell_value(v, column, lang)
    return values


__all__ = ["cell_value", "chunk_values"]
