"""What duplicate finding is asked (`DedupeConfig`) and what it answers (`DedupeResult`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ..settings import Settings

# Unknown columns whose header means "unified social credit code" (统一社会信用代码).
CREDIT_HEADERS = ("统一社会信用代码", "社会信用代码", "信用代码", "统一信用代码", "税号", "纳税人识别号", "統一社會信用代碼",
                  "credit code", "uscc", "unified social credit code", "tax id")
# Unknown columns holding a personal or registration ID used as an exact key.
ID_HEADERS = ("身份证号", "身份证号码", "身份證號", "证件号码", "證件號碼", "id card", "id number", "ssn", "soc_sec_id",
              "social security number", "passport")

ALL_KEYS = ("mobile", "email", "credit_code", "id", "company", "contact", "address", "birthday", "postcode", "city")

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class DedupeConfig:
    threshold: float = 0.85
    keys: tuple[str, ...] = ("mobile", "email", "credit_code", "id", "company", "contact", "address", "birthday",
                             "postcode", "city")
    phone_region: str = "CN"
    id_columns: tuple[str, ...] = ()  # extra exact-key columns (besides those found by header)
    credit_columns: tuple[str, ...] = ()
    max_block: int = 16  # blocks up to this size are compared all-pairs …
    window: int = 4  # … larger ones only with this many neighbours in name order
    workers: int = -1  # rapidfuzz threads (-1: all cores)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> DedupeConfig:
        """Threshold and enabled keys come from the Settings sheet; the supporting fields
        (address, birthday, postcode, city, extra IDs) always count when present."""
        enabled = {k for k in settings.dedupe_key_list if k in ALL_KEYS}
        keys = tuple(k for k in ALL_KEYS if k in enabled or k in ("id", "address", "birthday", "postcode", "city"))
        base = dict(threshold=settings.dedupe_threshold, keys=keys, phone_region=settings.phone_region)
        base.update(overrides)
        return cls(**base)


@dataclass
class DedupeResult:
    """Accepted pairs and clusters. Labels are the customers frame's index labels."""

    pairs: pd.DataFrame  # a, b, score, weight, field similarities …, reasons (list[Msg])
    clusters: list[list]  # each a list of index labels, in sheet order; biggest evidence first
    candidates: int = 0  # candidate pairs scored
    seconds: dict[str, float] = field(default_factory=dict)

    def cluster_of(self) -> dict:
        return {label: n for n, members in enumerate(self.clusters) for label in members}

