"""Formulas in a worksheet being edited: refuse to break shared/array formulas, unshare dependents.

Overwriting a formula cell is fine (calcChain is dropped), except the master of a shared formula
or a cell inside an array formula: other cells depend on it. Shared-formula dependents of a
master being overwritten first get their own translated formula text.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from ...errors import Location, WriteFailed
from ...ooxml import spill
from ...ooxml.addresses import cell_ref, col_index, col_letter, parse_range

if TYPE_CHECKING:
    from .sheetxml import SheetXml


def prepare_for_edits(sheet: SheetXml) -> None:
    """Before rendering: refuse edits inside array formulas and unshare overwritten masters."""
    if sheet.writes_values() and has_formula_attrs(sheet):
        check_array_ranges(sheet)
        unshare_overwritten_masters(sheet)


def check_overwrite(sheet: SheetXml, old: str, row: int, col: int) -> None:
    """A formula cell is being overwritten: calcChain must go, shared/array masters refused."""
    sheet.formula_overwritten = True
    if ('t="shared"' in old and " ref=" in old and (row, col) not in sheet.unshared) or 't="array"' in old:
        raise WriteFailed(
            "单元格 {cell} 是共享/数组公式的起点，其他单元格依赖它；xlcrm 不覆盖它。请换一列写入或先删除该公式。",
            "cell {cell} starts a shared/array formula other cells depend on; xlcrm will not overwrite it. "
            "Write to another column or remove that formula first.",
            location=Location(sheet=sheet.name, row=row, column=col_letter(col)),
            cell=cell_ref(row, col),
        )

def has_formula_attrs(sheet: SheetXml) -> bool:
    """Any `<f …>` with attributes (shared/array formulas have them); one scan of the body."""
    return spill.find(sheet.data, b"<" + sheet.p.encode() + b"f ", sheet.b0, sheet.b1) >= 0

def check_array_ranges(sheet: SheetXml) -> None:
    if spill.find(sheet.data, b't="array"', sheet.b0, sheet.b1) < 0:
        return
    for m in re.finditer(
        rb"<"
        + sheet.p.encode()
        + rb'c r="([A-Z]+\d+)"[^>]*>(?:(?!</'
        + sheet.p.encode()
        + rb'c>).)*?t="array"[^>]*ref="([^"]+)"',
        sheet.body,
        re.S,
    ):
        r1, c1, r2, c2 = parse_range(m.group(2).decode())
        for row, cols in sheet.edits.items():
            if r1 <= row <= r2 and any(c1 <= c <= c2 for c in cols) and (row, min(cols)) != (r1, c1):
                raise WriteFailed(
                    "第 {row} 行在数组公式 {ref} 的范围内，xlcrm 不覆盖它。",
                    "row {row} lies inside the array formula {ref}; xlcrm will not overwrite it.",
                    location=Location(sheet=sheet.name, row=row),
                    row=row,
                    ref=m.group(2).decode(),
                )

def unshare_overwritten_masters(sheet: SheetXml) -> None:
    """Before a shared formula's master cell is overwritten, give each dependent its own formula.

    Dependents (`<f t="shared" si="n"/>`) borrow the master's text; it is translated to each
    dependent's position (openpyxl's Translator) and written out, cached values kept.
    """
    if spill.find(sheet.data, b't="shared"', sheet.b0, sheet.b1) < 0:
        return
    p = sheet.p.encode()
    body = sheet.body
    cell_open = b"<" + p + b"c "

    def cell_at(pos: int) -> tuple[str, int, int] | None:
        start = body.rfind(cell_open, 0, pos)
        m = re.search(rb'\br="([A-Z]+)(\d+)"', body[start:pos]) if start >= 0 else None
        if not m:
            return None
        ref = (m.group(1) + m.group(2)).decode()
        return ref, int(m.group(2)), col_index(m.group(1).decode())

    masters: dict[bytes, tuple[str, str]] = {}
    for m in re.finditer(rb"<" + p + rb"f\b([^>]*)>([^<]*)</" + p + rb"f>", body):
        attrs = m.group(1)
        if b't="shared"' not in attrs or b"ref=" not in attrs:
            continue
        at = cell_at(m.start())
        si = re.search(rb'\bsi="(\d+)"', attrs)
        if at is None or si is None:
            continue
        spec = sheet.edits.get(at[1], {}).get(at[2])
        if spec is not None and spec.kind != "keep":
            masters[si.group(1)] = (at[0], html.unescape(m.group(2).decode("utf-8")))
            sheet.unshared.add((at[1], at[2]))
    if not masters:
        return
    from openpyxl.formula.translate import Translator

    def unshare(m: re.Match) -> bytes:
        attrs = m.group(1)
        si = re.search(rb'\bsi="(\d+)"', attrs)
        if b"ref=" in attrs or si is None or si.group(1) not in masters:
            return m.group(0)
        at = cell_at(m.start())
        if at is None:
            return m.group(0)
        origin, text = masters[si.group(1)]
        formula = Translator("=" + text, origin=origin).translate_formula(at[0])[1:]
        escaped = formula.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return b"<" + p + b"f>" + escaped.encode("utf-8") + b"</" + p + b"f>"

    sheet.body = re.sub(rb"<" + p + rb"f\b([^>]*?)\s*(?:/>|></" + p + rb"f>)", unshare, body)
    sheet.body_changed = True
    sheet.formula_overwritten = True
    sheet.rows, sheet.starts, sheet.ends = [], [], []
    sheet.index_rows()
