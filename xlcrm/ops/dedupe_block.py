"""Step 2 of duplicate finding: candidate pairs from the blocking keys of `dedupe_comparisons`.

Records sharing a key become candidate pairs. Oversized blocks (a placeholder phone on 5,000 rows)
are compared only with their neighbours after sorting by name (sorted neighbourhood), so the pair
count stays linear in the rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .dedupe_codes import Coded, codes_of, pair_codes
from .dedupe_comparisons import BLOCKING_KEYS, Part
from .dedupe_config import DedupeConfig, Progress


def _part_codes(p: pd.DataFrame, part: Part, coded: Coded) -> np.ndarray:
    if part.prefix is None and part.column in coded.codes:
        return coded.codes[part.column]
    values = p[part.column] if part.prefix is None else p[part.column].str.slice(0, part.prefix)
    return codes_of(values)


def blocking_keys(p: pd.DataFrame, keys: set[str], coded: Coded) -> list[tuple[str, np.ndarray]]:
    """(name, key code per record) — records sharing a key (code ≥ 0) become candidate pairs."""
    out: list[tuple[str, np.ndarray]] = []
    for bk in BLOCKING_KEYS:
        if bk.enabled_by is not None and bk.enabled_by not in keys:
            continue
        codes = _part_codes(p, bk.parts[0], coded)
        for part in bk.parts[1:]:
            codes = pair_codes(codes, _part_codes(p, part, coded))
        if (codes >= 0).any():
            out.append((bk.name, codes))
    return out


def candidate_pairs(p: pd.DataFrame, config: DedupeConfig, progress: Progress | None = None,
                    coded: Coded | None = None) -> np.ndarray:
    """Unique candidate pairs (i < j, positions into `p`) from every blocking key, shape (k, 2)."""
    n = len(p)
    coded = coded if coded is not None else Coded(p)
    sort_name = p["contact_py"].to_numpy(dtype=object) + "|" + p["company"].to_numpy(dtype=object)
    name_rank = pd.factorize(pd.Series(sort_name), sort=True)[0].astype(np.int64)
    ranks = int(name_rank.max(initial=0)) + 1
    chunks: list[np.ndarray] = []
    blocks = blocking_keys(p, set(config.keys), coded)
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
