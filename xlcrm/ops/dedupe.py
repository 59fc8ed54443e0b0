"""Find duplicate customers: normalise, block, score candidate pairs, cluster.

How it works (no all-pairs comparison, memory bounded by the candidate pairs):
1. every field is normalised (`dedupe_prepare`, `dedupe_normalize`): company core + branch region, person name,
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

The steps live in their own modules — `dedupe_prepare`, `dedupe_block`, `dedupe_score`,
`dedupe_cluster` — and what is compared, with which weights and reasons, is one table:
`dedupe_comparisons`. This module runs them in order.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .dedupe_block import candidate_pairs
from .dedupe_cluster import clusters_avoiding, component_clusters
from .dedupe_codes import Coded
from .dedupe_config import ALL_KEYS, CREDIT_HEADERS, ID_HEADERS, DedupeConfig, DedupeResult, Progress
from .dedupe_prepare import prepare
from .dedupe_score import SCORE_CHUNK, min_weight_for, pair_reasons, reasons_text, score_pairs


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
    coded = Coded(p)  # integer codes of every field, shared by blocking and scoring
    pairs = candidate_pairs(p, config, progress, coded)
    if new_rows is not None:
        is_new = customers.index.isin(list(new_rows))
        pairs = pairs[is_new[pairs[:, 0]] | is_new[pairs[:, 1]]]
    seconds["block"] = time.perf_counter() - t

    t = time.perf_counter()
    # Scored in chunks, keeping only accepted pairs: memory stays bounded however many candidates.
    min_weight = min_weight_for(config.threshold)
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
        clusters_pos = clusters_avoiding(len(customers), accepted, forbidden)
        in_cluster = {x: n for n, m in enumerate(clusters_pos) for x in m}
        accepted = accepted[np.array([in_cluster.get(int(a), -1) == in_cluster.get(int(b), -2)
                                      for a, b in zip(accepted["i"], accepted["j"], strict=True)], dtype=bool)]
        best = accepted.groupby(accepted["i"].map(in_cluster))["weight"].max().to_dict() if len(accepted) else {}
        order = sorted(range(len(clusters_pos)), key=lambda k: (-best.get(k, 0.0), clusters_pos[k][0]))
        clusters = [[label_list[x] for x in clusters_pos[k]] for k in order]
    else:
        clusters = component_clusters(len(customers), accepted, label_list)

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
    "ALL_KEYS", "CREDIT_HEADERS", "ID_HEADERS", "DedupeConfig", "DedupeResult", "Progress", "candidate_pairs",
    "find_duplicates", "pair_reasons", "prepare", "reasons_text", "score_pairs",
]
