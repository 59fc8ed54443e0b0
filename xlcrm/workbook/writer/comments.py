"""Mark cells of a user's sheet (fill + note) and take xlcrm's own marks away again on the next run.

Notes are legacy comments (`commentsN.xml` + a VML shape each), the kind every Excel, WPS and
LibreOffice shows. Existing comments and VML (the user's notes, form buttons) are kept: xlcrm
adds its entries and later removes only those.

Mark state lives in a very-hidden sheet, `_xlcrm_marks`: one row per mark (sheet, cell,
severity, note, the style before, the style set, the fill before, whether a note was added).
Why a sheet: it survives Excel, WPS and LibreOffice round trips (custom XML parts do not survive
LibreOffice), the live-Excel adapter can read and write it like any sheet, and the user cannot
see or break it by accident. A cell whose fill the user changed since is left as the user set it;
a cell that already had the user's own note keeps that note and gets only the fill.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from ...ooxml.addresses import cell_ref, split_ref
from ..edits import FILL_ERROR, FILL_WARNING, Block, CellStyle, MarkCells, SheetReplace
from .notes import Notes
from .readback import cell_text

MARK_SHEET = "_xlcrm_marks"
STATE_COLUMNS = ["sheet", "cell", "severity", "note", "prev_style", "marked_style", "prev_fill", "note_added"]
FILLS = {"error": FILL_ERROR, "warning": FILL_WARNING}


@dataclass
class MarkState:
    sheet: str
    cell: str
    severity: str
    note: str
    prev_style: int | None
    marked_style: int | None
    prev_fill: str
    note_added: bool


def _int(text: str) -> int | None:
    try:
        return int(float(text))
    except (TypeError, ValueError):
        return None


_STATE_CELL = re.compile(r'<(?:\w+:)?c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)', re.S)
_PLAIN_INLINE = re.compile(r"<(?:\w+:)?is><(?:\w+:)?t>([^<]*)</(?:\w+:)?t></(?:\w+:)?is>")


def _state_rows(sx, sst) -> list[list[str]]:
    """The state sheet's data rows as text, one pass over its cells (a row per mark: 10k+ rows)."""
    import html

    by_row: dict[int, dict[int, str]] = {}
    body = sx.body.decode("utf-8")
    for m in _STATE_CELL.finditer(body):
        letters, row, attrs, inner = m.group(1), int(m.group(2)), m.group(3), m.group(4) or ""
        if row == 1 or len(letters) > 1:
            continue
        plain = _PLAIN_INLINE.fullmatch(inner) if 'inlineStr"' in attrs else None
        if plain is not None:
            text = plain.group(1)
            text = html.unescape(text) if "&" in text else text
            text = cell_text(m.group(0), sst) if "_x" in text else text
        else:
            text = cell_text(m.group(0), sst)
        by_row.setdefault(row, {})[ord(letters) - 64] = text
    n = len(STATE_COLUMNS)
    return [[cells.get(i + 1, "") for i in range(n)] for _, cells in sorted(by_row.items())]


class MarkBook:
    def __init__(self, editor):
        self.ed = editor
        self.state: list[MarkState] = self._load()
        self.changed = False

    # -- state ---------------------------------------------------------------------------------
    def _load(self) -> list[MarkState]:
        if self.ed.wb.find(MARK_SHEET) is None:
            return []
        _, sx = self.ed.sheet(MARK_SHEET)
        out = []
        for values in _state_rows(sx, self.ed.sst):
            if not values[0] or not values[1]:
                continue
            out.append(
                MarkState(
                    values[0],
                    values[1],
                    values[2],
                    values[3],
                    _int(values[4]),
                    _int(values[5]),
                    values[6],
                    values[7].strip().lower() in ("1", "true", "yes"),
                )
            )
        self.ed.sheet_xmls.pop(self.ed.wb.find(MARK_SHEET).part, None)
        return out

    def _save_state(self) -> None:
        df = pd.DataFrame(
            [
                [
                    m.sheet,
                    m.cell,
                    m.severity,
                    m.note,
                    "" if m.prev_style is None else str(m.prev_style),
                    "" if m.marked_style is None else str(m.marked_style),
                    m.prev_fill,
                    "1" if m.note_added else "0",
                ]
                for m in self.state
            ],
            columns=STATE_COLUMNS,
        )
        self.ed.sheet_replace(SheetReplace(MARK_SHEET, [Block(df)], hidden="veryHidden", freeze_header=False))

    # -- marking -------------------------------------------------------------------------------
    def rows_touched(self, sheet: str, edits: list[MarkCells]) -> set[int]:
        """The rows of `sheet` that marking it with `edits` reads or rewrites: this time's marks and
        last time's (see `apply`)."""
        rows = {mark.row for edit in edits for mark in edit.marks}
        rows.update(split_ref(m.cell)[0] for m in self.state if m.sheet.casefold() == sheet.casefold())
        return rows

    def apply(self, edit: MarkCells) -> None:
        entry = self.ed.wb.require(edit.sheet)
        old = [m for m in self.state if m.sheet.casefold() == entry.name.casefold()]
        if not old and not edit.marks:
            return  # nothing to mark or unmark: the sheet is not even read
        entry, sx = self.ed.sheet(edit.sheet)
        styles = self.ed.styles
        notes = Notes(self.ed, entry.part, sx)
        if self._already_marked(old, edit, sx, notes):
            return  # the same marks as last time, still in place: leave the sheet untouched
        sx.expect_rows(len({mark.row for mark in edit.marks} | {split_ref(m.cell)[0] for m in old}))
        restored: dict[str, int | None] = {}
        for m in old:
            row, col = split_ref(m.cell)
            current = sx.cell_style(row, col)
            if current == m.marked_style:
                target = m.prev_style
            elif styles.fill_rgb(current) == FILLS.get(m.severity, FILL_ERROR) and m.prev_fill:
                target = styles.with_fill_xml(current, m.prev_fill.encode("utf-8"))
            else:
                target = current  # the user restyled the cell since: leave it as they set it
            if target != current:
                sx.set_style(row, col, target)
            restored[m.cell] = target
            if m.note_added:
                notes.remove(m.cell)
        new_state: list[MarkState] = []
        for mark in edit.marks:
            ref = cell_ref(mark.row, mark.col)
            base = restored[ref] if ref in restored else sx.cell_style(mark.row, mark.col)
            marked = styles.derive(base, CellStyle(fill=FILLS.get(mark.severity, FILL_ERROR)))
            sx.set_style(mark.row, mark.col, marked)
            added = notes.add(ref, mark.note) if mark.note else False
            new_state.append(
                MarkState(
                    entry.name,
                    ref,
                    mark.severity,
                    mark.note,
                    base,
                    marked,
                    styles.fill_xml(base).decode("utf-8"),
                    added,
                )
            )
        notes.write_back()
        self.state = [m for m in self.state if m.sheet.casefold() != entry.name.casefold()] + new_state
        self.changed = True

    def _already_marked(self, old: list[MarkState], edit: MarkCells, sx, notes: Notes) -> bool:
        """Whether every mark asked for is exactly the one made last time and is still as xlcrm left it
        (cell style, and its note — or the user's note it deferred to). Re-marking would change nothing
        but the order of notes; skipping it spares rewriting (and re-deflating) a big sheet."""
        if len(old) != len(edit.marks):
            return False
        wanted = {cell_ref(m.row, m.col): m for m in edit.marks}
        if len(wanted) != len(old):
            return False
        for m in old:
            mark = wanted.get(m.cell)
            if mark is None or (mark.severity, mark.note) != (m.severity, m.note):
                return False
        for m in old:
            row, col = split_ref(m.cell)
            if sx.cell_style(row, col) != m.marked_style:
                return False
            if m.note and (notes.has_own_note(m.cell) != m.note_added or not notes.has_any_note(m.cell)):
                return False
        return True

    def shift_rows(self, sheet: str, shift) -> None:
        """Rows of `sheet` were deleted or inserted: marks move with their cells (or go with their row)."""
        kept = []
        for m in self.state:
            if m.sheet.casefold() == sheet.casefold():
                row, col = split_ref(m.cell)
                new = shift.row(row)
                if new is None:
                    self.changed = True
                    continue
                if new != row:
                    m.cell = cell_ref(new, col)
                    self.changed = True
            kept.append(m)
        self.state = kept

    def finish(self) -> None:
        if self.changed:
            self._save_state()
            self.changed = False
