"""The manager's weekly review (seed: "每周至少检查每位业务员的客户资料卡一次"), one row per salesperson.

Measures, over the 7 days ending today (customers credited to their owner on Basic Info):
- customers; cards_added (created this week); cards_active (a follow-up, purchase or service
  record dated this week — what changed on the card);
- followups_week (follow-ups this week) vs due_now (customers whose next follow-up is today or
  earlier) and overdue (next follow-up before today);
- incomplete (cards missing a required field, see CARD_REQUIRED); ab_off_cadence (A/B customers
  overdue for their follow-up);
- open_complaints (past the SLA) and reassign (no follow-up or service for `no_contact_days`);
- sales vs collections (检阅销售、收款是否平衡): sales_30d, collected_30d (paid on those orders),
  collection_rate, outstanding (everything unpaid).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .purchases import order_balances
from .summary import text_or

WEEK_DAYS = 7
SALES_DAYS = 30
# A card is complete when it says who the customer is, how to reach them, where they are and where
# they came from (any one column of each group filled).
CARD_REQUIRED: tuple[tuple[str, ...], ...] = (("company", "contact"), ("mobile", "phone", "email"),
                                              ("province", "city"), ("source",))
COUNTS = ("customers", "cards_added", "cards_active", "followups_week", "due_now", "overdue", "incomplete",
          "ab_off_cadence", "open_complaints", "reassign")


def incomplete_cards(customers: pd.DataFrame) -> pd.Series:
    """True where a card misses a required group (CARD_REQUIRED)."""
    missing = pd.Series(False, index=customers.index)
    for group in CARD_REQUIRED:
        filled = pd.Series(False, index=customers.index)
        for key in group:
            filled |= customers[key].notna()
        missing |= ~filled
    return missing


def _active_ids(frames: list[pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp) -> set:
    ids: set = set()
    for f in frames:
        hit = f["date"].notna() & (f["date"] > start) & (f["date"] <= end)
        ids.update(f.loc[hit, "customer_id"].dropna())
    return ids


def weekly_review(customers: pd.DataFrame, followups: pd.DataFrame, purchases: pd.DataFrame, service: pd.DataFrame,
                  computed: pd.DataFrame, today: dt.date, *, complaints: pd.DataFrame, reassign: pd.DataFrame,
                  unassigned: str) -> pd.DataFrame:
    """One row per salesperson (a blank owner shows as `unassigned`, the label the command passes in).

    `computed`: daily.compute_columns (grade, next_follow_up); `complaints` / `reassign`: the lists
    from ops.service."""
    now = pd.Timestamp(today)
    week_start = now - pd.Timedelta(days=WEEK_DAYS)
    owner_label = text_or(customers["owner"], unassigned)
    out = pd.DataFrame({"owner": sorted(owner_label.unique())}).set_index("owner")
    out["customers"] = owner_label.value_counts()
    created = customers["created"]
    out["cards_added"] = owner_label[created.notna() & (created > week_start) & (created <= now)].value_counts()
    active = _active_ids([followups, purchases, service], week_start, now)
    out["cards_active"] = owner_label[customers["customer_id"].isin(active)].value_counts()

    first = customers["customer_id"].notna() & ~customers["customer_id"].duplicated()
    owner_by_id = owner_label[first].set_axis(customers.loc[first, "customer_id"])
    week_fu = followups[followups["date"].notna() & (followups["date"] > week_start) & (followups["date"] <= now)]
    out["followups_week"] = week_fu["customer_id"].map(owner_by_id).fillna(unassigned).value_counts()
    nxt = computed["next_follow_up"]
    out["due_now"] = owner_label[nxt.notna() & (nxt <= now)].value_counts()
    late = nxt.notna() & (nxt < now)
    out["overdue"] = owner_label[late].value_counts()
    out["incomplete"] = owner_label[incomplete_cards(customers)].value_counts()
    out["ab_off_cadence"] = owner_label[late & computed["grade"].isin(("A", "B"))].value_counts()
    out["open_complaints"] = _owner_counts(complaints, unassigned)
    out["reassign"] = _owner_counts(reassign, unassigned)

    every = order_balances(purchases, today)
    every_owner = every["customer_id"].map(owner_by_id).fillna(unassigned)  # once for both sums below
    recent = (every["date"].notna() & (every["date"] > now - pd.Timedelta(days=SALES_DAYS))
              & (every["date"] <= now)).to_numpy()
    sums = every[recent].groupby(every_owner[recent])[["invoiced", "paid"]].sum()
    out["sales_30d"] = sums["invoiced"]
    out["collected_30d"] = sums["paid"]
    out["outstanding"] = every.groupby(every_owner)["open"].sum()
    out = out.fillna(0)
    for col in COUNTS:
        out[col] = out[col].astype("int64")
    sales = out["sales_30d"].to_numpy(dtype=float)
    out["collection_rate"] = np.where(sales > 0, out["collected_30d"] / np.where(sales > 0, sales, 1), np.nan)
    out = out.sort_values(["customers"], ascending=False, kind="stable").reset_index()
    return out


def _owner_counts(rows: pd.DataFrame, unassigned: str) -> pd.Series:
    owners = rows["owner"].where(rows["owner"].notna(), unassigned).astype(str).str.strip()
    return owners.replace("", unassigned).value_counts()
