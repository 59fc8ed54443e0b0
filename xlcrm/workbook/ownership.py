"""What xlcrm owns in a workbook: the tool sheets and computed columns it created, and nothing else.

The rule: xlcrm writes only what it can prove it created. Proof is a record in the very-hidden
state sheet `_xlcrm_state`, made by the writer at the moment it creates a sheet or a column. A
user's sheet or column that merely has the same name is the user's: read as input, never written.

Records name sheets by their name and workbook `sheetId` (so a tool sheet the user renamed is still
found) and columns by their data sheet's key and header text.

Workbooks written before records existed (no state sheet, but xlcrm's mark sheet or its template's
hidden Lists + How-to sheets) are *legacy*: there, sheets and columns under xlcrm's own canonical
names (not synonyms) are taken as xlcrm's, and recorded at the next write.

This module is pure: the reader, the writer and the live-Excel adapter feed it what they read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from .. import schema
from ..errors import Location, XlcrmError
from .edits import AppendRows, ColumnWrite, SheetReplace

STATE_SHEET = "_xlcrm_state"
MARK_SHEET = "_xlcrm_marks"
INTERNAL_PREFIX = "_xlcrm_"  # very-hidden sheets only xlcrm makes
STATE_COLUMNS = ["kind", "key", "sheet_id", "sheet", "header"]

# A user's own column under a computed column's name is input: it feeds these input keys.
USER_INPUT_FOR = {"grade": "grade_override", "next_follow_up": "planned_next"}


@dataclass(frozen=True)
class SheetRef:
    """A sheet as found in the workbook."""

    name: str
    sheet_id: str = ""  # workbook.xml sheetId ('' when unknown, e.g. live Excel)
    state: str = "visible"


@dataclass(frozen=True)
class Record:
    kind: str  # "sheet" | "column"
    key: str  # tool sheet key, or "<data sheet key>.<column key>"
    sheet_id: str
    sheet: str  # sheet name when recorded
    header: str = ""  # column header (columns only)

    def row(self) -> list[str]:
        return [self.kind, self.key, self.sheet_id, self.sheet, self.header]


def is_internal(name: str) -> bool:
    return name.casefold().startswith(INTERNAL_PREFIX)


def _fold(text: str) -> str:
    return str(text).strip().casefold()


@dataclass
class Ownership:
    records: list[Record] = field(default_factory=list)
    present: bool = False  # the state sheet exists
    legacy: bool = False  # no state sheet, yet xlcrm wrote this workbook before

    @classmethod
    def load(cls, rows: list[list[str]] | None, sheets: list[SheetRef]) -> Ownership:
        """From the state sheet's data rows (None when there is no state sheet) and the sheet list."""
        if rows is None:
            return cls(legacy=looks_like_xlcrm(sheets))
        records, legacy = [], False
        for row in rows:
            cells = [str(c or "").strip() for c in row] + [""] * 5
            kind, key, sheet_id, sheet, header = cells[:5]
            if kind in ("sheet", "column") and key and sheet:
                records.append(Record(kind, key, sheet_id, sheet, header))
            legacy |= kind == "legacy"
        return cls(records=records, present=True, legacy=legacy)

    def rows(self) -> list[list[str]]:
        # A legacy workbook stays one: its canonical names keep being xlcrm's after the first record.
        head = [["legacy", "", "", "", ""]] if self.legacy else []
        return head + [r.row() for r in self.records]

    # -- sheets --------------------------------------------------------------------------------
    def tool_sheets(self, sheets: list[SheetRef]) -> dict[str, str]:
        """Tool sheet key → the name of the sheet xlcrm made for it, for sheets still in the workbook."""
        by_name = {_fold(s.name): s for s in sheets}
        by_id = {s.sheet_id: s for s in sheets if s.sheet_id}
        out: dict[str, str] = {}
        claimed: set[str] = set()
        for r in self.records:
            if r.kind != "sheet" or r.key in out:
                continue
            found = by_name.get(_fold(r.sheet))
            if found is None and r.sheet_id in by_id:
                # Renamed by the user: follow it by sheetId, unless that id now names a recorded sheet.
                candidate = by_id[r.sheet_id]
                if not any(_fold(o.sheet) == _fold(candidate.name) for o in self.records if o is not r):
                    found = candidate
            if found is not None and _fold(found.name) not in claimed:
                out[r.key] = found.name
                claimed.add(_fold(found.name))
        if self.legacy:
            for spec in schema.TOOL_SHEETS:
                if spec.key in out:
                    continue
                for s in sheets:
                    if _fold(s.name) in {_fold(n) for n in (spec.zh, spec.en, spec.tw) if n} and _fold(s.name) not in claimed:
                        out[spec.key] = s.name
                        claimed.add(_fold(s.name))
                        break
        return out

    def owns_sheet(self, name: str, sheets: list[SheetRef]) -> bool:
        return is_internal(name) or _fold(name) in {_fold(n) for n in self.tool_sheets(sheets).values()}

    def record_sheet(self, key: str, ref: SheetRef) -> None:
        self.records = [r for r in self.records
                        if not (r.kind == "sheet" and (r.key == key or _fold(r.sheet) == _fold(ref.name)))]
        self.records.append(Record("sheet", key, ref.sheet_id, ref.name))

    # -- columns -------------------------------------------------------------------------------
    def owned_headers(self, sheet_key: str) -> dict[str, str]:
        """Normalised header → computed column key, for the columns xlcrm made on a data sheet."""
        out: dict[str, str] = {}
        prefix = sheet_key + "."
        for r in self.records:
            if r.kind == "column" and r.key.startswith(prefix) and r.header:
                out.setdefault(schema.normalize_name(r.header), r.key[len(prefix):])
        if self.legacy and sheet_key in schema.SHEETS_BY_KEY:
            for col in schema.SHEETS_BY_KEY[sheet_key].computed_columns:
                for name in (col.zh, col.en, col.tw):
                    if name:
                        out.setdefault(schema.normalize_name(name), col.key)
        return out

    def record_column(self, sheet_key: str, key: str, ref: SheetRef, header: str) -> None:
        full = f"{sheet_key}.{key}"
        self.records = [r for r in self.records if not (r.kind == "column" and r.key == full)]
        self.records.append(Record("column", full, ref.sheet_id, ref.name, header))


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
        return next((r for r in self.refs() if _fold(r.name) == _fold(name)), SheetRef(name))

    def check(self, edit) -> bool:
        """Raise NotOwned for an edit onto the user's sheet or column; True when it creates a sheet."""
        if isinstance(edit, (SheetReplace, AppendRows)):
            if is_internal(edit.sheet):
                return False
            refs = self.refs()
            current = next((r for r in refs if _fold(r.name) == _fold(edit.sheet)), None)
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
            key = edit.owner or f"sheet:{_fold(edit.sheet)}"
            if created or (edit.owner and not any(
                    r.kind == "sheet" and r.key == key and _fold(r.sheet) == _fold(edit.sheet) for r in self.own.records)):
                self.own.record_sheet(key, self._ref(edit.sheet))
                self.changed = True
        elif isinstance(edit, ColumnWrite) and edit.owner:
            sheet_key, _, key = edit.owner.partition(".")
            if not any(r.kind == "column" and r.key == edit.owner and r.header == edit.header for r in self.own.records):
                self.own.record_column(sheet_key, key, self._ref(edit.sheet), edit.header)
                self.changed = True

    def state_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.own.rows(), columns=STATE_COLUMNS)


def looks_like_xlcrm(sheets: list[SheetRef]) -> bool:
    """A workbook xlcrm wrote before records existed: its mark sheet, or the template's hidden Lists
    sheet together with its How-to sheet (both under xlcrm's own names)."""
    names = {_fold(s.name): s for s in sheets}
    if _fold(MARK_SHEET) in names:
        return True
    lists = [names[_fold(n)] for n in (schema.LISTS.zh, schema.LISTS.en) if _fold(n) in names]
    howto = any(_fold(n) in names for n in (schema.HOWTO.zh, schema.HOWTO.en, schema.HOWTO.tw))
    return howto and any(s.state != "visible" for s in lists)


def free_name(wanted: str, taken: list[str] | set[str], *, limit: int = 31) -> str:
    """`wanted`, or `wanted (2)`, `(3)`… — the first name no sheet has (Excel compares case-insensitively)."""
    folded = {_fold(t) for t in taken}
    if _fold(wanted) not in folded:
        return wanted
    n = 2
    while True:
        suffix = f" ({n})"
        name = wanted[: limit - len(suffix)] + suffix
        if _fold(name) not in folded:
            return name
        n += 1


def system_header(header: str, lang: str) -> str:
    """The header of xlcrm's own computed column when the plain one is a user's column."""
    if lang == "en":
        return f"{header} (xlcrm)"
    return f"{header}（{'系統' if lang == 'zh-TW' else '系统'}）"


def free_header(wanted: str, taken: list[str], lang: str) -> str:
    norm = {schema.normalize_name(t) for t in taken if t}
    if schema.normalize_name(wanted) not in norm:
        return wanted
    name = system_header(wanted, lang)
    n = 2
    while schema.normalize_name(name) in norm:
        name = system_header(f"{wanted} {n}", lang)
        n += 1
    return name


__all__ = [
    "INTERNAL_PREFIX", "MARK_SHEET", "NotOwned", "Ownership", "OwnershipGuard", "Record", "STATE_COLUMNS", "STATE_SHEET", "SheetRef",
    "USER_INPUT_FOR", "free_header", "free_name", "is_internal", "looks_like_xlcrm", "system_header",
]
