"""A1 cell addresses: column letters ↔ numbers, `B12` ↔ (row, col), ranges, quoted sheet names."""

from __future__ import annotations

import re
from functools import lru_cache

_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")
MAX_COL = 16384  # XFD, Excel's last column
MAX_ROW = 1_048_576  # Excel's last row


@lru_cache(maxsize=20000)
def col_letter(n: int) -> str:
    """1 → A, 27 → AA."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


@lru_cache(maxsize=20000)
def col_index(letters: str) -> int:
    """A → 1, AA → 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def split_ref(ref: str) -> tuple[int, int]:
    """`B12` → (12, 2)."""
    m = _REF.fullmatch(ref.strip())
    if not m:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(m.group(2)), col_index(m.group(1))


def cell_ref(row: int, col: int) -> str:
    return f"{col_letter(col)}{row}"


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """`A1:C9` → (row1, col1, row2, col2); a single cell is a 1×1 range."""
    a, _, b = ref.partition(":")
    r1, c1 = split_ref(a)
    r2, c2 = split_ref(b) if b else (r1, c1)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def range_ref(r1: int, c1: int, r2: int, c2: int) -> str:
    return f"{cell_ref(r1, c1)}:{cell_ref(r2, c2)}" if (r1, c1) != (r2, c2) else cell_ref(r1, c1)


def quote_sheet(name: str) -> str:
    """A sheet name as formulas need it: always quoted, quotes doubled (CJK, spaces, quotes)."""
    return "'" + name.replace("'", "''") + "'"
