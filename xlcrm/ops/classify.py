"""The seed's customer classifications, derived per Basic Info row (thresholds in Settings).

- deal_stage (成交状态): the user's typed 成交状态 wins; else 已成交 when the customer has a live
  order, 谈判中 when there was a follow-up within `stale_days` or the need is clear (目标), else 潜在.
- urgency (紧急程度) from the expected close date (the latest follow-up's, else Basic Info's):
  紧急 ≤ `urgency_urgent_days` (7; a date already passed is urgent too), 缓急 ≤ `urgency_soon_days`
  (30), 不紧急 ≤ `urgency_normal_days` (90), else — or with no date — 可慢反应.
- importance_tier (重要程度): the user's mark (重要/特殊/一般) wins; else 重要 when the last 12
  months' revenue reaches `importance_key_revenue`, else 一般.
- loyalty (忠诚度) from live orders: 未购买 (none), 流失 (last order more than `loyalty_lapsed_days`
  ago), 回头客 (at least `loyalty_repeat_orders` orders), else 新客户.

Values are choice codes (schema.DEAL_STATUSES, URGENCIES, IMPORTANCES, LOYALTIES).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..settings import Settings
from .lookup import CustomerKeys, latest_rows, rows_codes, take
from .purchases import order_balances

CLASSIFICATIONS = ("deal_stage", "urgency", "importance_tier", "loyalty")


def classify_customers(customers: pd.DataFrame, purchases: pd.DataFrame, settings: Settings, today: dt.date, *,
                       demand: pd.Series, expected_close: pd.Series, revenue_12m: pd.Series,
                       last_contact: pd.Series, keys: CustomerKeys | None = None) -> pd.DataFrame:
    """One column per classification, aligned with `customers`.

    `demand` and `expected_close` are the effective ones (grade.effective_demand); `revenue_12m`
    comes from purchases.customer_money, `last_contact` from followup.schedule — so a run computes
    each once."""
    now = pd.Timestamp(today)
    keys = keys or CustomerKeys.of(customers, purchases=purchases)
    orders = order_balances(purchases, today)
    codes = rows_codes(keys.purchases, purchases, orders)
    placed = (orders["date"].isna() | (orders["date"] <= now)).to_numpy()  # a future-dated order is not one yet
    counts = np.bincount(codes[placed & (codes >= 0)], minlength=keys.n)
    n_orders = pd.Series(keys.spread(counts, 0), index=customers.index, dtype="int64")
    latest = latest_rows(orders, codes, placed & orders["date"].notna().to_numpy(), keys.n)
    last_order = take(orders["date"], keys.per_customer(latest), customers.index).astype("datetime64[ns]")

    recent_fu = (now - last_contact.astype("datetime64[ns]")).dt.days <= settings.stale_days

    out = pd.DataFrame(index=customers.index)
    derived_stage = np.where(n_orders > 0, "closed",
                             np.where(recent_fu.fillna(False) | (demand == "target"), "negotiating", "potential"))
    out["deal_stage"] = customers["deal_status"].where(customers["deal_status"].notna(),
                                                       pd.Series(derived_stage, index=customers.index))

    days = (pd.to_datetime(expected_close).astype("datetime64[ns]") - now).dt.days
    out["urgency"] = np.select(
        [days <= settings.urgency_urgent_days, days <= settings.urgency_soon_days,
         days <= settings.urgency_normal_days],
        ["urgent", "soon", "normal"], default="slow")

    key = revenue_12m.fillna(0.0) >= settings.importance_key_revenue
    derived_tier = pd.Series(np.where(key & (settings.importance_key_revenue > 0), "key", "normal"),
                             index=customers.index)
    out["importance_tier"] = customers["importance"].where(customers["importance"].notna(), derived_tier)

    silent = (now - last_order).dt.days > settings.loyalty_lapsed_days
    out["loyalty"] = np.select(
        [n_orders == 0, silent.fillna(False), n_orders >= settings.loyalty_repeat_orders],
        ["none", "lapsed", "repeat"], default="new")
    return out.astype(object)


def classification_counts(classes: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per classification: code → number of customers (for the Summary)."""
    return {key: {str(k): int(v) for k, v in classes[key].value_counts(sort=False).items()}
            for key in CLASSIFICATIONS if key in classes}
