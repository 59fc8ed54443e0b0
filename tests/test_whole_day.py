"""The day a user lives, on real files: run → dedupe → decide the natural way → merge → merge --undo
→ summary → export, on the zh sample, the en sample and a hand-made book with a title row above its
header. The file is read back after each step (openpyxl for what the user sees, the reader for data)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import needs
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from xlcrm.commands import run
from xlcrm.commands.base import Context
from xlcrm.workbook.edits import CellWrite, EditPlan
from xlcrm.workbook.file_adapter import FileWorkbook
from xlcrm.workbook.reader import read_book
from xlcrm.workbook.writer import apply_plan

REPO = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 20)


@dataclass
class Book:
    path: Path
    lang: str
    merge_word: str  # what the user types to merge (the natural way: only on the duplicate row)
    odd_word: str  # a word xlcrm cannot read
    sheets: dict[str, str]  # key → sheet name


ZH = {"customers": "客户资料", "dup": "查重", "archive": "归档", "log": "变更记录", "summary": "汇总", "export": "导出"}
EN = {"customers": "Basic Info", "dup": "Duplicates", "archive": "Archive", "log": "Change Log", "summary": "Summary",
      "export": "Export"}


def hand_made(path: Path) -> Path:
    """A book typed by hand: a title row above the header; below the duplicate a formula, the user's
    note and a mobile number too short (run marks it)."""
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet("客户资料")
    ws.write("A1", "华东区客户名单（2026）")
    ws.write_row(1, 0, ["客户编号", "公司名称", "联系人", "手机", "邮箱", "城市", "负责人", "创建日期", "同意营销", "备注"])
    people = [("C0001", "杭州云启科技有限公司", "陈明", "13900001111", "chenming@yunqi.cn", "杭州市"),
              ("C0002", "苏州华瑞精密机械有限公司", "李娜", "13900002222", "lina@huarui.com", "苏州市"),
              ("C0003", "南京博远贸易有限公司", "王强", "13900003333", "wq@boyuan.cn", "南京市"),
              ("C0004", "杭州雲啟科技有限公司", "陳明", "139-0000-1111", "CHENMING@YUNQI.CN", "杭州市"),
              ("C0005", "宁波海通物流有限公司", "赵磊", "13900005555", "zhaolei@haitong.cn", "宁波市"),
              ("C0006", "无锡新材料有限公司", "孙丽", "1390000666", "sunli@xcl.cn", "无锡市")]
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    for i, p in enumerate(people):
        r = i + 2
        ws.write_row(r, 0, [*p, "张三"])
        ws.write_datetime(r, 7, dt.datetime(2026, 3, 1 + i), date)
        ws.write(r, 8, "是")
    ws.write_formula("J7", "=LEN(B7)", None, 10)  # C0005's row: moves up when C0004 is archived
    ws.write_comment("B8", "老客户，春节前回访")
    fu = wb.add_worksheet("跟进记录")
    fu.write_row(0, 0, ["客户编号", "跟进日期", "跟进方式", "跟进内容", "下次联系日期"])
    for i, cid in enumerate(["C0001", "C0004", "C0002", "C0004"]):
        fu.write_row(i + 1, 0, [cid])
        fu.write_datetime(i + 1, 1, dt.datetime(2026, 10, 1 + i), date)
        fu.write_row(i + 1, 2, ["电话", "询价"])
    pu = wb.add_worksheet("购买记录")
    pu.write_row(0, 0, ["订单号", "客户编号", "订单日期", "金额", "已收款"])
    for i, (cid, amount) in enumerate([("C0004", 12000), ("C0002", 8000), ("C0001", 3000)]):
        pu.write_row(i + 1, 0, [f"SO{i + 1:03d}", cid])
        pu.write_datetime(i + 1, 2, dt.datetime(2026, 9, 1 + i), date)
        pu.write_row(i + 1, 3, [amount, amount / 2])
    wb.close()
    return path


@pytest.fixture(params=["zh", "en", "title_row"])
def book(request, tmp_path: Path) -> Book:
    if request.param == "title_row":
        return Book(hand_made(tmp_path / "手工客户表.xlsx"), "zh-CN", "合并", "好的", ZH)
    sample = needs.sample(request.param)
    path = tmp_path / sample.name
    shutil.copy(sample, path)
    if request.param == "en":
        return Book(path, "en", "yes", "ok", EN)
    return Book(path, "zh-CN", "合并", "删除", ZH)


def port(path: Path) -> FileWorkbook:
    return FileWorkbook(path, echo=lambda _m: None)


def sheet_rows(path: Path, name: str) -> list[tuple]:
    ws = openpyxl.load_workbook(path)[name]
    return [tuple(c.value for c in row) for row in ws.iter_rows()]


def ids_by_row(path: Path) -> dict[int, str]:
    c = read_book(path).customers
    return {int(r): str(i) for r, i in zip(c["_row"], c["customer_id"], strict=True) if isinstance(i, str)}


def mark_state(path: Path, sheet: str) -> set[str]:
    state = port(path).read_sheet("_xlcrm_marks")
    return set() if state is None else set(state.loc[state["sheet"] == sheet, "cell"])


def comment_refs(path: Path, sheet: str) -> dict[str, str]:
    ws = openpyxl.load_workbook(path)[sheet]
    return {c.coordinate: c.comment.text for row in ws.iter_rows() for c in row if c.comment}


def test_the_whole_day(book: Book):
    s = book.sheets
    # -- run: checked, graded, due list; xlcrm marks problem cells
    result = run("run", port(book.path), Context(today=TODAY, user="sales"))
    assert result.written
    before = read_book(book.path)
    rows_before = ids_by_row(book.path)
    marks_before = mark_state(book.path, s["customers"])
    header_row = before.sheets["customers"].header_row
    assert header_row == (2 if book.path.name.startswith("手工") else 1)

    # -- dedupe: groups listed with real row numbers, numbers stored as numbers
    result = run("dedupe", port(book.path), Context(today=TODAY, user="sales"))
    groups = result.data["groups"]
    assert groups and all(len(g) >= 2 for g in groups)
    dup = sheet_rows(book.path, s["dup"])
    assert isinstance(dup[1][0], int) and isinstance(dup[1][3], int)
    assert {r[2]: r[3] for r in dup[1:]} == {cid: row for row, cid in rows_before.items() if cid in {r[2] for r in dup[1:]}}

    # -- decide the natural way: only the duplicate (lower) row of the first group says merge;
    #    a second group gets a word xlcrm cannot read
    first = [r for r in dup[1:] if r[0] == dup[1][0]]
    duplicate = max(first, key=lambda r: r[3])
    master = min(first, key=lambda r: r[3])
    edits = [CellWrite(s["dup"], dup.index(duplicate) + 1, 2, book.merge_word)]
    odd = next((r for r in dup[1:] if r[0] != dup[1][0]), None)
    if odd is not None:
        edits.append(CellWrite(s["dup"], dup.index(odd) + 1, 2, book.odd_word))
    apply_plan(book.path, EditPlan(edits), backup_keep=0)

    # -- merge (dry run first: it predicts the real run and writes nothing)
    blob = book.path.read_bytes()
    dry = run("merge", port(book.path), Context(today=TODAY, dry_run=True, user="sales"))
    assert book.path.read_bytes() == blob and dry.counts["merged"] == 1
    result = run("merge", port(book.path), Context(today=TODAY, user="sales"))
    assert result.written and result.counts["merged"] == 1
    assert result.data["id_map"] == {duplicate[2]: master[2]}
    if odd is not None:
        (ignored,) = result.data["ignored"]
        assert ignored["row"] == dup.index(odd) + 1 and ignored["value"] == book.odd_word
        assert ignored["sheet"] == s["dup"] and book.odd_word in ignored["reason"]
    after = ids_by_row(book.path)
    gone = duplicate[3]
    assert duplicate[2] not in after.values()
    assert after == {(r - 1 if r > gone else r): cid for r, cid in rows_before.items() if r != gone}
    archive = sheet_rows(book.path, s["archive"])
    assert len(archive) == 2 and duplicate[2] in archive[1] and master[2] in archive[1]
    log = sheet_rows(book.path, s["log"])
    assert any(duplicate[2] in r for r in log[1:])
    # xlcrm's marks followed their cells up (or went with the deleted row) and match the notes
    marks_after = mark_state(book.path, s["customers"])
    expected = set()
    for ref in marks_before:
        col, row = re.fullmatch(r"([A-Z]+)(\d+)", ref).groups()
        if int(row) != gone:
            expected.add(f"{col}{int(row) - 1 if int(row) > gone else int(row)}")
    assert marks_after == expected
    notes = comment_refs(book.path, s["customers"])
    assert marks_after <= set(notes)
    dup_after = sheet_rows(book.path, s["dup"])
    assert all(r[2] not in (duplicate[2], master[2]) for r in dup_after[1:])
    assert all(r[3] == {v: k for k, v in after.items()}[r[2]] for r in dup_after[1:] if r[2])
    if book.path.name.startswith("手工"):
        ws = openpyxl.load_workbook(book.path)["客户资料"]
        assert ws["A1"].value == "华东区客户名单（2026）" and ws["J6"].value == "=LEN(B6)"
        assert notes["B7"] == "老客户，春节前回访" and "D7" in marks_after  # C0006's short mobile, marked by run

    # -- merge --undo: rows back at their old positions, out of the Archive, Duplicates refreshed
    result = run("merge", port(book.path), Context(today=TODAY, user="sales", options={"undo": True}))
    assert result.written and result.counts["restored"] == 1
    assert ids_by_row(book.path) == rows_before
    restored = read_book(book.path)
    for key in ("followups", "purchases"):
        pd.testing.assert_frame_equal(restored.frame(key), before.frame(key))
    assert len(sheet_rows(book.path, s["archive"])) == 1  # the header only
    dup_back = sheet_rows(book.path, s["dup"])
    assert {r[2]: r[3] for r in dup_back[1:]} == {r[2]: r[3] for r in dup[1:]}
    back = set()
    for ref in marks_after:  # marks below the restored row moved down again with their cells
        col, row = re.fullmatch(r"([A-Z]+)(\d+)", ref).groups()
        back.add(f"{col}{int(row) + 1 if int(row) >= gone else int(row)}")
    assert mark_state(book.path, s["customers"]) == back
    assert back <= set(comment_refs(book.path, s["customers"]))
    if book.path.name.startswith("手工"):
        ws = openpyxl.load_workbook(book.path)["客户资料"]
        assert ws["J7"].value == "=LEN(B7)" and ws["B8"].comment.text == "老客户，春节前回访"

    # -- summary and export on the restored book
    result = run("summary", port(book.path), Context(today=TODAY, user="manager"))
    assert result.written and s["summary"] in openpyxl.load_workbook(book.path).sheetnames
    result = run("export", port(book.path), Context(today=TODAY, user="sales"))
    assert result.written
    exported = sheet_rows(book.path, s["export"])
    assert len(exported) >= 2 and result.counts["exported"] == len(exported) - 2  # a title and a header row
    with zipfile.ZipFile(book.path) as z:
        assert z.testzip() is None
