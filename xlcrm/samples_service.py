"""The sample's Service sheet (服务记录): pre-sale, in-sale and after-sale service, complaints and revisits.

Drawn from a random stream of its own (seed + SEED_OFFSET), so the other three sheets are exactly
what they were before the Service sheet existed. Per 300 customers: about 100 rows, mostly for
customers who bought (after-sale, revisits, complaints), with COMPLAINTS_PAST_SLA complaints still
open past the 3-day SLA and COMPLAINTS_WITHIN_SLA opened in the last two days (not flagged yet).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from . import schema

SEED_OFFSET = 15  # issue 15
ROWS_PER_300 = 100
COMPLAINTS_PAST_SLA = 3  # per 300 customers: open complaints older than the SLA (flagged)
COMPLAINTS_WITHIN_SLA = 2  # per 300 customers: opened in the last two days (not flagged yet)
TYPE_WEIGHTS = (0.15, 0.15, 0.35, 0.12, 0.23)  # schema.SERVICE_TYPES order: presale insale aftersale complaint revisit
DESCRIPTIONS = {
    "presale": (("解答产品参数问题", "Answered product spec questions"), ("提供样品试用", "Sent samples to try"),
                ("现场技术交流", "On-site technical meeting")),
    "insale": (("确认交货时间", "Confirmed the delivery date"), ("协调分批发货", "Arranged split shipments"),
               ("更改开票信息", "Changed invoice details")),
    "aftersale": (("上门安装调试", "On-site installation"), ("更换故障部件", "Replaced a faulty part"),
                  ("远程指导使用", "Remote usage guidance"), ("定期保养", "Scheduled maintenance")),
    "complaint": (("到货外箱破损", "Boxes arrived damaged"), ("交货延迟一周", "Delivery a week late"),
                  ("产品质量问题，要求退换", "Quality problem, asks for a replacement"),
                  ("发票金额有误", "Wrong invoice amount")),
    "revisit": (("满意度回访：满意", "Satisfaction call: satisfied"), ("回访使用情况，反馈良好", "Usage check-in: going well"),
                ("回访：提出改进建议", "Check-in: suggested improvements")),
}


def service_frame(customers: pd.DataFrame, lang: str, today: dt.date, seed: int) -> pd.DataFrame:
    """Service rows for the sample's customers (schema keys; choices as labels in `lang`), by date."""
    rng = np.random.default_rng(seed + SEED_OFFSET)
    factor = max(1, len(customers) // 300)
    n = ROWS_PER_300 * factor
    L = 0 if lang != "en" else 1
    ids = customers["customer_id"].to_numpy()
    has_id = np.flatnonzero(pd.notna(ids))
    who = rng.choice(has_id, size=n)
    kinds = [c.code for c in schema.SERVICE_TYPES]
    kind = rng.choice(len(kinds), size=n, p=TYPE_WEIGHTS)
    today64 = np.datetime64(today, "D")
    created = customers["created"].to_numpy().astype("datetime64[D]")[who]
    lo = np.minimum(np.maximum(np.where(np.isnat(created), today64, created), today64 - np.timedelta64(365, "D")),
                    today64)
    date = lo + (rng.random(n) * ((today64 - lo).astype(int) + 1)).astype(int).astype("timedelta64[D]")
    took = rng.integers(0, 4, n)  # most things are settled within a few days
    resolved = np.minimum(date + took.astype("timedelta64[D]"), today64)
    complaint = kinds.index("complaint")
    # Complaints still open: some past the SLA (flagged), some too recent to flag.
    open_past = rng.choice(n, size=COMPLAINTS_PAST_SLA * factor + COMPLAINTS_WITHIN_SLA * factor, replace=False)
    kind[open_past] = complaint
    past, recent = open_past[:COMPLAINTS_PAST_SLA * factor], open_past[COMPLAINTS_PAST_SLA * factor:]
    sla = int(schema.SETTING_DEFAULTS["complaint_sla_days"])
    date[past] = today64 - rng.integers(sla + 1, sla + 20, len(past)).astype("timedelta64[D]")
    date[recent] = today64 - rng.integers(0, 2, len(recent)).astype("timedelta64[D]")
    resolved = resolved.astype("datetime64[D]")
    resolved[open_past] = np.datetime64("NaT")
    texts = [DESCRIPTIONS[k] for k in kinds]
    pick = rng.random(n)
    description = np.array([texts[k][int(p * len(texts[k]))][L] for k, p in zip(kind, pick, strict=True)], dtype=object)
    handler = customers["owner"].to_numpy()[who]
    order = np.argsort(date, kind="stable")
    frame = pd.DataFrame({
        "customer_id": ids[who],
        "date": date.astype("datetime64[ns]"),
        "type": np.array([c.label(lang) for c in schema.SERVICE_TYPES], dtype=object)[kind],
        "description": description,
        "handler": handler,
        "resolved": resolved.astype("datetime64[ns]"),
    }).iloc[order].reset_index(drop=True)
    return frame[list(schema.SERVICE.keys)]
