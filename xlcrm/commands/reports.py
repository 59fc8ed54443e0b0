"""What managers open: Summary (汇总) and Receivables (应收). Export (导出) is in commands/export.py.

Pure `plan_*` functions (CrmBook in, `Planned` out) plus the registered commands over the port.
The numbers and codes come from `ops.summary` and `ops.receivables`; this module turns them into
text in the workbook's language and lays them out as blocks and native charts.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from ..errors import Msg
from ..ops.grade import GRADE_ORDER
from ..ops.receivables import AGEING, customer_receivables, owner_receivables, receivable_totals, with_total
from ..ops.summary import RowLabels, SummaryData, compute_summary
from ..schema import CREDIT_RATINGS, DEAL_STATUSES, choice_label
from ..workbook.book import CrmBook
from ..workbook.edits import FMT_DATE, FMT_INT, FMT_MONEY, FMT_PERCENT, Block, Chart, EditPlan, SheetReplace
from ..workbook.port import WorkbookPort
from .base import CommandResult, Context, Planned, after_data_sheets, apply_planned, command, zh_or_en
from .daily import compute_columns
from .options import Options, option
from .summary_practices import append_below, practices, summary_blocks
from .summary_practices import as_json as practices_json
from .summary_practices import markdown as practices_markdown

TAB_SUMMARY = "FF1F4E78"
TAB_RECEIVABLES = "FFC65911"
GAP = 2  # blank rows between sections
CHART_ROWS = 16
CHART_COLS = 7  # a chart spans the name column and six number columns: on screen and on one page wide
SUMMARY_MONEY = FMT_INT  # the manager's overview shows whole amounts (the cells keep the exact values)


def _relabel(df: pd.DataFrame, labels: dict[str, tuple[str, str]], lang: str) -> pd.DataFrame:
    """Rename internal columns to the user's language (columns not in `labels` keep their name)."""
    return df.rename(columns={k: zh_or_en(lang, *v) for k, v in labels.items() if k in df.columns})


def _plain(blocks: list[Block]) -> list[Block]:
    """Nullable number columns (Int64/Float64 with <NA>) as plain float64 with NaN, which every
    writer understands as a blank cell."""
    for b in blocks:
        nullable = [c for c in b.df.columns if isinstance(b.df[c].dtype, pd.api.extensions.ExtensionDtype)
                    and pd.api.types.is_numeric_dtype(b.df[c].dtype)]
        if nullable:
            b.df = b.df.astype({c: "float64" for c in nullable})
    return blocks


# --------------------------------------------------------------------------- labels

COMMON = {
    "owner": ("负责人", "Owner"), "customer_id": ("客户编号", "Customer ID"), "company": ("客户", "Customer"),
    "grade": ("等级", "Grade"), "total": ("合计", "Total"), "customers": ("客户数", "Customers"),
    "province": ("省份", "Province"), "month": ("月份", "Month"), "abc_class": ("ABC分类", "ABC Class"),
    "credit_rating": ("信用等级", "Credit"), "revenue_12m": ("近12个月销售额", "Revenue (12 mo)"),
    "total_purchases": ("累计购买", "Total Purchases"), "overdue": ("逾期应收", "Overdue"),
    "outstanding": ("未收款", "Outstanding"), "days_overdue": ("逾期天数", "Days Overdue"),
    "reasons": ("关注原因", "Why"), "invoiced": ("开票/订单额", "Invoiced"), "paid": ("已收款", "Paid"),
    "orders": ("订单数", "Orders"), "oldest_due": ("最早到期日", "Oldest Due"),
    "overdue_customers": ("逾期客户数", "Overdue Customers"), "max_days_overdue": ("最长逾期天数", "Max Days Overdue"),
    "overdue_1_30": ("逾期1-30天", "1–30 days"), "overdue_31_60": ("逾期31-60天", "31–60 days"),
    "overdue_61_90": ("逾期61-90天", "61–90 days"), "overdue_over_90": ("逾期90天以上", "Over 90 days"),
}
KPI_LABELS: dict[str, tuple[str, str]] = {
    "customers": ("客户总数", "Customers"),
    **{f"grade_{g}": (f"{g}级客户", f"Grade {g} customers") for g in GRADE_ORDER},
    "new_this_month": ("本月新增客户", "New customers this month"),
    "followups_7d": ("近7天跟进次数", "Follow-ups, last 7 days"),
    "followups_30d": ("近30天跟进次数", "Follow-ups, last 30 days"),
    "overdue_followup_customers": ("逾期未跟进客户", "Customers overdue for follow-up"),
    "overdue_customers": ("有逾期应收的客户", "Customers with overdue receivables"),
    "at_risk_customers": ("需关注客户", "Customers at risk"),
    "first_orders_30d": ("近30天首单客户", "First orders, last 30 days"),
}
MONEY_KPIS = {
    "outstanding": ("未收款合计", "Outstanding (all unpaid)"),
    "overdue_receivables": ("逾期应收合计", "Overdue receivables"),
}
# The words ops leaves to the command: unnamed rows, and the at-risk reason codes.
ROW_LABELS = {"unassigned": ("（未分配）", "(unassigned)"), "blank": ("（未填）", "(blank)"), "others": ("其他", "Others")}
RISK_TEXT = {"overdue": ("逾期应收", "overdue receivable"), "poor_credit": ("信用差", "poor credit"),
             "big_but_cold": ("大客户转冷(D/E)", "big customer gone cold (D/E)")}


def row_labels(lang: str) -> RowLabels:
    return RowLabels(**{key: zh_or_en(lang, *words) for key, words in ROW_LABELS.items()})


def risk_reasons(codes: str, lang: str) -> str:
    """'overdue,poor_credit' → '逾期应收；信用差' / 'overdue receivable; poor credit'."""
    return zh_or_en(lang, "；", "; ").join(zh_or_en(lang, *RISK_TEXT[code]) for code in codes.split(",") if code)


PERIODS = {"month": ("本月", "This month"), "quarter": ("本季度", "This quarter"), "year": ("本年", "This year")}
PERIOD_COLS = {"period": ("期间", "Period"), "start": ("起始日", "From"), "sales": ("销售额", "Sales"),
               "collected": ("已回款", "Collected"), "open": ("未回款", "Unpaid"),
               "collection_rate": ("回款率", "Collection rate")}
ACTIVITY_COLS = {"followups_7d": ("近7天跟进", "Follow-ups 7d"), "followups_30d": ("近30天跟进", "Follow-ups 30d"),
                 "overdue_followup": ("逾期未跟进", "Overdue follow-up")}
ABC_COLS = {"customers": ("客户数", "Customers"), "customer_share": ("客户占比", "Share of customers"),
            "revenue_12m": ("近12个月销售额", "Revenue (12 mo)"), "revenue_share": ("销售额占比", "Share of revenue")}
PIPE_COLS = {"stage": ("成交状态", "Stage"), "customers": ("当前客户数", "Customers now"),
             "new_in_period": ("近30天新建", "New (30 d)"),
             "followed_up_in_period": ("近30天有跟进", "Followed up (30 d)"),
             "first_order_in_period": ("近30天首单", "First order (30 d)")}


def _name_first(df: pd.DataFrame) -> pd.DataFrame:
    """Customer tables put the (wide) name in column A, where every other table has its (wide) label
    column, so stacked tables share sensible widths: labels wide, numbers narrow."""
    return df[["company", *(c for c in df.columns if c != "company")]]


def _kpi_blocks(s: SummaryData, lang: str) -> tuple[Block, Block, Block]:
    counts = pd.DataFrame({zh_or_en(lang, "指标", "Measure"): [zh_or_en(lang, *v) for v in KPI_LABELS.values()],
                           zh_or_en(lang, "数值", "Value"): [int(s.kpis[k]) for k in KPI_LABELS]})
    title = zh_or_en(lang, f"客户管理汇总 · 截至 {s.today:%Y-%m-%d}", f"CRM summary · as of {s.today:%Y-%m-%d}")
    kpi = Block(counts, title=title, at=(1, 1), number_formats={counts.columns[1]: FMT_INT})

    periods = s.periods.assign(period=[zh_or_en(lang, *PERIODS[p]) for p in s.periods["period"]])
    periods = _relabel(periods, PERIOD_COLS, lang)
    money_fmt = {zh_or_en(lang, *PERIOD_COLS[k]): FMT_MONEY for k in ("sales", "collected", "open")}
    sales = Block(periods, title=zh_or_en(lang, "销售与回款（按订单日期）", "Sales and collections (by order date)"),
                  at=(1, 4), number_formats={**money_fmt, zh_or_en(lang, *PERIOD_COLS["start"]): FMT_DATE,
                                             zh_or_en(lang, *PERIOD_COLS["collection_rate"]): FMT_PERCENT})
    recv = pd.DataFrame({zh_or_en(lang, "应收", "Receivables"): [zh_or_en(lang, *v) for v in MONEY_KPIS.values()],
                         zh_or_en(lang, "金额", "Amount"): [float(s.kpis[k]) for k in MONEY_KPIS]})
    receivables = Block(recv, title=zh_or_en(lang, "应收账款", "Receivables"), at=(1 + sales.height + 1, 4),
                        number_formats={recv.columns[1]: FMT_MONEY})
    return kpi, sales, receivables


def _money_formats(df: pd.DataFrame, money: list[str], ints: list[str] = (), pct: list[str] = ()) -> dict[str, str]:
    out = {c: FMT_MONEY for c in money if c in df.columns}
    out.update({c: FMT_INT for c in ints if c in df.columns})
    out.update({c: FMT_PERCENT for c in pct if c in df.columns})
    return out


def summary_sheet(s: SummaryData, name: str, lang: str, after: str | None = None) -> SheetReplace:
    """The Summary sheet: KPI blocks on top, then one section per table, charts beside their tables."""
    blocks: list[Block] = []
    charts: list[Chart] = []
    kpi, sales, recv = _kpi_blocks(s, lang)
    blocks += [kpi, sales, recv]
    row = max(kpi.height, sales.height + 1 + recv.height) + 1 + GAP

    def section(block: Block, chart: Chart | None = None) -> None:
        """A table, and its chart right below it: the sheet stays as wide as its widest table, so it
        prints one page wide at a readable size (charts beside the tables doubled the width)."""
        nonlocal row
        block.at = (row, 1)
        blocks.append(block)
        row += block.height
        if chart is not None:
            chart.block = len(blocks) - 1
            chart.anchor = (row + 1, 1)
            chart.size = (CHART_COLS, CHART_ROWS - 1)
            charts.append(chart)
            row += 1 + CHART_ROWS
        row += GAP

    # Activity and receivables per salesperson.
    act = _relabel(s.activity_by_owner, {**COMMON, **ACTIVITY_COLS}, lang)
    money_cols = [zh_or_en(lang, *COMMON[k]) for k in ("outstanding", "overdue")]
    section(Block(act, title=zh_or_en(lang, "按负责人：跟进与应收", "By salesperson: follow-ups and receivables"),
                  number_formats=_money_formats(act, money_cols)))

    # Grade × owner, stacked bar.
    gbo = _relabel(s.grade_by_owner, COMMON, lang)
    owner_col = zh_or_en(lang, *COMMON["owner"])
    section(Block(gbo, title=zh_or_en(lang, "客户等级 × 负责人", "Grade × salesperson")),
            Chart("bar", zh_or_en(lang, "各负责人客户等级分布", "Customer grades by salesperson"), 0, owner_col,
                  list(GRADE_ORDER), (0, 0), size=(9, CHART_ROWS - 1), stacked=True))

    # Monthly sales by owner, line.
    monthly = _relabel(s.monthly_sales, COMMON, lang)
    month_col, total_col = zh_or_en(lang, *COMMON["month"]), zh_or_en(lang, *COMMON["total"])
    owners = [c for c in monthly.columns if c not in (month_col, total_col)]
    section(Block(monthly, title=zh_or_en(lang, "近12个月销售额（按负责人）", "Sales by month and salesperson, last 12 months"),
                  number_formats={c: FMT_MONEY for c in monthly.columns if c != month_col}, total_row=False),
            Chart("line", zh_or_en(lang, "月度销售额", "Monthly sales"), 0, month_col, [*owners, total_col], (0, 0),
                  size=(10, CHART_ROWS - 1)))

    # ABC / Pareto, clustered columns: share of customers vs share of revenue.
    abc = s.abc.assign(abc_class=[zh_or_en(lang, "无购买", "No purchases") if c == "-" else c for c in s.abc["abc_class"]])
    abc = _relabel(abc, {**COMMON, **ABC_COLS}, lang)
    shares = [zh_or_en(lang, *ABC_COLS["customer_share"]), zh_or_en(lang, *ABC_COLS["revenue_share"])]
    section(Block(abc, title=zh_or_en(lang, "ABC 分类（帕累托）", "ABC classes (Pareto)"),
                  number_formats={**{c: FMT_PERCENT for c in shares}, zh_or_en(lang, *ABC_COLS["revenue_12m"]): FMT_MONEY,
                                  zh_or_en(lang, *ABC_COLS["customers"]): FMT_INT}),
            Chart("column", zh_or_en(lang, "ABC：客户占比与销售额占比", "ABC: share of customers vs share of revenue"), 0,
                  zh_or_en(lang, *COMMON["abc_class"]), shares, (0, 0), size=(8, CHART_ROWS - 1), axis_format="0%"))

    # Province × grade.
    section(Block(_relabel(s.province_by_grade, COMMON, lang), title=zh_or_en(lang, "省份 × 客户等级", "Province × grade")))

    # Top 10 and at-risk.
    money_keys = [zh_or_en(lang, *COMMON[k]) for k in ("revenue_12m", "total_purchases", "overdue")]
    top = _relabel(_name_first(s.top_customers), COMMON, lang)
    section(Block(top, title=zh_or_en(lang, f"前 {len(top)} 名客户（按累计购买）", f"Top {len(top)} customers by total purchases"),
                  number_formats=_money_formats(top, money_keys)))
    risk = s.at_risk.assign(credit_rating=[choice_label(CREDIT_RATINGS, c, lang) if c else "" for c in
                                           s.at_risk["credit_rating"]],
                            reasons=[risk_reasons(codes, lang) for codes in s.at_risk["reasons"]])
    risk = _relabel(_name_first(risk), COMMON, lang)
    shown, total = len(risk), int(s.kpis["at_risk_customers"])
    more = zh_or_en(lang, f"（共 {total} 位，显示前 {shown} 位）", f" ({total} in all, first {shown} shown)") \
        if total > shown else ""
    why = zh_or_en(lang, *COMMON["reasons"])
    section(Block(risk, title=zh_or_en(lang, "需关注客户：逾期应收、信用差、大客户转冷", "At risk: overdue, poor credit, big customers "
                                                                      "gone cold") + more,
                  number_formats=_money_formats(risk, money_keys, ints=[zh_or_en(lang, *COMMON["days_overdue"])]),
                  widths={why: 30}, wrap=(why,)))

    # Pipeline.
    pipe = s.pipeline.assign(stage=[zh_or_en(lang, "（未填）", "(blank)") if st == "-" else choice_label(DEAL_STATUSES, st, lang)
                                    for st in s.pipeline["stage"]])
    section(Block(_relabel(pipe, PIPE_COLS, lang),
                  title=zh_or_en(lang, "销售漏斗：潜在 → 谈判中 → 已成交（近30天）",
                           "Pipeline: potential → negotiating → closed (last 30 days)")))

    # Receivables per salesperson, with ageing.
    recv_owner = with_total(s.receivables_by_owner, "owner", zh_or_en(lang, *COMMON["total"]))
    recv_owner = _relabel(recv_owner, COMMON, lang)
    money_cols = [zh_or_en(lang, *COMMON[k]) for k in ("invoiced", "paid", "outstanding", "overdue",
                                                 *(a for a, _, _ in AGEING))]
    section(Block(recv_owner, title=zh_or_en(lang, "应收账龄（按负责人）", "Receivables ageing by salesperson"),
                  number_formats=_money_formats(recv_owner, money_cols,
                                                ints=[zh_or_en(lang, *COMMON["max_days_overdue"])]),
                  total_row=True))
    for b in blocks:
        b.number_formats = {k: SUMMARY_MONEY if v == FMT_MONEY else v for k, v in b.number_formats.items()}
    return SheetReplace(name, _plain(blocks), after=after, freeze_header=False, charts=charts, tab_color=TAB_SUMMARY,
                        owner="summary")


def summary_markdown(s: SummaryData, lang: str) -> str:
    """The KPIs as Markdown, for scripts and e-mail."""
    def money(x: float) -> str:
        return f"{x:,.2f}"

    lines = [f"# {zh_or_en(lang, '客户管理汇总', 'CRM summary')} — {s.today:%Y-%m-%d}", ""]
    lines += [f"| {zh_or_en(lang, '指标', 'Measure')} | {zh_or_en(lang, '数值', 'Value')} |", "|---|---:|"]
    lines += [f"| {zh_or_en(lang, *v)} | {int(s.kpis[k]):,} |" for k, v in KPI_LABELS.items()]
    lines += [f"| {zh_or_en(lang, *v)} | {money(s.kpis[k])} |" for k, v in MONEY_KPIS.items()]
    lines += ["", f"| {' | '.join(zh_or_en(lang, *PERIOD_COLS[k]) for k in ('period', 'sales', 'collected', 'collection_rate'))} |",
              "|---|---:|---:|---:|"]
    for _, r in s.periods.iterrows():
        rate = "—" if pd.isna(r["collection_rate"]) else f"{r['collection_rate']:.1%}"
        lines.append(f"| {zh_or_en(lang, *PERIODS[r['period']])} | {money(r['sales'])} | {money(r['collected'])} | {rate} |")
    cols = ("owner", "customers", "followups_7d", "followups_30d", "overdue_followup", "overdue")
    labels = {**COMMON, **ACTIVITY_COLS}
    lines += ["", "| " + " | ".join(zh_or_en(lang, *labels[c]) for c in cols) + " |", "|---" + "|---:" * (len(cols) - 1) + "|"]
    for _, r in s.activity_by_owner.iterrows():
        lines.append(f"| {r['owner']} | {r['customers']:,} | {r['followups_7d']:,} | {r['followups_30d']:,} | "
                     f"{r['overdue_followup']:,} | {money(r['overdue'])} |")
    return "\n".join(lines) + "\n"


def plan_summary(book: CrmBook, ctx: Context) -> Planned:
    lang = ctx.language(book)
    computed = compute_columns(book, ctx.today)  # once, for the KPIs and the seed-practice blocks
    s = compute_summary(book.customers, book.followups, book.purchases, book.settings, ctx.today, row_labels(lang),
                        computed)
    name = book.sheet_name_for("summary")
    sheet = summary_sheet(s, name, lang, after=after_data_sheets(book))
    seed = practices(book, ctx, computed)  # weekly review, classifications, complaints
    append_below(sheet, summary_blocks(seed, lang, book.settings))
    plan = EditPlan(operation="summary").add(sheet)
    k = s.kpis
    msg = Msg("汇总已更新（“{sheet}”工作表）：客户 {customers} 位，本月销售额 {sales:,.2f}，逾期应收 {overdue:,.2f}"
              "（{overdue_customers} 位客户），逾期未跟进 {late} 位。",
              "Summary updated (sheet '{sheet}'): {customers} customers, sales this month {sales:,.2f}, overdue "
              "receivables {overdue:,.2f} ({overdue_customers} customers), {late} overdue for follow-up.",
              {"sheet": name, "customers": k["customers"], "sales": k["sales_month"], "overdue": k["overdue_receivables"],
               "overdue_customers": k["overdue_customers"], "late": k["overdue_followup_customers"]})
    by_owner = s.activity_by_owner.to_dict("records")
    result = CommandResult("summary", msg, counts=dict(k), data={
        "today": ctx.today.isoformat(), "kpis": dict(k), "by_owner": by_owner,
        "periods": [{**r, "start": r["start"].date().isoformat(),
                     "collection_rate": None if pd.isna(r["collection_rate"]) else round(r["collection_rate"], 4)}
                    for r in s.periods.to_dict("records")],
        "markdown": summary_markdown(s, lang) + practices_markdown(seed, lang), **practices_json(seed)})
    result.counts.update(open_complaints=len(seed.complaints), reassign=len(seed.reassign))
    if len(seed.complaints):  # the seed's "顾客抱怨": a complaint past its SLA is news for the manager
        def done(lang: str) -> str:  # the text so far, its braces kept literal
            return msg.text(lang).replace("{", "{{").replace("}", "}}")

        result.message = Msg(done("zh-CN") + "{c} 件投诉超过 {d} 天未解决。", done("en") + " {c} complaints unresolved after {d} days.",
                             {"c": len(seed.complaints), "d": book.settings.complaint_sla_days})
    return Planned(plan, result, book)


@command("summary", "汇总", "Summary", "生成经理用的汇总表：KPI、分布、月度销售、ABC、应收和图表",
         "Build the manager's Summary sheet: KPIs, grade and ABC tables, monthly sales, receivables and charts",
         formats=("text", "md", "json"))
def summary_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    return apply_planned(port, plan_summary(port.read(), ctx), ctx)


# --------------------------------------------------------------------------- receivables


def receivables_sheet(per_customer: pd.DataFrame, per_owner: pd.DataFrame, name: str, lang: str, today,
                      after: str | None = None) -> SheetReplace:
    money = [zh_or_en(lang, *COMMON[k]) for k in ("invoiced", "paid", "outstanding", "overdue", *(a for a, _, _ in AGEING))]
    owners = _relabel(with_total(per_owner, "owner", zh_or_en(lang, *COMMON["total"])), COMMON, lang)
    top = Block(owners, title=zh_or_en(lang, f"应收汇总（按负责人）· 截至 {today:%Y-%m-%d}",
                                 f"Receivables by salesperson · as of {today:%Y-%m-%d}"),
                number_formats=_money_formats(owners, money, ints=[zh_or_en(lang, *COMMON["max_days_overdue"])]),
                total_row=True)
    detail = _name_first(per_customer.drop(columns=["_row"]))
    detail = _relabel(detail, COMMON, lang)
    rows = Block(detail, title=zh_or_en(lang, "应收明细（按客户，逾期最多的在前）", "By customer, most overdue first"),
                 at=(top.height + 1 + GAP, 1), autofilter=True,
                 number_formats={**_money_formats(detail, money, ints=[zh_or_en(lang, *COMMON["days_overdue"]),
                                                                       zh_or_en(lang, *COMMON["orders"])]),
                                 zh_or_en(lang, *COMMON["oldest_due"]): FMT_DATE})
    top.at = (1, 1)
    return SheetReplace(name, _plain([top, rows]), after=after, freeze_header=False, tab_color=TAB_RECEIVABLES,
                        owner="receivables")


@dataclasses.dataclass(frozen=True)
class ReceivablesOptions(Options):
    owner: str | None = option(None, "只处理这位负责人", "Only this salesperson", metavar="NAME")


def plan_receivables(book: CrmBook, ctx: Context) -> Planned:
    lang = ctx.language(book)
    per_customer = customer_receivables(book.customers, book.purchases, ctx.today)
    if ctx.owner:
        per_customer = per_customer[per_customer["owner"].fillna("").str.strip() == ctx.owner.strip()]
    per_owner = owner_receivables(per_customer, row_labels(lang).unassigned)
    name = book.sheet_name_for("receivables")
    plan = EditPlan(operation="receivables").add(
        receivables_sheet(per_customer, per_owner, name, lang, ctx.today, after=after_data_sheets(book)))
    totals = receivable_totals(per_customer)
    msg = Msg("应收已更新（“{sheet}”工作表）：{owing} 位客户未付清，共 {outstanding:,.2f}；其中逾期 {overdue:,.2f}"
              "（{late} 位客户，最长 {days} 天）。",
              "Receivables updated (sheet '{sheet}'): {owing} customers owe {outstanding:,.2f}; {overdue:,.2f} is "
              "overdue ({late} customers, oldest {days} days).",
              {"sheet": name, "owing": totals["customers_owing"], "outstanding": totals["outstanding"],
               "overdue": totals["overdue"], "late": totals["customers_overdue"], "days": totals["max_days_overdue"]})
    by_owner = per_owner.astype(object).where(per_owner.notna(), None).to_dict("records")
    result = CommandResult("receivables", msg, counts=totals, data={"by_owner": by_owner})
    return Planned(plan, result, book)


@command("receivables", "应收", "Receivables", "按客户和负责人列出未收款、逾期应收和账龄",
         "List unpaid and overdue receivables with ageing, per customer and per salesperson",
         options=ReceivablesOptions)
def receivables_command(port: WorkbookPort, ctx: Context) -> CommandResult:
    return apply_planned(port, plan_receivables(port.read(), ctx), ctx)
