"""Per-field normalisers used by duplicate matching."""

from __future__ import annotations

import pandas as pd
import pytest

from xlcrm.ops import dedupe_normalize as dn


@pytest.mark.parametrize(
    ("raw", "core", "region"),
    [
        ("（北京）华为技术有限公司", "华为技术", "北京"),
        ("北京华为技术有限公司", "华为技术", "北京"),
        ("華為技術股份有限公司", "华为技术", ""),  # Traditional → Simplified, legal suffix
        ("华为技术有限公司深圳分公司", "华为技术", "深圳"),  # branch suffix and trailing city
        ("深圳市腾讯计算机系统有限公司", "腾讯计算机系统", "深圳"),
        ("阿里巴巴（中国）网络技术有限公司", "阿里巴巴网络技术", ""),  # 中国 is no branch region
        ("Acme Trading Co., Ltd.", "acmetrading", ""),
        ("ＡＣＭＥ  Inc.", "acme", ""),  # full width, case
        ("上海", "上海", ""),  # a bare region is a name, not stripped to nothing
        (None, "", ""),
    ],
)
def test_split_company(raw, core, region):
    assert dn.split_company(raw) == (core, region)


def test_companies_frame_matches_scalar():
    s = pd.Series(["（上海）麦当劳餐饮有限公司", None, "麦当劳餐饮（北京）有限公司", "（上海）麦当劳餐饮有限公司"], index=[5, 6, 7, 8])
    f = dn.companies_frame(s)
    assert list(f.index) == [5, 6, 7, 8]
    assert f["company"].tolist() == ["麦当劳餐饮", "", "麦当劳餐饮", "麦当劳餐饮"]
    assert f["company_region"].tolist() == ["上海", "", "北京", "上海"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("王 伟先生", "王伟"), ("張偉", "张伟"), ("王总", "王总"), ("Wang Wei", "wang wei"), ("wei  WANG", "wang wei"),
     ("Mr. John Smith", "john smith"), ("", "")],
)
def test_normalize_person(raw, expected):
    assert dn.normalize_person(raw) == expected


def test_pinyin_and_initials():
    names = pd.Series(["王伟", "张 三", "smith john", None])
    folded = dn.persons_series(names)
    assert dn.pinyin_series(folded).tolist() == ["wang wei", "zhang san", "john smith", ""]
    assert dn.pinyin_series(folded, initials=True).tolist() == ["ww", "zs", "js", ""]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("+86 138 0013 8000", "+8613800138000"), ("0086-13800138000", "+8613800138000"),
     ("138-0013-8000", "+8613800138000"), ("１３８００１３８０００", "+8613800138000"),
     ("010-62345678", "+861062345678"), ("abc", ""), (None, "")],
)
def test_normalize_phone(raw, expected):
    assert dn.normalize_phone(raw) == expected


def test_phone_other_region():
    assert dn.normalize_phone("(02) 9876 5432", "AU") == "+61298765432"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" Zhang.San@Example.COM ", "zhang.san@example.com"), ("li＠qq.com", "li@qq.com"), ("not an email", ""),
     ("mailto:a@b.cn", "a@b.cn")],
)
def test_normalize_email(raw, expected):
    assert dn.normalize_email(raw) == expected


def test_split_address():
    assert dn.split_address("广东省深圳市南山区科技园南区8栋") == ("广东", "深圳", "南山", "科技园南区8栋")
    assert dn.split_address("北京市海淀区中关村大街27号") == ("北京", "北京", "海淀", "中关村大街27号")
    assert dn.split_address("廣東省廣州市天河區體育西路1號") == ("广东", "广州", "天河", "体育西路1号")
    assert dn.split_address("44 Forbes Street, Wintersloe") == ("", "", "", "44 forbes st wintersloe")


def test_places():
    assert dn.places_series(pd.Series(["深圳市", "廣東省", "Sydney", None])).tolist() == ["深圳", "广东", "sydney", ""]


def test_credit_code_checksum():
    good = "91350100M000100Y43"  # the example printed in GB 32100-2015
    assert dn.credit_code_valid(good)
    assert dn.normalize_credit_code(" 91350100-m000100y43 ") == good
    assert not dn.credit_code_valid("91350100M000100Y44")  # wrong check character
    assert dn.normalize_credit_code("91350100M000100Y44") == ""
    assert dn.normalize_credit_code("12345") == ""
    # every generated code validates, and changing any one character breaks it
    body = "91110108MA01ABCD2"
    code = body + dn.credit_check_char(body)
    assert dn.credit_code_valid(code)
    for i in range(17):
        alt = dn.CREDIT_ALPHABET[(dn.CREDIT_ALPHABET.index(code[i]) + 1) % 31]
        assert not dn.credit_code_valid(code[:i] + alt + code[i + 1:])


def test_postcode_and_ids():
    assert dn.postcodes_series(pd.Series(["518000", "0518000", "2602.0", None])).tolist() == ["518000", "0518000", "2602", ""]
    assert dn.normalize_id(" 110-101 1990 ") == "1101011990"


def test_series_fast_paths_agree_with_scalar_functions():
    phones = ["+86 138 0013 8000", "0086-13800138000", "138-0013-8000", "１３８００１３８０００", "010-62345678", "abc",
              None, 13800138000, "8613912345678", "+1 650 253 0000"]
    emails = [" Zhang.San@Example.COM ", "li＠qq.com", "not an email", "mailto:a@b.cn", None, "a@b", "x@y.cn;"]
    codes = ["91350100M000100Y43", " 91350100-m000100y43 ", "91350100M000100Y44", "12345", None,
             "９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y4I"]
    postcodes = ["518000", " 0518000 ", "2602.0", 2602.0, 518000, "sw1a 1aa", "\x1c2602.0\t", "１２３", None]
    for series_fn, scalar_fn, values in (
        (dn.postcodes_series, dn.normalize_postcode, postcodes),
        (dn.phones_series, dn.normalize_phone, phones),
        (dn.emails_series, dn.normalize_email, emails),
        (dn.credit_codes_series, dn.normalize_credit_code, codes),
    ):
        for vals in (values, [v for v in values if isinstance(v, str) and v.isascii()]):  # mixed and ASCII-only
            s = pd.Series(vals, dtype=object)
            assert series_fn(s).tolist() == [scalar_fn(v) for v in vals], series_fn.__name__


def test_companies_arrow_path_agrees_with_scalar_split():
    """CJK-only names go through RE2 (Arrow); the result must equal the Python `split_company`."""
    from xlcrm.ops.dedupe_quality import chinese_quality_set

    tricky = ["x马鞍山", "马鞍山", "北京市a", "北京市ab", "有限公司", "股份有限公司公司", "集团", "北京", "北京北京", "阿北京",
              "华创北京市", "华创科技有限公司北京", "上海华创上海分公司", "深圳市华为技术有限公司深圳分公司",
              "广西壮族自治区华创科技有限公司", "华创科技集团有限公司广州分公司总部", "麦当劳（北京）", "Acme 华创 Ltd", None, ""]
    names = pd.concat([chinese_quality_set(300, seed=3)[0]["company"], pd.Series(tricky, dtype=object)],
                      ignore_index=True)
    frame = dn.companies_frame(names)
    expected = [dn.split_company(v) for v in names]
    assert list(zip(frame["company"], frame["company_region"], strict=True)) == expected


def test_pinyin_series_matches_per_value_conversion():
    """The joined one-call translation gives what converting each value alone gives."""
    values = ["王伟", "王 伟", " 张三 ", "李四li", "smith john", "", None, "華為", "x_y王", "王\t伟", "o'brien 王", "王伟"]
    s = pd.Series(values, dtype=object)
    folded = dn.fold_series(s)
    uniques = [v for v in dict.fromkeys(folded.tolist())]
    from xlcrm.ops.dedupe_person import _pinyin_table
    from xlcrm.ops.dedupe_text import CJK_CHAR, PUNCT, SPACES

    for initials in (False, True):
        table = _pinyin_table(uniques, initials)

        def one(v: str, table: dict = table, initials: bool = initials) -> str:
            if not v:
                return ""
            out = v.translate(table)
            if initials:
                return PUNCT.sub("", out) if CJK_CHAR.search(v) else "".join(t[:1] for t in v.split())
            return SPACES.sub(" ", out).strip()

        assert dn.pinyin_series(folded, initials).tolist() == [one(v) for v in folded.tolist()]
    assert dn.pinyin_series(pd.Series(["王伟", "李\n四"]), True).tolist() == ["ww", "ls"]


def test_latin_fast_paths_agree_with_scalar_functions():
    """ASCII columns take Arrow paths for names and places; results equal the per-value functions."""
    names = ["Wang Wei", "wei  WANG", "Mr. John Smith", "mrs smith", "Dr Ann-Marie O'Neil", "sarah", "  ", None,
             "b a c", "under_score name", "Prof.x y", "mr.smith"]
    places = ["Sydney", "NEW-SOUTH wales", " st. kilda ", None, "2000"]
    s = pd.Series(names, dtype=object)
    assert dn.persons_series(s).tolist() == [dn.normalize_person(v) for v in names]
    assert dn.persons_series(pd.Series(names, dtype="str")).tolist() == [dn.normalize_person(v) for v in names]
    assert dn.places_series(pd.Series(places, dtype=object)).tolist() == [dn.normalize_place(v) for v in places]
    folded = dn.persons_series(s)
    assert dn.pinyin_series(folded).tolist() == folded.tolist()


def test_token_heads_equals_the_regex_it_replaces():
    import pyarrow as pa
    import pyarrow.compute as pc

    values = ["sarah bruhn", "a", "", None, "wang wei", "josé garcía", "x y z", "王伟 ab", "  lead", "a  b", "ab\tcd"]
    for vals in (values[:8], values):  # single-spaced names (split path) and any text (regex path)
        arr = pa.array(vals, pa.large_string())
        for size in (1, 2):
            expected = pc.fill_null(pc.replace_substring_regex(arr, rf"(\S{{1,{size}}})\S*\s*", r"\1"), "")
            assert dn.token_heads(arr, size).to_pylist() == expected.to_pylist()
            assert dn.token_heads(arr.slice(1), size).to_pylist() == expected.to_pylist()[1:]
