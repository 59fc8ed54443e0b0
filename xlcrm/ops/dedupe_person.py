"""People's names: folded for comparison, their pinyin and initials.

"王 伟先生" → "王伟" → "wang wei" / "ww"; "Mr. Wei Wang" → "wang wei" (parts sorted: surname first or
last agree). Honorifics come from `dedupe_words`, for the Python and the Arrow path alike.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .dedupe_text import (
    CJK_CHAR,
    ONLY_CJK,
    PUNCT,
    SPACES,
    WS,
    all_ascii,
    arrow,
    ascii_lower,
    fold,
    fold_series,
    to_series,
    unique_map,
)
from .dedupe_words import HONORIFICS_CN, HONORIFICS_EN, one_of

_HONORIFICS_CN = re.compile(one_of(HONORIFICS_CN) + "$")
_HONORIFICS_EN = re.compile(rf"^{one_of(HONORIFICS_EN)}\.?\s+")
_HONORIFICS_EN_RE2 = rf"^{WS}*{one_of(HONORIFICS_EN)}\.?{WS}+"


def normalize_person(name: object) -> str:
    """A person's name folded for comparison.

    Chinese names: no spaces, honorifics dropped ("王 伟先生" → "王伟"); Latin names: lower case,
    tokens sorted so "Wang Wei" and "Wei Wang" (surname first or last) agree.
    """
    s = fold(name)
    if not s:
        return ""
    return _person_folded(s)


def _person_folded(s: str) -> str:
    if CJK_CHAR.search(s):
        s = PUNCT.sub("", s)
        if len(s) > 2:
            s = _HONORIFICS_CN.sub("", s) or s
        return s
    s = _HONORIFICS_EN.sub("", s)
    tokens = [t for t in PUNCT.split(s) if t]
    return " ".join(sorted(tokens))


def persons_series(series: pd.Series) -> pd.Series:
    fast = ascii_lower(series)
    if fast is not None:
        return _latin_persons(fast, series.index)
    folded = fold_series(series)
    return unique_map(folded, lambda v: _person_folded(v) if v else "")


def _latin_persons(fast: pa.Array, index: pd.Index) -> pd.Series:
    """`_person_folded` of ASCII names in C (Arrow): honorific dropped, parts sorted ("wei wang" →
    "wang wei"); names of three or more parts (few) are sorted in Python."""
    s = pc.replace_substring_regex(fast, _HONORIFICS_EN_RE2, "")
    s = pc.utf8_trim(pc.replace_substring_regex(s, r"[^a-z0-9]+", " "), " ")  # `PUNCT` on ASCII
    parts = pc.split_pattern(s, " ")
    count = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    out = s.to_numpy(zero_copy_only=False).astype(object)  # one part (or none): the name as it is
    two = count == 2
    if two.any():
        pair = pc.filter(parts, pa.array(two))
        first, second = pc.list_element(pair, 0), pc.list_element(pair, 1)
        space = pa.scalar(" ", pa.large_string())
        ordered = pc.if_else(pc.less_equal(first, second), pc.binary_join_element_wise(first, second, space),
                             pc.binary_join_element_wise(second, first, space))
        out[two] = ordered.to_numpy(zero_copy_only=False)
    for k in np.flatnonzero(count > 2):
        out[k] = " ".join(sorted(out[k].split(" ")))
    return pd.Series(out, index=index, dtype=object)


@cache
def _pinyin_of(char: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(char, style=Style.NORMAL, errors="ignore")) or char


def _pinyin_table(values: list[str], initials: bool) -> dict[int, str]:
    chars = {ch for ch in set("".join(values)) if CJK_CHAR.match(ch)}
    table: dict[int, str] = {}
    for ch in chars:
        p = _pinyin_of(ch)
        table[ord(ch)] = (p[:1] if initials else p + " ")
    return table


def _pinyin_many(values: list[str], table: dict[int, str], initials: bool) -> np.ndarray:
    """Pinyin (or initials) of distinct values.

    Names of CJK characters only (nearly all in a Chinese CRM) are translated together in one C
    call, joined by line breaks: there the per-value clean-up reduces to dropping the trailing
    space. Other values take the per-value path.
    """

    def conv(v: str) -> str:
        if not v:
            return ""
        out = v.translate(table)
        if initials:
            if CJK_CHAR.search(v):
                return PUNCT.sub("", out)
            return "".join(t[:1] for t in v.split())
        return SPACES.sub(" ", out).strip()

    out = np.empty(len(values), dtype=object)
    if not values:
        return out
    only_cjk = pc.fill_null(pc.match_substring_regex(pa.array(values, pa.large_string()), ONLY_CJK), False)
    mask = only_cjk.to_numpy(zero_copy_only=False)
    cjk = np.flatnonzero(mask)
    if len(cjk):
        text = "\n".join([values[k] for k in cjk]).translate(table)
        if not initials:  # every character became "pinyin ": no space before a line end
            text = text.replace(" \n", "\n").removesuffix(" ")
        out[cjk] = text.split("\n")
    for k in np.flatnonzero(~mask):
        out[k] = conv(values[k])
    return out


def token_heads(arr: pa.Array, size: int) -> pa.Array:
    """The first `size` characters of each space-separated part, joined: "sarah bruhn" → "sabr" (size 2).

    Same as the regex `(\\S{1,size})\\S*\\s*` → `\\1`, without RE2's slow capture groups when the
    parts are separated by single spaces (normalised names); other text takes the regex.
    """
    arr = pc.fill_null(arr, "")
    if not pc.all(pc.match_substring_regex(arr, r"^(?:\S+(?: \S+)*)?$")).as_py():
        return pc.replace_substring_regex(arr, rf"(\S{{1,{size}}})\S*\s*", r"\1")
    parts = pc.split_pattern(arr, " ")
    heads = pc.utf8_slice_codeunits(parts.values, 0, size)  # every part at once, then regrouped
    lists = (pa.LargeListArray if pa.types.is_large_list(parts.type) else pa.ListArray).from_arrays(parts.offsets, heads)
    return pc.binary_join(lists, pa.scalar("", heads.type))


def pinyin_series(series: pd.Series, initials: bool = False) -> pd.Series:
    """Pinyin (or initials) of already-folded names: "王伟" → "wang wei" / "ww"; Latin stays as is.

    A per-character table applied with one `str.translate` over all distinct values joined;
    Latin-only data skips it.
    """
    values = series.fillna("").astype(str)
    if all_ascii(values):  # no Chinese at all (checked in C)
        uniques: list[str] = []
    else:
        codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    uniques = [str(u) for u in uniques]
    table = _pinyin_table(uniques, initials)
    if not table:  # no Chinese at all: pinyin is the text; initials are the first letters
        if not initials:
            return values.astype(object)
        return to_series(token_heads(arrow(values), 1), series.index)
    return pd.Series(_pinyin_many(uniques, table, initials)[codes], index=series.index, dtype=object)
