"""DeleteRows: remove data rows from a user's sheet, moving the rows below up (as Excel does).

Adjusted: row and cell numbers, the sheet's dimension and autoFilter, Excel Tables' `ref`, the
ranges of data validations and conditional formats (also the Excel 2010 `x14` ones), and simple
defined names on this sheet (`'Sheet'!$A$2:$F$900`). A range shrinks by the deleted rows inside
it and moves up by those above it; whole-column ranges (to row 1048576) keep their end.

Refused with a clear message (nothing written), because moving the rows would silently break
them: formulas in the sheet or elsewhere that refer to it, merged cells, hyperlinks, notes at or
below the first deleted row, and defined names on the sheet that are not plain ranges.
"""

from __future__ import annotations

import bisect
import re

from ...errors import Location, XlcrmError
from ..edits import DeleteRows
from .cells import parse_range, range_ref

MAX_ROW = 1_048_576
_RANGE = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?")
_WHOLE_COLUMNS = re.compile(r"\$?[A-Z]{1,3}:\$?[A-Z]{1,3}")


def _refuse(sheet: str, zh: str, en: str, **args) -> XlcrmError:
    return XlcrmError(
        "无法从工作表删除行：" + zh + " 请先手工处理后再合并。",
        "Cannot delete rows from the sheet: " + en + " Resolve that by hand, then merge again.",
        location=Location(sheet=sheet),
        **args,
    )


class RowShift:
    def __init__(self, rows: list[int]):
        self.deleted = sorted(set(rows))
        self.first = self.deleted[0]

    def row(self, r: int) -> int | None:
        k = bisect.bisect_left(self.deleted, r)
        if k < len(self.deleted) and self.deleted[k] == r:
            return None
        return r - k

    def range(self, r1: int, r2: int) -> tuple[int, int] | None:
        above = bisect.bisect_left(self.deleted, r1)
        upto = bisect.bisect_right(self.deleted, r2)
        n1 = r1 - above
        n2 = r2 if r2 >= MAX_ROW else r2 - upto
        return None if n2 < n1 else (n1, n2)

    def ref(self, ref: str) -> str | None:
        r1, c1, r2, c2 = parse_range(ref)
        shifted = self.range(r1, r2)
        return None if shifted is None else range_ref(shifted[0], c1, shifted[1], c2)

    def sqref(self, sqref: str) -> str:
        parts = [self.ref(p) for p in sqref.split()]
        return " ".join(p for p in parts if p)


def _shift_sqrefs(text: str, shift: RowShift) -> str:
    def attr(m: re.Match) -> str:
        return m.group(1) + shift.sqref(m.group(2)) + m.group(3)

    text = re.sub(r'(\bsqref=")([^"]*)(")', attr, text)
    text = re.sub(r"(<xm:sqref>)([^<]*)(</xm:sqref>)", attr, text)
    text = re.sub(
        r'(<(?:\w+:)?autoFilter\b[^>]*\bref=")([^"]*)(")',
        lambda m: m.group(1) + (shift.ref(m.group(2)) or m.group(2)) + m.group(3),
        text,
    )
    return text


def delete_rows(editor, edit: DeleteRows) -> None:
    if not edit.rows:
        return
    entry, sx = editor.sheet(edit.sheet)
    shift = RowShift(edit.rows)
    p = sx.p.encode()
    name = entry.name
    if b"<" + p + b"f" in sx.body:
        raise _refuse(name, "该表含有公式。", "the sheet contains formulas.")
    if re.search(rf"<{sx.p}mergeCell\b", sx.tail):
        raise _refuse(name, "该表含有合并单元格。", "the sheet has merged cells.")
    if re.search(rf"<{sx.p}hyperlink\b", sx.tail):
        raise _refuse(name, "该表含有超链接。", "the sheet has hyperlinks.")
    from .comments import COMMENTS_REL

    for rel in editor.pkg.rels(entry.part):
        if rel.type == COMMENTS_REL:
            from .package import resolve_target

            xml = editor.pkg.read(resolve_target(entry.part, rel.target)).decode("utf-8")
            for ref in re.findall(r'<(?:\w+:)?comment\b[^>]*\bref="([A-Z]+\d+)"', xml):
                if parse_range(ref)[0] >= shift.first:
                    raise _refuse(
                        name, "第 {row} 行以下有批注。", "there are notes at or below row {row}.", row=shift.first
                    )
    _check_other_formulas(editor, entry, name)
    _shift_defined_names(editor, entry, name, shift)
    sx.body = sx.body  # the body on its own (offsets from 0), fully indexed
    sx._index_rows()
    if sx.rows_without_r:
        sx.body = sx._number_rows(sx.body)
        sx.rows_without_r = False
        sx._index_rows()
    # Rows: drop the deleted ones, renumber the ones below.
    k = bisect.bisect_left(sx.rows, shift.first)
    head_end = sx.starts[k] if k < len(sx.rows) else len(sx.body)
    pieces = [sx.body[:head_end]]
    number = re.compile(rb"(<" + p + rb"(?:row|c)\b[^>]*?\br=\"[A-Z]*)(\d+)(\")")
    keep_start = None
    for i in range(k, len(sx.rows)):
        if shift.row(sx.rows[i]) is None:
            if keep_start is not None:
                pieces.append(_renumber(sx.body[keep_start : sx.starts[i]], number, shift))
                keep_start = None
            continue
        if keep_start is None:
            keep_start = sx.starts[i]
    if keep_start is not None:
        pieces.append(_renumber(sx.body[keep_start:], number, shift))
    elif k < len(sx.rows):
        pieces.append(sx.body[sx.ends[-1] :])
    sx.body = b"".join(pieces)
    sx._index_rows()
    sx.body_changed = True
    # Pending edits of this sheet move with their rows.
    moved = {}
    for row, cells in sx.edits.items():
        new = shift.row(row)
        if new is not None:
            moved[new] = cells
    sx.edits = moved
    sx.head = re.sub(
        rf'(<{sx.p}dimension ref=")([^"]*)(")',
        lambda m: m.group(1) + (shift.ref(m.group(2)) or m.group(2)) + m.group(3),
        sx.head,
    )
    sx.tail = _shift_sqrefs(sx.tail, shift)
    for table in editor.sheet_tables(entry.part).tables:
        r1, c1, r2, c2 = table.bounds
        shifted = shift.range(r1 + (1 if table.header_row else 0), r2)
        if r2 < shift.first:
            continue
        if shifted is None:  # every data row went: keep one empty data row, as Excel does
            table.set_ref(r1, c1, r1 + 1, c2)
        else:
            table.set_ref(shift.row(r1) or r1, c1, shifted[1], c2)


def _renumber(chunk: bytes, pattern: re.Pattern, shift: RowShift) -> bytes:
    return pattern.sub(lambda m: m.group(1) + str(shift.row(int(m.group(2)))).encode() + m.group(3), chunk)


def _check_other_formulas(editor, entry, name: str) -> None:
    """Formulas on other sheets that name this sheet would point at the wrong rows afterwards."""
    needles = {name.encode("utf-8"), name.replace("'", "''").encode("utf-8")}
    for other in editor.wb.sheets():
        if other.part == entry.part or not editor.pkg.exists(other.part):
            continue
        data = editor.pkg.read(other.part)
        if b"<f" not in data and b":f>" not in data:
            continue
        for m in re.finditer(rb"<(?:\w+:)?f\b[^>]*>([^<]*)</(?:\w+:)?f>", data):
            if any(n in m.group(1) for n in needles):
                raise _refuse(
                    name,
                    "工作表“{other}”中的公式引用了它。",
                    "formulas on sheet '{other}' refer to it.",
                    other=other.name,
                )


def _shift_defined_names(editor, entry, name: str, shift: RowShift) -> None:
    quoted = {name, "'" + name.replace("'", "''") + "'"}
    for dn in editor.wb.defined_names():
        text = dn.text or ""
        sheet_part, bang, ref = text.rpartition("!")
        if not bang or sheet_part not in quoted:
            if any(q + "!" in text for q in quoted):
                raise _refuse(
                    name,
                    "名称“{dn}”以公式引用了它。",
                    "the defined name '{dn}' refers to it in a formula.",
                    dn=dn.get("name"),
                )
            continue
        if _WHOLE_COLUMNS.fullmatch(ref):
            continue  # whole columns ($A:$A) stay whole columns whatever rows go
        m = _RANGE.fullmatch(ref)
        if not m:
            raise _refuse(name, "名称“{dn}”引用了它。", "the defined name '{dn}' refers to it.", dn=dn.get("name"))
        r1, r2 = int(m.group(2)), int(m.group(4) or m.group(2))
        shifted = shift.range(r1, r2)
        if shifted is None:
            raise _refuse(
                name,
                "名称“{dn}”的区域会被全部删除。",
                "the range of the defined name '{dn}' would vanish.",
                dn=dn.get("name"),
            )
        c1, c2 = m.group(1), m.group(3) or m.group(1)
        new_ref = f"${c1}${shifted[0]}" + (f":${c2}${shifted[1]}" if m.group(3) else "")
        if (r1, r2) != shifted:
            dn.text = f"{sheet_part}!{new_ref}"
            editor.wb.dirty = True
