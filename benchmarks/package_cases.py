"""Workbook packages for the package sweep and its tests: small CRM books, and copies changed by
zip surgery into the shapes real files arrive in (LibreOffice-written content types, macro and
chart sheets, directory entries) or damaged ones (broken XML, duplicate entries, bad shared-string
indexes, zip bombs). Every builder writes a new file; the source is only read.

Nothing here saves a user's workbook: inputs are copies made for a test or a sweep.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

from xlcrm.samples import generate_frames
from xlcrm.template import write_crm_workbook

RELS_CT = "application/vnd.openxmlformats-package.relationships+xml"
MACRO_CT = "application/vnd.ms-excel.macrosheet+xml"
MACRO_REL = "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet"
MACRO_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<xm:macrosheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><dimension ref="A1:A2"/>'
    b'<sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
    b'<sheetData><row r="1"><c r="A1" t="str"><f>ALERT("xlcrm")</f><v>TRUE</v></c></row>'
    b'<row r="2"><c r="A2" t="b"><f>RETURN()</f><v>1</v></c></row></sheetData>'
    b'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></xm:macrosheet>'
)

Edit = Callable[[str, bytes], "bytes | None"]


def small_crm(path: Path, customers: int = 60, *, customize=None, dirt: bool = True) -> Path:
    """A complete xlcrm workbook with a few dozen customers (some dirt, so check writes notes)."""
    c, f, p = generate_frames(customers, customers * 2, customers // 2, dirt=dirt)
    return write_crm_workbook(Path(path), "zh-CN", frames={"customers": c, "followups": f, "purchases": p},
                              customize=customize)


def rewrite_package(src: Path, dst: Path, edit: Edit | None = None, add: list[tuple[str, bytes]] | None = None,
                    dirs: list[str] | None = None) -> Path:
    """Copy the zip `src` to `dst` part by part: `edit(name, data)` returns new bytes or None to
    drop the part; `add` appends parts (a name already present makes a duplicate entry); `dirs`
    adds directory entries in front."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for d in dirs or []:
            zout.writestr(zipfile.ZipInfo(d), b"")
        for info in zin.infolist():
            data = zin.read(info.filename)
            data = edit(info.filename, data) if edit else data
            if data is not None:
                zout.writestr(info, data, zipfile.ZIP_DEFLATED)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Duplicate name" is the point of some cases
            for name, data in add or []:
                zout.writestr(name, data, zipfile.ZIP_DEFLATED)
    return dst


def without_rels_default(src: Path, dst: Path) -> Path:
    """[Content_Types].xml as LibreOffice often writes it: no <Default Extension="rels">, an
    Override for every .rels part instead."""
    with zipfile.ZipFile(src) as zf:
        rels = [n for n in zf.namelist() if n.endswith(".rels")]

    def edit(name: str, data: bytes) -> bytes:
        if name != "[Content_Types].xml":
            return data
        text = re.sub(rb'<Default Extension="rels"[^>]*/>', b"", data)
        over = "".join(f'<Override PartName="/{n}" ContentType="{RELS_CT}"/>' for n in rels
                       if f'"/{n}"'.encode() not in text)
        return text.replace(b"</Types>", over.encode() + b"</Types>")

    return rewrite_package(src, dst, edit)


def with_macro_sheet(src: Path, dst: Path, first: bool = True) -> Path:
    """An Excel 4 macro sheet ("Macro1", xl/macrosheets/sheet1.xml) added as the first or last tab."""

    def edit(name: str, data: bytes) -> bytes:
        if name == "[Content_Types].xml":
            return data.replace(b"</Types>", f'<Override PartName="/xl/macrosheets/sheet1.xml" '
                                f'ContentType="{MACRO_CT}"/></Types>'.encode())
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(b"</Relationships>", f'<Relationship Id="rIdXm1" Type="{MACRO_REL}" '
                                f'Target="macrosheets/sheet1.xml"/></Relationships>'.encode())
        if name == "xl/workbook.xml":
            ids = [int(x) for x in re.findall(rb'sheetId="(\d+)"', data)]
            el = f'<sheet name="Macro1" sheetId="{max(ids, default=0) + 1}" r:id="rIdXm1"/>'.encode()
            if first:  # tab positions move: shift localSheetId / activeTab like Excel would
                data = re.sub(rb'localSheetId="(\d+)"', lambda m: b'localSheetId="%d"' % (int(m.group(1)) + 1), data)
                data = re.sub(rb"(<sheets>)", lambda m: m.group(1) + el, data)
            else:
                data = data.replace(b"</sheets>", el + b"</sheets>")
        return data

    return rewrite_package(src, dst, edit, add=[("xl/macrosheets/sheet1.xml", MACRO_SHEET)])


def chartsheet_first_book(path: Path, customers: int = 12) -> Path:
    """A user's own book: a chart sheet as the first tab, then data sheets named "Data", "Visits"
    and "Orders" (found by their headers, so the reader has to look past the chart sheet)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))  # ok-to-save: a brand-new test file
    chart_sheet = wb.add_chartsheet("图表")
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, ["客户编号", "公司名称", "联系人", "手机"])
    for i in range(customers):
        ws.write_row(i + 1, 0, [f"C{i + 1:06d}", f"测试公司{i + 1}", f"联系人{i + 1}", f"1380013{i:04d}"])
    visits = wb.add_worksheet("Visits")  # found by its headers too
    visits.write_row(0, 0, ["客户编号", "跟进日期", "跟进内容"])
    orders = wb.add_worksheet("Orders")
    orders.write_row(0, 0, ["客户编号", "日期", "金额"])
    for i in range(customers):
        visits.write_row(i + 1, 0, [f"C{i + 1:06d}", f"2026-10-{i % 28 + 1:02d}", "电话回访"])
        orders.write_row(i + 1, 0, [f"C{i + 1:06d}", f"2026-09-{i % 28 + 1:02d}", 1000 + i])
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": f"=Data!$D$2:$D${customers + 1}"})
    chart_sheet.set_chart(chart)
    chart_sheet.activate()
    wb.close()
    return path


def break_xml(src: Path, dst: Path, part: str) -> Path:
    """`part` cut off in the middle of a tag (not well-formed)."""
    return rewrite_package(src, dst, lambda n, d: d[: len(d) // 2] if n == part else d)


def duplicate_entry(src: Path, dst: Path, part: str) -> Path:
    """A second zip entry named `part` (the same bytes again: which one would a reader take?)."""
    with zipfile.ZipFile(src) as zf:
        data = zf.read(part)
    return rewrite_package(src, dst, add=[(part, data)])


def bad_shared_string_index(src: Path, dst: Path, row: int = 4, value: bytes = b"abc") -> Path:
    """The first shared-string cell of `row` on the first sheet gets a non-numeric index."""

    def edit(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        m = re.search(rb'<c r="[A-Z]+%d"[^>]*t="s"[^>]*><v>(\d+)</v>' % row, data)
        assert m, "no shared-string cell in that row"
        return data[: m.start(1)] + value + data[m.end(1):]

    return rewrite_package(src, dst, edit)


def with_bomb_part(src: Path, dst: Path, size: int = 24 << 20) -> Path:
    """A part of `size` zero bytes (deflates about 1:1000) — a zip bomb's signature."""
    return rewrite_package(src, dst, add=[("customXml/item9.xml", b"\0" * size)])


def with_directories(src: Path, dst: Path) -> Path:
    """Directory entries (`xl/`, `xl/worksheets/`) as some zip tools store them."""
    return rewrite_package(src, dst, dirs=["xl/", "xl/worksheets/"])


def libreoffice_saved(src: Path, dst: Path, soffice: str | None = None) -> Path | None:
    """`src` opened and saved as .xlsx by LibreOffice headless; None without LibreOffice."""
    exe = soffice or shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "profile"
        subprocess.run(
            [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "xlsx",
             "--outdir", str(Path(tmp) / "out"), str(src)],
            check=True, capture_output=True, timeout=180,
        )
        shutil.copyfile(Path(tmp) / "out" / (Path(src).stem + ".xlsx"), dst)
    return dst


def content_type_gaps(path: Path) -> tuple[list[str], list[str]]:
    """(parts without a content type, Overrides naming a missing part) of a package."""
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        ct = zf.read("[Content_Types].xml").decode("utf-8")
    defaults = {e.lower() for e in re.findall(r'<Default[^>]*Extension="([^"]+)"', ct)}
    overrides = {p.lstrip("/").lower() for p in re.findall(r'<Override[^>]*PartName="([^"]+)"', ct)}
    uncovered = [n for n in names if n != "[Content_Types].xml" and n.lower() not in overrides
                 and n.rsplit(".", 1)[-1].lower() not in defaults]
    lower = {n.lower() for n in names}
    dangling = sorted(p for p in overrides if p not in lower)
    return uncovered, dangling
