"""Workbooks for the writer tests, built with xlsxwriter (brand-new files only) + helpers to check them."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
import zlib
from pathlib import Path

import needs
import pandas as pd
import xlsxwriter
from lxml import etree

from xlcrm.workbook.edits import Block, Chart, ColumnWrite, EditPlan, SheetReplace

REPO = Path(__file__).resolve().parents[1]
EXCEL_AUTHORED = needs.EXCEL_AUTHORED
ODD_NAME = "It's 客户 表"  # CJK, spaces and a quote


def vba_project_bin() -> bytes:
    """A real VBA project: the one inside xlwings' quickstart workbook."""
    import xlwings

    xlsm = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
    with zipfile.ZipFile(xlsm) as zf:
        return zf.read("xl/vbaProject.bin")


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x00\xff\x00\x00" * 1  # one red pixel, filter byte 0
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


CUSTOMER_HEADERS = ["客户编号", "公司名称", "邮编", "创建日期", "金额", "状态"]


def build_rich_xlsm(path: Path, rows: int = 8) -> Path:
    """An .xlsm with VBA, a form button, a Table, a cross-sheet dropdown, a chart, notes, an image,
    conditional formats, defined names, a hidden sheet and a sheet named with CJK, spaces and a quote."""
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    wb.add_vba_project(io.BytesIO(vba_project_bin()), is_stream=True)
    wb.set_vba_name("ThisWorkbook")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    text_fmt = wb.add_format({"num_format": "@"})
    ws = wb.add_worksheet("客户资料")
    ws.set_vba_name("Sheet1")
    data = []
    for i in range(rows):
        data.append(
            [
                f"C{i + 1:04d}",
                f"公司{i + 1}",
                f"{i:06d}",
                dt.date(2024, 1, 1 + i),
                1000.5 * (i + 1),
                ["潜在", "谈判中", "已成交"][i % 3],
            ]
        )
    ws.add_table(
        0,
        0,
        rows,
        len(CUSTOMER_HEADERS) - 1,
        {
            "name": "Customers",
            "data": data,
            "columns": [
                {"header": h, "format": date_fmt if h == "创建日期" else (text_fmt if h == "邮编" else None)}
                for h in CUSTOMER_HEADERS
            ],
        },
    )
    ws.data_validation(1, 5, 500, 5, {"validate": "list", "source": "=Lists!$A$1:$A$3"})
    ws.conditional_format(1, 4, rows, 4, {"type": "data_bar", "bar_solid": True})
    ws.conditional_format(
        1, 4, rows, 4, {"type": "cell", "criteria": ">", "value": 5000, "format": wb.add_format({"bold": True})}
    )
    ws.write_comment("B2", "用户自己的批注")
    ws.insert_button("H2", {"macro": "Hello", "caption": "运行", "width": 80, "height": 30})
    ws.insert_image("H6", "dot.png", {"image_data": io.BytesIO(tiny_png())})
    ws.set_column(0, 0, 12, text_fmt)
    lists = wb.add_worksheet("Lists")
    lists.set_vba_name("Sheet2")
    lists.write_column(0, 0, ["潜在", "谈判中", "已成交"])
    odd = wb.add_worksheet(ODD_NAME)
    odd.set_vba_name("Sheet3")
    odd.write_row(0, 0, ["月份", "金额"])
    for i in range(4):
        odd.write_row(i + 1, 0, [f"{i + 1}月", (i + 1) * 10])
        odd.write_formula(i + 1, 2, f"=B{i + 2}*2", None, (i + 1) * 20)
    chart = wb.add_chart({"type": "column"})
    chart.add_series(
        {
            "categories": f"='{ODD_NAME.replace(chr(39), chr(39) * 2)}'!$A$2:$A$5",
            "values": f"='{ODD_NAME.replace(chr(39), chr(39) * 2)}'!$B$2:$B$5",
        }
    )
    odd.insert_chart("E2", chart)
    hidden = wb.add_worksheet("Hidden")
    hidden.set_vba_name("Sheet4")
    hidden.write(0, 0, "secret")
    hidden.hide()
    wb.define_name("StatusList", "=Lists!$A$1:$A$3")
    wb.define_name("Lists!LocalName", "=Lists!$A$1")
    wb.define_name(
        f"'{ODD_NAME.replace(chr(39), chr(39) * 2)}'!Print_Area",
        f"='{ODD_NAME.replace(chr(39), chr(39) * 2)}'!$A$1:$C$5",
    )
    wb.close()
    return path


def build_plain_xlsx(path: Path, rows: int = 6) -> Path:
    """A plain user sheet (no table) with shared strings, text IDs with leading zeros and dates."""
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet("客户资料")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["编号", "名称", "电话", "日期"])
    for i in range(rows):
        ws.write_string(i + 1, 0, f"{i:05d}")
        ws.write_string(i + 1, 1, f"名称{i}")
        ws.write_string(i + 1, 2, f"0138{i:07d}")
        ws.write_datetime(i + 1, 3, dt.datetime(2024, 3, 1 + i), date_fmt)
    wb.close()
    return path


# -- the representative edit -------------------------------------------------------------------


def summary_block() -> Block:
    return Block(pd.DataFrame({"等级": ["A", "B", "C"], "客户数": [3, 5, 8], "金额": [1.5, 2.25, 3.0]}), title="按等级")


def representative_plan(
    sheet: str,
    header_row: int,
    rows: list[int],
    after: str | None = None,
    chart_kind: str = "column",
    new_sheet: str = "今日跟进",
) -> EditPlan:
    """A computed column in a user sheet + a (re)generated tool sheet with a chart + a new sheet."""
    values = {}
    for k, r in enumerate(rows):
        values[r] = ["A", "00123", dt.date(2024, 5, 6), 12.5, None][k % 5]
    plan = EditPlan(operation="test")
    plan.add(ColumnWrite(sheet, "xlcrm结果", header_row, values, width=14))
    plan.add(
        SheetReplace(
            "汇总",
            [summary_block(), Block(pd.DataFrame({"x": [1, 2]}), title="第二块")],
            after=after or sheet,
            charts=[Chart(chart_kind, "客户数", 0, "等级", ["客户数"], (2, 6))],
        )
    )
    plan.add(
        SheetReplace(
            new_sheet,
            [
                Block(
                    pd.DataFrame(
                        {
                            "客户编号": ["00123", "C0002"],
                            "下次跟进": pd.to_datetime(["2024-05-06", "2024-05-07"]),
                            "逾期天数": [3, 0],
                        }
                    ),
                    autofilter=True,
                )
            ],
            after=sheet,
        )
    )
    return plan


# -- checks ------------------------------------------------------------------------------------


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def assert_package_sound(path: Path) -> None:
    """Every XML part parses, every internal relationship resolves, every part has a content type."""
    import posixpath

    parts = members(path)
    ct = etree.fromstring(parts["[Content_Types].xml"])
    defaults = {el.get("Extension").lower() for el in ct if el.get("Extension")}
    overrides = {el.get("PartName").lstrip("/") for el in ct if el.get("PartName")}
    for name, data in parts.items():
        if name.endswith((".xml", ".rels")):
            etree.fromstring(data)
        if name != "[Content_Types].xml":
            assert name in overrides or name.rsplit(".", 1)[-1].lower() in defaults, name
        if name.endswith(".rels"):
            folder = posixpath.dirname(posixpath.dirname(name))
            for rel in etree.fromstring(data):
                if rel.get("TargetMode") == "External":
                    continue
                target = rel.get("Target")
                resolved = (
                    posixpath.normpath(target.lstrip("/"))
                    if target.startswith("/")
                    else posixpath.normpath(posixpath.join(folder, target))
                )
                assert resolved in parts, f"{name} → {target}"


def claim_sheets(path: Path, names: list[str]) -> None:
    """Record `names` as sheets xlcrm created (as if an earlier xlcrm run had made them)."""
    from xlcrm.workbook.ownership import STATE_COLUMNS, STATE_SHEET
    from xlcrm.workbook.writer import apply_plan

    rows = pd.DataFrame([["sheet", f"sheet:{n.casefold()}", "", n, ""] for n in names], columns=STATE_COLUMNS)
    apply_plan(path, EditPlan([SheetReplace(STATE_SHEET, [Block(rows)], hidden="veryHidden", freeze_header=False)]),
               backup_keep=0)
