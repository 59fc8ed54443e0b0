"""zh-TW output for a planned write: xlcrm's own words on the tool sheets in Traditional.

Commands build their sheets' titles, headers and dropdown choices in zh-CN or en; for a zh-TW
book the plan is converted here, once, just before it is written (see `xlcrm.i18n`). Only text
xlcrm made is touched: tool-sheet titles, headers, chart titles and offered choices. Cell values
(the user's data, quoted values) and anything written into the user's own sheets are left as is.
"""

from __future__ import annotations

import dataclasses

from ..i18n import has_simplified, traditional
from ..model.ownership import is_internal
from ..schema import CHANGE_LOG
from ..workbook.edits import AppendRows, Block, EditPlan, SheetReplace


def _tw(text: str) -> str:
    # Text already in Traditional (a schema header like 代碼) is left alone: s2twp would re-phrase it.
    return traditional(text) if has_simplified(text) else text


def _block(block: Block) -> Block:
    renamed = {c: _tw(c) for c in block.df.columns if isinstance(c, str)}
    if len(set(renamed.values())) != len(renamed):  # two headers would become one: keep them apart
        renamed = {}
    df = block.df.rename(columns=renamed) if renamed else block.df

    def keyed(mapping: dict) -> dict:
        return {renamed.get(k, k): v for k, v in mapping.items()}

    return dataclasses.replace(
        block, df=df, title=_tw(block.title) if block.title else block.title,
        number_formats=keyed(block.number_formats), widths=keyed(block.widths),
        dropdowns={renamed.get(k, k): [_tw(str(v)) for v in vals] for k, vals in block.dropdowns.items()})


_OPERATION = CHANGE_LOG.column("operation").header("zh-TW")


def traditional_plan(plan: EditPlan) -> EditPlan:
    """The same plan with xlcrm's own tool-sheet text in Traditional (s2twp)."""
    edits = []
    for edit in plan.edits:
        if isinstance(edit, SheetReplace) and not is_internal(edit.sheet):  # state sheets hold data, not text
            blocks = [_block(b) for b in edit.blocks]
            charts = []
            for ch in edit.charts:
                df = edit.blocks[ch.block].df
                new = blocks[ch.block].df
                name = dict(zip(df.columns, new.columns, strict=True))
                charts.append(dataclasses.replace(ch, title=_tw(ch.title), categories=name.get(ch.categories,
                                                  ch.categories), series=[name.get(s, s) for s in ch.series]))
            edit = dataclasses.replace(edit, blocks=blocks, charts=charts)
        elif isinstance(edit, AppendRows) and _OPERATION in edit.df.columns:
            # the Change Log's Operation cells name what xlcrm did (校验 → 校驗); the other cells are data
            df = edit.df.copy()
            df[_OPERATION] = [_tw(v) if isinstance(v, str) else v for v in df[_OPERATION]]
            edit = dataclasses.replace(edit, df=df)
        edits.append(edit)
    return dataclasses.replace(plan, edits=edits)
