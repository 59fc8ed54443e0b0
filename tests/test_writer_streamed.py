"""Big sheets that only get marks are streamed, never inflated whole (writer.streamed).

The streamed path must give the very bytes the whole-sheet path gives, whatever the chunk size,
and hand every sheet it cannot follow to the whole-sheet path.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from xlcrm import forked
from xlcrm.ooxml.fastzlib import can_splice
from xlcrm.ooxml.package import Package, StreamRope
from xlcrm.workbook.edits import CellMark, CellStyle, ColumnWrite, EditPlan, MarkCells
from xlcrm.workbook.writer import apply_plan, editor, streamed

SHEET = "xl/worksheets/sheet2.xml"  # 跟进记录


def _book(path: Path, rows: int = 3000) -> Path:
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    bold = wb.add_format({"bold": True})
    customers = wb.add_worksheet("客户资料")
    customers.write_row(0, 0, ["编号", "名称"])
    for i in range(1, 200):
        customers.write_row(i, 0, [f"C{i:05d}", f"客户 {i}"])
    follow = wb.add_worksheet("跟进记录")
    follow.write_row(0, 0, ["编号", "日期", "内容", "结果"])
    for i in range(1, rows):
        if 1200 <= i < 1300:
            continue  # rows absent from the XML
        follow.write_row(i, 0, [f"C{i % 199 + 1:05d}", f"2026-{i % 12 + 1:02d}-01", f"第 {i} 次跟进 <电话> & 拜访", i * 1.5])
        if i % 7 == 0:
            follow.write(i, 3, i, bold)  # a cell with a style of its own, kept under the mark
    follow.write_comment(5, 2, "用户自己的批注")  # the user's own note stays
    wb.close()
    return path


def _marks(rows, col: int = 3, severity: str = "error") -> MarkCells:
    return MarkCells("跟进记录", [CellMark(r, col, f"第 {r} 行有问题", severity) for r in rows])


def _apply(source: Path, target: Path, plans: list[EditPlan], stream: bool, monkeypatch) -> list[dict[str, bytes]]:
    """Apply the plans one after the other; each step's members."""
    monkeypatch.setattr(streamed, "MIN_BYTES", 0 if stream else 1 << 40)
    shutil.copyfile(source, target)
    steps = []
    for plan in plans:
        apply_plan(target, plan, backup_keep=0)
        with zipfile.ZipFile(target) as zf:
            steps.append({n: zf.read(n) for n in zf.namelist()})
    return steps


@pytest.fixture(autouse=True, params=["in-process", "forked"])
def fork_mode(request, monkeypatch) -> str:
    """Every test both ways: the scans and second passes on the pool, and in forked children
    (`forked.Forked`, where this machine can fork; elsewhere both runs are in-process)."""
    monkeypatch.setenv(forked.FORK_ENV, "0" if request.param == "in-process" else "1")
    return request.param


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(streamed, "CHUNK_BYTES", 1500)  # rows cut by chunk ends all through the sheet


def _mixed(rows: list[int], warn: int) -> MarkCells:
    marks = _marks(rows).marks + _marks([warn], severity="warning").marks
    return MarkCells("跟进记录", marks)


PLANS = [
    EditPlan([_marks([2, 3, 700, 1200, 1301, 2999])]),  # around the gap of rows 1201–1300
    # Some marks go, some stay, some are new, one changes severity; the user's note on C6 stays.
    EditPlan([_mixed([3, 700, 1500, 6], 2999)]),
    EditPlan([_mixed([3, 700, 1500, 6], 2999)]),  # the same again
    EditPlan([MarkCells("跟进记录", [])]),  # every mark taken away
    EditPlan([_marks([9, 10]), _marks([2000], severity="warning")]),  # two edits of one sheet
]


def test_streamed_marks_give_the_bytes_of_a_whole_edit(tmp_path: Path, monkeypatch, small_chunks) -> None:
    source = _book(tmp_path / "source.xlsx")
    whole = _apply(source, tmp_path / "whole.xlsx", PLANS, False, monkeypatch)
    inflated: list[str] = []
    inflate = Package._inflate
    monkeypatch.setattr(Package, "_inflate", lambda self, name: inflated.append(name) or inflate(self, name))
    _apply(source, tmp_path / "first.xlsx", PLANS[:1], True, monkeypatch)
    assert SHEET not in inflated  # found and rewritten by streaming only
    streamed_steps = _apply(source, tmp_path / "streamed.xlsx", PLANS, True, monkeypatch)
    for a, b in zip(whole, streamed_steps, strict=True):
        assert a == b
    first, second, third, last, _ = streamed_steps
    assert first[SHEET] != second[SHEET] and third[SHEET] == second[SHEET]  # the repeat leaves it as it was
    with zipfile.ZipFile(source) as zf:
        assert last[SHEET] == zf.read(SHEET)  # unmarked: the user's sheet exactly as it was
    ws = openpyxl.load_workbook(tmp_path / "streamed.xlsx")["跟进记录"]
    assert ws["C6"].comment is not None and "用户自己的批注" in ws["C6"].comment.text


@pytest.mark.parametrize("splice", [True, False], ids=["pieces", "no-isal"])
def test_streamed_marks_keep_the_plans_order(tmp_path: Path, monkeypatch, splice) -> None:
    """A streamed sheet's marks are made where the plan has them, between the other sheets' edits:
    the bytes (the new formats' numbers too) are those of the whole edit, with ISA-L or without."""
    if splice and not can_splice():
        pytest.skip("ISA-L is not installed")
    monkeypatch.setattr(editor, "can_splice", lambda: splice)
    source = _book(tmp_path / "source.xlsx")
    plan = EditPlan([
        ColumnWrite("客户资料", "等级", 1, {r: "AB"[r % 2] for r in range(2, 200)}, style=CellStyle(bold=True)),
        MarkCells("客户资料", [CellMark(5, 2, "名称重复")]),
        _marks([2, 15, 700, 2999], col=4),
    ])
    whole = _apply(source, tmp_path / "whole.xlsx", [plan], False, monkeypatch)
    assert _apply(source, tmp_path / "streamed.xlsx", [plan], True, monkeypatch) == whole
    b = openpyxl.load_workbook(tmp_path / "streamed.xlsx")
    assert b["跟进记录"]["D15"].font.b and b["跟进记录"]["D15"].fill.fgColor.rgb == "FFFFC7CE"


@pytest.mark.parametrize("size", [1, 7, 100, 1500, 1 << 20])
def test_segments_are_whole_rows_at_any_chunk_size(tmp_path: Path, size: int) -> None:
    source = _book(tmp_path / "source.xlsx", rows=400)
    pkg = Package(source.read_bytes())
    frame = streamed.Frame()
    pieces = []
    for data, start, end in streamed._segments(pkg.inflated_chunks(SHEET, size), frame):
        piece = data[start:end]
        assert not piece or (piece.startswith(b"<row") and piece.endswith((b"</row>", b"/>")))
        pieces.append(piece)
    rebuilt = b"".join([frame.head, frame.open_tag, *pieces, frame.close_tag, frame.tail])
    assert rebuilt == pkg.read(SHEET)


def _rezip(source: Path, target: Path, change) -> Path:
    """A copy of the workbook with the streamed sheet's XML changed."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, change(data) if info.filename == SHEET else data)
    return target


def _no_r(xml: bytes) -> bytes:  # rows 2–60 counted by their place, not by r=
    return re.sub(rb'<row r="([2-9]|[1-5]\d|60)"', b"<row", xml)


def _prefixed(xml: bytes) -> bytes:  # every element in the x: namespace prefix, as some tools write
    xml = xml.replace(b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
                      b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"')
    return re.sub(rb"<(/?)(?=[A-Za-z])(?!\w+:)", rb"<\1x:", xml)


def _commented(xml: bytes) -> bytes:
    return xml.replace(b"<sheetData>", "<sheetData><!-- 用户的注释 -->".encode(), 1)


@pytest.mark.parametrize(("change", "streams"), [(_prefixed, True), (_no_r, False), (_commented, False)])
def test_sheets_laid_out_otherwise_give_the_same_bytes(tmp_path: Path, monkeypatch, small_chunks, change,
                                                      streams: bool, fork_mode: str) -> None:
    source = _rezip(_book(tmp_path / "plain.xlsx", rows=1500), tmp_path / "source.xlsx", change)
    plans = [EditPlan([_marks([2, 3, 700, 1100, 1499])]), EditPlan([_marks([3, 1400])])]
    whole = _apply(source, tmp_path / "whole.xlsx", plans, False, monkeypatch)
    scans: list[object] = []
    scan = streamed.scan
    monkeypatch.setattr("xlcrm.workbook.writer.editor.scan", lambda *a: scans.append(scan(*a)) or scans[-1])
    assert _apply(source, tmp_path / "streamed.xlsx", plans, True, monkeypatch) == whole
    if fork_mode == "in-process":  # (a forked child's scans are not seen from here)
        assert len(scans) == 2 and (scans[0] is not None) == streams  # (the first write gives every row its r=)


def test_a_mark_on_a_row_that_is_not_there_is_made_on_the_whole_sheet(tmp_path: Path, monkeypatch,
                                                                     small_chunks) -> None:
    source = _book(tmp_path / "source.xlsx", rows=1500)
    plans = [EditPlan([_marks([5, 1250, 4000])])]  # 1250: a gap; 4000: below the last row
    whole = _apply(source, tmp_path / "whole.xlsx", plans, False, monkeypatch)
    assert _apply(source, tmp_path / "streamed.xlsx", plans, True, monkeypatch) == whole
    ws = openpyxl.load_workbook(tmp_path / "streamed.xlsx")["跟进记录"]
    assert ws["C1250"].fill.fgColor.rgb == ws["C4000"].fill.fgColor.rgb == "FFFFC7CE"


def test_a_damaged_sheet_is_refused_when_streamed_too(tmp_path: Path, monkeypatch) -> None:
    source = _book(tmp_path / "good.xlsx", rows=500)
    blob = source.read_bytes()
    crc = zipfile.ZipFile(source).getinfo(SHEET).CRC
    packed = struct.pack("<L", crc)
    assert blob.count(packed) == 2  # the local header and the central directory
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(blob.replace(packed, struct.pack("<L", crc ^ 1)))
    errors = []
    for stream in (False, True):
        monkeypatch.setattr(streamed, "MIN_BYTES", 0 if stream else 1 << 40)
        with pytest.raises(Exception) as caught:
            apply_plan(bad, EditPlan([_marks([2, 3])]), backup_keep=0)
        errors.append((type(caught.value), str(caught.value)))
        assert bad.read_bytes() == blob.replace(packed, struct.pack("<L", crc ^ 1))
    assert errors[0] == errors[1]


def test_a_stream_rope_keeps_nothing_and_checks_its_size() -> None:
    def source():
        yield b"<a>"
        yield memoryview(b"xx</a>")[2:]

    rope = StreamRope(7, source)
    assert rope.held() == 0 and rope.available() and rope.tobytes() == b"<a></a>"
    assert rope.crc() == zlib.crc32(b"<a></a>")
    rope.release()
    assert not rope.available() and rope.crc() == zlib.crc32(b"<a></a>")
    with pytest.raises(ValueError, match="not 9"):
        StreamRope(9, source).tobytes()


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
                                reason="forks only on Linux with two usable cores")


FORKED_ONLY = pytest.mark.parametrize("fork_mode", ["forked"], indirect=True)


@linux_only
@FORKED_ONLY
@pytest.mark.parametrize("splice", [True, False], ids=["pieces", "no-isal"])
def test_children_scan_and_deflate_the_streamed_sheet(tmp_path: Path, monkeypatch, fork_mode, splice) -> None:
    """One child per plan scans the streamed sheet; with ISA-L it deflates the sheet in pieces as it
    goes and the second pass lays them end to end, without it the second pass streams on the pool."""
    if splice and not can_splice():
        pytest.skip("ISA-L is not installed")
    made = []
    real = editor.Forked

    def spy(*args, **kwargs):
        child = real(*args, **kwargs)
        made.append((child, child.forked, child.raw))
        return child

    monkeypatch.setattr(editor, "Forked", spy)
    monkeypatch.setattr(editor, "can_splice", lambda: splice)
    source = _book(tmp_path / "source.xlsx")
    whole = _apply(source, tmp_path / "whole.xlsx", PLANS, False, monkeypatch)
    made.clear()
    assert _apply(source, tmp_path / "streamed.xlsx", PLANS, True, monkeypatch) == whole
    assert all(was_forked and raw for _, was_forked, raw in made)
    assert len(made) == len(PLANS)  # a scan per plan, and no other child
    assert not any(child.forked for child, _, _ in made)  # all reaped


def test_pieces_laid_end_to_end_are_the_spliced_part(tmp_path: Path) -> None:
    """The second pass from the scan's pieces: the same bytes as streaming the part again, whatever
    rows changed (none, the first, the last, two side by side) and with a new frame."""
    if not can_splice():
        pytest.skip("ISA-L is not installed")
    source = _book(tmp_path / "source.xlsx", rows=1500)
    pkg = Package(source.read_bytes())
    wanted = [2, 3, 700, 1499, 1500]
    found = streamed.scan(pkg, SHEET, "跟进记录", wanted, deflate=True)
    back = streamed.unpack_scans(b"".join(streamed.pack_scans({SHEET: found})))[SHEET]
    assert back.rows == found.rows and len(back.stretches.pieces) == len(found.stretches.pieces)
    frame = found.frame
    for changed, head, tail in [({}, frame.head + b"<!-- -->", frame.tail), ({2: b'<row r="2"/>'}, frame.head, frame.tail),
                                ({1500: b'<row r="1500"><c r="A1500"><v>1</v></c></row>', 3: b'<row r="3"/>'},
                                 frame.head, frame.tail + b" "), ({700: b'<row r="700"/>'}, frame.head, frame.tail)]:
        rope = streamed.spliced(pkg, SHEET, "跟进记录", back, head, tail, changed)
        crc, payload = streamed._deflated("跟进记录", back, head, tail, changed, rope.size)
        expected = rope.tobytes()
        assert zlib.decompress(bytes(payload), -15) == expected
        assert crc == zlib.crc32(expected)


@linux_only
@FORKED_ONLY
@pytest.mark.parametrize("failing", ["scan"])
def test_a_child_that_fails_leaves_the_work_to_the_parent(tmp_path: Path, monkeypatch, fork_mode, failing) -> None:
    parent = os.getpid()
    real = getattr(editor, failing)

    def fails_in_the_child(*args):
        if os.getpid() != parent:
            raise RuntimeError("the child failed")
        return real(*args)

    source = _book(tmp_path / "source.xlsx")
    whole = _apply(source, tmp_path / "whole.xlsx", PLANS[:2], False, monkeypatch)
    monkeypatch.setattr(editor, failing, fails_in_the_child)
    assert _apply(source, tmp_path / "streamed.xlsx", PLANS[:2], True, monkeypatch) == whole


@linux_only
@FORKED_ONLY
def test_a_failed_write_stops_a_scan_nobody_took(tmp_path: Path, monkeypatch, fork_mode) -> None:
    source = _book(tmp_path / "source.xlsx")
    closed = []
    monkeypatch.setattr(streamed.ScansElsewhere, "close", lambda self: closed.append(self) or self.child.close())
    monkeypatch.setattr(editor.Editor, "_stand_in", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    monkeypatch.setattr(streamed, "MIN_BYTES", 0)
    with pytest.raises(RuntimeError, match="boom"):
        apply_plan(shutil.copyfile(source, tmp_path / "b.xlsx"), PLANS[0], backup_keep=0)
    assert len(closed) == 1 and not closed[0].forked
