"""客户卡 / Card: `xlcrm card BOOK CUSTOMER_ID`, and the ribbon button acting on the selected row.

Writes one tool sheet (schema.CARD, owned like every other tool sheet: a user's own 客户卡 is never
touched — xlcrm writes "客户卡 (2)") with the customer's basic info as field/value pairs, then all
their follow-ups, purchases and service records, newest first; printable like the other tool sheets.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from ..errors import Msg, XlcrmError
from ..ops.card import Card, build_card
from ..schema import CARD, SHEETS_BY_KEY
from ..workbook.book import ROW, CrmBook
from ..workbook.edits import Block, EditPlan, SheetReplace
from ..workbook.port import WorkbookPort
from .base import CommandResult, Context, Planned, after_data_sheets, apply_planned, command, tool_frame, zh_or_en
from .daily import COMPUTED, compute_columns
from .options import Options, option

TAB_CARD = "FF7030A0"
SECTIONS = {"followups": ("跟进记录", "Follow-ups"), "purchases": ("购买记录", "Purchases"),
            "service": ("服务记录", "Service")}


@dataclass(frozen=True)
class CardOptions(Options):
    customer_id: str | None = option(None, "客户编号（不填：Excel 中选中的行）", "Customer ID (blank: the row selected in Excel)",
                                     metavar="ID")


def _section(key: str, rows: pd.DataFrame, lang: str) -> Block:
    spec = SHEETS_BY_KEY[key]
    shown = rows.copy()
    for col in spec.columns:
        if col.choices and col.key in shown:
            labels = {ch.code: ch.label(lang) for ch in col.choices}
            shown[col.key] = shown[col.key].map(lambda v, labels=labels: labels.get(v, v) if v else None)
    frame, formats, widths = tool_frame(spec, shown, lang)
    row_header = zh_or_en(lang, "行号", "Row")
    frame[row_header] = rows[ROW].to_numpy()
    title = zh_or_en(lang, f"{SECTIONS[key][0]}（{len(rows)} 条，最新在前）", f"{SECTIONS[key][1]} ({len(rows)}, newest first)")
    return Block(frame, title=title, number_formats={**formats, row_header: "0"}, widths={**widths, row_header: 6})


def card_blocks(card: Card, lang: str) -> list[Block]:
    info = card.info.rename(columns={"field": zh_or_en(lang, "项目", "Field"), "value": zh_or_en(lang, "内容", "Value")})
    title = zh_or_en(lang, f"客户卡：{card.customer_id} {card.name}（客户资料第 {card.row} 行）",
               f"Customer card: {card.customer_id} {card.name} (Basic Info row {card.row})")
    blocks = [Block(info, title=title, widths={info.columns[0]: 18, info.columns[1]: 40})]
    return blocks + [_section(key, rows, lang) for key, rows in card.records.items()]


def _as_of_today(book: CrmBook, customer_id: str, today) -> CrmBook:
    """The book cut down to one customer, its computed columns worked out for today (grade, next follow-up,
    classifications…) — the card is right even before the next Regrade. ABC class ranks every customer,
    so it stays as last written."""
    from ..ops.card import find_customer

    rows = book.customers.loc[find_customer(book.customers, customer_id)]
    cid = rows["customer_id"].iloc[0]

    def mine(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        return None if frame is None else frame[frame["customer_id"] == cid]

    one = dataclasses.replace(book, customers=rows, followups=mine(book.followups), purchases=mine(book.purchases),
                              service=mine(book.service))
    fresh = compute_columns(one, today)
    rows = rows.copy()
    for key in COMPUTED:
        if key != "abc_class":
            rows[key] = fresh[key]
    return dataclasses.replace(one, customers=rows)


def plan_card(book: CrmBook, ctx: Context, customer_id: str) -> Planned:
    lang = ctx.language(book)
    card = build_card(_as_of_today(book, customer_id, ctx.today), customer_id, lang)
    name = book.sheet_name_for("card")
    sheet = SheetReplace(name, card_blocks(card, lang), after=after_data_sheets(book), freeze_header=False,
                         tab_color=TAB_CARD, owner=CARD.key)
    counts = {key: len(rows) for key, rows in card.records.items()}
    # Optional parts go into the message's own text (not its values), so zh-TW output converts them too.
    zh = "客户卡已生成（“{sheet}”工作表）：{id} {name}，跟进 {f} 条，购买 {p} 条"
    en = "Customer card written (sheet '{sheet}'): {id} {name}, {f} follow-ups, {p} purchases"
    if "service" in counts:
        zh, en = zh + "，服务 {s} 条", en + ", {s} service records"
    zh, en = zh + "。", en + "."
    if card.duplicates:
        zh += "另有 {d} 行使用同一编号，见“校验”。"
        en += " {d} more rows use the same ID: see Check."
    msg = Msg(zh, en, {"sheet": name, "id": card.customer_id, "name": card.name, "f": counts["followups"],
                       "p": counts["purchases"], "s": counts.get("service", 0), "d": card.duplicates})
    plan = EditPlan(operation="card").add(sheet)
    result = CommandResult("card", msg, counts={"customers": 1, **counts},
                           data={"customer_id": card.customer_id, "row": card.row})
    return Planned(plan, result, book)


def selected_customer(port: WorkbookPort, book: CrmBook) -> str:
    """The customer ID of the row selected in Excel: on a data sheet, that row's customer; on any other sheet
    (Due Today, Stale, Service Alerts, Duplicates…), the first cell of the row holding a known customer ID."""
    where = port.selection() if hasattr(port, "selection") else None
    if where:
        sheet, row = where
        for key, info in book.sheets.items():
            if info.name.casefold() == str(sheet).casefold():
                frame = book.frame(key)
                hit = frame.loc[frame[ROW] == row, "customer_id"]
                if len(hit) and isinstance(hit.iloc[0], str) and hit.iloc[0].strip():
                    return hit.iloc[0]
                break
        else:  # a tool sheet's row (Due Today, Stale, Service Alerts…): the first cell holding a known ID
            known = set(book.customers["customer_id"].dropna().astype(str))
            values = port.row_values(sheet, row) if hasattr(port, "row_values") else []
            for value in values:
                if isinstance(value, str) and value.strip() in known:
                    return value.strip()
    raise XlcrmError("请先选中某位客户所在的行（客户资料、跟进、购买、服务记录，或今日跟进等清单），再点“客户卡”。",
                     "Select a customer's row first (on Basic Info, Follow-up, Purchases, Service, or a list such as "
                     "Due Today), then click Card.")


@command("card", "客户卡", "Card", "把选中客户的基本信息、跟进、购买和服务记录列在“客户卡”表上",
         "Show the selected customer's basic info, follow-ups, purchases and service records on the Card sheet",
         options=CardOptions)
def card_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    options = ctx.opts(CardOptions)
    book = port.read()
    customer_id = (options.customer_id or "").strip() or selected_customer(port, book)
    return apply_planned(port, plan_card(book, ctx, customer_id), ctx)
