"""A repeat `xlcrm run` with nothing new does nothing.

`run` is a pure function of the workbook's bytes, the day, its options and xlcrm's version. The run
records those in the very-hidden `_xlcrm_run` sheet, with the tokens (`workbook.stamp`) of every sheet
of the file it saves. The next run that finds the same day, options and version and every sheet with
the same token — the file byte for byte as the last run left it, read from the zip directory in
milliseconds — answers from the record instead of reading the book. Any edit, in Excel or by another
xlcrm command, changes a token; a stale record can cost a read, never a missed change.
"""

from __future__ import annotations

import json

import pandas as pd

from ..model.messages import Msg
from ..workbook.edits import Block, EditPlan, SheetReplace, Stamp
from ..workbook.port import WorkbookPort
from ..workbook.stamp import MARKER, parse
from .base import CommandResult, Context

RUN_SHEET = "_xlcrm_run"
CHANGE_COUNTS = ("new_ids", "grade_changes", "first_grades")  # what a run did (none, this time); the others describe the book
EVERY_SHEET = "*"  # Stamp.sheets: every sheet of the saved file but the stamp's own


def key(ctx: Context) -> str:
    """What else the run's output depends on: the day, the options, the language, the version."""
    from ..version import __version__

    options = ctx.options if isinstance(ctx.options, dict) else vars(ctx.options)
    return json.dumps({"today": ctx.today.isoformat(), "lang": ctx.lang, "owner": ctx.owner,
                       "options": {k: str(v) for k, v in sorted(options.items())}, "version": __version__},
                      ensure_ascii=False, sort_keys=True)


def cached(port: WorkbookPort, ctx: Context) -> CommandResult | None:
    """The last run's result, if this run would do exactly what it did; else None."""
    now = port.sheet_tokens()
    if RUN_SHEET not in now:  # never run here, or live Excel (no saved parts to compare)
        return None
    frame = port.read_sheet(RUN_SHEET)
    if frame is None or frame.empty or not {"key", "value"} <= set(frame.columns):
        return None
    record = dict(zip(frame["key"], frame["value"]))
    recorded = parse(record.get("stamp"))
    now.pop(RUN_SHEET)
    if not recorded or record.get("run") != key(ctx) or recorded != now:
        return None
    last = json.loads(record.get("result") or "{}")
    msg = Msg("与上次运行相比没有任何变化（同一天、同样的选项），工作簿未改动。上次运行的结果：\n" + last.get("zh", ""),
              "Nothing has changed since the last run (same day, same options); the workbook is untouched. "
              "The last run's result:\n" + last.get("en", ""))
    counts = {k: 0 if k in CHANGE_COUNTS else v for k, v in last.get("counts", {}).items()}
    return CommandResult("run", msg, counts, data={"cached": True})


def record(plan: EditPlan, result: CommandResult, ctx: Context) -> None:
    """Add the run's record to its plan; the writer fills in the saved file's tokens."""
    text = json.dumps({"zh": result.message.text("zh-CN"), "en": result.message.text("en"),
                       "counts": result.counts}, ensure_ascii=False)
    rows = [["run", key(ctx)], ["result", text], ["stamp", MARKER]]
    plan.add(SheetReplace(RUN_SHEET, [Block(pd.DataFrame(rows, columns=["key", "value"]))], hidden="veryHidden",
                          freeze_header=False))
    plan.stamp = Stamp(RUN_SHEET, (EVERY_SHEET,))
