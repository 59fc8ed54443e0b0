"""Due Today's service part (issue 15 item 2), for books with a Service sheet (服务记录):

- complaints unresolved past the SLA go in a table under the day's follow-ups on Due Today;
- customers with no follow-up and no service for `no_contact_days` go in a table under the Stale list
  ("建议重新分配": the manager hands them to someone else).

A book without a Service sheet gets exactly the Due Today and Stale sheets it got before.
"""

from __future__ import annotations

import pandas as pd

from ..errors import Msg
from ..ops.service import open_complaints, reassignment_list
from ..workbook.book import CrmBook
from ..workbook.edits import FMT_DATE, Block, SheetReplace
from .base import Context
from .summary_practices import COMPLAINT_COLS, append_below

REASSIGN_COLS = {"customer_id": ("客户编号", "Customer ID"), "customer": ("客户", "Customer"),
                 "owner": ("负责人", "Owner"), "grade": ("客户等级", "Grade"),
                 "last_touch": ("最近跟进或服务", "Last follow-up or service"),
                 "days_since": ("未联系天数", "Days without contact"),
                 "_row": ("客户资料行号", "Basic Info Row")}
FILL_COMPLAINT = "FFF8CBAD"  # warm, as grade A rows: to be dealt with today


def _t(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def _labelled(df: pd.DataFrame, labels: dict[str, tuple[str, str]], lang: str) -> pd.DataFrame:
    return df[[k for k in labels if k in df.columns]].rename(columns={k: _t(lang, *v) for k, v in labels.items()})


def add_service_lists(book: CrmBook, ctx: Context, computed: pd.DataFrame, due_sheet: SheetReplace,
                      stale_sheet: SheetReplace) -> tuple[dict[str, int], Msg | None]:
    """Add the two tables (when the book has a Service sheet); the counts and a line for the message."""
    if book.service is None:
        return {}, None
    lang = ctx.language(book)
    days = book.settings.complaint_sla_days
    complaints = open_complaints(book.service, book.customers, book.settings, ctx.today)
    reassign = reassignment_list(book.customers, computed["last_contact"], computed["grade"], book.service,
                                 book.settings, ctx.today, owner=ctx.owner)
    if ctx.owner:
        complaints = complaints[complaints["owner"].fillna("").str.strip() == ctx.owner.strip()]
    shown = _labelled(complaints.drop(columns=["_row"]), COMPLAINT_COLS, lang)
    title = _t(lang, f"超过 {days} 天未解决的投诉：{len(complaints)} 件（请今天处理）",
               f"Complaints unresolved after {days} days: {len(complaints)} (deal with them today)")
    append_below(due_sheet, [Block(shown, title=title, number_formats={_t(lang, *COMPLAINT_COLS["date"]): FMT_DATE},
                                   row_fills={i: FILL_COMPLAINT for i in range(len(shown))},
                                   wrap=(_t(lang, *COMPLAINT_COLS["description"]),))])
    listed = _labelled(reassign, REASSIGN_COLS, lang)
    rtitle = _t(lang, f"超过 {book.settings.no_contact_days} 天既无跟进也无服务：{len(reassign)} 位（建议重新分配）",
                f"No follow-up or service for {book.settings.no_contact_days}+ days: {len(reassign)} (reassign)")
    append_below(stale_sheet, [Block(listed, title=rtitle,
                                     number_formats={_t(lang, *REASSIGN_COLS["last_touch"]): FMT_DATE})])
    msg = Msg("{c} 件投诉超过 {d} 天未解决（见“{sheet}”）；{r} 位客户 {n} 天既无跟进也无服务，建议重新分配。",
              "{c} complaints unresolved after {d} days (see '{sheet}'); {r} customers have had no follow-up or "
              "service for {n} days: consider reassigning them.",
              {"c": len(complaints), "d": days, "sheet": due_sheet.name, "r": len(reassign),
               "n": book.settings.no_contact_days})
    return {"open_complaints": len(complaints), "reassign": len(reassign)}, msg
