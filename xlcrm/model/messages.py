"""Messages that speak to the user: bilingual, and located where the user looks.

Every message exists in zh-CN and en. A location names the sheet, the row number Excel shows and
the column header the user typed, never an internal key or a zero-based index. A `Problem` is one
finding about the user's data (the Issues sheet has one row per Problem).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ..i18n import pick, traditional


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def label(self, lang: str) -> str:
        zh, en = {"error": ("错误", "Error"), "warning": ("警告", "Warning"), "info": ("提示", "Info")}[self.value]
        return pick(lang, zh, en)


@dataclass(frozen=True)
class Location:
    sheet: str | None = None  # sheet name as it is in the workbook
    row: int | None = None  # 1-based, as Excel shows it
    column: str | None = None  # header text as the user sees it (or a column letter)

    def describe(self, lang: str) -> str:
        parts = []
        if lang == "en":
            if self.sheet:
                parts.append(f"sheet '{self.sheet}'")
            if self.row:
                parts.append(f"row {self.row}")
            if self.column:
                parts.append(f"column '{self.column}'")
            return ", ".join(parts)
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.row:
            parts.append(f"第 {self.row} 行")
        if self.column:
            parts.append(f"“{self.column}”欄" if lang == "zh-TW" else f"“{self.column}”列")
        return "，".join(parts)


@dataclass(frozen=True)
class Msg:
    """One message in both languages. `zh` and `en` are format strings over `args`."""

    zh: str
    en: str
    args: dict = field(default_factory=dict)

    def text(self, lang: str) -> str:
        # zh-TW converts the template only: the arguments are the user's values and sheet names, kept as typed.
        template = self.en if lang == "en" else traditional(self.zh) if lang == "zh-TW" else self.zh
        try:
            return template.format(**self.args)
        except (KeyError, IndexError):  # never let a message fail to render
            return template

    def both(self) -> str:
        return f"{self.text('zh-CN')} / {self.text('en')}"


@dataclass(frozen=True)
class Problem:
    """One finding about the user's data (the Issues sheet has one row per Problem)."""

    sheet_key: str  # schema sheet key: customers / followups / purchases / settings
    sheet: str  # sheet name as in the workbook
    row: int  # 1-based sheet row
    column_key: str | None  # schema column key, or None for a whole-row problem
    column: str  # header as the user sees it ("" for a whole row)
    value: object
    message: Msg
    suggestion: Msg | None = None
    severity: Severity = Severity.ERROR
    code: str = ""  # stable machine code, e.g. "bad_phone"; used to test and to sort

    def location(self) -> Location:
        return Location(self.sheet, self.row, self.column or None)
