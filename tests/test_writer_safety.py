"""Refused files stay untouched; a writer killed at any point leaves the original intact."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import needs
import pytest
from writer_fixtures import build_plain_xlsx, representative_plan

from xlcrm.errors import FileRefused, WriteFailed
from xlcrm.workbook.edits import CellWrite, EditPlan
from xlcrm.workbook.writer import apply_plan

REPO = Path(__file__).resolve().parents[1]


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir() if p.is_file()}


def _assert_refused(path: Path) -> None:
    folder = path.parent
    before = _snapshot(folder)
    with pytest.raises(FileRefused) as info:
        apply_plan(path, EditPlan([CellWrite("Sheet1", 1, 1, "x")]))
    assert info.value.render("zh-CN") and info.value.render("en") != info.value.render("zh-CN")
    assert _snapshot(folder) == before  # nothing written, no temp file, no backup folder
    assert not (folder / ".xlcrm-backup").exists()


def test_lock_file_refused(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "book.xlsx")
    (tmp_path / "~$book.xlsx").write_bytes(b"owner")
    _assert_refused(path)


def test_libreoffice_lock_file_refused(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "book.xlsx")
    (tmp_path / ".~lock.book.xlsx#").write_text("user,host")
    _assert_refused(path)


def test_not_a_zip_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.xlsx"
    path.write_bytes(b"this is not a workbook")
    _assert_refused(path)


def test_xls_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    _assert_refused(path)


def test_xlsb_refused(tmp_path: Path) -> None:
    path = tmp_path / "bin.xlsb"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
    _assert_refused(path)


@pytest.mark.parametrize("name", ["SampleSS.strict.xlsx", "protected_passtika.xlsx"])
def test_strict_and_encrypted_refused(name: str, tmp_path: Path) -> None:
    src = needs.excel_authored(name)
    path = tmp_path / name
    shutil.copyfile(src, path)
    _assert_refused(path)


def test_failed_edit_writes_nothing(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "book.xlsx")
    before = _snapshot(tmp_path)
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do; the point is what is left behind
        apply_plan(path, EditPlan([CellWrite("客户资料", 2, 1, "x"), CellWrite("No such sheet", 1, 1, "y")]))
    assert _snapshot(tmp_path) == before


def test_overwriting_a_shared_formula_master_unshares_its_dependents(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "f.xlsx"
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f t="shared" ref="B1:B3" si="0">A1*2</f><v>2</v></c></row>'
        '<row r="2"><c r="A2"><v>2</v></c><c r="B2"><f t="shared" si="0"/><v>4</v></c></row>'
        '<row r="3"><c r="A3"><v>3</v></c><c r="B3"><f t="shared" si="0"/><v>6</v></c></row>'
        "</sheetData></worksheet>"
    )
    _minimal_book(path, sheet)
    apply_plan(path, EditPlan([CellWrite("Sheet1", 1, 2, 5)]), backup_keep=0)
    with zipfile.ZipFile(path) as zf:
        assert "xl/calcChain.xml" not in zf.namelist()
        xml = zf.read("xl/worksheets/sheet1.xml")
    assert b'<c r="B1"><v>5</v></c>' in xml
    assert b'<c r="B2"><f>A2*2</f><v>4</v></c>' in xml and b'<c r="B3"><f>A3*2</f><v>6</v></c>' in xml
    ws = openpyxl.load_workbook(path)["Sheet1"]
    assert [ws["B1"].value, ws["B2"].value, ws["B3"].value] == [5, "=A2*2", "=A3*2"]


def test_array_formula_cells_are_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1"><f t="array" ref="A1:A2">{1;2}</f><v>1</v></c></row>'
        '<row r="2"><c r="A2"><v>2</v></c></row></sheetData></worksheet>'
    )
    _minimal_book(path, sheet)
    before = path.read_bytes()
    for row in (1, 2):
        with pytest.raises(WriteFailed):
            apply_plan(path, EditPlan([CellWrite("Sheet1", row, 1, 5)]))
    assert path.read_bytes() == before
    apply_plan(path, EditPlan([CellWrite("Sheet1", 2, 2, 5)]), backup_keep=0)  # beside it is fine


def _minimal_book(path: Path, sheet_xml: str, extra_rows_without_r: bool = False) -> None:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            (
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                '<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/>'
                "</Types>"
            ),
        )
        zf.writestr(
            "_rels/.rels",
            (
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                "</Relationships>"
            ),
        )
        zf.writestr(
            "xl/workbook.xml",
            (
                f'<workbook xmlns="{main}" xmlns:r="{rel}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
                'xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main" mc:Ignorable="x15">'
                '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
            ),
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            (
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
                f'<Relationship Id="rId2" Type="{rel}/calcChain" Target="calcChain.xml"/>'
                "</Relationships>"
            ),
        )
        zf.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        zf.writestr("xl/calcChain.xml", f'<calcChain xmlns="{main}"><c r="B1" i="1"/></calcChain>')


def test_rows_and_cells_without_r_and_prefixed_namespace(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "nor.xlsx"
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
        '<x:row><x:c t="inlineStr"><x:is><x:t>h1</x:t></x:is></x:c><x:c t="inlineStr"><x:is><x:t>h2</x:t></x:is></x:c></x:row>'
        "<x:row><x:c><x:v>1</x:v></x:c><x:c><x:v>2</x:v></x:c></x:row>"
        "<x:row><x:c><x:v>3</x:v></x:c></x:row>"
        "</x:sheetData></x:worksheet>"
    )
    _minimal_book(path, sheet)
    apply_plan(
        path,
        EditPlan([CellWrite("Sheet1", 2, 2, "new"), CellWrite("Sheet1", 3, 3, 9), CellWrite("Sheet1", 5, 1, "five")]),
        backup_keep=0,
    )
    with zipfile.ZipFile(path) as zf:
        assert b'mc:Ignorable="x15"' in zf.read("xl/workbook.xml")
    ws = openpyxl.load_workbook(path)["Sheet1"]
    assert [[c.value for c in row] for row in ws.iter_rows(min_row=1, max_row=5, max_col=3)] == [
        ["h1", "h2", None],
        [1, "new", None],
        [3, None, 9],
        [None, None, None],
        ["five", None, None],
    ]


CRASH_SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from writer_fixtures import representative_plan
from xlcrm.workbook.writer import apply_plan
apply_plan(Path(sys.argv[1]), representative_plan("客户资料", 1, [2, 3, 4]))
"""


@pytest.mark.parametrize("point", ["after_edit", "mid_write", "temp_half_written", "temp_written", "backup_made"])
def test_sigkill_leaves_original_intact(point: str, tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "book.xlsx")
    original = path.read_bytes()
    flag = tmp_path / "paused"
    env = dict(os.environ, XLCRM_WRITER_PAUSE=f"{point}:{flag}", PYTHONPATH=str(REPO))
    script = CRASH_SCRIPT.format(tests=str(REPO / "tests"))
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not flag.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert path.read_bytes() == original
    leftovers = [p.name for p in tmp_path.iterdir() if p.is_file() and p.name not in {"book.xlsx", "paused"}]
    # A temp file and the killed process's advisory lock may be left …
    assert all(".xlcrm-tmp-" in name or name == ".~xlcrm-book.xlsx.lock" for name in leftovers), leftovers
    # … the next run sees the lock is stale (its pid is gone), cleans the temp file up and succeeds.
    apply_plan(path, representative_plan("客户资料", 1, [2, 3, 4]), backup_keep=0, lock_wait=0)
    assert not [p for p in tmp_path.iterdir() if ".xlcrm-tmp-" in p.name or p.name.startswith(".~xlcrm-")]
    assert path.read_bytes() != original


def test_sigkill_after_replace_leaves_the_complete_new_file(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "book.xlsx")
    flag = tmp_path / "paused"
    env = dict(os.environ, XLCRM_WRITER_PAUSE=f"replaced:{flag}", PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", CRASH_SCRIPT.format(tests=str(REPO / "tests")), str(path)], env=env)
    deadline = time.monotonic() + 30
    while not flag.exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert any("sheet" in n for n in zf.namelist())
    import openpyxl

    assert "汇总" in openpyxl.load_workbook(path).sheetnames
