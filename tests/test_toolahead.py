"""Tool sheets built in a forked child (`writer.toolahead`): the same bytes as built in the parent."""

from __future__ import annotations

import os
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xlsxwriter

from xlcrm import forked
from xlcrm.errors import XlcrmError
from xlcrm.workbook.edits import (
    FMT_DATE,
    FMT_MONEY,
    Block,
    CellMark,
    CellStyle,
    ColumnWrite,
    EditPlan,
    MarkCells,
    SheetReplace,
)
from xlcrm.workbook.grid import sheet_parts
from xlcrm.workbook.writer import apply_plan, toolahead

# XLCRM_FORK=1 forks wherever this machine can: Linux, two cores, /proc.
needs_fork = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and len(os.sched_getaffinity(0)) >= 2 and os.path.exists("/proc/self/stat")),
    reason="a child is forked on Linux with two cores only",
)

ROWS = 300


def _book(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet("客户资料")
    ws.write_row(0, 0, ["编号", "名称", "下次联系"])
    for i in range(1, ROWS):
        ws.write_string(i, 0, f"C{i:05d}")
        ws.write_string(i, 1, f"名称{i}")
    wb.close()
    return path


def _lists(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    due = pd.DataFrame({
        "客户编号": [f"C{i:05d}" for i in range(n)],
        "说明": [("很长的说明 " * (i % 3)) + f"第{i}行 & <b>" for i in range(n)],
        "下次联系": pd.to_datetime(["2026-11-20"] * n) + pd.to_timedelta(range(n), unit="D"),
        "金额": [i * 1.5 if i % 7 else None for i in range(n)],
        "次数": list(range(n)),
    })
    problems = pd.DataFrame({"行": list(range(2, 2 + n // 3)), "问题": ["缺少电话"] * (n // 3)})
    return due, problems


def _plan(n: int = 120) -> EditPlan:
    due, problems = _lists(n)
    fills = {i: "FFFFC7CE" for i in range(0, n, 9)}
    return EditPlan([
        # Basic Info's computed dates and the marks derive formats in the parent, some equal to
        # formats the tool sheets derive in the child.
        ColumnWrite("客户资料", "下次联系", 1, {r: pd.Timestamp("2026-12-01") for r in range(2, ROWS, 2)},
                    style=CellStyle(number_format=FMT_DATE)),
        MarkCells("客户资料", [CellMark(r, 2, f"第 {r} 行", "error" if r % 2 else "warning") for r in (3, 8, 40)]),
        SheetReplace("今日跟进", [Block(due, title="今日需跟进", row_fills=fills, wrap=("说明",),
                                       cell_fills={"金额": {4: "FFC6EFCE"}}, number_formats={"金额": FMT_MONEY},
                                       total_row=True, autofilter=True)]),
        SheetReplace("问题", [Block(problems, title="问题清单")]),
    ])


def _with_code_name(path: Path, sheet: str, code_name: str) -> None:
    """Give a sheet a VBA code name, as the add-in's workbook has (fixture files only)."""
    part = next(part for name, _, part in sheet_parts(path) if name == sheet)
    with zipfile.ZipFile(path) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:  # ok-to-save (a test fixture, rewritten)
        for info, data in members:
            if info.filename == part:
                data = data.replace(b"<sheetPr>", f'<sheetPr codeName="{code_name}">'.encode(), 1)
                assert code_name.encode() in data
            zf.writestr(info, data)


def _write(source: Path, path: Path, plan: EditPlan, monkeypatch, fork: str) -> dict[str, bytes]:
    monkeypatch.setenv(forked.FORK_ENV, fork)
    shutil.copyfile(source, path)
    apply_plan(path, plan, backup_keep=0)
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return _book(tmp_path / "source.xlsx")


@pytest.fixture
def taken(monkeypatch) -> list[str]:
    """The tool sheets the parent took from the child."""
    out: list[str] = []
    real = toolahead.ToolSheetsAhead.take

    def spy(self, edit, styles, code_name):
        built = real(self, edit, styles, code_name)
        if built is not None:
            out.append(edit.sheet)
        return built

    monkeypatch.setattr(toolahead.ToolSheetsAhead, "take", spy)
    return out


@needs_fork
def test_tool_sheets_built_in_a_child_are_the_parents_bytes(source, tmp_path, monkeypatch, taken):
    here = _write(source, tmp_path / "here.xlsx", _plan(), monkeypatch, "0")
    assert taken == []
    beside = _write(source, tmp_path / "beside.xlsx", _plan(), monkeypatch, "1")
    assert taken == ["今日跟进", "问题"]
    assert beside == here
    # Written again, over its own tool sheets (one with a code name): the formats are in the book
    # now and keep their indexes in the child.
    _with_code_name(tmp_path / "here.xlsx", "今日跟进", "DueToday")
    taken.clear()
    again_here = _write(tmp_path / "here.xlsx", tmp_path / "again_here.xlsx", _plan(90), monkeypatch, "0")
    again_beside = _write(tmp_path / "here.xlsx", tmp_path / "again_beside.xlsx", _plan(90), monkeypatch, "1")
    assert taken == ["今日跟进", "问题"]
    assert again_beside == again_here
    assert any(b'codeName="DueToday"' in data for data in again_beside.values())


@needs_fork
@pytest.mark.parametrize("how", ["child fails", "too few tokens", "wider tokens", "another code name"])
def test_whatever_the_child_cannot_do_is_built_in_the_parent(source, tmp_path, monkeypatch, taken, how):
    if how in ("child fails", "another code name"):  # over tool sheets of an earlier run: code names are read
        _write(source, tmp_path / "first.xlsx", _plan(), monkeypatch, "0")
        source = tmp_path / "first.xlsx"
        _with_code_name(source, "今日跟进", "DueToday")
    # (else a book without them: every format the tool sheets use is new, a token in the child)
    here = _write(source, tmp_path / "here.xlsx", _plan(), monkeypatch, "0")
    parent = os.getpid()
    if how == "child fails":
        real = toolahead.build_tool_sheet

        def broken(*args, **kwargs):
            if os.getpid() != parent:
                raise RuntimeError("the child fails")
            return real(*args, **kwargs)

        monkeypatch.setattr(toolahead, "build_tool_sheet", broken)
    elif how == "too few tokens":
        monkeypatch.setattr(toolahead, "_LETTERS", 3)  # Due Today needs more; the Issues sheet fewer
    elif how == "wider tokens":  # indexes put in by the pass that changes the length
        monkeypatch.setattr(toolahead, "_token_width", lambda formats: 4)
    else:
        monkeypatch.setattr(toolahead, "code_name_of", lambda old: "Other")
    beside = _write(source, tmp_path / "beside.xlsx", _plan(), monkeypatch, "1")
    assert beside == here
    if how == "too few tokens":
        assert "今日跟进" not in taken
    else:
        assert taken == {"child fails": [], "wider tokens": ["今日跟进", "问题"], "another code name": []}[how]


@needs_fork
def test_warnings_of_the_childs_build_are_given_in_the_parent(source, tmp_path, monkeypatch):
    long_text = pd.DataFrame({"说明": ["长" * 40_000, "短"]})
    plan = EditPlan([SheetReplace("说明", [Block(long_text)])])
    results = []
    for fork in ("0", "1"):
        monkeypatch.setenv(forked.FORK_ENV, fork)
        path = tmp_path / f"w{fork}.xlsx"
        shutil.copyfile(source, path)
        results.append(apply_plan(path, plan, backup_keep=0))
    assert results[0].warnings == results[1].warnings
    assert any("truncated" in w for w in results[1].warnings)


@needs_fork
def test_a_failed_write_leaves_no_child(source, tmp_path, monkeypatch):
    monkeypatch.setenv(forked.FORK_ENV, "1")
    children = []
    real = forked.Forked._start

    def spy(self):
        real(self)
        children.append(self.pid)

    monkeypatch.setattr(forked.Forked, "_start", spy)
    plan = _plan()
    plan.edits.insert(2, ColumnWrite("没有这个表", "列", 1, {2: "x"}))  # fails before the tool sheets
    path = tmp_path / "failed.xlsx"
    shutil.copyfile(source, path)
    before = path.read_bytes()
    with pytest.raises(XlcrmError):
        apply_plan(path, plan, backup_keep=0)
    assert path.read_bytes() == before
    assert len(children) == 1 and children[0] is not None
    with pytest.raises(ChildProcessError):  # reaped
        os.waitpid(children[0], os.WNOHANG)


def _tokened(indexes: dict[int, int], width: int) -> tuple[bytes, bytes]:
    """A row of cells with tokens, and the same row as written with `indexes`."""
    cells, expected = [], []
    for k, index in [*indexes.items(), *indexes.items()]:
        token = toolahead._token(k, width)
        cells.append(f'<c r="A{k + 1}" s="{token}" t="n"><v>{k}</v></c>')
        expected.append(f'<c r="A{k + 1}"' + (f' s="{index}"' if index else "") + f' t="n"><v>{k}</v></c>')
    text = '<c r="Z1" s="7"><is><t>s="#A" " \' 1</t></is></c>'  # text that looks like an attribute
    return (text + "".join(cells)).encode(), (text + "".join(expected)).encode()


def _fill(xml: bytes, indexes: dict[int, int], width: int) -> bytes | None:
    found = toolahead._find_tokens(xml, width)  # in the child
    return None if found is None else toolahead._fill_tokens(bytearray(xml), *found, indexes, width)


@pytest.mark.parametrize("indexes, width", [
    ({0: 12, 1: 13, 91: 40}, 2),  # in place: every index as wide as the tokens
    ({0: 120, 1: 7, 2: 0}, 3),  # another width, and 0: no attribute at all
])
def test_tokens_are_replaced_by_their_indexes(indexes, width):
    xml, expected = _tokened(indexes, width)
    assert _fill(xml, indexes, width) == expected


def test_a_mark_that_is_not_a_known_token_refuses_the_sheet():
    xml, _ = _tokened({0: 12, 1: 13}, 2)
    assert _fill(xml, {0: 12}, 2) is None  # a token the parent did not derive
    assert _fill(xml, {0: 12, 1: 13}, 3) is None  # not closed where it should be
    stray = xml.replace(b"<t>s=", b"<t>\x01#s=")
    assert _fill(stray, {0: 12, 1: 13}, 2) is None  # not in an attribute
    assert _fill(b'<c s="12"/>', {}, 2) == b'<c s="12"/>'
    at, number = toolahead._find_tokens(xml, 2)
    assert toolahead._fill_tokens(bytearray(xml), at + 1, number, {0: 12, 1: 13}, 2) is None  # not at a mark


def test_token_numbers_are_unique_and_bounded():
    tokens = [toolahead._token(k, 3) for k in range(toolahead._LETTERS ** 2)]
    assert len(set(tokens)) == len(tokens) and {len(t) for t in tokens} == {3}
    assert all('"' not in t and t.isascii() for t in tokens)
    with pytest.raises(toolahead.TokenSpace):
        toolahead._token(toolahead._LETTERS ** 2, 3)
    assert toolahead._token_width(9) == 2 and toolahead._token_width(150) == 3


def test_formats_the_book_had_keep_their_index_in_the_child():
    class Book:
        format_count = 10

        def derive(self, base, style):
            return 4 if style.bold else 10

    styles = toolahead.ChildStyles(Book(), 2)
    assert styles.derive(None, CellStyle(bold=True)) == 4
    token = styles.derive(None, CellStyle(number_format=FMT_DATE))
    assert token == toolahead._token(0, 2)
    assert styles.log == [(CellStyle(bold=True), 4), (CellStyle(number_format=FMT_DATE), 10)]
    assert np.frombuffer(token.encode(), dtype=np.uint8)[0] == toolahead.MARK


@needs_fork
def test_the_childs_xml_check_stands_and_a_broken_sheet_is_still_refused(source, tmp_path, monkeypatch):
    from xlcrm.errors import WriteFailed
    from xlcrm.workbook.writer import verify

    checked: list[str] = []
    real_check = verify._check_docs

    def spy(name, docs):
        checked.append(name)
        return real_check(name, docs)

    monkeypatch.setattr(verify, "_check_docs", spy)
    # Over the tool sheets of an earlier run, whose formats the book has: each index written in
    # place of its token (with the usual width), so the child's check of the sheet stands.
    _write(source, tmp_path / "first.xlsx", _plan(), monkeypatch, "0")
    source = tmp_path / "first.xlsx"
    tool_parts = {part for name, _, part in sheet_parts(source) if name in ("今日跟进", "问题")}
    checked.clear()
    _write(source, tmp_path / "ok.xlsx", _plan(), monkeypatch, "1")
    assert len(tool_parts) == 2 and not tool_parts & set(checked)
    assert "xl/worksheets/sheet1.xml" in checked

    real_build = toolahead.build_tool_sheet
    parent = os.getpid()

    def broken(*args, **kwargs):
        built = real_build(*args, **kwargs)
        if os.getpid() != parent:
            built.xml = iter([b"".join(built.xml).replace(b"</sheetData>", b"<row></sheetData>", 1)])
        return built

    monkeypatch.setattr(toolahead, "build_tool_sheet", broken)
    path = tmp_path / "broken.xlsx"
    shutil.copyfile(source, path)
    with pytest.raises(WriteFailed):  # taken from the child, checked in the parent, refused
        apply_plan(path, _plan(), backup_keep=0)
    assert path.read_bytes() == source.read_bytes()


@pytest.mark.parametrize("fork, rows", [("0", 3000), ("0", 60_000), pytest.param("1", 3000, marks=needs_fork)])
def test_a_big_tool_sheet_lets_go_of_its_xml_once_deflated(source, tmp_path, monkeypatch, fork, rows):
    """Above INFLATE_LIMIT a tool sheet is written as a rope — built in the parent, of the pieces it was
    made in (60,000 rows: joined by polars), never joined —, released once checked and deflated: the
    same file as holding the joined XML."""
    from xlcrm.ooxml.package import Rope
    from xlcrm.workbook.writer import editor as editor_mod

    held = _write(source, tmp_path / "held.xlsx", _plan(rows), monkeypatch, fork)
    released: list[int] = []
    release = Rope.release
    monkeypatch.setattr(Rope, "release", lambda self: released.append(self.size) or release(self))
    monkeypatch.setattr(editor_mod, "INFLATE_LIMIT", 1000)  # both tool sheets are "big"
    roped = _write(source, tmp_path / "roped.xlsx", _plan(rows), monkeypatch, fork)
    assert roped == held
    assert len([size for size in released if size > 1000]) >= 2


def test_a_big_tool_sheet_built_here_is_checked_before_its_deflate_and_refused_when_broken(source, tmp_path,
                                                                                           monkeypatch):
    """A rope written by the parent is checked and then deflated by one job on the pool: broken XML
    fails the write, naming the part, and leaves the file as it was."""
    from collections.abc import Iterator

    from xlcrm.errors import WriteFailed
    from xlcrm.workbook.writer import editor as editor_mod

    monkeypatch.setenv(forked.FORK_ENV, "0")
    monkeypatch.setattr(editor_mod, "INFLATE_LIMIT", 1000)
    real_build = editor_mod.build_tool_sheet

    def broken(edit, *args, **kwargs):
        built = real_build(edit, *args, **kwargs)
        if edit.sheet == "今日跟进":  # built as pieces (made into a rope by the editor), written as they are
            assert isinstance(built.xml, Iterator)
            built.xml = iter([b"".join(built.xml).replace(b"</sheetData>", b"<row></sheetData>", 1)])
        return built

    monkeypatch.setattr(editor_mod, "build_tool_sheet", broken)
    path = tmp_path / "broken.xlsx"
    shutil.copyfile(source, path)
    with pytest.raises(WriteFailed) as failed:
        apply_plan(path, _plan(3000), backup_keep=0)
    assert "xl/worksheets/sheet2.xml" in str(failed.value)  # Due Today, the book's second sheet
    assert "not well-formed XML" in failed.value.render("en")
    assert path.read_bytes() == source.read_bytes()
