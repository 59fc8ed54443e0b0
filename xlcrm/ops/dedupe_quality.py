"""A Chinese CRM duplicate set with known truth, to measure matching quality.

Duplicates carry the variants real imports have: legal suffixes swapped or dropped, a region in
brackets or in front, Traditional characters, "+86" / spaces / dashes in phones, upper-case
e-mails, honorifics and spaces in names, homophone typos from pinyin input, missing fields.
Hard negatives sit beside them: people sharing a common surname, and branches of one chain in
different cities. Deterministic for a seed.
"""

from __future__ import annotations

import random
from functools import cache

import pandas as pd

from .dedupe_normalize import CITIES, credit_check_char

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红飞鹏辉斌宇浩凯俊"
BRAND = "华创瑞恒信达鑫盛源泰隆兴宏伟嘉诚博远通润德新安康鼎丰海蓝天星光腾"
TRADES = ("科技", "贸易", "电子", "机械", "实业", "物流", "食品", "建材", "医疗器械", "软件", "纺织", "化工")
SUFFIXES = ("有限公司", "股份有限公司", "有限责任公司", "")
CHAINS = ("麦当劳", "星巴克", "如家酒店", "永辉超市", "海底捞")
# Characters with a homophone that pinyin input methods swap for them.
HOMOPHONES = {"伟": "玮", "芳": "方", "静": "敬", "丽": "莉", "明": "铭", "华": "桦", "信": "鑫", "达": "大", "源": "元",
              "恒": "衡", "博": "波", "杰": "洁", "宇": "雨", "浩": "昊", "兴": "星", "润": "闰", "通": "同"}
PROVINCE_OF = {"深圳": "广东", "广州": "广东", "东莞": "广东", "杭州": "浙江", "宁波": "浙江", "苏州": "江苏", "南京": "江苏",
               "成都": "四川", "武汉": "湖北", "青岛": "山东"}


def _mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def _credit(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + "".join(rng.choice("0123456789") for _ in range(6)) + "".join(rng.choice(alphabet) for _ in range(9))
    return body + credit_check_char(body)


@cache
def _to_traditional():
    try:
        import opencc

        return opencc.OpenCC("s2t")
    except Exception:  # pragma: no cover - OpenCC missing: no Traditional variant
        return None


def _traditional(text: str) -> str:
    conv = _to_traditional()
    return conv.convert(text) if conv else text


def _typo(text: str, rng: random.Random) -> str:
    spots = [k for k, ch in enumerate(text) if ch in HOMOPHONES]
    if not spots:
        return text
    k = rng.choice(spots)
    return text[:k] + HOMOPHONES[text[k]] + text[k + 1:]


def _base(rng: random.Random, n: int) -> list[dict]:
    rows, used = [], set()
    cities = list(PROVINCE_OF)
    while len(rows) < n:
        # 2–3 character brands; 4 once the smaller ones run out (large sets), so generation always ends
        brand = "".join(rng.sample(BRAND, rng.choice((2, 2, 3)) if len(used) < 200_000 else 4))
        trade = rng.choice(TRADES)
        if (brand, trade) in used:
            continue
        used.add((brand, trade))
        city = rng.choice(cities)
        surname = rng.choice(SURNAMES)
        given = "".join(rng.sample(GIVEN, rng.choice((1, 2))))  # one-character names are common
        pinyin_user = f"user{len(rows):05d}"
        rows.append({
            "company": brand + trade + rng.choice(SUFFIXES[:3]),
            "contact": surname + given,
            "mobile": _mobile(rng),
            "email": f"{pinyin_user}@{rng.choice(('qq.com', '163.com', 'example.cn'))}",
            "province": PROVINCE_OF[city],
            "city": city,
            "address": f"{PROVINCE_OF[city]}省{city}市{rng.choice('东西南北中')}山区{rng.choice(BRAND)}{rng.choice(BRAND)}路{rng.randint(1, 999)}号",
            "postcode": f"{rng.randint(100000, 999999)}",
            "统一社会信用代码": _credit(rng) if rng.random() < 0.5 else None,
        })
    return rows


def _variant(row: dict, rng: random.Random) -> dict:
    """A duplicate of `row` as another department would have typed it (2–4 changes)."""
    v = dict(row)
    company = row["company"]
    core = company
    for suf in ("股份有限公司", "有限责任公司", "有限公司"):
        if core.endswith(suf):
            core = core[: -len(suf)]
    changes = rng.sample(["suffix", "bracket", "traditional", "phone", "email", "name", "typo", "missing", "prefix"],
                         rng.randint(2, 4))
    for ch in changes:
        if ch == "suffix":
            v["company"] = core + rng.choice(("有限公司", "股份有限公司", "", " Co., Ltd."))
        elif ch == "bracket":
            v["company"] = f"{core}（{row['city']}）{rng.choice(('有限公司', '公司'))}"
        elif ch == "prefix":
            v["company"] = f"{row['city']}市{v['company']}"
        elif ch == "traditional":
            v["company"] = _traditional(v["company"])
            v["contact"] = _traditional(v["contact"])
        elif ch == "phone":
            m = row["mobile"]
            v["mobile"] = rng.choice((f"+86 {m[:3]} {m[3:7]} {m[7:]}", f"{m[:3]}-{m[3:7]}-{m[7:]}", f"0086{m}", f"+86-{m}"))
        elif ch == "email":
            v["email"] = " " + row["email"].upper() + " "
        elif ch == "name":
            v["contact"] = rng.choice((f"{row['contact'][0]} {row['contact'][1:]}", row["contact"] + rng.choice(("先生", "女士", "经理"))))
        elif ch == "typo":
            v["company"] = _typo(v["company"], rng)
        elif ch == "missing":
            for field in rng.sample(["email", "address", "postcode", "统一社会信用代码", "mobile"], 2):
                v[field] = None
    return v


def chinese_quality_set(n_customers: int = 1000, dup_rate: float = 0.3, seed: int = 7) -> tuple[pd.DataFrame, set[tuple]]:
    """(customers frame, true duplicate pairs as sorted index-label tuples).

    About `dup_rate` of the customers get one or two duplicates; hard negatives are added: people
    sharing a surname (same surname, different given name, own phone) and chain branches
    ("麦当劳（深圳）" vs "麦当劳（广州）", different contacts and phones).
    """
    rng = random.Random(seed)
    base = _base(rng, n_customers)
    rows: list[dict] = []
    group: list[int] = []
    for g, row in enumerate(base):
        rows.append(row)
        group.append(g)
        if rng.random() < dup_rate:
            for _ in range(rng.choice((1, 1, 2))):
                rows.append(_variant(row, rng))
                group.append(g)
    # Hard negatives: same surname and city, different person; chain branches in other cities.
    g = len(base)
    for row in base[: max(1, n_customers // 10)]:
        other = dict(row)
        other.update(company=row["company"][:2] + rng.choice(TRADES) + "有限公司" if rng.random() < 0.3 else
                     "".join(rng.sample(BRAND, 3)) + rng.choice(TRADES) + "有限公司",
                     contact=row["contact"][0] + rng.choice([c for c in GIVEN if c not in row["contact"]]),
                     mobile=_mobile(rng), email=f"other{g}@qq.com", 统一社会信用代码=_credit(rng),
                     address=None, postcode=None)
        rows.append(other)
        group.append(g)
        g += 1
    for brand in CHAINS:
        for city in rng.sample(list(PROVINCE_OF), 4):
            rows.append({"company": f"{brand}（{city}）餐饮有限公司" if rng.random() < 0.5 else f"{city}{brand}有限公司",
                         "contact": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)), "mobile": _mobile(rng),
                         "email": None, "province": PROVINCE_OF[city], "city": city, "address": None,
                         "postcode": None, "统一社会信用代码": _credit(rng)})
            group.append(g)
            g += 1
    frame = pd.DataFrame(rows)
    frame.insert(0, "customer_id", [f"C{k + 1:06d}" for k in range(len(frame))])
    frame["_row"] = range(2, len(frame) + 2)
    truth: set[tuple] = set()
    members: dict[int, list[int]] = {}
    for idx, gg in enumerate(group):
        members.setdefault(gg, []).append(idx)
    for m in members.values():
        for x in range(len(m)):
            for y in range(x + 1, len(m)):
                truth.add((m[x], m[y]))
    return frame, truth


def pair_quality(clusters: list[list], truth: set[tuple]) -> dict[str, float]:
    """Pair precision / recall / F1 of clusters against true pairs (both as sorted label tuples)."""
    predicted = {tuple(sorted((m[x], m[y]))) for m in clusters for x in range(len(m)) for y in range(x + 1, len(m))}
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "predicted": len(predicted), "true": len(truth)}


__all__ = ["CITIES", "chinese_quality_set", "pair_quality"]
