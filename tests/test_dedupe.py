"""Duplicate finding: quality on a generated Chinese CRM set, hard negatives, memory, new-rows mode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xlcrm.ops.dedupe import DedupeConfig, candidate_pairs, find_duplicates, prepare, reasons_text
from xlcrm.ops.dedupe_quality import chinese_quality_set, pair_quality
from xlcrm.settings import Settings


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    if "customer_id" not in df:
        df.insert(0, "customer_id", [f"C{k + 1:06d}" for k in range(len(df))])
    df["_row"] = range(2, len(df) + 2)
    return df


def test_quality_on_generated_chinese_set():
    df, truth = chinese_quality_set(800, seed=11)
    result = find_duplicates(df)
    q = pair_quality(result.clusters, truth)
    assert q["true"] > 300
    assert q["f1"] >= 0.98, q
    # no all-pairs comparison: candidates grow with the rows, far below n²/2
    assert result.candidates < 6 * len(df)


def test_variants_are_found_with_reasons():
    df = frame([
        {"company": "深圳市华创科技有限公司", "contact": "王伟", "mobile": "13800138000", "email": "wangwei@qq.com", "city": "深圳"},
        {"company": "華創科技（深圳）股份有限公司", "contact": "王 伟先生", "mobile": "+86 138 0013 8000", "email": " WANGWEI@QQ.COM", "city": "深圳市"},
        {"company": "杭州恒达贸易有限公司", "contact": "李娜", "mobile": "13900001111", "city": "杭州"},
    ])
    result = find_duplicates(df)
    assert result.clusters == [[0, 1]]
    pair = result.pairs.iloc[0]
    assert pair["score"] >= 0.99
    zh = reasons_text(pair["reasons"], "zh-CN")
    en = reasons_text(pair["reasons"], "en")
    assert "同一手机号" in zh and "同一邮箱" in zh and "公司名称规范化后相同" in zh and "联系人相同" in zh
    assert "same mobile" in en and "same company name after normalisation" in en


def test_company_typo_reason_has_percentage():
    df = frame([
        {"company": "北京博远通信设备有限公司", "contact": "张敏", "city": "北京", "address": "北京市海淀区中关村大街27号"},
        {"company": "北京博远通讯设备有限公司", "contact": "张敏", "city": "北京", "address": "北京市海淀区中关村大街27号"},
    ])
    result = find_duplicates(df)
    assert result.clusters == [[0, 1]]
    en = reasons_text(result.pairs.iloc[0]["reasons"], "en")
    assert "company name 83 % after normalisation" in en


def test_common_surname_and_chain_branches_are_not_merged():
    df = frame([
        # same common surname, same city, different people
        {"company": "深圳市华创科技有限公司", "contact": "王伟", "mobile": "13800138000", "city": "深圳"},
        {"company": "深圳市鑫盛贸易有限公司", "contact": "王芳", "mobile": "13800138001", "city": "深圳"},
        {"company": "深圳市博远实业有限公司", "contact": "王磊", "mobile": "13922223333", "city": "深圳"},
        # one chain, different cities: brand name the same after normalisation, regions differ
        {"company": "麦当劳（北京）餐饮有限公司", "contact": "刘洋", "mobile": "13700001111", "city": "北京"},
        {"company": "麦当劳（上海）餐饮有限公司", "contact": "陈静", "mobile": "13600002222", "city": "上海"},
        {"company": "广州麦当劳餐饮有限公司", "contact": "赵强", "mobile": "13500003333", "city": "广州"},
        {"company": "星巴克咖啡（深圳）有限公司", "contact": "周杰", "phone": "0755-88889999", "city": "深圳"},
        {"company": "星巴克咖啡（杭州）有限公司", "contact": "吴娟", "phone": "0571-88889999", "city": "杭州"},
    ])
    result = find_duplicates(df)
    assert result.clusters == []


def test_hard_negatives_in_generated_set_stay_apart():
    df, truth = chinese_quality_set(300, dup_rate=0.0, seed=3)
    assert truth == set()  # only base rows, surname look-alikes and chain branches
    result = find_duplicates(df)
    assert pair_quality(result.clusters, truth)["predicted"] == 0


def test_credit_code_conflict_blocks_merge():
    df = frame([
        {"company": "宁波恒信电子有限公司", "contact": "孙丽", "统一社会信用代码": "91350100M000100Y43"},
        {"company": "宁波恒信电子有限公司", "contact": "孙丽", "统一社会信用代码": "91110108MA01ABCD2Q"},
    ])
    from xlcrm.ops.dedupe_normalize import credit_check_char

    df.loc[1, "统一社会信用代码"] = "91110108MA01ABCD2" + credit_check_char("91110108MA01ABCD2")
    assert find_duplicates(df).clusters == []
    df.loc[1, "统一社会信用代码"] = "91350100m000100y43"  # same code, lower case
    result = find_duplicates(df)
    assert result.clusters == [[0, 1]]
    assert "same credit code" in reasons_text(result.pairs.iloc[0]["reasons"], "en")


def test_not_duplicate_memory_is_respected():
    df = frame([
        {"company": "苏州瑞丰机械有限公司", "contact": "马超", "mobile": "13811112222"},
        {"company": "苏州瑞丰机械有限公司", "contact": "马超", "mobile": "13811112222"},
        {"company": "苏州瑞丰机械股份有限公司", "contact": "马超", "mobile": "13811112222"},
    ])
    assert find_duplicates(df).clusters == [[0, 1, 2]]
    # the user said C000001 and C000003 are different: they are never clustered together again
    result = find_duplicates(df, not_duplicates=[("C000003", "C000001")])
    assert all(not {0, 2} <= set(c) for c in result.clusters)
    assert len(result.clusters) == 1 and len(result.clusters[0]) == 2
    all_apart = [("C000001", "C000002"), ("C000001", "C000003"), ("C000002", "C000003")]
    assert find_duplicates(df, not_duplicates=all_apart).clusters == []


def test_new_rows_mode_only_scores_pairs_with_new_rows():
    df, truth = chinese_quality_set(400, seed=5)
    full = find_duplicates(df)
    new = df.index[100:160]
    partial = find_duplicates(df, new_rows=new)
    assert partial.candidates < full.candidates
    new_set = set(new)
    for a, b in zip(partial.pairs["a"], partial.pairs["b"], strict=True):
        assert a in new_set or b in new_set
    # every full-run pair that touches a new row is found in the new-rows run too
    wanted = {(a, b) for a, b in zip(full.pairs["a"], full.pairs["b"], strict=True) if a in new_set or b in new_set}
    got = set(zip(partial.pairs["a"], partial.pairs["b"], strict=True))
    assert wanted and wanted <= got


def test_threshold_and_keys_from_settings():
    cfg = DedupeConfig.from_settings(Settings(dedupe_threshold=0.95, dedupe_keys="mobile，company"))
    assert cfg.threshold == 0.95
    assert "mobile" in cfg.keys and "company" in cfg.keys and "contact" not in cfg.keys and "email" not in cfg.keys
    df = frame([
        {"company": "甲乙贸易", "contact": "王伟", "email": "a@b.cn"},
        {"company": "丙丁实业", "contact": "王伟", "email": "a@b.cn"},
    ])
    # e-mail and contact are switched off: nothing links these two
    assert find_duplicates(df, cfg).clusters == []
    assert find_duplicates(df).clusters == [[0, 1]]


def test_oversized_block_is_bounded():
    n = 3000
    df = frame([{"company": f"公司{k}", "contact": f"客户{k}", "mobile": "13800000000"} for k in range(n)])
    cfg = DedupeConfig()
    pairs = candidate_pairs(prepare(df, cfg), cfg)
    assert len(pairs) <= n * cfg.window * 3  # a placeholder phone on every row is not n²/2 pairs
    assert len(pairs) and (pairs[:, 0] < pairs[:, 1]).all()
    assert len(np.unique(pairs, axis=0)) == len(pairs)


def test_progress_is_reported():
    seen: list[str] = []
    df, _ = chinese_quality_set(50, seed=1)
    find_duplicates(df, progress=lambda stage, frac: seen.append(stage))
    assert seen[0] == "normalise" and seen[-1] == "cluster" and "score" in seen


@pytest.mark.parametrize("labels", [list(range(10, 13)), ["x", "y", "z"]])
def test_result_uses_frame_labels(labels):
    df = frame([{"company": "华创科技", "contact": "王伟", "mobile": "13800138000"}] * 2 + [{"company": "别的", "contact": "李四"}])
    df.index = labels
    result = find_duplicates(df)
    assert result.clusters == [labels[:2]]
    assert list(result.pairs[["a", "b"]].iloc[0]) == labels[:2]


def test_array_components_equal_union_find_clusters():
    """Without forbidden pairs the array path must give union-find's clusters, in the same order."""
    from xlcrm.ops.dedupe_cluster import clusters_avoiding, component_clusters

    rng = np.random.default_rng(5)
    n = 400
    i = rng.integers(0, n, 300)
    j = rng.integers(0, n, 300)
    keep = i != j
    edges = pd.DataFrame({"i": np.minimum(i, j)[keep], "j": np.maximum(i, j)[keep],
                          "weight": rng.normal(8, 3, keep.sum()).round(1)})
    edges = edges.sort_values(["weight", "i", "j"], ascending=[False, True, True]).reset_index(drop=True)
    labels = [f"L{k}" for k in range(n)]
    clusters_pos = clusters_avoiding(n, edges, set())
    in_cluster = {x: c for c, m in enumerate(clusters_pos) for x in m}
    best = edges.groupby(edges["i"].map(in_cluster))["weight"].max().to_dict()
    order = sorted(range(len(clusters_pos)), key=lambda k: (-best.get(k, 0.0), clusters_pos[k][0]))
    expected = [[labels[x] for x in clusters_pos[k]] for k in order]
    assert len(expected) > 20 and max(len(c) for c in expected) > 3  # chains long enough to need several rounds
    assert component_clusters(n, edges, labels) == expected
