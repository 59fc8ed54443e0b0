"""xlcrm in xlwings Lite (Excel on the web / desktop, Python in the browser): zero install.

Paste this file into the xlwings Lite editor and `requirements.txt` into its requirements tab.
Each button below runs exactly the command the ribbon and the CLI run (`xlcrm.commands.run`),
over the same live-workbook adapter. Lite has no files on disk: Export writes to the Export
sheet, never a file. Results are shown in an alert in the workbook's language.
"""

import datetime as dt

import xlwings as xw
from xlwings import script

from xlcrm.addin import run_tag
from xlcrm.workbook.xlwings_adapter import XlwingsWorkbook


def _run(book: xw.Book, tag: str) -> None:
    port = XlwingsWorkbook(book)
    run_tag(tag, port, today=dt.date.today(), alert=port.alert)


@script
def xlcrm_run_all(book: xw.Book):
    """全部运行 / Run all"""
    _run(book, "run")


@script
def xlcrm_check(book: xw.Book):
    """校验 / Check"""
    _run(book, "check")


@script
def xlcrm_regrade(book: xw.Book):
    """评级 / Regrade"""
    _run(book, "regrade")


@script
def xlcrm_due_today(book: xw.Book):
    """今日跟进 / Due Today"""
    _run(book, "due")


@script
def xlcrm_dedupe(book: xw.Book):
    """查重 / Dedupe"""
    _run(book, "dedupe")


@script
def xlcrm_merge(book: xw.Book):
    """合并 / Merge"""
    _run(book, "merge")


@script
def xlcrm_undo_merge(book: xw.Book):
    """撤销合并 / Undo merge"""
    _run(book, "undo_merge")


@script
def xlcrm_summary(book: xw.Book):
    """汇总 / Summary"""
    _run(book, "summary")


@script
def xlcrm_receivables(book: xw.Book):
    """应收 / Receivables"""
    _run(book, "receivables")


@script
def xlcrm_export(book: xw.Book):
    """导出到“导出”表 / Export to the Export sheet"""
    _run(book, "export")


@script
def xlcrm_card(book: xw.Book):
    """客户卡（先选中客户所在的行）/ Card of the selected customer"""
    _run(book, "card")


@script
def xlcrm_help(book: xw.Book):
    """帮助 / Help"""
    _run(book, "help")


@script
def xlcrm_sync(book: xw.Book):
    """同步（团队库）/ Sync with the team store"""
    _run(book, "sync")


@script
def xlcrm_handover(book: xw.Book):
    """移交（团队库）/ Handover in the team store"""
    _run(book, "handover")
