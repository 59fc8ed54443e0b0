"""The `xlcrm` script ends without the interpreter's teardown (`cli_entry.exit_now`), and that
changes nothing a user or a script sees: the exit status, every line of output, the exit handlers
(workbook locks), and a thread still at work is waited for."""

from __future__ import annotations

import subprocess
import sys

import pytest

from xlcrm.workbook.lock import lock_path


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("code", "status", "err"), [
    ("None", 0, ""), ("0", 0, ""), ("3", 3, ""), ("-1", 255, ""), ("'no such book'", 1, "no such book"),
])
def test_the_status_is_what_sys_exit_would_give(code, status, err):
    out = _python(f"import sys\nprint('said')\nfrom xlcrm.cli_entry import exit_now\nexit_now({code})\n"
                  "print('never')")
    assert out.returncode == status
    assert out.stdout == "said\n"  # flushed, though stdout is a pipe (block-buffered)
    assert out.stderr.strip() == err


def test_exit_handlers_run_first():
    out = _python("import atexit\natexit.register(lambda: print('handler ran'))\n"
                  "from xlcrm.cli_entry import exit_now\nexit_now(0)")
    assert out.returncode == 0
    assert out.stdout == "handler ran\n"


def test_a_thread_still_at_work_is_waited_for():
    out = _python("import threading, time\n"
                  "t = threading.Thread(target=lambda: (time.sleep(0.3), print('thread done', flush=True)))\n"
                  "t.start()\nfrom xlcrm.cli_entry import exit_now\nexit_now(4)")
    assert out.returncode == 4
    assert out.stdout == "thread done\n"


def test_the_script_keeps_the_commands_status_and_output(sample_zh, tmp_path):
    missing = tmp_path / "missing.xlsx"
    bad = subprocess.run([sys.executable, "-m", "xlcrm", "check", str(missing)],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode not in (0, None)
    assert "missing.xlsx" in bad.stdout + bad.stderr
    run = subprocess.run([sys.executable, "-m", "xlcrm", "run", str(sample_zh), "--today", "2026-11-20"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "今日需跟进" in run.stdout
    assert not lock_path(sample_zh).exists()  # the write's lock, released
