"""Info (信息): what xlcrm understands of a workbook or CSV — sheets, headers, rows and the problems
Check would report. Read-only: it plans nothing and writes nothing."""

from __future__ import annotations

from ..errors import Msg
from ..workbook.book import CrmBook
from ..workbook.port import WorkbookPort
from .base import CommandResult, Context, command


def info_data(book: CrmBook, problems: list[dict]) -> dict:
    """The machine-readable description (`xlcrm info --format json`, `xlcrm.info(path).data`)."""
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
        "problems": problems,
    }


def check_problems(book: CrmBook, ctx: Context) -> list[dict]:
    """The problems Check would list, without planning its writes into the caller's book."""
    from .daily import plan_check

    return plan_check(book, ctx).result.data["problems"]


@command("info", "信息", "Info", "报告工作表、表头对应、行数和“校验”会发现的问题（不写入）",
         "Report the sheets, header mapping, rows and the problems Check finds (writes nothing)",
         writes=False, ribbon=False)
def info_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    book = port.read()
    ctx.stage("校验", "Checking")
    problems = check_problems(book, ctx)
    errors = sum(p["severity"] == "error" for p in problems)
    warnings = sum(p["severity"] == "warning" for p in problems)
    rows = sum(len(book.frame(k)) for k in book.sheets)
    msg = Msg("{sheets} 个数据表，共 {rows} 行；“校验”会报告 {errors} 个错误、{warnings} 个警告。",
              "{sheets} data sheets, {rows} rows; Check would report {errors} errors and {warnings} warnings.",
              {"sheets": len(book.sheets), "rows": rows, "errors": errors, "warnings": warnings})
    return CommandResult("info", msg, counts={"errors": errors, "warnings": warnings, "rows": rows},
                         data=info_data(book, problems))
