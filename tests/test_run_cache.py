"""A repeat `xlcrm run` with nothing new answers from its record and leaves the file untouched."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from xlcrm import api
from xlcrm.workbook.edits import CellWrite, EditPlan
from xlcrm.workbook.reader import read_book
from xlcrm.workbook.writer import apply_plan

TODAY = dt.date(2026, 11, 20)


def test_a_repeat_run_reads_nothing_and_writes_nothing(sample_zh: Path) -> None:
    first = api.run(sample_zh, today=TODAY)
    after = sample_zh.read_bytes()
    again = api.run(sample_zh, today=TODAY)
    assert again.data.get("cached") and not again.written
    assert sample_zh.read_bytes() == after
    assert again.counts == {**first.counts, "new_ids": 0, "grade_changes": 0, "first_grades": 0}  # nothing done this time
    assert "没有任何变化" in again.text("zh-CN")
    assert "Nothing has changed" in again.text("en")


def test_any_change_or_another_day_runs_again(sample_zh: Path) -> None:
    api.run(sample_zh, today=TODAY)
    assert not api.run(sample_zh, today=TODAY + dt.timedelta(days=1)).data.get("cached")  # another day
    api.run(sample_zh, today=TODAY)
    book = read_book(sample_zh)
    info = book.sheets["customers"]
    apply_plan(sample_zh, EditPlan([CellWrite(info.name, info.header_row + 1, info.columns["notes"], "新备注")]))
    assert not api.run(sample_zh, today=TODAY).data.get("cached")  # a cell changed
    assert api.run(sample_zh, today=TODAY).data.get("cached")
    assert not api.run(sample_zh, today=TODAY, owner="张伟").data.get("cached")  # other options


def test_a_save_by_another_program_runs_again(sample_zh: Path) -> None:
    api.run(sample_zh, today=TODAY)
    wb = openpyxl.load_workbook(sample_zh)
    wb.save(sample_zh)  # Excel, WPS or LibreOffice saving rewrites every part
    assert not api.run(sample_zh, today=TODAY).data.get("cached")
