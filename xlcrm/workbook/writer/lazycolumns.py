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

from ...ooxml.columns import Kinds
from .rowedit import CellSpec


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
