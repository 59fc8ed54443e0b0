"""Where rows go when whole rows are deleted or inserted, and the references that must follow them.

Two mappings share one interface, `row(r)` (None: the row is deleted) and `range(r1, r2)`:
- `DeleteShift`: rows below a deleted row move up; a range shrinks by the deleted rows inside it
  (None when all of it goes, which in a formula is Excel's #REF!).
- `InsertShift`: rows at or below an inserted position move down; a formula range grows when a
  row is inserted strictly inside it (Excel's rule). Ranges that *describe* a sheet region
  (validation/format ranges, Tables, the autofilter) also take in inserted rows right at their
  edges (`grow=True`): re-inserting a row that was deleted from the end of a range puts it back in.

Formula text is shifted token by token: A1 references (cells, ranges, whole rows) on the sheet
that moves, qualified by that sheet's name or unqualified on that sheet itself; string literals,
structured references and function names are left alone.
"""

from __future__ import annotations

import bisect
import re

from ...ooxml.addresses import MAX_ROW


class DeleteShift:
    def __init__(self, rows: list[int]):
        self.deleted = sorted(set(rows))
        self.first = self.deleted[0]

    def row(self, r: int) -> int | None:
        k = bisect.bisect_left(self.deleted, r)
        if k < len(self.deleted) and self.deleted[k] == r:
            return None
        return r - k

    def range(self, r1: int, r2: int, grow: bool = False) -> tuple[int, int] | None:
        above = bisect.bisect_left(self.deleted, r1)
        upto = bisect.bisect_right(self.deleted, r2)
        n1 = r1 - above
        n2 = r2 if r2 >= MAX_ROW else r2 - upto
        return None if n2 < n1 else (n1, n2)


class InsertShift:
    def __init__(self, rows: list[int]):
        self.inserted = sorted(set(rows))  # row numbers the new rows have afterwards
        self.first = self.inserted[0]
        self._set = set(self.inserted)

    def row(self, r: int) -> int:
        if r >= MAX_ROW:
            return r
        k = 0  # the old rows fill, in order, the numbers the inserted rows leave free
        for p in self.inserted:
            if p <= r + k:
                k += 1
            else:
                break
        return r + k

    def range(self, r1: int, r2: int, grow: bool = False) -> tuple[int, int]:
        n1, n2 = self.row(r1), self.row(r2)
        if grow:
            while n1 - 1 in self._set:
                n1 -= 1
            while n2 < MAX_ROW and n2 + 1 in self._set:
                n2 += 1
        return n1, n2


Shift = DeleteShift | InsertShift

# --------------------------------------------------------------------------- range texts

_CELL = re.compile(r"(\$?)([A-Z]{1,3})(\$?)(\d+)")


def shift_ref(ref: str, shift: Shift, grow: bool = False) -> str | None:
    """`B5` or `A2:F300` (no sheet name) moved; None when every row of it is deleted."""
    first, _, second = ref.partition(":")
    m1 = _CELL.fullmatch(first)
    m2 = _CELL.fullmatch(second) if second else m1
    if not m1 or not m2:
        return ref  # whole columns (A:A) and anything else row-free stay as they are
    r1, r2 = int(m1.group(4)), int(m2.group(4))
    if not second:
        n = shift.row(r1)
        if n is None:
            return None
        return f"{m1.group(1)}{m1.group(2)}{m1.group(3)}{n}"
    moved = shift.range(r1, r2, grow)
    if moved is None:
        return None
    return (f"{m1.group(1)}{m1.group(2)}{m1.group(3)}{moved[0]}:"
            f"{m2.group(1)}{m2.group(2)}{m2.group(3)}{moved[1]}")


def shift_sqref(sqref: str, shift: Shift) -> str:
    parts = [shift_ref(p, shift, grow=True) for p in sqref.split()]
    return " ".join(p for p in parts if p)


# --------------------------------------------------------------------------- formulas

# String literals, and bracketed parts (structured references, external book numbers): not references.
_OPAQUE = re.compile(r'"(?:[^"]|"")*"|\[[^\]]*\]')
_REF = re.compile(
    r"(?<![\w.$\u0080-\uffff])"
    r"(?P<sheet>(?:'(?:[^']|'')+'|[^\s!'\"(),;:+\-*/&=<>^%{}\[\]]+)!)?"
    r"(?P<ref>\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?|\$?\d+:\$?\d+)"
    r"(?![\w(.\u0080-\uffff])"
)
_ROWS = re.compile(r"(\$?)(\d+):(\$?)(\d+)")


class BrokenReference(Exception):
    """A formula refers to a row that is being deleted."""

    def __init__(self, ref: str):
        super().__init__(ref)
        self.ref = ref


def _unquote(sheet: str) -> str:
    sheet = sheet[:-1]
    if sheet.startswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet


def shift_formula(text: str, target: str, home_is_target: bool, shift: Shift) -> str:
    """The formula with references into sheet `target` moved; raises BrokenReference."""
    wanted = target.casefold()

    def one(m: re.Match) -> str:
        sheet, ref = m.group("sheet"), m.group("ref")
        if sheet is not None:
            name = _unquote(sheet)
            if "[" in sheet or name.casefold() != wanted:
                return m.group(0)
        elif not home_is_target:
            return m.group(0)
        rows = _ROWS.fullmatch(ref)
        if rows:
            moved = shift.range(int(rows.group(2)), int(rows.group(4)))
            if moved is None:
                raise BrokenReference((sheet or "") + ref)
            new = f"{rows.group(1)}{moved[0]}:{rows.group(3)}{moved[1]}"
        else:
            new = shift_ref(ref, shift)
            if new is None:
                raise BrokenReference((sheet or "") + ref)
        return (sheet or "") + new

    out, pos = [], 0
    for m in _OPAQUE.finditer(text):
        out.append(_REF.sub(one, text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_REF.sub(one, text[pos:]))
    return "".join(out)


def names_sheet(text: str, target: str) -> bool:
    """Whether a formula may refer to sheet `target` by name (a cheap test before parsing)."""
    return target in text or target.replace("'", "''") in text
