"""Addresses (province, city, district, rest) and province/city cells, suffixes from `dedupe_words`.

"广东省深圳市南山区科技园南区8栋" → ("广东", "深圳", "南山", "科技园南区8栋"). Chinese addresses whose
only punctuation is ASCII are split in C by RE2 patterns built from the same lists as the Python
path's; Latin ones have their street words abbreviated.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .dedupe_company import LEADING_REGION, leading_region
from .dedupe_text import CJK_CHAR, CJK_RE2, PUNCT, SPACES, arrow, ascii_lower, fold, fold_series, to_series, unique_map
from .dedupe_words import (
    CITIES,
    CITY_SUFFIXES,
    CJK,
    DISTRICT_SUFFIXES,
    HAN,
    MUNICIPALITIES,
    PLACE_SUFFIXES,
    PROVINCE_SUFFIXES,
    REGION_ALT,
    REGION_SUFFIX,
    STREET_WORDS,
    one_of,
)

_PROVINCE_TOKEN = re.compile(f"^({REGION_ALT}|[{HAN}]{{2,3}}?(?={one_of(PROVINCE_SUFFIXES)})){REGION_SUFFIX}")
_CITY_TOKEN = re.compile(f"^([{HAN}]{{2,4}}?){one_of(CITY_SUFFIXES)}")
_DISTRICT_TOKEN = re.compile(f"^([{HAN}]{{1,4}}?){one_of(DISTRICT_SUFFIXES)}")
_ADDRESS_WORDS = tuple((re.compile(rf"\b{long}\b"), short) for long, short in STREET_WORDS)
_ADDRESS_SHORT = dict(STREET_WORDS)
_ADDRESS_WORD = re.compile(r"\b" + one_of(tuple(_ADDRESS_SHORT)) + r"\b")
_PLACE = re.compile(f"(.{{2,}}?){one_of(PLACE_SUFFIXES)}")

# `_split_address_folded` as RE2 patterns. `_PROVINCE_TOKEN`'s look-ahead becomes a second pattern
# tried where the region list does not match, as Python's alternation does.
_ASCII_PUNCT = r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+"  # ASCII that `PUNCT` removes
_CJK_ADDRESS = f"^[{CJK}a-z0-9]+$"
_ADDR_PROVINCE_OTHER = f"^(?P<m>(?P<r>[{HAN}]{{2,3}}?){one_of(PROVINCE_SUFFIXES)})"
_ADDR_CITY = f"^(?P<m>(?P<r>[{HAN}]{{2,4}}?){one_of(CITY_SUFFIXES)})"
_ADDR_DISTRICT = f"^(?P<m>(?P<r>[{HAN}]{{1,4}}?){one_of(DISTRICT_SUFFIXES)})"


def split_address(value: object) -> tuple[str, str, str, str]:
    """(province, city, district, rest) of an address; tokens without their 省/市/区 suffix.

    "广东省深圳市南山区科技园南区8栋" → ("广东", "深圳", "南山", "科技园南区8栋").
    "北京市海淀区中关村大街27号" → ("北京", "北京", "海淀", "中关村大街27号").
    """
    s = fold(value)
    if not s:
        return "", "", "", ""
    return _split_address_folded(s)


def _split_address_folded(s: str) -> tuple[str, str, str, str]:
    if not CJK_CHAR.search(s):
        rest = s
        for pattern, short in _ADDRESS_WORDS:
            rest = pattern.sub(short, rest)
        return "", "", "", SPACES.sub(" ", PUNCT.sub(" ", rest)).strip()
    s = PUNCT.sub("", s)
    province = city = district = ""
    m = _PROVINCE_TOKEN.match(s)
    if m:
        province = m.group(1)
        s = s[m.end():]
        if province in MUNICIPALITIES:
            city = province
    if not city:
        m = LEADING_REGION.match(s)
        if m and m.group(1) in CITIES:
            city = m.group(1)
            s = s[m.end():]
        else:
            m = _CITY_TOKEN.match(s)
            if m:
                city = m.group(1)
                s = s[m.end():]
    m = _DISTRICT_TOKEN.match(s)
    if m and len(s) > m.end():
        district = m.group(1)
        s = s[m.end():]
    return province, city, district, s


def addresses_frame(series: pd.Series) -> pd.DataFrame:
    """Columns addr_province, addr_city, addr_district, address (the rest) for a Series."""
    fast = ascii_lower(series)
    if fast is not None:  # Latin addresses: abbreviate street words, drop punctuation, in C
        arr = pc.utf8_trim(pc.replace_substring_regex(fast, r"[^a-z0-9]+", " "), " ")  # single spaces now
        # The street words in one pass of one pattern over all addresses joined (RE2's \b is slow;
        # no short form is itself a listed word, so one pass equals the word-by-word loop).
        if len(arr):
            joined = "\n".join(arr.to_numpy(zero_copy_only=False).tolist())
            arr = pa.array(_ADDRESS_WORD.sub(lambda m: _ADDRESS_SHORT[m.group(0)], joined).split("\n"),
                           pa.large_string())
        blank = pd.Series([""] * len(series), index=series.index, dtype=object)
        return pd.DataFrame({"addr_province": blank, "addr_city": blank, "addr_district": blank,
                             "address": to_series(arr, series.index)}, index=series.index)
    folded = fold_series(series)
    arr = arrow(folded)
    # Chinese addresses whose only punctuation is ASCII go through RE2 (Arrow); the rest per value.
    bare = pc.replace_substring_regex(arr, _ASCII_PUNCT, "")
    simple = pc.fill_null(pc.and_(pc.match_substring_regex(bare, _CJK_ADDRESS),
                                  pc.match_substring_regex(bare, CJK_RE2)), False)
    mask = simple.to_numpy(zero_copy_only=False)
    cols = [np.full(len(folded), "", dtype=object) for _ in range(4)]
    if mask.any():
        for col, part in zip(cols, _split_address_arrow(pc.filter(bare, simple)), strict=True):
            col[mask] = part
    cache_: dict[str, tuple[str, str, str, str]] = {}
    values = folded.to_numpy(dtype=object)
    for k in np.flatnonzero(~mask):
        v = values[k]
        if v not in cache_:
            cache_[v] = _split_address_folded(v) if v else ("", "", "", "")
        for col, part in zip(cols, cache_[v], strict=True):
            col[k] = part
    names = ["addr_province", "addr_city", "addr_district", "address"]
    return pd.DataFrame(dict(zip(names, cols, strict=True)), index=series.index, dtype=object)


def _split_address_arrow(text: pa.Array) -> list[np.ndarray]:
    """(province, city, district, rest) of CJK addresses without punctuation, whole column at a time."""

    def token(text: pa.Array, pattern: str) -> tuple[pa.Array, pa.Array, pa.Array]:
        found = pc.extract_regex(text, pattern)
        ok = pc.is_valid(found)
        return ok, pc.fill_null(pc.struct_field(found, "r"), ""), pc.fill_null(pc.struct_field(found, "m"), "")

    def cut(text: pa.Array, ok: pa.Array, pattern: str) -> pa.Array:
        # The same pattern removes the same (leftmost, anchored) match it found.
        return pc.if_else(ok, pc.replace_substring_regex(text, pattern, "", max_replacements=1), text)

    empty = pa.array([""] * len(text), pa.large_string())
    ok_a, reg_a, rest_a = leading_region(text)
    ok_b, reg_b, _ = token(text, _ADDR_PROVINCE_OTHER)
    province = pc.if_else(ok_a, reg_a, pc.if_else(ok_b, reg_b, empty))
    text = cut(pc.if_else(ok_a, rest_a, text), pc.and_(pc.invert(ok_a), ok_b), _ADDR_PROVINCE_OTHER)
    city = pc.if_else(pc.is_in(province, pa.array(MUNICIPALITIES, pa.large_string())), province, empty)
    no_city = pc.equal(city, "")
    ok_l, reg_l, rest_l = leading_region(text)
    ok_l = pc.and_(no_city, pc.and_(ok_l, pc.is_in(reg_l, pa.array(CITIES, pa.large_string()))))
    ok_c, reg_c, _ = token(text, _ADDR_CITY)
    ok_c = pc.and_(no_city, pc.and_(pc.invert(ok_l), ok_c))
    city = pc.if_else(ok_l, reg_l, pc.if_else(ok_c, reg_c, city))
    text = cut(pc.if_else(ok_l, rest_l, text), ok_c, _ADDR_CITY)
    ok_d, reg_d, m_d = token(text, _ADDR_DISTRICT)
    ok_d = pc.and_(ok_d, pc.greater(pc.utf8_length(text), pc.utf8_length(m_d)))
    district = pc.if_else(ok_d, reg_d, empty)
    text = cut(text, ok_d, _ADDR_DISTRICT)
    return [a.to_numpy(zero_copy_only=False) for a in (province, city, district, text)]


def normalize_place(value: object) -> str:
    """A province or city cell folded: "深圳市" → "深圳", "廣東省" → "广东", "Sydney" → "sydney"."""
    return _place_folded(fold(value))


def _place_folded(folded: str) -> str:
    s = PUNCT.sub("", folded)
    m = _PLACE.fullmatch(s)
    return m.group(1) if m else s


def places_series(series: pd.Series) -> pd.Series:
    fast = ascii_lower(series)
    if fast is not None:  # no 省/市 suffix to drop in ASCII: only `PUNCT`
        return to_series(pc.replace_substring_regex(fast, r"[^a-z0-9]+", ""), series.index)
    folded = fold_series(series)  # folded once: `_place_folded` need not fold again
    return unique_map(folded, lambda v: _place_folded(v) if v else "")
