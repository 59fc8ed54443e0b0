"""The manager's sheets on screen and on paper: Issues order and colours, Summary / Receivables column
widths and header alignment, page setup of every tool sheet, and LibreOffice's PDF of them."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import needs
import openpyxl
import pytest
from rendering import pdf_pages, pdf_text, sheet_pdf

import xlcrm
from xlcrm.workbook.edits import FILL_ERROR, FILL_WARNING
from xlcrm.workbook.writer.printing import row_breaks

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The zh sample after the day's commands (run, summary, receivables) — what `make demo` leaves."""
    import shutil

    path = tmp_path_factory.mktemp("demo") / "demo_crm.xlsx"
    shutil.copyfile(needs.sample("zh"), path)
    for tag in ("run", "summary", "receivables"):
        xlcrm.run_command(tag, path, today=TODAY)
    return path


def _sheet_xml(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        wb = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'<sheet name="{re.escape(name)}"[^>]*r:id="(rId\d+)"', wb).group(1)
        target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels) or re.search(rf'Target="([^"]+)"[^>]*Id="{rid}"', rels)
        return z.read("xl/" + target.group(1).lstrip("/").removeprefix("xl/")).decode()


def test_issues_errors_first_coloured_wrapped_no_codes(demo: Path):
    ws = openpyxl.load_workbook(demo)["问题"]
    headers = [c.value for c in ws[2]]
    assert "代码" not in headers and "Code" not in headers  # internal codes are not shown
    severities = [ws.cell(r, 1).value for r in range(3, ws.max_row + 1)]
    assert "错误" in severities and "警告" in severities
    assert severities == sorted(severities, key=["错误", "警告", "提示"].index)  # errors before warnings
    for r in range(3, ws.max_row + 1):
        fill = ws.cell(r, 1).fill.fgColor.rgb
        assert fill == (FILL_ERROR if ws.cell(r, 1).value == "错误" else FILL_WARNING)
        assert ws.cell(r, 2).fill.fgColor.rgb != fill  # only the severity cell is coloured
    for col in ("问题", "建议"):
        assert ws.cell(3, headers.index(col) + 1).alignment.wrap_text
    xml = _sheet_xml(demo, "问题")
    assert 'customHeight="1"' in xml  # rows of long suggestions are tall enough to show them


def test_number_columns_are_wide_enough_and_headers_align_with_them(demo: Path):
    for name in ("汇总", "应收"):
        ws = openpyxl.load_workbook(demo)[name]
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, (int, float)) and cell.number_format in ("#,##0.00", "#,##0"):
                    shown = f"{cell.value:,.2f}" if cell.number_format == "#,##0.00" else f"{cell.value:,.0f}"
                    width = ws.column_dimensions[cell.column_letter].width
                    assert width >= len(shown) + 1, (name, cell.coordinate, shown, width)  # never ###
    ws = openpyxl.load_workbook(demo)["汇总"]
    # Grade × salesperson: each grade header sits over its own counts, right-aligned like them.
    title = next(r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value).startswith("客户等级 × 负责人"))
    header = [ws.cell(title + 1, c).value for c in range(1, 8)]
    assert header == ["负责人", "A", "B", "C", "D", "E", "合计"]
    for c in range(2, 8):
        assert ws.cell(title + 1, c).alignment.horizontal == "right"
        assert isinstance(ws.cell(title + 2, c).value, int)
    with zipfile.ZipFile(demo) as z:
        charts = [z.read(n).decode() for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    assert charts and all('formatCode="#,##0"' in x or 'formatCode="0%"' in x for x in charts)


def test_every_tool_sheet_has_a_page_setup(demo: Path):
    wb = openpyxl.load_workbook(demo)
    for name in ("问题", "今日跟进", "久未跟进", "变更记录", "汇总", "应收"):
        xml = _sheet_xml(demo, name)
        assert 'fitToWidth="1" fitToHeight="0"' in xml and '<pageSetUpPr fitToPage="1"/>' in xml, name
        assert "&amp;P / &amp;N" in xml, name  # page numbers in the footer
    assert 'orientation="landscape"' in _sheet_xml(demo, "今日跟进")  # wide: 12 columns
    assert wb["今日跟进"].print_title_rows == "$1:$2"  # title and header on every printed page
    assert wb["问题"].print_title_rows == "$1:$2"
    summary = _sheet_xml(demo, "汇总")
    breaks = [int(b) for b in re.findall(r'<brk id="(\d+)"', summary)]
    assert breaks
    with zipfile.ZipFile(demo) as z:
        drawing = next(z.read(n).decode() for n in z.namelist() if n.startswith("xl/drawings/drawing")
                       and n.endswith(".xml") and b"chart" in z.read(n))
    for top, bottom in re.findall(r"<xdr:from><xdr:col>\d+</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>(\d+)</xdr:row>"
                                  r".*?<xdr:to><xdr:col>\d+</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>(\d+)</xdr:row>",
                                  drawing):
        assert not any(int(top) < b < int(bottom) for b in breaks)  # no chart cut by a page break


def test_row_breaks_keep_sections_whole():
    # page of 50 rows: a section 40–60 would straddle → break after row 39; one longer than a page starts in place
    assert row_breaks([(1, 20), (22, 38), (40, 60)], 50) == [39]
    assert row_breaks([(1, 20), (24, 200)], 50) == []  # a long list starts right away
    assert row_breaks([(1, 46), (48, 200)], 50) == [47]  # … unless only a couple of its rows would fit
    assert row_breaks([(1, 10)], 50) == []


@pytest.mark.libreoffice
def test_libreoffice_prints_the_tool_sheets(demo: Path, soffice: str, tmp_path: Path):
    """Convert each sheet to PDF: one page wide, header repeated, key text on page 1, no ###."""
    due = sheet_pdf(soffice, demo, "今日跟进", tmp_path / "due", "due")
    n = pdf_pages(due)
    assert 1 <= n <= 5
    first = pdf_text(due, 1)
    assert "今日需跟进客户" in first and "下一步" in first and "客户等级" in first
    if n > 1:
        assert "下一步" in pdf_text(due, 2) and "客户等级" in pdf_text(due, 2)  # header rows repeated

    summary = sheet_pdf(soffice, demo, "汇总", tmp_path / "summary", "summary")
    assert 2 <= pdf_pages(summary) <= 10
    text = pdf_text(summary)
    assert "客户管理汇总" in pdf_text(summary, 1) and "客户总数" in pdf_text(summary, 1)
    assert "###" not in text and "ABC" in text

    recv = sheet_pdf(soffice, demo, "应收", tmp_path / "recv", "recv")
    first = pdf_text(recv, 1)
    assert "应收汇总" in first and "应收明细" in first  # the long list starts on page 1
    assert "###" not in pdf_text(recv)

    issues = sheet_pdf(soffice, demo, "问题", tmp_path / "issues", "issues")
    first = pdf_text(issues, 1)
    assert "校验结果" in first and "建议" in first
    assert not re.search(r"\b(bad_phone|bad_email|orphan_id)\b", pdf_text(issues))  # no internal codes
