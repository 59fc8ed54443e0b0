"""Per-customer values for each row of another frame, found by customer ID.

Customer IDs are text, and hashing 100k–1M strings costs tens of milliseconds each time. So the IDs
are hashed once into `CustomerKeys` (each row's customer as an integer), and the per-customer steps
(latest follow-up, order totals, counts) group, de-duplicate and look up by those integers. A table
already indexed by ID is looked up once for all its columns (`lookup_rows`), not column by column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class CustomerKeys:
    """Each row's customer as the position of its ID among Basic Info's distinct IDs; -1 for a blank
    ID or one Basic Info does not have (such rows belong to no customer row, as with a lookup by ID)."""

    customers: np.ndarray  # per Basic Info row
    followups: np.ndarray  # per Follow-up row
    purchases: np.ndarray  # per Purchases row
    n: int  # distinct IDs on Basic Info

    @classmethod
    def of(cls, customers: pd.DataFrame, followups: pd.DataFrame | None = None,
           purchases: pd.DataFrame | None = None) -> CustomerKeys:
        codes, distinct = pd.factorize(customers["customer_id"].to_numpy(dtype=object))
        try:  # text IDs (as the reader gives them): hashed by Arrow, 3× faster than a pandas Index
            value_set = pa.array(distinct, type=pa.string())
        except (pa.ArrowException, TypeError):  # IDs of other types (a frame built in code)
            value_set = None
        index = pd.Index(distinct, dtype=object)

        def rows(frame: pd.DataFrame | None) -> np.ndarray:
            if frame is None:
                return np.full(0, -1, dtype=np.intp)
            ids = frame["customer_id"].to_numpy(dtype=object)
            if value_set is not None:
                try:
                    found = pc.index_in(pa.array(ids, type=pa.string(), from_pandas=True), value_set=value_set)
                    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.intp)
                except (pa.ArrowException, TypeError):
                    pass
            return index.get_indexer(ids).astype(np.intp)

        return cls(codes.astype(np.intp), rows(followups), rows(purchases), len(distinct))

    def spread(self, by_code: np.ndarray, missing) -> np.ndarray:
        """A value per customer code → one per Basic Info row (`missing` where a row has no code)."""
        if not len(by_code):
            return np.full(len(self.customers), missing, dtype=by_code.dtype)
        return np.where(self.customers >= 0, by_code[np.maximum(self.customers, 0)], missing)

    def per_customer(self, rows_by_code: np.ndarray) -> np.ndarray:
        """A row position per customer code (-1: none) → one per Basic Info row."""
        return self.spread(rows_by_code, -1)


def rows_codes(codes: np.ndarray, frame: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """`codes` (one per row of `frame`) for `rows`, a selection of `frame`'s rows (same index labels)."""
    return codes[frame.index.get_indexer(rows.index)]


def chosen_rows(codes: np.ndarray, order: np.ndarray, n: int, keep: str = "last") -> np.ndarray:
    """Per customer code 0…n-1: the last (or first) of the row positions `order` — already in the
    wanted order, each with a code ≥ 0 — whose row has that code; -1 where none has."""
    of_rows = codes[order]
    kept = ~pd.Series(of_rows).duplicated(keep=keep).to_numpy()
    out = np.full(n, -1, dtype=np.intp)
    out[of_rows[kept]] = order[kept]  # unique codes: no index is set twice
    return out


def latest_rows(frame: pd.DataFrame, codes: np.ndarray, mask, n: int, keep: str = "last") -> np.ndarray:
    """Per customer code: the position of the latest (or, keep="first", the earliest) row of `frame`
    where `mask` holds, by `date` then sheet row (same date: the row further down was typed later).
    `codes`: the customer of each row of `frame` (CustomerKeys)."""
    rows = np.flatnonzero(np.asarray(mask, dtype=bool) & (codes >= 0))
    dates = frame["date"].to_numpy(dtype="datetime64[ns]")[rows]
    order = rows[np.lexsort((frame["_row"].to_numpy()[rows], dates))]
    return chosen_rows(codes, order, n, keep)


def take(values: pd.Series, positions: np.ndarray, index: pd.Index) -> pd.Series:
    """`values` at row positions (-1: missing — NaN, NaT or <NA> for the dtype), given `index`."""
    taken = pd.api.extensions.take(values.array, positions, allow_fill=True)
    return pd.Series(taken, index=index, dtype=values.dtype, copy=False)


def lookup(values: pd.Series, keys: pd.Series) -> pd.Series:
    """`values` (indexed by unique customer ID) looked up for each key, aligned to `keys`' index.

    Unlike `Series.map`, this keeps the dtype when nothing matches (pandas cannot cast an empty
    datetime mapping)."""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index, dtype=values.dtype)


def lookup_rows(table: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """Each key's row of `table` (indexed by unique customer ID), aligned to `keys`' index.

    One hash lookup of the keys serves every column. Missing keys give NaN/NaT, so use it for
    object, float and date columns."""
    rows = table.reindex(keys.to_numpy())
    rows.index = keys.index
    return rows
