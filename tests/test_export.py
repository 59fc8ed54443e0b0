"""Mail-merge export: filters, consent, salutations (zh/en), address lines, injection, CJK round trips."""

from __future__ import annotations

import csv
import datetime as dt
import io

import msoffcrypto
import msoffcrypto.exceptions
import numpy as np
import openpyxl
import pandas as pd
import pytest

from xlcrm.commands.export import headed_merge_list
from xlcrm.errors import XlcrmError
from xlcrm.export_file import csv_bytes, neutralise, write_export, xlsx_bytes
from xlcrm.ops.export import (
    ExportFilter,
    address_lines,
    greeting,
    merge_list,
    salutation,
    select_customers,
)
from xlcrm.schema import CUSTOMERS, FOLLOWUPS, Kind, SheetSpec

TODAY = dt.date(2026, 6, 15)


def frame(spec: SheetSpec, rows: list[dict]) -> pd.DataFrame:
    """A frame in CrmBook conventions: every schema column, typed by kind, plus `_row`."""
    cols = {}
    for c in spec.columns:
        vals = [r.get(c.key) for r in rows]
        if c.kind == Kind.DATE:
            cols[c.key] = pd.to_datetime(pd.Series(vals, dtype=object))
        elif c.kind in (Kind.MONEY, Kind.NUMBER):
            cols[c.key] = pd.Series(vals, dtype="float64")
        else:
            cols[c.key] = pd.Series(vals, dtype=object)
    df = pd.DataFrame(cols)
    df["_row"] = np.arange(2, len(rows) + 2, dtype="int64")
    return df


def customers() -> pd.DataFrame:
    yes = "yes"
    return frame(CUSTOMERS, [
        dict(customer_id="C001", company="上海甲贸易有限公司", contact="张伟", title="销售经理", grade="A", owner="李娜",
             province="上海市", city="上海", address="浦东新区世纪大道100号", postcode="200120", email="zw@jia.cn",
             mobile="13800138000", tags="展会,VIP", deal_status="closed", birthday="1980-06-03", marketing_consent=yes),
        dict(customer_id="C002", company="广州乙科技", contact="欧阳娜娜", title="女士", grade="B", owner="王强",
             province="广东省", city="广州市", address="天河区体育西路1号", postcode="510000", email=None,
             email2="ouyang@yi.cn", mobile=None, tags="老客户", deal_status="negotiating", birthday="1990-07-21",
             marketing_consent=yes),
        dict(customer_id="C003", company="Acme Ltd", contact="John Smith", title="Mr", grade="C", owner="李娜",
             country="USA", province="MA", city="Boston", address="1 Main St", postcode="02110",
             email="john@acme.com", mobile="+1 617 555 0100", deal_status="potential", marketing_consent=yes),
        dict(customer_id="C004", company="深圳丙公司", contact="王芳", grade="A", owner="李娜", province="广东",
             city="深圳", address="南山区科技园2号", email="wf@bing.cn", mobile="13900000000", deal_status="closed",
             birthday="1985-06-30", marketing_consent="no"),
        dict(customer_id="C005", company="上海甲贸易有限公司", contact="刘洋", title="总经理", grade="A", owner="李娜",
             province="上海市", city="上海", address="浦东新区世纪大道100号", email="ly@jia.cn", deal_status="closed",
             marketing_consent=yes),
        dict(customer_id="C006", company="=HYPERLINK(\"http://x\")", contact="@evil", grade="D", owner="王强",
             address="-1+1", email="e@x.cn", marketing_consent=None),
    ])


def followups() -> pd.DataFrame:
    return frame(FOLLOWUPS, [
        dict(customer_id="C001", date="2026-06-10"),
        dict(customer_id="C002", date="2026-01-05"),
        dict(customer_id="C003", date="2026-05-01"),
        dict(customer_id="C003", date="2026-06-01"),
    ])


def ids(sel) -> list[str]:
    return sel.customers["customer_id"].tolist()


# --------------------------------------------------------------------------- salutations


@pytest.mark.parametrize(("contact", "title", "zh", "en"), [
    ("张伟", "销售经理", "张经理", "张伟"),
    ("张伟", "总经理", "张总", "张伟"),
    ("刘洋", "董事长", "刘董", "刘洋"),
    ("张伟", "高级工程师", "张工", "张伟"),
    ("欧阳娜娜", "女士", "欧阳女士", "Ms. Ouyang"),
    ("单伟", "先生", "单先生", "Mr. Shan"),
    ("曾静", "Ms", "曾女士", "Ms. Zeng"),
    ("王女士", None, "王女士", "王女士"),
    ("王芳", None, "王芳", "王芳"),
    ("John Smith", "Mr", "Mr. Smith", "Mr. Smith"),
    ("Smith, Jane", "Ms.", "Ms. Smith", "Ms. Smith"),
    ("Dr Anna Lee", "Director", "Dr. Lee", "Dr. Lee"),
    ("Lee Chen", "CEO", "Lee Chen", "Lee Chen"),
    (None, "经理", "客户", "Customer"),
])
def test_salutation_both_languages(contact, title, zh, en):
    assert salutation(contact, title, "zh-CN") == zh
    assert salutation(contact, title, "en") == en


def test_greeting_lines():
    assert greeting("张经理", "zh-CN") == "尊敬的张经理："
    assert greeting("Mr. Smith", "en") == "Dear Mr. Smith,"


def test_address_lines_chinese_and_latin():
    # Province/city the street already names are not repeated; China is not printed on a domestic letter.
    assert address_lines("广东省深圳市南山区科技园1号", "深圳市", "广东省", "中国") == ("广东省深圳市南山区科技园1号", "", "")
    assert address_lines("南山区科技园1号", "深圳", "广东", None) == ("广东深圳南山区科技园1号", "", "")
    assert address_lines("浦东新区世纪大道100号", "上海", "上海市", None) == ("上海市浦东新区世纪大道100号", "", "")
    assert address_lines("1 Main St", "Boston", "MA", "USA") == ("1 Main St", "Boston, MA", "USA")
    assert address_lines("香港中环1号", None, None, "中国香港") == ("香港中环1号", "中国香港", "")


# --------------------------------------------------------------------------- filters and consent


def test_consent_is_respected_and_counted():
    sel = select_customers(customers(), followups(), ExportFilter(), TODAY)
    assert ids(sel) == ["C001", "C002", "C003", "C005"]
    assert sel.matched == 6
    assert sel.no_consent == 2  # C004 said no, C006 never said yes


@pytest.mark.parametrize(("options", "expected"), [
    ({"grade": "A,B"}, ["C001", "C002", "C005"]),
    ({"grade": "a级，c"}, ["C001", "C003", "C005"]),
    ({"owner": "王强"}, ["C002"]),
    ({"province": "广东"}, ["C002"]),
    ({"city": "上海"}, ["C001", "C005"]),
    ({"tag": "vip"}, ["C001"]),
    ({"deal_status": "已成交"}, ["C001", "C005"]),
    ({"deal_status": "negotiating,potential"}, ["C002", "C003"]),
    ({"has": "email"}, ["C001", "C002", "C003", "C005"]),  # email2 counts
    ({"has": "mobile"}, ["C001", "C003"]),
    ({"has": "address,mobile"}, ["C001", "C003"]),
    ({"birthday_month": 6}, ["C001"]),  # C004 also born in June but gave no consent
    ({"not_contacted_days": 30}, ["C002", "C005"]),  # C005 never contacted
    ({"grade": "A", "owner": "李娜", "has": "email"}, ["C001", "C005"]),
])
def test_filters(options, expected):
    sel = select_customers(customers(), followups(), ExportFilter.from_options(options), TODAY)
    assert ids(sel) == expected


def test_grade_filter_uses_given_grades_over_sheet_column():
    grades = pd.Series(["E", "A", "E", "E", "E", "E"])
    sel = select_customers(customers(), followups(), ExportFilter.from_options({"grade": "A"}), TODAY, grades)
    assert ids(sel) == ["C002"]


def test_dedupe_address_keeps_one_letter_per_company_address():
    sel = select_customers(customers(), followups(), ExportFilter(dedupe_address=True), TODAY)
    assert ids(sel) == ["C001", "C002", "C003"]
    assert sel.deduped == 1


@pytest.mark.parametrize("options", [{"grade": "Z"}, {"deal_status": "maybe"}, {"has": "fax"},
                                     {"birthday_month": 13}, {"not_contacted_days": -1}])
def test_bad_filter_values_are_explained(options):
    with pytest.raises(XlcrmError) as err:
        ExportFilter.from_options(options)
    assert err.value.render("zh-CN") and err.value.render("en")


def test_merge_list_columns_both_languages():
    sel = select_customers(customers(), followups(), ExportFilter(), TODAY)
    keys = merge_list(sel.customers, "zh-CN")  # ops speaks keys; the command heads them
    assert list(keys.columns)[:6] == ["customer_id", "company", "contact", "title", "salutation", "greeting"]
    zh = headed_merge_list(sel.customers, "zh-CN")
    assert list(zh.columns)[:6] == ["客户编号", "公司名称", "联系人", "职务", "称呼", "问候语"]
    row = zh.iloc[0]
    assert (row["称呼"], row["问候语"], row["地址行1"], row["邮编"]) == (
        "张经理", "尊敬的张经理：", "上海市浦东新区世纪大道100号", "200120")
    assert zh.iloc[1]["邮箱"] == "ouyang@yi.cn"
    en = headed_merge_list(sel.customers, "en")
    smith = en[en["Customer ID"] == "C003"].iloc[0]
    assert (smith["Salutation"], smith["Greeting"], smith["Address Line 2"], smith["Postcode"]) == (
        "Mr. Smith", "Dear Mr. Smith,", "Boston, MA", "02110")


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize(("value", "safe"), [
    ("=1+1", "'=1+1"), ("+8613800138000", "'+8613800138000"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"), ("\rx", "'\rx"), ("张三", "张三"), ("a=b", "a=b"), (None, ""),
])
def test_neutralise(value, safe):
    assert neutralise(value) == safe


def _injection_list() -> pd.DataFrame:
    sel = select_customers(customers(), followups(), ExportFilter(), TODAY)
    evil = headed_merge_list(customers().iloc[[5]], "zh-CN")
    return pd.concat([headed_merge_list(sel.customers, "zh-CN"), evil], ignore_index=True)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_csv_round_trip_cjk_and_injection(tmp_path, encoding):
    df = _injection_list()
    path = write_export(df, tmp_path / "out.csv", encoding=encoding)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8")
    text = raw.decode("utf-8-sig" if encoding == "utf-8" else "gb18030")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(df.columns)
    assert rows[1][:5] == ["C001", "上海甲贸易有限公司", "张伟", "销售经理", "张经理"]
    assert rows[2][2] == "欧阳娜娜"
    assert rows[3][11] == "'+1 617 555 0100"  # a phone starting with + is neutralised too
    assert rows[5][1] == "'=HYPERLINK(\"http://x\")" and rows[5][2] == "'@evil"
    assert rows[5][6] == "'-1+1"
    assert rows[1][9] == "200120" and rows[3][9] == "02110"  # leading zeros kept


def test_gb18030_is_not_utf8():
    assert csv_bytes(pd.DataFrame({"公司": ["张三"]}), "gb18030") == "公司\r\n张三\r\n".encode("gb18030")


def test_xlsx_cells_are_text_never_formulas(tmp_path):
    df = _injection_list()
    path = write_export(df, tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(path).active
    assert [c.value for c in ws[1]] == list(df.columns)
    assert ws["A2"].value == "C001" and ws["C3"].value == "欧阳娜娜"
    evil = ws.cell(row=6, column=2)
    assert evil.value == "=HYPERLINK(\"http://x\")" and evil.data_type == "s"
    assert ws.cell(row=4, column=10).value == "02110" and ws.cell(row=4, column=10).data_type == "s"


def test_encrypted_xlsx_decrypts_with_password(tmp_path):
    df = _injection_list()
    path = write_export(df, tmp_path / "secret.xlsx", password="机密-2026")
    with path.open("rb") as fh:
        office = msoffcrypto.OfficeFile(fh)
        assert office.is_encrypted()
        plain = io.BytesIO()
        office.load_key(password="机密-2026")
        office.decrypt(plain)
    ws = openpyxl.load_workbook(plain).active
    assert ws["C2"].value == "张伟" and ws.max_row == len(df) + 1
    with path.open("rb") as fh, pytest.raises(msoffcrypto.exceptions.InvalidKeyError):
        office = msoffcrypto.OfficeFile(fh)
        office.load_key(password="wrong")
        office.decrypt(io.BytesIO())


def test_refuses_unknown_suffix_and_csv_password(tmp_path):
    df = pd.DataFrame({"a": ["1"]})
    with pytest.raises(XlcrmError):
        write_export(df, tmp_path / "out.txt")
    with pytest.raises(XlcrmError):
        write_export(df, tmp_path / "out.csv", password="x")
    with pytest.raises(XlcrmError):
        write_export(df, tmp_path / "out.csv", encoding="latin-1")
    assert not list(tmp_path.iterdir())


def test_xlsx_bytes_empty_list_is_valid():
    data = xlsx_bytes(pd.DataFrame(columns=["客户编号", "称呼"]))
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == ["客户编号", "称呼"] and ws.max_row == 1


# --------------------------------------------------------------------------- the command over a workbook


def _typed_customers() -> pd.DataFrame:
    """The test customers as a user types them (Chinese labels), for the template builder."""
    df = customers().drop(columns="_row")
    df["deal_status"] = df["deal_status"].map({"closed": "已成交", "negotiating": "谈判中", "potential": "潜在"})
    df["marketing_consent"] = df["marketing_consent"].map({"yes": "是", "no": "否"})
    df["grade_override"] = df.pop("grade")
    return df


@pytest.fixture
def workbook(tmp_path):
    from xlcrm.template import build_template

    path = tmp_path / "crm.xlsx"
    fu = followups().drop(columns="_row")
    build_template(path, "zh-CN", customers=_typed_customers(), followups=fu)
    return path


def test_export_to_sheet_and_file(workbook, tmp_path):
    from typer.testing import CliRunner

    from xlcrm.cli import app

    out = tmp_path / "letters.csv"
    res = CliRunner().invoke(app, ["export", str(workbook), "--today", TODAY.isoformat(), "--grade", "A",
                                   "--to", str(out), "--sheet", "--format", "json"])
    assert res.exit_code == 0, res.output
    payload = __import__("json").loads(res.stdout)
    assert payload["counts"] == {"exported": 2, "matched": 3, "no_consent": 1, "deduped": 0}
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    assert [r[0] for r in rows[1:]] == ["C001", "C005"] and rows[2][4] == "刘总"
    ws = openpyxl.load_workbook(workbook)["导出"]
    assert "1 位未同意营销" in ws["A1"].value
    assert [ws.cell(r, 1).value for r in (2, 3, 4)] == ["客户编号", "C001", "C005"]
    assert ws.cell(3, 10).value == "200120" and ws.cell(3, 10).data_type == "s"
    res = CliRunner().invoke(app, ["export", str(workbook), "--today", TODAY.isoformat(), "--tag", "vip",
                                   "--has", "mobile", "--dedupe-address", "--dry-run", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert __import__("json").loads(res.stdout)["counts"]["exported"] == 1


def test_export_file_only_leaves_the_workbook_alone(workbook, tmp_path):
    from xlcrm.commands import run
    from xlcrm.commands.base import Context
    from xlcrm.workbook.file_adapter import FileWorkbook

    before = workbook.read_bytes()
    out = tmp_path / "out.xlsx"
    result = run("export", FileWorkbook(workbook), Context(today=TODAY, lang="en",
                                                           options={"to": str(out), "password": "pw"}))
    assert result.written and workbook.read_bytes() == before
    with out.open("rb") as fh:
        office = msoffcrypto.OfficeFile(fh)
        office.load_key(password="pw")
        plain = io.BytesIO()
        office.decrypt(plain)
    ws = openpyxl.load_workbook(plain).active
    assert ws["E1"].value == "Salutation" and ws.max_row == 5  # header + 4 consenting customers
    assert ws["E4"].value == "Mr. Smith"


def test_export_dry_run_writes_nothing(workbook, tmp_path):
    from xlcrm.commands import run
    from xlcrm.commands.base import Context
    from xlcrm.workbook.file_adapter import FileWorkbook

    before = workbook.read_bytes()
    out = tmp_path / "x.csv"
    result = run("export", FileWorkbook(workbook), Context(today=TODAY, dry_run=True, options={"to": str(out)}))
    assert not result.written and not out.exists() and workbook.read_bytes() == before
    assert result.counts["exported"] == 4


def test_mail_merge_mobiles_read_like_a_letter_and_are_not_mangled():
    from xlcrm.ops.export import mail_phone

    assert mail_phone("+86 138-0013-8000") == "138 0013 8000"  # no leading "+", so no "'" guard in the CSV
    assert mail_phone("010-88886666") == "010 8888 6666"
    assert mail_phone("+1 650 253 0000") == "+1 650 253 0000"  # foreign numbers keep their prefix
    assert mail_phone("not a number") == "not a number"
