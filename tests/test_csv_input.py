"""Customers from CSV: encodings detected, same header mapping and typing as the xlsx path."""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd
import pytest

from xlcrm import schema
from xlcrm.errors import SchemaError
from xlcrm.workbook.csv_input import detect_encoding, read_customers_csv
from xlcrm.workbook.reader import list_sheets, read_book

CSV_TEXT = (
    "客户名单（导出）\n"
    "公司名称,客户编号,手機,建档日期,邮编,成交状态,我的列\n"
    "北京甲贸易有限公司,00123,13800138000,2024年1月5日,010020,谈判中,x\n"
    ",,,,,,\n"
    "上海乙科技有限公司,C2,１３９００１３９０００,2024/1/5,100020,已成交,\n"
    "廣州丙公司,C3,,下周,,Won,y\n"
)


def write(path: Path, text: str, encoding: str, bom: bytes = b"") -> Path:
    path.write_bytes(bom + text.encode(encoding))
    return path


@pytest.mark.parametrize(
    "encoding, bom, detected",
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("gbk", b"", "gb18030"),
        ("gb18030", b"", "gb18030"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
    ],
)
def test_encodings_are_detected_and_read_alike(tmp_path, encoding, bom, detected):
    path = write(tmp_path / "客户.csv", CSV_TEXT, encoding, bom)
    assert detect_encoding(path.read_bytes()) == detected
    book = read_customers_csv(path)
    c = book.customers
    assert c["_row"].tolist() == [3, 5, 6]  # line numbers; the blank line 4 is dropped
    assert c["company"].tolist() == ["北京甲贸易有限公司", "上海乙科技有限公司", "廣州丙公司"]
    assert c["customer_id"].tolist() == ["00123", "C2", "C3"]
    assert c["mobile"].tolist() == ["13800138000", "13900139000", None]
    assert c["postcode"].tolist() == ["010020", "100020", None]
    assert c["created"].tolist()[:2] == [pd.Timestamp("2024-01-05")] * 2 and pd.isna(c["created"].iloc[2])
    assert c["deal_status"].tolist() == ["negotiating", "closed", "closed"]
    assert c["我的列"].fillna("").tolist() == ["x", "", "y"]
    assert book.raw["customers"]["mobile"].tolist()[1] == "１３９００１３９０００"
    info = book.sheets["customers"]
    assert info.name == "客户.csv" and info.header_row == 2 and info.headers["mobile"] == "手機"
    assert [(p.code, p.sheet, p.row, p.column, p.value) for p in book.problems] == [
        ("bad_date", "客户.csv", 6, "建档日期", "下周")
    ]
    assert len(book.followups) == 0 and list(book.purchases.columns) == ["_row", *schema.PURCHASES.keys]
    assert book.lang == "zh-CN"


def test_big5_is_not_read_as_gbk(tmp_path):
    # Big5 bytes also "decode" as GB18030 — into nonsense; the everyday-character share tells them apart.
    text = "公司名稱,聯絡人,手機,地址\n台北甲貿易有限公司,王小明,0912345678,台北市信義區松仁路100號\n"
    path = write(tmp_path / "tw.csv", text, "big5")
    assert detect_encoding(path.read_bytes()) == "big5"
    book = read_customers_csv(path)
    assert book.customers[["company", "contact"]].iloc[0].tolist() == ["台北甲貿易有限公司", "王小明"]
    assert book.lang == "zh-TW"
    gbk = write(tmp_path / "cn.csv", CSV_TEXT, "gbk")
    assert detect_encoding(gbk.read_bytes()) == "gb18030"


def test_gb18030_only_characters(tmp_path):
    # 𠀀 (U+20000) exists in GB18030 but not GBK; 䶮 is a rare name character.
    text = "公司名称,联系人\n𠀀记商行,刘䶮\n"
    path = write(tmp_path / "rare.csv", text, "gb18030")
    assert read_customers_csv(path).customers[["company", "contact"]].iloc[0].tolist() == ["𠀀记商行", "刘䶮"]


def test_read_book_dispatches_csv_and_english_headers(tmp_path):
    text = "Customer ID;Company;Mobile;Created\nC1;Acme Ltd;13800138000;45296\n"
    path = write(tmp_path / "customers.csv", text, "utf-8")
    book = read_book(path)
    assert book.customers[["customer_id", "company", "mobile"]].iloc[0].tolist() == ["C1", "Acme Ltd", "13800138000"]
    assert book.customers["created"].iloc[0] == pd.Timestamp("2024-01-05")  # a serial typed as text
    assert book.lang == "en"
    assert list_sheets(path) == ["customers"]


def test_csv_without_known_headers(tmp_path):
    path = write(tmp_path / "junk.csv", "甲,乙\n1,2\n", "utf-8")
    with pytest.raises(SchemaError) as err:
        read_customers_csv(path)
    assert "junk.csv" in err.value.render("zh-CN") and "junk.csv" in err.value.render("en")
    assert "Customer ID" in err.value.render("en")
