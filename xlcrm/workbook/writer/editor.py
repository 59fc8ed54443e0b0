"""Apply the edits of an `EditPlan` to an opened package, in memory."""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from typing_extensions import assert_never  # typing.assert_never is 3.11+

from ...errors import Location, XlcrmError
from ...forked import Forked
from ...ooxml.addresses import MAX_ROW, col_letter, quote_sheet
from ...ooxml.cellxml import encode, escape_text
from ...ooxml.columns import cells_xml, encode_series, encode_values
from ...ooxml.fastzlib import DeflateAlongside, can_splice, laid_end_to_end
from ...ooxml.package import DeflatedRope, Package, Rope
from ...ooxml.pieces import joined_batches
from ...ooxml.rels import rels_path
from ...procs import return_free_memory
from ..edits import (
    FMT_DATE,
    FMT_DATETIME,
    FMT_TEXT,
    AppendRows,
    Block,
    CellStyle,
    CellWrite,
    ColumnValues,
    ColumnWrite,
    DeleteRows,
    Edit,
    InsertRows,
    MarkCells,
    SheetReplace,
)
from ..package_check import WellFormedFeed
from . import protection
from .charts import DRAWING_REL, add_charts, new_drawing_part
from .readback import SharedStrings, cell_text
from .rowedit import CellSpec
from .sheets import SheetEntry, Workbook
from .sheetxml import SheetXml
from .streamed import Scan, ScansElsewhere, pack_scans, scan, stream_rendered
from .styles import StyleBook
from .tables import SheetTables
from .toolsheet import build_tool_sheet, code_name_of
from .verify import INFLATE_LIMIT, check_soon, part_not_xml

# Inflated sheet XML held at once, beyond which a sheet waits for earlier ones to finish deflating
# before it is inflated (and is not prefetched): the write's peak memory, not its speed, is bounded.
HELD_BUDGET = 512 << 20
TOOL_CELL_BYTES = 40  # about what a tool sheet's cell takes while the sheet is built
STREAMED_TOOL_BYTES = 64 << 20  # a tool sheet bigger than this (by TOOL_CELL_BYTES) is deflated as it is made
STREAMED_BATCH_BYTES = 16 << 20  # … a batch of pieces this big at a time
STREAMED_AHEAD = 2  # batches made but not yet deflated at most
CALC_CHAIN_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain"
FILTER_NAME = "_xlnm._FilterDatabase"
PRINT_TITLES = "_xlnm.Print_Titles"


def normalise_header(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).casefold()


def deflated_checked(part: str, pieces: Iterable[bytes]) -> DeflatedRope:
    """A part's pieces deflated (`DeflateAlongside`) and checked for well-formedness, each on a
    thread of its own, a batch at a time as they are made; a batch is let go once both are done.
    (Parsing takes ~8× as long as deflating: on the deflate's thread, the L book's Due Today took
    7–8 s to make, check and deflate; on threads of their own, ~6 s.)"""
    body = DeflateAlongside(ahead=STREAMED_AHEAD)
    check = WellFormedFeed()
    checking = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xlcrm-check")
    checks: deque = deque()
    try:
        for batch in joined_batches(pieces, STREAMED_BATCH_BYTES):
            while len(checks) >= STREAMED_AHEAD:
                checks.popleft().result()
            checks.append(checking.submit(check.feed, [batch]))
            body.feed([batch])
        rows = body.cut()
        while checks:
            checks.popleft().result()
    finally:
        body.close()
        checking.shutdown(wait=True, cancel_futures=True)
    problem = check.close()
    if problem is not None:
        raise part_not_xml(part, problem)
    crc, size, payload = laid_end_to_end(b"", [rows], b"")
    return DeflatedRope(size, crc, payload)


class Editor:
    def __init__(self, pkg: Package, lang: str = "zh-CN", *, unlock_protected: bool = False):
        self.pkg = pkg
        self.lang = lang
        self.unlock_protected = unlock_protected  # write protected sheets (keeping the protection)
        self.wb = Workbook(pkg)
        self.styles = StyleBook.open(pkg, self.wb.part)
        self.sst = SharedStrings(pkg, self.wb.part)
        self.sheet_xmls: dict[str, SheetXml] = {}
        self._original_frame: dict[str, tuple[str, str]] = {}
        self.tables: dict[str, SheetTables] = {}
        self.created: list[str] = []
        self.formula_changed = False
        self._resolved: dict[tuple, int | None] = {}
        self.marks = None  # comments.MarkBook, created on first MarkCells
        self._scans: dict[str, object] = {}  # part → future of its `streamed.Scan` (a marks-only big sheet)
        self._streamed: dict[str, Scan] = {}  # part → the scan its stand-in `SheetXml` was made from
        self.owned = None  # ownership.OwnershipGuard: what xlcrm created here, loaded on the first edit
        self.tools_ahead = None  # toolahead.ToolSheetsAhead: tool sheets a forked child builds meanwhile
        self._children: list = []  # forked scans of streamed sheets, to stop if the write fails

    # -- access --------------------------------------------------------------------------------
    def sheet(self, name: str) -> tuple[SheetEntry, SheetXml]:
        entry = self.wb.require(name)
        if entry.part not in self.sheet_xmls:
            sx = self._stand_in(entry.part, entry.name) if entry.part in self._scans else None
            if sx is None:
                self._make_room(entry.part)
                sx = SheetXml(self.pkg.read(entry.part), entry.name)
                self.pkg.forget(entry.part)  # SheetXml holds its own copy; keep one, not two
            protection.check_sheet(entry.name, sx.tail, self.unlock_protected)
            self.sheet_xmls[entry.part] = sx
            self._original_frame[entry.part] = (sx.head, sx.tail)
        return entry, self.sheet_xmls[entry.part]

    def stream_marks(self, marks: dict[str, list[MarkCells]]) -> None:
        """Big sheet parts whose only edits are these marks are not inflated whole: the rows the
        marks touch are found by streaming each part, starting now — in a forked child where it
        can (a pool thread would share the GIL with this thread's editing, and wait for it), else
        on the pool — and the sheet is edited through a stand-in made of them (see `streamed`)."""
        wanted = {}
        for part, edits in marks.items():
            name = edits[0].sheet
            rows = self.mark_book().rows_touched(name, edits)
            if rows and self.pkg.pool is not None:
                wanted[part] = (name, rows)
        if not wanted:
            return
        pkg, deflate = self.pkg, can_splice()
        child = ScansElsewhere(Forked(lambda: pack_scans({p: scan(pkg, p, name, rows, deflate)
                                                          for p, (name, rows) in wanted.items()}), raw=True))
        for part, (name, rows) in wanted.items():
            self._scans[part] = child.of(part) if child.forked else pkg.pool.submit(scan, pkg, part, name, rows, deflate)
        if child.forked:
            self._children.append(child)

    def _stand_in(self, part: str, name: str) -> SheetXml | None:
        """The stand-in of a streamed sheet, once its scan is done (None: edit the part whole)."""
        found = self._scans.pop(part).result()
        if found is None:
            return None
        self._streamed[part] = found
        return SheetXml(found.stand_in(), name)

    # -- memory --------------------------------------------------------------------------------
    def held(self) -> int:
        """Inflated sheet bytes held now: sheets being edited, prefetched, or waiting to be deflated."""
        return sum(len(sx.data) for sx in self.sheet_xmls.values()) + self.pkg.held_in_flight()

    def fits(self, more: int = 0) -> bool:
        """Whether `more` inflated bytes fit beside what is held, within HELD_BUDGET."""
        return self.held() + more <= HELD_BUDGET

    def _inflated_size(self, part: str | None) -> int:
        """What reading `part` would add to `held` (0: held already, changed, or not a part)."""
        info = self.pkg.infos.get(part) if part else None
        if info is None or part in self.pkg.changed or part in self.sheet_xmls or self.pkg.is_inflated(part):
            return 0
        if part in self._scans:
            return 0  # streamed, never held
        return info.file_size

    def _room_for(self, part: str, besides: str | None = None) -> bool:
        need = self._inflated_size(part) + (self._inflated_size(besides) if besides != part else 0)
        return need == 0 or self.fits(need)

    def _make_room(self, part: str) -> None:
        """Before a sheet is inflated: let big edited sheets finish deflating if it would not fit
        beside them (Follow-ups of the M book is 0.5 GB of XML; Basic Info's rows 0.2 GB more)."""
        self.pkg.wait_for_deflating(lambda: self._room_for(part))

    def _room_for_cells(self, cells: int) -> None:
        """Before a tool sheet is built: let big edited sheets finish deflating if the sheet would
        not fit beside them (the L book's Due Today, 780k rows, beside Basic Info's 1.9 GB)."""
        need = cells * TOOL_CELL_BYTES
        self.pkg.wait_for_deflating(lambda: self.fits(need))

    def prefetch(self, part: str, besides: str | None = None) -> None:
        """Start inflating a sheet part the next edit needs, on the other core, if it fits beside
        what is held and the part the current edit reads (`besides`)."""
        if self._inflated_size(part) and self._room_for(part, besides):
            self.pkg.prefetch(part)

    def sheet_tables(self, part: str) -> SheetTables:
        if part not in self.tables:
            self.tables[part] = SheetTables(self.pkg, part)
        return self.tables[part]

    def row_texts(self, sx: SheetXml, row: int) -> dict[int, str]:
        text = sx.row_xml(row)
        if text is None:
            return {}
        return {c.col: cell_text(c.xml, self.sst) for c in sx.parse_cells(text)}

    # -- styles --------------------------------------------------------------------------------
    def resolve(self, base: int | None, is_new: bool, kind: str, style: object) -> int | None:
        key = (base, is_new, kind, style)
        if key in self._resolved:
            return self._resolved[key]
        s = base
        date_fmt = FMT_DATE if kind == "d" else FMT_DATETIME
        if isinstance(style, CellStyle):
            if kind in "dt" and style.number_format is None:
                style = CellStyle(date_fmt, style.bold, style.fill, style.font_color, style.wrap, style.align)
            elif kind == "s" and is_new and style.number_format is None:
                style = CellStyle(FMT_TEXT, style.bold, style.fill, style.font_color, style.wrap, style.align)
            s = self.styles.derive(base, style)
        elif kind in ("d", "t"):
            if not self.styles.is_date(base):
                s = self.styles.derive(base, CellStyle(number_format=date_fmt))
        elif kind == "s" and is_new and self.styles.number_format(base) != FMT_TEXT:
            s = self.styles.derive(base, CellStyle(number_format=FMT_TEXT))
        self._resolved[key] = s
        return s

    # -- edits ---------------------------------------------------------------------------------
    def apply(self, edit) -> None:
        """Apply one edit of a plan (never onto a sheet or column xlcrm did not create: `owned`)."""
        if self.owned is None:
            from .owned import open_guard

            self.owned = open_guard(self)
        creates = self.owned.check(edit)
        self._apply(edit)
        self.owned.record(edit, creates)

    def _apply(self, edit: Edit) -> None:
        match edit:
            case ColumnWrite():
                self.column_write(edit)
            case CellWrite():
                self.cell_write(edit)
            case SheetReplace():
                self.sheet_replace(edit)
            case AppendRows():
                self.append_rows(edit)
            case MarkCells():
                self.mark_book().apply(edit)
            case DeleteRows():
                from .delete import delete_rows

                delete_rows(self, edit)
            case InsertRows():
                from .delete import insert_rows

                insert_rows(self, edit)
            case _:  # a new Edit type must get a case here (the type checker says so too)
                assert_never(edit)

    def mark_book(self):
        """The marks made so far and last time (comments.MarkBook), loaded on first use."""
        if self.marks is None:
            from .comments import MarkBook

            self.marks = MarkBook(self)
        return self.marks

    def find_or_add_column(
        self,
        entry: SheetEntry,
        sx: SheetXml,
        header: str,
        header_row: int,
        header_style: CellStyle | None,
        width: float | None,
    ) -> int:
        headers = self.row_texts(sx, header_row)
        pending = sx.pending(header_row)
        for col, spec in pending.items():
            if spec.kind == "s":
                headers[col] = spec.text
        wanted = normalise_header(header)
        for col in sorted(headers):
            if normalise_header(headers[col]) == wanted:
                return col
        tables = self.sheet_tables(entry.part)
        table = tables.with_header_row(header_row)
        last = max([c for c, t in headers.items() if t.strip()], default=0)
        if table is not None:
            last = max(last, table.bounds[3])
        col = last + 1
        name = header
        if table is not None and table.bounds[3] == last:
            name = table.add_column(header)
        sx.set_cell(header_row, col, CellSpec("s", escape_text(name), header_style))
        if width:
            sx.set_col_width(col, width)
        return col

    def column_write(self, edit: ColumnWrite) -> None:
        entry, sx = self.sheet(edit.sheet)
        col = edit.col or self.find_or_add_column(
            entry, sx, edit.header, edit.header_row, edit.header_style, edit.width
        )
        values = edit.values
        rows = values.rows.tolist() if isinstance(values, ColumnValues) else [int(r) for r in values]
        if rows and (min(rows) < 1 or max(rows) > MAX_ROW):
            bad = min(rows) if min(rows) < 1 else max(rows)
            raise XlcrmError(
                "行号 {row} 超出 Excel 的范围。",
                "Row {row} is outside Excel's range.",
                location=Location(edit.sheet, None, edit.header),
                row=bad,
            )
        if isinstance(values, ColumnValues):  # by column: no Python object per value
            kinds, texts = encode_series(values.series)
        else:
            kinds, texts = encode_values(list(values.values()))
        sx.set_column(col, rows, kinds, texts, edit.style)

    def cell_write(self, edit: CellWrite) -> None:
        entry, sx = self.sheet(edit.sheet)
        kind, text = encode(edit.value)
        sx.set_cell(edit.row, edit.col, CellSpec(kind, text, edit.style))
        table = self.sheet_tables(entry.part).containing(edit.row, edit.col)
        if table is not None and table.header_row == edit.row:
            if kind != "s":
                text = escape_text(str(edit.value if edit.value is not None else ""))
                sx.set_cell(edit.row, edit.col, CellSpec("s", text, edit.style))
            table.rename_column(edit.col - table.bounds[1], "" if edit.value is None else str(edit.value))

    # -- tool sheets ---------------------------------------------------------------------------
    def exclusive_parts(self, part: str) -> set[str]:
        """Parts reachable from `part` through relationships and from nothing else."""
        edges: dict[str, list[str]] = {}
        for name in self.pkg.names():
            if name.endswith(".rels"):
                folder = name.rsplit("_rels/", 1)[0]
                source = folder + name.rsplit("/", 1)[-1][: -len(".rels")] if name != "_rels/.rels" else ""
                edges[source] = list(self.pkg.rel_targets(source).values())

        def reach(starts: list[str], skip: str | None) -> set[str]:
            seen, todo = set(), deque(starts)
            while todo:
                node = todo.popleft()
                if node in seen or node == skip:
                    continue
                seen.add(node)
                todo.extend(edges.get(node, []))
            return seen

        return reach([part], None) - reach([""], part) - {part}

    def _check_blocks(self, edit: SheetReplace) -> None:
        for chart in edit.charts:
            if not 0 <= chart.block < len(edit.blocks):
                raise XlcrmError(
                    "图表“{title}”引用了不存在的数据块。",
                    "Chart '{title}' refers to a block that does not exist.",
                    title=chart.title,
                )
            cols = {str(c) for c in edit.blocks[chart.block].df.columns}
            for column in [chart.categories, *chart.series]:
                if column not in cols:
                    raise XlcrmError(
                        "图表“{title}”引用的列“{column}”不在数据中。",
                        "Chart '{title}' refers to column '{column}', which is not in its data.",
                        title=chart.title,
                        column=column,
                    )

    def sheet_replace(self, edit: SheetReplace) -> None:
        self._check_blocks(edit)
        entry = self.wb.find(edit.sheet)
        code_name = None
        kept = None  # the sheet's protection element, kept when an unlocked write replaces it
        state = edit.hidden or "visible"
        if entry is not None:
            if entry.part in self.sheet_xmls:
                del self.sheet_xmls[entry.part]
            old = self.pkg.read(entry.part)
            kept = protection.check_sheet(entry.name, old[max(0, old.rfind(b"sheetData")) :], self.unlock_protected)
            code_name = code_name_of(old)
            if b"<f" in old or b":f>" in old:
                self.formula_changed = True
            for part in self.exclusive_parts(entry.part):
                self.pkg.remove_part(part)
            if self.pkg.exists(rels_path(entry.part)):
                self.pkg.delete(rels_path(entry.part))
            self.wb.set_state(entry.name, state)
            name = entry.name
        else:
            protection.check_new_sheet(edit.sheet, self.pkg.read(self.wb.part), self.unlock_protected)
            entry = self.wb.add_sheet(edit.sheet, b"", edit.after, state)
            self.created.append(edit.sheet)
            name = edit.sheet
        drawing_rid = None
        drawing = None
        if edit.charts:
            drawing = new_drawing_part(self.pkg)
            drawing_rid = self.pkg.add_rel(entry.part, DRAWING_REL, drawing)
        cells = sum(len(b.df) * max(len(b.df.columns), 1) for b in edit.blocks)
        self._room_for_cells(cells)
        built = self.tools_ahead.take(edit, self.styles, code_name) if self.tools_ahead is not None else None
        if built is None and not kept and can_splice() and cells * TOOL_CELL_BYTES > STREAMED_TOOL_BYTES:
            # Made, checked and deflated a few pieces at a time: the L book's Due Today (515 MB of XML)
            # was held whole, beside the next sheet being built, until the pool had checked and deflated it.
            built = build_tool_sheet(edit, self.styles, code_name=code_name, drawing_rid=drawing_rid)
            data = deflated_checked(entry.part, built.xml)
            self.pkg.write_deflated(entry.part, data, data.crc(), data.payload)
            self.pkg.xml_checked[entry.part] = data
        else:
            if built is None:  # its pieces, not joined into one more copy: a big one is written as they are
                built = build_tool_sheet(edit, self.styles, code_name=code_name, drawing_rid=drawing_rid)
                built.xml = Rope(list(built.xml))
                if kept or len(built.xml) <= INFLATE_LIMIT:
                    built.xml = built.xml.tobytes()
            self._write_tool_xml(entry.part, built, kept)
        self._tool_sheet_names(edit, name, built, drawing)

    def _write_tool_xml(self, part: str, built, kept: str | None) -> None:
        """Write a tool sheet's XML (a Rope or bytes), checked and deflated on the pool if big."""
        xml = protection.keep_protection(built.xml, kept) if kept else built.xml
        checked = built.well_formed and xml is built.xml  # these very bytes were checked (in the child)
        # A big one is written as a rope: once checked and deflated on the pool (one job, so it counts
        # as held until both are done) it lets go of the XML (`Rope.release`) instead of holding it to
        # the end of the write (the L book's tool sheets: 1.0 GB of XML, held while the package was
        # built; the next one is built once it fits beside what is still held).
        roped = len(xml) > INFLATE_LIMIT
        if roped and not isinstance(xml, Rope):
            xml = Rope([xml])
        self.pkg.write(part, xml)
        if checked:
            self.pkg.xml_checked[part] = self.pkg.changed[part]
        if roped and not checked:
            check_soon(self.pkg, part, then_deflate=True)  # on the other core while later edits are made
        elif len(xml) > (1 << 20):
            if not checked:
                check_soon(self.pkg, part)
            self.pkg.compress_soon(part)  # deflate there too

    def _tool_sheet_names(self, edit: SheetReplace, name: str, built, drawing: str | None) -> None:
        """A written tool sheet's charts, and its filter and print-title names in workbook.xml."""
        if drawing:
            add_charts(self.pkg, drawing, name, edit.charts, built.places, [b.df for b in edit.blocks])
        index = self.wb.find(name).index
        if built.autofilter:
            a, _, b = built.autofilter.partition(":")
            abs_ref = "$" + re.sub(r"(\d+)", r"$\1", a) + (":$" + re.sub(r"(\d+)", r"$\1", b) if b else "")
            self.wb.set_defined_name(FILTER_NAME, index, f"{quote_sheet(name)}!{abs_ref}")
        else:
            self._remove_defined_name(FILTER_NAME, index)
        if built.print_titles:  # header rows printed on every page
            self.wb.set_defined_name(PRINT_TITLES, index, f"{quote_sheet(name)}!{built.print_titles}", hidden=False)
        else:
            self._remove_defined_name(PRINT_TITLES, index)

    def _remove_defined_name(self, name: str, index: int) -> None:
        for dn in self.wb.defined_names():
            if dn.get("name") == name and dn.get("localSheetId") == str(index):
                dn.getparent().remove(dn)
                self.wb.dirty = True

    def append_rows(self, edit: AppendRows) -> None:
        entry = self.wb.find(edit.sheet)
        if entry is None:
            block = Block(df=edit.df, number_formats=edit.number_formats, widths=edit.widths)
            self.sheet_replace(SheetReplace(edit.sheet, [block], after=edit.after, hidden=edit.hidden, owner=edit.owner))
            return
        entry, sx = self.sheet(edit.sheet)
        headers = {normalise_header(t): c for c, t in self.row_texts(sx, 1).items() if t.strip()}
        columns: list[int] = []
        for name in edit.df.columns:
            col = headers.get(normalise_header(str(name)))
            if col is None:
                col = self.find_or_add_column(entry, sx, str(name), 1, CellStyle(bold=True), edit.widths.get(str(name)))
                headers[normalise_header(str(name))] = col
            columns.append(col)
        pending_last = max(
            (r for r, cells in sx.edits.items() if any(s.kind != "e" for s in cells.values())), default=0
        )
        start = max(sx.last_row, pending_last, max(sx.new_rows, default=0), 1) + 1
        if (
            len(set(columns)) == len(columns)
            and start > (sx.last_row_number() or 0)
            and not any(r >= start for r in sx.edits)
        ):
            self._append_new_rows(sx, edit, columns, start)
        else:
            self._append_cells(sx, edit, columns, start)
        end = start + len(edit.df) - 1
        for table in self.sheet_tables(entry.part).tables:
            r1, c1, r2, c2 = table.bounds
            if r2 == start - 1 and table.totals_rows == 0 and len(edit.df):
                table.set_ref(r1, c1, end, max(c2, max(columns, default=c2)))

    def _append_new_rows(self, sx: SheetXml, edit: AppendRows, columns: list[int], start: int) -> None:
        """Rows below every existing row: built column by column as whole `<row>` elements."""
        col_styles = sx.col_styles()
        rows = list(map(str, range(start, start + len(edit.df))))
        built: list[tuple[int, list[str]]] = []
        for j, name in enumerate(edit.df.columns):
            col = columns[j]
            fmt = edit.number_formats.get(str(name))
            style = CellStyle(number_format=fmt) if fmt else None
            kinds, texts = encode_series(edit.df.iloc[:, j])

            def sattr(kind: str, _variant: int, col: int = col, style: CellStyle | None = style) -> str | None:
                s = self.resolve(col_styles.get(col), True, kind, style)
                return f' s="{s}"' if s else ("" if kind != "e" else None)

            built.append((col, cells_xml(sx.p, col_letter(col), rows, kinds, texts, sattr)))
        built.sort(key=lambda item: item[0])
        sx.add_rows(start, [col for col, _ in built], [cells for _, cells in built])

    def _append_cells(self, sx: SheetXml, edit: AppendRows, columns: list[int], start: int) -> None:
        for j, name in enumerate(edit.df.columns):
            fmt = edit.number_formats.get(str(name))
            style = CellStyle(number_format=fmt) if fmt else None
            for i, value in enumerate(edit.df.iloc[:, j].tolist()):
                kind, text = encode(value)
                sx.set_cell(start + i, columns[j], CellSpec(kind, text, style))

    # -- finishing -----------------------------------------------------------------------------
    def flush(self, part: str) -> None:
        """Render one edited sheet into the package and free its copy; a big one starts deflating."""
        sx = self.sheet_xmls.pop(part, None)
        if sx is None:
            return
        streamed = self._streamed.pop(part, None)
        if sx.has_edits() or sx.new_rows or (sx.head, sx.tail) != self._original_frame[part] or sx.body_changed:
            data = sx.render(self.resolve, deflate=streamed is None)
            deflated = (data.crc(), data.payload) if isinstance(data, DeflatedRope) else None
            if sx.rows_problem is not None:  # its written rows were checked while it was rendered
                raise part_not_xml(part, sx.rows_problem)
            if streamed is not None:  # the stand-in's rows and frame, swapped into the streamed part
                spliced = stream_rendered(self.pkg, part, sx.name, data, streamed)
                if spliced is None:
                    sx.release()
                    return
                data, deflated = spliced
            if deflated is not None:  # deflated already (alongside the render, or from the scan's pieces)
                self.pkg.write_deflated(part, data, *deflated)
            else:
                self.pkg.write(part, data)
            if sx.evidence is not None:
                check_soon(self.pkg, part, sx.evidence)
            self.formula_changed |= sx.formula_overwritten
            if len(self.pkg.changed[part]) > (1 << 20):
                self.pkg.compress_soon(part)
        big = len(sx.data) > HELD_BUDGET // 8
        sx.release()
        self.pkg.forget(part)
        if big:  # the render's many small strings are freed: hand that heap back before the next sheet
            return_free_memory()

    def flush_sheet(self, name: str) -> None:
        """No later edit touches sheet `name`: write it out now (see `plan_to_bytes`)."""
        entry = self.wb.find(name)
        if entry is not None and entry.part in self.sheet_xmls:
            self.flush(entry.part)

    def close(self) -> None:
        """Stop the streamed sheets' scans whose result is no longer wanted (the write failed)."""
        for child in self._children:
            child.close()
        self._children = []

    def finish(self) -> None:
        if self.marks is not None:
            self.marks.finish()
        if self.owned is not None:
            from .owned import save_guard

            save_guard(self, self.owned)
        for part in list(self.sheet_xmls):
            self.flush(part)
        self.pkg.forget()
        for tables in self.tables.values():
            tables.write_back()
        self.styles.write_back()
        if self.formula_changed:
            self._drop_calc_chain()
        self.wb.write_back()

    def _drop_calc_chain(self) -> None:
        """calcChain.xml lists formula cells; a stale one makes Excel 'repair' the file. Excel rebuilds it."""
        for rel in self.pkg.rels(self.wb.part):
            if rel.type == CALC_CHAIN_REL:
                from ...ooxml.rels import resolve_target

                part = resolve_target(self.wb.part, rel.target)
                self.pkg.remove_part(part)
                self.pkg.remove_rel(self.wb.part, rel.id)
