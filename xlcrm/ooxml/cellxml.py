"""Cell values as SpreadsheetML text: what kind of cell a value makes, escaped text, the `<c>` XML.

`CellTags` is the one table of cell XML pieces (number, inline string, bool, empty, with or
without a style and a namespace prefix); every writer path that builds `<c>` elements — one cell
here, a whole column in `columns.py`, a byte-spliced row, a tool sheet — takes its text from it.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .dates import to_serial

MAX_TEXT = 32767
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_X_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


NEEDS_WORK = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x")


def escape_text(text: str) -> str:
    """Text safe for an XML text node, as Excel will read it back."""
    if len(text) > MAX_TEXT:
        warnings.warn(f"text of {len(text)} characters truncated to Excel's limit of {MAX_TEXT}", stacklevel=3)
        text = text[:MAX_TEXT]
    if not NEEDS_WORK.search(text):  # the common case: nothing to do
        return text
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
    if "_x" in text:  # Excel reads `_xHHHH_` as an escaped character: escape the underscore itself
        text = _X_ESCAPE.sub(r"_x005F_\1", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def number_text(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def _enc_float(x: float) -> tuple[str, str]:
    if x != x or x in (math.inf, -math.inf):
        return "e", ""
    return "n", number_text(x)


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
        return "n", number_text(x)
    if value is pd.NaT:
        return "e", ""
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        if pd.isna(value):
            return "e", ""
        when = value.to_pydatetime() if isinstance(value, pd.Timestamp) else value
        kind = "d" if (when.hour, when.minute, when.second, when.microsecond) == (0, 0, 0, 0) else "t"
        return kind, number_text(to_serial(when))
    if isinstance(value, dt.date):
        return "d", number_text(to_serial(value))
    if isinstance(value, np.datetime64):
        return encode(pd.Timestamp(value))
    try:
        if pd.isna(value):  # pd.NA and friends
            return "e", ""
    except (TypeError, ValueError):
        pass
    return "s", escape_text(str(value))


@dataclass(frozen=True)
class CellTags:
    """The text around a cell's value, for one namespace prefix `p` ("" or "x:").

    A cell is `open + ref + '"' + style + <kind's head> + value + <kind's tail>`; an empty cell
    is `open + ref + '"' + style + "/>"`.
    """

    open: str  # `<c r="`
    inline_head: str  # ` t="inlineStr"><is><t` (then `>` or ` xml:space="preserve">`)
    inline_tail: str  # `</t></is></c>`
    bool_head: str  # ` t="b"><v>`
    value_head: str  # `><v>` (numbers and dates)
    value_tail: str  # `</v></c>`


PRESERVE = ' xml:space="preserve"'


@lru_cache(maxsize=8)
def cell_tags(p: str) -> CellTags:
    return CellTags(
        open=f'<{p}c r="',
        inline_head=f' t="inlineStr"><{p}is><{p}t',
        inline_tail=f"</{p}t></{p}is></{p}c>",
        bool_head=f' t="b"><{p}v>',
        value_head=f"><{p}v>",
        value_tail=f"</{p}v></{p}c>",
    )


def needs_preserve(text: str) -> bool:
    """Whether an inline string must say xml:space="preserve" (edge spaces, line breaks)."""
    return text[:1].isspace() or text[-1:].isspace() or "\n" in text


def inline_text(p: str, text: str) -> str:
    """The value part of an inline-string cell: ` t="inlineStr"><is><t>…</t></is></c>`."""
    tags = cell_tags(p)
    return f"{tags.inline_head}{PRESERVE if needs_preserve(text) else ''}>{text}{tags.inline_tail}"


def cell_xml(p: str, ref: str, s: int | None, kind: str, text: str) -> str:
    """One `<c>` element; `p` is the namespace prefix of the sheet ("" or "x:")."""
    tags = cell_tags(p)
    sattr = f' s="{s}"' if s else ""
    head = f'{tags.open}{ref}"{sattr}'
    if kind == "e":
        return head + "/>"
    if kind == "s":
        return head + inline_text(p, text)
    if kind == "b":
        return f"{head}{tags.bool_head}{text}{tags.value_tail}"
    return f"{head}{tags.value_head}{text}{tags.value_tail}"
