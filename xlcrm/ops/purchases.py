"""Money per order and per customer: totals, overdue receivables (应收逾期) and ABC classes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..settings import Settings
from .lookup import CustomerKeys, rows_codes

VOID_STATUSES = ("cancelled", "returned")  # orders that are no revenue and nothing to collect


def order_balances(purchases: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """One row per live order: invoiced, paid, open (unpaid), overdue (unpaid and past due), days_overdue."""
    live = purchases.loc[~purchases["status"].isin(VOID_STATUSES)]
    invoiced = live["amount"].fillna(0.0)
    paid = live["paid_amount"].fillna(0.0).clip(lower=0.0)
    if "status" in live:  # an order marked paid with no paid amount typed counts as paid in full
        paid = paid.where(~((live["status"] == "paid") & live["paid_amount"].isna()), invoiced)
    open_amount = (invoiced - paid).clip(lower=0.0)
    due = live["payment_due"]
    past_due = due.notna() & (due < pd.Timestamp(today))
    days = (pd.Timestamp(today) - due).dt.days
    return pd.DataFrame({
        "customer_id": live["customer_id"],
        "order_no": live["order_no"],
        "date": live["date"],
        "payment_due": due,
        "invoiced": invoiced,
        "paid": paid,
        "open": open_amount,
        "overdue": open_amount.where(past_due, 0.0),
        "days_overdue": days.where(past_due & (open_amount > 0)).astype("Float64"),
        "_row": live["_row"],
    }, index=live.index)


def abc_classes(revenue: pd.Series, cut_a: float, cut_b: float) -> pd.Series:
    """A = the few largest customers making the first `cut_a` of revenue, B up to `cut_b`, C the rest.

    The customer whose revenue crosses a cut-off belongs to the higher class, so there is always at
    least one A when anyone bought anything. Customers with no revenue get no class (None).
    """
    out = pd.Series(None, index=revenue.index, dtype=object)
    buyers = revenue[revenue > 0].sort_values(ascending=False, kind="stable")
    if buyers.empty:
        return out
    before = (buyers.cumsum() - buyers) / buyers.sum()  # share reached before this customer
    cls = np.where(before < cut_a, "A", np.where(before < cut_b, "B", "C"))
    out.loc[buyers.index] = cls
    return out


def customer_money(customers: pd.DataFrame, purchases: pd.DataFrame, settings: Settings,
                   today: dt.date, keys: CustomerKeys | None = None) -> pd.DataFrame:
    """Per customer row: total_purchases (lifetime), revenue_12m, outstanding (overdue unpaid), abc_class."""
    keys = keys or CustomerKeys.of(customers, purchases=purchases)
    orders = order_balances(purchases, today)
    codes = rows_codes(keys.purchases, purchases, orders)
    start = pd.Timestamp(today) - pd.DateOffset(months=12)
    recent = ((orders["date"] > start) & (orders["date"] <= pd.Timestamp(today))).to_numpy()

    def per_customer(values: pd.Series, rows: np.ndarray) -> np.ndarray:
        # Summed by pandas (compensated, as before) over the integer codes, not by hashing the IDs again.
        rows = rows & (codes >= 0)
        by_code = values[rows].groupby(codes[rows]).sum().reindex(range(keys.n), fill_value=0.0)
        return keys.spread(by_code.to_numpy(dtype=float), 0.0)

    every = np.ones(len(orders), dtype=bool)
    out = pd.DataFrame({"total_purchases": per_customer(orders["invoiced"], every),
                        "outstanding": per_customer(orders["overdue"], every),
                        "revenue_12m": per_customer(orders["invoiced"], recent)}, index=customers.index)
    # Duplicate IDs would double-count revenue in the ranking: class the first row of each ID only.
    first = ~pd.Series(keys.customers).duplicated().to_numpy() | (keys.customers < 0)
    classes = abc_classes(out.loc[first, "revenue_12m"].where(keys.customers[first] >= 0, 0.0),
                          settings.abc_cut_a, settings.abc_cut_b)
    by_code_class = np.full(keys.n, None, dtype=object)
    has_code = keys.customers[first] >= 0
    by_code_class[keys.customers[first][has_code]] = classes.to_numpy()[has_code]
    out["abc_class"] = keys.spread(by_code_class, None)
    return out
