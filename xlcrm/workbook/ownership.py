"""The guard that keeps edits off what the user owns: an edit onto a sheet or column xlcrm cannot
prove it created is refused (NotOwned); what xlcrm creates is recorded. The records themselves
(`Ownership`, pure data) live in `xlcrm.model.ownership`, re-exported here for the workbook layer.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from .. import schema
from ..errors import Location, XlcrmError
from ..model.ownership import (  # noqa: F401 - re-exported: the workbook layer's one import place
    INTERNAL_PREFIX,
    MARK_SHEET,
    STATE_COLUMNS,
    STATE_SHEET,
    USER_INPUT_FOR,
    Ownership,
    Record,
    SheetRef,
    fold,
    free_header,
    free_name,
    is_internal,
    looks_like_xlcrm,
    system_header,
)
from .edits import AppendRows, ColumnWrite, SheetReplace


class NotOwned(XlcrmError):
    """An edit would overwrite a sheet or column xlcrm did not create."""


class OwnershipGuard:
    """Applied around every edit by both adapters: refuse what would overwrite the user's work,
    record what xlcrm creates. `refs()` lists the sheets as they are now; `header_at(sheet, row,
    col)` reads a header cell."""

    def __init__(self, own: Ownership, refs: Callable[[], list[SheetRef]],
                 header_at: Callable[[str, int, int], str]):
        self.own, self.refs, self.header_at = own, refs, header_at
        self.changed = False

    def _ref(self, name: str) -> SheetRef:
        return next((r for r in self.refs() if fold(r.name) == fold(name)), SheetRef(name))

    def check(self, edit) -> bool:
        """Raise NotOwned for an edit onto the user's sheet or column; True when it creates a sheet."""
        if isinstance(edit, (SheetReplace, AppendRows)):
            if is_internal(edit.sheet):
                return False
            refs = self.refs()
            current = next((r for r in refs if fold(r.name) == fold(edit.sheet)), None)
            if current is None:
                return True
            if isinstance(edit, AppendRows) and edit.owner is None:
                return False  # rows appended to a data sheet (merge undo): the user's records, by design
            if not self.own.owns_sheet(current.name, refs):
                raise NotOwned(
                    "工作表“{sheet}”不是 xlcrm 创建的，xlcrm 不会改写它（原文件未改动）。",
                    "Sheet '{sheet}' was not created by xlcrm, so xlcrm will not overwrite it (the file is untouched).",
                    sheet=current.name,
                )
        elif isinstance(edit, ColumnWrite) and edit.owner and edit.col is not None:
            sheet_key = edit.owner.partition(".")[0]
            header = self.header_at(edit.sheet, edit.header_row, edit.col)
            if schema.normalize_name(header) not in self.own.owned_headers(sheet_key):
                raise NotOwned(
                    "列“{column}”不是 xlcrm 创建的，xlcrm 不会改写它（原文件未改动）。",
                    "Column '{column}' was not created by xlcrm, so xlcrm will not overwrite it (the file is untouched).",
                    location=Location(edit.sheet, None, header or edit.header),
                    column=header or edit.header,
                )
        return False

    def record(self, edit, created: bool) -> None:
        if isinstance(edit, (SheetReplace, AppendRows)) and not is_internal(edit.sheet):
            # A sheet made without a tool key (the writer used on its own) is still xlcrm's: keyed by name.
            key = edit.owner or f"sheet:{fold(edit.sheet)}"
            if created or (edit.owner and not any(
                    r.kind == "sheet" and r.key == key and fold(r.sheet) == fold(edit.sheet) for r in self.own.records)):
                self.own.record_sheet(key, self._ref(edit.sheet))
                self.changed = True
        elif isinstance(edit, ColumnWrite) and edit.owner:
            sheet_key, _, key = edit.owner.partition(".")
            if not any(r.kind == "column" and r.key == edit.owner and r.header == edit.header for r in self.own.records):
                self.own.record_column(sheet_key, key, self._ref(edit.sheet), edit.header)
                self.changed = True

    def state_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.own.rows(), columns=STATE_COLUMNS)


__all__ = ["NotOwned", "OwnershipGuard"]
