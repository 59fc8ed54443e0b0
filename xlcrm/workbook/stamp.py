"""Is a sheet exactly as xlcrm last saved it? — answered from the zip directory, no sheet inflated.

A sheet's *token* is its part's name, CRC-32 and size plus one digest of every part outside
xl/worksheets/ (shared strings, styles, workbook.xml, tables, …: whatever a cell's value could depend
on). The writer works out the tokens of the file it is about to save (`EditPlan.stamp`) and writes them
into a state sheet, replacing a fixed-width marker; a later command finding the same token knows the
sheet's cells are the ones it wrote and can skip reading it. Any save by another program (Excel, WPS,
LibreOffice) rewrites the parts, the tokens differ, and the sheet is read as usual: a stale token can
only cost time, never a missed change.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

WORKSHEETS = "xl/worksheets/"
WIDTH = 1500  # characters of the marker (room for a few sheets' tokens)
MARKER = '{"stamp":"' + "~" * (WIDTH - 12) + '"}'  # valid JSON meaning "no tokens" (e.g. written in live Excel)


def tokens(parts: dict[str, tuple[int, int]], sheets: dict[str, str]) -> dict[str, str]:
    """Sheet name → token, from part name → (crc, size) of a whole package and sheet name → part."""
    shared = hashlib.sha1()
    for name in sorted(parts):
        if not name.startswith(WORKSHEETS):
            crc, size = parts[name]
            shared.update(f"{name}:{crc:08x}:{size};".encode())
    digest = shared.hexdigest()[:16]
    out = {}
    for sheet, part in sheets.items():
        if part in parts:
            crc, size = parts[part]
            out[sheet] = f"{part}:{crc:08x}:{size}:{digest}"
    return out


def render(found: dict[str, str]) -> str:
    """Tokens as the marker-wide JSON text the state sheet holds."""
    text = json.dumps({"tokens": found}, ensure_ascii=False, separators=(",", ":"))
    if len(text) > WIDTH - 11:  # too many sheets: no tokens (the sheets are then simply read)
        text = '{"tokens":{}}'
    return text[:-1] + ',"pad":"' + "~" * (WIDTH - len(text) - 9) + '"}'


def parse(text: str | None) -> dict[str, str]:
    try:
        found = json.loads(text or "{}").get("tokens") or {}
    except (ValueError, AttributeError):
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def file_tokens(path: Path, sheets: dict[str, str]) -> dict[str, str]:
    """The tokens of a file on disk (sheet name → part as `grid.sheet_parts` gives them)."""
    try:
        with zipfile.ZipFile(path) as zf:
            parts = {i.filename: (i.CRC, i.file_size) for i in zf.infolist()}
    except (OSError, zipfile.BadZipFile):
        return {}
    return tokens(parts, sheets)
