"""Export (导出): the mail-merge list of consenting customers, to a .csv / .xlsx file or the Export sheet.

The selection and the letter columns come from `ops.export`; this module holds the command's
options, lays the list out and says what was done.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from ..errors import Msg
from ..export_file import write_export
from ..ops.export import MERGE_KEYS, ExportFilter, merge_list, select_customers
from ..ops.grade import grade_customers
from ..workbook.book import CrmBook
from ..workbook.edits import Block, EditPlan, SheetReplace
from ..workbook.port import WorkbookPort
from .base import CommandResult, Context, Planned, after_data_sheets, apply_planned, command, zh_or_en
from .options import Options, option

TAB_EXPORT = "FF548235"


def export_message(matched: int, no_consent: int, deduped: int, written: int, where: str) -> Msg:
    return Msg(
        "导出 {n} 位客户到 {where}（符合条件 {matched}，未同意营销而略过 {no_consent}，同址合并 {deduped}）。",
        "Exported {n} customers to {where} ({matched} matched, {no_consent} left out without marketing consent, "
        "{deduped} merged as same address).",
        {"n": written, "where": where, "matched": matched, "no_consent": no_consent, "deduped": deduped},
    )


@dataclasses.dataclass(frozen=True)
class ExportOptions(Options):
    """Where the mail-merge list goes and which consenting customers are on it."""

    to: str | None = option(None, "输出 .csv 或 .xlsx；不填则写入“导出”工作表",
                            "Output .csv or .xlsx; without it, the Export sheet", metavar="FILE")
    sheet: bool = option(False, "同时写入“导出”工作表", "Also fill the Export sheet")
    grade: str | None = option(None, "等级，如 A,B", "Grades, e.g. A,B", metavar="A,B")
    owner: str | None = option(None, "只处理这位负责人", "Only this salesperson", metavar="NAME")
    province: str | None = option(None, "省份", "Province(s)", metavar="LIST")
    city: str | None = option(None, "城市", "City(ies)", metavar="LIST")
    tag: str | None = option(None, "标签", "Tag(s)", metavar="LIST")
    deal_status: str | None = option(None, "成交状态", "Deal status(es)", metavar="LIST")
    has: str | None = option(None, "必须有：email,address,mobile", "Must have: email,address,mobile",
                             metavar="email,address,mobile")
    birthday_month: int | None = option(None, "生日月份 1–12", "Birthday month 1–12", metavar="1-12")
    not_contacted_days: int | None = option(None, "超过 N 天未联系", "Not contacted for N days", metavar="N")
    dedupe_address: bool = option(False, "同公司同地址只寄一封", "One letter per address")
    encoding: str = option("utf-8", "CSV 编码：utf-8（带 BOM）或 gb18030", "CSV encoding: utf-8 (with BOM) or gb18030",
                           metavar="utf-8|gb18030")
    password: str | None = option(None, "加密 .xlsx 的密码", "Encrypt the .xlsx with this password",
                                  metavar="TEXT")


def export_options(ctx: Context) -> dict:
    """The filter options of an export, with the shared --owner folded in."""
    opts = ctx.opts(ExportOptions)
    return {**dataclasses.asdict(opts), "owner": opts.owner or ctx.owner}


MERGE_HEADERS: dict[str, tuple[str, str]] = {  # ops.export.MERGE_KEYS → (zh, en)
    "customer_id": ("客户编号", "Customer ID"),
    "company": ("公司名称", "Company"),
    "contact": ("联系人", "Contact"),
    "title": ("职务", "Title"),
    "salutation": ("称呼", "Salutation"),
    "greeting": ("问候语", "Greeting"),
    "address_line1": ("地址行1", "Address Line 1"),
    "address_line2": ("地址行2", "Address Line 2"),
    "address_line3": ("地址行3", "Address Line 3"),
    "postcode": ("邮编", "Postcode"),
    "email": ("邮箱", "Email"),
    "mobile": ("手机", "Mobile"),
    "owner": ("负责人", "Owner"),
}


def merge_headers(lang: str) -> list[str]:
    return [zh_or_en(lang, *MERGE_HEADERS[key]) for key in MERGE_KEYS]


def headed_merge_list(chosen: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The mail-merge list with its headers in `lang` (what the sheet, the file and --format json show)."""
    frame = merge_list(chosen, lang)
    frame.columns = merge_headers(lang)
    return frame


def plan_export(book: CrmBook, ctx: Context) -> Planned:
    """Select and build the mail-merge list. The plan writes the Export sheet unless the list goes to a
    file only (`to` set and `sheet` not); the file itself is written by `export_command`."""
    lang = ctx.language(book)
    options = export_options(ctx)
    flt = ExportFilter.from_options(options)
    grades = grade_customers(book.customers, book.followups, book.settings, ctx.today)["grade"]
    sel = select_customers(book.customers, book.followups, flt, ctx.today, grades)
    merged = headed_merge_list(sel.customers, lang)
    to = options.get("to")
    name = book.sheet_name_for("export")
    plan = EditPlan(operation="export")
    if not to or options.get("sheet"):
        title = zh_or_en(lang, f"邮件合并名单 · {ctx.today:%Y-%m-%d} · {len(merged)} 位客户",
                   f"Mail-merge list · {ctx.today:%Y-%m-%d} · {len(merged)} customers")
        if sel.no_consent:
            title += zh_or_en(lang, f"（{sel.no_consent} 位未同意营销，已略过）", f" ({sel.no_consent} without consent left out)")
        plan.add(SheetReplace(name, [Block(merged, title=title, autofilter=True)], after=after_data_sheets(book),
                              tab_color=TAB_EXPORT, owner="export"))
    where = str(to) if to and not options.get("sheet") else (f"{to} + “{name}”" if to else f"“{name}”")
    result = CommandResult("export", export_message(sel.matched, sel.no_consent, sel.deduped, len(merged), where),
                           counts={"exported": len(merged), "matched": sel.matched, "no_consent": sel.no_consent,
                                   "deduped": sel.deduped},
                           data={"rows": merged.to_dict("records")})
    return Planned(plan, result, book)


@command("export", "导出", "Export", "按条件导出邮件合并名单（只含同意营销的客户）到文件或“导出”工作表",
         "Export a mail-merge list (customers with marketing consent only) to a file or the Export sheet",
         options=ExportOptions)
def export_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    planned = plan_export(port.read(), ctx)
    opts = ctx.opts(ExportOptions)
    to = opts.to
    if to and not ctx.dry_run:
        lang = ctx.language(planned.book)
        rows = pd.DataFrame(planned.result.data["rows"], columns=merge_headers(lang))
        write_export(rows, Path(to), encoding=opts.encoding or "utf-8", password=opts.password, sheet_name=planned.book.sheet_name_for("export"))
        planned.result.written = True
    return apply_planned(port, planned, ctx)
