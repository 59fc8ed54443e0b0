"""Whole columns of new values kept as lists until a sheet is rendered (the computed-column case).

A daily run writes about a dozen computed columns of 10⁵–10⁶ values into Basic Info. Turning each
value into a `CellSpec` in a per-row dict and later into XML one cell at a time costs about 2 µs
per cell; kept as (rows, kinds, texts) per column, the cells' XML is built a column at a time
(`ooxml.columns.cells_xml`) and joined per row. `SheetXml` moves a row's values out of here into
its per-cell edits whenever anything else touches that cell (`take`), so both give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ...ooxml import fastrows
from ...ooxml.addresses import MAX_ROW, col_letter
from ...ooxml.columns import Kinds
from .rowedit import CellSpec, RowRewriter


class RowSet:
    """The rows one or more lazy columns write (columns written for the same rows share one)."""

    def __init__(self, rows: list[int]):
        self.rows = rows
        self._index: dict[int, int] | None = None

    def position(self, row: int) -> int | None:
        if self._index is None:
            self._index = {r: i for i, r in enumerate(self.rows)}
        return self._index.get(row)


@dataclass
class LazyColumn:
    rowset: RowSet
    kinds: Kinds  # one kind for every value, or one per value
    texts: list[str]
    style: object
    taken: set[int] = field(default_factory=set)  # positions moved into the sheet's per-cell edits

    def kind(self, i: int) -> str:
        return self.kinds if isinstance(self.kinds, str) else self.kinds[i]

    def spec(self, i: int) -> CellSpec:
        return CellSpec(self.kind(i), self.texts[i], self.style, None)

    def specs(self) -> Iterator[tuple[int, CellSpec]]:
        """(row, spec) of every value not taken."""
        taken, style, texts = self.taken, self.style, self.texts
        for i, row in enumerate(self.rowset.rows):
            if i not in taken:
                yield row, CellSpec(self.kind(i), texts[i], style, None)


class LazyColumns(dict[int, LazyColumn]):
    """Column number → its lazy values, for one sheet."""

    def add(self, col: int, rows: list[int], kinds: Kinds, texts: list[str], style: object) -> None:
        rowset = next((c.rowset for c in self.values() if c.rowset.rows == rows), None) or RowSet(rows)
        self[col] = LazyColumn(rowset, kinds, texts, style)

    def take(self, row: int, col: int) -> CellSpec | None:
        """The value pending for (row, col), now owned by the caller (None: none pending)."""
        column = self.get(col)
        if column is None:
            return None
        i = column.rowset.position(row)
        if i is None or i in column.taken:
            return None
        column.taken.add(i)
        return column.spec(i)

    def row_specs(self, row: int) -> dict[int, CellSpec]:
        """The values pending for one row, by column (taken ones excluded)."""
        out = {}
        for col, column in self.items():
            i = column.rowset.position(row)
            if i is not None and i not in column.taken:
                out[col] = column.spec(i)
        return out

    def bounds(self) -> tuple[int, int, int, int] | None:
        """(first row, first col, last row, last col) of the values pending, None if none."""
        rowsets = [c.rowset.rows for c in self.values() if c.rowset.rows]
        if not rowsets:
            return None
        cols = [col for col, c in self.items() if c.rowset.rows]
        return min(map(min, rowsets)), min(cols), max(map(max, rowsets)), max(cols)


def _union(arrays: list[np.ndarray]) -> np.ndarray:
    """The row numbers in any of `arrays`, ascending, once each: marked in a table of the sheet's rows
    (np.unique sorts them: 1 s for the L book's columns of 10⁶ rows; this takes milliseconds)."""
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        return np.empty(0, dtype=np.int64)
    low = min(int(a.min()) for a in arrays)
    high = max(int(a.max()) for a in arrays)
    if low < 0 or high > MAX_ROW:  # not sheet rows: sort instead
        return np.unique(np.concatenate(arrays))
    seen = np.zeros(high + 1, dtype=bool)
    for a in arrays:
        seen[a] = True
    return np.flatnonzero(seen).astype(np.int64, copy=False)


class LazyRows:
    """The rows a sheet's lazy columns write, and their cells' XML made a block of rows at a time
    (a column at a time within the block; each column's values found by row, in any order)."""

    def __init__(self, columns: LazyColumns):
        self.columns = columns
        self.cols = sorted(columns)
        by_rowset: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
        for col in self.cols:
            rowset = columns[col].rowset
            if id(rowset) not in by_rowset:
                rows = np.asarray(rowset.rows, dtype=np.int64)
                order = None
                if len(rows) > 1 and not bool((rows[1:] > rows[:-1]).all()):
                    order = np.argsort(rows, kind="stable")  # positions in the column's lists, by row
                    rows = rows[order]
                by_rowset[id(rowset)] = (rows, order)
        self._by_col = {col: by_rowset[id(columns[col].rowset)] for col in self.cols}
        self.rows = _union([rows for rows, _ in by_rowset.values()])

    def merged_with(self, edits: dict[int, object]) -> list[int]:
        """These rows and the rows with per-cell edits, ascending."""
        if not edits:
            return self.rows.tolist()
        return _union([self.rows, np.fromiter(edits, dtype=np.int64, count=len(edits))]).tolist()

    def cells(self, rewriter: RowRewriter, block: list[int]) -> dict[int, tuple[str, int, int]]:
        """Row → (the XML of its lazy cells, first and last lazy column) for each row written by a
        lazy column among `block` (ascending row numbers)."""
        if not self.cols or not block:
            return {}
        first, last = block[0], block[-1]
        union = self.rows[np.searchsorted(self.rows, first) : np.searchsorted(self.rows, last, side="right")]
        if not len(union):
            return {}
        present = np.zeros((len(self.cols), len(union)), dtype=bool)
        values: list[tuple[int, np.ndarray, Kinds, list[str], object]] = []  # (col, positions in union, …)
        for i, col in enumerate(self.cols):
            rows, order = self._by_col[col]
            i0, i1 = np.searchsorted(rows, [first, last + 1]).tolist()
            if i1 <= i0:
                continue
            column = self.columns[col]
            if order is None:
                texts = column.texts[i0:i1]
                kinds = column.kinds if isinstance(column.kinds, str) else column.kinds[i0:i1]
            else:
                picked = order[i0:i1].tolist()
                texts = [column.texts[k] for k in picked]
                kinds = column.kinds if isinstance(column.kinds, str) else [column.kinds[k] for k in picked]
            at = np.searchsorted(union, rows[i0:i1])
            present[i, at] = True
            values.append((col, at, kinds, texts, column.style))
        numbers = np.asarray(self.cols)
        lo = numbers[present.argmax(axis=0)].tolist()
        hi = numbers[len(self.cols) - 1 - present[::-1].argmax(axis=0)].tolist()
        join = self._joined_by_polars if fastrows.worth_it(len(union) * len(values)) else self._joined
        return dict(zip(union.tolist(), zip(join(rewriter, union, values), lo, hi)))

    @staticmethod
    def _joined(rewriter: RowRewriter, union: np.ndarray, values: list) -> list[bytes]:
        """Each row's cells side by side, as UTF-8: a column's cells made at once (`cells_xml`), joined per row."""
        aligned = []
        for col, at, kinds, texts, style in values:
            cells = np.full(len(union), "", dtype=object)
            cells[at] = rewriter.column_cells(col, list(map(str, union[at].tolist())), kinds, texts, style)
            aligned.append(cells.tolist())
        return [row.encode("utf-8") for row in map("".join, zip(*aligned))]

    @staticmethod
    def _joined_by_polars(rewriter: RowRewriter, union: np.ndarray, values: list) -> list[bytes]:
        """The same text joined by polars (`cells_xml`'s grammar as a table: `ooxml.fastrows`)."""
        prepared = []
        for col, at, kinds, texts, style in values:
            column = fastrows.PreparedColumn.of(rewriter.sheet.p, col_letter(col), kinds, texts,
                                                rewriter.column_sattr(col, style))
            prepared.append(column.aligned(at, len(union)))
        return fastrows.cells_joined(prepared, union.tolist())
