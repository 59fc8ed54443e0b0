"""The fast reader on messy, real-looking workbooks built with xlsxwriter (and bad files)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import needs
import pandas as pd
import pytest
import xlsxwriter

from xlcrm import schema
from xlcrm.errors import FileRefused, SchemaError
from xlcrm.model.book import CrmBook
from xlcrm.workbook.reader import list_sheets, read_book, read_tool_sheet

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = needs.EXCEL_AUTHORED
JAN5 = pd.Timestamp("2024-01-05")


def workbook(path: Path, build) -> Path:
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (a brand-new test file)
    build(wb)
    wb.close()
    return path


def followups_sheet(wb, name="跟进记录", headers=("客户编号", "跟进日期", "方式")):
    ws = wb.add_worksheet(name)
    ws.write_row(0, 0, headers)
    ws.write_row(1, 0, ["C001", "2024-02-01", "电话"])
    return ws


def purchases_sheet(wb, name="购买记录"):
    ws = wb.add_worksheet(name)
    ws.write_row(0, 0, ["客户编号", "日期", "金额"])
    ws.write_row(1, 0, ["C001", "2024/3/1", 1000])
    return ws


# --------------------------------------------------------------------------- one messy Basic Info sheet


@pytest.fixture
def messy(tmp_path) -> CrmBook:
    def build(wb):
        date = wb.add_format({"num_format": "yyyy-mm-dd"})
        text = wb.add_format({"num_format": "@"})
        ws = wb.add_worksheet("客户资料")
        ws.merge_range("A1:H1", "2024 年客户名单")  # merged title cell
        ws.write("A2", "导出：销售部")  # a second title row
        # Header on row 4, columns shuffled, an unknown column, starting in column B.
        ws.write_row(3, 1, ["公司名称", "我的备注", "手机", "建档日期", "客户编号", "邮编", "成交状态", "预计成交日期"])
        rows = [
            # company, extra, mobile, created, id, postcode, status, expected
            ("甲公司", "老朋友", 13800138000, 45296, 123, "010020", "谈判中", "2024/1/5"),
            ("乙公司", None, "13900139000", "2024年1月5日", "00123", 100020, "已成交", "2024.01.05"),
            (
                "丙公司",
                42,
                "１３７００１３７０００",
                "２０２４－０１－０５",
                "C-3",
                "０１００２０",
                "洽談中",
                "20240105",
            ),
            ("丁公司", None, None, "不是日期", "C4", None, "Potential", None),
        ]
        excel_rows = [5, 7, 8, 10]  # row 6 and row 9 are blank; row 8 is hidden
        for (company, extra, mobile, created, cid, postcode, status, expected), r in zip(rows, excel_rows, strict=True):
            r0 = r - 1
            ws.write(r0, 1, company)
            if extra is not None:
                ws.write(r0, 2, extra)
            if mobile is not None:
                ws.write(r0, 3, mobile)
            if isinstance(created, int):
                ws.write_number(r0, 4, created, date)  # an Excel date cell (serial)
            else:
                ws.write_string(r0, 4, created)
            ws.write(r0, 5, cid)
            if postcode is not None:
                ws.write(r0, 6, postcode, text if isinstance(postcode, str) else None)
            ws.write(r0, 7, status)
            if expected is not None:
                ws.write_string(r0, 8, expected)
        ws.set_row(7, None, None, {"hidden": True})
        ws.write_formula("F11", '="C"&"5"', None, "C5")  # formula: the cached value is read
        ws.write("B11", "戊公司")
        ws.write_formula("E11", "=DATE(2024,1,5)", date, 45296)
        followups_sheet(wb)
        purchases_sheet(wb)

    return read_book(workbook(tmp_path / "messy.xlsx", build))


def test_messy_rows_keep_excel_row_numbers(messy):
    c = messy.customers
    assert c["_row"].tolist() == [5, 7, 8, 10, 11]  # blank rows 6 and 9 dropped, hidden row 8 kept
    assert c["_row"].dtype == "int64"
    assert messy.raw["customers"]["_row"].tolist() == c["_row"].tolist()
    assert list(messy.raw["customers"].index) == list(c.index)


def test_messy_text_kinds(messy):
    c = messy.customers
    assert c["customer_id"].tolist() == ["123", "00123", "C-3", "C4", "C5"]
    assert c["mobile"].tolist() == ["13800138000", "13900139000", "13700137000", None, None]
    assert c["postcode"].tolist() == ["010020", "100020", "010020", None, None]
    assert c["company"].tolist() == ["甲公司", "乙公司", "丙公司", "丁公司", "戊公司"]
    assert c["customer_id"].dtype == object and c["contact"].tolist() == [None] * 5
    # raw keeps what was typed (full-width digits included)
    assert messy.raw["customers"]["mobile"].tolist()[2] == "１３７００１３７０００"


def test_messy_dates_and_choices(messy):
    c = messy.customers
    assert c["created"].dtype == "datetime64[ns]"
    assert c["created"].tolist()[:3] == [JAN5] * 3 and pd.isna(c["created"].iloc[3])
    assert c["created"].iloc[4] == JAN5  # formula cell's cached value
    assert c["expected_close"].tolist()[:3] == [JAN5] * 3
    assert c["deal_status"].tolist() == ["negotiating", "closed", "negotiating", "potential", None]
    assert [(p.code, p.row, p.column, p.value) for p in messy.problems] == [("bad_date", 10, "建档日期", "不是日期")]
    problem = messy.problems[0]
    assert problem.sheet == "客户资料" and problem.severity.value == "error"


def test_messy_extra_columns_and_sheet_info(messy):
    c = messy.customers
    # The user's own column is kept under its header, values as text (a number shows as Excel shows it).
    assert c["我的备注"].fillna("<blank>").tolist() == ["老朋友", "<blank>", "42", "<blank>", "<blank>"]
    assert list(c.columns[: len(schema.CUSTOMERS.keys) + 1]) == ["_row", *schema.CUSTOMERS.keys]
    info = messy.sheets["customers"]
    assert info.name == "客户资料" and info.header_row == 4 and info.first_data_row == 5
    assert info.columns == {
        "company": 2,
        "mobile": 4,
        "created": 5,
        "customer_id": 6,
        "postcode": 7,
        "deal_status": 8,
        "expected_close": 9,
    }
    assert info.headers["created"] == "建档日期" and info.extra_columns == {"我的备注": 3}
    assert info.last_column == 9 and info.last_row == 11 and info.table is None
    assert messy.lang == "zh-CN"
    assert messy.sheet_names == ["客户资料", "跟进记录", "购买记录"]


def test_messy_other_sheets(messy):
    f, p = messy.followups, messy.purchases
    assert f["_row"].tolist() == [2] and f["date"].tolist() == [pd.Timestamp("2024-02-01")]
    assert f["channel"].tolist() == ["phone"]
    assert p["date"].tolist() == [pd.Timestamp("2024-03-01")] and p["amount"].tolist() == [1000.0]


# --------------------------------------------------------------------------- languages


@pytest.mark.parametrize(
    "names, headers, lang",
    [
        (("客户资料", "跟进记录", "购买记录"), ("客户编号", "公司名称", "手机", "负责人"), "zh-CN"),
        (("客戶資料", "跟進記錄", "購買記錄"), ("客戶編號", "公司名稱", "手機", "負責人"), "zh-TW"),
        (("Basic Info", "Follow-up", "Purchases"), ("Customer ID", "Company", "Mobile", "Owner"), "en"),
        (("Customers", "跟进记录", "Orders"), ("Customer ID", "公司名称", "Cell Phone", "业务员"), "en"),
    ],
)
def test_header_and_sheet_names_in_every_language(tmp_path, names, headers, lang):
    def build(wb):
        ws = wb.add_worksheet(names[0])
        ws.write_row(0, 0, headers)
        ws.write_row(1, 0, ["C001", "甲", "13800138000", "王五"])
        followups_sheet(wb, names[1])
        purchases_sheet(wb, names[2])

    book = read_book(workbook(tmp_path / "lang.xlsx", build))
    assert book.customers[["customer_id", "company", "mobile", "owner"]].iloc[0].tolist() == [
        "C001",
        "甲",
        "13800138000",
        "王五",
    ]
    assert {k: i.name for k, i in book.sheets.items()} == dict(zip(schema.SHEETS_BY_KEY, names, strict=False))
    assert book.lang == lang
    assert book.sheets["customers"].headers["mobile"] == headers[2]
    assert read_book(book.path, lang="zh-CN").lang == "zh-CN"  # an explicit language wins


def test_two_row_header_under_merged_group_title(tmp_path):
    def build(wb):
        ws = wb.add_worksheet("客户资料")
        ws.merge_range("A1:A2", "客户编号")
        ws.merge_range("B1:B2", "公司名称")
        ws.merge_range("C1:E1", "联系方式")
        ws.write_row(1, 2, ["手机", "电话", "邮箱"])
        ws.write_row(2, 0, ["C1", "甲", "13800138000", "010-1234", "a@b.cn"])

    book = read_book(workbook(tmp_path / "two_rows.xlsx", build))
    info = book.sheets["customers"]
    assert info.header_row == 2
    assert info.columns == {"customer_id": 1, "company": 2, "mobile": 3, "phone": 4, "email": 5}
    assert book.customers[["_row", "customer_id", "mobile", "email"]].iloc[0].tolist() == [
        3,
        "C1",
        "13800138000",
        "a@b.cn",
    ]


def test_data_sheets_found_by_headers_when_names_are_unknown(tmp_path):
    def build(wb):
        ws = wb.add_worksheet("Sheet1")
        ws.write_row(0, 0, ["编号", "公司名称", "手机"])
        ws.write_row(1, 0, ["C1", "甲", "13800138000"])
        followups_sheet(wb, "Sheet2", ("客户编号", "跟进日期", "跟进内容"))
        wb.add_worksheet("Sheet3").write("A1", "随便写写")

    book = read_book(workbook(tmp_path / "unnamed.xlsx", build))
    assert book.sheets["customers"].name == "Sheet1" and book.sheets["followups"].name == "Sheet2"
    assert "purchases" not in book.sheets
    assert book.customers["company"].tolist() == ["甲"]


# --------------------------------------------------------------------------- missing sheets and columns


def test_missing_basic_info_lists_the_sheets_found(tmp_path):
    def build(wb):
        wb.add_worksheet("汇总表").write("A1", "合计")
        followups_sheet(wb)

    with pytest.raises(SchemaError) as err:
        read_book(workbook(tmp_path / "no_customers.xlsx", build))
    zh, en = err.value.render("zh-CN"), err.value.render("en")
    assert "客户资料" in zh and "汇总表" in zh and "跟进记录" in zh
    assert "Basic Info" in en and "汇总表" in en


def test_missing_required_column_names_sheet_and_column_in_both_languages(tmp_path):
    def build(wb):
        ws = wb.add_worksheet("客户资料")
        ws.write_row(0, 0, ["客户编号", "公司名称"])
        followups_sheet(wb, headers=("客户编号", "方式", "跟进内容"))  # no date column

    with pytest.raises(SchemaError) as err:
        read_book(workbook(tmp_path / "no_date.xlsx", build))
    zh, en = err.value.render("zh-CN"), err.value.render("en")
    assert "跟进记录" in zh and "跟进日期" in zh and "跟进内容" in zh
    assert "跟进记录" in en and "'Date'" not in en and "Date" in en and "方式" in en


def test_sheet_without_any_known_header(tmp_path):
    def build(wb):
        wb.add_worksheet("客户资料").write_row(0, 0, ["甲", "乙"])

    with pytest.raises(SchemaError) as err:
        read_book(workbook(tmp_path / "no_header.xlsx", build))
    assert "客户编号" in err.value.render("zh-CN") and "Customer ID" in err.value.render("en")


def test_missing_followups_and_purchases_are_empty_typed_frames(tmp_path):
    def build(wb):
        ws = wb.add_worksheet("客户资料")
        ws.write_row(0, 0, ["客户编号", "公司名称"])
        ws.write_row(1, 0, ["C1", "甲"])

    book = read_book(workbook(tmp_path / "only_customers.xlsx", build))
    assert len(book.followups) == 0 and book.followups["date"].dtype == "datetime64[ns]"
    assert list(book.purchases.columns) == ["_row", *schema.PURCHASES.keys]
    assert book.purchases["amount"].dtype == "float64"
    assert [(p.code, p.sheet_key) for p in book.problems] == [
        ("missing_sheet", "followups"),
        ("missing_sheet", "purchases"),
    ]
    assert "Follow-up" in book.problems[0].message.text("en")


def test_empty_data_sheet_is_an_empty_frame(tmp_path):
    def build(wb):
        wb.add_worksheet("客户资料").write_row(0, 0, ["客户编号", "公司名称"])
        wb.add_worksheet("跟进记录")
        purchases_sheet(wb)

    book = read_book(workbook(tmp_path / "empty.xlsx", build))
    assert len(book.customers) == 0 and book.sheets["customers"].columns == {"customer_id": 1, "company": 2}
    assert len(book.followups) == 0 and book.followups["date"].dtype == "datetime64[ns]"
    assert book.sheets["followups"].header_row == 1 and book.sheets["followups"].columns == {}
    assert [(p.code, p.sheet, p.severity.value) for p in book.problems] == [("empty_sheet", "跟进记录", "info")]
    assert book.problems[0].message.text("en") == "Sheet '跟进记录' is empty"


# --------------------------------------------------------------------------- settings, tables, tool sheets


def test_settings_sheet_and_language(tmp_path):
    def build(wb):
        ws = wb.add_worksheet("客户资料")
        ws.write_row(0, 0, ["客户编号", "公司名称"])
        st = wb.add_worksheet("设置")
        st.write_row(0, 0, ["键", "值", "说明"])
        st.write_row(1, 0, ["cadence_a", 2, "A级"])
        st.write_row(2, 0, ["B级客户跟进周期（天）", "10"])
        st.write_row(3, 0, ["language", "en"])
        st.write_row(4, 0, ["stale_days", "很久"])

    book = read_book(workbook(tmp_path / "settings.xlsx", build))
    assert (book.settings.cadence_a, book.settings.cadence_b, book.settings.stale_days) == (2, 10, 90)
    assert book.lang == "en"  # from Settings, though the sheets are Chinese
    bad = [p for p in book.problems if p.code == "bad_setting"]
    assert [(p.sheet, p.row, p.column, p.value) for p in bad] == [("设置", 5, "值", "很久")]


def test_excel_table_and_tool_sheets(tmp_path):
    def build(wb):
        ws = wb.add_worksheet("客户资料")
        ws.add_table(
            "A3:C5", {"name": "tblCustomers", "columns": [{"header": h} for h in ("客户编号", "公司名称", "手机")]}
        )
        ws.write_row(3, 0, ["C1", "甲", "13800138000"])
        ws.write_row(4, 0, ["C2", "乙", "13900139000"])
        log = wb.add_worksheet("变更记录")
        log.write_row(0, 0, ["时间", "工作表", "行", "旧值"])
        log.write_row(1, 0, ["2024-01-05 10:00", "客户资料", 4, "00123"])

    path = workbook(tmp_path / "table.xlsx", build)
    book = read_book(path)
    assert book.sheets["customers"].table == "tblCustomers" and book.sheets["customers"].header_row == 3
    # A user's own sheet named like a tool sheet is theirs: xlcrm would write its log beside it.
    assert book.tool_sheets == {}
    assert book.sheet_name_for("change_log") == "变更记录 (2)"
    assert list_sheets(path) == ["客户资料", "变更记录"]
    assert read_tool_sheet(path, "Change Log") is None  # by exact name only, never by meaning
    log = read_tool_sheet(path, "变更记录")
    assert list(log.columns) == ["时间", "工作表", "行", "旧值"]
    assert log.iloc[0].tolist() == ["2024-01-05 10:00", "客户资料", "4", "00123"]
    assert read_tool_sheet(path, "查重") is None


def test_progress_and_threads_give_the_same_book(tmp_path, messy):
    calls = []
    one = read_book(messy.path, threads=1, progress=lambda msg, frac: calls.append((msg, frac)))
    pd.testing.assert_frame_equal(one.customers, messy.customers)
    pd.testing.assert_frame_equal(one.followups, messy.followups)
    assert calls[0][1] == 0.0 and calls[-1][1] == 1.0 and any("客户资料" in m for m, _ in calls)


def test_sheets_typed_while_others_load_give_the_one_thread_book(tmp_path):
    """The reader types each sheet named like a data sheet as soon as it has loaded (on the read's
    pool), before every header is compared. What it keeps must be exactly the one-thread book:
    the sheet the headers pick (not a weaker sheet of the same meaning), the same problems."""

    def build(wb):
        ws = wb.add_worksheet("客户资料")
        ws.write_row(0, 0, ["客户编号", "公司名称", "手机", "建档日期"])
        for i in range(300):
            ws.write_row(i + 1, 0, [f"C{i:03d}", f"公司{i}", f"138{i:08d}", "不是日期" if i == 7 else "2024-01-05"])
        fu = followups_sheet(wb)
        fu.write_row(2, 0, ["C002", "明天", "拜访"])
        wb.add_worksheet("Orders").write_row(0, 0, ["單號", "金額"])  # named like Purchases, a weaker header
        purchases_sheet(wb)

    path = workbook(tmp_path / "early.xlsx", build)
    one, two = read_book(path, threads=1), read_book(path, threads=2)
    assert two.sheets["purchases"].name == "购买记录"
    for key in ("customers", "followups", "purchases"):
        pd.testing.assert_frame_equal(one.frame(key), two.frame(key))
        pd.testing.assert_frame_equal(one.raw[key], two.raw[key])
        assert one.sheets[key] == two.sheets[key]
    assert [(p.sheet, p.row, p.code) for p in one.problems] == [(p.sheet, p.row, p.code) for p in two.problems]
    assert {(p.sheet, p.row, p.code) for p in two.problems} >= {("客户资料", 9, "bad_date"), ("跟进记录", 3, "bad_date")}


def test_sheet_loader_then_runs_work_after_the_load_and_passes_its_error_on(tmp_path):
    from xlcrm.workbook.grid import SheetLoader, open_workbook

    def build(wb):
        followups_sheet(wb)
        purchases_sheet(wb)

    path = workbook(tmp_path / "two.xlsx", build)
    loader = SheetLoader(path, "xlsx", open_workbook(path, "xlsx"), ["跟进记录", "购买记录", "没有这张表"], threads=2)
    try:
        rows = loader.then("跟进记录", lambda grid: (grid.name, grid.n_rows))
        missing = loader.then("没有这张表", lambda grid: grid.n_rows)
        assert loader.then("设置", lambda grid: 0) is None  # not loading on the pool
        assert rows.result(timeout=30) == ("跟进记录", 2)
        with pytest.raises(FileRefused):
            missing.result(timeout=30)
        assert loader.get("跟进记录").n_rows == 2  # the load itself is still there for the caller
    finally:
        loader.close()


# --------------------------------------------------------------------------- bad files


def test_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("这不是工作簿", encoding="utf-8")
    with pytest.raises(FileRefused) as err:
        read_book(path)
    assert "fake.xlsx" in err.value.render("zh-CN") and "not an Excel workbook" in err.value.render("en")


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(FileRefused) as err:
        read_book(tmp_path / "nowhere.xlsx")
    assert "nowhere.xlsx" in err.value.render("en")


def fixture(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copy(needs.excel_authored(name), tmp_path / name))


def test_encrypted_workbook_is_refused(tmp_path):
    path = fixture("protected_passtika.xlsx", tmp_path)
    with pytest.raises(FileRefused) as err:
        read_book(path)
    assert "密码" in err.value.render("zh-CN") and "password" in err.value.render("en")


def test_strict_workbook_is_read(tmp_path):
    # calamine reads Strict OOXML, so reading works (writing is refused by guard.ensure_writable).
    path = fixture("SampleSS.strict.xlsx", tmp_path)
    assert list_sheets(path) == ["First Sheet", "Sheet Number 2", "Sheet3"]
    with pytest.raises(SchemaError) as err:
        read_book(path)
    assert "First Sheet" in err.value.render("en")


# --------------------------------------------------------------------------- the shipped sample workbook


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sample_workbook_dirt_lands_where_the_manifest_says(lang):
    path = needs.sample(lang)
    manifest = path.with_suffix(".dirt.json")
    assert manifest.is_file(), f"{manifest} is committed with the sample"
    book = read_book(path)
    dirt = json.loads(manifest.read_text(encoding="utf-8"))
    assert {k: len(book.frame(k)) for k in dirt["rows"]} == dirt["rows"]
    assert book.lang == ("en" if lang == "en" else "zh-CN")
    checked = 0
    for item in dirt["dirt"]:
        raw = book.raw[item["sheet"]].set_index("_row")
        typed = book.frame(item["sheet"]).set_index("_row")
        assert book.sheets[item["sheet"]].headers[item["column"]] == item["header"]
        cell = raw.loc[item["row"], item["column"]]
        if item["kind"] == "text_date":
            assert cell == item["value"]
            assert typed.loc[item["row"], item["column"]] == pd.Timestamp(item["note"].split(": ")[1])
        elif item["value"] is None:
            assert pd.isna(cell)
        elif isinstance(item["value"], str) and schema.SHEETS_BY_KEY[item["sheet"]].column(item["column"]).is_text:
            assert cell == item["value"]
        checked += 1
    assert checked == len(dirt["dirt"]) > 0


def test_header_decorations_and_boolean_cells(tmp_path):
    def build(wb):
        ws = wb.add_worksheet("客户资料")
        ws.write_row(0, 0, ["客户\n编号", "公司名称（必填）", "* 手机号码", "同意营销", "Expected Close Date"])
        ws.write_row(1, 0, ["C1", "甲", "13800138000"])
        ws.write_boolean(1, 3, True)
        ws.write_string(1, 4, "2024年1月5日")
        ws.write_row(2, 0, ["C2", "乙", "13900139000", "否"])
        ws.write_boolean(2, 4, False)  # a boolean where a date belongs

    book = read_book(workbook(tmp_path / "decorated.xlsx", build))
    c = book.customers
    assert book.sheets["customers"].columns == {
        "customer_id": 1,
        "company": 2,
        "mobile": 3,
        "marketing_consent": 4,
        "expected_close": 5,
    }
    assert c["marketing_consent"].tolist() == ["yes", "no"]
    assert c["expected_close"].iloc[0] == JAN5 and pd.isna(c["expected_close"].iloc[1])
    assert [(p.code, p.row, p.column, p.value) for p in book.problems if p.code == "bad_date"] == [
        ("bad_date", 3, "Expected Close Date", "false")
    ]


def test_a_big_sheet_typed_in_two_halves_reads_as_in_one(tmp_path: Path, monkeypatch) -> None:
    """Sheets over `SPLIT_ROWS` data rows are typed in two halves at once: the same frames and the
    same problems, in the same order, as typing them in one pass."""
    from xlcrm.workbook import datasheet

    def build(wb):
        ws = wb.add_worksheet("客户资料")
        ws.write_row(0, 0, ["客户编号", "公司名称", "联系人", "手机", "建档日期", "预计成交日期", "需求"])
        for i in range(1, 61):
            created = "不是日期" if i in (3, 40) else f"2024-01-{i % 28 + 1:02d}"
            close = "下周吧" if i in (7, 55) else None
            ws.write_row(i, 0, [f"C{i:03d}", f"公司{i}", f"联系人{i}", f"1380000{i:04d}", created, close,
                                ["明确", "潜在", "乱写"][i % 3]])
        followups_sheet(wb)
        purchases_sheet(wb)

    path = workbook(tmp_path / "book.xlsx", build)
    whole = read_book(path)
    monkeypatch.setattr(datasheet, "SPLIT_ROWS", 10)
    halves = read_book(path)
    pd.testing.assert_frame_equal(whole.customers, halves.customers)
    pd.testing.assert_frame_equal(whole.raw["customers"], halves.raw["customers"])
    listed = [(p.code, p.row, p.column_key, p.value) for p in halves.problems if p.sheet_key == "customers"]
    assert listed == [(p.code, p.row, p.column_key, p.value) for p in whole.problems if p.sheet_key == "customers"]
    assert sorted(r for c, r, _, _ in listed if c == "bad_date") == [4, 8, 41, 56]  # from both halves


def test_the_read_hands_freed_memory_back_once_the_book_is_built(tmp_path: Path, monkeypatch) -> None:
    """What the parse and the typing freed is handed back before planning starts (L book: 3.5 → 2.7
    GB): `return_free_memory` runs once, after every sheet is read and checked."""
    import xlcrm.workbook.reader as reader

    calls: list[int] = []
    monkeypatch.setattr(reader, "return_free_memory", lambda: calls.append(1))

    def build(wb) -> None:
        ws = wb.add_worksheet("客户资料")
        ws.write_row(0, 0, ["客户编号", "公司名称", "联系人"])
        ws.write_row(1, 0, ["C001", "甲公司", "张三"])
        followups_sheet(wb)
        purchases_sheet(wb)

    book = read_book(workbook(tmp_path / "small.xlsx", build))
    assert calls == [1]
    assert book.customers["customer_id"].tolist() == ["C001"]
