"""Text folding shared by the dedupe normalisers, and the Arrow plumbing of their fast paths.

`fold` (width, Traditional → Simplified, case) is the first step of every normaliser; the helpers
here hand a column to Arrow (C, RE2) when it can be done there, or apply Python once per distinct
value when it cannot.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..model.values import is_blank
from ..schema import simplified
from .dedupe_words import CJK

PUNCT = re.compile(r"[\W_]+", re.UNICODE)  # anything but letters/digits (CJK counts as letters)
CJK_CHAR = re.compile(f"[{CJK}]")
SPACES = re.compile(r"\s+")
CJK_RE2 = f"[{CJK}]"  # `CJK_CHAR` for Arrow
ONLY_CJK = f"^[{CJK}]+$"
WS = r"[\s\x0b\x1c-\x1f]"  # what Python's str.strip() / \s treat as ASCII white space


def fold(text: object) -> str:
    """Width (NFKC), Traditional → Simplified, case. Blank → ""."""
    if is_blank(text):
        return ""
    s = unicodedata.normalize("NFKC", str(text)).strip()
    if CJK_CHAR.search(s):
        s = simplified(s)
    return s.casefold()


def unique_map(series: pd.Series, func) -> pd.Series:
    """Apply `func` once per distinct non-missing value and broadcast back (keeps the index)."""
    codes, uniques = _factorize(series)
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:-1] = [func(u) for u in uniques]
    results[-1] = func(None)
    return pd.Series(results[codes], index=series.index, dtype=object)  # code -1 → the last slot


def _arrow_backed(series: pd.Series) -> pa.Array | None:
    """The column's own Arrow strings (pandas 3 "str" columns hold them): no conversion needed."""
    if not hasattr(series.array, "__arrow_array__"):
        return None
    arr = pa.array(series.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return arr.cast(pa.large_string())
    return None


def _factorize(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values as an object array); missing values get code -1."""
    arr = _arrow_backed(series)
    if arr is None:
        codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
        return codes, np.asarray(uniques, dtype=object)
    encoded = pc.dictionary_encode(arr)  # hashing in C, no Python strings per row
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, encoded.dictionary.to_numpy(zero_copy_only=False).astype(object)


def arrow(series: pd.Series) -> pa.Array:
    own = _arrow_backed(series)
    if own is not None:
        return own
    values = series.to_numpy(dtype=object)
    return pa.array(values, type=pa.large_string(), from_pandas=True) if len(values) else pa.array([], pa.large_string())


def ascii_lower(series: pd.Series) -> pa.Array | None:
    """Stripped lower-case text when every value is ASCII (NFKC and OpenCC change nothing), else None.

    The common case for e-mails, phones, IDs and Latin names: done in C (Arrow), not per value.
    """
    try:
        arr = arrow(series)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers or dates among the text
        try:
            arr = arrow(series.astype(object).where(series.notna(), None).map(_as_text))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
    if not pc.all(pc.fill_null(pc.string_is_ascii(arr), True)).as_py():
        return None
    return pc.fill_null(pc.utf8_lower(pc.utf8_trim_whitespace(arr)), "")


def all_ascii(series: pd.Series) -> bool:
    try:
        arr = arrow(series)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return bool(pc.all(pc.fill_null(pc.string_is_ascii(arr), True)).as_py())


def _as_text(v: object) -> object:
    return v if isinstance(v, str) or v is None else str(v)


def to_series(arr: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(arr.to_numpy(zero_copy_only=False), index=index, dtype=object)


def _fold_many(values: list[str]) -> list[str]:
    """`fold` for many values at once: one OpenCC call over the joined text (much faster)."""
    nfkc = [unicodedata.normalize("NFKC", v).strip() for v in values]
    need = [i for i, v in enumerate(nfkc) if CJK_CHAR.search(v)]
    if need:
        joined = "\n".join(nfkc[i].replace("\n", " ") for i in need)
        converted = simplified(joined).split("\n")
        if len(converted) == len(need):
            for i, c in zip(need, converted, strict=True):
                nfkc[i] = c
        else:  # pragma: no cover - a converter that changes line structure: convert one by one
            for i in need:
                nfkc[i] = simplified(nfkc[i])
    return [v.casefold() for v in nfkc]


def fold_series(series: pd.Series) -> pd.Series:
    """`fold` over a Series, once per distinct non-blank value ("" for blanks)."""
    fast = ascii_lower(series)
    if fast is not None:
        return to_series(fast, series.index)
    codes, uniques = _factorize(series)
    folded = np.empty(len(uniques) + 1, dtype=object)
    folded[:-1] = _fold_many([str(u) for u in uniques])
    folded[-1] = ""
    return pd.Series(folded[codes], index=series.index, dtype=object)
