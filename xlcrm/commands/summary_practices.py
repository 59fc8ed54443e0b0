"""The seed practices' part of the Summary: the manager's weekly review per salesperson, the
customer classifications, and complaints past their SLA (issue 15 items 2–4).

`practices(book, ctx, computed)` computes them once; `summary_blocks` lays them out below the Summary's
other tables, `markdown` and `as_json` give the same numbers to `--format md|json`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..ops.classify import CLASSIFICATIONS, classification_counts
from ..ops.review import weekly_review
from ..ops.service import open_complaints, reassignment_list
from ..schema import CUSTOMERS, choice_label
from ..workbook.book import CrmBook
from ..workbook.edits import FMT_DATE, FMT_INT, FMT_PERCENT, Block, SheetReplace
from .base import Context, zh_or_en

REVIEW_COLS: dict[str, tuple[str, str]] = {
    "owner": ("负责人", "Owner"), "customers": ("客户数", "Customers"),
    "cards_added": ("本周新增客户卡", "Cards added (week)"),
    "cards_active": ("本周有新记录的客户卡", "Cards with new records (week)"),
    "followups_week": ("本周跟进次数", "Follow-ups (week)"), "due_now": ("应跟进客户", "Due now"),
    "overdue": ("逾期未跟进", "Overdue"), "incomplete": ("资料不全的客户卡", "Incomplete cards"),
    "ab_off_cadence": ("A/B级未按周期跟进", "A/B off cadence"),
    "open_complaints": ("超期未解决投诉", "Complaints past SLA"),
    "reassign": ("建议重新分配", "To reassign"),
    "sales_30d": ("近30天销售额", "Sales (30 d)"), "collected_30d": ("其中已回款", "Collected (30 d)"),
    "collection_rate": ("回款率", "Collection rate"), "outstanding": ("未收款合计", "Outstanding"),
}
CLASS_COLS = {"classification": ("分类", "Classification"), "value": ("类别", "Class"),
              "customers": ("客户数", "Customers")}
COMPLAINT_COLS = {"customer_id": ("客户编号", "Customer ID"), "customer": ("客户", "Customer"),
                  "owner": ("负责人", "Owner"), "date": ("投诉日期", "Opened"), "days_open": ("已过天数", "Days open"),
                  "description": ("内容", "Description"), "handler": ("处理人", "Handler")}
CLASS_NAMES = {"deal_stage": ("成交状态", "Deal status"), "urgency": ("紧急程度", "Urgency"),
               "importance_tier": ("重要程度", "Importance"), "loyalty": ("忠诚度", "Loyalty")}
UNASSIGNED = ("（未分配）", "(unassigned)")  # as the Summary's other per-salesperson tables
COMPLAINT_ROWS = 20  # the Summary shows the oldest ones; Due Today lists them all


@dataclass
class Practices:
    review: pd.DataFrame
    classes: pd.DataFrame  # classification, value (code), customers
    complaints: pd.DataFrame
    reassign: pd.DataFrame


def practices(book: CrmBook, ctx: Context, computed: pd.DataFrame) -> Practices:
    """`computed`: the book's computed columns for today (`daily.compute_columns`, as Regrade writes them)."""
    lang = ctx.language(book)
    service = book.frame("service")
    complaints = open_complaints(service, book.customers, book.settings, ctx.today)
    reassign = reassignment_list(book.customers, computed["last_contact"], computed["grade"], service,
                                 book.settings, ctx.today)
    review = weekly_review(book.customers, book.followups, book.purchases, service, computed, ctx.today,
                           complaints=complaints, reassign=reassign, unassigned=zh_or_en(lang, *UNASSIGNED))
    counts = classification_counts(computed)
    rows = []
    for key in CLASSIFICATIONS:
        for choice in CUSTOMERS.column(key).choices:
            rows.append({"classification": key, "value": choice.code, "customers": counts[key].get(choice.code, 0)})
    return Practices(review, pd.DataFrame(rows), complaints, reassign)


def _relabel(df: pd.DataFrame, labels: dict[str, tuple[str, str]], lang: str) -> pd.DataFrame:
    return df[[k for k in labels if k in df.columns]].rename(columns={k: zh_or_en(lang, *v) for k, v in labels.items()})


def class_table(p: Practices, lang: str) -> pd.DataFrame:
    named = p.classes.assign(
        classification=[zh_or_en(lang, *CLASS_NAMES[k]) for k in p.classes["classification"]],
        value=[choice_label(CUSTOMERS.column(k).choices, v, lang)
               for k, v in zip(p.classes["classification"], p.classes["value"], strict=True)])
    return _relabel(named, CLASS_COLS, lang)


def summary_blocks(p: Practices, lang: str, settings) -> list[Block]:
    review = _relabel(p.review, REVIEW_COLS, lang)
    money = [zh_or_en(lang, *REVIEW_COLS[k]) for k in ("sales_30d", "collected_30d", "outstanding")]
    blocks = [
        Block(review, title=zh_or_en(lang, "每周检查：各业务员的客户资料卡（近7天）与销售、收款是否平衡（近30天）",
                               "Weekly review per salesperson (last 7 days), sales vs collections (last 30 days)"),
              number_formats={**{c: FMT_INT for c in money}, zh_or_en(lang, *REVIEW_COLS["collection_rate"]): FMT_PERCENT}),
        Block(class_table(p, lang), title=zh_or_en(lang, "客户分类：成交状态、紧急程度、重要程度、忠诚度",
                                              "Classifications: deal status, urgency, importance, loyalty")),
    ]
    shown = p.complaints.head(COMPLAINT_ROWS)
    title = zh_or_en(lang, f"超过 {settings.complaint_sla_days} 天未解决的投诉：{len(p.complaints)} 件",
               f"Complaints unresolved after {settings.complaint_sla_days} days: {len(p.complaints)}")
    if len(p.complaints) > len(shown):
        title += zh_or_en(lang, f"（显示最早的 {len(shown)} 件）", f" (oldest {len(shown)} shown)")
    complaints = _relabel(shown, COMPLAINT_COLS, lang)
    blocks.append(Block(complaints, title=title, number_formats={zh_or_en(lang, *COMPLAINT_COLS["date"]): FMT_DATE},
                        wrap=(zh_or_en(lang, *COMPLAINT_COLS["description"]),)))
    return blocks


def append_below(sheet: SheetReplace, blocks: list[Block], gap: int = 2) -> None:
    """Stack `blocks` below everything already on the sheet (its tables and its charts)."""
    bottom, cursor = 0, 1
    for b in sheet.blocks:  # a block without a place sits right below the one before (as the writer does)
        top = b.at[0] if b.at is not None else cursor
        bottom = max(bottom, top + b.height - 1)
        cursor = top + b.height + 1
    for c in sheet.charts:
        bottom = max(bottom, c.anchor[0] + c.size[1])
    row = bottom + 1 + gap
    for b in blocks:
        b.at = (row, 1)
        sheet.blocks.append(b)
        row += b.height + gap


def markdown(p: Practices, lang: str) -> str:
    cols = [k for k in REVIEW_COLS if k not in ("collected_30d", "outstanding")]
    lines = ["", f"## {zh_or_en(lang, '每周检查（按负责人）', 'Weekly review by salesperson')}", "",
             "| " + " | ".join(zh_or_en(lang, *REVIEW_COLS[c]) for c in cols) + " |",
             "|---" + "|---:" * (len(cols) - 1) + "|"]
    for r in p.review.to_dict("records"):
        cells = []
        for c in cols:
            v = r[c]
            if c == "collection_rate":
                cells.append("—" if pd.isna(v) else f"{v:.1%}")
            elif c == "sales_30d":
                cells.append(f"{v:,.2f}")
            else:
                cells.append(f"{v:,}" if isinstance(v, int) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    table = class_table(p, lang)
    lines += ["", f"## {zh_or_en(lang, '客户分类', 'Classifications')}", "",
              "| " + " | ".join(table.columns) + " |", "|---|---|---:|"]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in table.itertuples(index=False)]
    lines += ["", zh_or_en(lang, f"超期未解决的投诉：{len(p.complaints)} 件；建议重新分配的客户：{len(p.reassign)} 位。",
                     f"Complaints past their SLA: {len(p.complaints)}; customers to reassign: {len(p.reassign)}.")]
    return "\n".join(lines) + "\n"


def as_json(p: Practices) -> dict:
    review = p.review.astype(object).where(p.review.notna(), None).to_dict("records")
    classes: dict[str, dict[str, int]] = {}
    for r in p.classes.to_dict("records"):
        classes.setdefault(r["classification"], {})[r["value"]] = int(r["customers"])
    complaints = p.complaints.drop(columns=["_row"]).assign(date=p.complaints["date"].dt.strftime("%Y-%m-%d"))
    return {"weekly_review": review, "classifications": classes,
            "open_complaints": complaints.astype(object).where(complaints.notna(), None).to_dict("records"),
            "reassign": len(p.reassign)}
