"""Workbooks where a user's own sheet or column has the name or the look of xlcrm's (issue 10 items 1–4).

Each is made as a user would have made it (not by xlcrm), so nothing in it is recorded as xlcrm's:
the sweep then checks that every command leaves the user's sheets byte for byte as they were.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import xlsxwriter

CUSTOMER_HEADERS = ["客户编号", "公司名称", "联系人", "手机", "负责人", "创建日期"]
CUSTOMERS = [
    ["C000001", "甲公司", "张三", "13800138000", "张伟", "2026-10-01"],
    ["C000002", "乙公司", "李四", "13900139000", "张伟", "2026-10-02"],
    ["C000003", "丙公司", "王五", "13700137000", "王芳", "2026-10-03"],
]


def _crm_sheets(wb, headers=CUSTOMER_HEADERS, rows=CUSTOMERS) -> None:
    ws = wb.add_worksheet("客户资料")
    ws.write_row(0, 0, headers)
    for r, row in enumerate(rows, start=1):
        ws.write_row(r, 0, row)
    fu = wb.add_worksheet("跟进记录")
    fu.write_row(0, 0, ["客户编号", "跟进日期", "方式", "跟进内容"])
    fu.write_row(1, 0, ["C000001", "2026-11-01", "电话", "报价"])
    pu = wb.add_worksheet("购买记录")
    pu.write_row(0, 0, ["客户编号", "订单号", "日期", "产品", "金额"])
    pu.write_row(1, 0, ["C000001", "SO-1", "2026-11-02", "A型", 1200])


def user_tool_sheets(path: Path) -> Path:
    """The user's own 汇总, 问题 and 查重 sheets (data, a conditional format, a chart)."""
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    _crm_sheets(wb)
    for name in ("汇总", "问题", "查重"):
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, ["月份", "销售额"])
        for i, v in enumerate((100, 250, 175), start=1):
            ws.write_row(i, 0, [f"{i}月", v])
        ws.conditional_format("B2:B4", {"type": "data_bar"})
        chart = wb.add_chart({"type": "column"})
        chart.add_series({"values": f"='{name}'!$B$2:$B$4"})
        ws.insert_chart("D2", chart)
    wb.close()
    return path


def orders_first(path: Path) -> Path:
    """A user's "Orders" sheet before the real Traditional 購買記錄."""
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet("Orders")
    ws.write_row(0, 0, ["Order", "Item"])
    ws.write_row(1, 0, ["X-1", "pen"])
    _crm_sheets(wb)
    wb.close()
    return path


def pets(path: Path) -> Path:
    """No CRM at all: a sheet with Name and Owner columns (must not be adopted)."""
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet("pets")
    ws.write_row(0, 0, ["Name", "Owner", "Species"])
    ws.write_row(1, 0, ["Rex", "Ann", "dog"])
    wb.close()
    return path


def typed_computed_columns(path: Path) -> Path:
    """The user's own 下次跟进 and 客户等级 columns, typed by hand."""
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    rows = [[*r, d, g] for r, d, g in zip(CUSTOMERS, ["2026-12-01", "2026-11-25", "2027-01-10"], "ACB", strict=True)]
    _crm_sheets(wb, [*CUSTOMER_HEADERS, "下次跟进", "客户等级"], rows)
    wb.close()
    return path


def fixture_named_summary(fixtures: Path, folder: Path) -> Path | None:
    """The Excel-made NewStyleConditionalFormattings.xlsx with its sheet renamed "汇总" (CRM added later)."""
    src = fixtures / "NewStyleConditionalFormattings.xlsx"
    if not src.exists():
        return None
    dst = folder / "cf_summary.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b'name="CF"', 'name="汇总"'.encode())
            zout.writestr(info, data)
    return dst


__all__ = ["fixture_named_summary", "orders_first", "pets", "typed_computed_columns", "user_tool_sheets"]
