"""Order balances, overdue receivables, ABC classes and customer-ID assignment."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from frames import frame

from xlcrm.ops.ids import assign_missing_ids, duplicated_ids, id_pattern
from xlcrm.ops.purchases import abc_classes, customer_money, order_balances
from xlcrm.settings import Settings

TODAY = dt.date(2026, 11, 23)


def values(s: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in s]


def test_order_balances_and_overdue():
    p = frame("purchases", [
        {"customer_id": "C1", "date": "2026-09-01", "amount": 1000, "paid_amount": 400, "payment_due": "2026-10-01"},
        {"customer_id": "C1", "date": "2026-11-01", "amount": 500, "paid_amount": 0, "payment_due": "2026-12-01"},
        {"customer_id": "C2", "date": "2026-08-01", "amount": 300, "status": "paid", "payment_due": "2026-09-01"},
        {"customer_id": "C2", "date": "2026-08-01", "amount": 900, "status": "cancelled", "payment_due": "2026-09-01"},
    ])
    b = order_balances(p, TODAY)
    assert len(b) == 3  # the cancelled order is neither revenue nor receivable
    assert list(b["open"]) == [600, 500, 0]
    assert list(b["overdue"]) == [600, 0, 0]
    assert b["days_overdue"].iloc[0] == 53 and pd.isna(b["days_overdue"].iloc[1])


def test_abc_cutoffs_and_crossing_customer():
    rev = pd.Series([500, 300, 100, 60, 40, 0], index=list("abcdef"), dtype=float)
    cls = abc_classes(rev, 0.7, 0.9)
    # cumulative before: a 0, b .5, c .8, d .9, e .96 → A A B C C, f no class
    assert values(cls) == ["A", "A", "B", "C", "C", None]
    assert values(abc_classes(pd.Series([0.0, 0.0]), 0.7, 0.9)) == [None, None]


def test_customer_money_uses_last_12_months_for_abc():
    c = frame("customers", [{"customer_id": "C1"}, {"customer_id": "C2"}, {"customer_id": "C3"}])
    p = frame("purchases", [
        {"customer_id": "C1", "date": "2024-01-01", "amount": 100000, "paid_amount": 100000},  # old: lifetime only
        {"customer_id": "C2", "date": "2026-06-01", "amount": 800, "paid_amount": 0, "payment_due": "2026-07-01"},
        {"customer_id": "C3", "date": "2026-06-01", "amount": 200, "paid_amount": 200},
    ])
    m = customer_money(c, p, Settings(), TODAY)
    assert list(m["total_purchases"]) == [100000, 800, 200]
    assert list(m["outstanding"]) == [0, 800, 0]
    assert values(m["abc_class"]) == [None, "A", "B"]


def _pattern_one_id_at_a_time(ids, settings):
    """id_pattern as it was before Arrow counted: one Python call per ID (the reference)."""
    from collections import Counter

    s = pd.Series([i for i in ids if isinstance(i, str) and i.strip()], dtype=object).str.strip()
    parts = s.str.extract(r"^(?P<prefix>\D*?)(?P<number>\d+)$").dropna()
    if parts.empty:
        return settings.id_prefix, settings.id_digits, 0
    prefix = Counter(parts["prefix"]).most_common(1)[0][0]
    same = parts[parts["prefix"] == prefix]["number"]
    return prefix, int(Counter(same.str.len()).most_common(1)[0][0]), max(int(n) for n in same)


def test_id_pattern_counted_by_arrow_agrees_with_one_id_at_a_time():
    import random

    rng = random.Random(15)
    s = Settings()
    pieces = ["C", "KH-", "c", "", "X", " ", "\t", "\x1f", "客", "-", "7"]
    for _ in range(400):
        ids = []
        for _ in range(rng.randint(0, 30)):
            kind = rng.random()
            if kind < 0.1:
                ids.append(rng.choice([None, float("nan"), "", "  ", "ABC", "12a"]))
            else:
                ids.append(rng.choice(pieces[:4]) + str(rng.randint(0, 10 ** rng.randint(1, 7))).zfill(rng.randint(1, 6))
                           + rng.choice(["", "", " ", "\x1c"]))
        if rng.random() < 0.2:
            ids.append(rng.choice(pieces) + "123")  # now and then one that is not ASCII
        assert id_pattern(ids, s) == _pattern_one_id_at_a_time(ids, s), ids
    # ties: the first seen wins, for the prefix and for the digits
    assert id_pattern(["B01", "A001", "A01", "B001"], s) == ("B", 2, 1)
    assert id_pattern(["K1", 5, "K22"], s) == ("K", 1, 22)  # a number among the IDs: its texts counted
    # a number longer than int64 holds is still a number (it used to stop the check with OverflowError)
    assert id_pattern(["C" + "9" * 30, "C1"], s) == ("C", 30, int("9" * 30))
    long = frame("customers", [{"customer_id": "C" + "9" * 30}, {"customer_id": None}])
    assert list(assign_missing_ids(long, s)) == ["C1" + "0" * 30]


def test_id_pattern_and_assignment_never_reuses():
    s = Settings()
    assert id_pattern(["C000001", "C000010", "K9"], s) == ("C", 6, 10)
    assert id_pattern([], s) == ("C", 6, 0)
    c = frame("customers", [{"customer_id": "C000001"}, {"customer_id": None}, {"customer_id": "C000003"},
                            {"customer_id": None}])
    new = assign_missing_ids(c, s, archived=["C000007"])  # an archived ID is never handed out again
    assert list(new) == ["C000008", "C000009"] and list(new.index) == [1, 3]
    new = assign_missing_ids(c, s, avoid=["C000004", "C009999"])  # orphan follow-ups' IDs are skipped
    assert list(new) == ["C000005", "C000006"]
    assert assign_missing_ids(frame("customers", [{"customer_id": "X1"}]), s).empty


@pytest.mark.parametrize("avoid", [
    [" c000004\x1c", "C000005", "c000007 "],  # ASCII: hashed by Arrow, folded as str.strip().upper()
    ["客户", " c000004\u3000", "C000005", "c000007 "],  # not ASCII: a Python set
    pd.Series(["c000004", None, np.nan, "C000005", "C000007"], dtype=object),  # a column with blanks
    (v for v in ["c000004", 5, "C000005", "C000007"]),  # an ID that is not text: skipped, as before
])
def test_new_ids_skip_every_taken_id_however_it_is_written(avoid):
    """Taken IDs are compared with spaces and case folded, in the batch search for free numbers."""
    c = frame("customers", [{"customer_id": "C000003"}, *[{"customer_id": None}] * 4])
    new = assign_missing_ids(c, Settings(), avoid=avoid)
    assert list(new) == ["C000006", "C000008", "C000009", "C000010"]


def test_many_new_ids_in_batches():
    taken = [f"C{n:06d}" for n in range(1, 200, 2)]  # every odd number up to 199
    c = frame("customers", [{"customer_id": "C000000"}, *[{"customer_id": None}] * 150])
    new = assign_missing_ids(c, Settings(), avoid=taken)
    assert list(new) == [f"C{n:06d}" for n in [*range(2, 200, 2), *range(200, 251)]]


def test_duplicate_ids_case_and_space_folded():
    c = frame("customers", [{"customer_id": "c001 "}, {"customer_id": "C001"}, {"customer_id": "C002"},
                            {"customer_id": None}, {"customer_id": None}])
    assert list(duplicated_ids(c)) == [True, True, False, False, False]


def test_id_parts_through_arrow_equal_str_extract() -> None:
    """All-ASCII IDs are split by Arrow's RE2 (also when numbers are among them); the pattern is what
    pandas' own `str.extract` (re) finds."""
    s = Settings()
    for ids in (["KH001", "KH002", "X9", "abc", "12", "a\n1", "K-7", "007"], ["KH001", "客户01", "KH１２"],
                ["KH001", 7, "KH02", 3.5, None]):
        assert id_pattern(ids, s) == _pattern_one_id_at_a_time(ids, s), ids
