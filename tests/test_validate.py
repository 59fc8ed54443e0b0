"""Check (校验): each kind of problem is found, located, explained in both languages, and valid data passes."""

from __future__ import annotations

import datetime as dt

from frames import book

from xlcrm.ops.validate import check_book, email_suggestion, phone_verdicts, sort_problems
from xlcrm.settings import Settings

TODAY = dt.date(2026, 11, 23)


def run(customers, followups=(), purchases=()):
    b = book(customers, followups, purchases)
    return sort_problems(check_book(b.customers, b.followups, b.purchases, sheets=b.sheets, raw=b.raw,
                                    settings=Settings(), today=TODAY), b.sheets)


def codes(problems):
    return [(p.sheet_key, p.row, p.column_key, p.code) for p in problems]


GOOD = {"customer_id": "C000001", "company": "上海明辉贸易有限公司", "contact": "张伟", "owner": "李娜",
        "mobile": "+86 138-0013-8000", "phone": "010-88886666", "email": "zhang.wei@minghui.com.cn",
        "postcode": "200001", "created": "2025-03-01"}


def test_clean_row_has_no_problems():
    assert run([GOOD], [{"customer_id": "C000001", "date": "2026-11-01"}],
               [{"customer_id": "c000001 ", "date": "2026-10-01", "amount": 100, "paid_amount": 100}]) == []


def test_phone_variants_accepted_and_bad_ones_found():
    import pandas as pd

    s = pd.Series(["13800138000", "+86 138 0013 8000", "0086-138-0013-8000", "１３８００１３８０００",
                   "(010) 8888 6666", "12345", "1380013800a", "010-88886666", None, "13800138000/13900139000"])
    verdict = phone_verdicts(s, "CN", mobile_column=True)
    assert list(verdict.fillna("ok")) == ["ok", "ok", "ok", "ok", "not_mobile", "bad_phone", "bad_phone",
                                          "not_mobile", "ok", "ok"]


def test_each_problem_kind_is_found_and_located():
    customers = [
        GOOD,
        {**GOOD, "customer_id": "C000001", "mobile": "12345", "email": "wang@@qq.com", "postcode": "1000"},
        {"customer_id": "C000003", "owner": "李娜", "created": "2027-01-01"},
        {**GOOD, "customer_id": "C000004", "demand": "target", "expected_close": "2026-01-01", "owner": None},
    ]
    followups = [{"customer_id": "C999999", "date": "2026-11-01"}, {"customer_id": "C000001", "date": "2026-12-30"}]
    purchases = [{"customer_id": "C000001", "date": "2026-10-01", "amount": -5},
                 {"customer_id": "C000001", "date": "2026-10-01", "amount": 100, "paid_amount": 150,
                  "quantity": 3, "unit_price": 10}]
    found = codes(run(customers, followups, purchases))
    assert ("customers", 2, "customer_id", "duplicate_id") in found
    assert ("customers", 3, "customer_id", "duplicate_id") in found
    assert ("customers", 3, "mobile", "bad_phone") in found
    assert ("customers", 3, "email", "bad_email") in found
    assert ("customers", 3, "postcode", "bad_postcode") in found
    assert ("customers", 4, "company", "no_name") in found
    assert ("customers", 4, "created", "future_date") in found
    assert ("customers", 5, "expected_close", "close_date_past") in found
    assert ("customers", 5, "owner", "no_owner") in found
    assert ("followups", 2, "customer_id", "orphan") in found
    assert ("followups", 3, "date", "future_date") in found
    assert ("purchases", 2, "amount", "negative_amount") in found
    assert ("purchases", 3, "paid_amount", "overpaid") in found
    assert ("purchases", 3, "amount", "amount_mismatch") in found
    # sorted as a user fixes them: sheet, then row, then column left to right
    keys = [(["customers", "followups", "purchases"].index(s), r) for s, r, _, _ in found]
    assert keys == sorted(keys)


def test_problem_names_the_cell_and_speaks_both_languages():
    problems = run([{**GOOD, "email": "wang@@qq.con"}])
    (p,) = problems
    assert (p.sheet, p.row, p.column, p.value) == ("客户资料", 2, "邮箱", "wang@@qq.con")
    assert "邮箱格式不正确" in p.message.text("zh-CN") and "e-mail" in p.message.text("en")
    assert "wang@qq.com" in p.suggestion.text("zh-CN")


def test_required_and_unknown_choice_values():
    b = book([{**GOOD, "deal_status": None}], [{"customer_id": "C000001", "date": None}])
    b.raw["customers"].loc[0, "deal_status"] = "搞定了"  # typed, but not an allowed value
    problems = check_book(b.customers, b.followups, b.purchases, sheets=b.sheets, raw=b.raw, settings=Settings(),
                          today=TODAY)
    found = codes(problems)
    assert ("followups", 2, "date", "required") in found
    assert ("customers", 2, "deal_status", "bad_choice") in found
    bad = next(p for p in problems if p.code == "bad_choice")
    assert "已成交" in bad.suggestion.text("zh-CN") and "Closed" in bad.suggestion.text("en")


def test_email_suggestions():
    assert email_suggestion("zhang＠163.com") == "zhang@163.com"
    assert email_suggestion("li@qq.con") == "li@qq.com"
    assert email_suggestion("nonsense") is None
