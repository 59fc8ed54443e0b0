"""The template workbooks: structure read back with openpyxl and from the raw XML."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import needs
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from xlcrm import schema
from xlcrm.errors import FileRefused
from xlcrm.template import (
    FIXED_CREATED,
    LIST_CHOICES,  # re-exported from template_validation
    TABLE_NAMES,
    TEMPLATE_FILES,
    build_template,
    build_templates,
    new_workbook,
    write_crm_workbook,
)

REPO = Path(__file__).resolve().parents[1]
LANGS = ["zh-CN", "en"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("templates")
    return {lang: p for lang, p in zip(TEMPLATE_FILES, build_templates(out), strict=True)}


def _dim(ws, spec: schema.SheetSpec, key: str):
    """The <col> entry covering a column (openpyxl files runs of alike columns under the first letter)."""
    index = spec.keys.index(key) + 1
    return next(d for d in ws.column_dimensions.values() if d.min and d.min <= index <= d.max)


def _letter(spec: schema.SheetSpec, key: str) -> str:
    return get_column_letter(spec.keys.index(key) + 1)


@pytest.mark.parametrize("lang", LANGS)
def test_sheets_in_order_and_lists_hidden(built, lang):
    wb = openpyxl.load_workbook(built[lang])
    expected = [s.name(lang) for s in (*schema.DATA_SHEETS, *schema.OPTIONAL_SHEETS, schema.SETTINGS_SHEET, schema.HOWTO,
                                       schema.LISTS)]
    assert wb.sheetnames == [*expected, "_xlcrm_state"]
    assert wb[schema.LISTS.name(lang)].sheet_state == "hidden"
    assert wb["_xlcrm_state"].sheet_state == "veryHidden"  # what xlcrm made here, so it writes only that
    assert all(wb[n].sheet_state == "visible" for n in expected[:-1])


@pytest.mark.parametrize("lang", LANGS)
def test_data_sheets_are_tables_with_schema_headers_frozen_and_formatted(built, lang):
    wb = openpyxl.load_workbook(built[lang])
    for spec in schema.DATA_SHEETS:
        ws = wb[spec.name(lang)]
        assert list(ws.tables) == [TABLE_NAMES[spec.key]]
        table = ws.tables[TABLE_NAMES[spec.key]]
        assert table.ref == f"A1:{get_column_letter(len(spec.columns))}2"
        headers = [c.header(lang) for c in spec.columns]
        assert [tc.name for tc in table.tableColumns] == headers
        assert [ws.cell(1, i + 1).value for i in range(len(headers))] == headers
        assert ws.freeze_panes == ("C2" if spec.key == "customers" else "A2")
        for col in spec.columns:
            dim = _dim(ws, spec, col.key)
            assert dim.width == pytest.approx(col.width + 0.7109375)
            if col.is_text:
                assert dim.number_format == "@", col.key
            elif col.kind is schema.Kind.DATE:
                assert dim.number_format == "yyyy-mm-dd", col.key
            elif col.kind is schema.Kind.MONEY:
                assert dim.number_format == "#,##0.00", col.key


@pytest.mark.parametrize("lang", LANGS)
def test_duplicate_on_entry_warnings(built, lang):
    wb = openpyxl.load_workbook(built[lang])
    ws = wb[schema.CUSTOMERS.name(lang)]
    by_range = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    for key in ("customer_id", "mobile", "email"):
        letter = _letter(schema.CUSTOMERS, key)
        dv = by_range[f"{letter}2:{letter}1048576"]
        assert dv.type == "custom" and dv.errorStyle == "warning" and dv.showErrorMessage
        assert dv.formula1 == f"COUNTIF(${letter}:${letter},{letter}2)<=1"
        assert dv.error
    purchases = wb[schema.PURCHASES.name(lang)]
    order = _letter(schema.PURCHASES, "order_no")
    assert any(dv.formula1 == f"COUNTIF(${order}:${order},{order}2)<=1" for dv in purchases.data_validations.dataValidation)
    # Follow-up and Purchases warn about a customer ID that Basic Info does not have.
    for spec in (schema.FOLLOWUPS, schema.PURCHASES):
        dvs = wb[spec.name(lang)].data_validations.dataValidation
        assert any(dv.formula1 == "COUNTIF(CustomerIDs,A2)>0" and dv.errorStyle == "warning" for dv in dvs)
    assert wb.defined_names["CustomerIDs"].attr_text == f"'{schema.CUSTOMERS.name(lang)}'!$A:$A"


@pytest.mark.parametrize("lang", LANGS)
def test_dropdowns_use_named_ranges_on_the_lists_sheet(built, lang):
    wb = openpyxl.load_workbook(built[lang])
    lists = wb[schema.LISTS.name(lang)]
    for name, (choices, _, _) in LIST_CHOICES.items():
        ref = wb.defined_names[name].attr_text
        m = re.fullmatch(r"'(.+)'!\$([A-Z]+)\$2:\$([A-Z]+)\$(\d+)", ref)
        assert m and m.group(1) == lists.title, ref
        values = [lists[f"{m.group(2)}{r}"].value for r in range(2, int(m.group(4)) + 1)]
        assert values == [c.label(lang) for c in choices]
    assert "OFFSET" in wb.defined_names["lst_owners"].attr_text
    sources = {}
    for spec in schema.DATA_SHEETS:
        for dv in wb[spec.name(lang)].data_validations.dataValidation:
            if dv.type == "list":
                sources[(spec.key, str(dv.sqref).split(":")[0])] = (dv.formula1, dv.errorStyle, dv.showErrorMessage)
    for spec in schema.DATA_SHEETS:
        for col in spec.input_columns:
            if col.choices:
                formula, style, shown = sources[(spec.key, f"{_letter(spec, col.key)}2")]
                assert formula.startswith("lst_") and style in (None, "stop") and shown, col.key
    assert sources[("customers", f"{_letter(schema.CUSTOMERS, 'owner')}2")] == ("lst_owners", None, False)
    assert sources[("followups", f"{_letter(schema.FOLLOWUPS, 'by')}2")] == ("lst_owners", None, False)


@pytest.mark.parametrize("lang", LANGS)
def test_computed_columns_have_own_fill_and_a_note(built, lang):
    ws = openpyxl.load_workbook(built[lang])[schema.CUSTOMERS.name(lang)]
    input_fill = ws.cell(1, 1).fill.fgColor.rgb
    for col in schema.CUSTOMERS.computed_columns:
        cell = ws[f"{_letter(schema.CUSTOMERS, col.key)}1"]
        assert cell.fill.fgColor.rgb not in (input_fill, "00000000")
        assert cell.comment is not None and "xlcrm" in cell.comment.text
    for col in schema.CUSTOMERS.input_columns:
        assert ws[f"{_letter(schema.CUSTOMERS, col.key)}1"].comment is None


@pytest.mark.parametrize("lang", LANGS)
def test_settings_and_howto(built, lang):
    wb = openpyxl.load_workbook(built[lang])
    ws = wb[schema.SETTINGS_SHEET.name(lang)]
    assert list(ws.tables) == ["tblSettings"]
    assert [c.value for c in ws[1]] == [c.header(lang) for c in schema.SETTINGS_SHEET.columns]
    rows = {r[0]: (r[1], r[2]) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert list(rows) == [s.key for s in schema.SETTINGS]
    for s in schema.SETTINGS:
        value, label = rows[s.key]
        if isinstance(s.default, bool):  # a switch shows 是/否 or Yes/No
            assert value == schema.choice_label(schema.YES_NO, "yes" if s.default else "no", lang)
        else:
            assert value == (lang if s.key == "language" else s.default)
        assert label == (s.en if lang == "en" else s.zh)
    text = "\n".join(str(v) for row in wb[schema.HOWTO.name(lang)].iter_rows(values_only=True) for v in row if v is not None)
    for cmd in ("check", "regrade", "due", "summary", "dedupe", "merge", "export"):
        assert f"xlcrm {cmd} " in text
    for grade in "ABCDE":
        assert str(schema.SETTING_DEFAULTS[f"cadence_{grade.lower()}"]) in text
    assert schema.CUSTOMERS.column("grade").header(lang) in text


@pytest.mark.parametrize("lang", LANGS)
def test_document_properties(built, lang):
    wb = openpyxl.load_workbook(built[lang])
    assert wb.properties.created == FIXED_CREATED
    assert wb.properties.title and "xlcrm" in wb.properties.title
    assert {p.name: p.value for p in wb.custom_doc_props.props}["Language"] == lang
    with zipfile.ZipFile(built[lang]) as zf:
        assert "<Company></Company>" in zf.read("docProps/app.xml").decode() or "<Company/>" in zf.read("docProps/app.xml").decode()


@pytest.mark.parametrize("lang", LANGS)
def test_rebuild_is_byte_reproducible_and_matches_committed(built, lang, tmp_path):
    again = build_template(tmp_path / "again.xlsx", lang)
    assert again.read_bytes() == built[lang].read_bytes()
    committed = REPO / "templates" / TEMPLATE_FILES[lang]
    assert committed.exists(), "run: python -m xlcrm.template --out templates"
    assert committed.read_bytes() == built[lang].read_bytes(), (
        "templates/ is stale: make templates (xlsxwriter must be constraints.txt's version, as `make install` has it)")


def test_new_workbook_creates_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "crm.xlsx"
    assert new_workbook(target, "en") == target
    before = target.read_bytes()
    with pytest.raises(FileRefused) as err:
        new_workbook(target, "zh-CN")
    assert "已存在" in err.value.render("zh-CN") and "already exists" in err.value.render("en")
    assert target.read_bytes() == before
    with pytest.raises(FileRefused):
        new_workbook(tmp_path / "crm.xls")
    assert openpyxl.load_workbook(target).sheetnames[0] == "Basic Info"


def _small_frames():
    customers = pd.DataFrame(
        {
            "customer_id": ["C000001", "C000002", None],
            "company": ["深圳华鑫科技有限公司", None, "北京宏达贸易有限公司"],
            "contact": ["张伟", "李娜", "王强"],
            "mobile": ["13800138000", 13900139000, "+86 138 0013 8001"],  # an int must still land as text
            "postcode": ["050021", "518000", None],
            "customer_type": ["企业", "个人", "企业"],
            "created": [dt.date(2025, 1, 5), pd.Timestamp("2025-02-01"), "2024年1月5日"],
            "total_purchases": [1234.5, None, 0.0],
            "my own column": ["kept", None, 3],
        }
    )
    followups = pd.DataFrame({"customer_id": ["C000001"], "date": [dt.date(2025, 3, 1)], "summary": ["=SUM(A1)"]})
    purchases = pd.DataFrame({"customer_id": ["C000001"], "amount": [1000.0], "date": ["2025/3/1"]})
    return customers, followups, purchases


def test_filled_template_writes_typed_cells(tmp_path):
    customers, followups, purchases = _small_frames()
    path = build_template(tmp_path / "f.xlsx", "zh-CN", owners=["张伟", "李娜"], customers=customers, followups=followups, purchases=purchases)
    wb = openpyxl.load_workbook(path)
    ws = wb["客户资料"]
    spec = schema.CUSTOMERS
    assert ws.tables["tblCustomers"].ref == f"A1:{get_column_letter(len(spec.columns) + 1)}4"
    assert ws.cell(1, len(spec.columns) + 1).value == "my own column"
    mobile = ws[f"{_letter(spec, 'mobile')}3"]
    assert mobile.value == "13900139000" and mobile.data_type == "s" and mobile.number_format == "@"
    assert ws[f"{_letter(spec, 'postcode')}2"].value == "050021"
    created = ws[f"{_letter(spec, 'created')}2"]
    assert created.value == dt.datetime(2025, 1, 5) and created.number_format == "yyyy-mm-dd"
    assert ws[f"{_letter(spec, 'created')}4"].value == "2024年1月5日"
    assert ws[f"{_letter(spec, 'total_purchases')}2"].number_format == "#,##0.00"
    assert ws[f"{_letter(spec, 'total_purchases')}3"].value is None
    assert ws.cell(4, len(spec.columns) + 1).value == 3
    fol = wb["跟进记录"]
    assert fol["E2"].value == "=SUM(A1)" and fol["E2"].data_type == "s"  # typed text, never a formula
    assert wb["购买记录"]["C2"].value == "2025/3/1"
    lists = wb["列表"]
    owners_col = next(c for c in lists[1] if c.value == spec.column("owner").header("zh-CN")).column_letter
    assert [lists[f"{owners_col}{r}"].value for r in (2, 3, 4)] == ["张伟", "李娜", None]


def test_streaming_mode_gives_the_same_cells(tmp_path):
    """constant_memory (used for big books) must produce the same table and values as normal mode."""
    customers, followups, purchases = _small_frames()
    frames = {"customers": customers, "followups": followups, "purchases": purchases}
    normal = write_crm_workbook(tmp_path / "n.xlsx", "en", frames=frames, constant_memory=False)
    stream = write_crm_workbook(tmp_path / "s.xlsx", "en", frames=frames, constant_memory=True)
    a, b = openpyxl.load_workbook(normal), openpyxl.load_workbook(stream)
    for name in a.sheetnames:
        assert [[c.value for c in r] for r in a[name].iter_rows()] == [[c.value for c in r] for r in b[name].iter_rows()], name
        assert dict(a[name].tables.items()) == dict(b[name].tables.items())
        assert len(a[name].data_validations.dataValidation) == len(b[name].data_validations.dataValidation)
    with zipfile.ZipFile(stream) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
        assert 't="inlineStr"' in sheet and "<is><t>Customer ID</t></is>" in sheet
        table = zf.read("xl/tables/table1.xml").decode()
        assert 'ref="A1:AR4"' in table  # 44 columns: … Overdue Receivable, then the four classifications


@pytest.mark.libreoffice
def test_libreoffice_opens_the_template(built, tmp_path):
    import subprocess

    needs.soffice()
    src = tmp_path / "t.xlsx"
    src.write_bytes(built["zh-CN"].read_bytes())
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path), str(src)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    first = (tmp_path / "t.csv").read_text(encoding="utf-8", errors="replace").splitlines()[0]
    assert first.split(",")[:3] == [c.header("zh-CN") for c in schema.CUSTOMERS.columns[:3]]
