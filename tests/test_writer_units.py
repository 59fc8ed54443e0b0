"""Smaller writer behaviours: values, charts, codeNames, .xlam, verification catching a bad write."""

from __future__ import annotations

import datetime as dt
import shutil
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from lxml import etree
from writer_fixtures import build_plain_xlsx, build_rich_xlsm, claim_sheets

from xlcrm.errors import WriteFailed, XlcrmError
from xlcrm.ooxml import addresses
from xlcrm.ooxml.cellxml import encode
from xlcrm.ooxml.dates import to_serial
from xlcrm.ooxml.package import Package
from xlcrm.workbook.edits import (
    FMT_MONEY,
    AppendRows,
    Block,
    CellStyle,
    CellWrite,
    Chart,
    ColumnWrite,
    EditPlan,
    SheetReplace,
)
from xlcrm.workbook.writer import apply_plan, verify
from xlcrm.workbook.writer.sheets import Workbook

C_NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart"}


def test_value_encoding() -> None:
    assert encode("a<b&c") == ("s", "a&lt;b&amp;c")
    assert encode("bad\x00\x07char") == ("s", "badchar")
    assert encode("_x0041_") == ("s", "_x005F_x0041_")  # Excel would otherwise show "A"
    assert encode(True) == ("b", "1") and encode(7) == ("n", "7") and encode(2.5) == ("n", "2.5")
    assert encode(float("nan")) == ("e", "") and encode(pd.NaT) == ("e", "") and encode(None) == ("e", "")
    assert encode(dt.date(2024, 1, 5)) == ("d", "45296")
    assert encode(pd.Timestamp("2024-01-05 12:00")) == ("t", "45296.5")
    assert to_serial(dt.date(1900, 2, 28)) == 59 and to_serial(dt.date(1900, 3, 1)) == 61
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kind, text = encode("x" * 40000)
    assert len(text) == 32767 and caught


def test_styles_and_long_text_round_trip(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "p.xlsx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = apply_plan(
            path,
            EditPlan(
                [
                    CellWrite("客户资料", 2, 6, 1234.5, CellStyle(number_format=FMT_MONEY, bold=True, fill="FFDDEBF7")),
                    CellWrite("客户资料", 3, 6, "y" * 40000),
                    CellWrite("客户资料", 2, 1, None),  # clears the value, keeps the style
                ]
            ),
            backup_keep=0,
        )
    assert any("32767" in w for w in result.warnings)
    ws = openpyxl.load_workbook(path)["客户资料"]
    assert ws["F2"].number_format == FMT_MONEY and ws["F2"].font.b and ws["F2"].fill.fgColor.rgb == "FFDDEBF7"
    assert len(ws["F3"].value) == 32767
    assert ws["A2"].value is None


def test_chart_refers_to_quoted_sheet_and_caches_values(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "p.xlsx")
    name = "It's 汇总"
    df = pd.DataFrame({"等级": ["A", "B", "C"], "客户数": [3, 5, 8], "金额": [1.5, None, 3.0]})
    charts = [
        Chart("bar", "条形", 0, "等级", ["客户数", "金额"], (2, 6), stacked=True),
        Chart("line", "折线", 0, "等级", ["金额"], (20, 6)),
        Chart("pie", "饼图", 0, "等级", ["客户数"], (40, 6)),
    ]
    apply_plan(path, EditPlan([SheetReplace(name, [Block(df, title="按等级")], charts=charts)]), backup_keep=0)
    with zipfile.ZipFile(path) as zf:
        xml = {n: etree.fromstring(zf.read(n)) for n in zf.namelist() if n.startswith("xl/charts/")}
    assert len(xml) == 3
    bar = next(x for x in xml.values() if x.find(".//c:barChart", C_NS) is not None)
    assert bar.find(".//c:barDir", C_NS).get("val") == "bar" and bar.find(".//c:grouping", C_NS).get("val") == "stacked"
    refs = [f.text for f in bar.iterfind(".//c:f", C_NS)]
    assert refs[:3] == ["'It''s 汇总'!$B$2", "'It''s 汇总'!$A$3:$A$5", "'It''s 汇总'!$B$3:$B$5"]
    assert [v.text for v in bar.find(".//c:val", C_NS).iterfind(".//c:v", C_NS)] == ["3.0", "5.0", "8.0"]
    second = list(bar.iterfind(".//c:ser", C_NS))[1]
    assert len(list(second.find(".//c:val", C_NS).iterfind(".//c:pt", C_NS))) == 2  # NaN is left out
    wb = openpyxl.load_workbook(path)
    ws = wb[name]
    assert ws["A1"].value == "按等级" and ws["A2"].value == "等级" and ws.freeze_panes == "A3"


def test_regenerating_a_tool_sheet_keeps_its_code_name_and_place(tmp_path: Path) -> None:
    path = build_rich_xlsm(tmp_path / "rich.xlsm")
    claim_sheets(path, ["Hidden"])  # a sheet xlcrm made earlier, to which Excel gave a code name
    names = openpyxl.load_workbook(path).sheetnames
    apply_plan(
        path, EditPlan([SheetReplace("Hidden", [Block(pd.DataFrame({"a": [1]}))], hidden="hidden")]), backup_keep=0
    )
    with zipfile.ZipFile(path) as zf:
        assert b'codeName="Sheet4"' in zf.read("xl/worksheets/sheet4.xml")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == names and wb["Hidden"].sheet_state == "hidden" and wb["Hidden"]["A2"].value == 1


def test_append_rows_creates_a_hidden_sheet_then_appends(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "p.xlsx")
    log = pd.DataFrame({"时间": [pd.Timestamp("2024-05-06 10:30")], "内容": ["新增"], "编号": ["00123"]})
    apply_plan(path, EditPlan([AppendRows("变更记录", log, hidden="hidden")]), backup_keep=0)
    apply_plan(path, EditPlan([AppendRows("变更记录", log.assign(内容="再次"))]), backup_keep=0)
    ws = openpyxl.load_workbook(path)["变更记录"]
    assert ws.sheet_state == "hidden"
    assert [c.value for c in ws["B"]] == ["内容", "新增", "再次"]
    assert ws["A3"].value == dt.datetime(2024, 5, 6, 10, 30) and ws["C3"].value == "00123"


def test_xlam_can_be_written(tmp_path: Path) -> None:
    import xlwings

    src = Path(xlwings.__file__).parent / "quickstart_addin.xlam"
    path = tmp_path / "addin.xlam"
    shutil.copyfile(src, path)
    vba = zipfile.ZipFile(path).read("xl/vbaProject.bin")
    entry = Workbook(Package(path.read_bytes())).sheets()[0]
    apply_plan(path, EditPlan([CellWrite(entry.name, 1, 1, "xlcrm")]), backup_keep=0)
    assert zipfile.ZipFile(path).read("xl/vbaProject.bin") == vba
    copy = tmp_path / "addin_copy.xlsm"  # openpyxl refuses add-ins; calamine reads the content
    shutil.copyfile(path, copy)
    assert pd.read_excel(copy, engine="calamine", sheet_name=entry.name, header=None).iloc[0, 0] == "xlcrm"


@pytest.mark.parametrize("limit", [verify.INFLATE_LIMIT, 0])
def test_verification_catches_broken_xml_and_writes_nothing(limit: int, tmp_path: Path, monkeypatch) -> None:
    """With the full parse (default for small parts) and with the evidence check (big parts)."""
    path = build_plain_xlsx(tmp_path / "p.xlsx")
    before = path.read_bytes()
    monkeypatch.setattr(verify, "INFLATE_LIMIT", limit)
    monkeypatch.setattr(
        "xlcrm.workbook.writer.editor.encode_values", lambda values: ("s", ["<oops"] * len(values))
    )
    with pytest.raises(WriteFailed, match="XML"):
        apply_plan(path, EditPlan([ColumnWrite("客户资料", "新列", 1, {2: "x", 3: "y"})]))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.xlsx"]


def test_unknown_sheet_and_bad_names_are_refused(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "p.xlsx")
    with pytest.raises(XlcrmError, match="没有|no sheet|There is no sheet"):
        apply_plan(path, EditPlan([CellWrite("不存在", 1, 1, 1)]))
    with pytest.raises(XlcrmError, match="not allowed"):
        apply_plan(path, EditPlan([SheetReplace("a/b", [Block(pd.DataFrame({"x": [1]}))])]))
    assert addresses.quote_sheet("It's") == "'It''s'"


def test_the_temp_file_is_read_back_in_chunks_and_compared_exactly(tmp_path) -> None:
    from xlcrm.workbook.writer.save import file_holds

    data = bytes(range(256)) * 40
    path = tmp_path / "t.xlsx"
    path.write_bytes(data)
    assert file_holds(path, data, chunk=1000)
    assert not file_holds(path, data + b"x", chunk=1000)  # the file is short
    path.write_bytes(data + b"x")
    assert not file_holds(path, data, chunk=1000)  # the file is long
    path.write_bytes(data[:5000] + b"\xff" + data[5001:])
    assert not file_holds(path, data, chunk=1000)
    path.write_bytes(b"")
    assert file_holds(path, b"") and not file_holds(path, b"a")


def test_a_broken_tool_sheet_checked_on_the_pool_stops_the_write(tmp_path: Path, monkeypatch) -> None:
    """Big tool sheets are checked on the other core while later edits are made; a failure there
    must still stop the write before anything is saved."""
    from xlcrm.workbook.writer import toolsheet

    path = build_plain_xlsx(tmp_path / "p.xlsx")
    before = path.read_bytes()
    def broken(real):
        def build(*args):
            pieces = real(*args)
            return [pieces[0] + b"<oops", *pieces[1:]]
        return build

    monkeypatch.setattr(toolsheet, "_encoded_rows", broken(toolsheet._encoded_rows))  # rows joined in Python
    monkeypatch.setattr(toolsheet.fastrows, "rows_xml", broken(toolsheet.fastrows.rows_xml))  # or by polars
    big = pd.DataFrame({"客户编号": [f"C{i:06d}" for i in range(40_000)], "说明": ["需要跟进"] * 40_000})
    plan = EditPlan([SheetReplace("今日跟进", [Block(big)]), CellWrite("客户资料", 2, 1, "x")])
    with pytest.raises(WriteFailed, match="XML"):
        apply_plan(path, plan)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.xlsx"]


@pytest.mark.parametrize(
    "doc",
    [
        b'<a xmlns="u"><b x="1">t</b></a>', b"<a><x:b>t</x:b></a>", b'<a><b x14ac:dy="1"/></a>', b"<a>&nbsp;</a>",
        b"<a>&amp;&#20013;&#x4e2d;</a>", b"<a>\x01</a>", b"<a><b></a>", b"<a/><b/>", b"<a>\xff</a>", b"",
        b'<?xml version="1.0" encoding="UTF-8"?>\n<a/>', b'<!DOCTYPE a [<!ENTITY e "zz">]><a>&e;</a>',
        b"<a>" + b"x" * (11 << 20) + b"</a>", b"<a b='1' b='2'/>", b"<a>]]></a>", b"<a><!-- -- --></a>",
    ],
)
def test_the_xml_check_says_what_expat_says(doc: bytes) -> None:
    """The writer's XML check (libxml2, so it can run beside other work) judges as expat does."""
    from xml.parsers import expat

    from xlcrm.workbook.package_check import well_formed

    parser = expat.ParserCreate()
    try:
        parser.Parse(doc, True)
        expected = True
    except expat.ExpatError:
        expected = False
    assert (well_formed(doc) is None) == expected
    assert (well_formed([doc[:5], doc[5:9], doc[9:]]) is None) == expected


def test_blocks_stacked_and_side_by_side_land_in_their_rows(tmp_path: Path, monkeypatch) -> None:
    """A block no other block shares rows with is encoded whole rows at a time; blocks side by side
    share rows cell by cell. Either way every value is where its block says, rows ascend, and
    encoding in pieces changes nothing."""
    from xlcrm.workbook.writer import toolsheet

    def frame(tag: str, n: int) -> pd.DataFrame:
        return pd.DataFrame({f"{tag}编号": [f"{tag}{i}" for i in range(n)], f"{tag}金额": [i * 1.5 for i in range(n)]})

    a, b, c, d = frame("A", 5), frame("B", 3), frame("C", 4), frame("D", 2)
    blocks = [Block(a, title="甲"), Block(b, title="乙", at=(2, 4)),  # beside A: shares its rows
              Block(c, title="丙", at=(12, 1)), Block(d)]  # stacked below, and below that by default
    assert [alone for _, _, alone in toolsheet._block_spans(blocks)] == [False, False, True, True]

    def write(name: str) -> bytes:
        path = build_plain_xlsx(tmp_path / name)
        apply_plan(path, EditPlan([SheetReplace("汇总", blocks)]), backup_keep=0)
        with zipfile.ZipFile(path) as zf:
            sheet = next(n for n in zf.namelist() if n.startswith("xl/worksheets/") and b"A0" in zf.read(n))
            return zf.read(sheet)

    whole = write("whole.xlsx")
    monkeypatch.setattr(toolsheet, "ROWS_PER_PIECE", 1)
    assert write("pieces.xlsx") == whole
    rows = [int(r) for r in etree.fromstring(whole).xpath("//*[local-name()='row']/@r")]
    assert rows == sorted(set(rows))

    wb = openpyxl.load_workbook(tmp_path / "whole.xlsx", read_only=True)
    ws = wb["汇总"]
    cells = {(r, col): v for r, row in enumerate(ws.iter_rows(values_only=True), 1)
             for col, v in enumerate(row, 1) if v is not None}
    wb.close()
    assert cells[(1, 1)] == "甲" and cells[(3, 1)] == "A0" and cells[(7, 1)] == "A4"
    assert cells[(2, 4)] == "乙" and cells[(4, 4)] == "B0" and cells[(6, 5)] == 3.0
    assert cells[(12, 1)] == "丙" and cells[(14, 1)] == "C0" and cells[(17, 1)] == "C3"
    assert cells[(19, 1)] == "D编号" and cells[(20, 1)] == "D0" and cells[(21, 2)] == 1.5
