"""The README's Team walkthrough, exactly: start PostgreSQL with one command, three salespeople each
sync their own workbook, the manager opens the team Summary (and a salesperson's book of their own)."""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
from pathlib import Path

import pytest
from team_fixtures import customers, followups, make_book, purchases
from typer.testing import CliRunner

from xlcrm.cli import app
from xlcrm.store.engine import close_stores
from xlcrm.store.pgserver import find_bindir, stop
from xlcrm.workbook.reader import read_book

runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ok(args: list[str]):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.slow
def test_readme_team_walkthrough(tmp_path):
    if find_bindir() is None:
        pytest.skip("PostgreSQL is not installed")
    port = _free_port()
    home = Path(tempfile.mkdtemp(prefix="xlcrm-team-"))  # not below pytest's private tmp (PostgreSQL's user must reach it)
    home.chmod(0o755)
    folder = home / "xlcrm-pg"
    # 1. start PostgreSQL (one command); it prints the store URL
    started = _ok(["server", "start", str(folder), "--port", str(port)])
    url = started.output.strip().splitlines()[-1]
    assert url == f"postgresql://postgres@localhost:{port}/postgres"
    try:
        # 2. each salesperson syncs their own workbook
        sizes = {"张伟": 3, "李娜": 2, "王芳": 4}
        start = 1
        for name, n in sizes.items():
            cust = customers(name, start, n)
            book = make_book(tmp_path / f"{name}.xlsx", cust, followups(list(cust.customer_id), name),
                             purchases(list(cust.customer_id[:1])))
            out = _ok(["sync", str(book), "--store", url])
            assert "首次同步" in out.output and name in out.output
            start += 100
        # 3. the manager opens the team Summary
        summary = json.loads(_ok(["team-summary", "--store", url, "--format", "json", "--today", "2026-11-20"]).output)
        assert summary["kpis"]["customers"] == sum(sizes.values())
        assert {r["owner"]: r["customers"] for r in summary["by_owner"]} == sizes
        _ok(["book", "--all", "--store", url, str(tmp_path / "经理.xlsx")])
        _ok(["team-summary", str(tmp_path / "经理.xlsx"), "--store", url, "--today", "2026-11-20"])
        manager = read_book(tmp_path / "经理.xlsx")
        assert len(manager.customers) == 9 and "summary" in manager.tool_sheets
        # and the handover: 王芳 leaves, 李娜 takes over; the log says who changed the owner
        _ok(["reassign", "--from", "王芳", "--to", "李娜", "--store", url])
        history = json.loads(_ok(["history", "--store", url, "--field", "owner", "--format", "json"]).output)
        assert len(history) == 4 and {h["new"] for h in history} == {"李娜"}
        _ok(["sync", str(tmp_path / "李娜.xlsx"), "--store", url])
        assert len(read_book(tmp_path / "李娜.xlsx").customers) == 6
    finally:
        close_stores()
        stop(folder)
        shutil.rmtree(home, ignore_errors=True)
