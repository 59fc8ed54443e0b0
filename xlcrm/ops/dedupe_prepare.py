"""Step 1 of duplicate finding: the normalised matching fields of every customer.

Each field goes through its normaliser (`dedupe_normalize`); the derived keys used by blocking and
scoring (pinyin, name initials, first/last name part) are added here. All strings, "" = missing.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import dedupe_normalize as dn
from .dedupe_config import CREDIT_HEADERS, ID_HEADERS, DedupeConfig

# --------------------------------------------------------------------------- normalised keys


def _find_columns(frame: pd.DataFrame, headers: Iterable[str], explicit: Iterable[str]) -> list[str]:
    wanted = {dn.fold(h).replace(" ", "").replace("_", "") for h in headers}
    found = [c for c in explicit if c in frame.columns]
    for c in frame.columns:
        if isinstance(c, str) and c not in found and dn.fold(c).replace(" ", "").replace("_", "") in wanted:
            found.append(c)
    return found


def prepare(customers: pd.DataFrame, config: DedupeConfig = DedupeConfig()) -> pd.DataFrame:
    """The normalised matching fields of every customer (same index), all strings ("" = missing)."""
    keys = set(config.keys)
    out = pd.DataFrame(index=customers.index)
    empty = pd.Series([""] * len(customers), index=customers.index, dtype=object)

    def use(key: str, column: str | None = None) -> bool:  # an absent column normalises to blanks: skip the work
        return key in keys and (column or key) in customers.columns

    comp = dn.companies_frame(customers["company"]) if use("company") else None
    out["company"] = comp["company"] if comp is not None else empty
    out["company_region"] = comp["company_region"] if comp is not None else empty
    out["company_py"] = dn.pinyin_series(out["company"], initials=True).str.slice(0, 6) if comp is not None else empty
    out["company_pinyin"] = _no_spaces(dn.pinyin_series(out["company"])) if comp is not None else empty

    if use("contact"):
        out["contact"] = dn.persons_series(customers["contact"])
        out["contact_py"] = _no_spaces(dn.pinyin_series(out["contact"]))
        out["contact_init"] = dn.pinyin_series(out["contact"], initials=True)
        out["contact_first"], out["contact_last"] = _name_ends(out["contact"])
        out["contact_key"] = _name_key(out["contact"], out["contact_init"])
    else:
        out["contact"] = out["contact_py"] = out["contact_init"] = empty
        out["contact_first"] = out["contact_last"] = out["contact_key"] = empty

    for k in ("mobile", "phone", "phone2"):
        out[k] = dn.phones_series(customers[k], config.phone_region) if use("mobile", k) else empty
    for k in ("email", "email2"):
        out[k] = dn.emails_series(customers[k]) if use("email", k) else empty

    credit_cols = _find_columns(customers, CREDIT_HEADERS, config.credit_columns) if "credit_code" in keys else []
    out["credit_code"] = _first_nonblank([dn.credit_codes_series(customers[c]) for c in credit_cols], empty)
    id_cols = _find_columns(customers, ID_HEADERS, config.id_columns) if "id" in keys else []
    out["ext_id"] = _first_nonblank([dn.ids_series(customers[c]) for c in id_cols], empty)

    if use("address"):
        addr = dn.addresses_frame(customers["address"])
        out["address"] = addr["address"]
        addr_city = addr["addr_city"]
    else:
        out["address"] = empty
        addr_city = empty
    out["postcode"] = dn.postcodes_series(customers["postcode"]) if use("postcode") else empty
    if "city" in keys:
        city = dn.places_series(customers["city"]) if use("city") else empty
        out["city"] = city.where(city != "", addr_city)
        out["province"] = dn.places_series(customers["province"]) if use("city", "province") else empty
    else:
        out["city"] = out["province"] = empty
    out["birthday"] = _dates(customers["birthday"]) if use("birthday") else empty
    return out


def _no_spaces(series: pd.Series) -> pd.Series:
    arr = pa.array(series.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    out = pc.fill_null(pc.replace_substring(arr, " ", ""), "")
    return pd.Series(out.to_numpy(zero_copy_only=False), index=series.index, dtype=object)


def _first_nonblank(series: list[pd.Series], empty: pd.Series) -> pd.Series:
    result = empty
    for s in reversed(series):
        result = s.where(s != "", result)
    return result


def _dates(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y%m%d").fillna("").astype(object)
    return series.fillna("").astype(str).str.replace(r"\D", "", regex=True).astype(object)



def _name_ends(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    """First and last space-separated token of each name (the whole name when it has no space)."""
    arr = pa.array(names.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    spaced = pc.fill_null(pc.match_substring(arr, " "), False)
    first = pc.if_else(spaced, pc.replace_substring_regex(arr, r" .*$", ""), arr)
    last = pc.if_else(spaced, pc.replace_substring_regex(arr, r"^.* ", ""), arr)
    as_series = lambda a: pd.Series(a.to_numpy(zero_copy_only=False), index=names.index, dtype=object)  # noqa: E731
    return as_series(pc.fill_null(first, "")), as_series(pc.fill_null(last, ""))


def _name_key(names: pd.Series, initials: pd.Series) -> pd.Series:
    """A short blocking key of a name: pinyin initials of a Chinese name ("王小明" → "wxm"), the first
    two letters of each part of a Latin one ("sarah bruhn" → "sabr") — selective, yet typo-tolerant."""
    arr = pa.array(names.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    latin = dn.token_heads(arr, 2)
    chinese = pc.fill_null(pc.match_substring_regex(arr, "[\u3400-\u9fff]"), False)
    init = pa.array(initials.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    out = pc.fill_null(pc.if_else(chinese, init, latin), "")
    return pd.Series(out.to_numpy(zero_copy_only=False), index=names.index, dtype=object)
