"""Merge (合并) and Undo merge (撤销合并) of the duplicates decided on the Duplicates sheet: the
commands and their options. The planning is in merge_plan.py, the undo in merge_undo.py.

- `merge`: merge the groups marked on the Duplicates sheet: the master keeps its ID and gets its
  blanks filled, conflicts are listed in the Change Log (never overwritten), follow-ups and
  purchases are re-pointed, merged rows move to the Archive, and an undo record is kept.
- `merge` with `undo`: restore the last merge (rows, IDs, child rows, filled cells).
"""

from __future__ import annotations

import dataclasses

from ..schema import ARCHIVE, DEDUPE_MEMORY, DUPLICATES
from ..workbook.port import WorkbookPort
from .base import CommandResult, Context, apply_planned, command
from .merge_plan import plan_merge_book
from .merge_undo import plan_undo
from .options import Options, option


@dataclasses.dataclass(frozen=True)
class MergeOptions(Options):
    undo: bool = option(False, "撤销上次合并", "Restore the last merge")


@command("merge", "合并", "Merge", "合并“查重”工作表上标记的重复客户（--undo 撤销上次合并）",
         "Merge the duplicates marked on the Duplicates sheet (--undo restores the last merge)", options=MergeOptions)
def merge_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    book = port.read()
    mem = port.read_sheet(book.sheet_name_for(DEDUPE_MEMORY.key))
    dup = port.read_sheet(book.sheet_name_for(DUPLICATES.key))
    if ctx.opts(MergeOptions).undo:
        planned = plan_undo(book, ctx, memory_sheet=mem, dup_sheet=dup,
                            archive_sheet=port.read_sheet(book.sheet_name_for(ARCHIVE.key)))
    else:
        planned = plan_merge_book(book, ctx, dup_sheet=dup, memory_sheet=mem)
    return apply_planned(port, planned, ctx)


@command("undo_merge", "撤销合并", "Undo merge", "撤销上次合并", "Restore the last merge")
def undo_merge_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    book = port.read()
    mem = port.read_sheet(book.sheet_name_for(DEDUPE_MEMORY.key))
    planned = plan_undo(book, ctx, memory_sheet=mem, dup_sheet=port.read_sheet(book.sheet_name_for(DUPLICATES.key)),
                        archive_sheet=port.read_sheet(book.sheet_name_for(ARCHIVE.key)))
    return apply_planned(port, planned, ctx)


__all__ = ["MergeOptions", "plan_merge_book", "plan_undo"]
