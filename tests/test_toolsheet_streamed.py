"""A big tool sheet made, checked and deflated a few pieces at a time (`Editor.sheet_replace`,
`editor.deflated_checked`), and a handed-over plan's edits let go of as they are written.

The part must read exactly as the sheet built whole gives it, a broken piece must fail the write,
and letting go of the edits must change nothing in the file.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xlsxwriter

from xlcrm.errors import WriteFailed
from xlcrm.ooxml import fastrows
from xlcrm.ooxml.fastzlib import can_splice
from xlcrm.workbook.edits import Block, ColumnWrite, EditPlan, SheetReplace
from xlcrm.workbook.writer import apply_plan, editor, toolsheet

needs_isal = pytest.mark.skipif(not can_splice(), reason="deflate pieces are joined with ISA-L's crc32_combine")
ROWS = 4000


def _book(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet("客户资料")
    ws.write_row(0, 0, ["客户编号", "公司名称"])
    for i in range(1, 50):
        ws.write_row(i, 0, [f"C{i:05d}", f"公司 {i}"])
    wb.close()
    return path


def _plan() -> EditPlan:
    n = ROWS
    df = pd.DataFrame({
        "客户编号": [f"C{i:05d}" for i in range(n)],
        "公司": [f"公司 {i} <甲> & “乙”" if i % 7 else f" 前后有空格 {i} " for i in range(n)],
        "等级": ["ABCDE"[i % 5] for i in range(n)],
        "下次联系": [dt.datetime(2026, 1, 1) + dt.timedelta(days=i % 90) for i in range(n)],
        "金额": np.where(np.arange(n) % 11 == 0, np.nan, np.arange(n) * 1.25),
        "说明": [("很长的说明文字 " * (i % 4)) + "\n第二行" if i % 13 == 0 else "" for i in range(n)],
    })
    block = Block(df, title="今日跟进 2026-12-08", autofilter=True, wrap=("说明",),
                  row_fills={i: ("FFFFC7CE" if i % 5 == 0 else "FFC6EFCE") for i in range(0, n, 3)},
                  number_formats={"金额": "#,##0.00"})
    return EditPlan([
        ColumnWrite("客户资料", "等级", 1, {r: "ABCDE"[r % 5] for r in range(2, 51)}),
        SheetReplace("今日跟进", [block, Block(df.head(3), title="另一块")]),
    ])


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _write(source: Path, target: Path, plan: EditPlan, streamed: bool, monkeypatch) -> dict[str, bytes]:
    monkeypatch.setattr(editor, "STREAMED_TOOL_BYTES", 0 if streamed else 1 << 40)
    monkeypatch.setattr(editor, "STREAMED_BATCH_BYTES", 1 << 12)  # many batches, each handed over as made
    shutil.copyfile(source, target)
    apply_plan(target, plan, backup_keep=0)
    return _parts(target)


@needs_isal
@pytest.mark.parametrize("polars", [True, False], ids=["rows-joined-by-polars", "rows-joined-by-python"])
def test_a_tool_sheet_written_streamed_reads_as_the_whole_build(tmp_path: Path, monkeypatch, polars) -> None:
    if polars and not fastrows.installed():
        pytest.skip("polars is not installed")
    monkeypatch.setattr(fastrows, "MIN_CELLS", 0 if polars else 1 << 60)
    monkeypatch.setattr(toolsheet, "ROWS_PER_PIECE", 64)  # many pieces
    source = _book(tmp_path / "book.xlsx")
    calls: list[str] = []
    deflate = editor.deflated_checked

    def counted(part, pieces):
        calls.append(part)
        return deflate(part, pieces)

    monkeypatch.setattr(editor, "deflated_checked", counted)
    streamed = _write(source, tmp_path / "streamed.xlsx", _plan(), True, monkeypatch)
    streamed_calls = len(calls)
    assert streamed_calls >= 1  # the tool sheet went the streamed way (and the state sheet, at this threshold) …
    whole = _write(source, tmp_path / "whole.xlsx", _plan(), False, monkeypatch)
    assert len(calls) == streamed_calls  # … and here none did
    assert streamed.keys() == whole.keys()
    for name in whole:
        assert streamed[name] == whole[name], name
    sheet = next(v for k, v in streamed.items() if k.startswith("xl/worksheets/") and b"<autoFilter" in v)
    assert sheet.count(b"<row ") == 2 + ROWS + 2 + 3  # each block: its title, header and rows (no row between)


@needs_isal
def test_deflated_checked_gives_one_stream_of_the_pieces_and_refuses_broken_xml() -> None:
    pieces = [b"<?xml version='1.0'?><a>", *(b"<b>%d &amp; x</b>" % i for i in range(5000)), b"</a>"]
    data = editor.deflated_checked("xl/worksheets/sheet9.xml", iter(pieces))
    joined = b"".join(pieces)
    assert zlib.decompress(data.payload, -15) == joined
    assert (data.crc(), len(data)) == (zlib.crc32(joined), len(joined))
    with pytest.raises(WriteFailed, match="sheet9.xml"):
        editor.deflated_checked("xl/worksheets/sheet9.xml", iter([b"<a>", b"<b>" * 3000, b"</a>"]))


def test_a_handed_over_plan_is_let_go_of_as_it_is_written(tmp_path: Path, monkeypatch) -> None:
    source = _book(tmp_path / "book.xlsx")
    kept, handed = _plan(), _plan()
    handed.handed_over = True
    files = [_write(source, tmp_path / f"{i}.xlsx", plan, False, monkeypatch) for i, plan in enumerate((kept, handed))]
    assert files[0].keys() == files[1].keys()
    for name in files[0]:
        if not name.startswith("docProps/"):
            assert files[0][name] == files[1][name], name
    assert all(edit is not None for edit in kept.edits)  # not handed over: the caller's plan as it was
    assert handed.edits == [None] * len(handed.edits) and handed.operation == kept.operation


def test_a_command_hands_its_plan_to_the_write(sample_zh: Path, monkeypatch) -> None:
    """`run` reads its plan no more once written: the write is told so, and lets go of each edit."""
    from xlcrm import api
    from xlcrm.workbook import writer

    written: list[EditPlan] = []
    plan_to_bytes = writer.plan_to_bytes

    def spied(blob, plan, *args, **kwargs):
        written.append(plan)
        assert plan.handed_over and all(edit is not None for edit in plan.edits)
        return plan_to_bytes(blob, plan, *args, **kwargs)

    monkeypatch.setattr(writer, "plan_to_bytes", spied)
    api.run(sample_zh, today=dt.date(2026, 12, 8))
    assert len(written) == 1 and written[0].edits and set(written[0].edits) == {None}
