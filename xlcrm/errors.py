"""Errors and problems that speak to the user: bilingual, and located where the user looks.

Every message exists in zh-CN and en. A location names the sheet, the row number Excel shows and
the column header the user typed, never an internal key or a zero-based index.
"""

from __future__ import annotations

from .model.messages import Location, Msg, Problem, Severity  # re-exported: the old import path

__all__ = ["FileRefused", "Location", "Msg", "Problem", "SchemaError", "Severity", "WriteFailed", "XlcrmError"]


class XlcrmError(Exception):
    """An expected problem the user can fix. Nothing has been written when it is raised."""

    exit_code = 2

    def __init__(self, zh: str, en: str, location: Location | None = None, hint: Msg | None = None, **args):
        self.msg = Msg(zh, en, args)
        self.location = location or Location()
        self.hint = hint
        super().__init__(self.render("zh-CN") + "\n" + self.render("en"))

    def render(self, lang: str) -> str:
        where = self.location.describe(lang)
        text = self.msg.text(lang)
        if where:
            text = f"{where}：{text}" if lang != "en" else f"{where}: {text}"
        if self.hint:
            text += ("\n  提示：" if lang != "en" else "\n  Hint: ") + self.hint.text(lang)
        return text


class FileRefused(XlcrmError):
    """The file cannot be read or written safely (locked, encrypted, Strict, .xlsb, not a workbook)."""

    exit_code = 3


class SchemaError(XlcrmError):
    """A sheet or column xlcrm needs is missing or cannot be recognised."""


class WriteFailed(XlcrmError):
    """The written package failed verification; the original file is untouched."""

    exit_code = 4
