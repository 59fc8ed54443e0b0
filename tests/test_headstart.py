"""The read's head start: the CLI starts parsing the biggest data sheet before it imports the rest.

What must hold: the read gets exactly the grid it would have loaded itself, only for the same
unchanged file and sheet, once; anything odd makes the read load the sheet on its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from xlcrm.workbook import grid, headstart
from xlcrm.workbook.reader import read_book


@pytest.fixture(autouse=True)
def no_leftover(monkeypatch):
    monkeypatch.setattr(headstart, "MIN_BYTES", 0)  # the sample's sheets are small
    monkeypatch.setattr(headstart, "_current", None)
    yield


def test_the_biggest_data_sheet_is_parsed_as_the_read_would(sample_zh):
    head = headstart.start(sample_zh)
    assert head is not None
    assert head.decided.wait(10)
    assert head.sheet == "跟进记录"  # the sample's longest sheet
    early = headstart.take(sample_zh, head.sheet).result(timeout=60)
    own = grid.load_grid(grid.open_workbook(sample_zh, "xlsx"), head.sheet)
    assert early.name == own.name and early.col_index == own.col_index
    assert early.batch.equals(own.batch)


def test_handed_out_once_and_only_for_that_sheet(sample_zh):
    head = headstart.start(sample_zh)
    assert headstart.take(sample_zh, "客户资料") is None  # another sheet: the read loads it itself
    assert headstart.take(sample_zh, head.sheet) is head.grid  # still there for its own sheet
    assert headstart.take(sample_zh, head.sheet) is None  # once


def test_a_file_changed_since_is_not_trusted(sample_zh):
    head = headstart.start(sample_zh)
    assert head.decided.wait(10)
    stat = sample_zh.stat()
    os.utime(sample_zh, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert headstart.take(sample_zh, head.sheet) is None


def test_another_file_with_the_same_sheet_gets_nothing(sample_zh, tmp_path):
    other = tmp_path / "other.xlsx"
    other.write_bytes(sample_zh.read_bytes())
    head = headstart.start(sample_zh)
    assert headstart.take(other, head.sheet) is None


def test_small_sheets_and_damaged_files_get_no_head_start(sample_zh, tmp_path, monkeypatch):
    monkeypatch.setattr(headstart, "MIN_BYTES", 1 << 40)
    head = headstart.start(sample_zh)
    assert head.decided.wait(10) and head.sheet is None
    assert headstart.take(sample_zh, "跟进记录") is None

    monkeypatch.setattr(headstart, "MIN_BYTES", 0)
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a zip at all" * 100)
    head = headstart.start(junk)
    assert head.decided.wait(10) and head.sheet is None


def test_the_read_takes_the_head_start_and_reads_the_same_book(sample_zh, tmp_path, monkeypatch):
    plain = tmp_path / "plain.xlsx"
    plain.write_bytes(sample_zh.read_bytes())
    taken = []
    real_take = headstart.take

    def spy(path, name):
        future = real_take(path, name)
        if future is not None:
            taken.append(name)
        return future

    monkeypatch.setattr(headstart, "take", spy)
    expected = read_book(plain)
    assert taken == []
    headstart.start(sample_zh)
    book = read_book(sample_zh)
    assert taken == ["跟进记录"]
    for key in ("customers", "followups", "purchases"):
        pd.testing.assert_frame_equal(getattr(book, key), getattr(expected, key))
    assert [(p.sheet, p.row, p.column, p.code) for p in book.problems] == \
        [(p.sheet, p.row, p.column, p.code) for p in expected.problems]


def test_a_failed_parse_is_raised_by_the_read_as_its_own(sample_zh, monkeypatch):
    from xlcrm.errors import FileRefused

    head = headstart.HeadStart(sample_zh)
    head.sheet, head.identity = "跟进记录", headstart._identity(sample_zh, sample_zh.stat())
    head.decided.set()
    head.grid.set_exception(FileRefused("工作表“{s}”无法读取", "Sheet '{s}' cannot be read", s="跟进记录"))
    monkeypatch.setattr(headstart, "_current", head)
    with pytest.raises(FileRefused, match="跟进记录"):
        read_book(sample_zh)


@pytest.mark.parametrize(("args", "starts"), [
    (["run", "{book}"], True),
    (["run", "{book}", "--today", "2026-11-20"], True),
    (["--version", "run", "--owner", "张三", "{book}"], True),
    (["summary", "{book}"], True),
    (["new", "{book}"], False),  # writes a new book: nothing to read
    (["sync", "{book}"], False),  # reads only what changed
    (["run", "missing.xlsx"], False),
    (["run", "{csv}"], False),
    ([], False),
])
def test_which_command_lines_get_a_head_start(sample_zh, tmp_path, args, starts):
    csv = tmp_path / "customers.csv"
    csv.write_text("客户编号\nC1\n", encoding="utf-8")
    argv = [a.format(book=sample_zh, csv=csv) for a in args]
    head = headstart.start_for_argv(argv)
    assert (head is not None) == starts
    if head is not None:
        assert head.path == sample_zh


def test_the_installed_entry_point_runs_through_the_head_start(sample_zh):
    out = subprocess.run([sys.executable, "-m", "xlcrm", "run", str(sample_zh), "--today", "2026-11-20"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "今日需跟进" in out.stdout
    from xlcrm.cli_entry import script as entry  # what [project.scripts] names

    assert entry.__module__ == "xlcrm.cli_entry"
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert 'xlcrm = "xlcrm.cli_entry:script"' in text


def test_the_head_start_parses_without_waiting_for_pandas():
    """The head start's thread imports only what parsing needs (fastexcel, pyarrow, lxml), so it
    starts parsing ~0.5 s before the main thread has imported pandas (they would share its import lock)."""
    code = ("import sys\nfrom xlcrm.workbook import grid, headstart\nheadstart.named_like_data('客户资料')\n"
            "print(sorted(m for m in ('pandas', 'pydantic', 'polars') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
