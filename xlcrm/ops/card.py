"""One customer's card (客户卡): basic info, follow-ups, purchases and service records together — the
seed's "查看某客户时，他的基本信息、跟进记录、购买记录就能全都列在一起".

Pure functions over the reader's frames; the command (commands/card.py) lays the result out.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import pandas as pd

from ..errors import XlcrmError
from ..model.book import ROW, CrmBook
from ..schema import SHEETS_BY_KEY, Kind, SheetSpec

NEAR_MATCHES = 5


@dataclass
class Card:
    customer_id: str
    name: str  # company, else contact
    row: int  # Basic Info row
    info: pd.DataFrame  # field, value: every Basic Info column, then the user's own columns
    records: dict[str, pd.DataFrame]  # sheet key → that sheet's rows for the customer, newest first (schema keys)
    duplicates: int  # other Basic Info rows with the same ID (Check reports them)


def _norm_id(value: object) -> str:
    return str(value or "").strip().casefold()


def near_matches(customers: pd.DataFrame, wanted: str, n: int = NEAR_MATCHES) -> list[str]:
    """IDs like `wanted`, then customers whose name contains it: "C000123 某某公司" strings."""
    ids = customers["customer_id"].dropna().astype(str)
    names = customers["company"].where(customers["company"].notna(), customers["contact"]).fillna("").astype(str)
    by_id = dict(zip(ids.str.casefold(), ids.index, strict=True))
    # The same number first (C123 / C000123 / 123), then IDs spelled alike, then names containing the text.
    digits = re.sub(r"\D", "", wanted)
    hits = [i for i, v in ids.items() if digits and re.sub(r"\D", "", v) and int(re.sub(r"\D", "", v)) == int(digits)]
    hits += [by_id[k] for k in difflib.get_close_matches(wanted.casefold(), list(by_id), n=n, cutoff=0.6)
             if by_id[k] not in hits]
    if wanted.strip():
        contains = names[names.str.contains(wanted.strip(), regex=False, case=False)].index
        hits += [i for i in contains if i not in hits]
    return [f"{customers.at[i, 'customer_id'] or '—'} {names.at[i]}".strip() for i in hits[:n]]


def find_customer(customers: pd.DataFrame, customer_id: str) -> pd.Index:
    """The Basic Info rows (index labels) holding `customer_id` (case and spaces ignored), or a bilingual
    error listing near matches."""
    wanted = _norm_id(customer_id)
    ids = customers["customer_id"].map(_norm_id)
    found = customers.index[ids == wanted] if wanted else customers.index[:0]
    if len(found):
        return found
    near = near_matches(customers, str(customer_id or ""))
    raise XlcrmError(
        "在“客户资料”中找不到客户编号“{id}”。{near_zh}",
        "No customer with ID '{id}' on Basic Info. {near_en}",
        id=customer_id, near_zh=("相近的有：" + "；".join(near)) if near else "请检查编号（可在客户资料中复制）。",
        near_en=("Close matches: " + "; ".join(near)) if near else "Check the ID (copy it from Basic Info).",
    )


def _shown(value: object, kind: Kind, spec_col, lang: str) -> object:
    """A value as the card shows it: choice labels, dates as yyyy-mm-dd text, blanks as ""."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return ""
    if kind in (Kind.CHOICE, Kind.BOOL) and spec_col is not None and spec_col.choices:
        for ch in spec_col.choices:
            if ch.code == value:
                return ch.label(lang)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return value


def _records(frame: pd.DataFrame, key: str, customer_id: str) -> pd.DataFrame:
    spec: SheetSpec = SHEETS_BY_KEY[key]
    rows = frame[frame["customer_id"].map(_norm_id) == _norm_id(customer_id)]
    rows = rows.sort_values(["date", ROW], ascending=[False, False], kind="stable", na_position="last")
    return rows[[c.key for c in spec.columns if c.key != "customer_id"] + [ROW]].reset_index(drop=True)


def build_card(book: CrmBook, customer_id: str, lang: str) -> Card:
    """The card of `customer_id` (the first Basic Info row with it), labelled in `lang`; the user's
    own headers are kept where the sheet has the column."""
    customers = book.customers
    found = find_customer(customers, customer_id)
    row = customers.loc[found[0]]
    spec = SHEETS_BY_KEY["customers"]
    info_sheet = book.sheets.get("customers")
    headers = info_sheet.headers if info_sheet is not None else {}
    fields, values = [], []
    for col in spec.columns:
        fields.append(headers.get(col.key) or col.header(lang))
        values.append(_shown(row[col.key], col.kind, col, lang))
    extras = [c for c in customers.columns if c not in spec.keys and c != ROW]
    for name in extras:
        fields.append(str(name))
        values.append(_shown(row[name], Kind.TEXT, None, lang))
    info = pd.DataFrame({"field": fields, "value": values})
    cid = str(row["customer_id"])
    records = {"followups": _records(book.followups, "followups", cid),
               "purchases": _records(book.purchases, "purchases", cid)}
    if book.service is not None:
        records["service"] = _records(book.service, "service", cid)
    name = row["company"] if isinstance(row["company"], str) and row["company"] else (row["contact"] or "")
    return Card(cid, str(name), int(row[ROW]), info, records, len(found) - 1)
