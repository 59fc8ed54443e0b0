"""Customer IDs (客户编号): assign the missing ones in the workbook's own pattern, find duplicates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..settings import Settings

_PATTERN = r"^(?P<prefix>\D*?)(?P<number>\d+)$"


def id_pattern(ids: Iterable[str], settings: Settings) -> tuple[str, int, int]:
    """(prefix, digits, highest number) of the IDs in use: the most common prefix wins.

    With no usable IDs yet, the Settings' prefix and digit count are used, starting from 0.
    """
    s = pd.Series([i for i in ids if isinstance(i, str) and i.strip()], dtype=object).str.strip()
    parts = _id_parts(s).dropna()
    if parts.empty:
        return settings.id_prefix, settings.id_digits, 0
    prefix = Counter(parts["prefix"]).most_common(1)[0][0]
    same = parts[parts["prefix"] == prefix]["number"]
    digits = Counter(same.str.len()).most_common(1)[0][0]
    return prefix, int(digits), int(same.astype("int64").max())


def _id_parts(ids: pd.Series) -> pd.DataFrame:
    """`ids.str.extract(_PATTERN)`; all-ASCII IDs (the usual case) through Arrow's RE2, where \\D and \\d
    mean what re means on ASCII (pandas extracts object columns one Python call per ID)."""
    arr = pa.array(ids.to_numpy(), type=pa.large_string())
    if len(arr) == 0 or not pc.all(pc.string_is_ascii(arr)).as_py():
        return ids.str.extract(_PATTERN)
    prefix, number = pc.extract_regex(arr, _PATTERN).flatten()  # a non-matching ID: null in both
    return pd.DataFrame({"prefix": prefix.to_numpy(zero_copy_only=False),
                         "number": number.to_numpy(zero_copy_only=False)}, index=ids.index, dtype=object)


def assign_missing_ids(customers: pd.DataFrame, settings: Settings, *, archived: Iterable[str] = (),
                       avoid: Iterable[str] = ()) -> pd.Series:
    """New IDs for the rows without one, keyed by the customers' index (empty if none is missing).

    Numbers continue after the highest ID on the sheet or in the Archive, so an archived ID is never
    handed out again; IDs in `avoid` (e.g. referenced by orphan follow-ups) are skipped so those rows
    are not silently attached to a new customer. Existing IDs are never changed.
    """
    missing = customers.index[customers["customer_id"].isna()]
    if len(missing) == 0:
        return pd.Series(dtype=object)
    used = [*customers["customer_id"].dropna().tolist(), *[r for r in archived if isinstance(r, str)]]
    prefix, digits, highest = id_pattern(used, settings)
    taken = {s.strip().upper() for s in {*used, *avoid} if isinstance(s, str)}  # dedupe first: 1M refs
    new_ids, number = [], highest
    for _ in missing:
        number += 1
        while f"{prefix}{number:0{digits}d}".upper() in taken:
            number += 1
        candidate = f"{prefix}{number:0{digits}d}"
        new_ids.append(candidate)
        taken.add(candidate.upper())
    return pd.Series(new_ids, index=missing, dtype=object)


def duplicated_ids(customers: pd.DataFrame) -> pd.Series:
    """True for every row whose ID also appears on another row (case and spaces folded)."""
    key = customers["customer_id"].astype("string").str.strip().str.upper()
    return key.notna() & key.duplicated(keep=False)
