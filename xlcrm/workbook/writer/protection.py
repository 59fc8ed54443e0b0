"""Sheet and workbook protection: refuse to write what the user locked, unless told to.

A protected sheet (`<sheetProtection sheet="1">`, Review → Protect Sheet) is one the user means
to stay as it is; a structure-locked workbook (`<workbookProtection lockStructure="1">`, Review →
Protect Workbook) one whose sheet list must not change. xlcrm refuses both, naming the sheet,
unless the caller passes `unlock_protected` (CLI `--unlock-protected`, Settings 允许写入受保护的
工作表). Even then the protection element is kept: cells are written, the lock stays.

Excel keeps a `<sheetProtection>` element with no `sheet="1"` on sheets that were protected
once and then unprotected: that sheet is not protected.
"""

from __future__ import annotations

import re

from ...errors import FileRefused, Location, Msg

_SHEET_PROTECTION = re.compile(r"<(?:\w+:)?sheetProtection\b[^>]*?/?>")
_WORKBOOK_PROTECTION = re.compile(rb"<(?:\w+:)?workbookProtection\b[^>]*?/?>")
_TRUE = {"1", "true"}

_HINT = Msg(
    "如确需写入，请加 --unlock-protected，或在“设置”中把“允许写入受保护的工作表”设为“是”（保护会保留）。",
    "To write anyway, pass --unlock-protected, or set 'Write to protected sheets' to Yes on the Settings sheet "
    "(the protection is kept).",
)


def _flag(tag: str, attr: str) -> bool:
    m = re.search(rf'\b{attr}\s*=\s*["\']([^"\']*)["\']', tag)
    return bool(m) and m.group(1).strip().lower() in _TRUE


def sheet_protection(tail: str | bytes) -> str | None:
    """The `<sheetProtection …/>` element of a sheet (the XML after `</sheetData>`) if it protects
    the sheet, else None."""
    text = tail.decode("utf-8") if isinstance(tail, bytes) else tail
    m = _SHEET_PROTECTION.search(text)
    return m.group(0) if m and _flag(m.group(0), "sheet") else None


def structure_locked(workbook_xml: bytes) -> bool:
    m = _WORKBOOK_PROTECTION.search(workbook_xml)
    return bool(m) and _flag(m.group(0).decode("utf-8", "replace"), "lockStructure")


def check_sheet(name: str, tail: str | bytes, unlock: bool) -> str | None:
    """Refuse a protected sheet unless `unlock`; return its protection element (to keep) or None."""
    element = sheet_protection(tail)
    if element and not unlock:
        raise FileRefused(
            "该工作表受保护（审阅 → 保护工作表），xlcrm 不写入。",
            "The sheet is protected (Review → Protect Sheet); xlcrm does not write it.",
            location=Location(sheet=name),
            hint=_HINT,
        )
    return element


def check_new_sheet(name: str, workbook_xml: bytes, unlock: bool) -> None:
    """Refuse to add sheet `name` to a structure-locked workbook unless `unlock`."""
    if structure_locked(workbook_xml) and not unlock:
        raise FileRefused(
            "工作簿的结构受保护（审阅 → 保护工作簿），xlcrm 不能新建工作表“{name}”。",
            "The workbook's structure is protected (Review → Protect Workbook), so xlcrm cannot add the "
            "sheet '{name}'.",
            hint=_HINT,
            name=name,
        )


def keep_protection(xml: bytes, element: str) -> bytes:
    """Put a sheet's protection element back into a rebuilt sheet, where the schema orders it:
    right after `</sheetData>` (before autoFilter, dataValidations, pageMargins …)."""
    close = xml.rfind(b"</sheetData>")
    if close < 0:
        return xml
    at = close + len(b"</sheetData>")
    return xml[:at] + _unprefixed(element).encode("utf-8") + xml[at:]


def _unprefixed(element: str) -> str:
    """A rebuilt tool sheet uses the default namespace: drop a prefix the original may have had."""
    return re.sub(r"^<\w+:", "<", element)
