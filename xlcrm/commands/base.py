"""What every command shares: its context, its result, and the registry the front ends use.

A command is registered once here and is then a CLI subcommand, a ribbon button (its tag) and a
Python function, all running the same code over a `WorkbookPort`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import Msg
from ..schema import CHANGE_LOG, Kind, SheetSpec
from ..workbook.book import CrmBook
from ..workbook.edits import FMT_DATE, FMT_DATETIME, FMT_MONEY, AppendRows, ColumnWrite, EditPlan
from ..workbook.port import WorkbookPort
from .options import Options, OptionsT, make_options


@dataclass
class Context:
    """Options every command understands; command-specific ones go in `options` (a dict until
    `commands.run` turns it into the command's frozen `Options`; read them with `ctx.opts(XOptions)`)."""

    today: dt.date = field(default_factory=dt.date.today)
    lang: str | None = None  # None: the workbook's own language
    dry_run: bool = False
    owner: str | None = None
    user: str = ""  # who ran it (OS user), for the Change Log
    via: str = "api"  # which front end ran it (cli | button | api), for the team store's change log
    options: dict[str, Any] | Options = field(default_factory=dict)
    progress: Callable[[str, float | None], None] | None = None  # the front end's progress display, if any

    def language(self, book: CrmBook) -> str:
        return self.lang or book.lang

    def opts(self, cls: type[OptionsT]) -> OptionsT:
        """This command's options, typed (validated already when run through `commands.run`)."""
        return make_options(cls, self.options)

    def stage(self, zh: str, en: str, fraction: float | None = None) -> None:
        """Tell the progress display a long stage has begun (None: no fraction known)."""
        if self.progress is not None:
            self.progress(f"{zh} / {en}", fraction)


@dataclass
class CommandResult:
    command: str
    message: Msg  # what was done, counts, where to look — both languages
    counts: dict[str, int | float] = field(default_factory=dict)
    written: bool = False
    data: dict[str, Any] = field(default_factory=dict)  # machine-readable results (e.g. KPIs)
    book_lang: str | None = None  # the workbook's own language (set by the API, for front ends' output)

    def text(self, lang: str) -> str:
        return self.message.text(lang)


@dataclass
class Planned:
    """A command's work before anything is written: the edits, the result, the book as it will be."""

    plan: EditPlan
    result: CommandResult
    book: CrmBook


@dataclass(frozen=True)
class CommandSpec:
    tag: str  # CLI name and ribbon button tag
    zh: str  # button label
    en: str
    help_zh: str
    help_en: str
    func: Callable[[WorkbookPort, Context], CommandResult]
    writes: bool = True
    ribbon: bool = True  # False: CLI / API only (e.g. import, which needs a second file)
    options: type[Options] = Options  # the command's own options (API keywords, CLI flags, ribbon options)
    formats: tuple[str, ...] = ("text", "json")  # CLI --format choices
    api_name: str = ""  # the Python function (xlcrm.<api_name>); the tag unless that is a keyword

    @property
    def cli_name(self) -> str:
        return self.tag.replace("_", "-")

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


REGISTRY: dict[str, CommandSpec] = {}


def command(tag: str, zh: str, en: str, help_zh: str, help_en: str, *, writes: bool = True, ribbon: bool = True,
            options: type[Options] = Options, formats: tuple[str, ...] = ("text", "json"), api_name: str | None = None):
    """Register a function `(port, ctx) -> CommandResult` as the command `tag`, with its options class.

    This is the one place a command is declared: the API function, the CLI subcommand and the ribbon
    button are all made from it (see CONTRIBUTING.md, "How to add a command")."""

    def register(func: Callable[[WorkbookPort, Context], CommandResult]):
        if tag in REGISTRY:
            raise ValueError(f"command {tag!r} registered twice")
        REGISTRY[tag] = CommandSpec(tag, zh, en, help_zh, help_en, func, writes, ribbon, options, tuple(formats),
                                    api_name or tag)
        return func

    return register


# --------------------------------------------------------------------------- shared pieces


def zh_or_en(lang: str, zh: str, en: str) -> str:
    """English for an English book, else the Chinese text (a zh-TW plan is converted as a whole later)."""
    return en if lang == "en" else zh


FORMATS = {Kind.DATE: FMT_DATE, Kind.MONEY: FMT_MONEY, Kind.NUMBER: "0"}


def tool_frame(spec: SheetSpec, df: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, dict[str, str], dict[str, float]]:
    """A tool sheet's rows with the headers in `lang`, plus number formats and widths by header."""
    cols = [c for c in spec.columns if c.key in df.columns]
    out = df[[c.key for c in cols]].copy()
    out.columns = [c.header(lang) for c in cols]
    formats = {c.header(lang): FMT_DATETIME if c.key == "time" else FORMATS[c.kind] for c in cols if c.kind in FORMATS}
    widths = {c.header(lang): c.width for c in cols}
    return out, formats, widths


def after_data_sheets(book: CrmBook) -> str | None:
    for key in ("purchases", "followups", "customers"):
        if key in book.sheets:
            return book.sheets[key].name
    return None


def change_log_edit(book: CrmBook, rows: pd.DataFrame, lang: str) -> AppendRows | None:
    if rows.empty:
        return None
    df, formats, widths = tool_frame(CHANGE_LOG, rows, lang)
    return AppendRows(book.sheet_name_for("change_log"), df, after=None, number_formats=formats, widths=widths,
                      owner="change_log")


def ownership_note(book: CrmBook, plan: EditPlan) -> Msg | None:
    """Say where xlcrm's output went when a user's sheet or column already had the usual name."""
    from ..schema import sheet_name

    zh, en = [], []
    written = {getattr(e, "name", None) for e in plan.edits}
    for key, name in book.renamed_tool_sheets().items():
        if name in written:
            usual = sheet_name(key, book.lang)
            zh.append(f"工作表“{usual}”是您自己的，保留不动；xlcrm 的结果写在“{name}”。")
            en.append(f"The sheet '{usual}' is yours and was left alone; xlcrm's results are on '{name}'.")
    for e in plan.edits:
        if (isinstance(e, ColumnWrite) and e.owner and e.col is None and ownership_suffixed(e.header)
                and not _own_name(e.owner, e.header)):
            zh.append(f"“{e.sheet}”中已有同名的列（您自己的），xlcrm 的计算结果写在新列“{e.header}”。")
            en.append(f"'{e.sheet}' already has a column of yours with that name; xlcrm's values go in the new column '{e.header}'.")
    if not zh:
        return None
    return Msg("\n".join(zh), "\n".join(en))


def _own_name(owner: str, header: str) -> bool:
    """A computed column whose own schema name carries the suffix (成交状态（系统）) was not renamed."""
    from ..schema import SHEETS_BY_KEY

    sheet, _, key = owner.partition(".")
    spec = SHEETS_BY_KEY.get(sheet)
    if spec is None or key not in spec.keys:
        return False
    col = spec.column(key)
    return header in (col.zh, col.en, col.tw)


def ownership_suffixed(header: str) -> bool:
    return header.endswith(("（系统）", "（系統）", "(xlcrm)"))


def apply_planned(port: WorkbookPort, planned: Planned, ctx: Context) -> CommandResult:
    """Write a planned command's edits (unless dry-run) and return its result."""
    note = ownership_note(planned.book, planned.plan)
    if note is not None:
        old = planned.result.message
        planned.result.message = Msg(old.text("zh-CN") + "\n" + note.zh, old.text("en") + "\n" + note.en)
    if planned.plan and not ctx.dry_run:
        plan = planned.plan
        if ctx.language(planned.book) == "zh-TW":
            from .localize import traditional_plan

            plan = traditional_plan(plan)
        ctx.stage("写入工作簿", "Writing the workbook")
        plan.handed_over = True  # nothing here reads its edits again: the write frees each once made
        port.apply(plan)
        planned.result.written = True
    elif planned.plan and hasattr(port, "check"):  # dry run: meet the refusals the write would give
        port.check(planned.plan)
    return planned.result
