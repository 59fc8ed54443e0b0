"""The Settings sheet as a validated model (defaults and labels live in `schema.SETTINGS`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .i18n import choose_lang
from .schema import SETTING_DEFAULTS, YES_NO, match_choice


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    cadence_a: int = Field(SETTING_DEFAULTS["cadence_a"], ge=1, le=3660)
    cadence_b: int = Field(SETTING_DEFAULTS["cadence_b"], ge=1, le=3660)
    cadence_c: int = Field(SETTING_DEFAULTS["cadence_c"], ge=1, le=3660)
    cadence_d: int = Field(SETTING_DEFAULTS["cadence_d"], ge=1, le=3660)
    cadence_e: int = Field(SETTING_DEFAULTS["cadence_e"], ge=1, le=3660)
    window_a: int = Field(SETTING_DEFAULTS["window_a"], ge=1)
    window_b: int = Field(SETTING_DEFAULTS["window_b"], ge=1)
    window_c: int = Field(SETTING_DEFAULTS["window_c"], ge=1)
    abc_cut_a: float = Field(SETTING_DEFAULTS["abc_cut_a"], gt=0, lt=1)
    abc_cut_b: float = Field(SETTING_DEFAULTS["abc_cut_b"], gt=0, le=1)
    stale_days: int = Field(SETTING_DEFAULTS["stale_days"], ge=1)
    phone_region: str = SETTING_DEFAULTS["phone_region"]
    language: Literal["zh-CN", "zh-TW", "en"] = SETTING_DEFAULTS["language"]
    id_prefix: str = SETTING_DEFAULTS["id_prefix"]
    id_digits: int = Field(SETTING_DEFAULTS["id_digits"], ge=1, le=12)
    dedupe_threshold: float = Field(SETTING_DEFAULTS["dedupe_threshold"], gt=0, le=1)
    dedupe_keys: str = SETTING_DEFAULTS["dedupe_keys"]
    backup_keep: int = Field(SETTING_DEFAULTS["backup_keep"], ge=0, le=1000)
    write_protected: bool = SETTING_DEFAULTS["write_protected"]  # write protected sheets, keeping the protection
    # Service & complaints, classifications (issue 15; see schema.SETTINGS for their labels).
    complaint_sla_days: int = Field(SETTING_DEFAULTS["complaint_sla_days"], ge=0, le=3660)
    no_contact_days: int = Field(SETTING_DEFAULTS["no_contact_days"], ge=1, le=3660)
    urgency_urgent_days: int = Field(SETTING_DEFAULTS["urgency_urgent_days"], ge=0)
    urgency_soon_days: int = Field(SETTING_DEFAULTS["urgency_soon_days"], ge=0)
    urgency_normal_days: int = Field(SETTING_DEFAULTS["urgency_normal_days"], ge=0)
    importance_key_revenue: float = Field(SETTING_DEFAULTS["importance_key_revenue"], ge=0)
    loyalty_repeat_orders: int = Field(SETTING_DEFAULTS["loyalty_repeat_orders"], ge=2)
    loyalty_lapsed_days: int = Field(SETTING_DEFAULTS["loyalty_lapsed_days"], ge=1)

    @field_validator("write_protected", mode="before")
    @classmethod
    def _yes_no(cls, v: object) -> bool:
        if isinstance(v, bool):
            return v
        code = match_choice(YES_NO, v)
        if code is None:
            raise ValueError("expected 是/否 or Yes/No")
        return code == "yes"

    @field_validator("language", mode="before")
    @classmethod
    def _lang(cls, v: object) -> str:
        return choose_lang(v)

    @field_validator("phone_region", mode="before")
    @classmethod
    def _region(cls, v: object) -> str:
        return (str(v or "CN").strip().upper() or "CN")[:2]

    @model_validator(mode="after")
    def _ordered(self) -> Settings:
        if not self.window_a <= self.window_b <= self.window_c:
            raise ValueError("window_a ≤ window_b ≤ window_c")
        if self.abc_cut_a > self.abc_cut_b:
            raise ValueError("abc_cut_a ≤ abc_cut_b")
        if not self.urgency_urgent_days <= self.urgency_soon_days <= self.urgency_normal_days:
            raise ValueError("urgency_urgent_days ≤ urgency_soon_days ≤ urgency_normal_days")
        return self

    def cadence(self, grade: str | None) -> int:
        """Days between follow-ups for a grade (unknown grade: D's cadence)."""
        return {
            "A": self.cadence_a,
            "B": self.cadence_b,
            "C": self.cadence_c,
            "D": self.cadence_d,
            "E": self.cadence_e,
        }.get(grade or "", self.cadence_d)

    @property
    def dedupe_key_list(self) -> list[str]:
        return [k.strip() for k in self.dedupe_keys.replace("，", ",").split(",") if k.strip()]
