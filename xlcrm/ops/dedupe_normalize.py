"""Per-field normalisers for duplicate matching (company, person, phone, e-mail, address, credit code).

Data arrives from several departments in different formats: full/half width, Traditional and
Simplified characters, brackets, legal suffixes, "+86 138 0013 8000" vs "13800138000". Each
normaliser folds those differences away so that records are compared on what they mean.

Everything works on whole Series. The common shapes (ASCII text; Chinese company names and
addresses made of CJK characters only) are done in C with Arrow string kernels (RE2), following
the same steps as the per-value Python functions, which the tests compare them with; the rest does
its Python-level work once per *distinct* value. Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import simplified

# --------------------------------------------------------------------------- shared helpers

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)  # anything but letters/digits (CJK counts as letters)
_CJK = re.compile(r"[\u3400-\u9fff]")
_SPACES = re.compile(r"\s+")


def _blank(value: object) -> bool:
    if value is None:
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        pass
    return not str(value).strip()


def fold(text: object) -> str:
    """Width (NFKC), Traditional → Simplified, case. Blank → ""."""
    if _blank(text):
        return ""
    s = unicodedata.normalize("NFKC", str(text)).strip()
    if _CJK.search(s):
        s = simplified(s)
    return s.casefold()


def _unique_map(series: pd.Series, func) -> pd.Series:
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


def _arrow(series: pd.Series) -> pa.Array:
    own = _arrow_backed(series)
    if own is not None:
        return own
    values = series.to_numpy(dtype=object)
    return pa.array(values, type=pa.large_string(), from_pandas=True) if len(values) else pa.array([], pa.large_string())


def _ascii_lower(series: pd.Series) -> pa.Array | None:
    """Stripped lower-case text when every value is ASCII (NFKC and OpenCC change nothing), else None.

    The common case for e-mails, phones, IDs and Latin names: done in C (Arrow), not per value.
    """
    try:
        arr = _arrow(series)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers or dates among the text
        try:
            arr = _arrow(series.astype(object).where(series.notna(), None).map(_as_text))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
    if not pc.all(pc.fill_null(pc.string_is_ascii(arr), True)).as_py():
        return None
    return pc.fill_null(pc.utf8_lower(pc.utf8_trim_whitespace(arr)), "")


def _all_ascii(series: pd.Series) -> bool:
    try:
        arr = _arrow(series)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return bool(pc.all(pc.fill_null(pc.string_is_ascii(arr), True)).as_py())


def _as_text(v: object) -> object:
    return v if isinstance(v, str) or v is None else str(v)


def _to_series(arr: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(arr.to_numpy(zero_copy_only=False), index=index, dtype=object)


def _fold_many(values: list[str]) -> list[str]:
    """`fold` for many values at once: one OpenCC call over the joined text (much faster)."""
    nfkc = [unicodedata.normalize("NFKC", v).strip() for v in values]
    need = [i for i, v in enumerate(nfkc) if _CJK.search(v)]
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
    fast = _ascii_lower(series)
    if fast is not None:
        return _to_series(fast, series.index)
    codes, uniques = _factorize(series)
    folded = np.empty(len(uniques) + 1, dtype=object)
    folded[:-1] = _fold_many([str(u) for u in uniques])
    folded[-1] = ""
    return pd.Series(folded[codes], index=series.index, dtype=object)


# --------------------------------------------------------------------------- regions

PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西",
    "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古",
    "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
)
CITIES = (
    "广州", "深圳", "珠海", "汕头", "佛山", "东莞", "中山", "惠州", "江门", "湛江", "茂名", "肇庆", "梅州", "汕尾",
    "河源", "阳江", "清远", "潮州", "揭阳", "云浮", "韶关", "南京", "苏州", "无锡", "常州", "南通", "扬州", "镇江",
    "泰州", "徐州", "盐城", "淮安", "连云港", "宿迁", "昆山", "江阴", "杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴",
    "金华", "衢州", "舟山", "台州", "丽水", "义乌", "合肥", "芜湖", "蚌埠", "马鞍山", "安庆", "福州", "厦门", "泉州",
    "漳州", "莆田", "济南", "青岛", "烟台", "潍坊", "淄博", "威海", "临沂", "济宁", "郑州", "洛阳", "开封", "武汉",
    "宜昌", "襄阳", "长沙", "株洲", "湘潭", "成都", "绵阳", "西安", "昆明", "贵阳", "南宁", "桂林", "柳州", "海口",
    "三亚", "石家庄", "唐山", "保定", "廊坊", "太原", "大同", "沈阳", "大连", "鞍山", "长春", "哈尔滨", "大庆", "南昌",
    "赣州", "兰州", "西宁", "银川", "乌鲁木齐", "拉萨", "呼和浩特", "包头", "台北", "高雄", "台中",
)
# Not a place that tells branches apart ("阿里巴巴（中国）" is the same company as "阿里巴巴").
GENERIC_REGIONS = ("中国", "china", "中华", "全国", "国际", "亚太", "asia", "international")
REGIONS = PROVINCES + CITIES
_REGION_SUFFIX = r"(?:省|市|自治区|特别行政区|壮族自治区|回族自治区|维吾尔自治区)?"
_REGION_ALT = "|".join(sorted(REGIONS, key=len, reverse=True))
_LEADING_REGION = re.compile(rf"^({_REGION_ALT}){_REGION_SUFFIX}")
_TRAILING_REGION = re.compile(rf"({_REGION_ALT}){_REGION_SUFFIX}$")
_BRACKETED = re.compile(r"[(\[【〔]([^()\[\]【】〔〕]*)[)\]】〕]")


def region_of(text: str) -> str:
    """The region a bracket or prefix names ("北京市" → "北京"), "" for none, "*" for a generic one."""
    t = _PUNCT.sub("", text)
    if not t:
        return ""
    if t in GENERIC_REGIONS:
        return "*"
    m = re.fullmatch(rf"({_REGION_ALT}){_REGION_SUFFIX}", t)
    return m.group(1) if m else ""


# --------------------------------------------------------------------------- companies

# Longest first, so "股份有限公司" is removed whole and never leaves "股份".
_CN_SUFFIXES = tuple(sorted((
    "股份有限公司", "有限责任公司", "有限公司", "集团股份有限公司", "集团有限公司", "集团公司", "集团", "分公司",
    "总公司", "公司", "有限合伙", "合伙企业", "股份公司", "责任公司", "办事处", "分店", "总店", "总部",
), key=len, reverse=True))
_EN_SUFFIX = re.compile(
    r"(?:\b(?:co|company|ltd|limited|inc|incorporated|corp|corporation|llc|plc|gmbh|group|holdings?|pte|pty|sa|ag)\b[\s.,&]*)+$"
)


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
    s = _EN_SUFFIX.sub("", _SPACES.sub(" ", s).strip())
    compact = _PUNCT.sub("", s)
    for _ in range(4):  # suffixes and trailing regions nest: "…有限公司深圳分公司"
        before = compact
        for suf in _CN_SUFFIXES:
            if compact.endswith(suf) and len(compact) - len(suf) >= 2:
                compact = compact[: -len(suf)]
                break
        m = _TRAILING_REGION.search(compact)
        if m and m.start() >= 2:
            region = region or m.group(1)
            compact = compact[: m.start()]
        if compact == before:
            break
    m = _LEADING_REGION.match(compact)
    if m and len(compact) - len(m.group(0)) >= 2:
        region = region or m.group(1)
        compact = compact[m.end():]
    return compact, region


def normalize_company(name: object) -> str:
    return split_company(name)[0]


# The same steps as `_split_folded` as RE2 patterns (Arrow), for names made only of CJK characters
# (no brackets, Latin or punctuation: those steps are no-ops there). RE2 picks the leftmost match
# and the first alternative like Python's `re`, so the results are identical (tested).
_ONLY_CJK = "^[\u3400-\u9fff]+$"
_CJK_RE2 = "[\u3400-\u9fff]"  # `_CJK` for Arrow (RE2 takes the characters, not \u escapes)
_SUFFIX_STEP = "^(.{2,}?)(?:" + "|".join(_CN_SUFFIXES) + ")$"  # the longest suffix leaving ≥ 2 characters
_TRAILING_ARROW = f"(?P<m>(?P<r>{_REGION_ALT}){_REGION_SUFFIX})$"


_SUFFIX_WORDS = ("省", "市", "自治区", "特别行政区", "壮族自治区", "回族自治区", "维吾尔自治区")  # `_REGION_SUFFIX`


def _leading_region(text: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(matched, region, rest) of `_LEADING_REGION.match` over a column, without a capturing regex.

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
        for word in reversed(_SUFFIX_WORDS):  # none is a prefix of another: any order finds the one
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
    matched, lead_region, rest = _leading_region(core)
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
    arr = _arrow(folded)
    cjk = pc.fill_null(pc.match_substring_regex(arr, _ONLY_CJK), False)
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


# --------------------------------------------------------------------------- people

_HONORIFICS_CN = re.compile(r"(先生|女士|小姐|太太|老板|总经理|经理|总监|主任|老师|教授|博士|总|工|sir)$")
_HONORIFICS_EN = re.compile(r"^(?:mr|mrs|ms|miss|dr|prof)\.?\s+")


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
    if _CJK.search(s):
        s = _PUNCT.sub("", s)
        if len(s) > 2:
            s = _HONORIFICS_CN.sub("", s) or s
        return s
    s = _HONORIFICS_EN.sub("", s)
    tokens = [t for t in _PUNCT.split(s) if t]
    return " ".join(sorted(tokens))


def persons_series(series: pd.Series) -> pd.Series:
    fast = _ascii_lower(series)
    if fast is not None:
        return _latin_persons(fast, series.index)
    folded = fold_series(series)
    return _unique_map(folded, lambda v: _person_folded(v) if v else "")


def _latin_persons(fast: pa.Array, index: pd.Index) -> pd.Series:
    """`_person_folded` of ASCII names in C (Arrow): honorific dropped, parts sorted ("wei wang" →
    "wang wei"); names of three or more parts (few) are sorted in Python."""
    s = pc.replace_substring_regex(fast, rf"^{_WS}*(?:mr|mrs|ms|miss|dr|prof)\.?{_WS}+", "")
    s = pc.utf8_trim(pc.replace_substring_regex(s, r"[^a-z0-9]+", " "), " ")  # `_PUNCT` on ASCII
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
    chars = {ch for ch in set("".join(values)) if _CJK.match(ch)}
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
            if _CJK.search(v):
                return _PUNCT.sub("", out)
            return "".join(t[:1] for t in v.split())
        return _SPACES.sub(" ", out).strip()

    out = np.empty(len(values), dtype=object)
    if not values:
        return out
    only_cjk = pc.fill_null(pc.match_substring_regex(pa.array(values, pa.large_string()), _ONLY_CJK), False)
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
    if _all_ascii(values):  # no Chinese at all (checked in C)
        uniques: list[str] = []
    else:
        codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    uniques = [str(u) for u in uniques]
    table = _pinyin_table(uniques, initials)
    if not table:  # no Chinese at all: pinyin is the text; initials are the first letters
        if not initials:
            return values.astype(object)
        return _to_series(token_heads(_arrow(values), 1), series.index)
    return pd.Series(_pinyin_many(uniques, table, initials)[codes], index=series.index, dtype=object)


# --------------------------------------------------------------------------- phones and e-mails

_CN_MOBILE = re.compile(r"^(?:0086|86)?(1[3-9]\d{9})$")


def normalize_phone(value: object, region: str = "CN") -> str:
    """E.164 form ("+8613800138000") of a phone number, "" when blank or not a number."""
    if _blank(value):
        return ""
    s = unicodedata.normalize("NFKC", str(value)).strip()
    digits = re.sub(r"\D", "", s)
    m = _CN_MOBILE.match(digits)
    if m and (region == "CN" or s.startswith(("+86", "0086", "86"))):
        return "+86" + m.group(1)
    try:
        import phonenumbers

        num = phonenumbers.parse(s, region or "CN")
        if phonenumbers.is_possible_number(num):
            return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    except Exception:  # phonenumbers raises NumberParseException for junk
        pass
    return ""


def phones_series(series: pd.Series, region: str = "CN") -> pd.Series:
    """`normalize_phone` over a Series; Chinese mobiles (most of a CRM) are done in C (Arrow)."""
    fast = _ascii_lower(series) if region == "CN" else None
    if fast is None:
        return _unique_map(series, lambda v: normalize_phone(v, region))
    digits = pc.replace_substring_regex(fast, r"\D", "")
    mobile = pc.fill_null(pc.match_substring_regex(digits, r"^(?:0086|86)?1[3-9]\d{9}$"), False)
    digits = digits.cast(pa.large_string())
    e164 = pc.binary_join_element_wise(pa.scalar("+86", pa.large_string()), pc.utf8_slice_codeunits(digits, -11),
                                       pa.scalar("", pa.large_string()))
    out = _to_series(pc.if_else(mobile, e164, ""), series.index)
    rest = (~mobile.to_numpy(zero_copy_only=False)) & (series.notna().to_numpy())
    if rest.any():
        out[rest] = _unique_map(series[rest], lambda v: normalize_phone(v, region)).to_numpy()
    return out


def normalize_email(value: object) -> str:
    """Lower case, no spaces, full-width "＠" folded; "" unless it looks like name@domain."""
    if _blank(value):
        return ""
    s = unicodedata.normalize("NFKC", str(value))
    s = _SPACES.sub("", s).casefold().strip(".;,<>")
    if s.startswith("mailto:"):
        s = s[7:]
    if s.count("@") != 1 or "." not in s.split("@")[1]:
        return ""
    return s


def emails_series(series: pd.Series) -> pd.Series:
    fast = _ascii_lower(series)
    if fast is None:
        return _unique_map(series, normalize_email)
    s = pc.replace_substring_regex(pc.replace_substring_regex(fast, r"\s+", ""), r"^mailto:", "")
    s = pc.utf8_trim(s, ".;,<>")
    ok = pc.fill_null(pc.match_substring_regex(s, r"^[^@]+@[^@]*\.[^@]*$"), False)
    return _to_series(pc.if_else(ok, s, ""), series.index)


# --------------------------------------------------------------------------- addresses

_PROVINCE_TOKEN = re.compile(rf"^({_REGION_ALT}|[\u4e00-\u9fff]{{2,3}}?(?=省|自治区))(?:省|市|自治区|特别行政区|壮族自治区|回族自治区|维吾尔自治区)?")
_CITY_TOKEN = re.compile(r"^([\u4e00-\u9fff]{2,4}?)(?:市|自治州|地区|盟)")
_DISTRICT_TOKEN = re.compile(r"^([\u4e00-\u9fff]{1,4}?)(?:区|县|旗|市)")
_ADDRESS_WORDS = (
    (re.compile(r"\bstreet\b"), "st"), (re.compile(r"\broad\b"), "rd"), (re.compile(r"\bavenue\b"), "ave"),
    (re.compile(r"\bplace\b"), "pl"), (re.compile(r"\bcrescent\b"), "cres"), (re.compile(r"\bdrive\b"), "dr"),
    (re.compile(r"\bcourt\b"), "ct"), (re.compile(r"\bclose\b"), "cl"), (re.compile(r"\bterrace\b"), "tce"),
)


_ADDRESS_SHORT = {p.pattern[2:-2]: short for p, short in _ADDRESS_WORDS}
_ADDRESS_WORD = re.compile(r"\b(?:" + "|".join(_ADDRESS_SHORT) + r")\b")


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
    if not _CJK.search(s):
        rest = s
        for pattern, short in _ADDRESS_WORDS:
            rest = pattern.sub(short, rest)
        return "", "", "", _SPACES.sub(" ", _PUNCT.sub(" ", rest)).strip()
    s = _PUNCT.sub("", s)
    province = city = district = ""
    m = _PROVINCE_TOKEN.match(s)
    if m:
        province = m.group(1)
        s = s[m.end():]
        if province in ("北京", "天津", "上海", "重庆"):
            city = province
    if not city:
        m = _LEADING_REGION.match(s)
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
    fast = _ascii_lower(series)
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
                             "address": _to_series(arr, series.index)}, index=series.index)
    folded = fold_series(series)
    arr = _arrow(folded)
    # Chinese addresses whose only punctuation is ASCII go through RE2 (Arrow); the rest per value.
    bare = pc.replace_substring_regex(arr, _ASCII_PUNCT, "")
    simple = pc.fill_null(pc.and_(pc.match_substring_regex(bare, _CJK_ADDRESS),
                                  pc.match_substring_regex(bare, _CJK_RE2)), False)
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


# `_split_address_folded` as RE2 patterns. `_PROVINCE_TOKEN`'s look-ahead becomes a second pattern
# tried where the region list does not match, as Python's alternation does.
_ASCII_PUNCT = r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+"  # ASCII that `_PUNCT` removes
_CJK_ADDRESS = "^[\u3400-\u9fffa-z0-9]+$"
_ADDR_PROVINCE_OTHER = "^(?P<m>(?P<r>[\u4e00-\u9fff]{2,3}?)(?:省|自治区))"
_ADDR_CITY = "^(?P<m>(?P<r>[\u4e00-\u9fff]{2,4}?)(?:市|自治州|地区|盟))"
_ADDR_DISTRICT = "^(?P<m>(?P<r>[\u4e00-\u9fff]{1,4}?)(?:区|县|旗|市))"
_MUNICIPALITIES = ("北京", "天津", "上海", "重庆")


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
    ok_a, reg_a, rest_a = _leading_region(text)
    ok_b, reg_b, _ = token(text, _ADDR_PROVINCE_OTHER)
    province = pc.if_else(ok_a, reg_a, pc.if_else(ok_b, reg_b, empty))
    text = cut(pc.if_else(ok_a, rest_a, text), pc.and_(pc.invert(ok_a), ok_b), _ADDR_PROVINCE_OTHER)
    city = pc.if_else(pc.is_in(province, pa.array(_MUNICIPALITIES, pa.large_string())), province, empty)
    no_city = pc.equal(city, "")
    ok_l, reg_l, rest_l = _leading_region(text)
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


_PLACE = re.compile(r"(.{2,}?)(?:省|市|自治区|特别行政区|壮族自治区|回族自治区|维吾尔自治区|自治州|地区)")


def normalize_place(value: object) -> str:
    """A province or city cell folded: "深圳市" → "深圳", "廣東省" → "广东", "Sydney" → "sydney"."""
    return _place_folded(fold(value))


def _place_folded(folded: str) -> str:
    s = _PUNCT.sub("", folded)
    m = _PLACE.fullmatch(s)
    return m.group(1) if m else s


def places_series(series: pd.Series) -> pd.Series:
    fast = _ascii_lower(series)
    if fast is not None:  # no 省/市 suffix to drop in ASCII: only `_PUNCT`
        return _to_series(pc.replace_substring_regex(fast, r"[^a-z0-9]+", ""), series.index)
    folded = fold_series(series)  # folded once: `_place_folded` need not fold again
    return _unique_map(folded, lambda v: _place_folded(v) if v else "")


# --------------------------------------------------------------------------- credit code

# GB 32100-2015: 18 characters over this alphabet (no I, O, S, V, Z); the last is a check character.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_SHAPE = re.compile(rf"^[{CREDIT_ALPHABET}]{{18}}$")


def credit_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a unified social credit code."""
    total = sum(CREDIT_ALPHABET.index(ch) * w for ch, w in zip(first17[:17], _CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def credit_code_valid(code: object) -> bool:
    """True when `code` is an 18-character unified social credit code whose check character fits."""
    s = _credit_folded(code)
    return bool(_CREDIT_SHAPE.match(s)) and credit_check_char(s[:17]) == s[17]


def _credit_folded(code: object) -> str:
    if _blank(code):
        return ""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", str(code))).upper()


def normalize_credit_code(code: object) -> str:
    """The code upper-cased without spaces if its checksum is right, else "" (never a key)."""
    s = _credit_folded(code)
    return s if _CREDIT_SHAPE.match(s) and credit_check_char(s[:17]) == s[17] else ""


def credit_codes_series(series: pd.Series) -> pd.Series:
    """`normalize_credit_code` over a Series: shape by regex and checksum by array arithmetic."""
    fast = _ascii_lower(series)
    if fast is None:
        return _unique_map(series, normalize_credit_code)
    s = pc.utf8_upper(pc.replace_substring_regex(fast, r"[\s\-]", ""))
    shaped = pc.fill_null(pc.match_substring_regex(s, rf"^[{CREDIT_ALPHABET}]{{18}}$"), False).to_numpy(zero_copy_only=False)
    out = np.full(len(series), "", dtype=object)
    idx = np.flatnonzero(shaped)
    if len(idx):
        codes = s.to_numpy(zero_copy_only=False)[idx].astype("S18")
        chars = np.frombuffer(codes.tobytes(), dtype=np.uint8).reshape(-1, 18)
        value = np.full(256, 0, dtype=np.int64)
        for k, ch in enumerate(CREDIT_ALPHABET):
            value[ord(ch)] = k
        total = value[chars[:, :17]] @ np.array(_CREDIT_WEIGHTS, dtype=np.int64)
        check = np.frombuffer(CREDIT_ALPHABET.encode(), dtype=np.uint8)[(31 - total % 31) % 31]
        good = idx[check == chars[:, 17]]
        out[good] = s.to_numpy(zero_copy_only=False)[good]
    return pd.Series(out, index=series.index, dtype=object)


# --------------------------------------------------------------------------- other keys


def normalize_id(value: object) -> str:
    """An identifier used as an exact key (e.g. an ID-card or social-security number): no spaces/punct."""
    return _PUNCT.sub("", fold(value))


def ids_series(series: pd.Series) -> pd.Series:
    fast = _ascii_lower(series)
    if fast is not None:
        return _to_series(pc.replace_substring_regex(fast, r"[^a-z0-9]+", ""), series.index)
    return _unique_map(series, normalize_id)


def normalize_postcode(value: object) -> str:
    if _blank(value):
        return ""
    s = unicodedata.normalize("NFKC", str(value)).strip()
    if re.fullmatch(r"\d+\.0", s):  # a postcode read as a float
        s = s[:-2]
    return re.sub(r"\s+", "", s).upper()


_WS = r"[\s\x0b\x1c-\x1f]"  # what Python's str.strip() / \s treat as ASCII white space


def postcodes_series(series: pd.Series) -> pd.Series:
    """`normalize_postcode` over a Series; ASCII postcodes (nearly all) are done in C (Arrow)."""
    fast = _ascii_lower(series)
    if fast is None:
        return _unique_map(series, normalize_postcode)
    s = pc.replace_substring_regex(fast, rf"^{_WS}*(\d+)\.0{_WS}*$", r"\1")  # a postcode read as a float
    return _to_series(pc.utf8_upper(pc.replace_substring_regex(s, rf"{_WS}+", "")), series.index)


__all__ = [
    "CITIES", "CREDIT_ALPHABET", "PROVINCES", "addresses_frame", "companies_frame", "credit_check_char",
    "credit_code_valid", "credit_codes_series", "emails_series", "fold", "fold_series", "ids_series",
    "normalize_company", "normalize_credit_code", "normalize_email", "normalize_id", "normalize_person",
    "normalize_phone", "normalize_place", "normalize_postcode", "persons_series", "phones_series", "pinyin_series",
    "places_series", "postcodes_series", "region_of", "split_address", "split_company", "token_heads",
]
