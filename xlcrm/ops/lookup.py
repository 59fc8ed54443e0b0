"""Per-customer tables (indexed by unique customer ID) looked up for each row of another frame.

Hashing 100k IDs costs tens of milliseconds each time, so a table with several columns is looked
up once (`lookup_rows`), not column by column.
"""

from __future__ import annotations

import pandas as pd


def lookup(values: pd.Series, keys: pd.Series) -> pd.Series:
    """`values` (indexed by unique customer ID) looked up for each key, aligned to `keys`' index.

    Unlike `Series.map`, this keeps the dtype when nothing matches (pandas cannot cast an empty
    datetime mapping)."""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index, dtype=values.dtype)


def lookup_rows(table: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """Each key's row of `table` (indexed by unique customer ID), aligned to `keys`' index.

    One hash lookup of the keys serves every column: `lookup` per column hashes 100k IDs again
    each time. Missing keys give NaN/NaT, so use it for object, float and date columns."""
    rows = table.reindex(keys.to_numpy())
    rows.index = keys.index
    return rows
