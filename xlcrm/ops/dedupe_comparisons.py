"""What duplicate matching compares, declared once as data (as splink declares its comparisons).

`COMPARISONS` drives the scoring (`dedupe_score.score_pairs`), the evidence shown to the user
(`pair_reasons`) and the early-rejection bound (the most a costly field can still add);
`BLOCKING_KEYS` drives which records become candidate pairs (`dedupe_block`). To add or tune a
comparison, change one row here — see CONTRIBUTING.md, "How to add a dedupe comparison".

A comparison measures one similarity per pair, 0–100 (NaN where either side is blank; exact
comparisons give 100 or 0), then takes the weight of its first level that holds. Weights are in
bits (Fellegi–Sunter match weights) and are added to `PRIOR`; the score is 1 / (1 + 2^-weight).
"""

from __future__ import annotations

from dataclasses import dataclass

PRIOR = -6.0  # match weight (bits) before any evidence: most candidate pairs are not duplicates

TF = "tf"  # a level weight: the value's own agreement weight, log2(0.9·n / count) — a rare name says more


@dataclass(frozen=True)
class Level:
    """One level of a comparison: it holds when the similarity is ≥ `min_sim` and/or `test` (a flag the
    comparison's method computes) is true; `weight` is bits, or `TF`."""

    weight: float | str
    min_sim: float | None = None
    test: str | None = None


@dataclass(frozen=True)
class Reason:
    """Evidence shown on the Duplicates sheet when the pair reaches `min_sim` or has `flag` set.

    `rank` orders a pair's reasons (strongest evidence first, warnings last); reasons of the same rank
    are alternatives, the first that holds is shown (e.g. "same contact" / "sounds the same" / "80 %"). `{pct}` is the similarity, rounded (`pct="round"`) or cut
    (`pct="floor"`)."""

    rank: int
    zh: str
    en: str
    min_sim: float | None = None
    flag: str | None = None
    pct: str | None = None


@dataclass(frozen=True)
class Comparison:
    """One field comparison.

    method: how the similarity is measured —
      "exact_any"  100 when any column of one record equals any of the other's, 0 when both have a
                   value and none agree;
      "fuzzy"      rapidfuzz ratio of the coded values (`distinct`: each distinct value pair once);
      "company"    fuzzy, and a same-pinyin pair counts at least 90 (a homophone typo);
      "contact"    fuzzy, with the flags `contact_pinyin` (same pinyin, different characters),
                   `one_part_agrees` and `part_similar` (a first/last name part agrees);
      "address"    the better of ratio and token-set ratio (a part left out is no disagreement).
    columns: the prepared columns compared (`exact_any` compares across them).
    column: where the similarity is kept on the pairs frame (None: not kept);
    agree / conflict: boolean columns for similarity 100 / 0;
    unless: the name of an earlier comparison whose agreement makes this one not count (the same
      number found again as "phone" after "mobile");
    costly: compared only for pairs that could still reach the threshold.
    """

    name: str
    method: str
    columns: tuple[str, ...]
    levels: tuple[Level, ...]
    reasons: tuple[Reason, ...] = ()
    column: str | None = None
    agree: str | None = None
    conflict: str | None = None
    unless: str | None = None
    tf_cap: float | None = None  # the highest TF weight, when a level weighs TF
    costly: bool = False
    distinct: bool = False  # score each distinct value pair once (fields with few distinct values)
    keep_flags: tuple[str, ...] = ()  # method flags kept as boolean columns on the pairs frame


# In scoring order: the exact keys, the names, the cheap supporting fields, then the costly ones.
COMPARISONS: tuple[Comparison, ...] = (
    Comparison("mobile", "exact_any", ("mobile",), (Level(9.0, 100), Level(-2.0, 0)), agree="same_mobile",
               reasons=(Reason(30, "同一手机号", "same mobile", flag="same_mobile"),)),
    Comparison("phone", "exact_any", ("mobile", "phone", "phone2"), (Level(6.0, 100),), agree="same_phone",
               unless="mobile", reasons=(Reason(40, "同一电话号码", "same phone number", flag="same_phone"),)),
    Comparison("email", "exact_any", ("email", "email2"), (Level(9.0, 100), Level(-1.5, 0)), agree="same_email",
               reasons=(Reason(50, "同一邮箱", "same e-mail", flag="same_email"),)),
    Comparison("credit_code", "exact_any", ("credit_code",), (Level(12.0, 100), Level(-10.0, 0)),
               agree="same_credit_code", conflict="credit_conflict",
               reasons=(Reason(10, "统一社会信用代码相同", "same credit code", flag="same_credit_code"),
                        Reason(210, "注意：信用代码不同", "note: credit codes differ", flag="credit_conflict"))),
    # IDs get mistyped or replaced in merged sources: disagreement is weak evidence.
    Comparison("id", "fuzzy", ("ext_id",), (Level(10.0, 100), Level(4.0, 85), Level(-2.0, 0)), column="id",
               reasons=(Reason(20, "证件号相同", "same ID number", min_sim=100),
                        Reason(20, "证件号相似 {pct}%", "ID number {pct} % similar", min_sim=85, pct="floor"))),
    Comparison("company", "company", ("company",),
               (Level(TF, 100), Level(4.0, 90), Level(2.0, 80), Level(0.0, 65), Level(-5.0, 0)),
               column="company", tf_cap=9.0,
               reasons=(Reason(60, "公司名称规范化后相同", "same company name after normalisation", min_sim=100),
                        Reason(60, "公司名称规范化后相似度 {pct}%", "company name {pct} % after normalisation",
                               min_sim=65, pct="round"))),
    # Branches of a chain in different cities are different customers.
    Comparison("company_region", "exact_any", ("company_region",), (Level(0.0, 100), Level(-7.0, 0)),
               conflict="region_conflict",
               reasons=(Reason(200, "注意：公司地区不同", "note: company regions differ", flag="region_conflict"),)),
    # Cheap supporting fields (few distinct values): typos happen, so near agreement counts a little.
    Comparison("birthday", "fuzzy", ("birthday",), (Level(6.0, 100), Level(1.5, 75), Level(-2.5, 0)),
               column="birthday", agree="same_birthday", distinct=True,
               reasons=(Reason(100, "生日相同", "same birthday", min_sim=100),)),
    Comparison("postcode", "fuzzy", ("postcode",), (Level(2.0, 100), Level(0.5, 75), Level(-1.0, 0)),
               column="postcode", agree="same_postcode", distinct=True,
               reasons=(Reason(110, "邮编相同", "same postcode", flag="same_postcode"),)),
    Comparison("city", "fuzzy", ("city",), (Level(1.5, 100), Level(0.5, 80), Level(-1.5, 0)),
               column="city", agree="same_city", distinct=True, reasons=(Reason(120, "城市相同", "same city", flag="same_city"),)),
    Comparison("province", "fuzzy", ("province",), (Level(0.5, 100), Level(-1.0, 0)),
               column="province", agree="same_province", distinct=True),
    # A missing name part is no disagreement; a swapped or new surname keeps one part.
    Comparison("contact", "contact", ("contact",),
               (Level(TF, 100), Level(2.5, test="contact_pinyin"), Level(5.0, 90), Level(3.0, 80), Level(0.5, 65),
                Level(1.0, test="one_part_agrees"), Level(-1.0, test="part_similar"), Level(-4.5, 0)),
               column="contact", tf_cap=8.0, costly=True, keep_flags=("contact_pinyin",),
               reasons=(Reason(70, "联系人相同", "same contact", min_sim=100),
                        Reason(70, "联系人拼音相同", "contact sounds the same (pinyin)", flag="contact_pinyin"),
                        Reason(70, "联系人相似度 {pct}%", "contact {pct} % similar", min_sim=70, pct="round"))),
    Comparison("address", "address", ("address",), (Level(4.0, 95), Level(2.5, 85), Level(0.5, 70), Level(-2.0, 0)),
               column="address", agree="same_address", costly=True,
               reasons=(Reason(80, "地址相同", "same address", min_sim=95),
                        Reason(80, "地址相似度 {pct}%", "address {pct} % similar", min_sim=80, pct="round"))),
)

COMPARISON = {c.name: c for c in COMPARISONS}

# The further prepared columns a method reads (besides its own `columns`).
METHOD_COLUMNS = {"company": ("company_pinyin",), "contact": ("contact_py", "contact_first", "contact_last")}


@dataclass(frozen=True)
class Part:
    """One part of a blocking key: a prepared column, or its first `prefix` characters."""

    column: str
    prefix: int | None = None


@dataclass(frozen=True)
class BlockingKey:
    """Records sharing this key (all parts non-blank and equal) become candidate pairs.

    `enabled_by`: the Settings dedupe key that turns it on (None: always, when the data is there)."""

    name: str
    parts: tuple[Part, ...]
    enabled_by: str | None = None


def _key(name: str, *parts: str | Part, enabled_by: str | None = None) -> BlockingKey:
    return BlockingKey(name, tuple(p if isinstance(p, Part) else Part(p) for p in parts), enabled_by)


BLOCKING_KEYS: tuple[BlockingKey, ...] = (
    _key("mobile", "mobile", enabled_by="mobile"),
    _key("phone", "phone", enabled_by="mobile"),
    _key("phone2", "phone2", enabled_by="mobile"),
    _key("email", "email", enabled_by="email"),
    _key("email2", "email2", enabled_by="email"),
    _key("credit_code", "credit_code"),
    _key("ext_id", "ext_id"),
    _key("company", "company", enabled_by="company"),
    _key("company_py", "company_py", "city", enabled_by="company"),  # pinyin initials of the core + city
    _key("contact_py", "contact_py", enabled_by="contact"),
    _key("name_postcode", "contact_key", "postcode", enabled_by="contact"),
    _key("name_city", "contact_key", "city", enabled_by="contact"),
    _key("name_birthday", Part("contact_key", 2), "birthday", enabled_by="contact"),
    _key("birthday_postcode", "birthday", "postcode"),
    _key("address", "address", Part("postcode", 2)),
)


def max_weight(comparison: Comparison) -> float:
    """The largest fixed weight of a comparison's levels (a TF level adds its per-record weight)."""
    return max((lv.weight for lv in comparison.levels if lv.weight != TF), default=0.0)
