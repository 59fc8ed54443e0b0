"""One row rewrite, two paths: the byte splice and the XML edit must give identical bytes."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from xlcrm.ooxml.addresses import cell_ref
from xlcrm.ooxml.cellxml import cell_xml, encode
from xlcrm.workbook.package_check import well_formed
from xlcrm.workbook.writer import sheetxml
from xlcrm.workbook.writer.rowedit import CellSpec, RowRewriter
from xlcrm.workbook.writer.sheetxml import SheetXml

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _resolve(base: int | None, is_new: bool, kind: str, style: object) -> int | None:
    """Requested style wins, else the cell's or column's own; dates get style 5 like the writer's."""
    if isinstance(style, int):
        return style
    if base is None and kind in ("d", "t"):
        return 5
    return base


_values = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.none(),
)


@st.composite
def _rows(draw):
    """An existing row (addressed cells, optional styles and spans), new cells right of it (some
    marked at once) and marks on cells it has."""
    row = draw(st.integers(1, 5000))
    old_cols = sorted(draw(st.sets(st.integers(1, 30), max_size=6)))
    old = "".join(cell_xml("", cell_ref(row, c), draw(st.sampled_from([None, 2, 3])), *encode(draw(_values)))
                  for c in old_cols)
    first_new = (old_cols[-1] if old_cols else 0) + 1
    # Marks: a style for existing cells (sometimes for an empty column left of the last cell).
    marked = draw(st.sets(st.integers(1, first_new - 1), max_size=3)) if first_new > 1 else set()
    new_cols = sorted(draw(st.sets(st.integers(first_new, first_new + 40), min_size=0 if marked else 1, max_size=6)))
    cells = {c: CellSpec(*encode(draw(_values)), draw(st.sampled_from([None, 7])),
                         draw(st.sampled_from([None, None, 0, 9]))) for c in new_cols}
    cells.update({c: CellSpec("keep", "", None, draw(st.sampled_from([None, 0, 9]))) for c in marked})
    spans = draw(st.sampled_from(["", ' spans="1:3"', f' spans="1:{first_new + 40}"']))
    return row, f'<row r="{row}"{spans}>{old}</row>', cells, draw(st.sampled_from([{}, {first_new: 4}]))


@settings(max_examples=300, deadline=None)
@given(_rows())
def test_byte_path_and_xml_path_give_identical_bytes(case) -> None:
    row, row_xml, cells, col_styles = case
    data = f'<?xml version="1.0"?><worksheet {NS}><sheetData>{row_xml}</sheetData></worksheet>'.encode()
    sheet = SheetXml(data, "客户资料")
    found, start, end = sheet.locate(row)
    assert found
    rewriter = RowRewriter(sheet, _resolve, col_styles, [])
    by_xml = rewriter.by_xml(row_xml, row, cells).encode()
    pieces = rewriter.by_bytes(start, end, row, cells)
    assert b"".join(rewriter.rewrite_row(start, end, row, cells)) == by_xml
    assume(pieces is not None)
    assert b"".join(pieces) == by_xml


def test_the_fallback_is_taken_when_a_cell_goes_left_of_the_last_one() -> None:
    data = f'<worksheet {NS}><sheetData><row r="2"><c r="C2"><v>1</v></c></row></sheetData></worksheet>'.encode()
    sheet = SheetXml(data, "客户资料")
    _, start, end = sheet.locate(2)
    rewriter = RowRewriter(sheet, _resolve, {}, [])
    cells = {1: CellSpec("s", "甲")}
    assert rewriter.by_bytes(start, end, 2, cells) is None
    assert b"".join(rewriter.rewrite_row(start, end, 2, cells)) == (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>甲</t></is></c><c r="C2"><v>1</v></c></row>'.encode()
    )


# --------------------------------------------------------------------------- lazy columns


@st.composite
def _sheets_and_edits(draw):
    """A small sheet (rows with addressed cells, some styled by customFormat, some missing) and a
    sequence of whole-column writes, single cells and style marks on it."""
    rows = []
    for row in sorted(draw(st.sets(st.integers(1, 12), max_size=10))):
        cols = sorted(draw(st.sets(st.integers(1, 8), max_size=4)))
        cells = "".join(cell_xml("", cell_ref(row, c), None, *encode(draw(_values))) for c in cols)
        attrs = draw(st.sampled_from(["", ' spans="1:2"', ' s="3" customFormat="1"']))
        rows.append(f'<row r="{row}"{attrs}>{cells}</row>')
    ops = []
    for _ in range(draw(st.integers(1, 8))):
        what = draw(st.sampled_from(["column", "column", "column", "cell", "style"]))
        col = draw(st.integers(1, 12))
        if what == "column":
            chosen = sorted(draw(st.sets(st.integers(1, 14), max_size=12)))
            rows_written = draw(st.sampled_from([chosen, list(range(2, 14))]))  # shared row sets too
            if draw(st.booleans()):  # rows in any order (regrade writes them as its frame has them)
                rows_written = draw(st.permutations(rows_written))
            values = [draw(_values) for _ in rows_written]
            ops.append(("column", col, rows_written, values, draw(st.sampled_from([None, 7]))))
        elif what == "cell":
            ops.append(("cell", col, draw(st.integers(1, 14)), draw(_values)))
        else:
            ops.append(("style", col, draw(st.integers(1, 14)), draw(st.sampled_from([None, 9]))))
    return "".join(rows), ops, draw(st.sampled_from([{}, {5: 4}]))


@settings(max_examples=300, deadline=None)
@given(_sheets_and_edits())
def test_lazy_columns_render_the_same_bytes_as_per_cell_edits(case) -> None:
    from xlcrm.ooxml.columns import encode_values

    body, ops, col_styles = case
    data = f'<?xml version="1.0"?><worksheet {NS}><dimension ref="A1"/><sheetData>{body}</sheetData></worksheet>'
    lazy, eager = SheetXml(data.encode(), "客户资料"), SheetXml(data.encode(), "客户资料")
    blocks = SheetXml(data.encode(), "客户资料")  # lazy too, rendered two rows at a time
    for op in ops:
        for sheet in (lazy, eager, blocks):
            match op:
                case ("column", col, rows, values, style):
                    kinds, texts = encode_values(values)
                    sheet.set_column(col, list(rows), kinds, texts, style)
                case ("cell", col, row, value):
                    sheet.set_cell(row, col, CellSpec(*encode(value)))
                case ("style", col, row, s):
                    sheet.set_style(row, col, s)
        eager.split_columns()  # every column write becomes per-cell edits at once, as before lazy columns
    for sheet in (lazy, eager, blocks):
        sheet.col_styles = lambda: col_styles  # type: ignore[method-assign]
    assert lazy.pending(2) == eager.pending(2)
    expected = bytes(eager.render(_resolve))
    assert bytes(lazy.render(_resolve)) == expected
    block_rows = sheetxml.RENDER_BLOCK_ROWS
    sheetxml.RENDER_BLOCK_ROWS = 2
    try:
        assert bytes(blocks.render(_resolve)) == expected
    finally:
        sheetxml.RENDER_BLOCK_ROWS = block_rows
    # The evidence differs in shape (rows spliced in one batch contribute only their new cells) but
    # both must be present and well-formed whenever the bytes are.
    assert (lazy.evidence is None) == (eager.evidence is None)
    for doc in (lazy.evidence or []) + (eager.evidence or []):
        assert well_formed(doc) is None


def test_marks_on_existing_cells_take_the_byte_path() -> None:
    """A marked row that also gets a computed cell (the daily run's case) is spliced, not decoded."""
    row_xml = '<row r="2" spans="1:2"><c r="A2" s="2"><v>1</v></c><c r="B2" t="s"><v>0</v></c><c r="C2"/></row>'
    data = f'<worksheet {NS}><sheetData>{row_xml}</sheetData></worksheet>'.encode()
    sheet = SheetXml(data, "客户资料")
    _, start, end = sheet.locate(2)
    rewriter = RowRewriter(sheet, _resolve, {}, [])
    cells = {1: CellSpec("keep", "", None, 9), 3: CellSpec("keep", "", None, 9), 5: CellSpec("s", "甲")}
    pieces = rewriter.by_bytes(start, end, 2, cells)
    assert pieces is not None
    assert b"".join(pieces) == rewriter.by_xml(row_xml, 2, cells).encode() == (
        '<row r="2" spans="1:5"><c r="A2" s="9"><v>1</v></c><c r="B2" t="s"><v>0</v></c><c r="C2" s="9"/>'
        '<c r="E2" t="inlineStr"><is><t>甲</t></is></c></row>'.encode()
    )
    assert rewriter.by_bytes(start, end, 2, {4: CellSpec("keep", "", None, 9)}) is None  # no such cell: by XML


def test_a_rewriter_is_freed_at_once_not_by_the_cyclic_gc() -> None:
    """Its closures hold a view of the whole sheet (0.5 GB for the M book's Follow-ups): a reference
    cycle through them would keep that alive until the cyclic GC happens to run."""
    import gc
    import weakref

    sheet = SheetXml(f'<worksheet {NS}><sheetData><row r="1"/></sheetData></worksheet>'.encode(), "客户资料")
    gc.disable()
    try:
        rewriter = RowRewriter(sheet, _resolve, {}, [])
        ref = weakref.ref(rewriter)
        del rewriter
        assert ref() is None
    finally:
        gc.enable()


def test_rows_spliced_in_one_batch_leave_their_new_cells_as_evidence() -> None:
    """`append_many` copies each row up to `</row>` and adds the new cells; what it wrote must reach
    the XML check, and rows it cannot decide alone (spans to widen, a row style, a cell at or right
    of the first new column) are left to the row-by-row path."""
    rows = [
        '<row r="1"><c r="A1"><v>1</v></c></row>',
        '<row r="2" spans="1:1"><c r="A2"><v>2</v></c></row>',  # spans must widen (B is not in 1:1)
        '<row r="3" s="4" customFormat="1"><c r="A3"><v>3</v></c></row>',  # a row style
        '<row r="4"><c r="C4"><v>4</v></c></row>',  # C is not left of the new column B
        '<row r="5"></row>',
    ]
    data = f'<worksheet {NS}><sheetData>{"".join(rows)}</sheetData></worksheet>'.encode()
    sheet = SheetXml(data, "客户资料")
    written: list[bytes] = []
    rewriter = RowRewriter(sheet, _resolve, {}, written)
    located = [sheet.locate(r) for r in range(1, 6)]
    cells = [f'<c r="B{r}"><v>9</v></c>'.encode() for r in range(1, 5)] + [b'<c r="B5"><v>oops</c>']
    done = rewriter.append_many([s for _, s, _ in located], [e for _, _, e in located], [2] * 5, [2] * 5, cells)
    assert [d is not None for d in done] == [True, False, False, False, True]
    wide = SheetXml(data.replace(b'spans="1:1"', b'spans="1:4"'), "客户资料")  # spans that cover B: kept
    found, start, end = wide.locate(2)
    kept = RowRewriter(wide, _resolve, {}, []).append_many([start], [end], [2], [2], [cells[1]])
    assert kept[0] is not None
    cut, new = done[0]
    row_end = located[0][2]
    assert data[:cut] + new + data[cut:row_end] == data[:row_end].replace(b"</row>", b'<c r="B1"><v>9</v></c></row>')
    assert written == [cells[0], cells[4]]
    assert written[0] is new  # the rope and the evidence share the bytes
    assert well_formed([b"<x>", *written, b"</x>"]) is not None  # the broken cell is caught
    assert well_formed([b"<x>", written[0], b"</x>"]) is None


def test_a_document_in_pieces_is_checked_without_being_joined() -> None:
    from xlcrm.workbook import package_check

    pieces = [b"<x>", *[b"<c r='A1'><v>1</v></c>"] * 1000, b"</x>"]
    batch = package_check.PARSE_BATCH
    package_check.PARSE_BATCH = 64  # many batches, tags cut between them
    try:
        assert well_formed(pieces) is None
        assert well_formed([*pieces[:-1], b"<c>", b"</x>"]) is not None
    finally:
        package_check.PARSE_BATCH = batch
