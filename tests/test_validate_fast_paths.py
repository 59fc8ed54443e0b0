"""The vectorised phone check gives exactly the verdicts phonenumbers gives, value by value."""

from __future__ import annotations

import pandas as pd
import pytest

from xlcrm.ops.validate import _PREFIX_86, _SEPARATORS, _phone_digits, _phone_verdict, _text, isin_ids, phone_verdicts

TYPED = [
    "0755-77765128", "(0591)77917787", "0591.7791.7787", "010-88886666", "010 8888 6666", "021-35650425",
    "0769-51808679", "0400-1234567", "4001234567", "0800 8100 123", "0106-1234567", "021-1234", "0000",
    "01012345678", "02112345678", "0755-7776512899", "0571 88888888 转 123", "86-10-88886666",
    "+86 10 88886666", "008610 88886666", "0160 1234567", "0 755 77765128", "0755\t77765128", "07557776512",
    "13912345678", "139-1234-5678", "+86 139 1234 5678", "1391234567", "13503l87173", "0591-77917787/13912345678",
    "010-12345678", "0371-50085663", "0898-66668888", "020-8363336", "0510-1234567", "0951-5012345", "12345",
    "（010）88886666", "010–88886666", "", None,
]


@pytest.mark.parametrize("mobile_column", [False, True])
def test_phone_verdicts_match_phonenumbers_value_by_value(mobile_column: bool) -> None:
    values = pd.Series(TYPED, dtype="str")
    fast = phone_verdicts(values, "CN", mobile_column=mobile_column)
    text = _text(values)
    for typed, got, shown in zip(TYPED, fast.tolist(), text.tolist()):
        want = None if shown is pd.NA or shown == "" else _phone_verdict(shown, "CN", mobile_column)
        assert (got if isinstance(got, str) else None) == want, typed
    # The landlines really took the fast path and still got phonenumbers' answers.
    landline = phone_verdicts(pd.Series(["0755-77765128", "010-88886666"]), "CN", mobile_column=mobile_column)
    expected = "not_mobile" if mobile_column else None
    assert [v if isinstance(v, str) else None for v in landline] == [expected, expected]


def test_isin_on_text_ids_matches_pandas() -> None:
    ids = pd.Series(["C001", "C002", None, "c003", "C009"], dtype="string")
    known = pd.Series(["C001", "C003", "C009"], dtype="string")
    assert isin_ids(ids, known).tolist() == [True, False, False, False, True]
    assert isin_ids(ids, known).tolist() == ids.isin(set(known)).fillna(False).astype(bool).tolist()


def test_phone_digits_through_arrow_equal_python_re() -> None:
    """The Arrow (RE2) spelling of the separator and +86 steps gives what Python's re gives."""
    tricky = ["+86 138 1234 5678", "0086-13812345678", "8613812345678", "86 1381234567", "+86138123456789",
              "138\x0b1234\x1c5678", "138\x851234", "138\xa01234", "(010)\t8888\n6666", "１３８ 1234 5678",
              "86١٣٨١٢٣٤٥٦٧٨", "+86 138 1234 5678\n", "电话 138-1234-5678", "", None]
    text = _text(pd.Series(tricky, dtype=object))
    expected = text.str.replace(_SEPARATORS, "", regex=True).str.replace(_PREFIX_86, "", regex=True)
    assert _phone_digits(text).tolist() == expected.tolist()
