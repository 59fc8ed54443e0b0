"""Step 3 of duplicate finding: score candidate pairs and say why, as `dedupe_comparisons` declares.

Each comparison's similarity is measured over all pairs (or, for a costly one, only over the pairs
whose weight could still reach the threshold), its first holding level's weight is added, and the
evidence is read back from the same table by `pair_reasons`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from ..errors import Msg
from .dedupe_codes import Coded, any_equal, best_token_sim, similarity
from .dedupe_comparisons import COMPARISONS, PRIOR, TF, Comparison, max_weight
from .dedupe_config import DedupeConfig

SCORE_CHUNK = 1_000_000  # candidate pairs scored at a time


def _measure(c: Comparison, cd: Coded, i: np.ndarray, j: np.ndarray,
             workers: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(similarity 0–100 / NaN per pair, the method's flags) of comparison `c` for the pairs (i, j)."""
    col = c.columns[0]
    if c.method == "exact_any":
        agree, comparable = any_equal([cd.codes[k][i] for k in c.columns], [cd.codes[k][j] for k in c.columns])
        s = np.full(len(i), np.nan, dtype=np.float32)
        s[comparable] = 0.0
        s[agree] = 100.0
        return s, {}
    s = similarity(cd.codes[col][i], cd.codes[col][j], cd.values[col], workers, distinct=c.distinct)
    if c.method == "fuzzy":
        return s, {}
    if c.method == "company":  # a homophone typo ("通信"/"通讯" written by ear) counts at least 90
        py_a, py_b = cd.codes["company_pinyin"][i], cd.codes["company_pinyin"][j]
        return np.where(np.isnan(s) | (s >= 90) | ~((py_a == py_b) & (py_a >= 0)), s, 90.0), {}
    if c.method == "contact":
        pa_, pb_ = cd.codes["contact_py"][i], cd.codes["contact_py"][j]
        weak = np.flatnonzero(s < 65)  # only there does "one name part agrees" change the weight
        part = np.zeros(len(s), dtype=np.float32)
        part[weak] = best_token_sim(cd, i[weak], j[weak], workers)  # a swapped or new surname
        one_part = cd.single_part[i] | cd.single_part[j]
        return s, {"contact_pinyin": (pa_ == pb_) & (pa_ >= 0) & (s < 100),
                   "one_part_agrees": (part >= 95) & one_part, "part_similar": part >= 85}
    if c.method == "address":  # a part left out ("28 banks st" / "28 banks st old farm") is no disagreement
        a, b = cd.codes[col][i], cd.codes[col][j]
        return np.fmax(s, similarity(a, b, cd.values[col], workers, fuzz.token_set_ratio)), {}
    raise ValueError(f"unknown comparison method {c.method!r}")


def _level_weight(c: Comparison, s: np.ndarray, flags: dict[str, np.ndarray], tf: np.ndarray | None) -> np.ndarray:
    """The weight of the first level that holds for each pair (0 where none does, e.g. blank)."""
    conditions, weights = [], []
    for lv in c.levels:
        cond = np.ones(len(s), dtype=bool) if lv.min_sim is None else s >= lv.min_sim
        if lv.test is not None:
            cond = cond & flags[lv.test]
        conditions.append(cond)
        weights.append(tf if lv.weight == TF else lv.weight)
    return np.select(conditions, weights, 0.0)


def score_pairs(p: pd.DataFrame, pairs: np.ndarray, config: DedupeConfig, coded: Coded | None = None,
                min_weight: float | None = None) -> pd.DataFrame:
    """Field similarities and the total match weight / score of each candidate pair.

    With `min_weight`, the costly comparisons run only for pairs whose weight could still reach it
    (the rest are below it whatever those fields say; their similarity stays NaN).
    """
    cd = coded if coded is not None else Coded(p)
    i, j = pairs[:, 0], pairs[:, 1]
    n = len(pairs)
    w = np.full(n, PRIOR)
    res: dict[str, np.ndarray] = {"i": i, "j": j}
    agreed: dict[str, np.ndarray] = {}  # agreement of the comparisons another one names as `unless`
    referenced = {c.unless for c in COMPARISONS if c.unless}
    costly = [c for c in COMPARISONS if c.costly]
    for c in COMPARISONS:
        tf = cd.tf[c.name][i] if c.name in cd.tf else None
        # A costly comparison runs only where the weight could still reach the bar (k: those pairs).
        k = None
        if c.costly and min_weight is not None:
            k = np.flatnonzero(w + _most_still(costly[costly.index(c):], cd, i) >= min_weight - 1e-9)
        ik, jk = (i, j) if k is None else (i[k], j[k])
        s, flags = _measure(c, cd, ik, jk, config.workers)
        if c.unless is not None:  # the same evidence is not counted twice
            s = np.where(agreed[c.unless] if k is None else agreed[c.unless][k], np.float32(np.nan), s)
        weight = _level_weight(c, s, flags, tf if k is None or tf is None else tf[k])
        if k is None:
            w += weight
        else:
            w[k] += weight
        full = s if k is None else _spread(s, k, n, np.nan, np.float32)
        if c.column:
            res[c.column] = full
        if c.agree or c.name in referenced:
            same = full == 100
            if c.agree:
                res[c.agree] = same
            if c.name in referenced:
                agreed[c.name] = same
        if c.conflict:
            res[c.conflict] = full == 0
        for flag in c.keep_flags:
            res[flag] = flags[flag] if k is None else _spread(flags[flag], k, n, False, bool)
    res["weight"] = w
    res["score"] = 1.0 / (1.0 + np.exp2(-w))
    return pd.DataFrame(res)


def _most_still(rest: list[Comparison], cd: Coded, i: np.ndarray) -> np.ndarray | float:
    """The most the comparisons `rest` could still add to each pair's weight (the early-rejection bound)."""
    most: np.ndarray | float = 0.0
    for n, r in enumerate(rest):
        m = np.maximum(cd.tf[r.name][i], max_weight(r)) if r.name in cd.tf else max_weight(r)
        most = m if n == 0 else most + m
    return most


def _spread(values: np.ndarray, at: np.ndarray, n: int, fill, dtype) -> np.ndarray:
    out = np.full(n, fill, dtype=dtype)
    out[at] = values
    return out


def min_weight_for(threshold: float) -> float | None:
    """The match weight a score of `threshold` needs (None when every pair needs scoring)."""
    return float(np.log2(threshold / (1.0 - threshold))) if 0 < threshold < 1 else None


# --------------------------------------------------------------------------- reasons


def _reason_chains() -> list[list[tuple]]:
    """The table's reasons grouped by rank (strongest first): each group is a chain of alternatives."""
    chains: dict[int, list[tuple]] = {}
    for c in COMPARISONS:
        for r in c.reasons:
            chains.setdefault(r.rank, []).append((c.column, r.flag, r.min_sim, r.zh, r.en, r.pct))
    return [chains[rank] for rank in sorted(chains)]


_REASON_CHAINS = _reason_chains()  # compiled once: pair_reasons runs for every accepted pair


def pair_reasons(row: dict) -> list[Msg]:
    """Human-readable evidence for one scored pair, strongest first (ranks from `COMPARISONS`)."""
    out: list[Msg] = []
    get = row.get
    for chain in _REASON_CHAINS:
        for column, flag, min_sim, zh, en, pct in chain:
            if flag is not None:
                if not get(flag):
                    continue
            else:
                value = get(column)
                if value is None or not value >= min_sim:  # NaN (blank) is never ≥
                    continue
            if pct is None:
                out.append(Msg(zh, en))
            else:
                value = get(column)
                out.append(Msg(zh, en, {"pct": int(value) if pct == "floor" else int(round(value))}))
            break
    return out


def reasons_text(reasons: list[Msg], lang: str) -> str:
    sep = "; " if lang == "en" else "；"
    return sep.join(m.text(lang) for m in reasons)
