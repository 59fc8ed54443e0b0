"""Edit the cells of one worksheet part without building a DOM.

The part is split into head (before `<sheetData>`), the rows, and tail. Rows are located once
with a byte-level scan; only rows that receive a value are decoded and rewritten, every other
byte is copied as is. That is what makes writing a column into a 100 MB sheet take about a
second. Rows or cells without `r=` get explicit references when their row is rewritten.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from ...errors import Location, WriteFailed
from ...ooxml.addresses import cell_ref, col_index, col_letter, parse_range, range_ref
from ...ooxml.cellxml import cell_tags, cell_xml
from ...ooxml.package import Rope

# Sheets above this size find the rows they edit by bisecting bytes instead of indexing every row,
# unless more than LAZY_MAX_ROWS (+1 per 50 kB) rows are edited.
LAZY_MIN_BYTES = 8 << 20
LAZY_MAX_ROWS = 2000
ROPE_MIN_BYTES = 16 << 20  # rendered parts above this stay in pieces (see package.Rope)

# (existing style or None, is the cell new, value kind, requested style) → style index to write
StyleResolver = Callable[[int | None, bool, str, object], int | None]

_ROOT = re.compile(rb"<(\w+:)?worksheet\b")
_ATTR_R = re.compile(r'\br="([A-Za-z]*)(\d*)"')
_ATTR_S = re.compile(r'\bs="(\d+)"')


class CellSpec(NamedTuple):
    kind: str  # see cells.encode; "keep" = leave the value alone (style change only)
    text: str
    style: object = None  # CellStyle or None
    force_s: int | None = None  # an exact style index (marks)


_new_spec = tuple.__new__


@dataclass
class ParsedCell:
    col: int
    xml: str
    style: int | None
    has_formula: bool


class SheetXml:
    def __init__(self, data: bytes, name: str = ""):
        self.name = name
        m = _ROOT.search(data, 0, 2000)
        self.p = (m.group(1) or b"").decode() if m else ""
        p = self.p.encode()
        self._row_start_re = re.compile(rb"<" + p + rb"row\b([^>]*?)(/?)>")
        self._row_close = b"</" + p + b"row>"
        start = data.find(b"<" + p + b"sheetData")
        if start < 0:
            raise WriteFailed(
                "工作表结构无法识别（缺少 sheetData）",
                "the sheet's structure is not recognised (no sheetData)",
                location=Location(sheet=name),
            )
        tag_end = data.find(b">", start) + 1
        self.head = data[:start].decode("utf-8")
        # The body stays inside `data` (no copy): rows are addressed by absolute offsets in it.
        self.data = data
        if data[tag_end - 2 : tag_end] == b"/>":
            self.b0 = self.b1 = 0
            self.data = b""
            self.tail = data[tag_end:].decode("utf-8")
        else:
            close = data.rfind(b"</" + p + b"sheetData>", tag_end)  # from the end: no scan of the rows
            self.b0, self.b1 = tag_end, close
            self.tail = data[close + len(b"</" + p + b"sheetData>") :].decode("utf-8")
        self._open = b"<" + p + b"row"
        # Row index: complete (`full`) or, for a big sheet with few edited rows, the rows found so far.
        self.rows: list[int] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.full = False
        self.rows_without_r = False
        if not self._lazy_possible():
            self._index_rows()
        self.edits: dict[int, dict[int, CellSpec]] = {}
        # Whole new rows below every existing row (appended rows), row → `<row>` XML; see add_rows.
        self.new_rows: dict[int, str] = {}
        self._new_cols: set[int] = set()
        self.formula_overwritten = False
        self.body_changed = False
        self.max_col_written = 0
        self.evidence: list[bytes] | None = None  # set by render; see verify.check_changed_xml
        self._unshared: set[tuple[int, int]] = set()  # shared-formula masters whose dependents were unshared

    # -- the body --------------------------------------------------------------------------------
    @property
    def body(self) -> bytes:
        """sheetData's content as bytes (a copy unless the body is all of `data`)."""
        if self.b0 == 0 and self.b1 == len(self.data):
            return self.data
        return self.data[self.b0 : self.b1]

    @body.setter
    def body(self, value: bytes) -> None:
        self.data, self.b0, self.b1 = value, 0, len(value)
        self.rows, self.starts, self.ends = [], [], []
        self.full = False

    def release(self) -> None:
        """Drop the body and pending edits (the part has been rendered)."""
        self.data, self.b0, self.b1, self.edits, self.new_rows = b"", 0, 0, {}, {}
        self.rows, self.starts, self.ends = [], [], []

    # -- reading -------------------------------------------------------------------------------
    def _lazy_possible(self) -> bool:
        """A big sheet whose first and last rows carry `r=`: rows can be found by bisecting bytes.

        Excel writes rows in ascending order with `r=` on each; finding a handful of rows in a
        450 MB sheet then costs microseconds instead of indexing a million rows.
        """
        if self.b1 - self.b0 < LAZY_MIN_BYTES or b"<!--" in self.data[self.b0 : self.b0 + 4096]:
            return False
        first = self._row_at(self.b0, self.b1)
        last = self._row_before(self.b1)
        return first is not None and last is not None and first[0] is not None and last[0] is not None

    def _row_at(self, pos: int, limit: int) -> tuple[int | None, int, int] | None:
        """(number or None, start, end) of the first row whose tag starts in [pos, limit)."""
        data, open_ = self.data, self._open
        n = len(open_)
        start = data.find(open_, pos, limit)
        while start >= 0 and data[start + n] not in b" \t\r\n/>":
            start = data.find(open_, start + n, limit)
        if start < 0:
            return None
        return self._row_from(start)

    def _row_before(self, pos: int) -> tuple[int | None, int, int] | None:
        """The last row whose tag starts before `pos`."""
        data, open_ = self.data, self._open
        n = len(open_)
        start = data.rfind(open_, self.b0, pos)
        while start >= 0 and data[start + n] not in b" \t\r\n/>":
            start = data.rfind(open_, self.b0, start)
        if start < 0:
            return None
        return self._row_from(start)

    def _row_from(self, start: int) -> tuple[int | None, int, int]:
        data = self.data
        gt = data.find(b">", start)
        attrs = data[start + len(self._open) : gt]
        i = attrs.find(b' r="')
        if i < 0:
            m = re.search(rb'\sr="', attrs)
            i = m.start() if m else -1
        num = int(attrs[i + 4 : attrs.find(b'"', i + 4)]) if i >= 0 else None
        end = gt + 1 if data[gt - 1] == 0x2F else data.find(self._row_close, gt) + len(self._row_close)
        return num, start, end

    def _index_rows(self) -> None:
        """Locate every `<row>` with plain `find` calls (C speed; a regex is 10× slower here)."""
        data = self.data
        prev = 0
        close = self._row_close
        open_ = self._open
        n = len(open_)
        rows, starts, ends = [], [], []
        limit = self.b1
        pos = data.find(open_, self.b0, limit)
        while pos >= 0:
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
        self.rows, self.starts, self.ends = rows, starts, ends
        self.full = True

    def ensure_full_index(self) -> None:
        if not self.full:
            self._index_rows()

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
            found = self._row_at(mid, b)
            if found is None:
                b = mid
                continue
            if found[0] is None:  # a row without r=: positions count, index everything
                self._index_rows()
                return self.locate(row)
            self._remember(found)
            if found[0] == row:
                return True, found[1], found[2]
            if found[0] < row:
                a = found[2]
            else:
                b = found[1]
        while True:
            found = self._row_at(a, b)
            if found is None:
                return False, b, b
            if found[0] is None:
                self._index_rows()
                return self.locate(row)
            if found[0] >= row:
                self._remember(found)
                if found[0] == row:
                    return True, found[1], found[2]
                return False, found[1], found[1]
            a = found[2]

    def _remember(self, found: tuple[int | None, int, int]) -> None:
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

    def _rows_from_end(self):
        """(number, start, end) of each row, last first."""
        if self.full:
            for k in range(len(self.rows) - 1, -1, -1):
                yield self.rows[k], self.starts[k], self.ends[k]
            return
        pos = self.b1
        while True:
            found = self._row_before(pos)
            if found is None:
                return
            if found[0] is None:
                self._index_rows()
                yield from self._rows_from_end()
                return
            yield found
            pos = found[1]

    @property
    def last_row(self) -> int:
        """The last row holding a cell with a value (rows with only formatting do not count)."""
        p = self.p.encode()
        for num, start, end in self._rows_from_end():
            chunk = self.data[start:end]
            if b"<" + p + b"v>" in chunk or b't="inlineStr"' in chunk or b"<" + p + b"f" in chunk:
                return num
        return 0

    def first_row_number(self) -> int | None:
        found = self._row_at(self.b0, self.b1)
        if found is None:
            return None
        if found[0] is None:
            self.ensure_full_index()
            return self.rows[0] if self.rows else None
        return found[0]

    def last_row_number(self) -> int | None:
        for num, _, _ in self._rows_from_end():
            return num
        return None

    def row_xml(self, row: int) -> str | None:
        if row in self.new_rows:
            return self.new_rows[row]
        found, start, end = self.locate(row)
        if found:
            return self.data[start:end].decode("utf-8")
        return None

    def parse_cells(self, row_text: str) -> list[ParsedCell]:
        p = self.p
        pattern = re.compile(rf"<{p}c\b([^>]*?)(?:/>|>(.*?)</{p}c>)", re.S)
        out: list[ParsedCell] = []
        col = 0
        for m in pattern.finditer(row_text):
            attrs = m.group(1)
            rm = _ATTR_R.search(attrs)
            col = col_index(rm.group(1)) if rm and rm.group(1) else col + 1
            sm = _ATTR_S.search(attrs)
            out.append(ParsedCell(col, m.group(0), int(sm.group(1)) if sm else None, f"<{p}f" in (m.group(2) or "")))
        return out

    def row_style(self, row_text: str | None) -> int | None:
        if not row_text:
            return None
        tag = row_text[: row_text.find(">")]
        if 'customFormat="1"' in tag or 'customFormat="true"' in tag:
            sm = _ATTR_S.search(tag)
            return int(sm.group(1)) if sm else None
        return None

    def col_styles(self) -> dict[int, int]:
        """Column default styles from `<cols>` (used for new cells, as Excel does)."""
        out = {}
        for m in re.finditer(rf"<{self.p}col\b([^>]*)/?>", self.head):
            attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            if "style" in attrs and "min" in attrs:
                for c in range(int(attrs["min"]), min(int(attrs.get("max", attrs["min"])), 16384) + 1):
                    out[c] = int(attrs["style"])
        return out

    def dimension(self) -> tuple[int, int, int, int] | None:
        m = re.search(rf'<{self.p}dimension ref="([^"]+)"', self.head)
        if not m:
            return None
        try:
            return parse_range(m.group(1))
        except ValueError:
            return None

    # -- editing -------------------------------------------------------------------------------
    def add_rows(self, first_row: int, cols: list[int], columns: list[list[str]]) -> None:
        """New rows from `first_row` on, below every existing row: `columns[j]` holds the `<c>` XML
        of column `cols[j]` (ascending) for each row, "" for no cell. Later edits of these rows
        are applied to this XML when the sheet is rendered."""
        p = self.p
        new_rows = self.new_rows
        for i, cells in enumerate(zip(*columns)):
            text = "".join(cells)
            if text:
                row = first_row + i
                new_rows[row] = f'<{p}row r="{row}">{text}</{p}row>'
        if columns and columns[0]:
            self._new_cols.update(cols)
            self.max_col_written = max(self.max_col_written, max(cols))

    def set_cell(self, row: int, col: int, spec: CellSpec) -> None:
        cells = self.edits.setdefault(row, {})
        old = cells.get(col)
        if old is not None and old.force_s is not None and spec.force_s is None and spec.style is None:
            spec = spec._replace(force_s=old.force_s)
        cells[col] = spec
        self.max_col_written = max(self.max_col_written, col)

    def set_column(self, col: int, rows: list[int], kinds: list[str], texts: list[str], style: object) -> None:
        """Many cells of one column at once (the computed-column case: 100k values)."""
        edits = self.edits
        specs = [_new_spec(CellSpec, (kind, text, style, None)) for kind, text in zip(kinds, texts)]
        for row, spec in zip(rows, specs):
            cells = edits.get(row)
            if cells is None:
                edits[row] = {col: spec}
            elif col in cells:
                self.set_cell(row, col, spec)
            else:
                cells[col] = spec
        self.max_col_written = max(self.max_col_written, col)

    def set_style(self, row: int, col: int, s: int | None) -> None:
        """Give a cell an exact style index, keeping its value (and any value pending for it)."""
        cells = self.edits.setdefault(row, {})
        if col in cells:
            cells[col] = cells[col]._replace(force_s=s)
        else:
            cells[col] = CellSpec("keep", "", None, s)

    def cell_style(self, row: int, col: int) -> int | None:
        """The style index a cell has now (pending style edits included)."""
        spec = self.edits.get(row, {}).get(col)
        if spec is not None and spec.force_s is not None:
            return spec.force_s
        text = self.row_xml(row)
        if text:
            p = self.p
            i = text.find(f'<{p}c r="{col_letter(col)}{row}"')
            if i >= 0:  # the usual case: cells carry their address
                sm = _ATTR_S.search(text, i, text.find(">", i))
                return int(sm.group(1)) if sm else None
            if text.count(f"<{p}c ") + text.count(f"<{p}c>") == text.count(f'<{p}c r="'):
                return self.row_style(text)  # every cell is addressed and none is this one
            for cell in self.parse_cells(text):
                if cell.col == col:
                    return cell.style
            return self.row_style(text)
        return None

    def set_col_width(self, col: int, width: float) -> None:
        """Give a column a width unless a `<col>` entry already covers it."""
        p = self.p
        entries = [
            (m, dict(re.findall(r'(\w+)="([^"]*)"', m.group(1))))
            for m in re.finditer(rf"<{p}col\b([^>]*?)/>", self.head)
        ]
        for _, attrs in entries:
            if int(attrs.get("min", 0)) <= col <= int(attrs.get("max", 0)):
                return
        new = f'<{p}col min="{col}" max="{col}" width="{width:g}" customWidth="1"/>'
        later = [m for m, attrs in entries if int(attrs.get("min", 0)) > col]
        if later:
            at = later[0].start()
            self.head = self.head[:at] + new + self.head[at:]
        elif entries:
            at = self.head.find(f"</{p}cols>")
            self.head = self.head[:at] + new + self.head[at:]
        else:
            self.head = self.head + f"<{p}cols>{new}</{p}cols>"

    def _new_row(self, row: int, cells: dict[int, CellSpec], resolve: StyleResolver, col_styles: dict[int, int]) -> str:
        parts = []
        for col in sorted(cells):
            xml = self._new_cell(row, col, cells[col], col_styles.get(col), True, resolve)
            if xml:
                parts.append(xml)
        if not parts:
            return ""
        return f'<{self.p}row r="{row}">' + "".join(parts) + f"</{self.p}row>"

    def _edit_row(
        self, text: str, row: int, cells: dict[int, CellSpec], resolve: StyleResolver, col_styles: dict[int, int]
    ) -> str:
        p = self.p
        tag_end = text.find(">")
        tag = text[: tag_end + 1]
        if ' spans="' in tag:
            tag = _widen_spans(tag, min(cells), max(cells))
        if self.rows_without_r and not _ATTR_R.search(tag):
            tag = tag.replace(f"<{p}row", f'<{p}row r="{row}"', 1)
        if tag.endswith("/>"):
            inner = ""
            tag = tag[:-2].rstrip() + ">"
        else:
            inner = text[tag_end + 1 : -len(f"</{p}row>")]
        row_default = self.row_style(text) if "customFormat" in tag else None
        j = inner.rfind(f'<{p}c r="')
        if j >= inner.rfind(f"<{p}c ") and j >= inner.rfind(f"<{p}c>"):
            # The row's last cell has an address: if every column written lies right of it, append.
            last = col_index(_letters(inner, j + len(p) + 6)) if j >= 0 else 0
            if last < min(cells):
                new = []
                for col in sorted(cells):
                    spec = cells[col]
                    base = row_default if row_default is not None else col_styles.get(col)
                    new.append(self._new_cell(row, col, spec, base, True, resolve))
                return tag + inner + "".join(new) + f"</{p}row>"
        n_open = inner.count(f"<{p}c ") + inner.count(f"<{p}c>")
        if n_open == inner.count(f'<{p}c r="'):
            inner = self._edit_fast(inner, row, cells, resolve, col_styles, row_default)
        else:
            inner = self._edit_slow(inner, row, cells, resolve, col_styles, row_default)
        return tag + inner + f"</{p}row>"

    def _new_cell(self, row, col, spec, base, is_new, resolve, old: str = "") -> str:
        if spec.kind == "keep":
            if not old:
                return cell_xml(self.p, cell_ref(row, col), spec.force_s, "e", "") if spec.force_s else ""
            te = old.find(">")
            closing = 1 if old[te - 1] == "/" else 0
            tag = old[: te - closing]
            if _ATTR_S.search(tag):  # change the value in place, so attribute order stays as it was
                tag = _ATTR_S.sub(f's="{spec.force_s}"', tag) if spec.force_s else re.sub(r'\s+s="\d+"', "", tag)
            elif spec.force_s:
                tag = tag.rstrip() + f' s="{spec.force_s}"'
            return tag + old[te - closing :]
        s = spec.force_s if spec.force_s is not None else resolve(base, is_new, spec.kind, spec.style)
        if spec.kind == "e" and not s and is_new:
            return ""
        return cell_xml(self.p, cell_ref(row, col), s, spec.kind, spec.text)

    def _edit_fast(self, inner, row, cells, resolve, col_styles, row_default) -> str:
        p = self.p
        close = f"</{p}c>"
        for col in sorted(cells):
            spec = cells[col]
            needle = f'<{p}c r="{col_letter(col)}{row}"'
            i = inner.find(needle)
            if i >= 0:
                te = inner.find(">", i)
                end = te + 1 if inner[te - 1] == "/" else inner.find(close, te) + len(close)
                old = inner[i:end]
                sm = _ATTR_S.search(old[: te - i])
                if f"<{p}f" in old and spec.kind != "keep":
                    self._formula_cell(old, row, col)
                new = self._new_cell(row, col, spec, int(sm.group(1)) if sm else None, False, resolve, old)
                inner = inner[:i] + new + inner[end:]
                continue
            base = row_default if row_default is not None else col_styles.get(col)
            new = self._new_cell(row, col, spec, base, True, resolve)
            if not new:
                continue
            j = inner.rfind(f'<{p}c r="')
            if j < 0 or col_index(_letters(inner, j + len(p) + 6)) < col:
                inner = inner + new
                continue
            for m in re.finditer(rf'<{p}c r="([A-Z]+)', inner):
                if col_index(m.group(1)) > col:
                    inner = inner[: m.start()] + new + inner[m.start() :]
                    break
        return inner

    def _edit_slow(self, inner, row, cells, resolve, col_styles, row_default) -> str:
        parsed = self.parse_cells(inner)
        by_col: dict[int, str] = {}
        for cell in parsed:
            xml = cell.xml
            if not _ATTR_R.search(xml[: xml.find(">")]):
                xml = xml.replace(f"<{self.p}c", f'<{self.p}c r="{cell_ref(row, cell.col)}"', 1)
            by_col[cell.col] = xml
        styles = {c.col: c.style for c in parsed}
        for col, spec in cells.items():
            if col in by_col:
                if f"<{self.p}f" in by_col[col] and spec.kind != "keep":
                    self._formula_cell(by_col[col], row, col)
                by_col[col] = self._new_cell(row, col, spec, styles.get(col), False, resolve, by_col[col])
            else:
                base = row_default if row_default is not None else col_styles.get(col)
                by_col[col] = self._new_cell(row, col, spec, base, True, resolve)
        return "".join(by_col[c] for c in sorted(by_col))

    def _formula_cell(self, old: str, row: int, col: int) -> None:
        """A formula cell is being overwritten: calcChain must go, shared/array masters refused."""
        self.formula_overwritten = True
        if ('t="shared"' in old and " ref=" in old and (row, col) not in self._unshared) or 't="array"' in old:
            raise WriteFailed(
                "单元格 {cell} 是共享/数组公式的起点，其他单元格依赖它；xlcrm 不覆盖它。请换一列写入或先删除该公式。",
                "cell {cell} starts a shared/array formula other cells depend on; xlcrm will not overwrite it. "
                "Write to another column or remove that formula first.",
                location=Location(sheet=self.name, row=row, column=col_letter(col)),
                cell=cell_ref(row, col),
            )

    def _has_formula_attrs(self) -> bool:
        """Any `<f …>` with attributes (shared/array formulas have them); one scan of the body."""
        return self.data.find(b"<" + self.p.encode() + b"f ", self.b0, self.b1) >= 0

    def _writes_values(self) -> bool:
        return any(spec.kind != "keep" for cells in self.edits.values() for spec in cells.values())

    def _check_array_ranges(self) -> None:
        if self.data.find(b't="array"', self.b0, self.b1) < 0:
            return
        for m in re.finditer(
            rb"<"
            + self.p.encode()
            + rb'c r="([A-Z]+\d+)"[^>]*>(?:(?!</'
            + self.p.encode()
            + rb'c>).)*?t="array"[^>]*ref="([^"]+)"',
            self.body,
            re.S,
        ):
            r1, c1, r2, c2 = parse_range(m.group(2).decode())
            for row, cols in self.edits.items():
                if r1 <= row <= r2 and any(c1 <= c <= c2 for c in cols) and (row, min(cols)) != (r1, c1):
                    raise WriteFailed(
                        "第 {row} 行在数组公式 {ref} 的范围内，xlcrm 不覆盖它。",
                        "row {row} lies inside the array formula {ref}; xlcrm will not overwrite it.",
                        location=Location(sheet=self.name, row=row),
                        row=row,
                        ref=m.group(2).decode(),
                    )

    def _unshare_overwritten_masters(self) -> None:
        """Before a shared formula's master cell is overwritten, give each dependent its own formula.

        Dependents (`<f t="shared" si="n"/>`) borrow the master's text; it is translated to each
        dependent's position (openpyxl's Translator) and written out, cached values kept.
        """
        if self.data.find(b't="shared"', self.b0, self.b1) < 0:
            return
        p = self.p.encode()
        body = self.body
        cell_open = b"<" + p + b"c "

        def cell_at(pos: int) -> tuple[str, int, int] | None:
            start = body.rfind(cell_open, 0, pos)
            m = re.search(rb'\br="([A-Z]+)(\d+)"', body[start:pos]) if start >= 0 else None
            if not m:
                return None
            ref = (m.group(1) + m.group(2)).decode()
            return ref, int(m.group(2)), col_index(m.group(1).decode())

        masters: dict[bytes, tuple[str, str]] = {}
        for m in re.finditer(rb"<" + p + rb"f\b([^>]*)>([^<]*)</" + p + rb"f>", body):
            attrs = m.group(1)
            if b't="shared"' not in attrs or b"ref=" not in attrs:
                continue
            at = cell_at(m.start())
            si = re.search(rb'\bsi="(\d+)"', attrs)
            if at is None or si is None:
                continue
            spec = self.edits.get(at[1], {}).get(at[2])
            if spec is not None and spec.kind != "keep":
                masters[si.group(1)] = (at[0], html.unescape(m.group(2).decode("utf-8")))
                self._unshared.add((at[1], at[2]))
        if not masters:
            return
        from openpyxl.formula.translate import Translator

        def unshare(m: re.Match) -> bytes:
            attrs = m.group(1)
            si = re.search(rb'\bsi="(\d+)"', attrs)
            if b"ref=" in attrs or si is None or si.group(1) not in masters:
                return m.group(0)
            at = cell_at(m.start())
            if at is None:
                return m.group(0)
            origin, text = masters[si.group(1)]
            formula = Translator("=" + text, origin=origin).translate_formula(at[0])[1:]
            escaped = formula.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            return b"<" + p + b"f>" + escaped.encode("utf-8") + b"</" + p + b"f>"

        self.body = re.sub(rb"<" + p + rb"f\b([^>]*?)\s*(?:/>|></" + p + rb"f>)", unshare, body)
        self.body_changed = True
        self.formula_overwritten = True
        self.rows, self.starts, self.ends = [], [], []
        self._index_rows()

    def render(self, resolve: StyleResolver) -> bytes | Rope:
        """The whole part with every pending edit applied.

        Unchanged stretches of rows are referenced, not copied: a big part comes back as a `Rope`
        (slices of the input + the rewritten rows) that is deflated piece by piece.
        """
        if self.edits and self._writes_values() and self._has_formula_attrs():
            self._check_array_ranges()
            self._unshare_overwritten_masters()
        col_styles = self.col_styles()
        written: list[bytes] = []  # every byte xlcrm wrote into sheetData (see `evidence`)
        append = self._byte_appender(resolve, col_styles, written)
        if self.edits and not self.full and len(self.edits) > LAZY_MAX_ROWS + (self.b1 - self.b0) // 50_000:
            self._index_rows()  # many rows to find: one pass over all of them is cheaper
        data = self.data
        view = memoryview(data)
        out: list = []
        pos = self.b0
        body_last = self.last_row_number() or 0 if self.new_rows else None
        for row in sorted(self.edits):
            if body_last is not None and row > body_last:
                break  # rows below the body are merged with the appended rows, after the loop
            cells = self.edits[row]
            found, start, end = self.locate(row)
            out.append(view[pos:start])
            if found:
                fast = append(start, end, row, cells)
                if fast is None:
                    text = data[start:end].decode("utf-8")
                    new_row = self._edit_row(text, row, cells, resolve, col_styles).encode("utf-8")
                    written.append(new_row)
                    out.append(new_row)
                else:
                    out.extend(fast)
                pos = end
            else:
                new_row = self._new_row(row, cells, resolve, col_styles).encode("utf-8")
                written.append(new_row)
                out.append(new_row)
                pos = start
        out.append(view[pos : self.b1])
        if body_last is not None:
            tail_rows = self._render_new_rows(body_last, resolve, col_styles, written)
            out.append(tail_rows)
            written.append(tail_rows)
        if self.rows_without_r:
            out = [self._number_rows(b"".join(out))]
        self._update_dimension()
        p = self.p
        head, tail = self.head.encode("utf-8"), self.tail.encode("utf-8")
        open_, close = f"<{p}sheetData>".encode(), f"</{p}sheetData>".encode()
        self.evidence = None
        if not self.rows_without_r and not self.body_changed:
            # What must parse for the whole part to parse: the frame around sheetData, and what was
            # written into it; the rest are whole <row> elements copied from the input.
            root = re.search(rb"<(\w+:)?worksheet\b[^>]*>", head)
            if root:
                end_root = b"</" + (root.group(1) or b"") + b"worksheet>"
                self.evidence = [head + open_ + close + tail, root.group(0) + b"".join(written) + end_root]
        rope = Rope([head, open_, *out, close, tail])
        if self.evidence is not None and len(rope) > ROPE_MIN_BYTES:
            return rope
        return rope.tobytes()

    def _render_new_rows(self, body_last: int, resolve: StyleResolver, col_styles: dict[int, int], written) -> bytes:
        """The appended rows and every other edited row below the body, in row order."""
        new_rows, edits = self.new_rows, self.edits
        below = [r for r in edits if r > body_last]
        if not below:
            return "".join(new_rows[r] for r in sorted(new_rows)).encode("utf-8")
        parts = []
        for row in sorted(set(new_rows) | set(below)):
            if row in edits:
                if row in new_rows:
                    parts.append(self._edit_row(new_rows[row], row, edits[row], resolve, col_styles))
                else:
                    parts.append(self._new_row(row, edits[row], resolve, col_styles))
            else:
                parts.append(new_rows[row])
        return "".join(parts).encode("utf-8")

    def _byte_appender(self, resolve: StyleResolver, col_styles: dict[int, int], written: list[bytes]):
        """The common case at byte level: new cells go right of a row's last cell (no decoding).

        Returns the row as pieces for the rope (its tag, its unchanged cells as a view of the
        input, the new cells), or None when the row needs the general path."""
        p = self.p
        pb = p.encode()
        c_addr, c_sp, c_gt = b"<" + pb + b'c r="', b"<" + pb + b"c ", b"<" + pb + b"c>"
        close = self._row_close
        n_close = len(close)
        view = memoryview(self.data)
        # (col, kind, style) → (text before the row number, text between it and the value, text after)
        shapes: dict[tuple, tuple[str, str, str] | None] = {}
        styles_seen: list = []
        tags = cell_tags(p)
        tail = {"s": tags.inline_tail, "b": tags.value_tail, "n": tags.value_tail, "d": tags.value_tail}
        tail["t"] = tags.value_tail

        def shape(col: int, kind: str, style: object) -> tuple[str, str, str] | None:
            sv = resolve(col_styles.get(col), True, kind, style)
            sa = f' s="{sv}"' if sv else ""
            head = tags.open + col_letter(col)
            if kind == "e":
                return (head, f'"{sa}/>', "") if sa else None
            middle = {"s": tags.inline_head + ">", "b": tags.bool_head}.get(kind, tags.value_head)
            return head, f'"{sa}{middle}', tail[kind]

        def append(start: int, end: int, row: int, cells: dict[int, CellSpec]) -> list | None:
            data = self.data
            gt = data.find(b">", start, end)
            if data[gt - 1] == 0x2F or data[end - n_close : end] != close:
                return None
            tag = data[start : gt + 1]
            if b"customFormat" in tag:
                return None
            j = data.rfind(c_addr, gt, end)
            # The last cell must carry its address: no unaddressed `<c …>` after it.
            if j < 0:
                if data.find(c_sp, gt, end) >= 0 or data.find(c_gt, gt, end) >= 0:
                    return None
            elif data.find(c_sp, j + 1, end) >= 0 or data.find(c_gt, j, end) >= 0:
                return None
            cols = sorted(cells)
            if j >= 0:
                k = j + len(c_addr)
                e = k
                while 65 <= data[e] <= 90:
                    e += 1
                if col_index(data[k:e].decode()) >= cols[0]:
                    return None
            parts = []
            suffix = str(row)
            for col in cols:
                spec = cells[col]
                kind = spec.kind
                if kind == "keep" or spec.force_s is not None:
                    return None
                key = (col, kind, id(spec.style))  # by identity: hashing a CellStyle per cell is slow
                form = shapes.get(key, False)
                if form is False:
                    form = shapes[key] = shape(col, kind, spec.style)
                    styles_seen.append(spec.style)  # keeps the id above from being reused
                if form is None:
                    continue
                text = spec.text
                if kind == "s" and (text[:1].isspace() or text[-1:].isspace() or "\n" in text):
                    sm = _ATTR_S.search(form[1])
                    parts.append(
                        cell_xml(p, f"{col_letter(col)}{suffix}", int(sm.group(1)) if sm else None, kind, text)
                    )
                    continue
                parts.append(form[0] + suffix + form[1] + text + form[2])
            sp = tag.find(b' spans="')
            if sp >= 0:
                q = tag.find(b'"', sp + 8)
                lo, _, hi = tag[sp + 8 : q].partition(b":")
                if not (lo.isdigit() and hi.isdigit() and int(lo) <= cols[0] and cols[-1] <= int(hi)):
                    tag = _widen_spans(tag.decode(), cols[0], cols[-1]).encode()
            new = "".join(parts).encode("utf-8")
            written.append(b"<x " + tag[1 + len(pb) + 3 :] + new + b"</x>")  # the row tag's attributes + cells
            return [tag, view[gt + 1 : end - n_close], new + close]

        return append

    def _number_rows(self, body: bytes) -> bytes:
        """Give every row an explicit r= so inserted rows cannot shift positional ones."""
        counter = [0]

        def fix(m: re.Match) -> bytes:
            attrs = m.group(1)
            rm = re.search(rb'\br="(\d+)"', attrs)
            counter[0] = int(rm.group(1)) if rm else counter[0] + 1
            if rm:
                return m.group(0)
            return b"<" + self.p.encode() + b'row r="' + str(counter[0]).encode() + b'"' + attrs + m.group(2) + b">"

        return self._row_start_re.sub(fix, body)

    def _update_dimension(self) -> None:
        if not self.edits and not self.new_rows:
            return
        rows = list(self.edits)
        cols = [c for cells in self.edits.values() for c in cells]
        if self.new_rows:
            rows += [min(self.new_rows), max(self.new_rows)]
            cols += [min(self._new_cols), max(self._new_cols)]
        r1, c1, r2, c2 = min(rows), min(cols), max(rows), max(cols)
        dim = self.dimension()
        if dim:
            r1, c1, r2, c2 = min(r1, dim[0]), min(c1, dim[1]), max(r2, dim[2]), max(c2, dim[3])
        if self.rows:
            r1, r2 = min(r1, self.rows[0]), max(r2, self.rows[-1])
        ref = range_ref(r1, c1, r2, c2)
        pattern = re.compile(rf'(<{self.p}dimension ref=")[^"]*(")')
        if pattern.search(self.head):
            self.head = pattern.sub(lambda m: m.group(1) + ref + m.group(2), self.head, count=1)


def _letters(text: str, at: int) -> str:
    end = at
    while end < len(text) and "A" <= text[end] <= "Z":
        end += 1
    return text[at:end]


def _widen_spans(tag: str, lo: int, hi: int) -> str:
    """Keep a row's `spans` hint (Excel writes it) but make it cover the columns written."""
    m = re.search(r'\sspans="(\d+):(\d+)"', tag)
    if not m:
        return re.sub(r'\sspans="[^"]*"', "", tag)
    a, b = int(m.group(1)), int(m.group(2))
    if a <= lo and hi <= b:
        return tag
    return tag[: m.start()] + f' spans="{min(a, lo)}:{max(b, hi)}"' + tag[m.end() :]
