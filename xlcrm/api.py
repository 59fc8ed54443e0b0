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


# --------------------------------------------------------------------------- team mode (issue 12)

def sync(path: str | Path, *, store: str | None = None, owner: str | None = None, **kw) -> CommandResult:
    """同步 — push this workbook's changes to the team store and pull others' (conflicts → 冲突 sheet).
    `store`: the store URL (default: XLCRM_STORE, the user's config, else a local SQLite file)."""
    return run_command("sync", path, store=store, scope=owner, source="api", **kw)


def book(out: str | Path, *, owner: str | None = None, all: bool = False, store: str | None = None,  # noqa: A002
         redact: tuple[str, ...] = (), lang: str = "zh-CN", today: dt.date | None = None) -> CommandResult:
    """A salesperson's workbook with only their customers (or `all=True`: the manager's), made or refreshed."""
    from .commands.team import BookOptions, make_book

    ctx = Context(today=today or dt.date.today(), user=_user())
    return make_book(Path(out), BookOptions(store=store, owner=owner, all=all, redact=tuple(redact), lang=lang,
                                            source="api"), ctx)


def reassign(from_owner: str, to_owner: str, *, customers: tuple[str, ...] = (), store: str | None = None) -> CommandResult:
    """移交 — hand customers from one salesperson to another, recorded in the change log."""
    from .commands.team import ReassignOptions
    from .commands.team import reassign as run_reassign

    return run_reassign(ReassignOptions(from_owner, to_owner, store=store, customers=tuple(customers), source="api"),
                        Context(user=_user()))


def pool(*, store: str | None = None, days: int = 90, apply: bool = False, today: dt.date | None = None) -> CommandResult:
    """公海 — customers without a follow-up for `days` days; `apply=True` returns them to the shared pool."""
    from .commands.team import PoolOptions
    from .commands.team import pool as run_pool

    return run_pool(PoolOptions(store=store, days=days, apply=apply, source="api"),
                    Context(today=today or dt.date.today(), user=_user()))


def team_summary(*, store: str | None = None, today: dt.date | None = None, lang: str | None = None) -> CommandResult:
    """The manager's Summary over the whole team store (KPIs, by owner, markdown in `.data`)."""
    from .commands.team import store_summary

    return store_summary(store, Context(today=today or dt.date.today(), lang=lang, user=_user()))
