"""Files and concurrency: lost updates, the advisory lock, protection, symlinks, read-only files,
folders named like workbooks, backups that are never partial and a full disk."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from disk_full import FillingFile, enospc
from typer.testing import CliRunner
from writer_fixtures import build_plain_xlsx, claim_sheets

import xlcrm.api as api
from xlcrm.cli import app
from xlcrm.commands.base import Context
from xlcrm.commands.daily import plan_regrade
from xlcrm.errors import FileRefused, WriteFailed
from xlcrm.ooxml.package import Package
from xlcrm.procs import host_name, pid_alive
from xlcrm.workbook import guard, lock
from xlcrm.workbook.edits import AppendRows, Block, CellWrite, DeleteRows, EditPlan, SheetReplace
from xlcrm.workbook.file_adapter import FileWorkbook
from xlcrm.workbook.reader import read_book
from xlcrm.workbook.writer import apply_plan
from xlcrm.workbook.writer import save as save_module
from xlcrm.workbook.writer.sheets import Workbook

REPO = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 20)
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes and symlinks")


def _both(exc: Exception) -> str:
    return exc.render("zh-CN") + "\n" + exc.render("en")


def _leftovers(folder: Path) -> list[str]:
    """Temp files, stale locks or partial backups anywhere under `folder`."""
    return [p.name for p in folder.rglob("*") if ".xlcrm-tmp-" in p.name or p.name.startswith(".~xlcrm-")]


def _rewrite(path: Path, change) -> None:
    """Rebuild a test file's zip with `change(name, data) -> data` applied (test fixtures only)."""
    with zipfile.ZipFile(path) as zf:
        items = [(info, zf.read(info.filename)) for info in zf.infolist()]
    tmp = path.with_suffix(".rebuilt")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in items:
            out.writestr(info, change(info.filename, data))
    os.replace(tmp, path)


def _sheet_part(path: Path, name: str) -> str:
    return Workbook(Package(path.read_bytes())).require(name).part


def protect_sheet(path: Path, name: str) -> None:
    """What Review → Protect Sheet stores: `<sheetProtection sheet="1" …/>` right after sheetData."""
    part = _sheet_part(path, name)

    def change(member: str, data: bytes) -> bytes:
        if member != part:
            return data
        data = re.sub(rb"<sheetData\s*/>", b"<sheetData></sheetData>", data)
        return data.replace(b"</sheetData>", b'</sheetData><sheetProtection sheet="1" objects="1" scenarios="1"/>', 1)

    _rewrite(path, change)


def lock_structure(path: Path) -> None:
    """What Review → Protect Workbook (structure) stores in workbook.xml."""

    def change(member: str, data: bytes) -> bytes:
        if member != "xl/workbook.xml":
            return data
        return re.sub(rb"(<workbookPr\b[^>]*/>)", rb'\1<workbookProtection lockStructure="1"/>', data, count=1)

    _rewrite(path, change)


# --------------------------------------------------------------------------- 5. lost update


def test_a_file_saved_in_between_is_not_written_lost_update(sample_zh: Path, tmp_path: Path) -> None:
    """Read → the user saves in Excel (rows deleted) → apply the plan made on the old rows: refused."""
    port = FileWorkbook(sample_zh, backup_dir=tmp_path / "bak")
    planned = plan_regrade(port.read(), Context(today=TODAY))
    assert planned.plan
    # Excel saves to a new file and renames it over the workbook (a new inode, new bytes).
    other = tmp_path / "elsewhere" / sample_zh.name
    other.parent.mkdir()
    shutil.copyfile(sample_zh, other)
    apply_plan(other, EditPlan([DeleteRows("客户资料", [3, 4, 5])]), backup_keep=0)
    os.replace(other, sample_zh)
    saved = sample_zh.read_bytes()
    with pytest.raises(FileRefused) as info:
        port.apply(planned.plan)
    assert "其他程序修改" in _both(info.value) and "changed by another program" in _both(info.value)
    assert sample_zh.read_bytes() == saved  # the user's save survives, untouched
    assert not (tmp_path / "bak").exists() and not _leftovers(tmp_path)
    # Read again, and the same command writes the right rows.
    port = FileWorkbook(sample_zh, backup_dir=tmp_path / "bak")
    port.apply(plan_regrade(port.read(), Context(today=TODAY)).plan)
    assert sample_zh.read_bytes() != saved


def test_a_same_size_same_mtime_change_is_caught_by_the_hash(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "book.xlsx")
    port = FileWorkbook(path)
    port.read()
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[40] ^= 0xFF  # inside the first member's bytes, same size
    with open(path, "r+b") as fh:  # in place: same inode
        fh.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns, path.stat().st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)
    with pytest.raises(FileRefused):
        port.apply(EditPlan([CellWrite("客户资料", 2, 5, "x")]))
    assert path.read_bytes() == bytes(data)


def test_two_adapters_in_one_process_cannot_overwrite_each_other(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "book.xlsx")
    first, second = FileWorkbook(path), FileWorkbook(path)
    first.read()
    second.read()
    second.apply(EditPlan([CellWrite("客户资料", 2, 5, "second")]))
    written = path.read_bytes()
    with pytest.raises(FileRefused):
        first.apply(EditPlan([CellWrite("客户资料", 2, 5, "first")]))
    assert path.read_bytes() == written
    assert openpyxl.load_workbook(path)["客户资料"]["E2"].value == "second"


def test_the_api_writes_without_a_prior_read(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "book.xlsx")
    FileWorkbook(path).apply(EditPlan([CellWrite("客户资料", 2, 5, "direct")]))
    apply_plan(path, EditPlan([CellWrite("客户资料", 3, 5, "writer")]), backup_keep=0)
    ws = openpyxl.load_workbook(path)["客户资料"]
    assert (ws["E2"].value, ws["E3"].value) == ("direct", "writer")
    assert not _leftovers(tmp_path)


def test_the_lock_spans_read_to_write_and_is_released(sample_zh: Path) -> None:
    lock_file = lock.lock_path(sample_zh)
    port = FileWorkbook(sample_zh)
    port.read()
    port.read()  # reading again keeps the one lock (re-entrant), not a second
    holder = json.loads(lock_file.read_text(encoding="utf-8"))
    assert holder["pid"] == os.getpid() and holder["host"] == host_name()
    port.apply(plan_regrade(read_book(sample_zh), Context(today=TODAY)).plan)
    assert not lock_file.exists()
    # A command that reads and writes nothing (dry run) releases it too.
    api.regrade(sample_zh, today=TODAY, dry_run=True)
    assert not lock_file.exists()


HOLD_SCRIPT = """
import sys, time
from pathlib import Path
from xlcrm.workbook.lock import WorkbookLock
with WorkbookLock(Path(sys.argv[1]), wait=0):
    Path(sys.argv[2]).write_text("held")
    time.sleep(float(sys.argv[3]))
"""


def _hold(path: Path, flag: Path, seconds: float) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", HOLD_SCRIPT, str(path), str(flag), str(seconds)], env=env)
    deadline = time.monotonic() + 30
    while not flag.exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    return proc


def test_a_second_process_is_refused_while_the_lock_is_held_then_a_dead_holder_is_stale(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "book.xlsx")
    before = path.read_bytes()
    proc = _hold(path, tmp_path / "held", 600)
    try:
        with pytest.raises(FileRefused) as info:
            FileWorkbook(path, lock_wait=0.3).read()
        text = _both(info.value)
        assert str(proc.pid) in text and "另一个 xlcrm" in text and "another xlcrm" in text
        with pytest.raises(FileRefused):
            apply_plan(path, EditPlan([CellWrite("客户资料", 2, 5, "x")]), lock_wait=0)
        assert path.read_bytes() == before
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert lock.lock_path(path).exists() and not pid_alive(proc.pid)  # killed: its lock is left, stale
    port = FileWorkbook(path, lock_wait=0)
    port.read()
    port.apply(EditPlan([CellWrite("客户资料", 2, 5, "after")]))
    assert openpyxl.load_workbook(path)["客户资料"]["E2"].value == "after"
    assert not lock.lock_path(path).exists()


def test_a_second_process_waits_for_a_short_lock(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "book.xlsx")
    proc = _hold(path, tmp_path / "held", 0.5)
    try:
        apply_plan(path, EditPlan([CellWrite("客户资料", 2, 5, "waited")]), backup_keep=0, lock_wait=30)
    finally:
        proc.wait()
    assert openpyxl.load_workbook(path)["客户资料"]["E2"].value == "waited"


def test_two_xlcrm_processes_serialise(sample_zh: Path, tmp_path: Path) -> None:
    """One `xlcrm regrade` paused mid-write holds the lock; a second one is refused, not interleaved."""
    flag = tmp_path / "paused"
    env = dict(os.environ, PYTHONPATH=str(REPO), XLCRM_WRITER_PAUSE=f"after_edit:{flag}")
    cmd = [sys.executable, "-m", "xlcrm.cli", "regrade", str(sample_zh), "--today", TODAY.isoformat()]
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert first.poll() is None, first.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        env2 = dict(os.environ, PYTHONPATH=str(REPO), XLCRM_LOCK_WAIT="0.2")
        second = subprocess.run(cmd, env=env2, capture_output=True, text=True, timeout=120)
        assert second.returncode == 3, second.stderr
        assert "另一个 xlcrm" in second.stderr and "another xlcrm" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()


def test_a_lock_from_another_machine_is_respected(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "book.xlsx")
    lock.lock_path(path).write_text(json.dumps({"pid": 4242, "host": "other-pc", "time": "2026-11-20T09:00:00"}))
    with pytest.raises(FileRefused) as info:
        apply_plan(path, EditPlan([CellWrite("客户资料", 2, 5, "x")]), lock_wait=0)
    assert "other-pc" in _both(info.value) and str(lock.lock_path(path)) in _both(info.value)


# --------------------------------------------------------------------------- 6. protection


def test_a_protected_user_sheet_is_refused_by_name_unless_unlocked(sample_zh: Path) -> None:
    protect_sheet(sample_zh, "客户资料")
    before = sample_zh.read_bytes()
    with pytest.raises(FileRefused) as info:
        api.regrade(sample_zh, today=TODAY)
    assert "工作表“客户资料”" in info.value.render("zh-CN") and "sheet '客户资料'" in info.value.render("en")
    assert "--unlock-protected" in _both(info.value)
    assert sample_zh.read_bytes() == before
    result = api.regrade(sample_zh, today=TODAY, unlock_protected=True)
    assert result.written
    ws = openpyxl.load_workbook(sample_zh)["客户资料"]
    assert ws.protection.sheet  # written, and still protected
    with zipfile.ZipFile(sample_zh) as zf:
        assert zf.read(_sheet_part(sample_zh, "客户资料")).count(b"<sheetProtection") == 1


def test_the_cli_option_unlocks(sample_zh: Path) -> None:
    protect_sheet(sample_zh, "客户资料")
    refused = CliRunner().invoke(app, ["check", str(sample_zh), "--today", TODAY.isoformat()])
    assert refused.exit_code == FileRefused.exit_code and "客户资料" in refused.output
    written = CliRunner().invoke(app, ["check", str(sample_zh), "--today", TODAY.isoformat(), "--unlock-protected"])
    assert written.exit_code == 0, written.output
    assert openpyxl.load_workbook(sample_zh)["客户资料"].protection.sheet


def test_the_settings_switch_unlocks(sample_zh: Path, tmp_path: Path) -> None:
    protect_sheet(sample_zh, "客户资料")
    with pytest.raises(FileRefused):
        api.regrade(sample_zh, today=TODAY)
    # The Settings sheet is a key/value table: the switch goes below the rows already there.
    apply_plan(sample_zh, EditPlan([AppendRows("设置", _setting_row(sample_zh, "设置"))]), backup_keep=0)
    assert read_book(sample_zh).settings.write_protected is True
    assert api.regrade(sample_zh, today=TODAY).written


def _setting_row(path: Path, sheet: str) -> pd.DataFrame:
    ws = openpyxl.load_workbook(path)[sheet]
    headers = [c.value for c in ws[1]]
    row = {h: None for h in headers}
    row[headers[0]], row[headers[1]] = "write_protected", "是"
    return pd.DataFrame([row])


def test_a_protected_tool_sheet_keeps_its_protection_when_regenerated(tmp_path: Path) -> None:
    path = tmp_path / "tool.xlsx"
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    wb.add_worksheet("客户资料").write_row(0, 0, ["客户编号", "公司名称"])
    ws = wb.add_worksheet("汇总")
    ws.write(0, 0, "old")
    ws.protect()
    wb.close()
    claim_sheets(path, ["汇总"])  # made by an earlier xlcrm run, then protected by the user
    plan = EditPlan([SheetReplace("汇总", [Block(pd.DataFrame({"等级": ["A"], "数": [1]}))])])
    with pytest.raises(FileRefused) as info:
        apply_plan(path, plan, backup_keep=0)
    assert "汇总" in _both(info.value)
    apply_plan(path, plan, backup_keep=0, unlock_protected=True)
    out = openpyxl.load_workbook(path)["汇总"]
    assert out["A1"].value == "等级" and out.protection.sheet
    with zipfile.ZipFile(path) as zf:
        xml = zf.read(_sheet_part(path, "汇总"))
    assert xml.index(b"</sheetData><sheetProtection") < xml.index(b"<pageMargins")


def test_a_structure_locked_book_gets_no_new_sheet_silently(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "book.xlsx")
    lock_structure(path)
    cell = EditPlan([CellWrite("客户资料", 2, 5, "fine")])
    apply_plan(path, cell, backup_keep=0)  # cells of an unprotected sheet: allowed
    assert openpyxl.load_workbook(path)["客户资料"]["E2"].value == "fine"
    before = path.read_bytes()
    new_sheet = EditPlan([SheetReplace("今日跟进", [Block(pd.DataFrame({"a": [1]}))])])
    with pytest.raises(FileRefused) as info:
        apply_plan(path, new_sheet, backup_keep=0)
    assert "今日跟进" in _both(info.value) and "Protect Workbook" in _both(info.value)
    assert path.read_bytes() == before
    apply_plan(path, new_sheet, backup_keep=0, unlock_protected=True)
    with zipfile.ZipFile(path) as zf:
        assert b'<workbookProtection lockStructure="1"/>' in zf.read("xl/workbook.xml")
    assert "今日跟进" in openpyxl.load_workbook(path).sheetnames


def test_an_unprotected_sheet_with_remembered_options_is_written(excel_authored: Path, tmp_path: Path) -> None:
    """Excel keeps `<sheetProtection formatCells="0" …/>` without sheet="1" after unprotecting."""
    path = tmp_path / "62629_target.xlsm"
    shutil.copyfile(excel_authored / path.name, path)
    part = _sheet_part(path, "Report")
    with zipfile.ZipFile(path) as zf:
        assert b"<sheetProtection" in zf.read(part) and b'sheet="1"' not in zf.read(part)
    apply_plan(path, EditPlan([CellWrite("Report", 1, 30, "xlcrm")]), backup_keep=0)
    assert openpyxl.load_workbook(path)["Report"].cell(1, 30).value == "xlcrm"


# --------------------------------------------------------------------------- 7. symlinks, read-only, folders


@posix_only
def test_a_symlink_is_written_through_to_its_target(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = build_plain_xlsx(tmp_path / "real" / "book.xlsx")
    link = tmp_path / "links" / "crm.xlsx"
    link.parent.mkdir()
    link.symlink_to(real)
    port = FileWorkbook(link)
    port.read()
    port.apply(EditPlan([CellWrite("客户资料", 2, 5, "through")]))
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert openpyxl.load_workbook(real)["客户资料"]["E2"].value == "through"
    assert [p.parent for p in (tmp_path / "real").rglob("book.*.xlsx")] == [tmp_path / "real" / ".xlcrm-backup"]
    assert not (tmp_path / "links" / ".xlcrm-backup").exists() and not _leftovers(tmp_path)


@posix_only
def test_read_only_files_and_folders_are_refused_by_mode_bits(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "book.xlsx")
    before = path.read_bytes()
    plan = EditPlan([CellWrite("客户资料", 2, 5, "x")])
    path.chmod(0o444)  # even as root, who passes os.access
    try:
        with pytest.raises(FileRefused) as info:
            apply_plan(path, plan)
        assert "只读" in _both(info.value) and "read-only" in _both(info.value)
    finally:
        path.chmod(0o644)
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(FileRefused):
            apply_plan(path, plan)
        assert read_book(path).sheet_names  # reading still works (no lock file can be made here)
    finally:
        tmp_path.chmod(0o755)
    assert path.read_bytes() == before and not _leftovers(tmp_path)


def test_a_folder_named_like_a_workbook_is_a_clean_error(tmp_path: Path) -> None:
    folder = tmp_path / "x.xlsx"
    folder.mkdir()
    for attempt in (lambda: read_book(folder), lambda: apply_plan(folder, EditPlan([CellWrite("A", 1, 1, 1)]))):
        with pytest.raises(FileRefused) as info:
            attempt()
        assert "文件夹" in _both(info.value) and "folder" in _both(info.value)
    result = CliRunner().invoke(app, ["check", str(folder)])
    assert result.exit_code == 3 and not isinstance(result.exception, IsADirectoryError)
    assert "folder" in result.output


# --------------------------------------------------------------------------- 8. backups and a full disk


def _half_open(path, mode="r", *args, **kwargs):
    fh = open(path, mode, *args, **kwargs)
    return FillingFile(fh) if "w" in mode else fh


@pytest.mark.parametrize("point", ["temp_write", "temp_fsync", "backup_copy", "backup_rename", "replace", "lock"])
def test_a_full_disk_anywhere_leaves_the_original_and_no_partial_files(point: str, sample_zh: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    folder = sample_zh.parent
    backup_dir = folder / ".xlcrm-backup"
    api.check(sample_zh, today=TODAY)  # one good backup exists already
    before = sample_zh.read_bytes()
    backups = sorted(p.name for p in backup_dir.iterdir())
    real_replace, real_open = os.replace, os.open
    if point == "temp_write":
        monkeypatch.setattr(save_module, "open", _half_open, raising=False)
    elif point == "temp_fsync":
        monkeypatch.setattr(save_module.os, "fsync", enospc)
    if point.startswith("backup_"):  # a folder without hard links: the backup is a copy
        monkeypatch.setattr(save_module.os, "link", _no_links)
    if point == "backup_copy":
        monkeypatch.setattr(save_module.shutil, "copyfileobj", lambda src, dst, n: (dst.write(src.read(100)),
                                                                                  enospc()))
    if point in {"backup_rename", "replace"}:
        target = ".xlcrm-backup" if point == "backup_rename" else sample_zh.name

        def replace(src, dst):
            if Path(dst).parent.name == target or Path(dst).name == target:
                enospc()
            return real_replace(src, dst)

        monkeypatch.setattr(save_module.os, "replace", replace)
    if point == "lock":  # the lock file is created (a free inode) but its first write finds no space
        lock_fds, real_write = set(), os.write

        def open_(p, flags, mode=0o777, **kw):
            fd = real_open(p, flags, mode, **kw)
            if Path(p).name.startswith(lock.LOCK_PREFIX):
                lock_fds.add(fd)
            return fd

        def write(fd, data):
            return enospc() if fd in lock_fds else real_write(fd, data)

        monkeypatch.setattr(lock.os, "open", open_)
        monkeypatch.setattr(lock.os, "write", write)
    with pytest.raises(WriteFailed) as info:
        api.regrade(sample_zh, today=TODAY)
    monkeypatch.undo()
    text = _both(info.value)
    assert "磁盘已满" in text and "disk is full" in text and "untouched" in text
    assert sample_zh.read_bytes() == before
    assert sorted(p.name for p in backup_dir.iterdir()) == backups  # no partial backup
    assert not _leftovers(folder)


def _no_links(src, dst, *a, **kw):
    raise PermissionError(1, "Operation not permitted")


def test_the_cli_reports_a_full_disk_without_a_traceback(sample_zh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(save_module.os, "link", _no_links)
    monkeypatch.setattr(save_module.shutil, "copyfileobj", lambda *a: enospc())
    before = sample_zh.read_bytes()
    result = CliRunner().invoke(app, ["regrade", str(sample_zh), "--today", TODAY.isoformat()])
    assert result.exit_code == WriteFailed.exit_code
    assert not isinstance(result.exception, OSError)
    assert sample_zh.read_bytes() == before


def test_backups_are_complete_copies(sample_zh: Path) -> None:
    before = sample_zh.read_bytes()
    result = FileWorkbook(sample_zh)
    result.read()
    result.apply(plan_regrade(read_book(sample_zh), Context(today=TODAY)).plan)
    backup = result.last_write.backup
    assert backup is not None and backup.read_bytes() == before
    assert not _leftovers(sample_zh.parent)
    # The backup is the old file under a second name (no copy), never the file now in its place.
    assert backup.stat().st_ino != sample_zh.stat().st_ino and backup.stat().st_nlink == 1


def test_where_hard_links_fail_the_backup_is_a_copy(sample_zh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(save_module.os, "link", _no_links)
    before = sample_zh.read_bytes()
    api.regrade(sample_zh, today=TODAY)
    monkeypatch.undo()
    backups = sorted((sample_zh.parent / ".xlcrm-backup").iterdir())
    assert backups[-1].read_bytes() == before and not _leftovers(sample_zh.parent)


def test_guard_fingerprint_matches_the_bytes(tmp_path: Path) -> None:
    path = build_plain_xlsx(tmp_path / "book.xlsx")
    assert guard.Fingerprint.of(path) == guard.Fingerprint.of(path, path.read_bytes())
