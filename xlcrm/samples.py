"""Seeded generator of realistic — and deliberately dirty — xlcrm workbooks.

`generate_sample` builds three frames (Basic Info, Follow-up, Purchases) the way a Chinese SME's
sales team fills them: enterprise and individual customers with company names made of region +
brand syllables + industry word + legal suffix, consistent provinces / cities / postcodes / area
codes, +86 mobiles (13x/15x/18x/19x), landlines, e-mails, five salespeople, a plausible A–E grade
mix (demand, deal status and expected close agree with the grade), created dates over two years,
follow-ups over the last twelve months, purchases with order numbers, amounts, payments, due dates
(some overdue) and statuses. The same seed gives the same data; sizes scale to the benchmark size
M (100k customers / 1M follow-ups / 300k purchases), generated with numpy and written streaming.

Deliberate dirt (`dirt=True`). Counts are per 300 customers: each is multiplied by
`max(1, customers // 300)`. Every item is listed in `Sample.dirt` (sheet, Excel row, column,
kind, value, and for duplicates the Excel row of the original), and `python -m xlcrm.samples`
also writes it beside each workbook as `<name>.dirt.json`.

Basic Info (customers)
- duplicate customers, each a second row for an existing customer (own ID, later created date,
  other salesperson), disguised as:
  `dup_no_suffix` 3 (company without 有限公司 / 股份有限公司 …), `dup_region_paren` 2
  (深圳华鑫科技有限公司 ↔ 华鑫科技（深圳）有限公司), `dup_traditional` 2 (company and contact in
  Traditional characters), `dup_fullwidth` 2 (full-width letters in company and e-mail),
  `dup_mobile_format` 3 (+86 / spaces / dashes in the mobile), `dup_email_upper` 2 (upper-case
  e-mail), `dup_contact_typo` 2 (one character of the contact name changed, mobile left blank);
- `bad_phone_short` 3 and `bad_phone_letters` 2 (mobile), `bad_email_no_at` 2 and
  `bad_email_double_at` 2 (email);
- `text_date` 4 in 建档日期/Created, one per format: 2024-01-05, 2024/1/5, 2024年1月5日, 2024.01.05;
- `missing_id` 4 (new customers at the end with a blank customer ID), `duplicate_id` 1 (a
  different customer carrying an ID that is already used);
- `expected_close_past` 2 (need now, negotiating, expected close already passed),
  `future_date` 1 (created after today), `unknown_choice` 1 (deal status 待定 / Pending).
Follow-up
- `text_date` 4 (one per format), `future_date` 1, `orphan` 3 (customer IDs that do not exist),
  `unknown_choice` 1 (channel 钉钉 / DingTalk).
Purchases
- `text_date` 4, `orphan` 1, `negative_amount` 1, `paid_over_amount` 1, `unknown_choice` 1
  (status 部分付款 / Part paid).

Commands::

    python -m xlcrm.samples --out sample_workbooks          # the committed zh and en samples
    python -m xlcrm.samples --size M --out benchmarks/data  # big benchmark books (never committed)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema
from .samples_service import service_frame
from .samples_vocab import (  # the vocabulary; re-exported here for existing imports
    BRAND_SYLLABLES,
    BUILDINGS,
    CHANNEL_WEIGHTS,
    CITIES,
    GIVEN_CHARS,
    INDUSTRY_WORDS,
    LATIN_BRANDS,
    MOBILE_PREFIXES,
    NEXT_STEPS,
    NOTES,
    OUTCOMES,
    OWNERS,
    PRODUCTS,
    ROADS,
    SEVEN_DIGIT_AREAS,
    SOURCES,
    SUFFIX_WEIGHTS,
    SUFFIXES,
    SUMMARIES,
    SURNAMES,
    TAGS,
    TITLES,
    TYPOS,
)
from .schema import Kind
from .template import write_crm_workbook

TODAY = dt.date(2026, 11, 20)
SIZES = {"S": (300, 2000, 600), "M": (100_000, 1_000_000, 300_000)}
SAMPLE_FILES = {"zh-CN": "xlcrm_sample_zh.xlsx", "en": "xlcrm_sample_en.xlsx"}
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


@dataclass
class Sample:
    """Generated data. Frames use schema keys; dates are datetime64 (a few cells replaced by text
    in `overrides`: sheet key → column key → {row position: text}); choices are labels in `lang`."""

    customers: pd.DataFrame
    followups: pd.DataFrame
    purchases: pd.DataFrame
    lang: str
    owners: list[str]
    overrides: dict[str, dict[str, dict[int, object]]] = field(default_factory=dict)
    dirt: list[DirtItem] = field(default_factory=list)

    def frames(self) -> dict[str, pd.DataFrame]:
        return {"customers": self.customers, "followups": self.followups, "purchases": self.purchases}

    def display_frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The frames as a user would type them: dates as `datetime.date` or text, blanks as None."""
        out = []
        for key, frame in self.frames().items():
            spec = schema.SHEETS_BY_KEY[key]
            df = frame.copy()
            for col in spec.columns:
                s = df[col.key]
                if col.kind is Kind.DATE:
                    vals = [None if pd.isna(v) else v.date() for v in s]
                elif pd.api.types.is_float_dtype(s.dtype):
                    vals = s.to_numpy(dtype=float)
                else:
                    vals = [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in s]
                if col.kind is Kind.DATE or not pd.api.types.is_float_dtype(s.dtype):
                    vals = pd.Series(vals, index=df.index, dtype=object)
                    for pos, v in self.overrides.get(key, {}).get(col.key, {}).items():
                        vals.iloc[pos] = v
                df[col.key] = vals
            out.append(df)
        return out[0], out[1], out[2]

    def dirt_of(self, kind: str, sheet: str | None = None) -> list[DirtItem]:
        return [d for d in self.dirt if d.kind == kind and (sheet is None or d.sheet == sheet)]


# --------------------------------------------------------------------------- helpers


@cache
def _pinyin(text: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(text))


@cache
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def _pick(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _labels(choices: Sequence[schema.Choice], lang: str) -> np.ndarray:
    return np.array([c.label(lang) for c in choices], dtype=object)


def _L(lang: str) -> int:
    return 1 if lang == "en" else 0


def _days(base: dt.date, offsets: np.ndarray) -> np.ndarray:
    """datetime64[ns] array: base + offsets days (NaN offsets → NaT)."""
    out = np.full(len(offsets), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = ~np.isnan(offsets)
    out[ok] = np.datetime64(base, "D") + offsets[ok].astype("int64").astype("timedelta64[D]")
    return out


def _text_date(d: dt.date, fmt: str) -> str:
    return {
        "iso": f"{d.year:04d}-{d.month:02d}-{d.day:02d}",
        "slash": f"{d.year}/{d.month}/{d.day}",
        "chinese": f"{d.year}年{d.month}月{d.day}日",
        "dot": f"{d.year:04d}.{d.month:02d}.{d.day:02d}",
    }[fmt]


def _unique_digits(rng: np.random.Generator, n: int, digits: int, taken: set[int] | None = None) -> np.ndarray:
    """n distinct random integers below 10**digits (retries collisions)."""
    out = np.unique(rng.integers(0, 10**digits, size=int(n * 1.1) + 16))
    rng.shuffle(out)
    while len(out) < n:
        more = rng.integers(0, 10**digits, size=n)
        out = np.unique(np.concatenate([out, more]))
        rng.shuffle(out)
    return out[:n]


# --------------------------------------------------------------------------- customers


def _companies(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Distinct company identities: city, brand, industry word, suffix, name format."""
    want = int(n * 1.3) + 50
    city = _pick(rng, want, [c[7] for c in CITIES])
    syl = np.array(list(BRAND_SYLLABLES), dtype=object)
    b1, b2 = rng.integers(0, len(syl), want), rng.integers(0, len(syl), want)
    brands = syl[b1] + syl[b2]
    latin = rng.random(want) < 0.03
    brands[latin] = np.array(LATIN_BRANDS, dtype=object)[rng.integers(0, len(LATIN_BRANDS), latin.sum())]
    word = rng.integers(0, len(INDUSTRY_WORDS), want)
    core = pd.Series(brands).str.cat([pd.Series(word.astype(str)), pd.Series(city.astype(str))], sep="|")
    keep = ~core.duplicated().to_numpy() & (b1 != b2)
    idx = np.flatnonzero(keep)
    while len(idx) < n:  # extremely unlikely; widen with three-syllable brands
        extra = syl[rng.integers(0, len(syl), want)]
        brands = brands + extra
        core = pd.Series(brands).str.cat([pd.Series(word.astype(str)), pd.Series(city.astype(str))], sep="|")
        idx = np.flatnonzero(~core.duplicated().to_numpy())
    idx = idx[:n]
    return {
        "city": city[idx],
        "brand": brands[idx],
        "word": word[idx],
        "suffix": _pick(rng, n, SUFFIX_WEIGHTS),
        "form": _pick(rng, n, (0.5, 0.25, 0.15, 0.10)),
    }


def _company_name(city: int, brand: str, word: int, suffix: int, form: int) -> str:
    short = CITIES[city][2].removesuffix("市").removesuffix("自治区")
    w, s = INDUSTRY_WORDS[word][0], SUFFIXES[suffix]
    if form == 0:
        return f"{short}{brand}{w}{s}"
    if form == 1:
        return f"{CITIES[city][2]}{brand}{w}{s}"
    if form == 2:
        return f"{brand}{w}（{short}）{s}"
    return f"{brand}{w}{s}"


def _person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    sur = np.array([s for s, _ in SURNAMES], dtype=object)[_pick(rng, n, [w for _, w in SURNAMES])]
    chars = np.array(list(GIVEN_CHARS), dtype=object)
    g1, g2 = chars[rng.integers(0, len(chars), n)], chars[rng.integers(0, len(chars), n)]
    two = rng.random(n) < 0.7
    return np.where(two, sur + g1 + g2, sur + g1)


def _ensure_latin_brands(rng: np.random.Generator, comp: dict, is_company: np.ndarray, k: int) -> None:
    """Make sure at least k companies have a Latin-letter brand (the full-width disguise needs them)."""
    latin = np.array([b.isascii() for b in comp["brand"]]) & is_company
    need = k - int(latin.sum())
    if need <= 0:
        return
    cores = {(b, w, c) for b, w, c in zip(comp["brand"], comp["word"], comp["city"], strict=True)}
    for i in np.flatnonzero(is_company & ~latin)[::7]:
        if need <= 0:
            break
        for j in rng.permutation(len(LATIN_BRANDS)):
            core = (LATIN_BRANDS[j], comp["word"][i], comp["city"][i])
            if core not in cores:
                cores.add(core)
                comp["brand"][i] = LATIN_BRANDS[j]
                need -= 1
                break


def _customers(
    rng: np.random.Generator, n: int, lang: str, today: dt.date, owners: list[str], min_latin: int = 0
) -> tuple[pd.DataFrame, dict]:
    L = _L(lang)
    is_company = rng.random(n) < 0.75
    comp = _companies(rng, n)
    _ensure_latin_brands(rng, comp, is_company, min_latin)
    names = np.array(
        [_company_name(c, b, w, s, f) for c, b, w, s, f in zip(comp["city"], comp["brand"], comp["word"], comp["suffix"], comp["form"], strict=True)],
        dtype=object,
    )
    city = comp["city"]
    contact = _person_names(rng, n)
    contact_py = np.array([_pinyin(x) for x in contact], dtype=object)
    brand_py = np.array([_pinyin(b).lower() for b in comp["brand"]], dtype=object)
    word_py = np.array(["".join(p[0] for p in _pinyin_list(INDUSTRY_WORDS[w][0])) for w in comp["word"]], dtype=object)
    tld = np.array([".com", ".cn", ".com.cn"], dtype=object)[_pick(rng, n, (0.6, 0.2, 0.2))]
    domain = brand_py + word_py + tld

    def blank_unless(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.where(mask, values, None)

    # Mobiles: distinct 11-digit numbers with real prefixes.
    prefixes = np.array(MOBILE_PREFIXES, dtype=object)[rng.integers(0, len(MOBILE_PREFIXES), n)]
    tails = _unique_digits(rng, n, 8)
    mobile = prefixes + np.char.zfill(tails.astype(str), 8).astype(object)
    mobile = pd.Series(mobile)
    dupe = mobile.duplicated()
    while dupe.any():  # same prefix and tail twice: draw a new tail
        mobile[dupe] = prefixes[dupe.to_numpy()] + np.char.zfill(rng.integers(0, 10**8, dupe.sum()).astype(str), 8).astype(object)
        dupe = mobile.duplicated()
    mobile = blank_unless(rng.random(n) < np.where(is_company, 0.93, 0.98), mobile.to_numpy())

    area = np.array([c[5] for c in CITIES], dtype=object)[city]
    # Local numbers have 8 digits, except in the few cities that still use 7 (checked with phonenumbers).
    scale = np.where(np.isin(area, SEVEN_DIGIT_AREAS), 10, 1)
    local_n = (rng.integers(2, 9, n) * 10**7 + rng.integers(0, 10**7, n)) // scale
    local = local_n.astype(str).astype(object)
    phone = blank_unless(rng.random(n) < np.where(is_company, 0.75, 0.15), area + "-" + local)
    local2 = ((rng.integers(2, 9, n) * 10**7 + rng.integers(0, 10**7, n)) // scale).astype(str).astype(object)
    phone2 = blank_unless(rng.random(n) < 0.08, area + "-" + local2)
    fax_local = (local_n + 1).astype(str).astype(object)
    fax = blank_unless(is_company & (rng.random(n) < 0.25), area + "-" + fax_local)

    personal_domain = np.array(["163.com", "126.com", "qq.com", "sina.com", "foxmail.com"], dtype=object)[
        _pick(rng, n, (0.3, 0.15, 0.35, 0.1, 0.1))
    ]
    digits = rng.integers(10, 9999, n).astype(str).astype(object)
    qq = rng.integers(10**7, 10**10, n).astype(str).astype(object)
    personal = np.where(personal_domain == "qq.com", qq, contact_py + digits) + "@" + personal_domain
    email = pd.Series(np.where(is_company, contact_py + "@" + domain, personal))
    rank = email.groupby(email).cumcount().to_numpy()
    email = email.to_numpy()
    again = rank > 0
    email[again] = [e.replace("@", f"{r}@", 1) for e, r in zip(email[again], rank[again], strict=True)]
    email = blank_unless(rng.random(n) < np.where(is_company, 0.8, 0.6), email)
    email2 = blank_unless(is_company & (rng.random(n) < 0.05), "sales@" + domain)
    website = blank_unless(is_company & (rng.random(n) < 0.45), "www." + domain)

    district = np.array([CITIES[c][6][k % len(CITIES[c][6])] for c, k in zip(city, rng.integers(0, 12, n), strict=True)], dtype=object)
    roads = np.array(ROADS, dtype=object)[rng.integers(0, len(ROADS), n)]
    number = rng.integers(1, 999, n).astype(str).astype(object)
    building = np.where(
        rng.random(n) < 0.35,
        np.array(BUILDINGS, dtype=object)[rng.integers(0, len(BUILDINGS), n)]
        + rng.integers(1, 30, n).astype(str).astype(object)
        + "楼",
        "",
    )
    city_zh = np.array([c[2] for c in CITIES], dtype=object)[city]
    address = blank_unless(rng.random(n) < 0.9, city_zh + district + roads + number + "号" + building)
    postcode = blank_unless(
        rng.random(n) < 0.85,
        np.array([c[4] for c in CITIES], dtype=object)[city] + np.char.zfill(rng.integers(0, 100, n).astype(str), 2).astype(object),
    )

    grade = _pick(rng, n, GRADE_WEIGHTS)  # 0..4 = A..E: the truth the other fields agree with
    closed = rng.random(n) < CLOSED_SHARE_BY_GRADE[grade]
    latent_d = (grade == 3) & (rng.random(n) < 0.7)
    demand_code = np.where(grade <= 2, 0, np.where(grade == 3, np.where(latent_d, 1, 0), 2))
    lo = np.array([1, 31, 91, 200, 200])[grade]
    hi = np.array([30, 90, 180, 400, 500])[grade]
    close_in = (lo + rng.random(n) * (hi - lo + 1)).astype(int).astype(float)
    close_in[(grade == 4) | (latent_d & (rng.random(n) < 0.6))] = np.nan
    deal = np.where(closed, 0, np.where(grade <= 2, 1, 2))
    created_ago = rng.integers(0, 730, n).astype(float)

    imp = np.where(rng.random(n) < np.where(closed, 0.2, 0.06), 0, np.where(rng.random(n) < 0.05, 1, 2))
    imp_labels = np.where(rng.random(n) < 0.1, None, _labels(schema.IMPORTANCES, lang)[imp])
    credit = _pick(rng, n, (0.6, 0.3, 0.1))
    credit_labels = np.where(is_company | (rng.random(n) < 0.3), _labels(schema.CREDIT_RATINGS, lang)[credit], None)
    birthday_ago = np.where(~is_company & (rng.random(n) < 0.7), rng.integers(22 * 365, 65 * 365, n), np.nan)
    consent = _pick(rng, n, (0.85, 0.10, 0.05))
    consent_labels = np.append(_labels(schema.YES_NO, lang), None)[consent]
    tag = rng.integers(0, len(TAGS), n)
    tags = blank_unless(rng.random(n) < 0.25, np.array([t[L] for t in TAGS], dtype=object)[tag])
    note = rng.integers(0, len(NOTES), n)
    notes = blank_unless(rng.random(n) < 0.12, np.array([t[L] for t in NOTES], dtype=object)[note])
    override = blank_unless(rng.random(n) < 0.03, _labels(schema.GRADES, lang)[rng.integers(0, 5, n)])
    title = blank_unless(is_company & (rng.random(n) < 0.9), np.array([t[L] for t in TITLES], dtype=object)[rng.integers(0, len(TITLES), n)])
    source = np.array([s[L] for s in SOURCES], dtype=object)[_pick(rng, n, [s[2] for s in SOURCES])]
    source = blank_unless(rng.random(n) < 0.9, source)
    owner = np.array(owners, dtype=object)[_pick(rng, n, (0.24, 0.22, 0.2, 0.18, 0.16))]

    frame = pd.DataFrame(
        {
            "customer_id": np.full(n, None, dtype=object),
            "company": blank_unless(is_company, names),
            "contact": contact,
            "title": title,
            "mobile": mobile,
            "phone": phone,
            "phone2": phone2,
            "fax": fax,
            "email": email,
            "email2": email2,
            "website": website,
            "country": np.full(n, ("中国", "China")[L], dtype=object),
            "province": np.array([c[0 + L] for c in CITIES], dtype=object)[city],
            "city": np.array([c[2 + L] for c in CITIES], dtype=object)[city],
            "address": address,
            "postcode": postcode,
            "industry": blank_unless(is_company, np.array([w[1 + L] for w in INDUSTRY_WORDS], dtype=object)[comp["word"]]),
            "main_products": blank_unless(is_company & (rng.random(n) < 0.8), np.array([w[3 + L] for w in INDUSTRY_WORDS], dtype=object)[comp["word"]]),
            "source": source,
            "owner": owner,
            "customer_type": _labels(schema.CUSTOMER_TYPES, lang)[np.where(is_company, 0, 1)],
            "deal_status": _labels(schema.DEAL_STATUSES, lang)[deal],
            "demand": _labels(schema.DEMANDS, lang)[demand_code],
            "expected_close": _days(today, close_in),
            "importance": imp_labels,
            "credit_rating": credit_labels,
            "birthday": _days(today, -birthday_ago),
            "tags": tags,
            "marketing_consent": consent_labels,
            "notes": notes,
            "created": _days(today, -created_ago),
            "grade_override": override,
        }
    )
    hidden = {"grade": grade, "closed": closed, "is_company": is_company, "comp": comp, "domain": domain}
    return frame, hidden


def _pinyin_list(text: str) -> list[str]:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(text)


# --------------------------------------------------------------------------- duplicates in disguise


def _strip_suffix(name: str) -> str:
    for s in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(s):
            return name[: -len(s)]
    return name


def _disguise(kind: str, row: dict, parts: dict, rng: np.random.Generator) -> dict | None:
    """A duplicate of one customer row, disguised; None if this customer cannot carry that disguise."""
    dup = dict(row)
    company = row["company"]
    if kind in ("dup_no_suffix", "dup_region_paren", "dup_traditional", "dup_fullwidth") and not company:
        return None
    if kind == "dup_no_suffix":
        dup["company"] = _strip_suffix(company)
    elif kind == "dup_region_paren":
        if parts["brand"].isascii():
            return None
        form = 2 if parts["form"] in (0, 1) else 0
        if parts["form"] == 3:
            return None
        dup["company"] = _company_name(parts["city"], parts["brand"], parts["word"], parts["suffix"], form)
    elif kind == "dup_traditional":
        conv = _s2t().convert
        dup["company"], dup["contact"] = conv(company), conv(row["contact"])
        if dup["company"] == company:
            return None
    elif kind == "dup_fullwidth":
        if not parts["brand"].isascii():
            return None
        dup["company"] = _fullwidth(company)
        if row["email"]:
            dup["email"] = _fullwidth(row["email"])
    elif kind == "dup_mobile_format":
        m = row["mobile"]
        if not m:
            return None
        style = int(rng.integers(0, 4))
        dup["mobile"] = (f"+86 {m[:3]} {m[3:7]} {m[7:]}", f"{m[:3]}-{m[3:7]}-{m[7:]}", f"+86-{m}", f"86 {m}")[style]
        dup["email"] = None
    elif kind == "dup_email_upper":
        if not row["email"]:
            return None
        dup["email"] = row["email"].upper()
        dup["mobile"] = None
    elif kind == "dup_contact_typo":
        name = row["contact"]
        spots = [i for i, ch in enumerate(name) if i > 0 and ch in TYPOS]
        if not spots or not company:
            return None
        i = spots[-1]
        dup["contact"] = name[:i] + TYPOS[name[i]] + name[i + 1 :]
        dup["mobile"] = None
    if kind in ("dup_no_suffix", "dup_region_paren", "dup_traditional") and rng.random() < 0.5:
        dup["email"] = None  # typed by someone who only had the card's company name and phone
    return dup


# --------------------------------------------------------------------------- the generator


def generate_sample(
    customers: int = 300,
    followups: int = 2000,
    purchases: int = 600,
    *,
    lang: str = "zh-CN",
    seed: int = 7,
    today: dt.date = TODAY,
    dirt: bool = True,
) -> Sample:
    """Generate a seeded sample (same arguments → same data). Sizes are exact row counts."""
    if lang not in schema.LANGS:
        raise ValueError(f"lang must be one of {schema.LANGS}")
    rng = np.random.default_rng(seed)
    owners = OWNERS[lang]
    factor = max(1, customers // 300)
    count = {k: (v * factor if dirt else 0) for k, v in DIRT_PER_300.items()}
    dup_kinds = [k for k in count if k.startswith("dup_")]
    n_dups = sum(count[k] for k in dup_kinds)
    n_base = customers - n_dups - count["missing_id"]
    if n_base < max(20, 2 * n_dups):
        raise ValueError("too few customers for the requested dirt / 客户数量太少")
    base, hidden = _customers(rng, n_base, lang, today, owners, min_latin=3 * count["dup_fullwidth"])
    items: list[DirtItem] = []

    # Duplicates: a second row for an existing customer, typed later by someone else.
    dup_rows, dup_meta = [], []
    used: set[int] = set()
    order = rng.permutation(n_base)
    records = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()} for r in base.to_dict("records")]
    for kind in dup_kinds:
        made = 0
        for pos in order:
            if made == count[kind]:
                break
            if pos in used:
                continue
            parts = {k: hidden["comp"][k][pos] for k in ("city", "brand", "word", "suffix", "form")}
            dup = _disguise(kind, records[pos], parts, rng)
            if dup is None:
                continue
            used.add(int(pos))
            later = min(int(rng.integers(10, 300)), max(1, int((today - records[pos]["created"].date()).days) - 1))
            dup["created"] = records[pos]["created"] + pd.Timedelta(days=later)
            dup["owner"] = owners[(owners.index(records[pos]["owner"]) + 1 + int(rng.integers(0, 4))) % len(owners)]
            dup_rows.append(dup)
            dup_meta.append((kind, int(pos)))
            made += 1
        if made < count[kind]:
            raise ValueError(f"could not make {count[kind]} {kind} duplicates")
    grade = hidden["grade"]
    frame = pd.concat([base, pd.DataFrame(dup_rows, columns=base.columns)], ignore_index=True) if dup_rows else base
    grade = np.concatenate([grade, np.array([grade[p] for _, p in dup_meta], dtype=int)])
    source_of = np.concatenate([np.full(n_base, -1), np.array([p for _, p in dup_meta], dtype=int)])
    kind_of = np.array([""] * n_base + [k for k, _ in dup_meta], dtype=object)
    order = np.argsort(frame["created"].to_numpy(), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    grade, source_of, kind_of = grade[order], source_of[order], kind_of[order]
    position_of_base = np.empty(n_base, dtype=int)
    is_base = source_of == -1
    position_of_base[order[is_base]] = np.flatnonzero(is_base)
    ids = np.array([f"C{i:06d}" for i in range(1, len(frame) + 1)], dtype=object)
    frame["customer_id"] = ids
    for pos in np.flatnonzero(~is_base):
        column = DUP_COLUMN[str(kind_of[pos])]
        items.append(DirtItem("customers", int(pos) + 2, column, str(kind_of[pos]), frame.at[pos, column],
                              of_row=int(position_of_base[source_of[pos]]) + 2))

    # New customers typed at the end without an ID.
    if count["missing_id"]:
        new, _ = _customers(rng, count["missing_id"], lang, today, owners)
        new["customer_id"] = None
        new["created"] = _days(today, -rng.integers(0, 10, len(new)).astype(float))
        start = len(frame)
        frame = pd.concat([frame, new], ignore_index=True)
        grade = np.concatenate([grade, np.full(len(new), 3)])
        for i in range(len(new)):
            items.append(DirtItem("customers", start + i + 2, "customer_id", "missing_id", None))

    n = len(frame)
    overrides: dict[str, dict[str, dict[int, object]]] = {"customers": {}, "followups": {}, "purchases": {}}
    # Customers eligible for cell dirt: originals of nothing, not duplicates, with an ID.
    originals = {int(position_of_base[p]) for _, p in dup_meta}
    pool = [int(i) for i in rng.permutation(n_base + n_dups) if is_base[i] and int(i) not in originals]
    take = pool.pop

    def cust(kind: str, column: str, value: object, pos: int | None = None, **kw) -> None:
        pos = take() if pos is None else pos
        if column == "created" and isinstance(value, str):
            overrides["customers"].setdefault("created", {})[pos] = value
        else:
            frame.at[pos, column] = value
        items.append(DirtItem("customers", pos + 2, column, kind, value, **kw))

    for _ in range(count["bad_phone_short"]):
        pos = next(p for p in reversed(pool) if isinstance(frame.at[p, "mobile"], str))
        pool.remove(pos)
        cust("bad_phone_short", "mobile", frame.at[pos, "mobile"][: int(rng.integers(5, 9))], pos)
    for _ in range(count["bad_phone_letters"]):
        pos = next(p for p in reversed(pool) if isinstance(frame.at[p, "mobile"], str))
        pool.remove(pos)
        m = frame.at[pos, "mobile"]
        k = int(rng.integers(3, 10))
        cust("bad_phone_letters", "mobile", m[:k] + "O" + m[k + 1 :] if rng.random() < 0.5 else m[:k] + "l" + m[k + 1 :], pos)
    for kind, fix in (("bad_email_no_at", lambda e: e.replace("@", ".", 1)), ("bad_email_double_at", lambda e: e.replace("@", "@@", 1))):
        for _ in range(count[kind]):
            pos = next(p for p in reversed(pool) if isinstance(frame.at[p, "email"], str))
            pool.remove(pos)
            cust(kind, "email", fix(frame.at[pos, "email"]), pos)
    for fmt in TEXT_DATE_FORMATS:
        for _ in range(count["text_date"]):
            pos = take()
            d = frame.at[pos, "created"].date()
            cust("text_date", "created", _text_date(d, fmt), pos, note=f"{fmt}: {d.isoformat()}")
    for _ in range(count["duplicate_id"]):
        pos, other = take(), take()
        pool.append(other)
        cust("duplicate_id", "customer_id", frame.at[other, "customer_id"], pos, of_row=other + 2)
    for _ in range(count["expected_close_past"]):
        pos = take()
        frame.at[pos, "demand"] = schema.choice_label(schema.DEMANDS, "target", lang)
        frame.at[pos, "deal_status"] = schema.choice_label(schema.DEAL_STATUSES, "negotiating", lang)
        cust("expected_close_past", "expected_close", pd.Timestamp(today - dt.timedelta(days=int(rng.integers(10, 90)))))
    for _ in range(count["future_date"]):
        cust("future_date", "created", pd.Timestamp(today + dt.timedelta(days=int(rng.integers(20, 60)))))
    for _ in range(count["unknown_choice"]):
        cust("unknown_choice", "deal_status", UNKNOWN_CHOICES[("customers", "deal_status")][_L(lang)])

    fu = _followups(rng, followups, frame, grade, lang, today, owners)
    pu = _purchases(rng, purchases, frame, grade, lang, today)
    if dirt:
        items += _followup_dirt(rng, fu, overrides["followups"], count, lang, today, n)
        items += _purchase_dirt(rng, pu, overrides["purchases"], count, lang, n)
    for key, spec in (("customers", schema.CUSTOMERS), ("followups", schema.FOLLOWUPS), ("purchases", schema.PURCHASES)):
        df = {"customers": frame, "followups": fu, "purchases": pu}[key]
        for col in spec.columns:  # every schema column present, computed ones blank
            if col.key not in df:
                df[col.key] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]") if col.kind is Kind.DATE else (
                    np.nan if col.kind in (Kind.MONEY, Kind.NUMBER) else None)
    frame = frame[list(schema.CUSTOMERS.keys)]
    fu, pu = fu[list(schema.FOLLOWUPS.keys)], pu[list(schema.PURCHASES.keys)]
    items.sort(key=lambda d: (d.sheet, d.row, d.column or ""))
    return Sample(frame, fu, pu, lang, owners, {k: v for k, v in overrides.items() if v}, items)


def _followups(rng, m: int, customers: pd.DataFrame, grade: np.ndarray, lang: str, today: dt.date, owners) -> pd.DataFrame:
    L = _L(lang)
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

    channel = _pick(rng, m, CHANNEL_WEIGHTS)
    phrase_lists = [SUMMARIES[c.code] for c in schema.CHANNELS]
    offsets = np.cumsum([0] + [len(p) for p in phrase_lists])
    flat = np.array([p[L] for ps in phrase_lists for p in ps], dtype=object)
    counts = np.diff(offsets)
    summary = flat[offsets[channel] + (rng.random(m) * counts[channel]).astype(int)]
    outcome_index = _pick(rng, m, [o[2] for o in OUTCOMES])
    outcome = np.array([o[L] for o in OUTCOMES], dtype=object)[outcome_index]
    owner_of = customers["owner"].to_numpy()[who]
    by = np.where(rng.random(m) < 0.9, owner_of, np.array(owners, dtype=object)[rng.integers(0, len(owners), m)])
    demand = customers["demand"].to_numpy()[who].copy()
    other = rng.random(m) < 0.05
    demand[other] = _labels(schema.DEMANDS, lang)[rng.integers(0, 3, other.sum())]
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
            "channel": _labels(schema.CHANNELS, lang)[channel],
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


def _purchases(rng, p: int, customers: pd.DataFrame, grade: np.ndarray, lang: str, today: dt.date) -> pd.DataFrame:
    L = _L(lang)
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
        age <= 14, _pick(rng, p, (0.6, 0.4, 0, 0, 0)), _pick(rng, p, (0.05, 0.25, 0.62, 0.05, 0.03))
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
            "status": _labels(schema.ORDER_STATUSES, lang)[status],
        }
    )


def _orphan_ids(n_customers: int, k: int) -> list[str]:
    return [f"C{n_customers + 5000 + i * 7:06d}" for i in range(k)]


def _followup_dirt(rng, fu: pd.DataFrame, over: dict, count: dict, lang: str, today: dt.date, n_customers: int) -> list[DirtItem]:
    items = []
    need = 4 * count["text_date"] + count["future_date"] + count["orphan_followup"] + count["unknown_choice"]
    pool = [int(i) for i in rng.choice(len(fu), size=min(need, len(fu)), replace=False)]
    for fmt in TEXT_DATE_FORMATS:
        for _ in range(count["text_date"]):
            pos = pool.pop()
            d = fu.at[pos, "date"].date()
            over.setdefault("date", {})[pos] = _text_date(d, fmt)
            items.append(DirtItem("followups", pos + 2, "date", "text_date", _text_date(d, fmt), note=f"{fmt}: {d.isoformat()}"))
    for _ in range(count["future_date"]):
        pos = pool.pop()
        fu.at[pos, "date"] = pd.Timestamp(today + dt.timedelta(days=int(rng.integers(20, 60))))
        items.append(DirtItem("followups", pos + 2, "date", "future_date", fu.at[pos, "date"]))
    for oid in _orphan_ids(n_customers, count["orphan_followup"]):
        pos = pool.pop()
        fu.at[pos, "customer_id"] = oid
        items.append(DirtItem("followups", pos + 2, "customer_id", "orphan", oid))
    for _ in range(count["unknown_choice"]):
        pos = pool.pop()
        fu.at[pos, "channel"] = UNKNOWN_CHOICES[("followups", "channel")][_L(lang)]
        items.append(DirtItem("followups", pos + 2, "channel", "unknown_choice", fu.at[pos, "channel"]))
    return items


def _purchase_dirt(rng, pu: pd.DataFrame, over: dict, count: dict, lang: str, n_customers: int) -> list[DirtItem]:
    items = []
    need = 4 * count["text_date"] + count["orphan_purchase"] + count["negative_amount"] + count["paid_over_amount"] + count["unknown_choice"]
    pool = [int(i) for i in rng.choice(len(pu), size=min(need, len(pu)), replace=False)]
    for fmt in TEXT_DATE_FORMATS:
        for _ in range(count["text_date"]):
            pos = pool.pop()
            d = pu.at[pos, "date"].date()
            over.setdefault("date", {})[pos] = _text_date(d, fmt)
            items.append(DirtItem("purchases", pos + 2, "date", "text_date", _text_date(d, fmt), note=f"{fmt}: {d.isoformat()}"))
    for oid in _orphan_ids(n_customers + 100, count["orphan_purchase"]):
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
        pu.at[pos, "status"] = UNKNOWN_CHOICES[("purchases", "status")][_L(lang)]
        items.append(DirtItem("purchases", pos + 2, "status", "unknown_choice", pu.at[pos, "status"]))
    return items


def generate_frames(
    customers: int = 300,
    followups: int = 2000,
    purchases: int = 600,
    *,
    lang: str = "zh-CN",
    seed: int = 7,
    today: dt.date = TODAY,
    dirt: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(customers, followups, purchases) with the values a user would type (see `Sample.display_frames`)."""
    return generate_sample(customers, followups, purchases, lang=lang, seed=seed, today=today, dirt=dirt).display_frames()


def generate_workbook(
    path: Path,
    customers: int = 300,
    followups: int = 2000,
    purchases: int = 600,
    *,
    lang: str = "zh-CN",
    seed: int = 7,
    today: dt.date = TODAY,
    dirt: bool = True,
    manifest: bool = False,
) -> Path:
    """Write a complete sample CRM workbook (template + data). Big sizes stream (constant memory).
    With `manifest`, the dirt list is written beside it as `<stem>.dirt.json`."""
    sample = generate_sample(customers, followups, purchases, lang=lang, seed=seed, today=today, dirt=dirt)
    frames = {**sample.frames(), "service": service_frame(sample.customers, lang, today, seed)}  # 服务记录
    path = write_crm_workbook(Path(path), lang, owners=sample.owners, frames=frames, overrides=sample.overrides)
    if manifest:
        write_manifest(sample, path.with_suffix(".dirt.json"))
    return path


def write_manifest(sample: Sample, path: Path) -> Path:
    data = {
        "lang": sample.lang,
        "rows": {k: len(f) for k, f in sample.frames().items()},
        "dirt": [d.to_json(sample.lang) for d in sample.dirt],
    }
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return Path(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate xlcrm sample workbooks / 生成 xlcrm 示例工作簿")
    parser.add_argument("--out", type=Path, default=Path("sample_workbooks"), help="output folder / 输出文件夹")
    parser.add_argument("--size", choices=sorted(SIZES), default="S", help="S = 300/2,000/600, M = 100k/1M/300k")
    parser.add_argument("--lang", choices=[*schema.LANGS, "both"], default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-dirt", action="store_true", help="clean data / 不加入脏数据")
    args = parser.parse_args(argv)
    langs = list(schema.LANGS) if args.lang in (None, "both") and args.size == "S" else [args.lang or "zh-CN"]
    c, f, p = SIZES[args.size]
    for lang in langs:
        name = SAMPLE_FILES[lang] if args.size == "S" else f"xlcrm_{args.size}_{'en' if lang == 'en' else 'zh'}.xlsx"
        start = time.perf_counter()
        out = generate_workbook(args.out / name, c, f, p, lang=lang, seed=args.seed, dirt=not args.no_dirt, manifest=True)
        print(f"{out}  {out.stat().st_size / 1e6:.1f} MB  {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
