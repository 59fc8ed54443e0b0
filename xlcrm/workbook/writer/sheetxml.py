"""Edit the cells of one worksheet part without building a DOM.

The part is split into head (before `<sheetData>`), the rows, and tail. Rows are located once
with a byte-level scan; only rows that receive a value are decoded and rewritten, every other
byte is copied as is. That is what makes writing a column into a 100 MB sheet take about a
second. Rows or cells without `r=` get explicit references when their row is rewritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import Location, WriteFailed
from ...ooxml import spill
from ...ooxml.addresses import MAX_COL, col_index, col_letter, parse_range, range_ref
from ...ooxml.columns import Kinds
from ...ooxml.fastzlib import DeflateAlongside, can_splice, laid_end_to_end
from ...ooxml.package import DeflatedRope, Rope
from ...procs import drop_pages
from ..package_check import WellFormedFeed
from .formulas import prepare_for_edits
from .lazycolumns import LazyColumns, LazyRows
from .rowedit import ATTR_R, ATTR_S, CellSpec, RowRewriter, StyleResolver
from .rowindex import RowIndex

ROPE_MIN_BYTES = 16 << 20  # rendered parts above this stay in pieces (see package.Rope)
RENDER_BLOCK_ROWS = 65_536  # rows whose new cells are made at once (see `render`)
# Parts whose rows are deflated and checked while they are rendered (see `_deflating`): only where the
# memory matters. Below it the render runs faster alone and the part is deflated after it, beside the
# next sheets' edits (M book's 190 MB Basic Info: the write 0.3–0.4 s longer alongside — the render
# shares the GIL with that thread's joins and parse).
DEFLATE_ALONGSIDE_BYTES = 512 << 20
DEFLATE_AHEAD_BLOCKS = 2  # rendered blocks waiting for the deflate thread at most (see DeflateAlongside)
SPILLED_READS = 4096  # a spilled input's pages are handed back after this many rows read one by one

_ROOT = re.compile(rb"<(\w+:)?worksheet\b")


def namespace_prefix(data: bytes) -> bytes:
    """The prefix a worksheet part's elements carry (b"" or e.g. b"x:"), from its root element."""
    m = _ROOT.search(data, 0, 2000)
    return (m.group(1) or b"") if m else b""
_new_spec = tuple.__new__


@dataclass
class ParsedCell:
    col: int
    xml: str
    style: int | None
    has_formula: bool


class _DropBehind:
    """Hands back the pages of a big input part the render has left behind (`procs.drop_pages`).
    Called on the deflate thread after the pieces fed before it (views of those pages) are deflated;
    the render reads only at or after the offset it passes."""

    def __init__(self, data: bytes, start: int):
        self.data, self.done = data, start

    def __call__(self, upto: int) -> None:
        self.done = drop_pages(self.data, self.done, upto)


class SheetXml(RowIndex):
    """One worksheet part being edited: head, indexed rows, tail; pending edits; `render`."""

    def __init__(self, data: bytes, name: str = ""):
        self.name = name
        self.p = namespace_prefix(data).decode()
        p = self.p.encode()
        self._row_start_re = re.compile(rb"<" + p + rb"row\b([^>]*?)(/?)>")
        self.row_close = b"</" + p + b"row>"
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
        self.row_open = b"<" + p + b"row"
        self._rows_read = 0  # rows read one by one (see `row_xml`)
        # Row index: complete (`full`) or, for a big sheet with few edited rows, the rows found so far.
        self.reset_index()
        self.rows_without_r = False
        if not self.lazy_possible():
            self.index_rows()
        # Pending edits: per cell (row → col → spec), and whole columns kept as lists (see
        # lazycolumns); `edits` gives all of them per cell.
        self._edits: dict[int, dict[int, CellSpec]] = {}
        self.columns = LazyColumns()
        self._cell_rows: dict[int, set[int]] = {}  # col → rows given a per-cell edit
        # Whole new rows below every existing row (appended rows), row → `<row>` XML; see add_rows.
        self.new_rows: dict[int, str] = {}
        self._new_cols: set[int] = set()
        self.formula_overwritten = False
        self.body_changed = False
        self.max_col_written = 0
        # Set by render: XML documents (bytes, or pieces that are never joined) that parse iff the
        # rendered part does; see verify.check_changed_xml.
        self.evidence: list | None = None
        self.rows_problem: str | None = None  # the written rows' parse failure, when checked while rendering
        self.unshared: set[tuple[int, int]] = set()  # shared-formula masters whose dependents were unshared

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
        self.reset_index()

    def release(self) -> None:
        """Drop the body and pending edits (the part has been rendered)."""
        self.data, self.b0, self.b1, self._edits, self.new_rows = b"", 0, 0, {}, {}
        self.columns = LazyColumns()
        self.rows, self.starts, self.ends = [], [], []

    # -- pending edits -------------------------------------------------------------------------
    @property
    def edits(self) -> dict[int, dict[int, CellSpec]]:
        """Every pending edit, per cell (lazy columns are split into cells first)."""
        if self.columns:
            self.split_columns()
        return self._edits

    @edits.setter
    def edits(self, value: dict[int, dict[int, CellSpec]]) -> None:
        self.columns = LazyColumns()
        self._edits = value

    def split_columns(self, only: int | None = None) -> None:
        """Move lazy columns' values (all, or column `only`) into the per-cell edits."""
        edits = self._edits
        for col in [only] if only is not None else sorted(self.columns):
            touched = self._cell_rows.setdefault(col, set())
            for row, spec in self.columns.pop(col).specs():
                edits.setdefault(row, {})[col] = spec
                touched.add(row)

    def has_edits(self) -> bool:
        return bool(self._edits or self.columns)

    def writes_values(self) -> bool:
        """Whether any pending edit writes a value (not only a style)."""
        return bool(self.columns) or any(s.kind != "keep" for cells in self._edits.values() for s in cells.values())

    def pending(self, row: int) -> dict[int, CellSpec]:
        """The edits pending for one row, by column."""
        cells = self.columns.row_specs(row) if self.columns else {}
        cells.update(self._edits.get(row, {}))
        return cells

    def _touch(self, row: int, col: int) -> dict[int, CellSpec]:
        """The per-cell edits of `row`, with a lazy value for (row, col) moved into them."""
        cells = self._edits.setdefault(row, {})
        if col in self.columns:
            spec = self.columns.take(row, col)
            if spec is not None:
                cells[col] = spec
        self._cell_rows.setdefault(col, set()).add(row)
        return cells

    # -- reading -------------------------------------------------------------------------------

    def row_xml(self, row: int) -> str | None:
        if row in self.new_rows:
            return self.new_rows[row]
        found, start, end = self.locate(row)
        if found:
            if spill.is_spilled(self.data):
                self._rows_read += 1
                if self._rows_read % SPILLED_READS == 0:  # rows read one by one (the marks): a page each
                    spill.drop(self.data, 0, len(self.data))
            return self.data[start:end].decode("utf-8")
        return None

    def parse_cells(self, row_text: str) -> list[ParsedCell]:
        p = self.p
        pattern = re.compile(rf"<{p}c\b([^>]*?)(?:/>|>(.*?)</{p}c>)", re.S)
        out: list[ParsedCell] = []
        col = 0
        for m in pattern.finditer(row_text):
            attrs = m.group(1)
            rm = ATTR_R.search(attrs)
            col = col_index(rm.group(1)) if rm and rm.group(1) else col + 1
            sm = ATTR_S.search(attrs)
            out.append(ParsedCell(col, m.group(0), int(sm.group(1)) if sm else None, f"<{p}f" in (m.group(2) or "")))
        return out

    def row_style(self, row_text: str | None) -> int | None:
        if not row_text:
            return None
        tag = row_text[: row_text.find(">")]
        if 'customFormat="1"' in tag or 'customFormat="true"' in tag:
            sm = ATTR_S.search(tag)
            return int(sm.group(1)) if sm else None
        return None

    def col_styles(self) -> dict[int, int]:
        """Column default styles from `<cols>` (used for new cells, as Excel does)."""
        out = {}
        for m in re.finditer(rf"<{self.p}col\b([^>]*)/?>", self.head):
            attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            if "style" in attrs and "min" in attrs:
                for c in range(int(attrs["min"]), min(int(attrs.get("max", attrs["min"])), MAX_COL) + 1):
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
        cells = self._touch(row, col)
        old = cells.get(col)
        if old is not None and old.force_s is not None and spec.force_s is None and spec.style is None:
            spec = spec._replace(force_s=old.force_s)
        cells[col] = spec
        self.max_col_written = max(self.max_col_written, col)

    def set_column(self, col: int, rows: list[int], kinds: Kinds, texts: list[str], style: object) -> None:
        """Many cells of one column at once (the computed-column case: 100k values; `rows` distinct).

        Kept as lists until rendered, unless cells of this column already have edits."""
        self.max_col_written = max(self.max_col_written, col)
        if not rows:
            return
        touched = self._cell_rows.get(col)
        if col not in self.columns and (touched is None or touched.isdisjoint(rows)):
            self.columns.add(col, rows, kinds, texts, style)
            return
        if col in self.columns:
            self.split_columns(col)
        if isinstance(kinds, str):
            kinds = [kinds] * len(texts)
        edits = self._edits
        self._cell_rows.setdefault(col, set()).update(rows)
        specs = [_new_spec(CellSpec, (kind, text, style, None)) for kind, text in zip(kinds, texts)]
        for row, spec in zip(rows, specs):
            cells = edits.get(row)
            if cells is None:
                edits[row] = {col: spec}
            elif col in cells:
                self.set_cell(row, col, spec)
            else:
                cells[col] = spec

    def set_style(self, row: int, col: int, s: int | None) -> None:
        """Give a cell an exact style index, keeping its value (and any value pending for it)."""
        cells = self._touch(row, col)
        if col in cells:
            cells[col] = cells[col]._replace(force_s=s)
        else:
            cells[col] = CellSpec("keep", "", None, s)

    def cell_style(self, row: int, col: int) -> int | None:
        """The style index a cell has now (pending style edits included)."""
        spec = self._edits.get(row, {}).get(col)  # lazy values never carry a style index
        if spec is not None and spec.force_s is not None:
            return spec.force_s
        text = self.row_xml(row)
        if text:
            p = self.p
            i = text.find(f'<{p}c r="{col_letter(col)}{row}"')
            if i >= 0:  # the usual case: cells carry their address
                sm = ATTR_S.search(text, i, text.find(">", i))
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

    def render(self, resolve: StyleResolver, *, deflate: bool = False) -> bytes | Rope:
        """The whole part with every pending edit applied.

        Unchanged stretches of rows are referenced, not copied: a big part comes back as a `Rope`
        (slices of the input + the rewritten rows) that is deflated piece by piece. With `deflate`,
        a big part's rows are deflated on another thread as each block is rendered and it comes
        back as a `DeflatedRope` (see `_deflating`).
        """
        prepare_for_edits(self)
        if self.columns and (self.new_rows or self.rows_without_r):
            self.split_columns()  # rare: rows merged with appended ones, or counted by position
        body = DeflateAlongside(ahead=DEFLATE_AHEAD_BLOCKS) if deflate and self._deflating() else None
        try:
            return self._render(resolve, body)
        finally:
            if body is not None:
                body.close()

    def _deflating(self) -> bool:
        """Deflate the rows while rendering them: a big part whose frame and rows can be laid end to
        end as independent deflate pieces (ISA-L joins their CRCs). The input is then freed when the
        render ends, not when a deflate of the whole part ends on another core some seconds later,
        while the next sheets are edited (L book: Basic Info's 1.45 GB)."""
        return (can_splice() and not self.rows_without_r and not self.body_changed
                and len(self.data) > DEFLATE_ALONGSIDE_BYTES)

    def _render(self, resolve: StyleResolver, body: DeflateAlongside | None) -> bytes | Rope:
        written: list[bytes] = []  # every byte xlcrm wrote into sheetData (see `evidence`)
        root = re.search(rb"<(\w+:)?worksheet\b[^>]*>", self.head.encode("utf-8"))
        rows_check = WellFormedFeed() if body is not None and root else None
        if rows_check is not None:  # checked block by block beside the deflate: `written` is not held
            rows_check.feed([root.group(0)])
        rewriter = RowRewriter(self, resolve, self.col_styles(), written)
        edits = self._edits
        lazy = LazyRows(self.columns)
        rows = lazy.merged_with(edits)
        self.expect_rows(len(rows))  # many rows to find: one pass over all of them is cheaper
        data = self.data
        view = memoryview(data)
        out: list = []
        pos = self.b0
        body_last = self.last_row_number() or 0 if self.new_rows else None
        row_open = f"<{self.p}row r=\""  # for rows made here
        close_tag = self.row_close
        located = self.locate_all(rows)  # a complete index: every row found in one search
        # Rendered forward from one complete index, the input behind `pos` is never read again once
        # the deflate thread has taken what was fed: its pages go back to the OS block by block.
        # A spilled input (ooxml.spill) is read back from its file if need be: its pages can go at once.
        drop = _DropBehind(data, self.b0) if located is not None and (body is not None or spill.is_spilled(data)) else None
        # A block of rows at a time: the lazy cells' XML of 10⁶ rows would otherwise be held all at
        # once (several GB of small strings for the L book).
        for k in range(0, len(rows), RENDER_BLOCK_ROWS):
            block = rows[k : k + RENDER_BLOCK_ROWS]
            if body_last is not None and block[0] > body_last:
                break
            cells_of = lazy.cells(rewriter, block)  # row → (its lazy cells' XML as UTF-8, lo, hi)
            where = located[k : k + len(block)] if located is not None else None
            spliced = self._splice_lazy(rewriter, block, where, cells_of)
            for i, row in enumerate(block):
                if body_last is not None and row > body_last:
                    break  # rows below the body are merged with the appended rows, after the loop
                found, start, end = where[i] if where is not None else self.locate(row)
                splice = spliced.get(i)
                if splice is not None:  # only new cells at the row's end: copy up to `</row>`
                    out += (view[pos : splice[0]], splice[1], close_tag)
                    pos = end
                    continue
                out.append(view[pos:start])
                cells = edits.get(row)
                if cells is not None:  # per-cell edits (with any lazy values of the row)
                    if row in cells_of:
                        cells = self.pending(row)
                    if found:
                        out.extend(rewriter.rewrite_row(start, end, row, cells))
                        pos = end
                    else:
                        new_row = rewriter.new_row(row, cells).encode("utf-8")
                        written.append(new_row)
                        out.append(new_row)
                        pos = start
                    continue
                new_cells, lo, hi = cells_of[row]
                if found:
                    pieces = rewriter.append_xml(start, end, lo, hi, new_cells)
                    if pieces is None:
                        pieces = rewriter.rewrite_row(start, end, row, self.pending(row))
                    out.extend(pieces)
                    pos = end
                else:
                    new_row = b"".join((f'{row_open}{row}">'.encode(), new_cells, close_tag)) if new_cells else b""
                    written.append(new_row)
                    out.append(new_row)
                    pos = start
            if body is None and drop is not None:
                drop(pos)
            if body is not None:  # handed over whole: freed once deflated (and checked)
                body.feed(out)
                out = []
                if drop is not None:  # after that deflate, on its thread: nothing before `pos` is read again
                    body.also(drop, pos)
                if rows_check is not None:
                    body.also(rows_check.feed, written[:])
                    written.clear()
        out.append(view[pos : self.b1])
        if body_last is not None:
            tail_rows = self._render_new_rows(body_last, rewriter)
            out.append(tail_rows)
            written.append(tail_rows)
        if self.rows_without_r:
            out = [self.number_rows(b"".join(out))]
        self._update_dimension()
        p = self.p
        head, tail = self.head.encode("utf-8"), self.tail.encode("utf-8")
        open_, close = f"<{p}sheetData>".encode(), f"</{p}sheetData>".encode()
        self.evidence = None
        self.rows_problem = None
        if not self.rows_without_r and not self.body_changed and root:
            # What must parse for the whole part to parse: the frame around sheetData, and what was
            # written into it (unless checked while rendering); the rest are whole <row> elements
            # copied from the input.
            end_root = b"</" + (root.group(1) or b"") + b"worksheet>"
            self.evidence = [head + open_ + close + tail]
            if rows_check is None:
                self.evidence.append([root.group(0), *written, end_root])
        if body is not None:
            body.feed(out)
            out = []
            if rows_check is not None:
                body.also(rows_check.feed, [*written, end_root])
                written.clear()
            rows = body.cut()
            if rows_check is not None:
                self.rows_problem = rows_check.close()
            crc, size, payload = laid_end_to_end(head + open_, [rows], close + tail)
            return DeflatedRope(size, crc, payload)
        rope = Rope([head, open_, *out, close, tail])
        if self.evidence is not None and len(rope) > ROPE_MIN_BYTES:
            return rope
        return rope.tobytes()

    def _splice_lazy(
        self,
        rewriter: RowRewriter,
        rows: list[int],
        located: list[tuple[bool, int, int]] | None,
        cells_of: dict[int, tuple[bytes, int, int]],
    ) -> dict[int, tuple[int, bytes]]:
        """Position in `rows` → (offset of the row's `</row>`, its new cells) for every row that
        only gets lazy cells right of its last cell, decided for the block at once
        (`RowRewriter.append_many`); the rest go row by row."""
        if located is None or not cells_of:
            return {}
        edits = self._edits
        at = [i for i, row in enumerate(rows) if located[i][0] and row not in edits]
        if not at:
            return {}
        lazy = [cells_of[rows[i]] for i in at]
        done = rewriter.append_many(
            [located[i][1] for i in at], [located[i][2] for i in at], [c[1] for c in lazy], [c[2] for c in lazy],
            [c[0] for c in lazy],
        )
        return {i: d for i, d in zip(at, done) if d is not None}

    def _render_new_rows(self, body_last: int, rewriter: RowRewriter) -> bytes:
        """The appended rows and every other edited row below the body, in row order."""
        new_rows, edits = self.new_rows, self.edits
        below = [r for r in edits if r > body_last]
        if not below:
            return "".join(new_rows[r] for r in sorted(new_rows)).encode("utf-8")
        parts = []
        for row in sorted(set(new_rows) | set(below)):
            if row in edits:
                if row in new_rows:
                    parts.append(rewriter.by_xml(new_rows[row], row, edits[row]))
                else:
                    parts.append(rewriter.new_row(row, edits[row]))
            else:
                parts.append(new_rows[row])
        return "".join(parts).encode("utf-8")

    def number_rows(self, body: bytes) -> bytes:
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
        if not self.has_edits() and not self.new_rows:
            return
        rows = list(self._edits)
        cols = [c for cells in self._edits.values() for c in cells]
        bounds = self.columns.bounds()
        if bounds:
            rows += [bounds[0], bounds[2]]
            cols += [bounds[1], bounds[3]]
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
