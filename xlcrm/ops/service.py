"""Service & complaints (售后服务, 顾客抱怨): the optional Service sheet's two lists.

- Open complaints: a 投诉 row with no resolved date, older than `complaint_sla_days` (Settings,
  default 3) — flagged on Due Today and on the Summary, oldest first.
- Reassignment: customers with neither a follow-up nor a service record for `no_contact_days`
  (Settings, default 90; a card never contacted counts from its created date), grade E left out —
  the seed's "三个月没有联系的客户应重新分配".

Pure functions over the reader's frames; a book without a Service sheet passes an empty frame.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ..settings import Settings
from .followup import silent_customers
from .lookup import lookup

COMPLAINT = "complaint"


def open_complaints(service: pd.DataFrame, customers: pd.DataFrame, settings: Settings,
                    today: dt.date) -> pd.DataFrame:
    """Complaints still unresolved after the SLA: customer_id, customer, owner, date, days_open,
    description, handler, _row (the Service sheet row), oldest first."""
    now = pd.Timestamp(today)
    rows = service.loc[(service["type"] == COMPLAINT) & service["resolved"].isna() & service["date"].notna()
                       & (service["date"] <= now)]
    days = (now - rows["date"]).dt.days
    rows, days = rows[days > settings.complaint_sla_days], days[days > settings.complaint_sla_days]
    cards = (customers[["customer_id", "company", "contact", "owner"]].dropna(subset=["customer_id"])
             .drop_duplicates("customer_id").set_index("customer_id"))
    name = cards["company"].where(cards["company"].notna(), cards["contact"])
    out = pd.DataFrame({
        "customer_id": rows["customer_id"],
        "customer": rows["customer_id"].map(name),
        "owner": rows["customer_id"].map(cards["owner"]),
        "date": rows["date"],
        "days_open": days.astype("int64"),
        "description": rows["description"],
        "handler": rows["handler"],
        "_row": rows["_row"],
    })
    return out.sort_values(["days_open", "_row"], ascending=[False, True], kind="stable").reset_index(drop=True)


def last_service(service: pd.DataFrame, today: dt.date) -> pd.Series:
    """Per customer ID: the latest service date on or before today."""
    done = service.loc[service["customer_id"].notna() & service["date"].notna()
                       & (service["date"] <= pd.Timestamp(today))]
    return done.groupby("customer_id", sort=False)["date"].max()


def reassignment_list(customers: pd.DataFrame, last_contact: pd.Series, grades: pd.Series, service: pd.DataFrame,
                      settings: Settings, today: dt.date, *, owner: str | None = None) -> pd.DataFrame:
    """Customers with no follow-up and no service for `no_contact_days`: customer_id, customer, owner,
    grade, last_touch (latest follow-up or service), days_since, _row; longest silence first.

    `last_contact` and `grades` are the computed columns, aligned with `customers`."""
    served = lookup(last_service(service, today).astype("datetime64[ns]"), customers["customer_id"])
    touch = pd.concat([last_contact.astype("datetime64[ns]"), served], axis=1).max(axis=1)
    mask, days = silent_customers(customers, touch, grades, settings.no_contact_days, today, owner=owner)
    rows = customers.loc[mask, ["customer_id", "company", "contact", "owner", "_row"]]
    out = pd.DataFrame({
        "customer_id": rows["customer_id"],
        "customer": rows["company"].where(rows["company"].notna(), rows["contact"]),
        "owner": rows["owner"],
        "grade": grades[mask],
        "last_touch": touch[mask],
        "days_since": days[mask].astype("int64"),
        "_row": rows["_row"],
    })
    return out.sort_values(["days_since", "_row"], ascending=[False, True], kind="stable").reset_index(drop=True)


def complaints_by_owner(complaints: pd.DataFrame) -> pd.Series:
    """Open (past-SLA) complaints per salesperson; customers without an owner under ""."""
    return complaints["owner"].fillna("").astype(str).str.strip().value_counts()


def service_problems(service: pd.DataFrame, customers: pd.DataFrame, *, sheets: dict, raw: dict,
                     today: dt.date) -> list:
    """Check's findings on the Service sheet: unknown customer IDs, future dates, resolved before opened."""
    from ..errors import Msg, Severity
    from .validate import Findings, id_key, isin_ids

    f = Findings(sheets, raw)
    known = id_key(customers["customer_id"]).dropna()
    ids = id_key(service["customer_id"])
    f.add("service", service, ids.notna() & ~isin_ids(ids, known), "customer_id", "orphan", Severity.ERROR,
          Msg("客户资料中没有这个客户编号", "No customer with this ID on the Basic Info sheet"),
          Msg("核对编号，或先在客户资料中建档", "Check the ID, or add the customer to Basic Info first"))
    f.add("service", service, service["date"] > pd.Timestamp(today), "date", "future_date", Severity.WARNING,
          Msg("日期在今天之后（这条服务记录还没有发生）", "Date is after today (this service has not happened yet)"))
    f.add("service", service, service["resolved"].notna() & service["date"].notna()
          & (service["resolved"] < service["date"]), "resolved", "resolved_before_date", Severity.WARNING,
          Msg("解决日期早于受理日期", "Resolved before the service date"))
    return f.problems
