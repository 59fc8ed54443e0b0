"""Due Today's service part (issue 15 item 2), for books with a Service sheet (服务记录):

- complaints unresolved past the SLA, and customers with no follow-up and no service for
  `no_contact_days` ("建议重新分配": the manager hands them to someone else), on the 服务提醒 /
  Service Alerts tool sheet beside Due Today; Due Today's title says how many complaints wait.

A book without a Service sheet gets exactly the Due Today and Stale sheets it got before.
"""

from __future__ import annotations

import pandas as pd

from ..errors import Msg
from ..ops.service import open_complaints, reassignment_list
from ..workbook.book import CrmBook
from ..workbook.edits import FMT_DATE, Block, SheetReplace
from .base import Context, zh_or_en
from .summary_practices import COMPLAINT_COLS

REASSIGN_COLS = {"customer_id": ("客户编号", "Customer ID"), "customer": ("客户", "Customer"),
                 "owner": ("负责人", "Owner"), "grade": ("客户等级", "Grade"),
                 "last_touch": ("最近跟进或服务", "Last follow-up or service"),
                 "days_since": ("未联系天数", "Days without contact"),
                 "_row": ("客户资料行号", "Basic Info Row")}
FILL_COMPLAINT = "FFF8CBAD"  # warm, as grade A rows: to be dealt with today


def _labelled(df: pd.DataFrame, labels: dict[str, tuple[str, str]], lang: str) -> pd.DataFrame:
    return df[[k for k in labels if k in df.columns]].rename(columns={k: zh_or_en(lang, *v) for k, v in labels.items()})


def add_service_lists(book: CrmBook, ctx: Context, computed: pd.DataFrame,
                      due_sheet: SheetReplace) -> tuple[dict[str, int], Msg | None, SheetReplace | None]:
    """The Service Alerts sheet (when the book has a Service sheet and there is something to show, or the
    sheet exists and must not go stale), the counts, a line for the message; Due Today's title says how
    many complaints wait. Due Today itself stays one list (print titles, filter, readers)."""
    if book.service is None:
        return {}, None, None
    lang = ctx.language(book)
    days, silent = book.settings.complaint_sla_days, book.settings.no_contact_days
    complaints = open_complaints(book.service, book.customers, book.settings, ctx.today)
    reassign = reassignment_list(book.customers, computed["last_contact"], computed["grade"], book.service,
                                 book.settings, ctx.today, owner=ctx.owner)
    if ctx.owner:
        complaints = complaints[complaints["owner"].fillna("").str.strip() == ctx.owner.strip()]
    counts = {"open_complaints": len(complaints), "reassign": len(reassign)}
    if not (len(complaints) or len(reassign) or "service_alerts" in book.tool_sheets):
        return counts, None, None
    name = book.sheet_name_for("service_alerts")
    shown = _labelled(complaints.drop(columns=["_row"]), COMPLAINT_COLS, lang)
    title = zh_or_en(lang, f"超过 {days} 天未解决的投诉 {ctx.today:%Y-%m-%d}：{len(complaints)} 件（请今天处理）",
               f"Complaints unresolved after {days} days ({ctx.today:%Y-%m-%d}): {len(complaints)} (deal with them today)")
    blocks = [Block(shown, title=title, at=(1, 1), number_formats={zh_or_en(lang, *COMPLAINT_COLS["date"]): FMT_DATE},
                    row_fills={i: FILL_COMPLAINT for i in range(len(shown))}, widths={shown.columns[5]: 30},
                    wrap=(zh_or_en(lang, *COMPLAINT_COLS["description"]),))]
    listed = _labelled(reassign, REASSIGN_COLS, lang)
    rtitle = zh_or_en(lang, f"超过 {silent} 天既无跟进也无服务：{len(reassign)} 位（建议重新分配）",
                f"No follow-up or service for {silent}+ days: {len(reassign)} (consider reassigning)")
    blocks.append(Block(listed, title=rtitle, at=(blocks[0].height + 3, 1),
                        number_formats={zh_or_en(lang, *REASSIGN_COLS["last_touch"]): FMT_DATE}))
    sheet = SheetReplace(name, blocks, after=due_sheet.name, freeze_header=False, tab_color=FILL_COMPLAINT,
                         owner="service_alerts")
    if len(complaints) and due_sheet.blocks and due_sheet.blocks[0].title:
        due_sheet.blocks[0].title += zh_or_en(lang, f"；另有 {len(complaints)} 件投诉超过 {days} 天未解决，见“{name}”",
                                        f"; {len(complaints)} complaints past {days} days: see '{name}'")
    msg = Msg("{c} 件投诉超过 {d} 天未解决；{r} 位客户 {n} 天既无跟进也无服务，建议重新分配。见“{sheet}”。",
              "{c} complaints unresolved after {d} days; {r} customers have had no follow-up or service for {n} "
              "days (consider reassigning them). See '{sheet}'.",
              {"c": len(complaints), "d": days, "sheet": name, "r": len(reassign), "n": silent})
    return counts, msg, sheet
