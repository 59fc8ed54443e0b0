"""Excel Tables (ListObjects): keep `ref`, `autoFilter` and `tableColumns` consistent with the cells.

Rules Excel enforces on open (or it "repairs" the file and drops the table): the header cell of
each column must hold exactly `tableColumn@name`, names are unique within a table, and `ref`
covers header, data and totals rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ...ooxml.addresses import parse_range, range_ref
from ...ooxml.package import Package
from ...ooxml.xmltree import parse_xml, serialize_xml

TABLE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table"


@dataclass
class Table:
    part: str
    root: etree._Element
    dirty: bool = False

    @property
    def ns(self) -> str:
        return etree.QName(self.root).namespace

    def _q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    @property
    def name(self) -> str:
        return self.root.get("displayName") or self.root.get("name") or ""

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        return parse_range(self.root.get("ref"))

    @property
    def header_row(self) -> int | None:
        return None if self.root.get("headerRowCount") == "0" else self.bounds[0]

    @property
    def totals_rows(self) -> int:
        return int(self.root.get("totalsRowCount", "0") or 0)

    def columns(self) -> list[etree._Element]:
        cols = self.root.find(self._q("tableColumns"))
        return [] if cols is None else [c for c in cols if isinstance(c.tag, str)]

    def set_ref(self, r1: int, c1: int, r2: int, c2: int) -> None:
        ref = range_ref(r1, c1, r2, c2)
        self.root.set("ref", ref)
        auto = self.root.find(self._q("autoFilter"))
        if auto is not None:
            last = r2 - self.totals_rows
            auto.set("ref", range_ref(r1, c1, max(last, r1), c2))
        self.dirty = True

    def add_column(self, header: str) -> str:
        """Extend the table one column to the right; return the (unique) column name used."""
        cols_el = self.root.find(self._q("tableColumns"))
        existing = {c.get("name", "").casefold() for c in self.columns()}
        name, n = header, 2
        while name.casefold() in existing:
            name, n = f"{header}{n}", n + 1
        ids = [int(c.get("id", "0")) for c in self.columns()]
        col = etree.SubElement(cols_el, self._q("tableColumn"))
        col.set("id", str(max(ids, default=0) + 1))
        col.set("name", name)
        cols_el.set("count", str(len(self.columns())))
        r1, c1, r2, c2 = self.bounds
        self.set_ref(r1, c1, r2, c2 + 1)
        return name

    def rename_column(self, index: int, name: str) -> None:
        cols = self.columns()
        if 0 <= index < len(cols) and cols[index].get("name") != name:
            cols[index].set("name", name)
            self.dirty = True


class SheetTables:
    def __init__(self, pkg: Package, sheet_part: str):
        self.pkg = pkg
        self.tables: list[Table] = []
        for rel in pkg.rels(sheet_part):
            if rel.type == TABLE_REL and not rel.external:
                from ...ooxml.rels import resolve_target

                part = resolve_target(sheet_part, rel.target)
                if pkg.exists(part):
                    self.tables.append(Table(part, parse_xml(pkg.read(part))))

    def with_header_row(self, row: int) -> Table | None:
        for t in self.tables:
            if t.header_row == row:
                return t
        return None

    def containing(self, row: int, col: int) -> Table | None:
        for t in self.tables:
            r1, c1, r2, c2 = t.bounds
            if r1 <= row <= r2 and c1 <= col <= c2:
                return t
        return None

    def write_back(self) -> None:
        for t in self.tables:
            if t.dirty:
                self.pkg.write(t.part, serialize_xml(t.root))
