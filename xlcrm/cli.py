"""`xlcrm` on the command line: every ribbon button as a subcommand on a workbook file.

Thin by design: parse options, build a `Context`, run the registered command over the file
adapter, print its result. Expected problems print a bilingual message and exit non-zero
without a traceback; the workbook is never left half-written.
"""

from __future__ import annotations

import datetime as dt
import getpass
import inspect
import json
import sys
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .cli_text import CONTEXT, XlcrmCommand, XlcrmGroup, check_format, check_lang, usage_error
from .errors import XlcrmError

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

console = Console()
err_console = Console(stderr=True)

# Options shared by the workbook commands.
PathArg = typer.Argument(..., exists=False, metavar="BOOK", help="工作簿 / Workbook (.xlsx/.xlsm)")
TodayOpt = typer.Option(None, "--today", metavar="YYYY-MM-DD", help="视为“今天”的日期 / Date to use as today")
OwnerOpt = typer.Option(None, "--owner", metavar="NAME", help="只处理这位负责人 / Only this salesperson")
DryRunOpt = typer.Option(False, "--dry-run", help="只显示结果，不写入 / Show results, write nothing")
LangOpt = typer.Option(None, "--lang", metavar="zh-CN|zh-TW|en", callback=check_lang,
                       help="输出语言（默认：工作簿的语言）/ Output language (default: the workbook's)")


def FormatOpt(*choices: str):  # noqa: N802 - reads like the other option constants
    return typer.Option("text", "--format", "-f", metavar="|".join(choices), callback=check_format(*choices),
                        help="输出格式 / Output format")
UnlockOpt = typer.Option(False, "--unlock-protected",
                         help="也写入受保护的工作表/工作簿（保护会保留）/ Also write protected sheets or a "
                              "structure-locked book (the protection is kept)")


def _lang_or_default(lang: str | None) -> str:
    return lang if lang in ("en", "zh-TW") else "zh-CN"


def _parse_today(value: str | None) -> dt.date:
    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"日期格式应为 YYYY-MM-DD / expected YYYY-MM-DD: {value}") from None


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers / services
        return ""


def fail(exc: XlcrmError, lang: str | None) -> None:
    """Print an expected problem in both languages (the chosen one first) and exit."""
    first = _lang_or_default(lang)
    second = "en" if first != "en" else "zh-CN"
    err_console.print(f"[bold red]✗[/] {exc.render(first)}", highlight=False, soft_wrap=True)
    err_console.print(f"  {exc.render(second)}", style="dim", highlight=False, soft_wrap=True)
    raise typer.Exit(exc.exit_code)


def run_command(tag: str, path: Path, *, today: str | None, owner: str | None, dry_run: bool, lang: str | None,
                output: str = "text", unlock_protected: bool = False, **options) -> None:
    """Run a registered command on a workbook file and print its result."""
    from .commands import run
    from .commands.base import Context
    from .workbook.file_adapter import FileWorkbook

    ctx = Context(today=_parse_today(today), lang=lang, dry_run=dry_run, owner=owner, user=_os_user(), options=options)
    try:
        with reading_progress(output == "text") as progress:
            port = FileWorkbook(path, progress=progress, unlock_protected=unlock_protected)
            ctx.progress = progress  # every long stage (check, grade, dedupe, write) shows on the same bar
            if progress and tag == "dedupe":
                ctx.options["progress"] = _dedupe_stages(progress)
            result = run(tag, port, ctx)
            port.close()  # a command that read and wrote nothing ends its read → write span too
    except XlcrmError as exc:
        fail(exc, lang)
        return
    shown = lang or port.lang
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
    from .commands.base import Context
    from .commands.daily import plan_check
    from .workbook.reader import read_book

    try:
        with reading_progress() as progress:
            book = read_book(path, progress=progress)
            if progress:
                progress("校验 / Checking", None)
            problems = plan_check(book, Context(today=_parse_today(today), lang=lang)).result.data["problems"]
    except XlcrmError as exc:
        fail(exc, lang)
        return
    shown = lang or book.lang
    en = shown == "en"
    if output == "json":
        print(json.dumps({**_info_dict(book), "problems": problems}, ensure_ascii=False, indent=2, default=str))
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


def _workbook_command(tag: str, formats: str = "text | json", *, owner: bool = True, grade: bool = False) -> None:
    """Register a plain workbook command under its registry tag and help; --owner only where it filters
    something, --grade where it selects grades (Due Today)."""
    from .commands import REGISTRY

    spec = REGISTRY[tag]

    def command(path: Path = PathArg, today: str | None = TodayOpt, owner: str | None = OwnerOpt,
                grade: str | None = GradeOpt, dry_run: bool = DryRunOpt, lang: str | None = LangOpt,
                output: str = FormatOpt(*formats.split(" | ")),
                unlock_protected: bool = UnlockOpt) -> None:
        # a parameter left out of the signature below arrives as its typer default object: not a value
        owner = owner if isinstance(owner, str) else None
        grade = grade if isinstance(grade, str) else None
        run_command(tag, path, today=today, owner=owner, dry_run=dry_run, lang=lang, output=output,
                    unlock_protected=unlock_protected, **({"grade": grade} if grade else {}))

    params = [p for name, p in inspect.signature(command).parameters.items()
              if (name != "owner" or owner) and (name != "grade" or grade)]
    command.__signature__ = inspect.signature(command).replace(parameters=params)
    command.__doc__ = f"{spec.zh}：{spec.help_zh} / {spec.help_en}."
    app.command(tag, cls=XlcrmCommand)(command)


GradeOpt = typer.Option(None, "--grade", help="只列这些等级，如 A,B / Only these grades, e.g. A,B")
for _tag in ("due", "run"):
    _workbook_command(_tag, grade=True)
for _tag in ("check", "regrade"):
    _workbook_command(_tag, owner=False)
_workbook_command("summary", "text | md | json", owner=False)
_workbook_command("receivables")


@app.command("export", cls=XlcrmCommand)
def export_cmd(
    path: Path = PathArg, today: str | None = TodayOpt, owner: str | None = OwnerOpt, dry_run: bool = DryRunOpt,
    lang: str | None = LangOpt,
    to: Path | None = typer.Option(None, "--to", help="输出 .csv 或 .xlsx；不填则写入“导出”工作表 / "
                                                         "Output .csv or .xlsx; without it, the Export sheet"),
    sheet: bool = typer.Option(False, "--sheet", help="同时写入“导出”工作表 / Also fill the Export sheet"),
    grade: str | None = typer.Option(None, "--grade", help="等级，如 A,B / Grades, e.g. A,B"),
    province: str | None = typer.Option(None, "--province", help="省份 / Province(s)"),
    city: str | None = typer.Option(None, "--city", help="城市 / City(ies)"),
    tag: str | None = typer.Option(None, "--tag", help="标签 / Tag(s)"),
    deal_status: str | None = typer.Option(None, "--deal-status", help="成交状态 / Deal status(es)"),
    has: str | None = typer.Option(None, "--has", help="必须有：email,address,mobile / Must have"),
    birthday_month: int | None = typer.Option(None, "--birthday-month", help="生日月份 1–12 / Birthday month"),
    not_contacted_days: int | None = typer.Option(None, "--not-contacted-days",
                                                     help="超过 N 天未联系 / Not contacted for N days"),
    dedupe_address: bool = typer.Option(False, "--dedupe-address", help="同公司同地址只寄一封 / One letter per address"),
    encoding: str = typer.Option("utf-8", "--encoding", help="CSV 编码：utf-8（带 BOM）或 gb18030 / CSV encoding"),
    password: str | None = typer.Option(None, "--password", help="加密 .xlsx 的密码 / Encrypt the .xlsx"),
    output: str = FormatOpt("text", "json"),
    unlock_protected: bool = UnlockOpt,
) -> None:
    """导出：按条件生成邮件合并名单（只含同意营销的客户）/ Mail-merge list of consenting customers."""
    run_command("export", path, today=today, owner=owner, dry_run=dry_run, lang=lang, output=output,
                to=str(to) if to else None, sheet=sheet, grade=grade, province=province, city=city, tags=tag,
                deal_status=deal_status, has=has, birthday_month=birthday_month,
                not_contacted_days=not_contacted_days, dedupe_address=dedupe_address, encoding=encoding,
                password=password, unlock_protected=unlock_protected)


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


@app.command("dedupe", cls=XlcrmCommand)
def dedupe_cmd(path: Path = PathArg, today: str | None = TodayOpt, dry_run: bool = DryRunOpt, lang: str | None = LangOpt,
               new_only: bool = typer.Option(False, "--new-only",
                                             help="只检查上次查重后新增的行 / Only rows added since the last run"),
               output: str = FormatOpt("text", "json"),
               unlock_protected: bool = UnlockOpt) -> None:
    """查重：找出重复客户，列在“查重”工作表 / Find duplicate customers and list them on the Duplicates sheet."""
    run_command("dedupe", path, today=today, owner=None, dry_run=dry_run, lang=lang, output=output,
                new_only=new_only, unlock_protected=unlock_protected)


_DEDUPE_STAGES = {"block": ("查重：分组", "Duplicates: blocking"), "score": ("查重：比对", "Duplicates: scoring"),
                  "cluster": ("查重：归组", "Duplicates: grouping")}


def _dedupe_stages(say):
    """Dedupe's own stages (block, score, cluster) on the shared progress bar."""

    def stage(name: str, fraction: float) -> None:
        zh, en = _DEDUPE_STAGES.get(name, (f"查重：{name}", f"Duplicates: {name}"))
        say(f"{zh} / {en}", fraction)

    return stage


@app.command("merge", cls=XlcrmCommand)
def merge_cmd(path: Path = PathArg, today: str | None = TodayOpt, dry_run: bool = DryRunOpt, lang: str | None = LangOpt,
              undo: bool = typer.Option(False, "--undo", help="撤销上次合并 / Restore the last merge"),
              output: str = FormatOpt("text", "json"),
              unlock_protected: bool = UnlockOpt) -> None:
    """合并：按“查重”工作表上的决定合并重复客户（--undo 撤销）/ Merge the duplicates marked on the Duplicates sheet."""
    run_command("merge", path, today=today, owner=None, dry_run=dry_run, lang=lang, output=output, undo=undo,
                unlock_protected=unlock_protected)


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
    output: str = FormatOpt("text", "json"),
) -> None:
    """导入：把 CSV 或其他工作簿的客户、跟进、购买记录导入工作簿（--dry-run 先看表头对应）/ Import rows from a CSV or workbook."""
    if undo and book is None:
        source, book = None, source
    if book is None or (source is None and not undo):
        raise usage_error("需要来源和工作簿：xlcrm import 来源.csv 工作簿.xlsx",
                          "A source and a workbook are needed: xlcrm import source.csv book.xlsx")
    run_command("import", book, today=today, owner=None, dry_run=dry_run, lang=lang, output=output,
                source=str(source) if source else None, undo=undo, sheet=sheet)


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


def _info_dict(book) -> dict:
    return {
        "language": book.lang,
        "sheets": book.sheet_names,
        "data_sheets": {
            k: {
                "name": i.name,
                "header_row": i.header_row,
                "rows": len(book.frame(k)),
                "columns": {key: i.headers.get(key) for key in i.columns},
                "kept_columns": list(i.extra_columns),
                "table": i.table,
            }
            for k, i in book.sheets.items()
        },
        "problems": [
            {"sheet": p.sheet, "row": p.row, "column": p.column, "value": p.value, "code": p.code,
             "zh": p.message.text("zh-CN"), "en": p.message.text("en")}
            for p in book.problems
        ],
    }


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
