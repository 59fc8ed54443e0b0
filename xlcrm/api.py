"""The Python API: every button as a function on a workbook file.

    import xlcrm
    result = xlcrm.run("crm.xlsx", today="2026-11-23")
    print(result.text("zh-CN"), result.counts)
"""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path

from .commands import run as run_tag
from .commands.base import CommandResult, Context
from .workbook.file_adapter import FileWorkbook


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers / services
        return ""


def run_command(tag: str, path: str | Path, *, today: dt.date | str | None = None, owner: str | None = None,
                dry_run: bool = False, lang: str | None = None, unlock_protected: bool = False,
                **options) -> CommandResult:
    """Run the command `tag` (check, regrade, due, run, …) on the workbook at `path`.

    `unlock_protected=True` writes into protected sheets / a structure-locked book (keeping the
    protection); without it such a workbook is refused.
    """
    if isinstance(today, str):
        today = dt.date.fromisoformat(today)
    ctx = Context(today=today or dt.date.today(), lang=lang, dry_run=dry_run, owner=owner, user=_user(),
                  options=options)
    with FileWorkbook(path, unlock_protected=unlock_protected) as port:
        return run_tag(tag, port, ctx)


def check(path: str | Path, **kw) -> CommandResult:
    """校验 — assign missing IDs, mark problem cells, list them on the Issues sheet."""
    return run_command("check", path, **kw)


def regrade(path: str | Path, **kw) -> CommandResult:
    """评级 — A–E grades and the computed columns, changes on the Change Log."""
    return run_command("regrade", path, **kw)


def due(path: str | Path, **kw) -> CommandResult:
    """今日跟进 — the Due Today and Stale sheets."""
    return run_command("due", path, **kw)


def run(path: str | Path, **kw) -> CommandResult:
    """全部运行 — check → regrade → due, one read and one save."""
    return run_command("run", path, **kw)


def card(path: str | Path, customer_id: str, **kw) -> CommandResult:
    """客户卡 — one customer's basic info, follow-ups, purchases and service records on the Card sheet."""
    return run_command("card", path, customer_id=customer_id, **kw)
