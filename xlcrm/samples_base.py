"""The sample generator's shared pieces: dates and weights, the dirt record, small helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache

import numpy as np
import pandas as pd

from . import schema

TODAY = dt.date(2026, 11, 20)
TEXT_DATE_FORMATS = ("iso", "slash", "chinese", "dot")


GRADE_WEIGHTS = (0.08, 0.15, 0.22, 0.33, 0.22)
FOLLOWUP_WEIGHT_BY_GRADE = np.array([12.0, 6.0, 3.5, 1.8, 0.5])
CLOSED_SHARE_BY_GRADE = np.array([0.6, 0.5, 0.4, 0.3, 0.35])
DIRT_PER_300 = {
    "dup_no_suffix": 3, "dup_region_paren": 2, "dup_traditional": 2, "dup_fullwidth": 2, "dup_mobile_format": 3,
    "dup_email_upper": 2, "dup_contact_typo": 2, "bad_phone_short": 3, "bad_phone_letters": 2, "bad_email_no_at": 2,
    "bad_email_double_at": 2, "missing_id": 4, "duplicate_id": 1, "expected_close_past": 2, "future_date": 1,
    "unknown_choice": 1, "text_date": 1,  # text_date: per format and per sheet
    "orphan_followup": 3, "orphan_purchase": 1, "negative_amount": 1, "paid_over_amount": 1,
}
# The column each disguise shows in (the rest of the row repeats the original customer).
DUP_COLUMN = {"dup_no_suffix": "company", "dup_region_paren": "company", "dup_traditional": "company",
              "dup_fullwidth": "company", "dup_mobile_format": "mobile", "dup_email_upper": "email",
              "dup_contact_typo": "contact"}
UNKNOWN_CHOICES = {("customers", "deal_status"): ("待定", "Pending"), ("followups", "channel"): ("钉钉", "DingTalk"),
                   ("purchases", "status"): ("部分付款", "Part paid")}


@dataclass(frozen=True)
class DirtItem:
    """One deliberate fault: where it is (as Excel shows it) and what it is."""

    sheet: str  # schema sheet key: customers / followups / purchases
    row: int  # 1-based Excel row (the header is row 1)
    column: str | None  # schema column key (for a duplicate: the column carrying the disguise)
    kind: str  # e.g. dup_no_suffix, bad_phone_short, text_date, orphan, missing_id …
    value: object = None  # the faulty value as written
    of_row: int | None = None  # duplicates / duplicate_id: the Excel row of the original customer
    note: str = ""

    def to_json(self, lang: str) -> dict:
        d = asdict(self)
        d["sheet_name"] = schema.sheet_name(self.sheet, lang)
        d["header"] = schema.SHEETS_BY_KEY[self.sheet].column(self.column).header(lang) if self.column else ""
        if isinstance(self.value, (dt.date, pd.Timestamp)):
            d["value"] = self.value.isoformat()[:10]
        elif isinstance(self.value, (np.floating, np.integer)):
            d["value"] = self.value.item()
        return d


# --------------------------------------------------------------------------- helpers


@cache
def pinyin_of(text: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(text))


@cache
def s2t():
    import opencc

    return opencc.OpenCC("s2t")


def fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def pick_weighted(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def labels_of(choices: Sequence[schema.Choice], lang: str) -> np.ndarray:
    return np.array([c.label(lang) for c in choices], dtype=object)


def lang_index(lang: str) -> int:
    return 1 if lang == "en" else 0


def days_after(base: dt.date, offsets: np.ndarray) -> np.ndarray:
    """datetime64[ns] array: base + offsets days (NaN offsets → NaT)."""
    out = np.full(len(offsets), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = ~np.isnan(offsets)
    out[ok] = np.datetime64(base, "D") + offsets[ok].astype("int64").astype("timedelta64[D]")
    return out


def text_date(d: dt.date, fmt: str) -> str:
    return {
        "iso": f"{d.year:04d}-{d.month:02d}-{d.day:02d}",
        "slash": f"{d.year}/{d.month}/{d.day}",
        "chinese": f"{d.year}年{d.month}月{d.day}日",
        "dot": f"{d.year:04d}.{d.month:02d}.{d.day:02d}",
    }[fmt]


def unique_digits(rng: np.random.Generator, n: int, digits: int, taken: set[int] | None = None) -> np.ndarray:
    """n distinct random integers below 10**digits (retries collisions)."""
    out = np.unique(rng.integers(0, 10**digits, size=int(n * 1.1) + 16))
    rng.shuffle(out)
    while len(out) < n:
        more = rng.integers(0, 10**digits, size=n)
        out = np.unique(np.concatenate([out, more]))
        rng.shuffle(out)
    return out[:n]


