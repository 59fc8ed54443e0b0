"""What counts as "nothing typed" in a cell value, one answer for every layer."""

from __future__ import annotations

import numpy as np
import pandas as pd


def is_blank(value: object) -> bool:
    """None, NaN, NaT, pd.NA, or text that is empty or only whitespace."""
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    if value is pd.NaT:
        return True
    try:
        if pd.isna(value) is True:
            return True
    except (TypeError, ValueError):
        pass
    return isinstance(value, str) and not value.strip()


def plain_value(value: object) -> object:
    """A pandas/numpy value as the plain Python one (NaN/NaT/NA → None, Timestamp → datetime, numpy
    scalars → int/float/bool), as a writer takes it."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def blank_mask(values: pd.Series) -> np.ndarray:
    """`is_blank` for a whole column at once (numpy/pandas, not per cell)."""
    blank = values.isna().to_numpy(copy=True)
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        blank |= values.astype(object).where(~blank, "").astype(str).str.strip().eq("").to_numpy()
    return blank


__all__ = ["blank_mask", "is_blank", "plain_value"]
