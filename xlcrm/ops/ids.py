"""Customer IDs (客户编号): assign the missing ones in the workbook's own pattern, find duplicates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..settings import Settings

_PATTERN = r"^(?P<prefix>\D*?)(?P<number>\d+)$"
# What str.strip() removes from ASCII text (str.isspace: the separators \x1c-\x1f too).
_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def id_pattern(ids: Iterable[str], settings: Settings) -> tuple[str, int, int]:
    """(prefix, digits, highest number) of the IDs in use: the most common prefix wins (on a tie, the
    one seen first), then the most common number of digits among its IDs.

    With no usable IDs yet, the Settings' prefix and digit count are used, starting from 0.
    """
    ids = ids if isinstance(ids, list) else list(ids)
    found = _pattern_by_arrow(ids)
    if found is None:  # not all text (a number typed as an ID), not ASCII, or a number past int64
        texts = [i for i in ids if isinstance(i, str)]
        found = _pattern_by_arrow(texts) if len(texts) < len(ids) else None
    if found is None:
        s = pd.Series([i for i in texts if i.strip()], dtype=object).str.strip()
        parts = s.str.extract(_PATTERN).dropna()
        if parts.empty:
            found = ()
        else:
            prefix = Counter(parts["prefix"]).most_common(1)[0][0]
            same = parts[parts["prefix"] == prefix]["number"]
            digits = Counter(same.str.len()).most_common(1)[0][0]
            found = prefix, int(digits), max(int(n) for n in same)  # Python ints: any number of digits
    return found or (settings.id_prefix, settings.id_digits, 0)


def _pattern_by_arrow(ids: list) -> tuple | None:
    """`id_pattern`'s answer (() for no usable ID) when every ID is ASCII text, counted by Arrow (the L
    book's 1M IDs: one Python call per ID cost ~1 s); None for any other list, or a number too long
    for int64 (the caller's pandas way then counts them)."""
    try:
        arr = pa.array(ids, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):  # not all text
        return None
    if not _all_ascii(arr):
        return None
    text = pc.utf8_trim(arr, characters=_ASCII_SPACE)  # str.strip() on ASCII text
    text = text.filter(pc.greater(pc.binary_length(text), 0))  # nulls dropped too
    prefix, number = pc.extract_regex(text, _PATTERN).flatten()
    usable = pc.is_valid(number)
    prefix, number = prefix.filter(usable), number.filter(usable)
    if not len(prefix):
        return ()
    common = _most_common(prefix)
    same = number.filter(pc.equal(prefix, common))
    try:
        highest = pc.max(pc.cast(same, pa.int64())).as_py()
    except pa.ArrowException:  # more digits than int64 holds
        return None
    return common, int(_most_common(pc.binary_length(same))), int(highest)


def _all_ascii(arr: pa.Array) -> bool:
    """Every (non-null) value ASCII? Then Arrow's byte-wise kernels fold and strip it as Python would."""
    return pc.all(pc.string_is_ascii(arr)).as_py() is not False


def _most_common(values: pa.Array):
    """The most frequent value; on a tie the one seen first (as `Counter.most_common`: value_counts
    lists values in the order they first appear, and argmax takes the first of equal counts)."""
    counts = pc.value_counts(values)
    return counts.field("values")[int(np.argmax(counts.field("counts").to_numpy()))].as_py()


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
    is_taken = _taken([used, avoid])
    # The first free numbers after the highest, tried a batch at a time (numbers only grow, so an ID
    # handed out here can never be a later candidate).
    new_ids: list[str] = []
    number = highest + 1
    while len(new_ids) < len(missing):
        batch = [f"{prefix}{n:0{digits}d}" for n in range(number, number + len(missing) - len(new_ids) + 16)]
        new_ids += [candidate for candidate, taken in zip(batch, is_taken(batch), strict=True) if not taken]
        number += len(batch)
    return pd.Series(new_ids[: len(missing)], index=missing, dtype=object)



def _taken(groups: list[Iterable]) -> Callable[[list[str]], list[bool]]:
    """A test of candidate IDs against every text ID in `groups`, spaces and case folded as
    `s.strip().upper()` folds them. All-ASCII IDs (the usual case) are folded and hashed by Arrow,
    not one Python call per ID (the L book: 1M customers, 2M references); others go to a Python set."""
    groups = [group if isinstance(group, (list, pd.Series, np.ndarray)) else list(group) for group in groups]
    try:
        arrays = [pa.array(group, type=pa.large_string(), from_pandas=True) for group in groups]
    except (pa.ArrowException, TypeError, ValueError):  # an ID that is not text (a frame built in code)
        arrays = None
    if arrays is not None:
        keys = pc.unique(pa.chunked_array(arrays, type=pa.large_string()).combine_chunks().drop_null())
        if _all_ascii(keys):
            keys = pc.unique(pc.ascii_upper(pc.utf8_trim(keys, characters=_ASCII_SPACE)))
            return lambda batch: pc.is_in(pa.array([c.upper() for c in batch], type=pa.large_string()),
                                          value_set=keys).to_pylist()
    taken = {v.strip().upper() for group in groups for v in {*group} if isinstance(v, str)}
    return lambda batch: [candidate.upper() in taken for candidate in batch]


def duplicated_ids(customers: pd.DataFrame) -> pd.Series:
    """True for every row whose ID also appears on another row (case and spaces folded)."""
    key = customers["customer_id"].astype("string").str.strip().str.upper()
    return key.notna() & key.duplicated(keep=False)
