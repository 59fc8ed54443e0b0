"""The CLI subcommands made from the command registry: one per command, its --flags from the
command's options dataclass (names, types, zh/en help, metavars), so the CLI cannot drift from the
Python API. A few commands need a hand-written form; they are listed in `HAND_WRITTEN` with why.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

import typer

from .cli_text import XlcrmCommand, check_format, check_lang
from .commands.base import CommandSpec
from .commands.options import OptionInfo, describe

# Commands whose CLI form is written by hand in cli.py (they still take every option, a test checks).
HAND_WRITTEN = {
    "info": "prints tables of the sheets and their headers, and reads a CSV as well as a workbook",
    "import": "takes two files (SOURCE BOOK), or the book alone with --undo",
    "card": "takes the customer ID as a second argument (BOOK CUSTOMER_ID); the ribbon button uses the selection",
}

# The options every workbook command shares.
PathArg = typer.Argument(..., exists=False, metavar="BOOK", help="工作簿 / Workbook (.xlsx/.xlsm)")
TodayOpt = typer.Option(None, "--today", metavar="YYYY-MM-DD", help="视为“今天”的日期 / Date to use as today")
DryRunOpt = typer.Option(False, "--dry-run", help="只显示结果，不写入 / Show results, write nothing")
LangOpt = typer.Option(None, "--lang", metavar="zh-CN|zh-TW|en", callback=check_lang,
                       help="输出语言（默认：工作簿的语言）/ Output language (default: the workbook's)")
UnlockOpt = typer.Option(False, "--unlock-protected",
                         help="也写入受保护的工作表/工作簿（保护会保留）/ Also write protected sheets or a "
                              "structure-locked book (the protection is kept)")


def FormatOpt(*choices: str):  # noqa: N802 - reads like the other option constants
    return typer.Option("text", "--format", "-f", metavar="|".join(choices), callback=check_format(*choices),
                        help="输出格式 / Output format")


def typer_option(info: OptionInfo):
    """The typer option of one field of a command's options dataclass."""
    if info.kind is bool:  # an on/off flag: --undo, never --no-undo
        return typer.Option(bool(info.default), info.flag, help=info.help)
    return typer.Option(info.default, info.flag, metavar=info.metavar or info.name.upper(), help=info.help)


def _annotation(info: OptionInfo) -> object:
    return info.kind if info.kind is bool or info.default is not None else info.kind | None


def command_help(spec: CommandSpec) -> str:
    return f"{spec.zh}：{spec.help_zh} / {spec.help_en}."


def register(app: typer.Typer, spec: CommandSpec, runner: Callable[..., None]) -> None:
    """Add `spec` as the subcommand `spec.cli_name`; `runner(tag, path, **values)` runs and prints it."""
    P = inspect.Parameter  # noqa: N806
    params = [P("path", P.POSITIONAL_OR_KEYWORD, default=PathArg, annotation=Path),
              P("today", P.KEYWORD_ONLY, default=TodayOpt, annotation=str | None)]
    if spec.writes:
        params.append(P("dry_run", P.KEYWORD_ONLY, default=DryRunOpt, annotation=bool))
    params += [P("lang", P.KEYWORD_ONLY, default=LangOpt, annotation=str | None),
               P("output", P.KEYWORD_ONLY, default=FormatOpt(*spec.formats), annotation=str)]
    if spec.writes:
        params.append(P("unlock_protected", P.KEYWORD_ONLY, default=UnlockOpt, annotation=bool))
    params += [P(o.name, P.KEYWORD_ONLY, default=typer_option(o), annotation=_annotation(o))
               for o in describe(spec.options)]

    def command(path: Path, **values) -> None:
        runner(spec.tag, path, **values)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__name__ = f"{spec.tag}_cmd"
    command.__doc__ = command_help(spec)
    app.command(spec.cli_name, cls=XlcrmCommand)(command)


# --------------------------------------------------------------------------- the README table

# Options a hand-written CLI form takes as a positional argument instead of a --flag.
POSITIONAL = {"import": ("source",), "card": ("customer_id",)}
AFTER_BOOK = {"card"}  # its positional argument comes after BOOK (xlcrm card BOOK CUSTOMER_ID)
COMMON_FLAGS = ("--today", "--lang", "--format")  # every workbook command
WRITING_FLAGS = ("--dry-run", "--unlock-protected")  # every command that writes


def usage(spec: CommandSpec) -> str:
    args = " ".join(name.upper() for name in POSITIONAL.get(spec.tag, ()))
    if spec.tag in AFTER_BOOK:
        return f"xlcrm {spec.cli_name} BOOK {args}"
    return f"xlcrm {spec.cli_name} {args + ' ' if args else ''}BOOK"


def commands_table() -> str:
    """README's "命令与选项 / Commands and options" table, made from the registry (a test keeps
    README equal to it: paste the output of `python -m xlcrm.cli_commands` after changing a command)."""
    from .commands import REGISTRY

    rows = ["| 命令 command | 命令行 CLI | Python | 选项 options（另有 also `--today`, `--lang`, `--format`; "
            "写入的命令 writing commands: `--dry-run`, `--unlock-protected`） |", "|---|---|---|---|"]
    for spec in REGISTRY.values():
        positional = POSITIONAL.get(spec.tag, ())
        opts = [o for o in describe(spec.options) if o.name not in positional]
        flags = "<br>".join(f"`{o.flag}{' ' + o.metavar if o.metavar else ''}` {o.zh} / {o.en}" for o in opts)
        formats = "" if spec.formats == ("text", "json") else f"`--format {'|'.join(spec.formats)}`"
        cells = "<br>".join(x for x in (flags, formats) if x).replace("|", "\\|") or "—"  # a | would end the cell
        readonly = "（只读 read-only）" if not spec.writes else ""
        rows.append(f"| {spec.zh} {spec.tag}{readonly} | `{usage(spec)}` | `xlcrm.{spec.api_name}(path, …)` | {cells} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(commands_table(), end="")
