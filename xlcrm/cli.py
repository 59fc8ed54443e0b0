"""`xlcrm` on the command line: every ribbon button as a subcommand on a workbook file.

Thin by design: parse options, build a `Context`, run the registered command over the file
adapter, print its result. Expected problems print a bilingual message and exit non-zero
without a traceback; the workbook is never left half-written.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .cli_commands import HAND_WRITTEN, DryRunOpt, FormatOpt, LangOpt, PathArg, TodayOpt, UnlockOpt, register
from .cli_text import CONTEXT, XlcrmCommand, XlcrmGroup, check_lang, console, err_console, fail, usage_error
from .errors import XlcrmError
from .version import __version__

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="rich",
    cls=XlcrmGroup,
    context_settings=CONTEXT,
    help="xlcrm — 以 Excel 工作簿为界面的客户管理 / a CRM whose user interface is an Excel workbook.",
)
template_app = typer.Typer(no_args_is_help=True, cls=XlcrmGroup, help="模板 / Template workbooks.")
app.add_typer(template_app, name="template")

def run_command(tag: str, path: Path, /, *, today: str | None, lang: str | None, output: str = "text",
                dry_run: bool = False, unlock_protected: bool = False, **options) -> None:
    """Run a registered command on a workbook file through the Python API and print its result."""
    from . import api

    try:
        with reading_progress(output == "text") as progress:  # every long stage shows on the same bar
            result = api.run_command(tag, path, today=today, lang=lang, dry_run=dry_run,
                                     unlock_protected=unlock_protected, progress=progress, via="cli",
                                     **options)
    except XlcrmError as exc:
        fail(exc, lang)
        return
    shown = lang or result.book_lang or "zh-CN"
    if tag == "import" and output == "text":
        _print_mapping(result, shown)
    if output == "json":
        print(json.dumps({"command": tag, "written": result.written, "counts": result.counts, **result.data},
                         ensure_ascii=False, indent=2, default=str))
        return
    if output == "md":
        print(result.data.get("markdown") or result.text(shown))
        return
    mark = "[green]✓[/]" if result.written else ("[yellow]•[/]" if dry_run else "[green]✓[/]")
    console.print(f"{mark} {result.text(shown)}", highlight=False, soft_wrap=True)
    if dry_run:
        console.print("（试运行：未写入任何内容）" if shown != "en" else "(dry run: nothing was written)", style="dim")


@contextmanager
def reading_progress(enabled: bool = True):
    """A progress bar on the terminal while a (large) workbook is read, checked, graded, … and written;
    nothing when piped or in CI. A stage without a fraction (None) shows a moving bar."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("…", total=1.0)

        def update(stage: str, fraction: float | None) -> None:
            if fraction is None:
                bar.update(task, description=stage, total=None)
            else:
                bar.update(task, description=stage, total=1.0, completed=fraction)

        yield update


def _version(value: bool) -> None:
    if value:
        console.print(f"xlcrm {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="版本 / Version"),
) -> None:
    """xlcrm — 以 Excel 工作簿为界面的客户管理 / a CRM whose user interface is an Excel workbook."""


@app.command("new", cls=XlcrmCommand)
def new_cmd(
    path: Path = typer.Argument(..., metavar="BOOK", help="新工作簿路径 / Path of the new workbook (.xlsx)"),
    lang: str = typer.Option("zh-CN", "--lang", metavar="zh-CN|zh-TW|en", callback=check_lang,
                             help="工作簿语言 / Language of the workbook"),
) -> None:
    """新建一个可直接使用的客户管理工作簿 / Create a ready-to-use CRM workbook."""
    from .template import new_workbook

    try:
        new_workbook(path, lang=lang)
    except XlcrmError as exc:
        fail(exc, lang)
    console.print(f"[green]✓[/] {'Created' if lang == 'en' else '已建立' if lang == 'zh-TW' else '已创建'} {path}",
                  highlight=False)


@template_app.command("build", cls=XlcrmCommand)
def template_build_cmd(
    out: Path = typer.Option(Path("templates"), "--out", metavar="DIR", help="输出文件夹 / Output folder"),
) -> None:
    """重新生成 templates/ 中的模板（可重现）/ Rebuild the committed templates (reproducible)."""
    from .template import build_templates

    for written in build_templates(out):
        console.print(f"[green]✓[/] {written}", highlight=False)


@app.command("info", cls=XlcrmCommand)
def info_cmd(
    path: Path = typer.Argument(..., metavar="BOOK", help="工作簿或 CSV / Workbook or CSV"),
    lang: str | None = LangOpt,
    today: str | None = TodayOpt,
    output: str = FormatOpt("text", "json"),
) -> None:
    """报告工作表、表头对应、行数和“校验”会发现的问题（不写入）/ Sheets, headers, rows and the problems Check finds."""
    from .api import parse_today
    from .commands.base import Context
    from .commands.info import check_problems, info_data
    from .workbook.reader import read_book

    try:
        with reading_progress() as progress:
            book = read_book(path, progress=progress)
            if progress:
                progress("校验 / Checking", None)
            problems = check_problems(book, Context(today=parse_today(today), lang=lang))
    except XlcrmError as exc:
        fail(exc, lang)
        return
    shown = lang or book.lang
    en = shown == "en"
    if output == "json":
        print(json.dumps(info_data(book, problems), ensure_ascii=False, indent=2, default=str))
        return
    console.print(f"[bold]{path}[/]  ({'language' if en else '语言'}: {book.lang})", highlight=False)
    console.print(("Sheets: " if en else "工作表：") + ", ".join(book.sheet_names), highlight=False)
    for key, info in book.sheets.items():
        frame = book.frame(key)
        table = Table(title=f"{info.name} — {len(frame)} {'rows' if en else '行'}, "
                            f"{'header row' if en else '表头在第'} {info.header_row}{'' if en else ' 行'}"
                            + (f", table {info.table}" if info.table else ""), title_justify="left")
        table.add_column("列 Column")
        table.add_column("表头 Header")
        table.add_column("字段 Field")
        for k, col in sorted(info.columns.items(), key=lambda kv: kv[1]):
            table.add_row(_col_letter(col), info.headers.get(k, ""), k)
        for header, col in sorted(info.extra_columns.items(), key=lambda kv: kv[1]):
            table.add_row(_col_letter(col), header, "[dim](kept / 保留)[/]")
        console.print(table)
    _print_problems(problems, shown)


def _register_generated() -> None:
    """Every registry command not in HAND_WRITTEN, made from its options (see cli_commands.py)."""
    from .commands import REGISTRY

    for spec in REGISTRY.values():
        if spec.tag not in HAND_WRITTEN:
            register(app, spec, run_command)


_register_generated()


@app.command("card", cls=XlcrmCommand)
def card_cmd(
    path: Path = PathArg,
    customer_id: str = typer.Argument(..., metavar="CUSTOMER_ID", help="客户编号 / Customer ID"),  # the button: the selection
    today: str | None = TodayOpt, dry_run: bool = DryRunOpt, lang: str | None = LangOpt,
    output: str = FormatOpt("text", "json"), unlock_protected: bool = UnlockOpt,
) -> None:
    """客户卡：把一位客户的基本信息、跟进、购买和服务记录列在“客户卡”表上 / One customer's card on the Card sheet."""
    run_command("card", path, today=today, dry_run=dry_run, lang=lang, output=output,
                customer_id=customer_id, unlock_protected=unlock_protected)


addin_app = typer.Typer(no_args_is_help=True, cls=XlcrmGroup, help="Excel 加载项 / The Excel add-in (ribbon tab 客户管理 CRM).")
app.add_typer(addin_app, name="addin")


@addin_app.command("build", cls=XlcrmCommand)
def addin_build_cmd(
    dist: Path = typer.Option(Path("dist"), "--dist", help="加载项输出文件夹 / Output folder of the add-in"),
    templates: Path = typer.Option(Path("templates"), "--templates", help="模板输出文件夹 / Output folder of the .xlsm templates"),
    out: Path | None = typer.Option(None, "--out", help="加载项和模板都写到这里 / Write the add-ins and the templates here"),
) -> None:
    """生成 dist/xlcrm.xlam 和带按钮的 .xlsm 模板（任何系统）/ Build the add-in and the macro templates (any OS)."""
    from .addin_build import BuildError, build_all

    if out is not None:
        dist = templates = out
    try:
        written = build_all(dist, templates)
    except BuildError as exc:
        err_console.print(f"[bold red]✗[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    for path in written:
        console.print(f"[green]✓[/] {path}", highlight=False)


@addin_app.command("install", cls=XlcrmCommand)
def addin_install_cmd(
    lang: str = typer.Option("zh-CN", "--lang", metavar="zh-CN|en", callback=check_lang,
                             help="功能区语言 / Ribbon language"),
    dist: Path = typer.Option(Path("dist"), "--dist", metavar="DIR", help="加载项所在文件夹 / Folder of the built add-in"),
) -> None:
    """安装加载项并写入用户配置（解释器 = 当前 Python）/ Install the add-in; config uses this Python."""
    from .addin_build import ADDIN_FILES, UnsupportedPlatform, build_addin, install_addin

    addin = dist / ADDIN_FILES["en" if lang == "en" else "zh-CN"]
    try:
        if not addin.exists():
            addin = build_addin(dist, lang)
        steps = install_addin(addin)
    except UnsupportedPlatform as exc:
        console.print(str(exc), highlight=False)
        raise typer.Exit(1) from None
    except RuntimeError as exc:
        err_console.print(f"[bold red]✗[/] xlwings: {exc}", highlight=False)
        raise typer.Exit(2) from None
    for step in steps:
        console.print(f"[green]✓[/] {step}", highlight=False)
    console.print("请重新启动 Excel，功能区会出现“客户管理 CRM”选项卡。/ Restart Excel: the 客户管理 CRM tab appears.")


@addin_app.command("status", cls=XlcrmCommand)
def addin_status_cmd() -> None:
    """显示加载项与配置状态 / Show the add-in's build and configuration state."""
    from .addin_build import LINUX_HELP, addin_status

    status = addin_status()
    for key, value in status.items():
        console.print(f"{key}: {value if value is not None else '—'}", highlight=False)
    if status["platform"] == "linux":
        console.print(LINUX_HELP, highlight=False)


@addin_app.command("remove", cls=XlcrmCommand)
def addin_remove_cmd(
    lang: str = typer.Option("zh-CN", "--lang", metavar="zh-CN|en", callback=check_lang,
                             help="安装时的语言 / Language that was installed"),
) -> None:
    """卸载加载项并删除用户配置 / Remove the add-in and its user config."""
    from .addin_build import ADDIN_FILES, UnsupportedPlatform, remove_addin

    try:
        steps = remove_addin(ADDIN_FILES["en" if lang == "en" else "zh-CN"])
    except UnsupportedPlatform as exc:
        console.print(str(exc), highlight=False)
        raise typer.Exit(1) from None
    except RuntimeError as exc:
        err_console.print(f"[bold red]✗[/] xlwings: {exc}", highlight=False)
        raise typer.Exit(2) from None
    for step in steps:
        console.print(f"[green]✓[/] {step}", highlight=False)


@app.command("doctor")
def doctor_cmd() -> None:
    """检查加载项所需的一切（Python、xlwings、配置、安装、解除锁定、受信任位置）/ Check everything the add-in needs."""
    from .doctor import gather_facts, run_checks

    marks = {"ok": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[bold red]✗[/]", "info": "[blue]i[/]"}
    results = run_checks(gather_facts())
    for r in results:
        console.print(f"{marks[r.status]} [bold]{r.key}[/] {r.zh}", highlight=False, soft_wrap=True)
        console.print(f"    {r.en}", style="dim", highlight=False, soft_wrap=True)
    if any(r.status == "fail" for r in results):
        raise typer.Exit(1)


@app.command("import", cls=XlcrmCommand)
def import_cmd(
    source: Path | None = typer.Argument(None, metavar="SOURCE", show_default=False,
                                         help="来源：CSV（UTF-8/GBK/GB18030/Big5）或工作簿 / Source: a CSV or a workbook"),
    book: Path | None = typer.Argument(None, metavar="BOOK", show_default=False,
                                       help="导入到这个工作簿 / The CRM workbook to import into"),
    today: str | None = TodayOpt, dry_run: bool = DryRunOpt, lang: str | None = LangOpt,
    undo: bool = typer.Option(False, "--undo", help="撤销上次导入（只需给出工作簿）/ Revert the last import (give the book only)"),
    sheet: str | None = typer.Option(None, "--sheet", metavar="customers|followups|purchases",
                                     help="CSV 的内容（默认按表头判断）/ What the CSV holds (default: from its headers)"),
    import_id: str | None = typer.Option(None, "--import-id", metavar="IMP-…",
                                         help="与 --undo 一起：撤销这次导入（默认最近一次）/ "
                                              "With --undo: the import to revert (default: the last one)"),
    output: str = FormatOpt("text", "json"),
    unlock_protected: bool = UnlockOpt,
) -> None:
    """导入：把 CSV 或其他工作簿的客户、跟进、购买记录导入工作簿（--dry-run 先看表头对应）/ Import rows from a CSV or workbook."""
    if undo and book is None:
        source, book = None, source
    if book is None or (source is None and not undo):
        raise usage_error("需要来源和工作簿：xlcrm import 来源.csv 工作簿.xlsx",
                          "A source and a workbook are needed: xlcrm import source.csv book.xlsx")
    run_command("import", book, today=today, dry_run=dry_run, lang=lang, output=output,
                source=str(source) if source else None, undo=undo, sheet=sheet, import_id=import_id,
                unlock_protected=unlock_protected)


def _print_mapping(result, lang: str) -> None:
    """The header mapping and the first problems of an import (shown before its summary line)."""
    en = lang == "en"
    mapping = result.data.get("mapping") or []
    if mapping:
        table = Table(title="Header mapping" if en else "表头对应", title_justify="left")
        for head in (("来源", "Source"), ("列", "Column"), ("导入到", "Imported into"), ("说明", "Note")):
            table.add_column(head[1] if en else head[0])
        for m in mapping:
            table.add_row(m["source_sheet"], m["source"], f"{m['target_sheet']} · {m['target']}" if m["target"]
                          else "—", m["note"])
        console.print(table)
    errors = result.data.get("errors") or []
    for e in errors[:20]:
        where = ", ".join(x for x in (e["sheet"], f"{'row' if en else '第'} {e['row']}{'' if en else ' 行'}",
                                      e["column"]) if x)
        value = f" “{e['value']}”" if e["value"] not in (None, "") else ""
        console.print(f"  • {where}{value}: {e['en'] if en else e['zh']}", highlight=False, soft_wrap=True)
    if len(errors) > 20:
        console.print(f"  … +{len(errors) - 20}")


def _print_problems(problems: list[dict], lang: str) -> None:
    en = lang == "en"
    errors = sum(p["severity"] == "error" for p in problems)
    warnings = sum(p["severity"] == "warning" for p in problems)
    if not problems:
        console.print("[green]No problems found.[/]" if en else "[green]没有发现问题。[/]")
        return
    console.print(f"“Check” would report {errors} errors and {warnings} warnings:" if en else
                  f"“校验”会报告 {errors} 个错误、{warnings} 个警告：", highlight=False)
    for p in problems[:20]:
        where = ", ".join(x for x in (p["sheet"], f"{'row' if en else '第'} {p['row']}{'' if en else ' 行'}"
                                      if p["row"] else "", p["column"]) if x)
        console.print(f"  • {where}: {p['en'] if en else p['zh']}", highlight=False)
    if len(problems) > 20:
        console.print(f"  … +{len(problems) - 20}")


def _col_letter(index: int) -> str:
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


from . import cli_team  # noqa: E402  team mode: sync, book, reassign, pool, history, summary --store

cli_team.register(app)


def main(argv: list[str] | None = None) -> None:
    """The `xlcrm` entry point: click's own usage errors are shown in Chinese and English too."""
    from .cli_text import click_exceptions

    exc_mod = click_exceptions()
    try:
        code = app(args=argv, standalone_mode=False, prog_name="xlcrm")
    except exc_mod.ClickException as exc:
        usage = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":
            print(exc.format_message(), file=sys.stderr)
            raise SystemExit(2) from None
        if usage is not None:
            err_console.print(usage.get_usage(), highlight=False, style="bold")
        for line in usage_error_lines(exc):
            err_console.print(line, highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        err_console.print("已中止 / Aborted.", style="red")
        raise SystemExit(1) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def usage_error_lines(exc) -> list[str]:
    from .cli_text import translate

    zh, en = translate(exc.format_message())
    ctx = getattr(exc, "ctx", None)
    hint = ""
    if ctx is not None:
        hint = f"运行 `{ctx.command_path} -h` 查看帮助 / Try `{ctx.command_path} -h` for help."
    return [f"[bold red]✗[/] {zh}", f"  [dim]{en}[/]", *([f"  [dim]{hint}[/]"] if hint else [])]


if __name__ == "__main__":
    main()
