"""What xlcrm owns in a workbook: the tool sheets and computed columns it created, and nothing else.

The rule: xlcrm writes only what it can prove it created. Proof is a record in the very-hidden
state sheet `_xlcrm_state`, made by the writer at the moment it creates a sheet or a column. A
user's sheet or column that merely has the same name is the user's: read as input, never written.

Records name sheets by their name and workbook `sheetId` (so a tool sheet the user renamed is still
found) and columns by their data sheet's key and header text.

Workbooks written before records existed (no state sheet, but xlcrm's mark sheet or its template's
hidden Lists + How-to sheets) are *legacy*: there, sheets and columns under xlcrm's own canonical
names (not synonyms) are taken as xlcrm's, and recorded at the next write.

This module is pure: the reader, the writer and the live-Excel adapter feed it what they read;
the guard that checks edits against it is `xlcrm.workbook.ownership`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import schema

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


def fold(text: str) -> str:
    """A sheet name or header as Excel compares them: trimmed, case-folded."""
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
        by_name = {fold(s.name): s for s in sheets}
        by_id = {s.sheet_id: s for s in sheets if s.sheet_id}
        out: dict[str, str] = {}
        claimed: set[str] = set()
        for r in self.records:
            if r.kind != "sheet" or r.key in out:
                continue
            found = by_name.get(fold(r.sheet))
            if found is None and r.sheet_id in by_id:
                # Renamed by the user: follow it by sheetId, unless that id now names a recorded sheet.
                candidate = by_id[r.sheet_id]
                if not any(fold(o.sheet) == fold(candidate.name) for o in self.records if o is not r):
                    found = candidate
            if found is not None and fold(found.name) not in claimed:
                out[r.key] = found.name
                claimed.add(fold(found.name))
        if self.legacy:
            for spec in schema.TOOL_SHEETS:
                if spec.key in out:
                    continue
                for s in sheets:
                    if fold(s.name) in {fold(n) for n in (spec.zh, spec.en, spec.tw) if n} and fold(s.name) not in claimed:
                        out[spec.key] = s.name
                        claimed.add(fold(s.name))
                        break
        return out

    def owns_sheet(self, name: str, sheets: list[SheetRef]) -> bool:
        return is_internal(name) or fold(name) in {fold(n) for n in self.tool_sheets(sheets).values()}

    def record_sheet(self, key: str, ref: SheetRef) -> None:
        self.records = [r for r in self.records
                        if not (r.kind == "sheet" and (r.key == key or fold(r.sheet) == fold(ref.name)))]
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


def looks_like_xlcrm(sheets: list[SheetRef]) -> bool:
    """A workbook xlcrm wrote before records existed: its mark sheet, or the template's hidden Lists
    sheet together with its How-to sheet (both under xlcrm's own names)."""
    names = {fold(s.name): s for s in sheets}
    if fold(MARK_SHEET) in names:
        return True
    lists = [names[fold(n)] for n in (schema.LISTS.zh, schema.LISTS.en) if fold(n) in names]
    howto = any(fold(n) in names for n in (schema.HOWTO.zh, schema.HOWTO.en, schema.HOWTO.tw))
    return howto and any(s.state != "visible" for s in lists)


def free_name(wanted: str, taken: list[str] | set[str], *, limit: int = 31) -> str:
    """`wanted`, or `wanted (2)`, `(3)`… — the first name no sheet has (Excel compares case-insensitively)."""
    folded = {fold(t) for t in taken}
    if fold(wanted) not in folded:
        return wanted
    n = 2
    while True:
        suffix = f" ({n})"
        name = wanted[: limit - len(suffix)] + suffix
        if fold(name) not in folded:
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
    "INTERNAL_PREFIX", "MARK_SHEET", "Ownership", "Record", "STATE_COLUMNS", "STATE_SHEET", "SheetRef",
    "USER_INPUT_FOR", "fold", "free_header", "free_name", "is_internal", "looks_like_xlcrm", "system_header",
]
