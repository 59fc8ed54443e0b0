"""Find duplicate customers: normalise, block, score candidate pairs, cluster.

How it works (no all-pairs comparison, memory bounded by the candidate pairs):
1. every field is normalised (`dedupe_normalize`): company core + branch region, person name,
   phones in E.164, e-mails, address tokens, credit codes with a valid checksum, extra ID columns;
2. *blocking*: records sharing a key (same phone, e-mail, credit code or ID; same company core;
   same name pinyin; name initials + postcode or city; birthday; address) become candidate pairs.
   Oversized blocks (a placeholder phone on 5,000 rows) are compared only with their neighbours
   after sorting by name (sorted neighbourhood), so the pair count stays linear in the rows;
3. each candidate pair is scored field by field with rapidfuzz (`process.cpdist`, C speed, all
   cores); the field scores are added as match weights in bits (Fellegi–Sunter style; an exact
   name agreement weighs more the rarer the name is), turned into a 0–1 score. Fields are held as
   integer codes, so equal values never reach rapidfuzz, and the costly fields (contact, address)
   are compared only for pairs whose weight could still reach the threshold;
4. pairs at or above the threshold are joined into clusters by union-find, strongest pair first,
   never joining two records the user marked "not a duplicate" (with no such pairs this is the
   connected components, found with arrays).

Every accepted pair carries bilingual reasons ("同一手机号 / same mobile", "公司名称规范化后相似度 96% /
company name 96 % after normalisation"). Pure: no I/O; today's date is not needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from ..errors import Msg
from ..settings import Settings
from . import dedupe_normalize as dn

# Unknown columns whose header means "unified social credit code" (统一社会信用代码).
CREDIT_HEADERS = ("统一社会信用代码", "社会信用代码", "信用代码", "统一信用代码", "税号", "纳税人识别号", "統一社會信用代碼",
                  "credit code", "uscc", "unified social credit code", "tax id")
# Unknown columns holding a personal or registration ID used as an exact key.
ID_HEADERS = ("身份证号", "身份证号码", "身份證號", "证件号码", "證件號碼", "id card", "id number", "ssn", "soc_sec_id",
              "social security number", "passport")

ALL_KEYS = ("mobile", "email", "credit_code", "id", "company", "contact", "address", "birthday", "postcode", "city")

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class DedupeConfig:
    threshold: float = 0.85
    keys: tuple[str, ...] = ("mobile", "email", "credit_code", "id", "company", "contact", "address", "birthday",
                             "postcode", "city")
    phone_region: str = "CN"
    id_columns: tuple[str, ...] = ()  # extra exact-key columns (besides those found by header)
    credit_columns: tuple[str, ...] = ()
    max_block: int = 16  # blocks up to this size are compared all-pairs …
    window: int = 4  # … larger ones only with this many neighbours in name order
    workers: int = -1  # rapidfuzz threads (-1: all cores)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> DedupeConfig:
        """Threshold and enabled keys come from the Settings sheet; the supporting fields
        (address, birthday, postcode, city, extra IDs) always count when present."""
        enabled = {k for k in settings.dedupe_key_list if k in ALL_KEYS}
        keys = tuple(k for k in ALL_KEYS if k in enabled or k in ("id", "address", "birthday", "postcode", "city"))
        base = dict(threshold=settings.dedupe_threshold, keys=keys, phone_region=settings.phone_region)
        base.update(overrides)
        return cls(**base)


@dataclass
class DedupeResult:
    """Accepted pairs and clusters. Labels are the customers frame's index labels."""

    pairs: pd.DataFrame  # a, b, score, weight, field similarities …, reasons (list[Msg])
    clusters: list[list]  # each a list of index labels, in sheet order; biggest evidence first
    candidates: int = 0  # candidate pairs scored
    seconds: dict[str, float] = field(default_factory=dict)

    def cluster_of(self) -> dict:
        return {label: n for n, members in enumerate(self.clusters) for label in members}


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


# --------------------------------------------------------------------------- blocking


def _codes_of(values: pd.Series) -> np.ndarray:
    """Dense integer codes of a string column, -1 for ""."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    blank = np.flatnonzero(np.asarray(uniques, dtype=object) == "")
    return np.where(codes == blank[0], -1, codes).astype(np.int64) if len(blank) else codes.astype(np.int64)


def _both(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Codes of the pair (a, b) — the key "a|b" — or -1 where either is blank (integer work, no strings)."""
    joined = np.where((a >= 0) & (b >= 0), a * (int(b.max(initial=0)) + 1) + b, -1)
    codes, _ = pd.factorize(joined)
    return np.where(joined < 0, -1, codes).astype(np.int64)


def _blocking_keys(p: pd.DataFrame, keys: set[str], coded: _Coded) -> list[tuple[str, np.ndarray]]:
    """(name, key code per record) — records sharing a key (code ≥ 0) become candidate pairs."""
    out: list[tuple[str, np.ndarray]] = []
    c = coded.codes

    def add(name: str, codes: np.ndarray) -> None:
        if (codes >= 0).any():
            out.append((name, codes))

    if "mobile" in keys:
        for k in ("mobile", "phone", "phone2"):
            add(k, c[k])
    if "email" in keys:
        add("email", c["email"])
        add("email2", c["email2"])
    add("credit_code", c["credit_code"])
    add("ext_id", c["ext_id"])
    if "company" in keys:
        add("company", c["company"])
        add("company_py", _both(_codes_of(p["company_py"]), c["city"]))
    if "contact" in keys:
        add("contact_py", c["contact_py"])
        contact_key = _codes_of(p["contact_key"])
        add("name_postcode", _both(contact_key, c["postcode"]))
        add("name_city", _both(contact_key, c["city"]))
        add("name_birthday", _both(_codes_of(p["contact_key"].str.slice(0, 2)), c["birthday"]))
    add("birthday_postcode", _both(c["birthday"], c["postcode"]))
    add("address", _both(c["address"], _codes_of(p["postcode"].str.slice(0, 2))))
    return out


def candidate_pairs(p: pd.DataFrame, config: DedupeConfig, progress: Progress | None = None,
                    coded: _Coded | None = None) -> np.ndarray:
    """Unique candidate pairs (i < j, positions into `p`) from every blocking key, shape (k, 2)."""
    n = len(p)
    coded = coded if coded is not None else _Coded(p)
    sort_name = p["contact_py"].to_numpy(dtype=object) + "|" + p["company"].to_numpy(dtype=object)
    name_rank = pd.factorize(pd.Series(sort_name), sort=True)[0].astype(np.int64)
    ranks = int(name_rank.max(initial=0)) + 1
    chunks: list[np.ndarray] = []
    blocks = _blocking_keys(p, set(config.keys), coded)
    for step, (_, key) in enumerate(blocks):
        valid = np.flatnonzero(key >= 0)
        c = key[valid]
        sizes = np.bincount(c)
        shared = sizes[c] >= 2  # a record alone under its key pairs with nobody: leave it out of the sort
        valid, c = valid[shared], c[shared]
        if len(valid) < 2:
            continue
        order = np.argsort(c * ranks + name_rank[valid], kind="stable")  # by key, then by name
        pos = valid[order].astype(np.int64)
        grp = c[order]
        big = sizes[grp] > config.max_block
        limit = min(int(sizes.max()), config.max_block)
        for k in range(1, limit):
            same = grp[:-k] == grp[k:]
            if k > config.window:
                same &= ~big[:-k]
            idx = np.flatnonzero(same)
            if len(idx):  # a pair as one integer lo·n + hi: half the memory of two columns
                a, b = pos[idx], pos[idx + k]
                chunks.append(np.minimum(a, b) * n + np.maximum(a, b))
        if progress:
            progress("block", (step + 1) / len(blocks))
    if not chunks:
        return np.empty((0, 2), dtype=np.int64)
    code = np.concatenate(chunks)
    del chunks
    code.sort()  # in place; sort + neighbour test: faster than np.unique's hashing here
    code = code[np.r_[True, code[1:] != code[:-1]]]
    return np.stack([code // n, code % n], axis=1)


# --------------------------------------------------------------------------- scoring

SCORE_CHUNK = 1_000_000  # candidate pairs scored at a time
PRIOR = -6.0  # match weight (bits) before any evidence: most candidate pairs are not duplicates


def _tf_weight(codes: np.ndarray, cap: float) -> np.ndarray:
    """Agreement weight per record (value codes, -1 blank): log2(0.9·n / count) — a rare name says
    more than 王伟."""
    present = codes >= 0
    counts = np.ones(len(codes))
    counts[present] = np.bincount(codes[present])[codes[present]]
    n = max(int(present.sum()), 2000)  # small books: a name still means about what it means in 2,000
    return np.clip(np.log2(0.9 * n / counts), 1.0, cap)


class _Coded:
    """Every matching field as integer codes (-1 = blank) into its distinct values.

    Scoring compares codes (C-speed integer equality) instead of Python strings; only pairs of
    *different* non-blank values go to rapidfuzz, and fields with few distinct values (city,
    postcode, birthday) score each distinct value pair once. Fields compared across columns
    (mobile/phone/phone2, email/email2, first/last name part) share one code space.
    """

    GROUPS = (("mobile", "phone", "phone2"), ("email", "email2"), ("contact_first", "contact_last"))
    SINGLE = ("credit_code", "ext_id", "company", "company_pinyin", "company_region", "contact", "contact_py", "address",
              "birthday", "postcode", "city", "province")

    def __init__(self, p: pd.DataFrame) -> None:
        self.codes: dict[str, np.ndarray] = {}
        self.values: dict[str, np.ndarray] = {}
        grouped = {c for g in self.GROUPS for c in g}
        for group in self.GROUPS:
            self._add(p, [c for c in group if c in p.columns])
        for c in self.SINGLE:
            if c not in grouped and c in p.columns:
                self._add(p, [c])
        contact = p["contact"].to_numpy(dtype=object)
        self.single_part = ~pd.Series(contact).str.contains(" ", regex=False).fillna(False).to_numpy(dtype=bool)
        self.tf_company = _tf_weight(self.codes["company"], 9.0)
        self.tf_contact = _tf_weight(self.codes["contact"], 8.0)

    def _add(self, p: pd.DataFrame, cols: list[str]) -> None:
        if not cols:
            return
        arr = np.concatenate([p[c].to_numpy(dtype=object) for c in cols])
        codes, uniques = pd.factorize(arr)
        uniques = np.asarray(uniques, dtype=object)
        blank = np.flatnonzero(uniques == "")
        if len(blank):  # "" is missing, not a value: code -1 like NaN
            codes = np.where(codes == blank[0], -1, codes)
        n = len(p)
        for k, c in enumerate(cols):
            self.codes[c] = codes[k * n:(k + 1) * n].astype(np.int64)
            self.values[c] = uniques


def _sim(ca: np.ndarray, cb: np.ndarray, values: np.ndarray, workers: int, scorer=fuzz.ratio,
         distinct: bool = False) -> np.ndarray:
    """Similarity 0–100 of the values coded ca[k] vs cb[k], NaN where either is blank.

    Equal codes are 100 without calling rapidfuzz; `distinct` scores each distinct value pair once.
    """
    out = np.full(len(ca), np.nan, dtype=np.float32)
    both = (ca >= 0) & (cb >= 0)  # CRM fields are often blank: compare only filled pairs
    out[both & (ca == cb)] = 100.0
    diff = np.flatnonzero(both & (ca != cb))
    if not len(diff):
        return out
    a, b = ca[diff], cb[diff]
    inverse = None
    if distinct:  # rapidfuzz scorers are symmetric: (x, y) and (y, x) are one pair
        key = np.minimum(a, b) * len(values) + np.maximum(a, b)
        key, inverse = np.unique(key, return_inverse=True)
        a, b = key // len(values), key % len(values)
    threads = workers if len(a) >= 50_000 else 1  # starting threads costs more than small inputs save
    s = cpdist(values[a].tolist(), values[b].tolist(), scorer=scorer, workers=threads, dtype=np.float32)
    out[diff] = s if inverse is None else s[inverse]
    return out


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


def _best_token_sim(cd: _Coded, i: np.ndarray, j: np.ndarray, workers: int) -> np.ndarray:
    """Best similarity between the first/last name tokens of two records (0 when not comparable)."""
    best = np.zeros(len(i), dtype=np.float32)
    values = cd.values["contact_first"]
    for x in ("contact_first", "contact_last"):
        for y in ("contact_first", "contact_last"):
            s = _sim(cd.codes[x][i], cd.codes[y][j], values, workers)
            best = np.maximum(best, np.nan_to_num(s, nan=0.0))
    return best


def _eq_any(cols_a: list[np.ndarray], cols_b: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(agree, comparable) for multi-valued exact keys (mobile/phone/phone2, email/email2), as codes."""
    agree = np.zeros(len(cols_a[0]), dtype=bool)
    has_a = np.zeros(len(cols_a[0]), dtype=bool)
    has_b = np.zeros(len(cols_a[0]), dtype=bool)
    for a in cols_a:
        has_a |= a >= 0
        for b in cols_b:
            agree |= (a == b) & (a >= 0)
    for b in cols_b:
        has_b |= b >= 0
    return agree, has_a & has_b


ADDRESS_MOST = 4.0  # the largest weight an address agreement adds


def score_pairs(p: pd.DataFrame, pairs: np.ndarray, config: DedupeConfig, coded: _Coded | None = None,
                min_weight: float | None = None) -> pd.DataFrame:
    """Field similarities and the total match weight / score of each candidate pair.

    With `min_weight`, contact and address are compared only for pairs whose weight could still
    reach it (the rest are below it whatever those fields say; their contact/address stay NaN).
    """
    cd = coded if coded is not None else _Coded(p)
    i, j = pairs[:, 0], pairs[:, 1]
    w = np.full(len(pairs), PRIOR)
    res: dict[str, np.ndarray] = {"i": i, "j": j}

    def at(c: str) -> tuple[np.ndarray, np.ndarray]:
        return cd.codes[c][i], cd.codes[c][j]

    def sim(c: str, scorer=fuzz.ratio, distinct: bool = False) -> np.ndarray:
        return _sim(*at(c), cd.values[c], config.workers, scorer, distinct)

    # Exact keys.
    tel_cols = ("mobile", "phone", "phone2")
    mob, mob_cmp = _eq_any([cd.codes["mobile"][i]], [cd.codes["mobile"][j]])
    tel, tel_cmp = _eq_any([cd.codes[k][i] for k in tel_cols], [cd.codes[k][j] for k in tel_cols])
    tel &= ~mob
    w += np.where(mob, 9.0, np.where(mob_cmp, -2.0, 0.0)) + np.where(tel, 6.0, 0.0)
    res["same_mobile"], res["same_phone"] = mob, tel
    em, em_cmp = _eq_any([cd.codes["email"][i], cd.codes["email2"][i]], [cd.codes["email"][j], cd.codes["email2"][j]])
    w += np.where(em, 9.0, np.where(em_cmp, -1.5, 0.0))
    res["same_email"] = em
    a, b = at("credit_code")
    cc_cmp = (a >= 0) & (b >= 0)
    res["same_credit_code"] = cc_cmp & (a == b)
    res["credit_conflict"] = cc_cmp & (a != b)
    w += np.where(res["same_credit_code"], 12.0, np.where(res["credit_conflict"], -10.0, 0.0))
    s = sim("ext_id")
    res["id"] = s
    # IDs get mistyped or replaced in merged sources: disagreement is weak evidence.
    w += np.select([s == 100, s >= 85, s < 85], [10.0, 4.0, -2.0], 0.0)

    # Names: exact agreement weighted by how rare the value is.
    s = sim("company")
    py_a, py_b = at("company_pinyin")
    s = np.where(np.isnan(s) | (s >= 90) | ~((py_a == py_b) & (py_a >= 0)), s, 90.0)  # homophone typo
    tf = cd.tf_company[i]
    res["company"] = s
    w += np.select([s == 100, s >= 90, s >= 80, s >= 65, s < 65], [tf, 4.0, 2.0, 0.0, -5.0], 0.0)
    ra, rb = at("company_region")
    res["region_conflict"] = (ra >= 0) & (rb >= 0) & (ra != rb)
    w += np.where(res["region_conflict"], -7.0, 0.0)

    # Cheap supporting fields first (few distinct values): typos happen, so near agreement counts a little.
    for name, levels in (
        ("birthday", ((100, 6.0), (75, 1.5), (0, -2.5))),
        ("postcode", ((100, 2.0), (75, 0.5), (0, -1.0))),
        ("city", ((100, 1.5), (80, 0.5), (0, -1.5))),
        ("province", ((100, 0.5), (0, -1.0))),
    ):
        s = sim(name, distinct=True)
        res[name] = s
        w += np.select([s >= lo for lo, _ in levels], [wt for _, wt in levels], 0.0)
        res[f"same_{name}"] = s == 100

    # The costly fields (contact, address) only for pairs that could still reach `min_weight`;
    # the others keep NaN there and a weight that stays below it.
    def live(most: np.ndarray | float) -> np.ndarray:
        if min_weight is None:
            return np.arange(len(w))
        return np.flatnonzero(w + most >= min_weight - 1e-9)

    tf = cd.tf_contact[i]
    k = live(np.maximum(tf, 5.0) + ADDRESS_MOST)
    ik, jk = i[k], j[k]
    s = _sim(cd.codes["contact"][ik], cd.codes["contact"][jk], cd.values["contact"], config.workers)
    pa_, pb_ = cd.codes["contact_py"][ik], cd.codes["contact_py"][jk]
    pinyin = (pa_ == pb_) & (pa_ >= 0) & (s < 100)
    weak = np.flatnonzero(s < 65)  # only there does "one name part agrees" change the weight
    part = np.zeros(len(s), dtype=np.float32)
    part[weak] = _best_token_sim(cd, ik[weak], jk[weak], config.workers)  # a swapped or new surname
    one_part = cd.single_part[ik] | cd.single_part[jk]
    w[k] += np.select([s == 100, pinyin, s >= 90, s >= 80, s >= 65, (part >= 95) & one_part, part >= 85, s < 65],
                      [tf[k], 2.5, 5.0, 3.0, 0.5, 1.0, -1.0, -4.5], 0.0)  # a missing name part is no disagreement
    res["contact"] = np.full(len(w), np.nan, dtype=np.float32)
    res["contact"][k] = s
    res["contact_pinyin"] = np.zeros(len(w), dtype=bool)
    res["contact_pinyin"][k] = pinyin

    k = live(ADDRESS_MOST)
    ik, jk = i[k], j[k]
    a, b, values = cd.codes["address"][ik], cd.codes["address"][jk], cd.values["address"]
    s = _sim(a, b, values, config.workers)
    # A part left out ("28 banks st" / "28 banks st old farm") is no disagreement.
    s = np.fmax(s, _sim(a, b, values, config.workers, fuzz.token_set_ratio))
    w[k] += np.select([s >= 95, s >= 85, s >= 70, s >= 0], [4.0, 2.5, 0.5, -2.0], 0.0)
    res["address"] = np.full(len(w), np.nan, dtype=np.float32)
    res["address"][k] = s
    res["same_address"] = res["address"] == 100

    res["weight"] = w
    res["score"] = 1.0 / (1.0 + np.exp2(-w))
    return pd.DataFrame(res)


# --------------------------------------------------------------------------- reasons


def pair_reasons(row: dict) -> list[Msg]:
    """Human-readable evidence for one scored pair, strongest first."""
    out: list[Msg] = []
    if row.get("same_credit_code"):
        out.append(Msg("统一社会信用代码相同", "same credit code"))
    if row.get("id") == 100:
        out.append(Msg("证件号相同", "same ID number"))
    elif row.get("id", np.nan) >= 85:
        out.append(Msg("证件号相似 {pct}%", "ID number {pct} % similar", {"pct": int(row["id"])}))
    if row.get("same_mobile"):
        out.append(Msg("同一手机号", "same mobile"))
    if row.get("same_phone"):
        out.append(Msg("同一电话号码", "same phone number"))
    if row.get("same_email"):
        out.append(Msg("同一邮箱", "same e-mail"))
    c = row.get("company", np.nan)
    if c == 100:
        out.append(Msg("公司名称规范化后相同", "same company name after normalisation"))
    elif c >= 65:
        out.append(Msg("公司名称规范化后相似度 {pct}%", "company name {pct} % after normalisation", {"pct": int(round(c))}))
    k = row.get("contact", np.nan)
    if k == 100:
        out.append(Msg("联系人相同", "same contact"))
    elif row.get("contact_pinyin"):
        out.append(Msg("联系人拼音相同", "contact sounds the same (pinyin)"))
    elif k >= 70:
        out.append(Msg("联系人相似度 {pct}%", "contact {pct} % similar", {"pct": int(round(k))}))
    a = row.get("address", np.nan)
    if a >= 95:
        out.append(Msg("地址相同", "same address"))
    elif a >= 80:
        out.append(Msg("地址相似度 {pct}%", "address {pct} % similar", {"pct": int(round(a))}))
    if row.get("birthday") == 100:
        out.append(Msg("生日相同", "same birthday"))
    if row.get("same_postcode"):
        out.append(Msg("邮编相同", "same postcode"))
    if row.get("same_city"):
        out.append(Msg("城市相同", "same city"))
    if row.get("region_conflict"):
        out.append(Msg("注意：公司地区不同", "note: company regions differ"))
    if row.get("credit_conflict"):
        out.append(Msg("注意：信用代码不同", "note: credit codes differ"))
    return out


def reasons_text(reasons: list[Msg], lang: str) -> str:
    sep = "; " if lang == "en" else "；"
    return sep.join(m.text(lang) for m in reasons)


# --------------------------------------------------------------------------- clustering


def _clusters(n: int, edges: pd.DataFrame, forbidden: set[tuple[int, int]]) -> list[list[int]]:
    """Union-find over positions, strongest edge first; never joins a forbidden pair."""
    parent = list(range(n))
    banned: dict[int, set[int]] = {}
    for a, b in forbidden:
        banned.setdefault(a, set()).add(b)
        banned.setdefault(b, set()).add(a)
    members: dict[int, set[int]] = {}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(edges["i"].to_numpy(), edges["j"].to_numpy(), strict=True):
        ra, rb = find(int(a)), find(int(b))
        if ra == rb:
            continue
        ma, mb = members.get(ra, {ra}), members.get(rb, {rb})
        if banned and any(banned.get(x, set()) & mb for x in ma):
            continue
        if len(ma) < len(mb):
            ra, rb, ma, mb = rb, ra, mb, ma
        parent[rb] = ra
        members[ra] = ma | mb
        members.pop(rb, None)
    return [sorted(m) for m in members.values() if len(m) > 1]


def _components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The smallest member of each position's connected component (array work, no Python loop per edge)."""
    label = np.arange(n)
    while len(i):
        low = np.minimum(label[i], label[j])
        new = label.copy()
        np.minimum.at(new, i, low)
        np.minimum.at(new, j, low)
        new = new[new]  # jump to the label's own label: few rounds even for long chains
        if np.array_equal(new, label):
            break
        label = new
    return label


def _component_clusters(n: int, edges: pd.DataFrame, label_list: list) -> list[list]:
    """Clusters when nothing is forbidden: union-find then gives the connected components, found here
    with arrays. Same order as `_clusters`: strongest pair first, then by first member."""
    i, j = edges["i"].to_numpy(dtype=np.int64), edges["j"].to_numpy(dtype=np.int64)
    comp = _components(n, i, j)
    size = np.bincount(comp, minlength=n)
    members = np.flatnonzero(size[comp] >= 2)
    if not len(members):
        return []
    members = members[np.argsort(comp[members], kind="stable")]  # by cluster, ascending inside
    heads = comp[members]
    starts = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]])
    first = heads[starts]  # a component's label is its smallest member
    best = pd.Series(edges["weight"].to_numpy()).groupby(comp[i]).max()
    strength = best.reindex(first).to_numpy(dtype=float)
    order = np.lexsort((first, -np.nan_to_num(strength, nan=0.0)))
    bounds = np.r_[starts, len(members)]
    return [[label_list[x] for x in members[bounds[k]:bounds[k + 1]]] for k in order]


# --------------------------------------------------------------------------- entry point


def find_duplicates(
    customers: pd.DataFrame,
    config: DedupeConfig = DedupeConfig(),
    *,
    not_duplicates: Iterable[tuple[str, str]] = (),
    new_rows: Iterable | None = None,
    progress: Progress | None = None,
    with_reasons: bool = True,
) -> DedupeResult:
    """Duplicate pairs and clusters among `customers` (a CrmBook customers frame).

    `not_duplicates`: customer-ID pairs the user said are different (never proposed again).
    `new_rows`: index labels of rows added since the last run; when given, only pairs touching one
    of them are scored (the "check new rows" mode — new rows are still compared with everything).
    """
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    p = prepare(customers, config)
    seconds["normalise"] = time.perf_counter() - t0
    if progress:
        progress("normalise", 1.0)

    t = time.perf_counter()
    coded = _Coded(p)  # integer codes of every field, shared by blocking and scoring
    pairs = candidate_pairs(p, config, progress, coded)
    if new_rows is not None:
        is_new = customers.index.isin(list(new_rows))
        pairs = pairs[is_new[pairs[:, 0]] | is_new[pairs[:, 1]]]
    seconds["block"] = time.perf_counter() - t

    t = time.perf_counter()
    # Scored in chunks, keeping only accepted pairs: memory stays bounded however many candidates.
    min_weight = float(np.log2(config.threshold / (1.0 - config.threshold))) if 0 < config.threshold < 1 else None
    kept = []
    for start in range(0, max(len(pairs), 1), SCORE_CHUNK):
        scored = score_pairs(p, pairs[start:start + SCORE_CHUNK], config, coded, min_weight)
        kept.append(scored[scored["score"] >= config.threshold])
        if progress and len(pairs) > SCORE_CHUNK:
            progress("score", min(1.0, (start + SCORE_CHUNK) / len(pairs)))
    accepted = pd.concat(kept, ignore_index=True).sort_values(["weight", "i", "j"], ascending=[False, True, True])
    seconds["score"] = time.perf_counter() - t
    if progress:
        progress("score", 1.0)

    t = time.perf_counter()
    labels = customers.index
    forbidden: set[tuple[int, int]] = set()
    pairs_memory = {tuple(sorted((str(a), str(b)))) for a, b in not_duplicates}
    if pairs_memory and "customer_id" in customers.columns:
        ids = customers["customer_id"].astype(object).where(customers["customer_id"].notna(), "").astype(str).str.strip()
        pos_of: dict[str, list[int]] = {}
        for pos, cid in enumerate(ids.to_numpy()):
            if cid:
                pos_of.setdefault(cid, []).append(pos)
        for a, b in pairs_memory:
            for x in pos_of.get(a, []):
                for y in pos_of.get(b, []):
                    forbidden.add((min(x, y), max(x, y)))
        if forbidden:
            keep = [(int(a), int(b)) not in forbidden for a, b in zip(accepted["i"], accepted["j"], strict=True)]
            accepted = accepted[np.array(keep, dtype=bool)]
    label_list = labels.tolist()
    if forbidden:
        clusters_pos = _clusters(len(customers), accepted, forbidden)
        in_cluster = {x: n for n, m in enumerate(clusters_pos) for x in m}
        accepted = accepted[np.array([in_cluster.get(int(a), -1) == in_cluster.get(int(b), -2)
                                      for a, b in zip(accepted["i"], accepted["j"], strict=True)], dtype=bool)]
        best = accepted.groupby(accepted["i"].map(in_cluster))["weight"].max().to_dict() if len(accepted) else {}
        order = sorted(range(len(clusters_pos)), key=lambda k: (-best.get(k, 0.0), clusters_pos[k][0]))
        clusters = [[label_list[x] for x in clusters_pos[k]] for k in order]
    else:
        clusters = _component_clusters(len(customers), accepted, label_list)

    out = accepted.copy()
    out.insert(0, "a", labels[out["i"].to_numpy()])
    out.insert(1, "b", labels[out["j"].to_numpy()])
    out["reasons"] = [pair_reasons(r) for r in out.to_dict("records")] if with_reasons else [[] for _ in range(len(out))]
    out = out.reset_index(drop=True)
    seconds["cluster"] = time.perf_counter() - t
    if progress:
        progress("cluster", 1.0)
    return DedupeResult(pairs=out, clusters=clusters, candidates=len(pairs), seconds=seconds)


__all__ = [
    "ALL_KEYS", "CREDIT_HEADERS", "ID_HEADERS", "DedupeConfig", "DedupeResult", "candidate_pairs", "find_duplicates",
    "pair_reasons", "prepare", "reasons_text", "score_pairs",
]
