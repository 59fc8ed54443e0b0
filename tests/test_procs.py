"""pid_alive: one liveness check for the click lock and the writer's temp cleanup, safe on Windows;
drop_pages: a big buffer's pages handed back behind the writer."""

from __future__ import annotations

import mmap
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xlcrm import addin, procs
from xlcrm.procs import drop_pages
from xlcrm.workbook.writer import save


def test_posix_alive_for_self_and_a_running_child_dead_after_it_exits() -> None:
    assert procs.pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert procs.pid_alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not procs.pid_alive(child.pid)  # reaped: the id is free again
    assert not procs.pid_alive(0) and not procs.pid_alive(-5)


def test_posix_eperm_means_alive(monkeypatch) -> None:
    def kill(pid: int, sig: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(procs.os, "kill", kill)
    assert procs._pid_alive_posix(12345)


class FakeKernel32:
    """OpenProcess / GetExitCodeProcess / CloseHandle over a table pid → exit code (None: denied)."""

    def __init__(self, table: dict[int, int | None]):
        self.table, self.error, self.closed = table, 0, []

    def OpenProcess(self, access: int, inherit: bool, pid: int) -> int:  # noqa: N802 (Win32 names)
        assert access == procs._PROCESS_QUERY_LIMITED_INFORMATION
        if pid not in self.table:
            self.error = 87  # ERROR_INVALID_PARAMETER: no such process
            return 0
        if self.table[pid] is None:
            self.error = procs._ERROR_ACCESS_DENIED
            return 0
        return 1000 + pid

    def GetExitCodeProcess(self, handle: int, code_ref) -> int:  # noqa: N802
        code_ref._obj.value = self.table[handle - 1000]
        return 1

    def CloseHandle(self, handle: int) -> int:  # noqa: N802
        self.closed.append(handle)
        return 1


@pytest.mark.parametrize("pid, alive", [(10, True), (11, False), (12, True), (13, False)])
def test_windows_check_asks_for_the_exit_code(pid: int, alive: bool) -> None:
    k32 = FakeKernel32({10: procs._STILL_ACTIVE, 11: 0, 12: None})
    assert procs._pid_alive_windows(pid, k32, lambda: k32.error) is alive
    assert k32.closed == ([1000 + pid] if pid in (10, 11) else [])


@pytest.fixture
def windows(monkeypatch):
    """Pretend to be Windows: os.kill must never be called; pid 4242 is alive, others are gone."""
    def no_kill(pid: int, sig: int) -> None:
        raise AssertionError("os.kill(pid, 0) sends CTRL_C_EVENT on Windows")

    k32 = FakeKernel32({4242: procs._STILL_ACTIVE, 4343: 1})
    monkeypatch.setattr(procs.sys, "platform", "win32")
    monkeypatch.setattr(procs.os, "kill", no_kill)
    real = procs._pid_alive_windows
    monkeypatch.setattr(procs, "_pid_alive_windows", lambda pid: real(pid, k32, lambda: k32.error))
    return k32


def test_click_lock_uses_the_windows_check(windows, tmp_path: Path) -> None:
    lock = addin.RunLock("book", tmp_path)
    lock.path.write_text(f"4242 {time.time():.0f}\n")  # a live run: refused
    assert not lock.acquire()
    lock.path.write_text(f"4343 {time.time():.0f}\n")  # that run died: taken over
    assert lock.acquire()
    lock.release()


def test_temp_cleanup_uses_the_windows_check(windows, tmp_path: Path) -> None:
    book = tmp_path / "crm.xlsx"
    book.write_bytes(b"x")
    live = tmp_path / f".crm.xlsx{save.TEMP_MARK}4242"
    dead = tmp_path / f".crm.xlsx{save.TEMP_MARK}4343"
    live.write_bytes(b"half")
    dead.write_bytes(b"half")
    assert save.clean_stale_temps(book) == [dead]
    assert live.exists() and not dead.exists()



def _resident_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * mmap.PAGESIZE


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise through glibc")
def test_drop_pages_hands_back_the_whole_pages_of_a_stretch_and_says_where_they_end() -> None:
    buf = bytes(range(256)) * (1 << 18)  # 64 MB, every page touched; byte i is i % 256
    before = _resident_bytes()
    start, stop = 1000, len(buf) - 1000
    end = drop_pages(buf, start, stop)
    assert stop - mmap.PAGESIZE < end <= stop
    assert before - _resident_bytes() > 60 << 20  # the pages went back to the OS
    # What lies outside the dropped pages keeps its bytes: before `start`, up to the first whole page,
    # and from `end` on.
    kept = [*range(0, start), *range(end, len(buf))]
    assert all(buf[i] == i % 256 for i in kept)
    assert drop_pages(buf, 10, 20) == 10  # less than a page: nothing
    assert drop_pages(bytearray(1 << 20), 0, 1 << 20) == 0  # only `bytes`
    assert drop_pages(buf, 50, 40) == 50
