"""Company names: core name and branch region ("（北京）华为技术有限公司" → "华为技术", "北京").

Names of CJK characters only (most of a Chinese CRM) are split in C with RE2 patterns compiled from
the same word lists (`dedupe_words`) as the per-value Python path; the tests compare the two.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .dedupe_text import ONLY_CJK, PUNCT, SPACES, arrow, fold, fold_series
from .dedupe_words import (
    GENERIC_REGIONS,
    LEGAL_SUFFIXES_CN,
    LEGAL_SUFFIXES_EN,
    REGION_ALT,
    REGION_SUFFIX,
    REGION_SUFFIXES,
    REGIONS,
    one_of,
)

LEADING_REGION = re.compile(f"^({REGION_ALT}){REGION_SUFFIX}")
_TRAILING_REGION = re.compile(f"({REGION_ALT}){REGION_SUFFIX}$")
_WHOLE_REGION = re.compile(f"({REGION_ALT}){REGION_SUFFIX}")
_BRACKETED = re.compile(r"[(\[【〔]([^()\[\]【】〔〕]*)[)\]】〕]")
_EN_SUFFIX = re.compile(rf"(?:\b{one_of(LEGAL_SUFFIXES_EN)}\b[\s.,&]*)+$")

# The same steps as `_split_folded` as RE2 patterns (Arrow), for names made only of CJK characters
# (no brackets, Latin or punctuation: those steps are no-ops there). RE2 picks the leftmost match
# and the first alternative like Python's `re`, so the results are identical (tested).
_SUFFIX_STEP = "^(.{2,}?)" + one_of(LEGAL_SUFFIXES_CN) + "$"  # the longest suffix leaving ≥ 2 characters
_TRAILING_ARROW = f"(?P<m>(?P<r>{REGION_ALT}){REGION_SUFFIX})$"


def region_of(text: str) -> str:
    """The region a bracket or prefix names ("北京市" → "北京"), "" for none, "*" for a generic one."""
    t = PUNCT.sub("", text)
    if not t:
        return ""
    if t in GENERIC_REGIONS:
        return "*"
    m = _WHOLE_REGION.fullmatch(t)
    return m.group(1) if m else ""


def split_company(name: object) -> tuple[str, str]:
    """(core name, region) of a company name.

    "（北京）华为技术有限公司" → ("华为技术", "北京"); "華為技術股份有限公司" → ("华为技术", "").
    The region is kept apart so that branches of a chain in different cities ("麦当劳（北京）" vs
    "麦当劳（上海）") can be told apart while "北京华为" and "华为" still meet.
    """
    s = fold(name)
    if not s:
        return "", ""
    return _split_folded(s)


def _split_folded(s: str) -> tuple[str, str]:
    region = ""

    def bracket(m: re.Match) -> str:
        nonlocal region
        r = region_of(m.group(1))
        if r:
            if r != "*" and not region:
                region = r
            return " "
        return " " + m.group(1) + " "  # other bracketed words are part of the name

    s = _BRACKETED.sub(bracket, s)
    s = _EN_SUFFIX.sub("", SPACES.sub(" ", s).strip())
    compact = PUNCT.sub("", s)
    for _ in range(4):  # suffixes and trailing regions nest: "…有限公司深圳分公司"
        before = compact
        for suf in LEGAL_SUFFIXES_CN:
            if compact.endswith(suf) and len(compact) - len(suf) >= 2:
                compact = compact[: -len(suf)]
                break
        m = _TRAILING_REGION.search(compact)
        if m and m.start() >= 2:
            region = region or m.group(1)
            compact = compact[: m.start()]
        if compact == before:
            break
    m = LEADING_REGION.match(compact)
    if m and len(compact) - len(m.group(0)) >= 2:
        region = region or m.group(1)
        compact = compact[m.end():]
    return compact, region


def normalize_company(name: object) -> str:
    return split_company(name)[0]


def leading_region(text: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(matched, region, rest) of `LEADING_REGION.match` over a column, without a capturing regex.

    RE2 finds capture groups slowly; a region is 2–4 characters from a fixed list, so the longest
    listed prefix is looked up by length (longest first, as the alternation is ordered), then the
    suffix word after it; the rest is sliced off for each of the few match lengths.
    """
    n = len(text)
    region = pa.array([""] * n, pa.large_string())
    length = pa.array(np.zeros(n, dtype=np.int64))
    for size in sorted({len(r) for r in REGIONS}, reverse=True):
        head = pc.utf8_slice_codeunits(text, 0, size)
        hit = pc.and_(pc.equal(region, ""), pc.fill_null(pc.is_in(head, pa.array([r for r in REGIONS if len(r) == size],
                                                                                  pa.large_string())), False))
        hit = pc.and_(hit, pc.equal(pc.utf8_length(head), size))
        if not pc.any(hit).as_py():
            continue
        region = pc.if_else(hit, head, region)
        after = pc.utf8_slice_codeunits(text, size)
        suffix = pa.array(np.zeros(n, dtype=np.int64))
        for word in reversed(REGION_SUFFIXES):  # none is a prefix of another: any order finds the one
            suffix = pc.if_else(pc.starts_with(after, word), len(word), suffix)
        length = pc.if_else(hit, pc.add(suffix, size), length)
    matched = pc.not_equal(region, "")
    rest = text
    for size in np.unique(length.to_numpy(zero_copy_only=False)):
        if size:
            rest = pc.if_else(pc.equal(length, int(size)), pc.utf8_slice_codeunits(text, int(size)), rest)
    return matched, region, rest


def _split_cjk_arrow(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(core, region) of folded CJK-only company names, whole column at a time."""

    def strip(text: pa.Array, region: pa.Array, pattern: str, from_end: bool) -> tuple[pa.Array, pa.Array]:
        found = pc.extract_regex(text, pattern)
        left = pc.subtract(pc.utf8_length(text), pc.utf8_length(pc.struct_field(found, "m")))
        ok = pc.fill_null(pc.greater_equal(left, 2), False)  # only when ≥ 2 characters stay
        region = pc.if_else(pc.and_(ok, pc.equal(region, "")), pc.struct_field(found, "r"), region)
        return pc.if_else(ok, pc.replace_substring_regex(text, pattern, "", max_replacements=1), text), region

    cores = np.empty(len(arr), dtype=object)
    regions = np.empty(len(arr), dtype=object)
    rows = np.arange(len(arr))
    text, region = arr, pa.array([""] * len(arr), pa.large_string())
    for _ in range(4):  # suffixes and trailing regions nest: "…有限公司深圳分公司"
        stepped = pc.replace_substring_regex(text, _SUFFIX_STEP, r"\1")
        stepped, region = strip(stepped, region, _TRAILING_ARROW, True)
        cores[rows] = stepped.to_numpy(zero_copy_only=False)
        regions[rows] = region.to_numpy(zero_copy_only=False)
        # A name the step left alone is final; only the changed ones take another step.
        changed = pc.not_equal(stepped, text)
        if not pc.any(changed).as_py():
            break
        rows = rows[changed.to_numpy(zero_copy_only=False)]
        text, region = pc.filter(stepped, changed), pc.filter(region, changed)
    core = pa.array(cores, pa.large_string())
    region = pa.array(regions, pa.large_string())
    matched, lead_region, rest = leading_region(core)
    ok = pc.and_(matched, pc.greater_equal(pc.utf8_length(rest), 2))  # only when ≥ 2 characters stay
    region = pc.if_else(pc.and_(ok, pc.equal(region, "")), lead_region, region)
    core = pc.if_else(ok, rest, core)
    return core.to_numpy(zero_copy_only=False), region.to_numpy(zero_copy_only=False)


def companies_frame(series: pd.Series) -> pd.DataFrame:
    """Columns `company` (core) and `company_region` for a Series of company names.

    Names of CJK characters only (most of a Chinese CRM) are split in C (Arrow); the others
    (brackets, Latin, punctuation) once per distinct value in Python.
    """
    folded = fold_series(series)
    arr = arrow(folded)
    cjk = pc.fill_null(pc.match_substring_regex(arr, ONLY_CJK), False)
    cjk_np = cjk.to_numpy(zero_copy_only=False)
    cores = np.full(len(folded), "", dtype=object)
    regions = np.full(len(folded), "", dtype=object)
    if cjk_np.any():
        cores[cjk_np], regions[cjk_np] = _split_cjk_arrow(pc.filter(arr, cjk))
    rest = np.flatnonzero(~cjk_np)
    if len(rest):
        cache_: dict[str, tuple[str, str]] = {}
        values = folded.to_numpy(dtype=object)
        for k in rest:
            v = values[k]
            if v not in cache_:
                cache_[v] = _split_folded(v) if v else ("", "")
            cores[k], regions[k] = cache_[v]
    return pd.DataFrame({"company": cores, "company_region": regions}, index=series.index, dtype=object)
