"""Matching fields as integer codes, and the similarity of coded values.

Blocking and scoring compare codes (C-speed integer equality) instead of Python strings; only pairs
of *different* non-blank values go to rapidfuzz.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from .dedupe_comparisons import COMPARISONS, METHOD_COLUMNS


def codes_of(values: pd.Series) -> np.ndarray:
    """Dense integer codes of a string column, -1 for ""."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    blank = np.flatnonzero(np.asarray(uniques, dtype=object) == "")
    return np.where(codes == blank[0], -1, codes).astype(np.int64) if len(blank) else codes.astype(np.int64)


def pair_codes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Codes of the pair (a, b) — the key "a|b" — or -1 where either is blank (integer work, no strings)."""
    joined = np.where((a >= 0) & (b >= 0), a * (int(b.max(initial=0)) + 1) + b, -1)
    codes, _ = pd.factorize(joined)
    return np.where(joined < 0, -1, codes).astype(np.int64)


def tf_weight(codes: np.ndarray, cap: float) -> np.ndarray:
    """Agreement weight per record (value codes, -1 blank): log2(0.9·n / count) — a rare name says
    more than 王伟."""
    present = codes >= 0
    counts = np.ones(len(codes))
    counts[present] = np.bincount(codes[present])[codes[present]]
    n = max(int(present.sum()), 2000)  # small books: a name still means about what it means in 2,000
    return np.clip(np.log2(0.9 * n / counts), 1.0, cap)


class Coded:
    """Every matching field as integer codes (-1 = blank) into its distinct values.

    Scoring compares codes (C-speed integer equality) instead of Python strings; only pairs of
    *different* non-blank values go to rapidfuzz, and fields with few distinct values (city,
    postcode, birthday) score each distinct value pair once. Fields compared across columns
    (mobile/phone/phone2, email/email2, first/last name part) share one code space.
    """

    # Both from the comparison table: what an `exact_any` compares across shares a code space, and so
    # do the name parts the contact method compares crosswise.
    GROUPS = tuple(c.columns for c in COMPARISONS if len(c.columns) > 1) + (("contact_first", "contact_last"),)
    SINGLE = tuple(dict.fromkeys(col for c in COMPARISONS for col in (*c.columns, *METHOD_COLUMNS.get(c.method, ()))))

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
        # Agreement weight per record for the comparisons that weigh an exact match by its rarity.
        self.tf = {c.name: tf_weight(self.codes[c.columns[0]], c.tf_cap) for c in COMPARISONS if c.tf_cap}

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


def similarity(ca: np.ndarray, cb: np.ndarray, values: np.ndarray, workers: int, scorer=fuzz.ratio,
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


def best_token_sim(cd: Coded, i: np.ndarray, j: np.ndarray, workers: int) -> np.ndarray:
    """Best similarity between the first/last name tokens of two records (0 when not comparable)."""
    best = np.zeros(len(i), dtype=np.float32)
    values = cd.values["contact_first"]
    for x in ("contact_first", "contact_last"):
        for y in ("contact_first", "contact_last"):
            s = similarity(cd.codes[x][i], cd.codes[y][j], values, workers)
            best = np.maximum(best, np.nan_to_num(s, nan=0.0))
    return best


def any_equal(cols_a: list[np.ndarray], cols_b: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
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
