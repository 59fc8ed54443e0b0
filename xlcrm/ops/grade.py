"""A–E customer grades (客户等级), from demand and expected close date.

The rule (DESIGN.md, from the seed articles):
  A  clear need, deal expected within 1 month        (≤ window_a days, default 30)
  B  clear need, deal expected within 3 months       (≤ window_b, default 90)
  C  clear need, deal expected within 6 months       (≤ window_c, default 180)
  D  latent need, or clear need but more than 6 months away (or with no date yet)
  E  no need / no chance (死亡客户)
The user's `grade_override` always wins. Demand and expected close come from the newest source:
the latest Follow-up row that sets them, else the Basic Info row. A clear need whose expected
close date has already passed stays A: the deal is due now (Check flags the stale date).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..settings import Settings
from .lookup import CustomerKeys, latest_rows, take

GRADE_ORDER = ("A", "B", "C", "D", "E")
GRADE_RANK = {g: i for i, g in enumerate(GRADE_ORDER)}


def latest_set_rows(followups: pd.DataFrame, field: str, keys: CustomerKeys) -> np.ndarray:
    """Per customer code: the position of the latest follow-up that sets `field` (-1: none)."""
    sets = followups[field].notna().to_numpy() & followups["date"].notna().to_numpy()
    return latest_rows(followups, keys.followups, sets, keys.n)


def effective_demand(customers: pd.DataFrame, followups: pd.DataFrame,
                     keys: CustomerKeys | None = None) -> pd.DataFrame:
    """Demand and expected close per customer row, taking a later follow-up over Basic Info."""
    keys = keys or CustomerKeys.of(customers, followups)
    out = pd.DataFrame(index=customers.index)
    created = customers["created"]
    for field in ("demand", "expected_close"):
        latest = keys.per_customer(latest_set_rows(followups, field, keys))
        from_fu = take(followups[field], latest, customers.index)
        base = customers[field]
        if field == "expected_close":
            from_fu, base = _dates(from_fu), _dates(base)
        # A follow-up counts as newer unless it predates the card itself.
        newer = from_fu.notna() & (created.isna() | (_dates(take(followups["date"], latest, customers.index)) >= created))
        out[field] = base.where(~newer, from_fu)
    return out


def _dates(s: pd.Series) -> pd.Series:
    """A datetime64 series even when every value is missing (an empty map gives float NaN)."""
    return pd.to_datetime(s).astype("datetime64[ns]")


def grade_customers(customers: pd.DataFrame, followups: pd.DataFrame, settings: Settings,
                    today: dt.date, keys: CustomerKeys | None = None) -> pd.DataFrame:
    """Columns `grade` (what is written), `grade_auto` (the rule's grade), `demand`, `expected_close`,
    `reason` (a short code: override, no_need, window_a … latent, no_date, unknown)."""
    eff = effective_demand(customers, followups, keys)
    days = (eff["expected_close"] - pd.Timestamp(today)).dt.days
    demand = eff["demand"]
    has_date = days.notna()
    target = (demand == "target") | (demand.isna() & has_date)

    conditions = [
        demand == "none",
        target & has_date & (days <= settings.window_a),
        target & has_date & (days <= settings.window_b),
        target & has_date & (days <= settings.window_c),
        target & has_date,
        target,  # clear need, no date yet
        demand == "latent",
    ]
    grades = ["E", "A", "B", "C", "D", "D", "D"]
    reasons = ["no_need", "window_a", "window_b", "window_c", "beyond_c", "no_date", "latent"]
    auto = np.select(conditions, grades, default="D")
    reason = np.select(conditions, reasons, default="unknown")

    override = customers["grade_override"]
    out = pd.DataFrame(index=customers.index)
    out["grade_auto"] = auto
    out["grade"] = override.where(override.notna(), out["grade_auto"])
    out["reason"] = np.where(override.notna(), "override", reason)
    out["demand"] = demand
    out["expected_close"] = eff["expected_close"]
    return out
