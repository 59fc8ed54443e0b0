"""Receivables (应收): per customer and per salesperson — invoiced, paid, outstanding, overdue, ageing.

Built on `purchases.order_balances` (the one definition of an order's open and overdue amounts),
so the Receivables sheet, the Summary and Basic Info's Overdue Receivable column always agree.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .lookup import lookup_rows
from .purchases import order_balances

# Ageing buckets of overdue money (账龄), by days past the payment due date.
AGEING = (("overdue_1_30", 1, 30), ("overdue_31_60", 31, 60), ("overdue_61_90", 61, 90),
          ("overdue_over_90", 91, None))
MONEY_FIELDS = ("invoiced", "paid", "outstanding", "overdue", *(k for k, _, _ in AGEING))


def customer_receivables(customers: pd.DataFrame, purchases: pd.DataFrame, today: dt.date, *,
                         only_open: bool = True) -> pd.DataFrame:
    """One row per customer ID with live orders (those still owing money when `only_open`).

    Columns: customer_id, company, owner, orders, invoiced, paid, outstanding (unpaid), overdue
    (unpaid and past payment_due), days_overdue (oldest overdue order), oldest_due, the ageing
    buckets, and `_row` (the customer's Basic Info row, <NA> for an ID that is not there).
    Sorted by overdue, then outstanding, largest first. Orders whose customer ID is not on Basic
    Info are still listed (money is never hidden), with a blank company.
    """
    orders = order_balances(purchases, today)
    orders = orders[orders["customer_id"].notna()]
    days = orders["days_overdue"].astype("float64")
    for key, lo, hi in AGEING:
        in_bucket = (days >= lo) & ((days <= hi) if hi is not None else True)
        orders[key] = orders["overdue"].where(in_bucket.fillna(False), 0.0)
    orders["oldest_due"] = orders["payment_due"].where(orders["overdue"] > 0)
    g = orders.groupby("customer_id", sort=False)
    out = g[["invoiced", "paid", "open", "overdue", *(k for k, _, _ in AGEING)]].sum()
    out = out.rename(columns={"open": "outstanding"})
    out["orders"] = g.size()
    out["days_overdue"] = g["days_overdue"].max().astype("Float64")
    out["oldest_due"] = g["oldest_due"].min()
    out = out.reset_index()

    first = customers[customers["customer_id"].notna()].drop_duplicates("customer_id")
    card = lookup_rows(first.set_index("customer_id")[["company", "contact", "owner", "_row"]], out["customer_id"])
    out["company"] = card["company"].where(card["company"].notna(), card["contact"])
    out["owner"] = card["owner"]
    out["_row"] = card["_row"].astype("Int64")
    if only_open:
        out = out[out["outstanding"] > 0.005]
    out = out.sort_values(["overdue", "outstanding", "customer_id"], ascending=[False, False, True], kind="stable")
    cols = ["customer_id", "company", "owner", "orders", "invoiced", "paid", "outstanding", "overdue",
            "days_overdue", "oldest_due", *(k for k, _, _ in AGEING), "_row"]
    return out[cols].reset_index(drop=True)


def owner_receivables(per_customer: pd.DataFrame, unassigned: str) -> pd.DataFrame:
    """Totals per salesperson (a blank owner is listed as `unassigned`, the command's word for it in
    the workbook's language), most overdue first.

    Columns: owner, customers, overdue_customers, the money fields, max_days_overdue.
    """
    frame = per_customer.assign(owner=per_customer["owner"].fillna("").astype(str).str.strip()
                                .replace("", unassigned))
    g = frame.groupby("owner", sort=False)
    out = g[list(MONEY_FIELDS)].sum()
    out.insert(0, "customers", g.size())
    out.insert(1, "overdue_customers", g["overdue"].apply(lambda s: int((s > 0.005).sum())))
    out["max_days_overdue"] = g["days_overdue"].max().astype("Float64")
    out = out.reset_index().sort_values(["overdue", "outstanding", "owner"], ascending=[False, False, True],
                                        kind="stable")
    return out.reset_index(drop=True)


def with_total(frame: pd.DataFrame, label_col: str, label: str) -> pd.DataFrame:
    """The frame plus a total row: sums of numeric columns, max of `*days*` columns, blanks elsewhere."""
    total: dict[str, object] = {}
    for col in frame.columns:
        if col == label_col:
            total[col] = label
        elif col.startswith("_") or not pd.api.types.is_numeric_dtype(frame[col]):
            total[col] = None
        elif "days" in col:
            total[col] = frame[col].max() if len(frame) else None
        else:
            total[col] = frame[col].sum()
    return pd.concat([frame, pd.DataFrame([total])], ignore_index=True)


def receivable_totals(per_customer: pd.DataFrame) -> dict[str, float | int]:
    """Headline numbers for the command's message and --format json."""
    return {
        "customers_owing": int(len(per_customer)),
        "customers_overdue": int((per_customer["overdue"] > 0.005).sum()),
        "outstanding": round(float(per_customer["outstanding"].sum()), 2),
        "overdue": round(float(per_customer["overdue"].sum()), 2),
        "max_days_overdue": int(np.nan_to_num(per_customer["days_overdue"].astype("float64").max(), nan=0.0)),
    }
