"""The file writer's side of ownership: load the records, guard each edit, save the records.

Commands already choose free names for their tool sheets and columns (see `ownership`); this is
the last line of defence, so a planning mistake can never turn into a user's sheet or column
being overwritten. The records live in the very-hidden `_xlcrm_state` sheet.
"""

from __future__ import annotations

from ..edits import Block, SheetReplace
from ..ownership import STATE_COLUMNS, STATE_SHEET, Ownership, OwnershipGuard, SheetRef


def open_guard(editor) -> OwnershipGuard:
    def refs() -> list[SheetRef]:
        ids = editor.wb.sheet_ids()
        return [SheetRef(e.name, ids.get(e.name, ""), e.state) for e in editor.wb.sheets()]

    def header_at(sheet: str, row: int, col: int) -> str:
        _, sx = editor.sheet(sheet)
        return editor.row_texts(sx, row).get(col, "")

    rows = None
    entry = editor.wb.find(STATE_SHEET)
    if entry is not None:
        _, sx = editor.sheet(STATE_SHEET)
        rows = []
        for r in range(2, max(sx.last_row, 1) + 1):
            texts = editor.row_texts(sx, r)
            rows.append([texts.get(c + 1, "") for c in range(len(STATE_COLUMNS))])
        editor.sheet_xmls.pop(entry.part, None)
    return OwnershipGuard(Ownership.load(rows, refs()), refs, header_at)


def save_guard(editor, guard: OwnershipGuard) -> None:
    if guard.changed:
        editor.sheet_replace(SheetReplace(STATE_SHEET, [Block(guard.state_frame())], hidden="veryHidden",
                                          freeze_header=False))
        guard.changed = False
