"""The team commands on the command line that work on the store, not on one book: book, reassign, pool,
history, server, team-summary (`sync` and `handover` are registry commands, made like every other).

Kept apart from cli.py (which calls `register(app)` once): parse options, build the command's frozen
options, run it, print the result in both languages like every other command.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .cli_commands import DryRunOpt, FormatOpt, LangOpt, TodayOpt, UnlockOpt
from .cli_text import XlcrmCommand, XlcrmGroup, console, err_console, fail
from .commands.sync import split_fields
from .errors import XlcrmError
from .procs import os_user

StoreOpt = typer.Option(None, "--store", metavar="URL",
                        help="团队库地址（默认：XLCRM_STORE 或用户配置，否则本机 SQLite 文件）/ Team store URL "
                             "(default: XLCRM_STORE or your config, else a local SQLite file)")


def register(app: typer.Typer) -> None:
    def context(today: str | None = None, lang: str | None = None, dry_run: bool = False):
        from .api import parse_today
        from .commands.base import Context

        return Context(today=parse_today(today), lang=lang, dry_run=dry_run, user=os_user(), via="cli")

    def show(result, lang: str | None, output: str) -> None:
        if output == "json":
            print(json.dumps({"command": result.command, "written": result.written, "counts": result.counts,
                              **result.data}, ensure_ascii=False, indent=2, default=str))
        elif output == "md" and result.data.get("markdown"):
            print(result.data["markdown"])
        else:
            console.print(f"[green]✓[/] {result.text(lang or 'zh-CN')}", highlight=False, soft_wrap=True)

    @app.command("book", cls=XlcrmCommand)
    def book_cmd(out: Path = typer.Argument(..., metavar="OUT.xlsx", help="生成或刷新的工作簿 / Book to make or refresh"),
                 owner: str | None = typer.Option(None, "--owner", metavar="NAME", help="负责人 / Salesperson"),
                 all_: bool = typer.Option(False, "--all", help="经理的全员工作簿 / The manager's book (everyone)"),
                 store: str | None = StoreOpt,
                 redact: str | None = typer.Option(None, "--redact", metavar="FIELDS",
                                                   help="不放进工作簿的列，如 mobile,email / Columns left out"),
                 lang: str | None = LangOpt, output: str = FormatOpt("text", "json")) -> None:
        """每位销售一本工作簿：只含自己的客户及其跟进、购买记录 / A salesperson's book with only their customers."""
        from .commands.team import BookOptions, make_book

        try:
            result = make_book(out, BookOptions(store=store, owner=owner, all=all_, redact=split_fields(redact),
                                                lang=lang or "zh-CN"), context(lang=lang))
        except XlcrmError as exc:
            fail(exc, lang)
            return
        show(result, lang, output)

    @app.command("reassign", cls=XlcrmCommand)
    def reassign_cmd(from_owner: str = typer.Option(..., "--from", metavar="NAME", help="原负责人 / From"),
                     to_owner: str = typer.Option(..., "--to", metavar="NAME", help="接替者 / To"),
                     customers: str | None = typer.Option(None, "--customers", metavar="IDS",
                                                          help="只移交这些客户编号 / Only these customer IDs"),
                     store: str | None = StoreOpt, lang: str | None = LangOpt,
                     output: str = FormatOpt("text", "json")) -> None:
        """移交客户（离职交接）：负责人改为接替者，记入变更日志 / Hand customers over to another salesperson."""
        from .commands.team import ReassignOptions, reassign

        try:
            result = reassign(ReassignOptions(from_owner, to_owner, store=store, customers=split_fields(customers)),
                              context(lang=lang))
        except XlcrmError as exc:
            fail(exc, lang)
            return
        show(result, lang, output)

    @app.command("pool", cls=XlcrmCommand)
    def pool_cmd(store: str | None = StoreOpt,
                 days: int = typer.Option(90, "--days", help="超过 N 天未跟进（设置：久未跟进天数）/ No follow-up for N days"),
                 apply: bool = typer.Option(False, "--apply", help="退回公海 / Return them to the shared pool"),
                 owner: str | None = typer.Option(None, "--owner", metavar="NAME", help="只处理这位负责人 / Only this salesperson"), today: str | None = TodayOpt, lang: str | None = LangOpt,
                 output: str = FormatOpt("text", "json")) -> None:
        """公海：列出久未跟进的客户，--apply 退回公海 / Customers nobody followed up for N days; --apply pools them."""
        from .commands.team import PoolOptions, pool

        try:
            result = pool(PoolOptions(store=store, days=days, apply=apply, owner=owner), context(today, lang))
        except XlcrmError as exc:
            fail(exc, lang)
            return
        show(result, lang, output)
        if output == "text":
            for r in result.data["customers"][:30]:
                console.print(f"  • {r['customer_id']} {r['company'] or ''} — {r['owner'] or '—'}, "
                                  f"{r['last_follow_up'] or '—'}", highlight=False)

    @app.command("history", cls=XlcrmCommand)
    def history_cmd(customer: str | None = typer.Option(None, "--customer", metavar="ID", help="客户编号 / Customer ID"),
                    field: str | None = typer.Option(None, "--field", metavar="KEY", help="字段，如 owner / Field"),
                    store: str | None = StoreOpt, output: str = FormatOpt("text", "json")) -> None:
        """变更日志：谁在何时改了什么（如客户的负责人）/ The store's change log: who changed what, when."""
        from .store import open_store
        from .store.repository import Repository

        try:
            with open_store(store).connect() as conn:
                rows = Repository(conn, "", "cli").history(customer, field)
        except XlcrmError as exc:
            fail(exc, None)
            return
        if output == "json":
            print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
            return
        for r in rows:
            console.print(f"{r['at']:%Y-%m-%d %H:%M} {r['who']} ({r['source']}) {r['entity']} "
                              f"{r['customer_id'] or r['uid']} {r['field']}: {r['old']} → {r['new']}", highlight=False)

    server_app = typer.Typer(no_args_is_help=True, cls=XlcrmGroup,
                             help="团队库服务器（PostgreSQL）/ The team store server (PostgreSQL).")
    app.add_typer(server_app, name="server")

    @server_app.command("start", cls=XlcrmCommand)
    def server_start_cmd(folder: Path = typer.Argument(..., metavar="DIR", help="数据文件夹 / Data folder"),
                         port: int = typer.Option(5432, "--port", help="端口 / TCP port"),
                         listen: str = typer.Option("localhost", "--listen",
                                                    help="监听地址（* = 所有网卡，需设密码）/ Listen address")) -> None:
        """启动 PostgreSQL 团队库（没有时先建立）并打印地址 / Start (creating if new) a PostgreSQL store; prints its URL."""
        from .store.pgserver import start

        server, why = start(port, folder, listen=listen, durable=True)
        if server is None:
            err_console.print(f"[bold red]✗[/] 无法启动 PostgreSQL / Cannot start PostgreSQL: {why}", highlight=False)
            raise typer.Exit(3)
        url = f"postgresql://postgres@localhost:{port}/postgres"
        console.print(f"[green]✓[/] PostgreSQL 已启动 / started: {url}", highlight=False)
        print(url)

    @server_app.command("stop", cls=XlcrmCommand)
    def server_stop_cmd(folder: Path = typer.Argument(..., metavar="DIR", help="数据文件夹 / Data folder")) -> None:
        """停止团队库服务器（数据保留）/ Stop the store server (data kept)."""
        from .store.pgserver import stop

        ok, why = stop(folder)
        if not ok:
            err_console.print(f"[bold red]✗[/] {why}", highlight=False)
            raise typer.Exit(1)
        console.print("[green]✓[/] PostgreSQL 已停止 / stopped", highlight=False)

    @app.command("team-summary", cls=XlcrmCommand)
    def team_summary_cmd(path: Path | None = typer.Argument(None, metavar="[BOOK]",
                                                            help="写入这本工作簿的汇总表（不填：只显示）/ Write the Summary "
                                                                 "sheet of this workbook (blank: print only)"),
                         store: str | None = StoreOpt,
                         today: str | None = TodayOpt, dry_run: bool = DryRunOpt, lang: str | None = LangOpt,
                         output: str = FormatOpt("text", "md", "json"), unlock_protected: bool = UnlockOpt) -> None:
        """团队汇总：整个团队库的经理汇总 / The manager's Summary over the whole team store."""
        from .commands.team import store_summary
        from .workbook.file_adapter import FileWorkbook

        try:
            ctx = context(today, lang, dry_run)
            if path is None:
                result = store_summary(store, ctx)
            else:
                with FileWorkbook(path, unlock_protected=unlock_protected) as port:
                    result = store_summary(store, ctx, port)
        except XlcrmError as exc:
            fail(exc, lang)
            return
        show(result, lang, output)
