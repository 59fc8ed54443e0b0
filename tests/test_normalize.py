"""Typing of user-typed values: dates, numbers, text kinds, choices, whole frames, settings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xlcrm import schema
from xlcrm.errors import Severity
from xlcrm.ops.normalize import (
    coerce_frame,
    empty_frame,
    fold_width,
    parse_choices,
    parse_dates,
    parse_numbers,
    settings_from_pairs,
    to_text,
)

TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
JAN5 = pd.Timestamp("2024-01-05")


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("2024-01-05 00:00:00", JAN5),  # what fastexcel gives for a date cell
        ("2024-01-05", JAN5),
        ("2024/1/5", JAN5),
        ("2024年1月5日", JAN5),
        ("2024年1月5号", JAN5),
        ("2024.01.05", JAN5),
        ("20240105", JAN5),
        ("２０２４－０１－０５", JAN5),  # full-width digits and dash
        ("２０２４年１月５日", JAN5),
        ("45296", JAN5),  # an Excel serial that arrived as text
        ("45296.5", pd.Timestamp("2024-01-05 12:00")),
        ("2024/1/5 13:05", pd.Timestamp("2024-01-05 13:05")),
        ("2024-01-05T08:30:00", pd.Timestamp("2024-01-05 08:30")),
        (" 2024-1-5 ", JAN5),
    ],
)
def test_parse_dates_reads_every_documented_form(typed, expected):
    for dtype in (object, TEXT):
        out, bad = parse_dates(pd.Series([typed], dtype=dtype))
        assert out.dtype == "datetime64[ns]"
        assert out.iloc[0] == expected, (typed, dtype)
        assert not bad.iloc[0]


def test_parse_dates_flags_unreadable_but_not_blank():
    s = pd.Series(["下周", "2024-02-30", "2024", "", "   ", None, "15", "2024-13-01"], index=list("abcdefgh"))
    out, bad = parse_dates(s)
    assert list(out.index) == list("abcdefgh")
    assert out.isna().all()
    assert bad.tolist() == [True, True, True, False, False, False, True, True]


def test_parse_dates_numeric_and_datetime_columns():
    serials = pd.Series([45296.0, np.nan, 12.0])  # 12 → 1900-01-12: a typing slip, not a date
    out, bad = parse_dates(serials)
    assert out.iloc[0] == JAN5 and pd.isna(out.iloc[1]) and pd.isna(out.iloc[2])
    assert bad.tolist() == [False, False, True]
    stamps = pd.Series(pd.to_datetime(["2024-01-05", None]))
    out, bad = parse_dates(stamps)
    assert out.iloc[0] == JAN5 and not bad.any()


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("1,234.50", 1234.5),
        ("￥1,234", 1234.0),
        ("¥ 88", 88.0),
        ("1234元", 1234.0),
        ("１２３", 123.0),
        ("1.2万", 12000.0),
        ("3亿", 3e8),
        ("(1,234)", -1234.0),
        ("-5", -5.0),
        ("RMB 12", 12.0),
        ("0.3", 0.3),
    ],
)
def test_parse_numbers(typed, expected):
    for dtype in (object, TEXT):
        out, bad = parse_numbers(pd.Series([typed], dtype=dtype))
        assert out.dtype == "float64"
        assert out.iloc[0] == pytest.approx(expected)
        assert not bad.iloc[0]


def test_parse_numbers_flags_unreadable():
    out, bad = parse_numbers(pd.Series(["abc", "", None, "12", "1.2.3"], dtype=TEXT))
    assert out.iloc[3] == 12.0 and out.drop(3).isna().all()
    assert bad.tolist() == [True, False, False, False, True]
    out, bad = parse_numbers(pd.Series([1, 2.5, None]))
    assert out.tolist()[:2] == [1.0, 2.5] and not bad.any()


def test_to_text_keeps_leading_zeros_and_drops_float_tails():
    ids = to_text(
        pd.Series(["00123", "１３８００１３８０００", "  ", "12.0", None, "C-01"], dtype=TEXT), schema.Kind.ID
    )
    assert ids.dtype == object
    assert ids.tolist() == ["00123", "13800138000", None, "12", None, "C-01"]
    phones = to_text(pd.Series([13800138000.0, np.nan, 5.5]), schema.Kind.PHONE)
    assert phones.tolist() == ["13800138000", None, "5.5"]
    # Free text keeps what was typed (no width folding of Chinese punctuation), only trimmed.
    notes = to_text(pd.Series([" 老客户，ＶＩＰ ", ""], dtype=TEXT))
    assert notes.tolist() == ["老客户，ＶＩＰ", None]
    emails = to_text(pd.Series(["ｌｉ＠ｅｘａｍｐｌｅ．ｃｏｍ"]), schema.Kind.EMAIL)
    assert emails.tolist() == ["li@example.com"]


def test_fold_width():
    assert fold_width(pd.Series(["１２３ＡＢ", "abc"])).tolist() == ["123AB", "abc"]


def test_parse_choices_any_language():
    s = pd.Series(["谈判中", "洽談中", "Closed", " won ", "潜在客户", None, "待定"], dtype=TEXT)
    codes, bad = parse_choices(s, schema.DEAL_STATUSES)
    assert codes.tolist() == ["negotiating", "negotiating", "closed", "closed", "potential", None, None]
    assert bad.tolist() == [False] * 6 + [True]
    yes, _ = parse_choices(pd.Series(["是", "否", "Y", "√"]), schema.YES_NO)
    assert yes.tolist() == ["yes", "no", "yes", "yes"]


def test_coerce_frame_types_every_schema_column_and_reports_cells():
    raw = pd.DataFrame(
        {
            "_row": [5, 7, 8],
            "customer_id": ["C1", "C2", "C3"],
            "date": ["2024-01-05", "不知道", None],
            "amount": ["1,000", "很多", "12"],
            "status": ["已付款", "paid", "x"],
            "我的列": ["a", "b", "c"],
        }
    )
    typed, problems = coerce_frame(
        "purchases", raw, sheet="购买记录", headers={"date": "日期", "amount": "金额", "customer_id": "客户编号"}
    )
    assert list(typed.columns) == ["_row", *schema.PURCHASES.keys, "我的列"]
    assert typed["_row"].tolist() == [5, 7, 8] and typed["_row"].dtype == "int64"
    assert typed["date"].dtype == "datetime64[ns]" and typed["amount"].dtype == "float64"
    assert typed["quantity"].isna().all() and typed["quantity"].dtype == "float64"  # absent column
    assert typed["product"].tolist() == [None, None, None]
    assert typed["status"].tolist() == ["paid", "paid", None]
    assert typed["amount"].tolist()[0] == 1000.0 and typed["amount"].tolist()[2] == 12.0
    assert [(p.code, p.row, p.column, p.value, p.severity) for p in problems] == [
        ("bad_date", 7, "日期", "不知道", Severity.ERROR),
        ("bad_number", 7, "金额", "很多", Severity.ERROR),
    ]
    assert problems[0].sheet == "购买记录" and problems[0].column_key == "date"
    assert "不知道" in problems[0].message.text("zh-CN") and "Unreadable date" in problems[0].message.text("en")


def test_empty_frame_dtypes():
    frame = empty_frame("followups")
    assert list(frame.columns) == ["_row", *schema.FOLLOWUPS.keys]
    assert frame["date"].dtype == "datetime64[ns]" and frame["_row"].dtype == "int64" and len(frame) == 0


def test_settings_from_pairs_keys_labels_and_bad_values():
    pairs = [
        (2, "cadence_a", "2"),
        (3, "B级客户跟进周期（天）", 10.0),  # zh label
        (4, "Follow-up cadence for grade C (days)", "abc"),  # en label, invalid
        (5, "language", "English"),
        (6, "window_a", "500"),  # contradicts window_b (90)
        (7, "not a setting", "1"),
    ]
    settings, problems = settings_from_pairs(pairs, sheet="设置", value_header="值")
    assert (settings.cadence_a, settings.cadence_b, settings.cadence_c) == (2, 10, 15)
    assert settings.language == "en" and settings.window_a == 30
    assert [(p.row, p.code, p.column) for p in problems] == [(4, "bad_setting", "值"), (6, "bad_setting", "值")]
    assert "C级" in problems[0].message.text("zh-CN") and "grade C" in problems[0].message.text("en")


def test_to_text_long_columns_share_strings_and_match_the_short_path():
    values = ["张三", " 李四 ", None, "", "１３８００１３８０００", "12.0"]
    long = pd.Series(values * 500, dtype=TEXT)  # 3000 rows, 5 distinct: the dictionary path
    for kind in (schema.Kind.TEXT, schema.Kind.PHONE):
        out = to_text(long, kind)
        short = to_text(pd.Series(values, dtype=TEXT), kind)
        assert out.tolist() == short.tolist() * 500
        assert out.iloc[0] is out.iloc[6]  # one Python string per distinct value
    assert to_text(long, schema.Kind.PHONE).tolist()[4:6] == ["13800138000", "12"]
