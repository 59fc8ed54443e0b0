"""The word lists of `dedupe_words` reach both paths: Arrow (RE2) and per-value Python give the same keys.

Hypothesis builds names, addresses and cells out of the listed words (regions, their suffixes, legal
forms, honorifics, street words) glued to random characters, where the two paths could disagree.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcrm.ops import dedupe_normalize as dn
from xlcrm.ops import dedupe_words as words

HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
SOME_HAN = st.text(HAN, min_size=0, max_size=4)
REGION = st.sampled_from(words.REGIONS + words.MUNICIPALITIES)
SUFFIX = st.sampled_from(("",) + words.REGION_SUFFIXES + words.CITY_SUFFIXES + words.DISTRICT_SUFFIXES
                         + words.PROVINCE_SUFFIXES)
LEGAL = st.sampled_from(("",) + words.LEGAL_SUFFIXES_CN)
PIECE = st.one_of(SOME_HAN, REGION, SUFFIX, LEGAL)

# A Chinese company or address of CJK characters only: the shape the Arrow path takes.
CJK_TEXT = st.lists(PIECE, min_size=1, max_size=6).map("".join)

def _optional(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.just(""), strategy)


# province? + city? + district? + the rest: each level's token glued to one of its suffixes.
ADDRESS = st.tuples(
    _optional(st.one_of(REGION, st.text(HAN, min_size=2, max_size=3))), st.sampled_from(("",) + words.REGION_SUFFIXES),
    _optional(st.one_of(st.sampled_from(words.CITIES), st.text(HAN, min_size=2, max_size=4))),
    st.sampled_from(("",) + words.CITY_SUFFIXES),
    st.text(HAN, min_size=0, max_size=4), st.sampled_from(("",) + words.DISTRICT_SUFFIXES),
    st.text(st.one_of(HAN, st.sampled_from("0123456789")), min_size=0, max_size=5),
).map("".join)
LATIN_WORD = st.one_of(st.sampled_from(words.HONORIFICS_EN + tuple(w for pair in words.STREET_WORDS for w in pair)
                                       + ("co", "ltd", "inc", "group")),
                       st.text(st.characters(min_codepoint=ord("a"), max_codepoint=ord("z")), min_size=1, max_size=6))
LATIN_TEXT = st.lists(st.one_of(LATIN_WORD, st.sampled_from((".", ",", " ", "-", "'", "  "))), min_size=1,
                      max_size=7).map(" ".join)

FAST = settings(max_examples=80, deadline=None)


def _column(values: list[str]) -> pd.Series:
    return pd.Series(values + [None, ""], dtype=object)


@FAST
@given(st.lists(CJK_TEXT, min_size=1, max_size=12))
def test_company_keys_are_the_same_on_both_paths(names):
    s = _column(names)
    frame = dn.companies_frame(s)
    assert list(zip(frame["company"], frame["company_region"], strict=True)) == [dn.split_company(v) for v in s]


@FAST
@given(st.lists(st.one_of(ADDRESS, CJK_TEXT), min_size=1, max_size=12))
def test_address_keys_are_the_same_on_both_paths(addresses):
    s = _column(addresses)
    frame = dn.addresses_frame(s)
    got = list(zip(frame["addr_province"], frame["addr_city"], frame["addr_district"], frame["address"], strict=True))
    assert got == [dn.split_address(v) for v in s]


@FAST
@given(st.lists(LATIN_TEXT, min_size=1, max_size=12))
def test_latin_keys_are_the_same_on_both_paths(texts):
    s = _column(texts)
    assert dn.persons_series(s).tolist() == [dn.normalize_person(v) for v in s]
    assert dn.addresses_frame(s)["address"].tolist() == [dn.split_address(v)[3] for v in s]
    assert dn.places_series(s).tolist() == [dn.normalize_place(v) for v in s]
    assert dn.ids_series(s).tolist() == [dn.normalize_id(v) for v in s]


@FAST
@given(st.lists(st.tuples(st.one_of(SOME_HAN, REGION), SUFFIX).map("".join), min_size=1, max_size=12))
def test_place_cells_are_the_same_on_both_paths(cells):
    s = _column(cells)
    assert dn.places_series(s).tolist() == [dn.normalize_place(v) for v in s]


def test_every_listed_word_is_stripped_on_both_paths():
    """Each legal form and region suffix, on a name long enough to keep two characters."""
    names = [f"华创科技{suffix}" for suffix in words.LEGAL_SUFFIXES_CN]
    names += [f"{region}{suffix}华创科技有限公司" for region in ("广东", "深圳", "内蒙古") for suffix in words.REGION_SUFFIXES]
    frame = dn.companies_frame(pd.Series(names, dtype=object))
    assert set(frame["company"]) == {"华创科技"}
    assert [dn.split_company(v)[0] for v in names] == frame["company"].tolist()


DIGITS = st.text(st.sampled_from("0123456789"), min_size=0, max_size=13)
PHONE = st.tuples(st.sampled_from(("", "+86 ", "0086", "86", "+61 ")), DIGITS,
                  st.sampled_from(("", " ", "-", "  ")), DIGITS).map("".join)
EMAIL = st.tuples(st.sampled_from(("", " ", "mailto:", "<")), LATIN_WORD, st.sampled_from(("@", "", "@@")),
                  LATIN_WORD, st.sampled_from((".com", ".cn", "", ".")), st.sampled_from(("", ">", ";", " "))).map("".join)
POSTCODE = st.tuples(st.sampled_from(("", " ")), DIGITS, st.sampled_from(("", ".0", " ", "-"))).map("".join)
CREDIT = st.text(st.sampled_from(dn.CREDIT_ALPHABET + " -"), min_size=16, max_size=20)


@FAST
@given(st.lists(PHONE, min_size=1, max_size=8), st.lists(EMAIL, min_size=1, max_size=8),
       st.lists(POSTCODE, min_size=1, max_size=8), st.lists(CREDIT, min_size=1, max_size=8))
def test_exact_keys_are_the_same_on_both_paths(phones, emails, postcodes, credits):
    s = _column(phones)
    assert dn.phones_series(s).tolist() == [dn.normalize_phone(v) for v in s]
    s = _column(emails)
    assert dn.emails_series(s).tolist() == [dn.normalize_email(v) for v in s]
    s = _column(postcodes)
    assert dn.postcodes_series(s).tolist() == [dn.normalize_postcode(v) for v in s]
    s = _column(credits + ["91350100M000100Y43"])
    assert dn.credit_codes_series(s).tolist() == [dn.normalize_credit_code(v) for v in s]
