"""Summary (汇总): KPIs and tables checked against an independent pandas computation on a workbook
built from known data; the sheet, its charts and their ranges; md/json output; LibreOffice render."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from xlcrm.commands.base import Context
from xlcrm.commands.reports import plan_summary, row_labels, summary_markdown
from xlcrm.ops.summary import compute_summary, fold_province, period_starts
from xlcrm.template import build_template
from xlcrm.workbook.edits import SheetReplace
from xlcrm.workbook.reader import read_book

TODAY = dt.date(2026, 6, 15)
OWNERS = ["李娜", "王强", "张敏"]
GRADES = ["A", "B", "C", "D", "E"]


def dataset(seed: int = 7) -> dict[str, pd.DataFrame]:
    """Known data as a user would type it (labels in Chinese). Grades are fixed by the data:
    an override where given, else demand 无需求 → E, so the expected counts need no grading rule."""
    rng = np.random.default_rng(seed)
    n = 60
    override = [GRADES[i] if i < 5 else None for i in rng.integers(0, 8, n)]
    customers = pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(1, n + 1)],
        "company": [f"测试公司{i}" for i in range(1, n + 1)],
        "contact": [f"张{i}" for i in range(1, n + 1)],
        "owner": [OWNERS[i] if i < 3 else None for i in rng.integers(0, 4, n)],
        "province": [["广东省", "广东", "上海市", "浙江省", None][i] for i in rng.integers(0, 5, n)],
        "deal_status": [["潜在", "谈判中", "已成交", None][i] for i in rng.integers(0, 4, n)],
        "demand": [None if g else "无需求" for g in override],
        "credit_rating": [["良好", "一般", "差", None][i] for i in rng.integers(0, 4, n)],
        "created": [pd.Timestamp(TODAY) - pd.Timedelta(days=int(d)) for d in rng.integers(0, 400, n)],
        "grade_override": override,
        "marketing_consent": ["是"] * n,
    })
    m = 220
    fu_ids = rng.integers(1, n + 1, m)
    followups = pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in fu_ids],
        "date": [pd.Timestamp(TODAY) - pd.Timedelta(days=int(d)) for d in rng.integers(-5, 60, m)],
        "channel": "电话",
        "by": [OWNERS[i] if i < 3 else None for i in rng.integers(0, 4, m)],
        "summary": "沟通",
    })
    k = 160
    p_ids = [f"C{i:04d}" for i in rng.integers(1, n + 1, k)]
    p_ids[:3] = ["C9999"] * 3  # orders of a customer missing from Basic Info still count
    dates = [pd.Timestamp(TODAY) - pd.Timedelta(days=int(d)) for d in rng.integers(-3, 420, k)]
    amount = rng.integers(1, 500, k) * 100.0
    frac = rng.choice([0.0, 0.5, 1.0], k)
    status = [["已下单", "已发货", "已付款", "已取消", "已退货", None][i] for i in rng.choice(6, k, p=[.3, .3, .2, .05, .05, .1])]
    paid = [a if s == "已付款" else a * f for a, f, s in zip(amount, frac, status)]
    purchases = pd.DataFrame({
        "customer_id": p_ids, "order_no": [f"SO{i:05d}" for i in range(k)], "date": dates, "product": "产品",
        "amount": amount, "paid_amount": paid,
        "payment_due": [d + pd.Timedelta(days=30) for d in dates], "status": status,
    })
    return {"customers": customers, "followups": followups, "purchases": purchases}


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return dataset()


@pytest.fixture(scope="module")
def workbook(tmp_path_factory, data) -> Path:
    path = tmp_path_factory.mktemp("summary") / "crm.xlsx"
    build_template(path, "zh-CN", owners=OWNERS, **data)
    return path


@pytest.fixture(scope="module")
def book(workbook):
    return read_book(workbook)


# --------------------------------------------------------------------------- independent expectations


def expected(data: dict[str, pd.DataFrame]) -> dict[str, float]:
    c, f, p = data["customers"], data["followups"], data["purchases"]
    today = pd.Timestamp(TODAY)
    grade = c["grade_override"].fillna("E")
    out: dict[str, float] = {"customers": len(c)}
    for g in GRADES:
        out[f"grade_{g}"] = int((grade == g).sum())
    out["new_this_month"] = int(((c["created"] >= "2026-06-01") & (c["created"] <= today)).sum())
    out["followups_7d"] = int(((f["date"] > today - pd.Timedelta(days=7)) & (f["date"] <= today)).sum())
    out["followups_30d"] = int(((f["date"] > today - pd.Timedelta(days=30)) & (f["date"] <= today)).sum())
    live = p[~p["status"].isin(["已取消", "已退货"])]
    for key, start in (("month", "2026-06-01"), ("quarter", "2026-04-01"), ("year", "2026-01-01")):
        sel = (live["date"] >= start) & (live["date"] <= today)
        out[f"sales_{key}"] = round(live.loc[sel, "amount"].sum(), 2)
        out[f"collected_{key}"] = round(live.loc[sel, "paid_amount"].sum(), 2)
    unpaid = (live["amount"] - live["paid_amount"]).clip(lower=0)
    overdue = unpaid.where(live["payment_due"] < today, 0.0)
    out["outstanding"] = round(unpaid.sum(), 2)
    out["overdue_receivables"] = round(overdue.sum(), 2)
    out["overdue_customers"] = int((overdue.groupby(live["customer_id"]).sum() > 0).sum())
    return out


def test_kpis_match_independent_pandas(book, data):
    planned = plan_summary(book, Context(today=TODAY))
    kpis = planned.result.data["kpis"]
    for key, value in expected(data).items():
        assert kpis[key] == pytest.approx(value, abs=0.005), key
    assert kpis["overdue_receivables"] > 0 and kpis["sales_year"] > kpis["sales_quarter"] > 0


def test_tables_match_independent_pandas(book, data):
    s = compute_summary(book.customers, book.followups, book.purchases, book.settings, TODAY, row_labels("zh-CN"))
    c, p = data["customers"], data["purchases"]
    grade = c["grade_override"].fillna("E")
    owner = c["owner"].fillna("（未分配）")
    want = pd.crosstab(owner, grade).reindex(columns=GRADES, fill_value=0)
    got = s.grade_by_owner.set_index("owner")[GRADES]
    pd.testing.assert_frame_equal(got.sort_index(), want.sort_index(), check_names=False, check_dtype=False)
    assert (s.grade_by_owner["total"] == s.grade_by_owner[GRADES].sum(axis=1)).all()

    # 广东省 and 广东 are one province.
    prov = s.province_by_grade.set_index("province")["total"]
    assert prov["广东"] == c["province"].isin(["广东省", "广东"]).sum()
    assert "广东省" not in prov.index and prov.sum() == len(c)

    # Monthly totals: last 12 months, live orders, by order month (owner of C9999 is unassigned).
    live = p[~p["status"].isin(["已取消", "已退货"]) & (p["date"] <= pd.Timestamp(TODAY))]
    by_month = live.groupby(live["date"].dt.strftime("%Y-%m"))["amount"].sum()
    monthly = s.monthly_sales.set_index("month")
    assert list(monthly.index) == [f"{y}-{m:02d}" for y, m in [(2025, m) for m in range(7, 13)] + [(2026, m) for m in range(1, 7)]]
    for month, total in monthly["total"].items():
        assert total == pytest.approx(by_month.get(month, 0.0)), month
    owner_cols = [col for col in monthly.columns if col != "total"]
    assert np.allclose(monthly[owner_cols].sum(axis=1), monthly["total"])

    # ABC: classes partition the customers; shares sum to 1.
    assert s.abc["customers"].sum() == len(c)
    assert s.abc["revenue_share"].sum() == pytest.approx(1.0)
    assert s.abc["customer_share"].sum() == pytest.approx(1.0)

    # Top 10 by lifetime purchases of customers on Basic Info.
    lifetime = live[live["customer_id"].isin(c["customer_id"])].groupby("customer_id")["amount"].sum()
    want_top = lifetime.sort_values(ascending=False).head(10)
    assert s.top_customers["total_purchases"].tolist() == pytest.approx(want_top.tolist())

    # At risk: every listed customer has a reason; overdue ones first.
    assert (s.at_risk["reasons"].str.len() > 0).all()
    assert s.at_risk["overdue"].is_monotonic_decreasing
    poor = set(c.loc[c["credit_rating"] == "差", "customer_id"])
    assert poor <= set(s.at_risk["customer_id"]) or s.kpis["at_risk_customers"] > len(s.at_risk)

    # Pipeline counts are the current stages.
    pipe = s.pipeline.set_index("stage")["customers"]
    assert pipe["closed"] == (c["deal_status"] == "已成交").sum()
    assert pipe.sum() == len(c)


def test_period_starts():
    assert period_starts(dt.date(2026, 8, 19)) == {"month": dt.date(2026, 8, 1), "quarter": dt.date(2026, 7, 1),
                                                   "year": dt.date(2026, 1, 1)}


def test_fold_province():
    got = fold_province(pd.Series(["广东省", "广西壮族自治区", "上海市", "香港特别行政区", None, " "]), "-")
    assert got.tolist() == ["广东", "广西", "上海", "香港", "-", "-"]


# --------------------------------------------------------------------------- the sheet plan


def _sheet(planned) -> SheetReplace:
    (edit,) = planned.plan.edits
    assert isinstance(edit, SheetReplace)
    return edit


def test_sheet_layout_blocks_do_not_overlap_and_charts_point_at_tables(book):
    sheet = _sheet(plan_summary(book, Context(today=TODAY)))
    assert sheet.name == "汇总"
    boxes = []
    for b in sheet.blocks:
        r, c = b.at
        boxes.append((r, c, r + b.height - 1, c + len(b.df.columns) - 1))
    for ch in sheet.charts:
        r, c = ch.anchor
        boxes.append((r, c, r + ch.size[1] - 1, c + ch.size[0] - 1))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1], (a, b)
    kinds = {ch.kind for ch in sheet.charts}
    assert kinds == {"bar", "line", "column"}
    for ch in sheet.charts:
        df = sheet.blocks[ch.block].df
        assert ch.categories in df.columns and set(ch.series) <= set(df.columns)
        block = sheet.blocks[ch.block]
        assert ch.anchor == (block.at[0] + block.height + 1, 1)  # right below its table, so it prints one page wide
        assert ch.axis_format in ("#,##0", "0%")  # thousands separators on the value axis


def test_english_labels(book):
    sheet = _sheet(plan_summary(book, Context(today=TODAY, lang="en")))
    assert sheet.blocks[0].title.startswith("CRM summary")
    assert "Grade A customers" in sheet.blocks[0].df["Measure"].tolist()
    assert any(ch.title == "Monthly sales" for ch in sheet.charts)


def test_markdown_has_the_kpis(book, data):
    planned = plan_summary(book, Context(today=TODAY))
    md = planned.result.data["markdown"]
    exp = expected(data)
    assert f"| 客户总数 | {exp['customers']:,} |" in md
    assert f"| 逾期应收合计 | {exp['overdue_receivables']:,.2f} |" in md
    assert f"| 本月 | {exp['sales_month']:,.2f} |" in md
    s = compute_summary(book.customers, book.followups, book.purchases, book.settings, TODAY, row_labels("en"))
    assert "| Customers | 60 |" in summary_markdown(s, "en")


# --------------------------------------------------------------------------- through the writer


@pytest.fixture
def written(tmp_path, workbook) -> Path:
    path = tmp_path / "crm.xlsx"
    shutil.copyfile(workbook, path)
    from xlcrm.commands import run
    from xlcrm.workbook.file_adapter import FileWorkbook

    result = run("summary", FileWorkbook(path, backup_dir=tmp_path / "bak"), Context(today=TODAY))
    assert result.written
    return path


def test_written_sheet_values_and_formats(written, data):
    ws = openpyxl.load_workbook(written)["汇总"]
    labels = {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(1, 20)}
    exp = expected(data)
    assert labels["客户总数"].value == exp["customers"] and labels["A级客户"].value == exp["grade_A"]
    assert labels["近7天跟进次数"].value == exp["followups_7d"]
    assert labels["客户总数"].number_format == "#,##0"
    sales = {ws.cell(r, 4).value: r for r in range(1, 10)}
    row = sales["本月"]
    assert ws.cell(row, 6).value == pytest.approx(exp["sales_month"])
    assert ws.cell(row, 6).number_format == "#,##0"  # whole amounts on the overview; the value is exact
    assert ws.cell(row, 9).number_format == "0.0%"
    assert ws.cell(row, 5).is_date
    # Values, never formulas (no Excel-365-only functions anywhere).
    assert not any(isinstance(c.value, str) and c.value.startswith("=") for row in ws.iter_rows() for c in row)


def test_chart_parts_reference_the_right_ranges(written):
    book = read_book(written)
    sheet = _sheet(plan_summary(book, Context(today=TODAY)))
    with zipfile.ZipFile(written) as z:
        charts = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        assert len(charts) == 3
        xml = {n: z.read(n).decode() for n in charts}
    kinds = {"bar": "<c:barChart>", "column": "<c:barChart>", "line": "<c:lineChart>"}
    for ch in sheet.charts:
        block = sheet.blocks[ch.block]
        top, left = block.at
        header = top + (1 if block.title else 0)
        first, last = header + 1, header + len(block.df)
        cat_col = left + list(block.df.columns).index(ch.categories)
        cat_ref = "$" + openpyxl.utils.get_column_letter(cat_col) + f"${first}:$" \
            + openpyxl.utils.get_column_letter(cat_col) + f"${last}"
        match = [n for n, x in xml.items() if cat_ref in x and kinds[ch.kind] in x]
        assert match, (ch.title, cat_ref)
        for series in ch.series:
            col = openpyxl.utils.get_column_letter(left + list(block.df.columns).index(series))
            assert f"${col}${first}:${col}${last}" in xml[match[0]], (ch.title, series)


def test_cli_formats(tmp_path, workbook, data):
    from xlcrm.cli import app

    path = tmp_path / "crm.xlsx"
    shutil.copyfile(workbook, path)
    runner = CliRunner()
    res = runner.invoke(app, ["summary", str(path), "--today", TODAY.isoformat(), "--format", "json", "--dry-run"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["kpis"]["sales_year"] == pytest.approx(expected(data)["sales_year"])
    assert payload["written"] is False
    res = runner.invoke(app, ["summary", str(path), "--today", TODAY.isoformat(), "--format", "md"])
    assert res.exit_code == 0 and res.stdout.startswith("# 客户管理汇总 — 2026-06-15")


@pytest.mark.libreoffice
def test_libreoffice_renders_the_summary(written, soffice, tmp_path):
    """LibreOffice opens the written workbook and converts it; the PDF has the Summary's text."""
    out = tmp_path / "pdf"
    proc = subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/lo",
                           "--convert-to", "pdf", "--outdir", str(out), str(written)],
                          capture_output=True, timeout=180)
    pdf = out / "crm.pdf"
    assert proc.returncode == 0 and pdf.exists() and pdf.stat().st_size > 10_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, timeout=60).stdout
        assert "客户管理汇总" in text and "ABC" in text


# --------------------------------------------------------------------------- the bundled samples

SAMPLE_TODAY = dt.date(2026, 11, 20)  # the sample generator's "today"


def _book_expectations(book, today: dt.date) -> dict[str, float]:
    """Plain pandas over the reader's frames (dirty rows included as the reader typed them)."""
    from xlcrm.ops.grade import grade_customers

    c, f, p = book.customers, book.followups, book.purchases
    t = pd.Timestamp(today)
    out: dict[str, float] = {"customers": len(c)}
    grades = grade_customers(c, f, book.settings, today)["grade"].value_counts()
    for g in GRADES:
        out[f"grade_{g}"] = int(grades.get(g, 0))
    out["new_this_month"] = int(((c["created"] >= t.replace(day=1)) & (c["created"] <= t)).sum())
    for days in (7, 30):
        out[f"followups_{days}d"] = int(((f["date"] > t - pd.Timedelta(days=days)) & (f["date"] <= t)).sum())
    live = p[~p["status"].isin(["cancelled", "returned"])]
    paid = live["paid_amount"].fillna(0).clip(lower=0).where(~((live["status"] == "paid") & live["paid_amount"].isna()),
                                                              live["amount"].fillna(0))
    amount = live["amount"].fillna(0)
    quarter = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    for key, start in (("month", today.replace(day=1)), ("quarter", quarter), ("year", dt.date(today.year, 1, 1))):
        sel = (live["date"] >= pd.Timestamp(start)) & (live["date"] <= t)
        out[f"sales_{key}"] = round(amount[sel].sum(), 2)
        out[f"collected_{key}"] = round(paid[sel].sum(), 2)
    unpaid = (amount - paid).clip(lower=0)
    has_id = live["customer_id"].notna()
    out["outstanding"] = round(unpaid[has_id].sum(), 2)
    out["overdue_receivables"] = round(unpaid.where(live["payment_due"] < t, 0.0)[has_id].sum(), 2)
    return out


@pytest.mark.parametrize(("fixture", "sheet", "lang"), [("sample_zh", "汇总", "zh-CN"), ("sample_en", "Summary", "en")])
def test_sample_workbooks(request, fixture, sheet, lang, tmp_path):
    from xlcrm.commands import run
    from xlcrm.workbook.file_adapter import FileWorkbook

    path = request.getfixturevalue(fixture)
    book = read_book(path)
    exp = _book_expectations(book, SAMPLE_TODAY)
    result = run("summary", FileWorkbook(path, backup_dir=tmp_path / "bak"), Context(today=SAMPLE_TODAY))
    assert result.written
    for key, value in exp.items():
        assert result.data["kpis"][key] == pytest.approx(value, abs=0.005), key
    assert exp["sales_year"] > 0 and exp["overdue_receivables"] > 0
    ws = openpyxl.load_workbook(path)[sheet]
    first = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, 20)}
    assert first["客户总数" if lang != "en" else "Customers"] == exp["customers"]
    assert first["近30天跟进次数" if lang != "en" else "Follow-ups, last 30 days"] == exp["followups_30d"]
    with zipfile.ZipFile(path) as z:
        assert sum(bool(re.fullmatch(r"xl/charts/chart\d+\.xml", n)) for n in z.namelist()) == 3
    # Run twice: the sheet is regenerated, not duplicated, and the charts are not doubled.
    run("summary", FileWorkbook(path, backup_dir=tmp_path / "bak"), Context(today=SAMPLE_TODAY))
    assert openpyxl.load_workbook(path).sheetnames.count(sheet) == 1
    with zipfile.ZipFile(path) as z:
        assert sum(bool(re.fullmatch(r"xl/charts/chart\d+\.xml", n)) for n in z.namelist()) == 3
