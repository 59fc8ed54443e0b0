"""Faults: a sync killed mid-way (SIGKILL) and a store that cannot be reached.

Killed at any moment, the store holds either nothing or the whole sync (one transaction) and the
workbook is either byte-identical or fully written (atomic save); the next sync then completes without
doubling a row. An unreachable store gives a bilingual error and writes nothing anywhere.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest
from team_fixtures import customers, followups, make_book, store_rows, sync
from typer.testing import CliRunner

from xlcrm.cli import app
from xlcrm.commands.sync_base import BASE_SHEETS
from xlcrm.store import StoreUnavailable
from xlcrm.workbook.reader import read_tool_sheet

N_CUSTOMERS, N_FOLLOWUPS = 1000, 2000
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/nowhere"


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sync_process(book, store) -> subprocess.Popen:
    code = f"import xlcrm; xlcrm.sync({str(book)!r}, store={store!r})"
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_sigkill_mid_sync_leaves_store_and_workbook_consistent(tmp_path, store_url):
    cust = customers("张伟", 1, N_CUSTOMERS)
    original = make_book(tmp_path / "orig.xlsx", cust, followups(list(cust.customer_id) * 2, "张伟"))
    start = time.monotonic()
    timed = tmp_path / "timed.xlsx"
    timed.write_bytes(original.read_bytes())
    assert _sync_process(timed, str(tmp_path / "timing.sqlite")).wait(120) == 0
    full = time.monotonic() - start
    book = tmp_path / "book.xlsx"
    book.write_bytes(original.read_bytes())
    outcomes = set()
    for fraction in (0.4, 0.65, 0.85, 0.97):
        before = _digest(book)
        proc = _sync_process(book, store_url)
        time.sleep(full * fraction)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(60)
        n_c, n_f = len(store_rows(store_url, "customers")), len(store_rows(store_url, "followups"))
        assert (n_c, n_f) in ((0, 0), (N_CUSTOMERS, N_FOLLOWUPS)), "the store holds a partial sync"
        if _digest(book) == before:
            outcomes.add("untouched")
        else:  # written: fully, with the base of every row
            assert len(read_tool_sheet(book, BASE_SHEETS["customers"])) == N_CUSTOMERS
            assert len(read_tool_sheet(book, BASE_SHEETS["followups"])) == N_FOLLOWUPS
            outcomes.add("written")
        outcomes.add(f"store:{n_c}")
    final = sync(book, store_url)
    assert final.counts["conflicts"] == 0
    assert len(store_rows(store_url, "customers")) == N_CUSTOMERS
    assert len(store_rows(store_url, "followups")) == N_FOLLOWUPS
    assert sync(book, store_url).counts["pushed"] == 0  # converged
    assert "untouched" in outcomes  # at least one kill landed before the workbook was written


def test_unreachable_store_is_a_bilingual_error_and_nothing_is_written(tmp_path):
    book = make_book(tmp_path / "a.xlsx", customers("张伟", 1, 2))
    before = _digest(book)
    with pytest.raises(StoreUnavailable) as caught:
        sync(book, UNREACHABLE)
    assert "无法连接团队数据库" in caught.value.render("zh-CN") and "Cannot reach the team store" in caught.value.render("en")
    assert "nobody@127.0.0.1:1" in caught.value.render("en")
    assert _digest(book) == before
    assert not list(tmp_path.glob(".~xlcrm-*"))  # the workbook lock was released
    result = CliRunner().invoke(app, ["sync", str(book), "--store", UNREACHABLE])
    assert result.exit_code == 3
    assert "无法连接团队数据库" in result.output and "Cannot reach the team store" in result.output
    assert _digest(book) == before


def test_store_url_never_comes_from_the_workbook(tmp_path, monkeypatch):
    """The URL is --store, XLCRM_STORE or the user's own config — a received book cannot redirect it."""
    from xlcrm.store.engine import resolve_store_url

    monkeypatch.delenv("XLCRM_STORE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert resolve_store_url() == "sqlite:///" + str(tmp_path / "data" / "xlcrm" / "team.sqlite")
    (tmp_path / "cfg" / "xlcrm").mkdir(parents=True)
    (tmp_path / "cfg" / "xlcrm" / "config.toml").write_text('store = "postgresql://team@db/crm"\n', encoding="utf-8")
    assert resolve_store_url() == "postgresql+psycopg://team@db/crm"
    monkeypatch.setenv("XLCRM_STORE", str(tmp_path / "env.sqlite"))
    assert resolve_store_url().endswith("env.sqlite")
    assert resolve_store_url("postgres://x@y/z") == "postgresql+psycopg://x@y/z"
