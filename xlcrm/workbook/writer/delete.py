"""DeleteRows and InsertRows: remove or insert whole rows of a user's sheet, as Excel does.

Everything anchored to rows follows them (see rowshift for the two mappings): row and cell
numbers, the dimension, merged cells, hyperlinks, validation and conditional-format ranges (also
the Excel 2010 `x14` ones), the autofilter, Excel Tables, defined names and print areas, formulas
on this sheet and on other sheets and in charts that refer to it, the notes (comments and their
VML shapes) and xlcrm's own marks (re-anchored, or dropped with a deleted row).

Refused, naming the sheet and cell (nothing written): a formula that refers to a deleted row
(it would become #REF!), an array formula cut by the rows, and a note the user wrote on a row
that is deleted (xlcrm's own marks there simply go). Hyperlinks and merged cells of a deleted row
go with it, as in Excel; the row's values are archived by the command before it is deleted.
"""

from __future__ import annotations

import bisect
import html
import re

from ...errors import Location, XlcrmError
from ...ooxml.cellxml import encode
from ..edits import CellStyle, DeleteRows, InsertRows
from .rowedit import CellSpec
from .rowshift import (
    MAX_ROW,
    BrokenReference,
    DeleteShift,
    InsertShift,
    Shift,
    names_sheet,
    shift_formula,
    shift_ref,
    shift_sqref,
)

CHART_PART = re.compile(r"xl/charts/chart\d+\.xml$")


def _refuse(sheet: str, zh: str, en: str, cell: str | None = None, **args) -> XlcrmError:
    return XlcrmError(
        "无法移动工作表的行：" + zh + " 请先手工处理后再试。",
        "Cannot move the sheet's rows: " + en + " Resolve that by hand, then try again.",
        location=Location(sheet=sheet, column=cell),
        **args,
    )


def delete_rows(editor, edit: DeleteRows) -> None:
    if edit.rows:
        _move_rows(editor, edit.sheet, DeleteShift(edit.rows))


def insert_rows(editor, edit: InsertRows) -> None:
    if not edit.rows:
        return
    shift = InsertShift(list(edit.rows))
    entry, sx = _move_rows(editor, edit.sheet, shift)
    for row, cells in sorted(edit.rows.items()):
        for col, value in cells.items():
            kind, text = encode(value)
            if kind == "e":
                continue
            fmt = edit.number_formats.get(col)
            sx.set_cell(row, col, CellSpec(kind, text, CellStyle(number_format=fmt) if fmt else None))


def _move_rows(editor, sheet: str, shift: Shift):
    entry, sx = editor.sheet(sheet)
    name = entry.name
    from .notes import Notes

    notes = Notes(editor, entry.part, sx)
    if isinstance(shift, DeleteShift):
        lost = notes.user_notes_on(set(shift.deleted))
        if lost:
            raise _refuse(name, "单元格 {cells} 有您写的批注，删除这一行会丢失它。请把批注移到要保留的行。",
                          "the cells {cells} hold your notes, which deleting the row would lose. Move them "
                          "to a row that stays.", cells=", ".join(lost))
    else:
        last = sx.last_row_number() or 0
        if last + len(shift.inserted) > MAX_ROW:
            raise _refuse(name, "行数会超过 Excel 的上限。", "the sheet would exceed Excel's last row.")
    sx.body = sx.body  # the body on its own (offsets from 0), fully indexed
    sx.index_rows()
    if sx.rows_without_r:
        sx.body = sx.number_rows(sx.body)
        sx.rows_without_r = False
    if b"<" + sx.p.encode() + b"f" in sx.body:
        sx.body = _shift_body_formulas(sx.body, sx.p, name, name, shift, unshare=True)
        editor.formula_changed = True
    sx.index_rows()
    _move_body(sx, shift)
    sx.edits = {n: cells for r, cells in sx.edits.items() if (n := shift.row(r)) is not None}
    sx.head = re.sub(rf'(<{sx.p}dimension ref=")([^"]*)(")',
                     lambda m: m.group(1) + (shift_ref(m.group(2), shift, grow=True) or m.group(2)) + m.group(3),
                     sx.head)
    sx.tail = _shift_tail(sx.tail, sx.p, shift)
    _shift_tables(editor, entry, shift)
    _shift_defined_names(editor, name, shift)
    _shift_other_sheets(editor, entry, name, shift)
    _shift_charts(editor, name, shift)
    notes.shift_rows(shift)
    notes.write_back()
    if editor.marks is None:
        from .comments import MarkBook

        editor.marks = MarkBook(editor)
    editor.marks.shift_rows(name, shift)
    return entry, sx


def _move_body(sx, shift: Shift) -> None:
    """Drop deleted rows and renumber the rows (and their cells) at and below the first moved one."""
    p = sx.p.encode()
    k = bisect.bisect_left(sx.rows, shift.first)
    head_end = sx.starts[k] if k < len(sx.rows) else len(sx.body)
    number = re.compile(rb"(<" + p + rb"(?:row|c)\b[^>]*?\br=\"[A-Z]*)(\d+)(\")")
    pieces = [sx.body[:head_end]]
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
    sx.index_rows()
    sx.body_changed = True


def _renumber(chunk: bytes, pattern: re.Pattern, shift: Shift) -> bytes:
    return pattern.sub(lambda m: m.group(1) + str(shift.row(int(m.group(2)))).encode() + m.group(3), chunk)


# --------------------------------------------------------------------------- the sheet's own anchors


def _shift_tail(tail: str, p: str, shift: Shift) -> str:
    def sq(m: re.Match) -> str:
        return m.group(1) + shift_sqref(m.group(2), shift) + m.group(3)

    tail = re.sub(r'(\bsqref=")([^"]*)(")', sq, tail)
    tail = re.sub(r"(<xm:sqref>)([^<]*)(</xm:sqref>)", sq, tail)
    tail = re.sub(r'(<(?:\w+:)?autoFilter\b[^>]*\bref=")([^"]*)(")',
                  lambda m: m.group(1) + (shift_ref(m.group(2), shift, grow=True) or m.group(2)) + m.group(3), tail)

    def merged(m: re.Match) -> str:
        ref = shift_ref(m.group(2), shift)
        return "" if ref is None or ":" not in ref or ref.split(":")[0] == ref.split(":")[1] else \
            m.group(1) + ref + m.group(3)

    tail = re.sub(rf'(<{p}mergeCell\b[^>]*\bref=")([^"]*)("[^>]*/>)', merged, tail)
    count = len(re.findall(rf"<{p}mergeCell\b", tail))
    tail = re.sub(rf'(<{p}mergeCells\b[^>]*\bcount=")\d+(")', rf"\g<1>{count}\g<2>", tail)
    if not count:
        tail = re.sub(rf"<{p}mergeCells\b[^>]*(?:/>|>\s*</{p}mergeCells>)", "", tail)

    def link(m: re.Match) -> str:
        ref = shift_ref(m.group(2), shift)
        return "" if ref is None else m.group(1) + ref + m.group(3)

    tail = re.sub(rf'(<{p}hyperlink\b[^>]*\bref=")([^"]*)("[^>]*/>)', link, tail)
    tail = re.sub(rf"<{p}hyperlinks>\s*</{p}hyperlinks>", "", tail)
    return tail


def _shift_tables(editor, entry, shift: Shift) -> None:
    for table in editor.sheet_tables(entry.part).tables:
        r1, c1, r2, c2 = table.bounds
        if r2 < shift.first - (1 if isinstance(shift, InsertShift) else 0):
            continue  # wholly above the rows that move (an insert right below it still joins it)
        top = shift.row(r1) or r1
        if not table.header_row:
            moved = shift.range(r1, r2, grow=True)
            table.set_ref(*(moved[0], c1, moved[1], c2) if moved else (r1, c1, r1, c2))
            continue
        data = shift.range(r1 + 1, r2, grow=True) if r2 > r1 else None
        # every data row went: keep one empty data row, as Excel does
        table.set_ref(top, c1, data[1] if data else top + 1, c2)


# --------------------------------------------------------------------------- formulas


_F = re.compile(rb"<(\w+:)?f\b([^>]*)>([^<]*)</(?:\w+:)?f>")
_F_EMPTY = re.compile(rb"<(\w+:)?f\b([^>]*?)\s*(?:/>|></(?:\w+:)?f>)")
_CELL_R = re.compile(rb'\br="([A-Z]+)(\d+)"')


def _cell_at(body: bytes, pos: int, p: bytes) -> tuple[str, int]:
    start = body.rfind(b"<" + p + b"c ", 0, pos)
    m = _CELL_R.search(body, start, pos) if start >= 0 else None
    return ((m.group(1) + m.group(2)).decode(), int(m.group(2))) if m else ("", 0)


def _unshare(body: bytes, p: bytes) -> bytes:
    """Shared formulas written out per cell, so each can be moved (or dropped) on its own."""
    if b't="shared"' not in body:
        return body
    from openpyxl.formula.translate import Translator

    masters: dict[bytes, tuple[str, str]] = {}
    for m in _F.finditer(body):
        if b't="shared"' in m.group(2) and b"ref=" in m.group(2):
            si = re.search(rb'\bsi="(\d+)"', m.group(2))
            if si:
                masters[si.group(1)] = (_cell_at(body, m.start(), p)[0], html.unescape(m.group(3).decode()))

    def plain(attrs: bytes, text: str) -> bytes:
        attrs = re.sub(rb'\s*\b(?:t="shared"|ref="[^"]*"|si="\d+")', b"", attrs)
        return b"<" + p + b"f" + attrs + b">" + html.escape(text, quote=False).encode() + b"</" + p + b"f>"

    def master(m: re.Match) -> bytes:
        if b't="shared"' not in m.group(2) or b"ref=" not in m.group(2):
            return m.group(0)
        return plain(m.group(2), html.unescape(m.group(3).decode()))

    def child(m: re.Match) -> bytes:
        si = re.search(rb'\bsi="(\d+)"', m.group(2))
        if b't="shared"' not in m.group(2) or si is None or si.group(1) not in masters:
            return m.group(0)
        origin, text = masters[si.group(1)]
        here = _cell_at(body, m.start(), p)[0]
        return plain(m.group(2), Translator("=" + text, origin=origin).translate_formula(here)[1:])

    body = _F_EMPTY.sub(child, body)
    return _F.sub(master, body)


def _shift_body_formulas(body: bytes, p: str, sheet: str, target: str, shift: Shift, unshare: bool = False) -> bytes:
    """Every formula of a sheet body with its references into `target` moved (refusal names the cell)."""
    pb = p.encode()
    if unshare:
        body = _unshare(body, pb)
    home = sheet.casefold() == target.casefold()
    deleted = set(shift.deleted) if isinstance(shift, DeleteShift) else set()

    def one(m: re.Match) -> bytes:
        cell, row = _cell_at(body, m.start(), pb)
        if row in deleted:
            return m.group(0)  # goes with its row
        attrs = m.group(2)
        arr = re.search(rb'\bref="([^"]*)"', attrs)
        if arr and home:
            first, _, second = arr.group(1).decode().partition(":")
            r1, r2 = int(re.sub(r"\D", "", first)), int(re.sub(r"\D", "", second or first))
            moved = shift.range(r1, r2)
            if moved is None or moved[1] - moved[0] != r2 - r1:
                raise _refuse(sheet, "单元格 {cell} 的数组公式跨越了要移动的行。",
                              "the array formula in cell {cell} spans the rows being moved.", cell=cell)
            new_ref = shift_ref(arr.group(1).decode(), shift) or arr.group(1).decode()
            attrs = attrs[: arr.start(1)] + new_ref.encode() + attrs[arr.end(1) :]
        text = html.unescape(m.group(3).decode("utf-8"))
        try:
            new = shift_formula(text, target, home, shift)
        except BrokenReference as exc:
            raise _refuse(sheet, "单元格 {cell} 的公式引用了要删除的行（{ref}），删除后会变成 #REF!。",
                          "the formula in cell {cell} refers to a row being deleted ({ref}); it would become #REF!.",
                          cell=cell, ref=exc.ref) from None
        if new == text and attrs == m.group(2):
            return m.group(0)
        prefix = m.group(1) or b""
        return (b"<" + prefix + b"f" + attrs + b">" + html.escape(new, quote=False).encode() + b"</" + prefix + b"f>")

    return _F.sub(one, body)


def _shift_other_sheets(editor, entry, name: str, shift: Shift) -> None:
    needles = {name.encode("utf-8"), name.replace("'", "''").encode("utf-8")}
    for other in editor.wb.sheets():
        if other.part == entry.part or not editor.pkg.exists(other.part):
            continue
        loaded = editor.sheet_xmls.get(other.part)
        data = loaded.body if loaded is not None else editor.pkg.read(other.part)
        if (b"<f" not in data and b":f>" not in data) or not any(n in data for n in needles):
            continue
        _, sx = editor.sheet(other.name)
        body = _shift_body_formulas(sx.body, sx.p, other.name, name, shift)
        if body != sx.body:
            sx.body = body
            sx.index_rows()
            sx.body_changed = True
            editor.formula_changed = True


def _shift_defined_names(editor, name: str, shift: Shift) -> None:
    for dn in editor.wb.defined_names():
        text = dn.text or ""
        if not names_sheet(text, name):
            continue
        try:
            new = shift_formula(text, name, False, shift)
        except BrokenReference as exc:
            raise _refuse(name, "名称“{dn}”引用了要删除的行（{ref}）。",
                          "the defined name '{dn}' refers to a row being deleted ({ref}).",
                          dn=dn.get("name"), ref=exc.ref) from None
        if new != text:
            dn.text = new
            editor.wb.dirty = True


def _shift_charts(editor, name: str, shift: Shift) -> None:
    """Chart series drawn from the sheet keep pointing at the same cells."""
    for part in editor.pkg.names():
        if not CHART_PART.search(part):
            continue
        data = editor.pkg.read(part).decode("utf-8")
        if not names_sheet(data, name) and not names_sheet(html.escape(name), name):
            continue

        def one(m: re.Match, part: str = part) -> str:
            text = html.unescape(m.group(2))
            try:
                new = shift_formula(text, name, False, shift)
            except BrokenReference as exc:
                raise _refuse(name, "图表引用了要删除的行（{ref}）。", "a chart refers to a row being deleted ({ref}).",
                              ref=exc.ref) from None
            return m.group(1) + html.escape(new, quote=False) + m.group(3)

        new = re.sub(r"(<c:f>)([^<]*)(</c:f>)", one, data)
        if new != data:
            editor.pkg.write(part, new.encode("utf-8"))
