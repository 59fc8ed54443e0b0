"""Where each `<row>` of a worksheet's sheetData lies in its bytes, found without parsing XML.

`RowIndex` is the part of `SheetXml` that maps row numbers to byte offsets: a complete index
(one `find` pass, C speed) or, for a big sheet with few rows to edit, a lazy one that bisects
the bytes and remembers the rows it met (Excel writes rows ascending, each with `r=`).
"""

from __future__ import annotations

import bisect
import re

import numpy as np

from ...errors import Location, WriteFailed
from ...ooxml import spill

# Sheets above this size find the rows they edit by bisecting bytes instead of indexing every row,
# unless more than LAZY_MAX_ROWS (+1 per 50 kB) rows are edited.
LAZY_MIN_BYTES = 8 << 20
LAZY_MAX_ROWS = 2000


class Located:
    """`RowIndex.locate` of many rows as arrays; a slice gives its rows' (found, start, end) tuples.
    The render takes a block of rows at a time: a million rows' tuples held at once were ~140 MB."""

    def __init__(self, found: np.ndarray, start: np.ndarray, end: np.ndarray):
        self.found, self.start, self.end = found, start, end

    def __len__(self) -> int:
        return len(self.found)

    def __getitem__(self, rows: slice) -> list[tuple[bool, int, int]]:
        return list(zip(self.found[rows].tolist(), self.start[rows].tolist(), self.end[rows].tolist()))


class RowIndex:
    """Row number → (start, end) byte offsets in `data[b0:b1]` (set up by the subclass).

    Needs `data`, `b0`, `b1`, `p` (namespace prefix), `name`, `row_open` (b"<row") and
    `row_close` (b"</row>"); keeps `rows`, `starts`, `ends` (ascending), `full` and
    `rows_without_r` (some rows count by position, not by `r=`).
    """

    data: bytes
    b0: int
    b1: int
    p: str
    name: str
    row_open: bytes
    row_close: bytes

    def reset_index(self) -> None:
        self.rows: list[int] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.full = False

    def lazy_possible(self) -> bool:
        """A big sheet whose first and last rows carry `r=`: rows can be found by bisecting bytes.

        Excel writes rows in ascending order with `r=` on each; finding a handful of rows in a
        450 MB sheet then costs microseconds instead of indexing a million rows.
        """
        if self.b1 - self.b0 < LAZY_MIN_BYTES or b"<!--" in self.data[self.b0 : self.b0 + 4096]:
            return False
        first = self.row_at(self.b0, self.b1)
        last = self.row_before(self.b1)
        return first is not None and last is not None and first[0] is not None and last[0] is not None

    def row_at(self, pos: int, limit: int) -> tuple[int | None, int, int] | None:
        """(number or None, start, end) of the first row whose tag starts in [pos, limit)."""
        data, open_ = self.data, self.row_open
        n = len(open_)
        start = data.find(open_, pos, limit)
        while start >= 0 and data[start + n] not in b" \t\r\n/>":
            start = data.find(open_, start + n, limit)
        if start < 0:
            return None
        return self.row_from(start)

    def row_before(self, pos: int) -> tuple[int | None, int, int] | None:
        """The last row whose tag starts before `pos`."""
        data, open_ = self.data, self.row_open
        n = len(open_)
        start = data.rfind(open_, self.b0, pos)
        while start >= 0 and data[start + n] not in b" \t\r\n/>":
            start = data.rfind(open_, self.b0, start)
        if start < 0:
            return None
        return self.row_from(start)

    def row_from(self, start: int) -> tuple[int | None, int, int]:
        data = self.data
        gt = data.find(b">", start)
        attrs = data[start + len(self.row_open) : gt]
        i = attrs.find(b' r="')
        if i < 0:
            m = re.search(rb'\sr="', attrs)
            i = m.start() if m else -1
        num = int(attrs[i + 4 : attrs.find(b'"', i + 4)]) if i >= 0 else None
        end = gt + 1 if data[gt - 1] == 0x2F else data.find(self.row_close, gt) + len(self.row_close)
        return num, start, end

    def index_rows(self) -> None:
        """Locate every `<row>` with plain `find` calls (C speed; a regex is 10× slower here)."""
        data = self.data
        prev = 0
        close = self.row_close
        open_ = self.row_open
        n = len(open_)
        rows, starts, ends = [], [], []
        limit = self.b1
        # A spilled part (ooxml.spill) hands back the pages behind the scan as it goes.
        dropped = self.b0 if spill.is_spilled(data) else limit
        pos = data.find(open_, self.b0, limit)
        while pos >= 0:
            if pos - dropped > spill.SCAN_STEP:
                spill.drop(data, dropped, pos)
                dropped = pos
            if data[pos + n] not in b" \t\r\n/>":
                pos = data.find(open_, pos + n, limit)
                continue
            gt = data.find(b">", pos)
            attrs = data[pos + n : gt]
            i = attrs.find(b' r="')
            if i < 0:
                m = re.search(rb'\sr="', attrs)
                i = m.start() if m else -1
            if i >= 0:
                j = attrs.find(b'"', i + 4)
                num = int(attrs[i + 4 : j])
            else:
                num = prev + 1
                self.rows_without_r = True
            if num <= prev:
                raise WriteFailed(
                    "工作表的行顺序异常（第 {row} 行）",
                    "rows are out of order (row {row})",
                    location=Location(sheet=self.name),
                    row=num,
                )
            end = gt + 1 if data[gt - 1] == 0x2F else data.find(close, gt) + len(close)
            rows.append(num)
            starts.append(pos)
            ends.append(end)
            prev = num
            pos = data.find(open_, end, limit)
        if dropped < limit:
            spill.drop(data, dropped, limit)
        self.rows, self.starts, self.ends = rows, starts, ends
        self.full = True

    def expect_rows(self, n: int) -> None:
        """`n` rows are about to be looked up or edited: index every row now if that is cheaper than
        bisecting for each (the rule of `LAZY_MAX_ROWS`)."""
        if n and not self.full and n > LAZY_MAX_ROWS + (self.b1 - self.b0) // 50_000:
            self.index_rows()

    def ensure_full_index(self) -> None:
        if not self.full:
            self.index_rows()

    def locate(self, row: int) -> tuple[bool, int, int]:
        """(found, start, end) of a row; when absent, start == end == where it would be inserted."""
        rows = self.rows
        k = bisect.bisect_left(rows, row)
        if k < len(rows) and rows[k] == row:
            return True, self.starts[k], self.ends[k]
        if self.full:
            at = self.starts[k] if k < len(rows) else self.b1
            return False, at, at
        a = self.ends[k - 1] if k > 0 else self.b0  # row `row`, if present, starts in [a, b)
        b = self.starts[k] if k < len(rows) else self.b1
        while b - a > 8192:
            mid = (a + b) // 2
            found = self.row_at(mid, b)
            if found is None:
                b = mid
                continue
            if found[0] is None:  # a row without r=: positions count, index everything
                self.index_rows()
                return self.locate(row)
            self.remember(found)
            if found[0] == row:
                return True, found[1], found[2]
            if found[0] < row:
                a = found[2]
            else:
                b = found[1]
        while True:
            found = self.row_at(a, b)
            if found is None:
                return False, b, b
            if found[0] is None:
                self.index_rows()
                return self.locate(row)
            if found[0] >= row:
                self.remember(found)
                if found[0] == row:
                    return True, found[1], found[2]
                return False, found[1], found[1]
            a = found[2]

    def locate_all(self, rows: list[int]) -> Located | None:
        """`locate` for many rows at once with one search of a complete index (a 100k-row sheet:
        0.05 s instead of 0.4 s of bisecting row by row); None when the index is not complete."""
        if not self.full:
            return None
        index = np.asarray(self.rows, dtype=np.int64)
        wanted = np.asarray(rows, dtype=np.int64)
        k = np.searchsorted(index, wanted)
        found = np.zeros(len(wanted), dtype=bool)
        inside = k < len(index)
        found[inside] = index[k[inside]] == wanted[inside]
        starts = np.append(np.asarray(self.starts, dtype=np.int64), self.b1)  # past the last row: at b1
        ends = np.append(np.asarray(self.ends, dtype=np.int64), self.b1)
        start = starts[k]
        return Located(found, start, np.where(found, ends[k], start))

    def remember(self, found: tuple[int | None, int, int]) -> None:
        num, start, end = found
        k = bisect.bisect_left(self.rows, num)
        if k < len(self.rows) and self.rows[k] == num:
            return
        if (k > 0 and self.starts[k - 1] >= start) or (k < len(self.rows) and self.starts[k] <= start):
            raise WriteFailed(
                "工作表的行顺序异常（第 {row} 行）",
                "rows are out of order (row {row})",
                location=Location(sheet=self.name),
                row=num,
            )
        self.rows.insert(k, num)
        self.starts.insert(k, start)
        self.ends.insert(k, end)

    def rows_from_end(self):
        """(number, start, end) of each row, last first."""
        if self.full:
            for k in range(len(self.rows) - 1, -1, -1):
                yield self.rows[k], self.starts[k], self.ends[k]
            return
        pos = self.b1
        while True:
            found = self.row_before(pos)
            if found is None:
                return
            if found[0] is None:
                self.index_rows()
                yield from self.rows_from_end()
                return
            yield found
            pos = found[1]

    @property
    def last_row(self) -> int:
        """The last row holding a cell with a value (rows with only formatting do not count)."""
        p = self.p.encode()
        for num, start, end in self.rows_from_end():
            chunk = self.data[start:end]
            if b"<" + p + b"v>" in chunk or b't="inlineStr"' in chunk or b"<" + p + b"f" in chunk:
                return num
        return 0

    def first_row_number(self) -> int | None:
        found = self.row_at(self.b0, self.b1)
        if found is None:
            return None
        if found[0] is None:
            self.ensure_full_index()
            return self.rows[0] if self.rows else None
        return found[0]

    def last_row_number(self) -> int | None:
        for num, _, _ in self.rows_from_end():
            return num
        return None
