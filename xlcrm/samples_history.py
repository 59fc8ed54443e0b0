"""The sample's Follow-up and Purchases rows, and their deliberate dirt."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from . import schema
from .samples_base import (
    FOLLOWUP_WEIGHT_BY_GRADE,
    TEXT_DATE_FORMATS,
    UNKNOWN_CHOICES,
    DirtItem,
    labels_of,
    lang_index,
    pick_weighted,
    text_date,
)
from .samples_vocab import (  # the vocabulary; re-exported here for existing imports
    CHANNEL_WEIGHTS,
    NEXT_STEPS,
    OUTCOMES,
    PRODUCTS,
    SUMMARIES,
)


def followups_frame(rng, m: int, customers: pd.DataFrame, grade: np.ndarray, lang: str, today: dt.date, owners) -> pd.DataFrame:
    L = lang_index(lang)
    has_id = customers["customer_id"].notna().to_numpy()
    closed = (customers["deal_status"] == schema.choice_label(schema.DEAL_STATUSES, "closed", lang)).to_numpy()
    w = FOLLOWUP_WEIGHT_BY_GRADE[np.minimum(grade, 4)] * np.where(closed, 1.3, 1.0) * has_id
    who = rng.choice(len(customers), size=m, p=w / w.sum())
    today64 = np.datetime64(today, "D")
    created = customers["created"].to_numpy().astype("datetime64[D]")[who]
    lo = np.maximum(created, today64 - np.timedelta64(365, "D"))
    lo = np.minimum(lo, today64)
    span = (today64 - lo).astype(int) + 1
    date = lo + (rng.random(m) * span).astype(int).astype("timedelta64[D]")
    order = np.argsort(date, kind="stable")
    who, date = who[order], date[order]

    channel = pick_weighted(rng, m, CHANNEL_WEIGHTS)
    phrase_lists = [SUMMARIES[c.code] for c in schema.CHANNELS]
    offsets = np.cumsum([0] + [len(p) for p in phrase_lists])
    flat = np.array([p[L] for ps in phrase_lists for p in ps], dtype=object)
    counts = np.diff(offsets)
    summary = flat[offsets[channel] + (rng.random(m) * counts[channel]).astype(int)]
    outcome_index = pick_weighted(rng, m, [o[2] for o in OUTCOMES])
    outcome = np.array([o[L] for o in OUTCOMES], dtype=object)[outcome_index]
    owner_of = customers["owner"].to_numpy()[who]
    by = np.where(rng.random(m) < 0.9, owner_of, np.array(owners, dtype=object)[rng.integers(0, len(owners), m)])
    demand = customers["demand"].to_numpy()[who].copy()
    other = rng.random(m) < 0.05
    demand[other] = labels_of(schema.DEMANDS, lang)[rng.integers(0, 3, other.sum())]
    target = demand == schema.choice_label(schema.DEMANDS, "target", lang)
    cust_close = customers["expected_close"].to_numpy().astype("datetime64[D]")[who]
    guess = date + rng.integers(30, 180, m).astype("timedelta64[D]")
    close = np.where(np.isnat(cust_close), guess, cust_close)
    close = np.where(target & (rng.random(m) < 0.6), close, np.datetime64("NaT"))
    cadence = np.array([schema.SETTING_DEFAULTS[f"cadence_{g}"] for g in "abcde"])[np.minimum(grade[who], 4)]
    next_date = np.where(rng.random(m) < 0.75, date + cadence.astype("timedelta64[D]"), np.datetime64("NaT"))
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy()[who],
            "date": date.astype("datetime64[ns]"),
            "channel": labels_of(schema.CHANNELS, lang)[channel],
            "by": by,
            "summary": summary,
            "outcome": np.where(rng.random(m) < 0.85, outcome, None),
            "demand": np.where(rng.random(m) < 0.7, demand, None),
            "expected_close": close.astype("datetime64[ns]"),
            "next_date": next_date.astype("datetime64[ns]"),
            # derived, not drawn: the random stream (and so every other sample value) is unchanged
            "next_step": np.where(np.isnat(next_date), None,
                                  np.array([n[L] for n in NEXT_STEPS], dtype=object)[outcome_index]),
        }
    )


def purchases_frame(rng, p: int, customers: pd.DataFrame, grade: np.ndarray, lang: str, today: dt.date) -> pd.DataFrame:
    L = lang_index(lang)
    closed = (customers["deal_status"] == schema.choice_label(schema.DEAL_STATUSES, "closed", lang)).to_numpy()
    key = (customers["importance"] == schema.choice_label(schema.IMPORTANCES, "key", lang)).to_numpy()
    w = closed * customers["customer_id"].notna().to_numpy() * np.where(key, 3.0, 1.0) * (5 - np.minimum(grade, 4))
    if w.sum() == 0:
        w = np.ones(len(customers))
    who = rng.choice(len(customers), size=p, p=w / w.sum())
    today64 = np.datetime64(today, "D")
    created = customers["created"].to_numpy().astype("datetime64[D]")[who]
    lo = np.minimum(np.maximum(created, today64 - np.timedelta64(365, "D")), today64)
    date = lo + (rng.random(p) * ((today64 - lo).astype(int) + 1)).astype(int).astype("timedelta64[D]")
    order = np.argsort(date, kind="stable")
    who, date = who[order], date[order]

    product = rng.integers(0, len(PRODUCTS), p)
    price = np.array([x[2] for x in PRODUCTS])[product]
    typical = np.array([x[3] for x in PRODUCTS])[product]
    quantity = np.maximum(1, np.round(rng.lognormal(np.log(typical), 0.7))).astype(float)
    unit_price = np.round(price * rng.uniform(0.9, 1.05, p), 2)
    amount = np.round(quantity * unit_price, 2)
    age = (today64 - date).astype(int)
    status = np.where(
        age <= 14, pick_weighted(rng, p, (0.6, 0.4, 0, 0, 0)), pick_weighted(rng, p, (0.05, 0.25, 0.62, 0.05, 0.03))
    )  # ordered delivered paid cancelled returned
    part = np.array([0.0, 0.3, 0.5])[rng.integers(0, 3, p)]
    paid = np.select([status == 2, status == 1, status == 0], [amount, np.round(amount * part, 2), np.round(amount * part * (part < 0.5), 2)], 0.0)
    due = np.where(rng.random(p) < 0.92, date + np.array([30, 45, 60, 90])[rng.integers(0, 4, p)].astype("timedelta64[D]"), np.datetime64("NaT"))
    day = pd.Series(date)
    seq = day.groupby(day).cumcount().to_numpy() + 1
    stamp = np.datetime_as_string(date, unit="D")
    order_no = np.array([f"SO{s[:4]}{s[5:7]}{s[8:]}-{k:04d}" for s, k in zip(stamp, seq, strict=True)], dtype=object)
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy()[who],
            "order_no": order_no,
            "date": date.astype("datetime64[ns]"),
            "product": np.array([x[L] for x in PRODUCTS], dtype=object)[product],
            "quantity": quantity,
            "unit_price": unit_price,
            "amount": amount,
            "paid_amount": paid,
            "payment_due": due.astype("datetime64[ns]"),
            "status": labels_of(schema.ORDER_STATUSES, lang)[status],
        }
    )


def orphan_ids(n_customers: int, k: int) -> list[str]:
    return [f"C{n_customers + 5000 + i * 7:06d}" for i in range(k)]


def followup_dirt(rng, fu: pd.DataFrame, over: dict, count: dict, lang: str, today: dt.date, n_customers: int) -> list[DirtItem]:
    items = []
    need = 4 * count["text_date"] + count["future_date"] + count["orphan_followup"] + count["unknown_choice"]
    pool = [int(i) for i in rng.choice(len(fu), size=min(need, len(fu)), replace=False)]
    for fmt in TEXT_DATE_FORMATS:
        for _ in range(count["text_date"]):
            pos = pool.pop()
            d = fu.at[pos, "date"].date()
            over.setdefault("date", {})[pos] = text_date(d, fmt)
            items.append(DirtItem("followups", pos + 2, "date", "text_date", text_date(d, fmt), note=f"{fmt}: {d.isoformat()}"))
    for _ in range(count["future_date"]):
        pos = pool.pop()
        fu.at[pos, "date"] = pd.Timestamp(today + dt.timedelta(days=int(rng.integers(20, 60))))
        items.append(DirtItem("followups", pos + 2, "date", "future_date", fu.at[pos, "date"]))
    for oid in orphan_ids(n_customers, count["orphan_followup"]):
        pos = pool.pop()
        fu.at[pos, "customer_id"] = oid
        items.append(DirtItem("followups", pos + 2, "customer_id", "orphan", oid))
    for _ in range(count["unknown_choice"]):
        pos = pool.pop()
        fu.at[pos, "channel"] = UNKNOWN_CHOICES[("followups", "channel")][lang_index(lang)]
        items.append(DirtItem("followups", pos + 2, "channel", "unknown_choice", fu.at[pos, "channel"]))
    return items


def purchase_dirt(rng, pu: pd.DataFrame, over: dict, count: dict, lang: str, n_customers: int) -> list[DirtItem]:
    items = []
    need = 4 * count["text_date"] + count["orphan_purchase"] + count["negative_amount"] + count["paid_over_amount"] + count["unknown_choice"]
    pool = [int(i) for i in rng.choice(len(pu), size=min(need, len(pu)), replace=False)]
    for fmt in TEXT_DATE_FORMATS:
        for _ in range(count["text_date"]):
            pos = pool.pop()
            d = pu.at[pos, "date"].date()
            over.setdefault("date", {})[pos] = text_date(d, fmt)
            items.append(DirtItem("purchases", pos + 2, "date", "text_date", text_date(d, fmt), note=f"{fmt}: {d.isoformat()}"))
    for oid in orphan_ids(n_customers + 100, count["orphan_purchase"]):
        pos = pool.pop()
        pu.at[pos, "customer_id"] = oid
        items.append(DirtItem("purchases", pos + 2, "customer_id", "orphan", oid))
    for _ in range(count["negative_amount"]):
        pos = pool.pop()
        pu.at[pos, "amount"] = -abs(pu.at[pos, "amount"])
        items.append(DirtItem("purchases", pos + 2, "amount", "negative_amount", pu.at[pos, "amount"]))
    for _ in range(count["paid_over_amount"]):
        pos = pool.pop()
        pu.at[pos, "paid_amount"] = round(pu.at[pos, "amount"] * 1.2, 2)
        items.append(DirtItem("purchases", pos + 2, "paid_amount", "paid_over_amount", pu.at[pos, "paid_amount"]))
    for _ in range(count["unknown_choice"]):
        pos = pool.pop()
        pu.at[pos, "status"] = UNKNOWN_CHOICES[("purchases", "status")][lang_index(lang)]
        items.append(DirtItem("purchases", pos + 2, "status", "unknown_choice", pu.at[pos, "status"]))
    return items


