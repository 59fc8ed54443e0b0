"""Packages real files arrive in: LibreOffice content types, macro and chart sheets, directory
entries — and damaged or hostile ones, refused before anything is written."""

from __future__ import annotations

import re
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from xlcrm.api import run_command
from xlcrm.errors import FileRefused
from xlcrm.workbook.package_check import CheckedPackage
from xlcrm.workbook.reader import list_sheets, read_book

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import package_cases as cases  # noqa: E402

TODAY = "2026-11-20"
COMMANDS = ("run", "summary", "dedupe", "export")


@pytest.fixture(scope="module")
def crm_src(tmp_path_factory) -> Path:
    """A small CRM book after one `check` (so Basic Info has notes: comments + VML parts)."""
    path = cases.small_crm(tmp_path_factory.mktemp("src") / "crm.xlsx")
    run_command("check", path, today=TODAY)
    return path


def _copy(src: Path, tmp_path: Path, name: str = "book.xlsx") -> Path:
    dst = tmp_path / name
    shutil.copyfile(src, dst)
    return dst


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _refused(path: Path, *needles: str, command: str = "run") -> FileRefused:
    before = path.read_bytes()
    with pytest.raises(FileRefused) as info:
        run_command(command, path, today=TODAY)
    assert path.read_bytes() == before  # untouched
    text = str(info.value)
    for needle in needles:
        assert needle in text
    assert text.index("已损坏") < text.index("damaged")  # Chinese first, then English
    return info.value


# --------------------------------------------------------------------------- item 9: content types


def test_books_without_a_rels_default_take_every_command_and_their_own_output(crm_src, tmp_path):
    path = cases.without_rels_default(crm_src, tmp_path / "lo_style.xlsx")
    assert b'Extension="rels"' not in _parts(path)["[Content_Types].xml"]
    for command in (*COMMANDS, "run", "summary"):  # the second run/summary read their own output
        assert run_command(command, path, today=TODAY).written, command
    uncovered, dangling = cases.content_type_gaps(path)
    assert uncovered == [] and dangling == []
    ct = _parts(path)["[Content_Types].xml"]
    assert b'Extension="rels"' not in ct  # the new .rels parts got Overrides, in the file's own style
    assert b'PartName="/xl/worksheets/_rels/' in ct


def test_new_parts_in_a_normal_book_leave_no_gaps(crm_src, tmp_path):
    path = _copy(crm_src, tmp_path)
    for command in (*COMMANDS, "summary"):  # summary twice: its drawing and charts are replaced
        run_command(command, path, today=TODAY)
    assert cases.content_type_gaps(path) == ([], [])


@pytest.mark.libreoffice
def test_libreoffice_saved_book_round_trips(crm_src, tmp_path, soffice):
    path = cases.libreoffice_saved(crm_src, tmp_path / "lo.xlsx", soffice)
    for command in (*COMMANDS, "run", "summary"):
        run_command(command, path, today=TODAY)
    assert cases.content_type_gaps(path) == ([], [])
    assert len(read_book(path).customers) == len(read_book(crm_src).customers)


# --------------------------------------------------------------------------- item 10: broken packages


def _comments_part(path: Path) -> str:
    return next(n for n in _parts(path) if re.search(r"comments\d*\.xml$", n))


@pytest.mark.parametrize("part", ["[Content_Types].xml", "xl/worksheets/_rels/sheet1.xml.rels", "comments"])
def test_broken_xml_is_refused_naming_the_part(crm_src, tmp_path, part):
    part = _comments_part(crm_src) if part == "comments" else part
    path = cases.break_xml(crm_src, tmp_path / "broken.xlsx", part)
    _refused(path, part, "not well-formed XML", "不是合法的 XML")
    _refused(path, part, command="summary")


def test_duplicate_zip_entries_are_refused(crm_src, tmp_path):
    path = cases.duplicate_entry(crm_src, tmp_path / "dup.xlsx", "xl/worksheets/sheet1.xml")
    _refused(path, "xl/worksheets/sheet1.xml", "two entries", "重名")


def test_a_non_numeric_shared_string_index_is_refused_naming_sheet_and_cell(crm_src, tmp_path):
    path = cases.bad_shared_string_index(crm_src, tmp_path / "sst.xlsx", row=4)
    error = _refused(path, "'abc'", "damaged")
    assert error.location.sheet == "客户资料" and error.location.row == 4
    assert error.location.column  # the header the user sees in that column
    cell = re.search(r"cell ([A-Z]+4) ", str(error)).group(1)
    assert f"单元格 {cell}" in str(error)


def test_string_zero_typed_as_data_is_not_mistaken_for_damage(tmp_path):
    # A customer whose company is literally the first header text: a legitimate repeat of string 0.
    from xlcrm.samples import generate_frames
    from xlcrm.template import write_crm_workbook

    c, f, p = generate_frames(20, 20, 4, dirt=False)
    c.loc[2, "company"] = "客户编号"
    path = write_crm_workbook(tmp_path / "legit.xlsx", frames={"customers": c, "followups": f, "purchases": p})
    book = read_book(path)
    assert "客户编号" in set(book.customers["company"])


def test_a_zip_bomb_part_is_refused_from_the_directory(crm_src, tmp_path):
    path = cases.with_bomb_part(crm_src, tmp_path / "bomb.xlsx")
    _refused(path, "customXml/item9.xml", "1:1000", "XLCRM_MAX_RATIO")


def test_the_total_inflated_size_limit_is_configurable(crm_src, tmp_path, monkeypatch):
    path = _copy(crm_src, tmp_path)
    monkeypatch.setenv("XLCRM_MAX_INFLATED", "64K")
    _refused(path, "65,536", "XLCRM_MAX_INFLATED")
    monkeypatch.setenv("XLCRM_MAX_INFLATED", "1G")
    assert run_command("run", path, today=TODAY).written


def test_a_part_inflating_past_its_declared_size_is_refused_while_inflating(crm_src):
    blob = bytearray(crm_src.read_bytes())
    part = "xl/worksheets/sheet1.xml"
    # Forge the central directory so the sheet claims to be 100 bytes: a bomb lying about its size.
    start = 0
    while True:
        central = blob.find(b"PK\x01\x02", start)
        name_len = int.from_bytes(blob[central + 28 : central + 30], "little")
        if blob[central + 46 : central + 46 + name_len] == part.encode():
            break
        start = central + 4
    blob[central + 24 : central + 28] = (100).to_bytes(4, "little")
    with pytest.raises(FileRefused, match="inflates beyond its declared size"):
        CheckedPackage(bytes(blob), "forged.xlsx").read(part)


def test_directory_entries_are_kept_as_they_were(crm_src, tmp_path):
    path = cases.with_directories(crm_src, tmp_path / "dirs.xlsx")
    run_command("run", path, today=TODAY)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos[:2]] == ["xl/", "xl/worksheets/"]
    assert all(i.is_dir() and i.file_size == 0 for i in infos[:2])


# --------------------------------------------------------------------------- item 11: macro and chart sheets


@pytest.mark.parametrize("first", [True, False], ids=["macro_first", "macro_last"])
def test_excel4_macro_sheet_books_are_read_and_written_around_it(crm_src, tmp_path, first):
    path = cases.with_macro_sheet(crm_src, tmp_path / "macro.xlsm", first=first)
    before = _parts(path)
    assert ("Macro1" in list_sheets(path)) and (list_sheets(path)[0] == "Macro1") == first
    assert len(read_book(path).customers) == len(read_book(crm_src).customers)
    for command in COMMANDS:
        assert run_command(command, path, today=TODAY).written, command
    after = _parts(path)
    assert after["xl/macrosheets/sheet1.xml"] == before["xl/macrosheets/sheet1.xml"]
    workbook = after["xl/workbook.xml"].decode()
    assert re.search(r'<sheet name="Macro1"[^>]*r:id="rIdXm1"', workbook)
    assert (workbook.index('name="Macro1"') < workbook.index('name="客户资料"')) == first
    assert b"xlMacrosheet" in after["xl/_rels/workbook.xml.rels"]
    assert "Macro1" in read_book(path).sheet_names


def test_a_chart_sheet_before_the_data_is_left_alone(tmp_path):
    path = cases.chartsheet_first_book(tmp_path / "charts.xlsx")
    before = _parts(path)
    book = read_book(path)
    assert book.sheets["customers"].name == "Data" and len(book.customers) == 12
    for command in COMMANDS:
        run_command(command, path, today=TODAY)
    after = _parts(path)
    for part in ("xl/chartsheets/sheet1.xml", "xl/charts/chart1.xml", "xl/chartsheets/_rels/sheet1.xml.rels"):
        assert after[part] == before[part]
    assert list_sheets(path)[0] == "图表"
