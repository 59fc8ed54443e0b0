"""`xlcrm.forked`: pure work in a forked child, and the parent's own computation whenever that fails.

And `run` itself: checking in a child while grading gives the very workbook an in-process run gives.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

import xlcrm
from xlcrm import forked
from xlcrm.forked import Forked
from xlcrm.workbook.grid import sheet_parts

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
                                reason="forks only on Linux with two usable cores")
PARENT = os.getpid()


@pytest.fixture
def always_fork(monkeypatch):
    monkeypatch.setenv(forked.FORK_ENV, "1")


def in_child() -> bool:
    return os.getpid() != PARENT


@linux_only
def test_the_value_is_computed_in_a_child(always_fork):
    work = Forked(os.getpid)
    assert work.forked
    assert work.result() not in (PARENT, None)
    assert not work.forked  # reaped


@linux_only
def test_a_result_bigger_than_the_pipe_comes_back_whole(always_fork):
    blob = os.urandom(3 << 20)
    assert Forked(lambda: (in_child(), blob)).result() == (True, blob)


@linux_only
def test_raw_pieces_come_back_as_one_buffer(always_fork):
    blob = os.urandom(3 << 20)
    work = Forked(lambda: [b"child" if in_child() else b"parent", blob, memoryview(blob)[:5]], raw=True)
    assert work.forked
    got = work.result()
    assert isinstance(got, bytearray) and got == b"child" + blob + blob[:5]
    assert Forked(lambda: b"", raw=True).result() == b""


@linux_only
def test_a_child_asked_to_yield_runs_nicer(always_fork):
    mine = os.nice(0)
    assert Forked(lambda: os.nice(0), nice=5).result() == min(mine + 5, 19)
    assert os.nice(0) == mine  # the parent's own is unchanged


def test_raw_in_the_parent_is_the_same_bytes(monkeypatch):
    monkeypatch.setenv(forked.FORK_ENV, "0")
    assert Forked(lambda: [b"ab", b"cd"], raw=True).result() == b"abcd"
    assert Forked(lambda: b"ab", raw=True).result() == b"ab"


@linux_only
def test_a_raw_result_of_another_length_than_announced_is_computed_again(always_fork, monkeypatch):
    real = forked.struct.pack

    def lying(fmt, *values):  # the child announces one byte less than it sends
        return real(fmt, *(v - 1 for v in values)) if in_child() else real(fmt, *values)

    monkeypatch.setattr(forked.struct, "pack", lying)
    work = Forked(lambda: [b"child" if in_child() else b"parent"], raw=True)
    assert work.forked and work.result() == b"parent"
    monkeypatch.setattr(forked.struct, "pack", lambda fmt, *values: real(fmt, *(v + 1 for v in values))
                        if in_child() else real(fmt, *values))  # one more than it sends: the stream ends early
    assert Forked(lambda: [b"child" if in_child() else b"parent"], raw=True).result() == b"parent"


def test_no_child_when_switched_off_or_too_small(monkeypatch):
    monkeypatch.setenv(forked.FORK_ENV, "0")
    work = Forked(os.getpid)
    assert not work.forked and work.result() == PARENT
    monkeypatch.delenv(forked.FORK_ENV)
    work = Forked(os.getpid, worth_it=False)
    assert not work.forked and work.result() == PARENT


def test_no_child_outside_linux(monkeypatch, always_fork):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not forked.fork_wanted(True)


def test_no_child_without_memory_to_spare(monkeypatch):
    monkeypatch.delenv(forked.FORK_ENV, raising=False)
    monkeypatch.setattr(forked, "_memory_to_spare", lambda: False)
    assert not forked.fork_wanted(True)


@linux_only
def test_an_error_is_raised_by_the_parents_own_computation(always_fork):
    calls = []

    def fails():
        calls.append(os.getpid())  # in the child this list is the child's copy
        raise ValueError("bad row")

    work = Forked(fails)
    assert work.forked
    with pytest.raises(ValueError, match="bad row"):
        work.result()
    assert calls == [PARENT]


@linux_only
@pytest.mark.parametrize("how", ["raises", "dies", "unpicklable"])
def test_a_child_that_fails_is_computed_again_by_the_parent(always_fork, how):
    def work():
        if in_child():
            if how == "raises":
                raise RuntimeError("only in the child")
            if how == "dies":
                os.kill(os.getpid(), signal.SIGKILL)
            return lambda: None  # pickle cannot send a lambda
        return "parent's own"

    assert Forked(work).result() == "parent's own"


@linux_only
def test_a_hung_child_is_killed_and_the_parent_computes(always_fork, monkeypatch):
    monkeypatch.setattr(forked, "STALL_SECONDS", 0.5)
    monkeypatch.setattr(forked, "POLL_SECONDS", 0.05)

    def hangs():
        if in_child():
            time.sleep(600)  # no CPU time: taken for a deadlock
        return "parent's own"

    work = Forked(hangs)
    pid = work.pid
    started = time.monotonic()
    assert work.result() == "parent's own"
    assert time.monotonic() - started < 10
    with pytest.raises(ChildProcessError):  # killed and reaped: no zombie left
        os.waitpid(pid, 0)


@linux_only
def test_a_busy_child_is_waited_for(always_fork, monkeypatch):
    monkeypatch.setattr(forked, "STALL_SECONDS", 0.3)
    monkeypatch.setattr(forked, "POLL_SECONDS", 0.05)

    def busy():
        end = time.monotonic() + 1.0
        n = 0
        while time.monotonic() < end:
            n += 1
        return in_child()

    assert Forked(busy).result() is True  # a second of work outlasts the stall limit, but it progresses


@linux_only
def test_close_stops_a_child_whose_result_is_not_wanted(always_fork):
    with Forked(lambda: time.sleep(600) if in_child() else None) as work:
        pid = work.pid
    assert not work.forked
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)


@linux_only
def test_the_child_runs_no_exit_handlers_and_flushes_nothing(tmp_path):
    script = textwrap.dedent("""
        import atexit, os, sys
        os.environ["XLCRM_FORK"] = "1"
        from xlcrm.forked import Forked
        atexit.register(lambda: print("exit handler", flush=True))
        print("buffered line", end="")  # still in stdout's buffer at the fork
        work = Forked(lambda: os.getpid())
        print("", work.forked, work.result() != os.getpid())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True,
                         stdin=subprocess.DEVNULL).stdout
    assert out == "buffered line True True\nexit handler\n"


# --------------------------------------------------------------------------- run


TODAY = dt.date(2026, 11, 20)


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return {name: hashlib.sha256(zf.read(name)).hexdigest() for name in zf.namelist()}


@linux_only
def test_run_with_children_writes_the_same_workbook(sample_zh, tmp_path, monkeypatch):
    here = tmp_path / "in_process.xlsx"
    here.write_bytes(sample_zh.read_bytes())
    monkeypatch.setenv(forked.FORK_ENV, "0")
    alone = xlcrm.run(here, today=TODAY)
    monkeypatch.setenv(forked.FORK_ENV, "1")
    calls = []
    real = forked.Forked.__init__

    def spy(self, *args, **kwargs):
        real(self, *args, **kwargs)
        calls.append(self.forked)

    monkeypatch.setattr(forked.Forked, "__init__", spy)
    beside = xlcrm.run(sample_zh, today=TODAY)
    assert calls == [True, True]  # the check, then the tool sheets (writer.toolahead)
    assert beside.counts == alone.counts and beside.counts["problems"] > 0
    assert beside.data["problems"] == alone.data["problems"]
    # Every part is the same but where the time of the run is written: the Change Log's time column
    # and xlcrm's own state sheets.
    timed = {part for name, _, part in sheet_parts(here) if name in ("变更记录",) or name.startswith("_xlcrm")}
    a, b = _parts(here), _parts(sample_zh)
    assert a.keys() == b.keys()
    assert {name for name in a if a[name] != b[name]} <= timed


@linux_only
def test_the_run_lets_the_typed_text_go_once_the_check_has_it(sample_zh, tmp_path, monkeypatch):
    """Only the check reads `raw`: once a child checks, the parent clears it before grading; a child
    that fails then has the parent read the text again, and the problems are the same."""
    from xlcrm.commands import daily
    from xlcrm.workbook.file_adapter import FileWorkbook

    alone = tmp_path / "alone.xlsx"
    alone.write_bytes(sample_zh.read_bytes())
    monkeypatch.setenv(forked.FORK_ENV, "0")
    expected = xlcrm.run(alone, today=TODAY)

    monkeypatch.setenv(forked.FORK_ENV, "1")
    parent = os.getpid()
    real_find, real_read = daily.find_problems, FileWorkbook.read
    seen_raw, reads = [], []

    def find_problems(book, today):
        if os.getpid() != parent:  # the child fails: the parent computes the problems itself
            raise RuntimeError("child failed")
        seen_raw.append(sorted(book.raw))
        return real_find(book, today)

    def read(self, *args, **kwargs):
        book = real_read(self, *args, **kwargs)
        reads.append(book.raw)
        return book

    monkeypatch.setattr(daily, "find_problems", find_problems)
    monkeypatch.setattr(FileWorkbook, "read", read)
    beside = xlcrm.run(sample_zh, today=TODAY)
    assert len(reads) == 2 and reads[0] == {}  # the first read's text was let go, then read again
    assert seen_raw == [sorted(reads[1])] and "customers" in reads[1]
    assert beside.counts == expected.counts and beside.data["problems"] == expected.data["problems"]
