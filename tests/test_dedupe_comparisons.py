"""The comparison table is the one place matching is declared: scoring, reasons and blocking follow it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from xlcrm.ops import dedupe_comparisons as dc
from xlcrm.ops import dedupe_score
from xlcrm.ops.dedupe import DedupeConfig, candidate_pairs, find_duplicates, prepare, reasons_text


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    df.insert(0, "customer_id", [f"C{k + 1:06d}" for k in range(len(df))])
    df["_row"] = range(2, len(df) + 2)
    return df


PAIR = [
    {"company": "杭州恒达贸易有限公司", "contact": "李娜", "mobile": "13900001111", "city": "杭州"},
    {"company": "恒达贸易（杭州）有限公司", "contact": "李 娜", "mobile": "+86 139 0000 1111", "city": "杭州市"},
]


def test_every_level_and_reason_is_well_formed():
    names = [c.name for c in dc.COMPARISONS]
    assert len(names) == len(set(names))
    for c in dc.COMPARISONS:
        assert c.levels, c.name
        for lv in c.levels:
            assert lv.min_sim is not None or lv.test is not None, (c.name, lv)
            assert lv.weight == dc.TF or isinstance(lv.weight, float), (c.name, lv)
            if lv.weight == dc.TF:
                assert c.tf_cap, c.name
        thresholds = [lv.min_sim for lv in c.levels if lv.min_sim is not None and lv.test is None]
        assert thresholds == sorted(thresholds, reverse=True), f"{c.name}: levels must go from strict to loose"
        for r in c.reasons:
            assert r.zh and r.en and (r.min_sim is not None or r.flag), (c.name, r)
            assert ("{pct}" in r.zh) == ("{pct}" in r.en) == (r.pct is not None), (c.name, r)
        if c.unless:
            assert names.index(c.unless) < names.index(c.name)
    assert sum(c.costly for c in dc.COMPARISONS) >= 1


def test_a_table_weight_is_what_scoring_adds(monkeypatch):
    df = frame(PAIR)
    before = find_duplicates(df).pairs.iloc[0]
    mobile = dc.COMPARISON["mobile"]
    heavier = dataclasses.replace(mobile, levels=(dc.Level(mobile.levels[0].weight + 3.0, 100), *mobile.levels[1:]))
    table = tuple(heavier if c.name == "mobile" else c for c in dc.COMPARISONS)
    monkeypatch.setattr(dedupe_score, "COMPARISONS", table)
    after = find_duplicates(df).pairs.iloc[0]
    assert after["weight"] == before["weight"] + 3.0


def test_a_table_reason_is_what_the_user_reads(monkeypatch):
    df = frame(PAIR)
    mobile = dc.COMPARISON["mobile"]
    renamed = dataclasses.replace(mobile, reasons=(dc.Reason(30, "手机号一致", "mobile matches", flag="same_mobile"),))
    monkeypatch.setattr(dedupe_score, "COMPARISONS",
                        tuple(renamed if c.name == "mobile" else c for c in dc.COMPARISONS))
    monkeypatch.setattr(dedupe_score, "_REASON_CHAINS", dedupe_score._reason_chains())  # compiled at import
    reasons = find_duplicates(df).pairs.iloc[0]["reasons"]
    assert "手机号一致" in reasons_text(reasons, "zh-CN")
    assert "mobile matches" in reasons_text(reasons, "en")


def test_the_early_rejection_bound_never_drops_a_pair_that_reaches_the_threshold():
    from xlcrm.ops.dedupe_quality import chinese_quality_set

    df, _ = chinese_quality_set(300, seed=2)
    config = DedupeConfig()
    p = prepare(df, config)
    pairs = candidate_pairs(p, config)
    full = dedupe_score.score_pairs(p, pairs, config)
    bar = dedupe_score.min_weight_for(config.threshold)
    bounded = dedupe_score.score_pairs(p, pairs, config, min_weight=bar)
    reach = full["weight"].to_numpy() >= bar
    assert reach.any() and (~reach).any()
    np.testing.assert_array_equal(bounded["weight"].to_numpy()[reach], full["weight"].to_numpy()[reach])
    assert (bounded["weight"].to_numpy()[~reach] < bar).all()


def test_blocking_keys_name_prepared_columns():
    p = prepare(frame(PAIR), DedupeConfig())
    for key in dc.BLOCKING_KEYS:
        for part in key.parts:
            assert part.column in p.columns, (key.name, part.column)
        assert key.enabled_by is None or key.enabled_by in DedupeConfig().keys


def test_comparisons_name_prepared_columns():
    p = prepare(frame(PAIR), DedupeConfig())
    for c in dc.COMPARISONS:
        for col in (*c.columns, *dc.METHOD_COLUMNS.get(c.method, ())):
            assert col in p.columns, (c.name, col)
