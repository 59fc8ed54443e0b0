"""Follow-up cadence (客户追踪志): last contact, next follow-up, today's list and stale customers.

next_follow_up = the latest follow-up's own "next date" when it has one, else last contact +
cadence(grade) (A 1, B 7, C 15, D 30, E 365 days by default). A customer never contacted is due
at created + cadence(grade): an A lead the next day, an E one a year later (a card without a
created date is due today). A date the user planned (Basic Info's planned follow-up, or their own
"next contact" column) wins while it is later than the latest contact. Follow-ups dated after today are plans, not contacts.

Due Today is sorted by grade first (A→E), then days overdue: an A customer never sits below an
E one. Its "next step" is the plan — the latest contact's own next-step column, else the earliest
planned (future-dated) follow-up — never the outcome of the last contact.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..settings import Settings
from .grade import GRADE_RANK
from .lookup import CustomerKeys, latest_rows, take


def latest_contact_rows(followups: pd.DataFrame, today: dt.date, keys: CustomerKeys) -> np.ndarray:
    """Per customer code: the position of the latest follow-up on or before today (-1: none)."""
    dates = followups["date"]
    done = (dates.notna() & (dates <= pd.Timestamp(today))).to_numpy()
    return latest_rows(followups, keys.followups, done, keys.n)


def planned_step_rows(followups: pd.DataFrame, today: dt.date, keys: CustomerKeys) -> np.ndarray:
    """Per customer code: the position of the earliest follow-up dated after today that says what
    is planned (a plan, not a contact; -1: none)."""
    dates = followups["date"]
    plans = (dates.notna() & (dates > pd.Timestamp(today)) & followups["summary"].notna()).to_numpy()
    return latest_rows(followups, keys.followups, plans, keys.n, keep="first")


def schedule(customers: pd.DataFrame, followups: pd.DataFrame, grades: pd.Series, settings: Settings,
             today: dt.date, keys: CustomerKeys | None = None) -> pd.DataFrame:
    """Per customer row: last_contact, next_follow_up, the latest follow-up's summary/outcome and the
    planned next step."""
    if "next_step" not in followups.columns:  # a frame built before the column existed (e.g. a test's)
        followups = followups.assign(next_step=pd.Series(pd.NA, index=followups.index, dtype=object))
    keys = keys or CustomerKeys.of(customers, followups)
    index = customers.index
    last = keys.per_customer(latest_contact_rows(followups, today, keys))
    out = pd.DataFrame(index=index)
    out["last_contact"] = pd.to_datetime(take(followups["date"], last, index)).astype("datetime64[ns]")
    explicit = pd.to_datetime(take(followups["next_date"], last, index)).astype("datetime64[ns]")
    codes, distinct = pd.factorize(grades, use_na_sentinel=False)  # cadence looked up per grade, not per customer
    cadence_days = pd.Series(np.array([settings.cadence(g) for g in distinct], dtype="int64")[codes], index=grades.index)
    by_cadence = out["last_contact"] + pd.to_timedelta(cadence_days, unit="D")
    never = out["last_contact"].isna()
    # Never contacted: due one cadence after the card was made (no created date: due today).
    first_due = customers["created"] + pd.to_timedelta(cadence_days, unit="D")
    first_due = first_due.where(customers["created"].notna(), pd.Timestamp(today))
    nxt = explicit.where(explicit.notna(), by_cadence).where(~never, first_due)
    # The user's own plan (typed in Basic Info) wins while it is newer than the latest contact.
    planned = customers["planned_next"] if "planned_next" in customers else None
    if planned is not None:
        current = planned.notna() & (never | (planned > out["last_contact"]))
        nxt = planned.where(current, nxt)
    out["next_follow_up"] = nxt
    for col in ("summary", "outcome", "by"):
        out[f"last_{col}"] = take(followups[col].astype(object), last, index)
    step = take(followups["next_step"].astype(object), last, index)
    planned = take(followups["summary"].astype(object), keys.per_customer(planned_step_rows(followups, today, keys)), index)
    out["next_step"] = step.where(step.notna() & (step.astype(str).str.strip() != ""), planned)
    return out


def due_list(customers: pd.DataFrame, computed: pd.DataFrame, today: dt.date, *, owner: str | None = None,
             grades: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Customers whose next follow-up is today or earlier: grade A first, then the most overdue.

    `computed` holds grade, last_contact, next_follow_up, last_summary and next_step for the same rows.
    `grades` keeps only those grades (e.g. ("A", "B")).
    """
    nxt = computed["next_follow_up"]
    mask = nxt.notna() & (nxt <= pd.Timestamp(today))
    if owner:
        mask &= customers["owner"].fillna("").str.strip() == owner.strip()
    if grades:
        mask &= computed["grade"].isin(grades)
    # Only the columns listed are taken (the L book's Basic Info has 44, and 0.8M rows are due).
    rows = customers.loc[mask, ["customer_id", "company", "contact", "mobile", "phone", "owner", "_row"]]
    c = computed.loc[mask, [k for k in ("grade", "last_contact", "last_summary", "next_step") if k in computed]]
    out = pd.DataFrame({
        "grade": c["grade"],
        "days_overdue": (pd.Timestamp(today) - nxt[mask]).dt.days.astype("int64"),
        "customer_id": rows["customer_id"],
        "customer": rows["company"].where(rows["company"].notna(), rows["contact"]),
        "contact": rows["contact"],
        "mobile": rows["mobile"].where(rows["mobile"].notna(), rows["phone"]),
        "owner": rows["owner"],
        "last_contact": c["last_contact"],
        "last_summary": c["last_summary"],
        "next_follow_up": nxt[mask],
        "next_step": c["next_step"] if "next_step" in c.columns else pd.Series(None, index=c.index, dtype=object),
        "_row": rows["_row"],
    })
    out["_rank"] = out["grade"].map(GRADE_RANK).fillna(9)
    out = out.sort_values(["_rank", "days_overdue", "_row"], ascending=[True, False, True], kind="stable")
    return out.drop(columns="_rank").reset_index(drop=True)


def owners_of(customers: pd.DataFrame) -> list[str]:
    """The salespeople named on Basic Info, as typed (trimmed), in first-seen order."""
    names = customers["owner"].dropna().astype(str).str.strip()
    return list(dict.fromkeys(n for n in names if n))


def silent_customers(customers: pd.DataFrame, last_touch: pd.Series, grades: pd.Series, min_days: int,
                     today: dt.date, *, owner: str | None = None) -> tuple[pd.Series, pd.Series]:
    """(mask, days since) of the customers nobody touched for `min_days` — counted from creation when
    never touched — leaving out grade E (not worth chasing) and, with `owner`, other salespeople's."""
    since = last_touch.where(last_touch.notna(), customers["created"])
    days = (pd.Timestamp(today) - since).dt.days
    mask = days.notna() & (days >= min_days) & (grades != "E")
    if owner:
        mask &= customers["owner"].fillna("").str.strip() == owner.strip()
    return mask, days


def stale_list(customers: pd.DataFrame, computed: pd.DataFrame, settings: Settings, today: dt.date, *,
               owner: str | None = None) -> pd.DataFrame:
    """Customers with no follow-up for `stale_days` (never-contacted ones counted from creation),
    excluding grade E — the list a manager uses to reassign customers."""
    mask, days = silent_customers(customers, computed["last_contact"], computed["grade"], settings.stale_days,
                                  today, owner=owner)
    rows = customers.loc[mask, ["customer_id", "company", "contact", "owner", "created", "_row"]]
    out = pd.DataFrame({
        "customer_id": rows["customer_id"],
        "customer": rows["company"].where(rows["company"].notna(), rows["contact"]),
        "contact": rows["contact"],
        "owner": rows["owner"],
        "grade": computed.loc[mask, "grade"],
        "last_contact": computed.loc[mask, "last_contact"],
        "days_since": days[mask].astype("int64"),
        "created": rows["created"],
        "_row": rows["_row"],
    })
    return out.sort_values(["days_since", "_row"], ascending=[False, True], kind="stable").reset_index(drop=True)

