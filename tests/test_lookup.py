"""Customer IDs hashed once (`ops.lookup.CustomerKeys`): the per-customer steps find the same rows a
lookup by ID finds — blanks, IDs not on Basic Info, duplicate cards and same-day rows included."""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlcrm.ops.lookup import CustomerKeys, latest_rows, rows_codes, take


def frames():
    customers = pd.DataFrame({"customer_id": ["C1", None, "C2", "C1", "C3"]})
    followups = pd.DataFrame({
        "_row": [2, 3, 4, 5, 6, 7, 8],
        "customer_id": ["C2", "C1", "X9", None, "C1", "C2", "C1"],
        "date": pd.to_datetime(["2024-01-05", "2024-01-05", "2024-02-01", "2024-03-01", "2024-01-05",
                                "2024-01-01", None]).astype("datetime64[ns]"),
        "summary": pd.Series(["a", "b", "c", "d", "e", "f", "g"], dtype=object),
    })
    purchases = pd.DataFrame({"customer_id": ["C3", "C9", "C1"]}, index=[10, 11, 12])
    return customers, followups, purchases


def test_codes_are_per_distinct_id_and_minus_one_for_blank_or_unknown():
    customers, followups, purchases = frames()
    keys = CustomerKeys.of(customers, followups, purchases)
    assert keys.n == 3
    assert keys.customers.tolist() == [0, -1, 1, 0, 2]  # the duplicate card shares its code
    assert keys.followups.tolist() == [1, 0, -1, -1, 0, 1, 0]  # X9 is not on Basic Info, None is blank
    assert keys.purchases.tolist() == [2, -1, 0]
    assert rows_codes(keys.purchases, purchases, purchases.loc[[12, 10]]).tolist() == [0, 2]


def test_latest_rows_break_a_same_day_tie_by_the_row_further_down():
    customers, followups, _ = frames()
    keys = CustomerKeys.of(customers, followups)
    dated = followups["date"].notna().to_numpy()
    latest = latest_rows(followups, keys.followups, dated, keys.n)
    assert latest.tolist() == [4, 0, -1]  # C1: rows 3 and 6 share a date, row 6 (position 4) wins; C3: none
    earliest = latest_rows(followups, keys.followups, dated, keys.n, keep="first")
    assert earliest.tolist() == [1, 5, -1]
    per_row = keys.per_customer(latest)
    assert per_row.tolist() == [4, -1, 0, 4, -1]
    summary = take(followups["summary"], per_row, customers.index)
    assert summary.dtype == object and [summary[0], summary[2], summary[3]] == ["e", "a", "e"]
    assert pd.isna(summary[1]) and pd.isna(summary[4])
    dates = take(followups["date"], per_row, customers.index)
    assert dates.dtype == "datetime64[ns]" and pd.isna(dates[4])


def test_a_book_with_no_ids_at_all():
    customers = pd.DataFrame({"customer_id": [None, None]})
    keys = CustomerKeys.of(customers, pd.DataFrame({"customer_id": ["C1"]}))
    assert keys.n == 0 and keys.followups.tolist() == [-1]
    assert keys.spread(np.zeros(0, dtype=np.int64), 0).tolist() == [0, 0]
    assert keys.per_customer(np.zeros(0, dtype=np.intp)).tolist() == [-1, -1]


def test_ids_that_are_not_text_are_matched_too():
    """A frame built in code may hold numbers as IDs: matched by value, as a lookup by ID would."""
    customers = pd.DataFrame({"customer_id": [101, 102, None]})
    followups = pd.DataFrame({"customer_id": [102, "101", None, 101]})
    keys = CustomerKeys.of(customers, followups)
    assert keys.customers.tolist() == [0, 1, -1]
    assert keys.followups.tolist() == [1, -1, -1, 0]
