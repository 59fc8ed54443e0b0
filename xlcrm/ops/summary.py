"""The manager's Summary (汇总): KPIs and tables, computed from the three data sheets.

Pure pandas. Grades, ABC classes, order balances and follow-up schedules come from the shared
ops (`grade`, `purchases`, `followup`) so every sheet of the workbook tells the same story; this
module only aggregates them. Tables use internal column names and codes (at-risk reasons); the
command labels them in the workbook's language and lays them out. The few values ops must put in a
table for rows without a name (no owner, no province, the owners beyond the chart's series) are
given by the command in `RowLabels`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..settings import Settings
from .followup import schedule
from .grade import GRADE_ORDER, grade_customers
from .lookup import CustomerKeys, lookup
from .purchases import abc_classes, customer_money, order_balances
from .receivables import customer_receivables, owner_receivables

MAX_OWNER_SERIES = 8  # monthly sales: more owners than this are summed as "others", so the chart reads
TOP_N = 10
AT_RISK_ROWS = 25
RECENT_DAYS = (7, 30)
STAGES = ("potential", "negotiating", "closed")
RISK_REASONS = ("overdue", "poor_credit", "big_but_cold")  # codes in at_risk["reasons"], comma-separated


@dataclass(frozen=True)
class RowLabels:
    """What a table row or series without a name of its own is called (chosen by the command)."""

    unassigned: str  # no owner
    blank: str  # no province
    others: str  # the owners beyond MAX_OWNER_SERIES in the monthly chart


@dataclass
class SummaryData:
    today: dt.date
    kpis: dict[str, float | int]
    periods: pd.DataFrame  # period, start, sales, collected, open, collection_rate
    grade_by_owner: pd.DataFrame  # owner, A..E, total
    activity_by_owner: pd.DataFrame  # owner, customers, followups_7d, followups_30d, overdue_followup, outstanding, overdue
    province_by_grade: pd.DataFrame  # province, A..E, total
    monthly_sales: pd.DataFrame  # month, <owner>…, total
    abc: pd.DataFrame  # abc_class, customers, customer_share, revenue_12m, revenue_share
    top_customers: pd.DataFrame  # customer_id, company, owner, grade, abc_class, revenue_12m, total_purchases, overdue
    at_risk: pd.DataFrame  # customer_id, company, owner, grade, credit_rating, total_purchases, overdue, days_overdue, reasons (codes)
    pipeline: pd.DataFrame  # stage, customers, new_in_period, followed_up_in_period, first_order_in_period
    receivables_by_owner: pd.DataFrame  # see receivables.owner_receivables
    extras: dict[str, object] = field(default_factory=dict)


def period_starts(today: dt.date) -> dict[str, dt.date]:
    """First day of today's month, quarter and year."""
    quarter_month = 3 * ((today.month - 1) // 3) + 1
    return {"month": today.replace(day=1), "quarter": dt.date(today.year, quarter_month, 1),
            "year": dt.date(today.year, 1, 1)}


def text_or(series: pd.Series, blank: str) -> pd.Series:
    """Trimmed text, `blank` for a missing or empty cell (vectorised: a million follow-ups stay fast)."""
    s = series.fillna("").astype(str).str.strip()
    return s.where(s != "", blank)


_PROVINCE_SUFFIX = r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$"


def fold_province(series: pd.Series, blank: str) -> pd.Series:
    """广东省 and 广东 are one province in a table: drop the administrative suffix."""
    return text_or(series, blank).str.replace(_PROVINCE_SUFFIX, "", regex=True).replace("", blank)


def _grade_table(keys: pd.Series, grades: pd.Series, key_name: str) -> pd.DataFrame:
    table = pd.crosstab(keys, grades).reindex(columns=list(GRADE_ORDER), fill_value=0)
    table["total"] = table.sum(axis=1)
    table = table.sort_values(["total"], ascending=False, kind="stable")
    table.index.name = key_name
    table.columns.name = None
    return table.reset_index().astype({g: "int64" for g in (*GRADE_ORDER, "total")})


def _in_window(dates: pd.Series, start: dt.date, today: dt.date) -> pd.Series:
    return dates.notna() & (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(today))


def compute_summary(customers: pd.DataFrame, followups: pd.DataFrame, purchases: pd.DataFrame,
                    settings: Settings, today: dt.date, labels: RowLabels,
                    computed: pd.DataFrame | None = None) -> SummaryData:
    """`computed`: the customers' computed columns for `today` when the caller has them already
    (`commands.daily.compute_columns`: grade, money, schedule), so they are not worked out twice."""
    none_label = labels.unassigned
    if computed is not None:
        grades, money, sched = computed["grade"], computed, computed
    else:
        keys = CustomerKeys.of(customers, followups, purchases)
        grades = grade_customers(customers, followups, settings, today, keys)["grade"]
        money = customer_money(customers, purchases, settings, today, keys)
        sched = schedule(customers, followups, grades, settings, today, keys)
    orders = order_balances(purchases, today)
    owner = text_or(customers["owner"], none_label)
    first_card = customers["customer_id"].notna() & ~customers["customer_id"].duplicated()
    owner_by_id = owner[first_card].set_axis(customers.loc[first_card, "customer_id"])
    starts = period_starts(today)
    ts_today = pd.Timestamp(today)

    # ---- follow-up activity, credited to who did it (else the customer's owner)
    done = followups[followups["date"].notna() & (followups["date"] <= ts_today)]
    fu_owner = text_or(done["by"], "")
    uncredited = (fu_owner == "").to_numpy()
    if uncredited.any():  # look up only the rows that need it: a million IDs take most of a second
        fu_owner = fu_owner.astype(object)
        fu_owner[uncredited] = done.loc[uncredited, "customer_id"].map(owner_by_id).fillna(none_label).to_numpy()
    activity = pd.DataFrame({"owner": sorted(set(owner.unique()) | set(fu_owner.unique()))}).set_index("owner")
    activity["customers"] = owner.value_counts()
    for days in RECENT_DAYS:
        recent = done["date"] > ts_today - pd.Timedelta(days=days)
        activity[f"followups_{days}d"] = fu_owner[recent].value_counts()
    overdue_fu = sched["next_follow_up"].notna() & (sched["next_follow_up"] < ts_today)
    activity["overdue_followup"] = owner[overdue_fu].value_counts()
    per_customer_recv = customer_receivables(customers, purchases, today)
    recv_owner = per_customer_recv.assign(owner=text_or(per_customer_recv["owner"], none_label))
    activity["outstanding"] = recv_owner.groupby("owner")["outstanding"].sum()
    activity["overdue"] = recv_owner.groupby("owner")["overdue"].sum()
    activity = activity.fillna(0)
    for col in ("customers", "followups_7d", "followups_30d", "overdue_followup"):
        activity[col] = activity[col].astype("int64")
    activity = activity.sort_values(["customers", "followups_30d"], ascending=False, kind="stable").reset_index()

    # ---- sales and collections per period (collections: paid on the period's orders)
    rows = []
    for key in ("month", "quarter", "year"):
        in_period = _in_window(orders["date"], starts[key], today)
        sales = float(orders.loc[in_period, "invoiced"].sum())
        paid = float(orders.loc[in_period, "paid"].sum())
        rows.append({"period": key, "start": pd.Timestamp(starts[key]), "sales": sales, "collected": paid,
                     "open": float(orders.loc[in_period, "open"].sum()),
                     "collection_rate": paid / sales if sales else np.nan})
    periods = pd.DataFrame(rows)

    # ---- grade tables
    grade_by_owner = _grade_table(owner, grades, "owner")
    province = fold_province(customers["province"], labels.blank)
    province_by_grade = _grade_table(province, grades, "province")

    # ---- monthly sales by owner, last 12 months (the current month included, up to today)
    months = pd.period_range(pd.Period(today, "M") - 11, pd.Period(today, "M"), freq="M")
    window = _in_window(orders["date"], months[0].start_time.date(), today)
    recent_orders = orders[window]
    recent_orders = recent_orders.assign(owner=recent_orders["customer_id"].map(owner_by_id).fillna(none_label))
    by_owner_total = recent_orders.groupby("owner")["invoiced"].sum().sort_values(ascending=False, kind="stable")
    keep = list(by_owner_total.index[:MAX_OWNER_SERIES]) if len(by_owner_total) > MAX_OWNER_SERIES + 1 \
        else list(by_owner_total.index)
    others = labels.others
    series_owner = recent_orders["owner"].where(recent_orders["owner"].isin(keep), others)
    monthly = pd.crosstab(recent_orders["date"].dt.to_period("M"), series_owner,
                          values=recent_orders["invoiced"], aggfunc="sum")
    monthly = monthly.reindex(index=months, columns=keep + ([others] if others in monthly.columns else []))
    monthly = monthly.fillna(0.0).astype("float64")
    monthly["total"] = monthly.sum(axis=1)
    monthly.index = [str(p) for p in months]
    monthly.index.name = "month"
    monthly.columns.name = None
    monthly = monthly.reset_index()

    # ---- ABC / Pareto (classes and 12-month revenue from purchases.customer_money)
    ids_first = customers["customer_id"].isna() | ~customers["customer_id"].duplicated()
    m = money[ids_first]
    abc_rows = []
    n_all = len(m)
    rev_all = float(m["revenue_12m"].sum())
    for cls in ("A", "B", "C"):
        sel = m["abc_class"] == cls
        rev = float(m.loc[sel, "revenue_12m"].sum())
        abc_rows.append({"abc_class": cls, "customers": int(sel.sum()),
                         "customer_share": sel.sum() / n_all if n_all else 0.0,
                         "revenue_12m": rev, "revenue_share": rev / rev_all if rev_all else 0.0})
    none_sel = m["abc_class"].isna()
    abc_rows.append({"abc_class": "-", "customers": int(none_sel.sum()),
                     "customer_share": none_sel.sum() / n_all if n_all else 0.0,
                     "revenue_12m": 0.0, "revenue_share": 0.0})
    abc = pd.DataFrame(abc_rows)

    # ---- customers table (one row per card) used by top 10 and at-risk
    recv_by_id = per_customer_recv.set_index("customer_id")
    card = pd.DataFrame({
        "customer_id": customers["customer_id"],
        "company": customers["company"].where(customers["company"].notna(), customers["contact"]),
        "owner": owner,
        "grade": grades,
        "abc_class": money["abc_class"],
        "credit_rating": customers["credit_rating"],
        "revenue_12m": money["revenue_12m"],
        "total_purchases": money["total_purchases"],
        "overdue": customers["customer_id"].map(recv_by_id["overdue"]).fillna(0.0).astype(float),
        "days_overdue": customers["customer_id"].map(recv_by_id["days_overdue"]).astype("Float64"),
        "_row": customers["_row"],
    })[ids_first]
    top = card[card["total_purchases"] > 0].sort_values(["total_purchases", "_row"], ascending=[False, True],
                                                         kind="stable").head(TOP_N)
    top = top[["customer_id", "company", "owner", "grade", "abc_class", "revenue_12m", "total_purchases",
               "overdue"]].reset_index(drop=True)

    # ---- at risk: "watch the biggest and the riskiest" (抓两头)
    lifetime_class = abc_classes(card["total_purchases"], settings.abc_cut_a, settings.abc_cut_b)
    big_past = card["grade"].isin(["D", "E"]) & lifetime_class.isin(["A", "B"])
    reasons = {"overdue": card["overdue"] > 0.005, "poor_credit": card["credit_rating"] == "poor",
               "big_but_cold": big_past}
    risky = pd.concat(reasons, axis=1).any(axis=1)
    risk = card[risky].copy()
    codes = pd.Series("", index=card.index, dtype=object)
    for key, flag in reasons.items():
        codes = codes.where(~flag, codes + "," + key)
    risk["reasons"] = codes[risky].str.slice(1)
    risk = risk.sort_values(["overdue", "total_purchases", "_row"], ascending=[False, False, True], kind="stable")
    at_risk_total = len(risk)
    at_risk = risk.head(AT_RISK_ROWS)[["customer_id", "company", "owner", "grade", "credit_rating",
                                       "total_purchases", "overdue", "days_overdue", "reasons"]].reset_index(drop=True)

    # ---- pipeline over the last 30 days (the workbook keeps no stage history: see README)
    period_start = today - dt.timedelta(days=29)
    stage = customers["deal_status"]
    new_in = _in_window(customers["created"], period_start, today)
    touched_ids = done.loc[_in_window(done["date"], period_start, today), "customer_id"].dropna().unique()
    touched = customers["customer_id"].isin(touched_ids)
    first_order = orders.groupby("customer_id")["date"].min()
    # lookup, not map: mapping through an empty date series (a book with no purchases) fails in pandas
    first_in = _in_window(lookup(first_order, customers["customer_id"]), period_start, today)
    pipe_rows = []
    for st in (*STAGES, None):
        sel = stage.isna() if st is None else stage == st
        pipe_rows.append({"stage": st or "-", "customers": int(sel.sum()), "new_in_period": int((sel & new_in).sum()),
                          "followed_up_in_period": int((sel & touched).sum()),
                          "first_order_in_period": int((sel & first_in).sum())})
    pipeline = pd.DataFrame(pipe_rows)

    receivables = owner_receivables(per_customer_recv, labels.unassigned)

    kpis: dict[str, float | int] = {"customers": int(len(customers))}
    for g in GRADE_ORDER:
        kpis[f"grade_{g}"] = int((grades == g).sum())
    kpis["new_this_month"] = int(_in_window(customers["created"], starts["month"], today).sum())
    for days in RECENT_DAYS:
        kpis[f"followups_{days}d"] = int(activity[f"followups_{days}d"].sum())
    kpis["overdue_followup_customers"] = int(overdue_fu.sum())
    for _, r in periods.iterrows():
        kpis[f"sales_{r['period']}"] = round(r["sales"], 2)
        kpis[f"collected_{r['period']}"] = round(r["collected"], 2)
    kpis["outstanding"] = round(float(per_customer_recv["outstanding"].sum()), 2)
    kpis["overdue_receivables"] = round(float(per_customer_recv["overdue"].sum()), 2)
    kpis["overdue_customers"] = int((per_customer_recv["overdue"] > 0.005).sum())
    kpis["at_risk_customers"] = int(at_risk_total)
    kpis["first_orders_30d"] = int(first_in.sum())

    return SummaryData(today=today, kpis=kpis, periods=periods, grade_by_owner=grade_by_owner,
                       activity_by_owner=activity, province_by_grade=province_by_grade, monthly_sales=monthly,
                       abc=abc, top_customers=top, at_risk=at_risk, pipeline=pipeline,
                       receivables_by_owner=receivables, extras={"period_start_30d": period_start})
