"""Cell addresses and values as SpreadsheetML text: `AB12`, serial dates, escaped inline strings."""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

MAX_TEXT = 32767
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_X_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")
_EPOCH = dt.datetime(1899, 12, 30)


@lru_cache(maxsize=20000)
def col_letter(n: int) -> str:
    """1 → A, 27 → AA."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


@lru_cache(maxsize=20000)
def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def split_ref(ref: str) -> tuple[int, int]:
    """`B12` → (12, 2)."""
    m = _REF.fullmatch(ref.strip())
    if not m:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(m.group(2)), col_index(m.group(1))


def cell_ref(row: int, col: int) -> str:
    return f"{col_letter(col)}{row}"


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """`A1:C9` → (row1, col1, row2, col2); a single cell is a 1×1 range."""
    a, _, b = ref.partition(":")
    r1, c1 = split_ref(a)
    r2, c2 = split_ref(b) if b else (r1, c1)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def range_ref(r1: int, c1: int, r2: int, c2: int) -> str:
    return f"{cell_ref(r1, c1)}:{cell_ref(r2, c2)}" if (r1, c1) != (r2, c2) else cell_ref(r1, c1)


def quote_sheet(name: str) -> str:
    """A sheet name as formulas need it: always quoted, quotes doubled (CJK, spaces, quotes)."""
    return "'" + name.replace("'", "''") + "'"


def excel_serial(value: dt.date | dt.datetime) -> float:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        delta = value - _EPOCH
        serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    else:
        serial = float((value - _EPOCH.date()).days)
    if serial < 61:  # Excel's fictitious 1900-02-29: dates before March 1900 are one lower
        serial -= 1
    return serial


_NEEDS_WORK = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x")


def escape_text(text: str) -> str:
    """Text safe for an XML text node, as Excel will read it back."""
    if len(text) > MAX_TEXT:
        warnings.warn(f"text of {len(text)} characters truncated to Excel's limit of {MAX_TEXT}", stacklevel=3)
        text = text[:MAX_TEXT]
    if not _NEEDS_WORK.search(text):  # the common case: nothing to do
        return text
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
    if "_x" in text:  # Excel reads `_xHHHH_` as an escaped character: escape the underscore itself
        text = _X_ESCAPE.sub(r"_x005F_\1", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _number(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def _enc_float(x: float) -> tuple[str, str]:
    if x != x or x in (math.inf, -math.inf):
        return "e", ""
    return "n", _number(x)


_FAST = {
    str: lambda v: ("s", escape_text(v)),
    int: lambda v: ("n", str(v)),
    float: _enc_float,
    bool: lambda v: ("b", "1" if v else "0"),
    type(None): lambda v: ("e", ""),
}


def encode(value: object) -> tuple[str, str]:
    """(kind, text) for a Python value: kind is e(mpty), n, b, s, d(ate) or t (date-time)."""
    fast = _FAST.get(type(value))
    if fast is not None:
        return fast(value)
    if value is None:
        return "e", ""
    if isinstance(value, (bool, np.bool_)):
        return "b", "1" if value else "0"
    if isinstance(value, str):
        return "s", escape_text(value)
    if isinstance(value, numbers.Integral):
        return "n", str(int(value))
    if isinstance(value, numbers.Real):
        x = float(value)
        if math.isnan(x) or math.isinf(x):
            return "e", ""
        return "n", _number(x)
    if value is pd.NaT:
        return "e", ""
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        if pd.isna(value):
            return "e", ""
        when = value.to_pydatetime() if isinstance(value, pd.Timestamp) else value
        kind = "d" if (when.hour, when.minute, when.second, when.microsecond) == (0, 0, 0, 0) else "t"
        return kind, _number(excel_serial(when))
    if isinstance(value, dt.date):
        return "d", _number(excel_serial(value))
    if isinstance(value, np.datetime64):
        return encode(pd.Timestamp(value))
    try:
        if pd.isna(value):  # pd.NA and friends
            return "e", ""
    except (TypeError, ValueError):
        pass
    return "s", escape_text(str(value))


def cell_xml(p: str, ref: str, s: int | None, kind: str, text: str) -> str:
    """One `<c>` element; `p` is the namespace prefix of the sheet ("" or "x:")."""
    sattr = f' s="{s}"' if s else ""
    if kind == "e":
        return f'<{p}c r="{ref}"{sattr}/>'
    if kind == "s":
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() or "\n" in text else ""
        return f'<{p}c r="{ref}"{sattr} t="inlineStr"><{p}is><{p}t{space}>{text}</{p}t></{p}is></{p}c>'
    if kind == "b":
        return f'<{p}c r="{ref}"{sattr} t="b"><{p}v>{text}</{p}v></{p}c>'
    return f'<{p}c r="{ref}"{sattr}><{p}v>{text}</{p}v></{p}c>'


def encode_column(values: list) -> tuple[list[str], list[str]]:
    """`encode` for a whole column (vectorised by type, see colxml.encode_values): (kinds, texts)."""
    from .colxml import encode_values

    kinds, texts = encode_values(values)
    return ([kinds] * len(texts) if isinstance(kinds, str) else kinds), texts
