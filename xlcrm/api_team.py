"""The team store's Python functions: the ones that work on the store rather than on one workbook.

`xlcrm.sync(path, …)` and `xlcrm.handover(path, …)` are registry commands (see `xlcrm.api`); these four
take no workbook to read (`book` makes one). Each change lands in the store's change log with source "api".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .commands.base import CommandResult, Context
from .procs import os_user


def book(out: str | Path, *, owner: str | None = None, all: bool = False, store: str | None = None,  # noqa: A002
         redact: tuple[str, ...] = (), lang: str = "zh-CN", today: dt.date | None = None) -> CommandResult:
    """A salesperson's workbook with only their customers (or `all=True`: the manager's), made or refreshed."""
    from .commands.team import BookOptions, make_book

    ctx = Context(today=today or dt.date.today(), user=os_user(), via="api")
    return make_book(Path(out), BookOptions(store=store, owner=owner, all=all, redact=tuple(redact), lang=lang,
                                            source="api"), ctx)


def reassign(from_owner: str, to_owner: str, *, customers: tuple[str, ...] = (),
             store: str | None = None) -> CommandResult:
    """移交 — hand customers from one salesperson to another (all of them, or `customers`), in the change log."""
    from .commands.team import ReassignOptions
    from .commands.team import reassign as run_reassign

    return run_reassign(ReassignOptions(from_owner, to_owner, store=store, customers=tuple(customers), source="api"),
                        Context(user=os_user(), via="api"))


def pool(*, store: str | None = None, days: int = 90, apply: bool = False,
         today: dt.date | None = None) -> CommandResult:
    """公海 — customers without a follow-up for `days` days; `apply=True` returns them to the shared pool."""
    from .commands.team import PoolOptions
    from .commands.team import pool as run_pool

    return run_pool(PoolOptions(store=store, days=days, apply=apply, source="api"),
                    Context(today=today or dt.date.today(), user=os_user(), via="api"))


def team_summary(*, store: str | None = None, today: dt.date | None = None, lang: str | None = None) -> CommandResult:
    """The manager's Summary over the whole team store (KPIs, by owner, markdown in `.data`)."""
    from .commands.team import store_summary

    return store_summary(store, Context(today=today or dt.date.today(), lang=lang, user=os_user(), via="api"))


TEAM_FUNCTIONS = {"book": book, "reassign": reassign, "pool": pool, "team_summary": team_summary}
