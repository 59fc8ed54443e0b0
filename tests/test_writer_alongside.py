"""A big sheet's rows are deflated and checked on another thread while it is rendered
(`SheetXml.render(deflate=True)`, `fastzlib.DeflateAlongside`, `package_check.WellFormedFeed`).

The part must read exactly as the whole render gives it, a broken row must still fail the write
with the file untouched, and the pieces must make one valid deflate stream.
"""

from __future__ import annotations

import shutil
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xlsxwriter

from xlcrm.errors import WriteFailed
from xlcrm.ooxml.fastzlib import DeflateAlongside, can_splice
from xlcrm.ooxml.package import DeflatedRope
from xlcrm.workbook.edits import CellMark, CellStyle, ColumnValues, ColumnWrite, EditPlan, MarkCells
from xlcrm.workbook.package_check import WellFormedFeed, well_formed
from xlcrm.workbook.writer import apply_plan, sheetxml

needs_isal = pytest.mark.skipif(not can_splice(), reason="deflate pieces are joined with ISA-L's crc32_combine")
ROWS = 3000


def _book(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet("客户资料")
    ws.write_row(0, 0, ["编号", "名称", "电话"])
    for i in range(1, ROWS):
        if 1000 <= i < 1100:
            continue  # rows absent from the XML
        ws.write_row(i, 0, [f"C{i:05d}", f"客户 {i} <甲> & 乙", f"0138{i:07d}"])
    wb.close()
    return path


def _plan() -> EditPlan:
    rows = np.arange(2, ROWS + 1)
    return EditPlan([
        # lazy cells at every row's end (rows 1001–1100 are made), then per-cell edits and marks
        ColumnWrite("客户资料", "等级", 1, ColumnValues(rows, pd.Series(["ABCDE"[r % 5] for r in rows], dtype=object))),
        ColumnWrite("客户资料", "备注", 1, {r: f"第 {r} 行 & <新>" for r in (2, 500, 1050, ROWS)},
                    style=CellStyle(bold=True)),
        MarkCells("客户资料", [CellMark(r, 2, f"第 {r} 行有问题") for r in (3, 700, 2999)]),
    ])


def _write(source: Path, target: Path, alongside: bool, monkeypatch) -> dict[str, bytes]:
    monkeypatch.setattr(sheetxml, "DEFLATE_ALONGSIDE_BYTES", 0 if alongside else 1 << 40)
    monkeypatch.setattr(sheetxml, "RENDER_BLOCK_ROWS", 64)  # many blocks, each handed over as rendered
    shutil.copyfile(source, target)
    apply_plan(target, _plan(), backup_keep=0)
    with zipfile.ZipFile(target) as zf:
        assert zf.testzip() is None  # every member's CRC matches its bytes
        return {n: zf.read(n) for n in zf.namelist()}


@needs_isal
def test_a_sheet_deflated_alongside_reads_as_the_whole_render(tmp_path: Path, monkeypatch) -> None:
    source = _book(tmp_path / "in.xlsx")
    made: list[int] = []
    laid = sheetxml.laid_end_to_end
    monkeypatch.setattr(sheetxml, "laid_end_to_end", lambda *a: made.append(1) or laid(*a))
    dropped: list[tuple[int, int]] = []
    drop = sheetxml.drop_pages
    monkeypatch.setattr(sheetxml, "drop_pages", lambda buf, a, b: dropped.append((a, drop(buf, a, b))) or dropped[-1][1])
    along = _write(source, tmp_path / "along.xlsx", True, monkeypatch)
    assert made, "the sheet was not deflated alongside"
    if sys.platform.startswith("linux"):  # the input behind the render went back to the OS as it went
        assert sum(end - start for start, end in dropped) > 100_000
    made.clear()
    whole = _write(source, tmp_path / "whole.xlsx", False, monkeypatch)
    assert not made
    assert along == whole
    assert b"\xe7\xac\xac 1050 \xe8\xa1\x8c &amp; &lt;" in along["xl/worksheets/sheet1.xml"]  # 第 1050 行 & <


@needs_isal
def test_a_broken_row_fails_the_write_and_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch) -> None:
    """The rows are checked block by block instead of after the render: a row that does not parse
    (simulated) still fails the whole write, naming the part, and the file keeps its bytes."""
    source = _book(tmp_path / "in.xlsx")
    target = tmp_path / "book.xlsx"
    shutil.copyfile(source, target)
    before = target.read_bytes()

    class Broken(WellFormedFeed):
        def feed(self, pieces) -> None:
            super().feed([*pieces, b"<c><v>1</c>"] if len(pieces) > 1 else pieces)

    monkeypatch.setattr(sheetxml, "WellFormedFeed", Broken)
    monkeypatch.setattr(sheetxml, "DEFLATE_ALONGSIDE_BYTES", 0)
    with pytest.raises(WriteFailed) as failed:
        apply_plan(target, _plan(), backup_keep=0)
    assert "xl/worksheets/sheet1.xml" in str(failed.value)
    assert target.read_bytes() == before


def test_deflate_alongside_keeps_the_order_fed_and_frees_what_it_deflated() -> None:
    along = DeflateAlongside()
    batches = [[b"<row>", memoryview(b"abc" * 1000)[i:], b"</row>"] for i in range(50)]
    expected = b"".join(bytes(piece) for batch in batches for piece in batch)
    done: list[int] = []
    for i, batch in enumerate(batches):
        along.feed(batch)
        along.also(done.append, i)
    crc, size, piece = along.cut()
    assert done == list(range(50))  # `also` runs in the order given, between the batches
    assert all(batch == [] for batch in batches)  # each batch let go of once deflated
    assert size == len(expected) and crc == zlib.crc32(expected)
    d = zlib.decompressobj(-15)
    assert d.decompress(piece) == expected and not d.eof  # full-flushed: more pieces may follow


def test_a_failed_step_alongside_fails_the_cut() -> None:
    along = DeflateAlongside()
    along.feed([b"<row/>"])
    along.also(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        along.cut()


def test_a_deflated_rope_reads_back_from_its_deflate() -> None:
    data = b"<sheetData>" + b"<row/>" * 100_000 + b"</sheetData>"
    comp = zlib.compressobj(1, zlib.DEFLATED, -15)
    rope = DeflatedRope(len(data), zlib.crc32(data), comp.compress(data) + comp.flush())
    assert len(rope) == len(data) and rope.crc() == zlib.crc32(data) and rope.held() == 0
    assert not rope.available() and rope.tobytes() == data


@pytest.mark.parametrize("doc", [
    b"<worksheet><row><c><v>1</v></c></row></worksheet>",
    b"<worksheet><row><c><v>1</c></row></worksheet>",
    b"<worksheet><row>&bad;</row></worksheet>",
    b"<worksheet><row>",
])
def test_a_document_fed_in_batches_gets_the_verdict_of_the_whole(doc: bytes) -> None:
    feed = WellFormedFeed()
    for at in range(0, len(doc), 7):
        feed.feed([doc[at : at + 7]])
    assert (feed.close() is None) == (well_formed(doc) is None)


def test_a_render_that_fails_stops_the_thread_without_deflating_the_rest(monkeypatch) -> None:
    """`close` (a render that raised) drops the batches not yet deflated and stops the thread."""
    import threading

    along = DeflateAlongside()
    gate = threading.Event()
    along.also(gate.wait)  # the thread is busy: the batches below wait behind it
    batches = [[b"<row/>" * 1000] for _ in range(5)]
    for batch in batches:
        along.feed(batch)
    threading.Timer(0.05, gate.set).start()
    along.close()
    assert batches == [[b"<row/>" * 1000]] * 5  # never deflated (a deflated batch is emptied)
    assert not any(t.name.startswith("xlcrm-deflate") for t in threading.enumerate())


@needs_isal
def test_pieces_from_different_deflaters_make_one_stream() -> None:
    from xlcrm.ooxml.fastzlib import PieceDeflater, laid_end_to_end

    parts = [b"<row r=\"%d\"/>" % i * 50 for i in range(20)]
    pieces = []
    for part in parts:
        deflater = PieceDeflater()  # each piece on its own, as the scan's child and the render's thread make them
        deflater.feed(part)
        pieces.append(deflater.cut())
    pieces.insert(3, PieceDeflater().cut())  # an empty piece is fine too
    crc, size, payload = laid_end_to_end(b"<sheetData>", pieces, b"</sheetData>")
    whole = b"<sheetData>" + b"".join(parts) + b"</sheetData>"
    assert zlib.decompress(payload, -15) == whole
    assert (crc, size) == (zlib.crc32(whole), len(whole))


@pytest.mark.parametrize("alongside", [True, False], ids=["deflated-alongside", "rendered-whole"])
def test_a_spilled_input_renders_as_the_input_held_in_memory(tmp_path: Path, monkeypatch, alongside) -> None:
    """A huge input part is mapped from a temporary file (`ooxml.spill`); its pages go back as the
    scans and the render pass them, and the rows read one by one (the marks) drop them too: the
    written file is the one the input held in memory gives."""
    from xlcrm.ooxml import spill
    from xlcrm.workbook.writer import rowindex

    if not alongside or not can_splice():
        alongside = False
    source = _book(tmp_path / "in.xlsx")
    held = _write(source, tmp_path / "held.xlsx", alongside, monkeypatch)
    spilled, drops = [], []
    inflate, drop = spill.inflate_to_map, spill.drop
    monkeypatch.setattr(spill, "SPILL_BYTES", 0)
    monkeypatch.setattr(spill, "SCAN_STEP", 4096)
    monkeypatch.setattr(sheetxml, "SPILLED_READS", 1)
    monkeypatch.setattr(spill, "inflate_to_map", lambda *a: spilled.append(inflate(*a)) or spilled[-1])
    monkeypatch.setattr(spill, "drop", lambda buf, a, b: drops.append(drop(buf, a, b) - a) or a + drops[-1])
    assert rowindex.spill is spill and sheetxml.spill is spill
    mapped = _write(source, tmp_path / "mapped.xlsx", alongside, monkeypatch)
    if not sys.platform.startswith("linux"):
        assert not spilled  # Linux only: elsewhere inflated into memory as before
    else:
        assert any(m is not None for m in spilled), "the sheet was not spilled"
        assert sum(drops) > 50_000  # pages handed back by the index scan, the marks and the render
    assert mapped == held


def test_feeding_ahead_waits_for_the_deflate_to_catch_up() -> None:
    """`ahead`: at most that many batches wait for the thread; `feed` waits for the oldest beyond."""
    import threading
    import time

    along = DeflateAlongside(ahead=1)
    gate = threading.Event()
    along.also(gate.wait)
    along.feed([b"<row/>"])  # queued behind the busy thread: one batch ahead
    threading.Timer(0.3, gate.set).start()
    started = time.monotonic()
    along.feed([b"<row r=\"2\"/>"])  # a second would be two ahead: waits for the first
    assert time.monotonic() - started >= 0.2
    crc, size, piece = along.cut()
    expected = b"<row/><row r=\"2\"/>"
    assert (crc, size) == (zlib.crc32(expected), len(expected))
    assert zlib.decompressobj(-15).decompress(piece) == expected
