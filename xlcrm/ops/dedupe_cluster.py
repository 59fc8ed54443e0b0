"""Step 4 of duplicate finding: join accepted pairs into clusters."""

from __future__ import annotations

import numpy as np
import pandas as pd


def clusters_avoiding(n: int, edges: pd.DataFrame, forbidden: set[tuple[int, int]]) -> list[list[int]]:
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


def components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
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


def component_clusters(n: int, edges: pd.DataFrame, label_list: list) -> list[list]:
    """Clusters when nothing is forbidden: union-find then gives the connected components, found here
    with arrays. Same order as `clusters_avoiding`: strongest pair first, then by first member."""
    i, j = edges["i"].to_numpy(dtype=np.int64), edges["j"].to_numpy(dtype=np.int64)
    comp = components(n, i, j)
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
