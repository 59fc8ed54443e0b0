"""Import (导入): the command — bring rows from a CSV or another workbook in, or revert an import.

The planning lives in `import_plan`, the undo in `import_undo`; this module only wires them to a command.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..errors import XlcrmError
from ..workbook.port import WorkbookPort
from .base import CommandResult, Context, apply_planned, command
from .daily import archived_ids
from .import_plan import plan_import, read_source
from .import_undo import id_of, log_frame, plan_undo_import
from .options import Options, option

# --------------------------------------------------------------------------- the command


@dataclasses.dataclass(frozen=True)
class ImportOptions(Options):
    source: str | None = option(None, "来源：CSV（UTF-8/GBK/GB18030/Big5）或工作簿",
                                "Source: a CSV or a workbook", metavar="SOURCE")
    undo: bool = option(False, "撤销上次导入（只需给出工作簿）", "Revert the last import (give the book only)")
    sheet: str | None = option(None, "CSV 的内容（默认按表头判断）", "What the CSV holds (default: from its headers)",
                               metavar="customers|followups|purchases")
    import_id: str | None = option(None, "与 --undo 一起：撤销这次导入（默认最近一次）",
                                   "With --undo: the import to revert (default: the last one)", metavar="IMP-…")


@command("import", "导入", "Import", "把 CSV 或其他工作簿的客户、跟进、购买记录导入本工作簿（--undo 撤销）",
         "Bring customers, follow-ups and purchases from a CSV or another workbook into this one (--undo reverts)",
         ribbon=False, options=ImportOptions, api_name="import_file")
def import_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    book = port.read()
    opts = ctx.opts(ImportOptions)
    if opts.undo:
        log = port.read_sheet(book.sheet_name_for("change_log"))
        return apply_planned(port, plan_undo_import(book, ctx, log, opts.import_id), ctx)
    source = opts.source
    if not source:
        raise XlcrmError("导入需要一个来源文件：xlcrm import 来源.csv 工作簿.xlsx",
                         "Import needs a source file: xlcrm import source.csv book.xlsx")
    source = Path(source)
    if book.path is not None and source.resolve() == Path(book.path).resolve():
        raise XlcrmError("来源文件和目标工作簿是同一个文件。", "The source and the workbook are the same file.")
    incoming, problems, _lang = read_source(source, opts.sheet)
    if not incoming:
        raise XlcrmError("“{name}”中没有可导入的行。", "'{name}' has no rows to import.", name=source.name)
    log = log_frame(port.read_sheet(book.sheet_name_for("change_log")))
    used = {i for i in map(id_of, log["operation"]) if i}
    planned = plan_import(book, ctx, incoming, problems, source=source.name, archived=archived_ids(port, book),
                          used_ids=used)
    return apply_planned(port, planned, ctx)


__all__ = ["ImportOptions", "import_command"]
