"""The command line's own words in Chinese and English: help layout, option checks, usage errors.

typer/click write their help and usage errors in English only, and show a type placeholder
(`<str>`, `<bool>`) beside every option. The command classes here give every option a readable
metavar (none for on/off flags), `-h` as well as `--help`, bilingual help-panel titles, and
`translate` turns click's usage errors (Missing argument, No such command, Invalid value…) into
Chinese, shown before the English original.
"""

from __future__ import annotations

import re

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from .errors import XlcrmError
from .i18n import OUTPUT_LANGS, normalize_lang

CONTEXT = {"help_option_names": ["-h", "--help"]}
HELP_TEXT = "显示帮助并退出 / Show this help and exit."


def click_exceptions():
    """click's exceptions module (typer ≥ 0.22 vendors click as typer._click)."""
    try:
        from typer._click import exceptions
    except ImportError:  # older typer on the real click
        from click import exceptions
    return exceptions


def _panel_titles() -> None:
    try:
        from typer import rich_utils
    except ImportError:  # typer without rich: plain click help
        return
    for name, text in (("ARGUMENTS_PANEL_TITLE", "参数 Arguments"), ("OPTIONS_PANEL_TITLE", "选项 Options"),
                       ("COMMANDS_PANEL_TITLE", "命令 Commands"), ("ERRORS_PANEL_TITLE", "错误 Error"),
                       ("REQUIRED_LONG_STRING", "[必填 required]"), ("DEFAULT_STRING", "[默认 default: {}]"),
                       ("ABORTED_TEXT", "已中止 / Aborted.")):
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, text)


_panel_titles()


def _no_type(ctx) -> None:
    return None


def _polish(params) -> None:
    for p in params:
        if p.param_type_name == "argument":
            p.display_type_rich = _no_type  # the metavar (BOOK, SOURCE) says it; no <path> beside it
            if p.metavar is None:
                p.metavar = p.name.upper()
        elif getattr(p, "is_flag", False):
            p.metavar = ""  # an on/off switch takes no value: show nothing, not <bool>
        elif p.metavar is None:
            p.metavar = p.name.upper()


class XlcrmCommand(TyperCommand):
    """A subcommand whose help shows readable metavars and a bilingual help option."""

    def get_help_option(self, ctx):
        opt = super().get_help_option(ctx)
        if opt is not None:
            opt.help, opt.metavar = HELP_TEXT, ""
        return opt

    def get_params(self, ctx):
        params = super().get_params(ctx)
        _polish(params)
        return params


class XlcrmGroup(TyperGroup):
    def get_help_option(self, ctx):
        opt = super().get_help_option(ctx)
        if opt is not None:
            opt.help, opt.metavar = HELP_TEXT, ""
        return opt

    def get_params(self, ctx):
        params = super().get_params(ctx)
        _polish(params)
        return params


# --------------------------------------------------------------------------- option values


def check_lang(value: str | None) -> str | None:
    """--lang: zh-CN, zh-TW or en (zh_tw, 繁體, en-US … accepted); anything else is a clear error."""
    if value is None:
        return None
    lang = normalize_lang(value)
    if lang is None:
        raise typer.BadParameter(f"语言应为 {'、'.join(OUTPUT_LANGS)}，而不是“{value}” / "
                                 f"expected one of {', '.join(OUTPUT_LANGS)}, not '{value}'")
    return lang


def check_format(*choices: str):
    def check(value: str) -> str:
        v = (value or "").strip().lower()
        if v not in choices:
            raise typer.BadParameter(f"格式应为 {'、'.join(choices)}，而不是“{value}” / "
                                     f"expected one of {', '.join(choices)}, not '{value}'")
        return v

    return check


def usage_error(zh: str, en: str):
    return click_exceptions().UsageError(f"{zh} / {en}")


# --------------------------------------------------------------------------- usage errors

_RULES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^Missing argument '?([^'.]+)'?\.?$"), "缺少参数 {0}。"),
    (re.compile(r"^Missing option '?([^'.]+)'?\.?$"), "缺少选项 {0}。"),
    (re.compile(r"^Missing parameter: (.+)$"), "缺少参数：{0}"),
    (re.compile(r"^Missing command\.?$"), "缺少命令。"),
    (re.compile(r"^No such command '?([^']+)'?\.?$"), "没有名为“{0}”的命令。"),
    (re.compile(r"^No such option: (\S+?)(?:\s+Did you mean (.+?)\?)?$"), "没有这个选项：{0}{1}"),
    (re.compile(r"^Got unexpected extra arguments? \((.+)\)$"), "多余的参数：{0}"),
    (re.compile(r"^Option '?([^']+)'? requires an argument\.?$"), "选项 {0} 需要一个值。"),
    (re.compile(r"^Option '?([^']+)'? does not take a value\.?$"), "选项 {0} 不需要值。"),
    (re.compile(r"^Invalid value for (.+?): (.+)$", re.S), "{0} 的值无效：{1}"),
    (re.compile(r"^Invalid value: (.+)$", re.S), "值无效：{0}"),
]


def _split(text: str) -> tuple[str, str]:
    """Our own messages are "中文 / English"; click's are English only."""
    if " / " in text and re.search(r"[\u4e00-\u9fff]", text.split(" / ", 1)[0]):
        zh, en = text.split(" / ", 1)
        return zh, en
    return text, text


def translate(message: str) -> tuple[str, str]:
    """(Chinese, English) of a click usage error."""
    message = message.strip()
    for pattern, zh in _RULES:
        m = pattern.match(message)
        if not m:
            continue
        groups = list(m.groups())
        if zh.startswith("没有这个选项"):
            groups[1] = f"。是不是要用 {groups[1]}？" if groups[1] else ""
        if len(groups) == 2 and "{0} 的值无效" in zh:
            inner_zh, inner_en = _split(groups[1])
            return zh.format(groups[0], inner_zh), f"Invalid value for {groups[0]}: {inner_en}"
        return zh.format(*[g or "" for g in groups]), message
    zh_own, en_own = _split(message)
    if zh_own != en_own:  # our own "中文 / English" message
        return zh_own, en_own
    return "命令行用法有误：" + message, message


__all__ = ["CONTEXT", "XlcrmCommand", "XlcrmGroup", "check_format", "check_lang", "click_exceptions", "translate",
           "usage_error"]


# --------------------------------------------------------------------------- printing results and errors

console = Console()
err_console = Console(stderr=True)

def _lang_or_default(lang: str | None) -> str:
    return lang if lang in ("en", "zh-TW") else "zh-CN"


def fail(exc: XlcrmError, lang: str | None) -> None:
    """Print an expected problem in both languages (the chosen one first) and exit."""
    first = _lang_or_default(lang)
    second = "en" if first != "en" else "zh-CN"
    err_console.print(f"[bold red]✗[/] {exc.render(first)}", highlight=False, soft_wrap=True)
    err_console.print(f"  {exc.render(second)}", style="dim", highlight=False, soft_wrap=True)
    raise typer.Exit(exc.exit_code)
