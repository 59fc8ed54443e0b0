"""zh-TW output: a book with Traditional headers gets Traditional sheet names, headers and messages."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

import xlcrm
from xlcrm.errors import Location, Msg, Severity, XlcrmError
from xlcrm.i18n import normalize_lang, pick, traditional
from xlcrm.schema import CUSTOMERS, ISSUES, sheet_name
from xlcrm.settings import Settings
from xlcrm.template import build_template, new_workbook
from xlcrm.workbook.reader import read_book

TODAY = "2026-11-20"


def _tw_book(path):
    customers = pd.DataFrame({
        "company": ["台北甲貿易有限公司", "高雄乙科技有限公司"], "contact": ["王小明", "陳大文"],
        "mobile": ["13800138000", "abc"], "created": ["2026-11-01", "2026-10-01"], "demand": ["目標", "潛在"],
        "owner": ["林", "林"],
    })
    followups = pd.DataFrame({"customer_id": ["C000001"], "date": ["2026-11-10"], "summary": ["電話聯絡"]})
    return build_template(path, "zh-TW", customers=customers, followups=followups)


def _rows(ws, n=3):
    return [list(r) for r in ws.iter_rows(min_row=1, max_row=n, values_only=True)]


def test_traditional_headers_give_traditional_output(tmp_path):
    path = _tw_book(tmp_path / "tw.xlsx")
    book = read_book(path)
    assert book.lang == "zh-TW" and book.settings.language == "zh-TW"
    assert book.sheets["customers"].headers["customer_id"] == "客戶編號"

    result = xlcrm.run(path, today=TODAY)
    text = result.text("zh-TW")
    assert "校驗完成" in text and "“問題”工作表" in text and "評級完成" in text and "今日需跟進" in text

    wb = openpyxl.load_workbook(path)
    for key in ("issues", "due_today", "stale", "change_log"):
        assert sheet_name(key, "zh-TW") in wb.sheetnames
    assert "问题" not in wb.sheetnames and "今日跟进" not in wb.sheetnames
    issues = _rows(wb["問題"], 20)
    assert issues[0][0].startswith("校驗結果 2026-11-20")
    # the schema's own Traditional headers; the internal code column is not shown (issue 11 item 8)
    assert issues[1] == [c.header("zh-TW") for c in ISSUES.columns if c.key != "code"] and "代碼" not in issues[1]
    phone = next(r for r in issues[2:] if r[3] == "手機")
    assert phone[0] == "錯誤" and phone[1] == "客戶資料" and phone[4] == "abc"  # the user's value, never converted
    assert phone[5] == "號碼無效"
    due = _rows(wb["今日跟進"])
    assert due[0][0].startswith("今日需跟進客戶") and due[1][:3] == ["客戶等級", "逾期天數", "客戶編號"]
    log = _rows(wb["變更記錄"])
    assert log[0][:5] == ["時間", "操作人", "操作", "客戶編號", "欄位"] and log[1][2] == "校驗"
    # computed columns added to the user's sheet get Traditional headers
    headers = [c.value for c in wb["客戶資料"][1]]
    assert "客戶等級" in headers and "下次跟進" in headers


def test_lang_option_turns_a_simplified_book_traditional(sample_zh):
    result = xlcrm.check(sample_zh, today=TODAY, lang="zh-TW")
    assert result.written
    wb = openpyxl.load_workbook(sample_zh)
    assert "問題" not in wb.sheetnames  # the book's own Issues sheet (问题) is reused, not doubled
    rows = _rows(wb["问题"], 3)
    assert rows[0][0].startswith("校驗結果") and rows[1][:3] == ["級別", "工作表", "行號"]


def test_new_workbook_in_zh_tw(tmp_path):
    path = new_workbook(tmp_path / "新.xlsx", lang="zh-TW")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:5] == ["客戶資料", "跟進記錄", "購買記錄", "服務記錄", "設定"]
    assert [c.value for c in wb["客戶資料"][1]][:3] == ["客戶編號", "公司名稱", "聯絡人"]
    assert read_book(path).lang == "zh-TW"
    settings = {r[0]: r[1] for r in wb["設定"].iter_rows(min_row=2, values_only=True)}
    assert settings["language"] == "zh-TW"


def test_messages_and_errors_render_in_zh_tw():
    msg = Msg("校验完成：{e} 个错误，见“{sheet}”工作表", "Check done: {e} errors, see '{sheet}'", {"e": 2, "sheet": "客户资料"})
    assert msg.text("zh-TW") == "校驗完成：2 個錯誤，見“客户资料”工作表"  # the sheet name is the user's, as typed
    err = XlcrmError("缺少必需的列：{c}", "Missing column: {c}", location=Location("跟進記錄", 3, "日期"), c="日期")
    assert err.render("zh-TW") == "工作表“跟進記錄”，第 3 行，“日期”欄：缺少必需的列：日期"
    assert Severity.WARNING.label("zh-TW") == "警告" and Severity.ERROR.label("zh-TW") == "錯誤"
    assert CUSTOMERS.column("postcode").header("zh-TW") == "郵遞區號"  # explicit tw wins over conversion
    assert pick("zh-TW", "默认设置", "Defaults") == traditional("默认设置") == "預設設定"  # s2twp: Taiwan phrases


@pytest.mark.parametrize("typed, lang", [("zh-TW", "zh-TW"), ("zh_tw", "zh-TW"), ("繁體", "zh-TW"), ("zh-Hant", "zh-TW"),
                                         ("zh-HK", "zh-TW"), ("en-US", "en"), ("English", "en"), ("zh", "zh-CN"),
                                         ("", "zh-CN")])
def test_language_setting_accepts_traditional(typed, lang):
    assert Settings(language=typed).language == lang
    if typed:
        assert normalize_lang(typed) == lang
