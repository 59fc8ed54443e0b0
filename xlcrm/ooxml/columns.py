"""Whole columns of values as SpreadsheetML cells, built column by column (no per-cell objects).

Tool sheets, appended rows and computed columns write 10⁵–10⁶ cells; encoding them one Python
call per cell costs seconds. Here a column is encoded by its dtype with array operations, and
its `<c>` elements come from one list comprehension per column. The result is exactly what
`cellxml.encode` + `cellxml.cell_xml` produce cell by cell (tests compare the two).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from .cellxml import MAX_TEXT, NEEDS_WORK, PRESERVE, cell_tags, encode, escape_text, needs_preserve
from .dates import to_serials

_SEP = "\ue000"  # joins a column's values for one scan: not whitespace, nothing NEEDS_WORK looks for
# What makes a joined column not plain, as scans that each run at memchr speed: NEEDS_WORK's
# characters or a line break, "_x", and whitespace beside a separator (searched as `\ue000\s` in the
# join and in its reverse: a pattern that starts with a class, or an alternation, is ~5× slower).
_WORK_CLASS, _WORK_TEXT = NEEDS_WORK.pattern.rsplit("|", 1)  # "[…]" and "_x"
_WORK_OR_BREAK = re.compile(_WORK_CLASS[:-1] + "\n]")
_SPACE_AFTER_SEP = re.compile(_SEP + r"\s")
Kinds = str | list[str]  # one kind for every cell of the column, or one per cell
_FIRST_DATE, _LAST_DATE = dt.datetime(1700, 1, 1), dt.datetime(2200, 1, 1)  # built once, not per value


def _numbers(x: np.ndarray) -> list[str]:
    """`cellxml.number_text` for an array of finite floats."""
    whole = (x == np.floor(x)) & (np.abs(x) < 1e15)
    if whole.all():
        return list(map(str, x.astype(np.int64).tolist()))
    values = x.tolist()
    return [str(int(v)) if w else repr(v) for v, w in zip(values, whole.tolist())]


class PlainTexts(list):
    """A column's texts known to need neither escaping nor xml:space="preserve" (no edge spaces, no
    line breaks), found by `_texts` in one scan, so `cells_xml` and `cell_shapes` skip theirs (on the
    L book's tool sheets each scan cost seconds). A slice of plain texts is plain."""

    __slots__ = ()

    def __getitem__(self, i):
        got = super().__getitem__(i)
        return PlainTexts(got) if isinstance(i, slice) else got


def _texts(values: list[str]) -> list[str]:
    """`escape_text` for a list of str, skipping the work when no value needs it (the usual case)."""
    if max(map(len, values), default=0) > MAX_TEXT:
        return [escape_text(v) for v in values]
    joined = _SEP.join(values)
    if _plain(joined) and not (needs_preserve(values[0]) or needs_preserve(values[-1])):
        return PlainTexts(values)
    if not NEEDS_WORK.search(joined):
        return values
    return [escape_text(v) for v in values]


def _plain(joined: str) -> bool:
    """Whether no value in `joined` (values joined by _SEP) needs escaping, and none has a line break
    or whitespace at an edge inside the join (the first and last values' outer edges are not seen)."""
    return not (_WORK_OR_BREAK.search(joined) or _WORK_TEXT in joined or _space_beside_sep(joined))


def _space_beside_sep(joined: str) -> bool:
    """Whether whitespace touches a separator in `joined`: a value (not the first's start nor the
    last's end) starts or ends with it."""
    return bool(_SPACE_AFTER_SEP.search(joined) or _SPACE_AFTER_SEP.search(joined[::-1]))


def _datetimes(series: pd.Series, one_kind: bool) -> tuple[Kinds, list[str]]:
    """Serials as `dates.to_serial` computes them, and "d" (midnight) or "t" (with a time) per value."""
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_localize(None)
    missing = series.isna().to_numpy()
    stamps = series.to_numpy(dtype="datetime64[us]")
    midnight = stamps == stamps.astype("datetime64[D]")
    serial = to_serials(stamps)
    texts = _numbers(np.where(missing, 0.0, serial))
    if not missing.any():
        if one_kind or midnight.all():
            return ("t" if one_kind and not midnight.all() else "d"), texts
        return np.where(midnight, "d", "t").tolist(), texts
    flags = missing.tolist()
    texts = ["" if m else t for t, m in zip(texts, flags)]
    if one_kind:
        kind = "t" if bool(np.any(~missing & ~midnight)) else "d"
        return [("e" if m else kind) for m in flags], texts
    return np.where(missing, "e", np.where(midnight, "d", "t")).tolist(), texts


def encode_series(series: pd.Series, *, one_date_kind: bool = False) -> tuple[Kinds, list[str]]:
    """(kinds, texts) of a column, as `cells.encode` gives them value by value.

    `one_date_kind`: a date column is all "t" (date-time) if any value has a time, else all "d"
    (tool sheets format a column alike); otherwise each value is "d" or "t" on its own.
    """
    n = len(series)
    if n == 0:
        return [], []
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _datetimes(series, one_date_kind)
    if pd.api.types.is_bool_dtype(dtype) and dtype == np.bool_:
        return "b", ["1" if v else "0" for v in series.tolist()]
    if pd.api.types.is_integer_dtype(dtype) and isinstance(dtype, np.dtype):
        return "n", list(map(str, series.tolist()))
    if pd.api.types.is_float_dtype(dtype) and isinstance(dtype, np.dtype):
        x = series.to_numpy()
        finite = np.isfinite(x)
        if finite.all():
            return "n", _numbers(x)
        texts = _numbers(np.where(finite, x, 0.0))
        flags = finite.tolist()
        return ["n" if f else "e" for f in flags], [t if f else "" for t, f in zip(texts, flags)]
    return encode_values(series.tolist())


def encode_values(values: list) -> tuple[Kinds, list[str]]:
    """(kinds, texts) for a list of Python values (fast paths for text, numbers, dates, blanks)."""
    if not values:
        return [], []
    types = set(map(type, values))
    if types == {str}:
        return "s", _texts(values)
    if types <= {str, float, type(None)} and str in types:
        # Text with blanks (None or NaN, as pandas gives them); other floats go the slow way.
        if all(v is None or v != v for v in values if type(v) is float):
            kinds = ["s" if type(v) is str else "e" for v in values]
            strs = [v if type(v) is str else "" for v in values]
            return kinds, _texts(strs)
    if types == {int}:
        return "n", list(map(str, values))
    if types <= {str, float, int, type(None)} and str in types:
        # Text and numbers in one column (a change log's old/new values): each by its own rule.
        floats = np.array([v if type(v) is float else 0.0 for v in values], dtype=float)
        numbers = _numbers(np.where(np.isfinite(floats), floats, 0.0))
        kinds, texts = [], []
        for v, number in zip(values, numbers):
            t = type(v)
            if t is str:
                kinds.append("s")
                texts.append(v)
            elif t is float and v == v and v not in (math.inf, -math.inf):
                kinds.append("n")
                texts.append(number)
            elif t is int:
                kinds.append("n")
                texts.append(str(v))
            else:
                kinds.append("e")
                texts.append("")
        strs = [x for k, x in zip(kinds, texts) if k == "s"]
        if strs and texts and (max(map(len, strs)) > MAX_TEXT or NEEDS_WORK.search("\n".join(strs))):
            texts = [escape_text(x) if k == "s" else x for k, x in zip(kinds, texts)]
        return kinds, texts
    if types <= {float, int, type(None)}:
        x = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
        if types <= {float, type(None)} or np.all(np.abs(x[np.isfinite(x)]) < 2**53):
            finite = np.isfinite(x)
            texts = _numbers(np.where(finite, x, 0.0))
            if finite.all():
                return "n", texts
            flags = finite.tolist()
            return ["n" if f else "e" for f in flags], [t if f else "" for t, f in zip(texts, flags)]
    if types <= {dt.datetime, pd.Timestamp, type(None)} and types - {type(None)}:
        stamps = [v for v in values if v is not None]
        if not any(v.tzinfo for v in stamps) and all(_FIRST_DATE < v < _LAST_DATE for v in stamps):
            return _datetimes(pd.Series(pd.to_datetime(values)).astype("datetime64[us]"), False)
    pairs = [encode(v) for v in values]
    return [k for k, _ in pairs], [t for _, t in pairs]


def cells_xml(
    p: str,
    letter: str,
    rows: list[str],
    kinds: Kinds,
    texts: list[str],
    sattr: Callable[[str, int], str | None],
    variants: list[int] | None = None,
) -> list[str]:
    """The `<c>` elements of one column, one string per row ("" for an empty unstyled cell).

    `rows` are the row numbers as text; `sattr(kind, variant)` gives the ` s="n"` attribute text
    ("" for none, None to drop an empty cell); `variants` picks a per-row style variant (fills).
    """
    n = len(texts)
    uniform = isinstance(kinds, str)
    tags = cell_tags(p)
    c, is_, t = tags.open + letter, tags.inline_head, tags.inline_tail
    vh, v, bh = tags.value_head, tags.value_tail, tags.bool_head
    # The style attribute of each cell, looked up once per (kind, variant) in the order the cells
    # need them (dict.fromkeys, not set: styles.xml must not depend on the hash seed).
    if variants is None or not any(variants):
        if uniform:
            sas = [sattr(kinds, 0)] * n
        else:
            by_kind = {k: sattr(k, 0) for k in dict.fromkeys(kinds)}
            sas = [by_kind[k] for k in kinds]
    elif uniform:
        by_variant = {x: sattr(kinds, x) for x in dict.fromkeys(variants)}
        sas = [by_variant[x] for x in variants]
    else:
        table = {key: sattr(*key) for key in dict.fromkeys(zip(kinds, variants))}
        sas = [table[key] for key in zip(kinds, variants)]
    plain = isinstance(texts, PlainTexts)
    if uniform and kinds == "s":
        if plain or not _any_preserve(texts):
            return [f'{c}{r}"{sa}{is_}>{x}{t}' for r, sa, x in zip(rows, sas, texts)]
    if uniform and kinds in ("n", "d", "t"):
        return [f'{c}{r}"{sa}{vh}{x}{v}' for r, sa, x in zip(rows, sas, texts)]
    kind_list = [kinds] * n if uniform else kinds
    if "b" not in kind_list and "s" not in kind_list:  # numbers or dates with blanks
        return [
            (f'{c}{r}"{sa}/>' if sa else "") if k == "e" else f'{c}{r}"{sa}{vh}{x}{v}'
            for r, sa, k, x in zip(rows, sas, kind_list, texts)
        ]
    if "b" not in kind_list:  # text with blanks (and numbers): mostly no value needs xml:space
        if plain or not _any_preserve(texts):
            return [
                f'{c}{r}"{sa}{is_}>{x}{t}' if k == "s" else (f'{c}{r}"{sa}/>' if sa else "") if k == "e"
                else f'{c}{r}"{sa}{vh}{x}{v}'
                for r, sa, k, x in zip(rows, sas, kind_list, texts)
            ]
    return [
        f'{c}{r}"{sa}{is_}{PRESERVE if needs_preserve(x) else ""}>{x}{t}'
        if k == "s"
        else (f'{c}{r}"{sa}/>' if sa else "")
        if k == "e"
        else f'{c}{r}"{sa}{bh}{x}{v}'
        if k == "b"
        else f'{c}{r}"{sa}{vh}{x}{v}'
        for r, sa, k, x in zip(rows, sas, kind_list, texts)
    ]


def _any_preserve(texts: list[str]) -> bool:
    """Whether any value may need xml:space="preserve" (one join of the column, scanned at memchr
    speed). A value holding the separator itself can only make it say yes; callers then test each
    value (`needs_preserve`), so the bytes do not depend on it."""
    joined = _SEP.join(texts)
    return "\n" in joined or needs_preserve(texts[0]) or needs_preserve(texts[-1]) or _space_beside_sep(joined)


Shape = tuple[str, str] | None  # (after the row number, after the value), or None: the cell is left out


def cell_shapes(
    p: str,
    kinds: Kinds,
    texts: list[str],
    sattr: Callable[[str, int], str | None],
    variants: list[int] | None = None,
) -> tuple[np.ndarray, list[Shape]]:
    """`cells_xml` as a table, for an engine that joins whole columns (`ooxml.fastrows`).

    Cell i is `open + letter + row + shapes[codes[i]][0] + texts[i] + shapes[codes[i]][1]`, or nothing
    when its shape is None (an empty cell without a style). The same text as `cells_xml` gives, with
    `sattr` called for the same (kind, variant)s in the same order (the styles' numbers depend on it)."""
    n = len(texts)
    tags = cell_tags(p)
    if isinstance(kinds, str):
        kind_names, kind_codes = [kinds], np.zeros(n, dtype=np.int64)
    else:  # hashed, not sorted (np.unique sorts: ~0.1 s a column of 10⁶)
        kind_codes, uniques = pd.factorize(np.asarray(kinds, dtype=object))
        kind_names = uniques.tolist()
    variant_codes = np.zeros(n, dtype=np.int64) if variants is None else np.asarray(variants, dtype=np.int64)
    # xml:space="preserve" for inline strings with edge spaces or line breaks, as in cells_xml
    # (the same whole-column test first: usually no value needs it).
    preserve = np.zeros(n, dtype=np.int64)
    if "s" in kind_names and not isinstance(texts, PlainTexts):
        if _any_preserve(texts):
            strings = kind_codes == kind_names.index("s")
            preserve = (np.fromiter((needs_preserve(x) for x in texts), dtype=bool, count=n) & strings).astype(np.int64)
    key = (kind_codes * (int(variant_codes.max(initial=0)) + 1) + variant_codes) * 2 + preserve
    codes, _ = pd.factorize(key)  # numbered in the order the cells need them (first appearance)
    first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)  # where each code first is
    shapes: list[Shape] = [None] * len(first)
    styles: dict[tuple[str, int], str | None] = {}
    for at, i in enumerate(first.tolist()):
        kind, variant, pres = kind_names[int(kind_codes[i])], int(variant_codes[i]), bool(preserve[i])
        if (kind, variant) not in styles:
            styles[(kind, variant)] = sattr(kind, variant)
        sa = styles[(kind, variant)]
        if kind == "e":
            shapes[at] = (f'"{sa}/>', "") if sa else None
        elif kind == "s":
            shapes[at] = (f'"{sa}{tags.inline_head}{PRESERVE if pres else ""}>', tags.inline_tail)
        elif kind == "b":
            shapes[at] = (f'"{sa}{tags.bool_head}', tags.value_tail)
        else:
            shapes[at] = (f'"{sa}{tags.value_head}', tags.value_tail)
    return codes.astype(np.int64, copy=False), shapes
