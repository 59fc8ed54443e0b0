"""The seeded sample generator: determinism, sizes, realism, the deliberate dirt, the workbook."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xlcrm import schema
from xlcrm.samples import SAMPLE_FILES, generate_frames, generate_sample, generate_workbook
from xlcrm.samples_base import DIRT_PER_300, DUP_COLUMN, TODAY
from xlcrm.samples_customers import strip_suffix
from xlcrm.samples_vocab import CITIES
from xlcrm.template import build_template, write_crm_workbook

REPO = Path(__file__).resolve().parents[1]
MOBILE = re.compile(r"1(3\d|5[0-35-9]|8\d|9[189])\d{8}")
TEXT_DATE = {
    "iso": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "slash": re.compile(r"\d{4}/\d{1,2}/\d{1,2}"),
    "chinese": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"),
    "dot": re.compile(r"\d{4}\.\d{2}\.\d{2}"),
}


@pytest.fixture(scope="module", params=["zh-CN", "en"])
def sample(request):
    return generate_sample(lang=request.param)


def _at(sample, item):
    """The value at a dirt item's cell, as it will be written (overrides included)."""
    pos = item.row - 2
    over = sample.overrides.get(item.sheet, {}).get(item.column, {})
    if pos in over:
        return over[pos]
    return sample.frames()[item.sheet].at[pos, item.column]


def test_seeded_and_deterministic():
    a, b = generate_sample(seed=11), generate_sample(seed=11)
    for key in ("customers", "followups", "purchases"):
        pd.testing.assert_frame_equal(a.frames()[key], b.frames()[key])
    assert a.dirt == b.dirt and a.overrides == b.overrides
    c = generate_sample(seed=12)
    assert not a.customers["company"].equals(c.customers["company"])


def test_sizes_and_columns(sample):
    assert (len(sample.customers), len(sample.followups), len(sample.purchases)) == (300, 2000, 600)
    for key, frame in sample.frames().items():
        assert list(frame.columns) == list(schema.SHEETS_BY_KEY[key].keys)
    custom = generate_sample(120, 500, 90, dirt=False)
    assert (len(custom.customers), len(custom.followups), len(custom.purchases)) == (120, 500, 90)
    assert custom.dirt == [] and custom.overrides == {}


def test_dirt_counts_match_the_documented_table(sample):
    got = Counter(d.kind for d in sample.dirt)
    for kind, n in DIRT_PER_300.items():
        if kind == "text_date":
            assert got["text_date"] == 4 * 3 * n  # one per format, on three sheets
        elif kind == "unknown_choice":
            assert got[kind] == 3 * n
        elif kind in ("orphan_followup", "orphan_purchase"):
            continue
        elif kind == "future_date":
            assert got[kind] == 2 * n  # customers.created and followups.date
        else:
            assert got[kind] == n, kind
    assert len(sample.dirt_of("orphan", "followups")) == DIRT_PER_300["orphan_followup"]
    assert len(sample.dirt_of("orphan", "purchases")) == DIRT_PER_300["orphan_purchase"]
    assert len({(d.sheet, d.row, d.column) for d in sample.dirt}) == len(sample.dirt)  # no cell carries two faults


def test_dirt_values_are_really_dirty(sample):
    lang, cust = sample.lang, sample.customers
    ids = set(cust["customer_id"].dropna())
    for d in sample.dirt:
        assert _at(sample, d) == d.value or (d.value is None and _at(sample, d) is None), d
    for d in sample.dirt_of("bad_phone_short"):
        assert d.value.isdigit() and len(d.value) < 11
    for d in sample.dirt_of("bad_phone_letters"):
        assert len(d.value) == 11 and re.search(r"[A-Za-z]", d.value)
    for d in sample.dirt_of("bad_email_no_at"):
        assert "@" not in d.value and "." in d.value
    for d in sample.dirt_of("bad_email_double_at"):
        assert "@@" in d.value
    for d in sample.dirt_of("text_date"):
        fmt, iso = d.note.split(": ")
        assert TEXT_DATE[fmt].fullmatch(d.value)
        assert [int(x) for x in re.findall(r"\d+", d.value)] == [int(x) for x in iso.split("-")]
    assert {d.note.split(":")[0] for d in sample.dirt_of("text_date")} == set(TEXT_DATE)
    for d in sample.dirt_of("missing_id"):
        assert cust.at[d.row - 2, "customer_id"] is None and d.row - 2 >= len(cust) - DIRT_PER_300["missing_id"]
    (dup_id,) = sample.dirt_of("duplicate_id")
    assert cust.at[dup_id.of_row - 2, "customer_id"] == dup_id.value
    assert cust.at[dup_id.row - 2, "company"] != cust.at[dup_id.of_row - 2, "company"]
    for d in sample.dirt_of("orphan"):
        assert d.value not in ids
    assert all(pd.Timestamp(d.value) < pd.Timestamp(TODAY) for d in sample.dirt_of("expected_close_past"))
    for d in sample.dirt_of("expected_close_past"):
        assert schema.match_choice(schema.DEMANDS, cust.at[d.row - 2, "demand"]) == "target"
    assert all(pd.Timestamp(d.value) > pd.Timestamp(TODAY) for d in sample.dirt_of("future_date"))
    for d in sample.dirt_of("unknown_choice"):
        column = schema.SHEETS_BY_KEY[d.sheet].column(d.column)
        assert schema.match_choice(column.choices, d.value) is None
    (neg,) = sample.dirt_of("negative_amount")
    assert neg.value < 0
    (over,) = sample.dirt_of("paid_over_amount")
    assert over.value > sample.purchases.at[over.row - 2, "amount"] > 0
    assert lang in ("zh-CN", "en")


def test_duplicates_in_disguise_point_at_their_original(sample):
    cust = sample.customers
    conv = schema.simplified
    for d in sample.dirt:
        if not d.kind.startswith("dup_"):
            continue
        assert d.column == DUP_COLUMN[d.kind]
        dup, orig = cust.loc[d.row - 2], cust.loc[d.of_row - 2]
        assert dup["customer_id"] != orig["customer_id"] and d.row != d.of_row
        assert dup[d.column] != orig[d.column]
        if d.kind == "dup_no_suffix":
            assert dup["company"] == strip_suffix(orig["company"]) and dup["contact"] == orig["contact"]
        elif d.kind == "dup_region_paren":
            assert ("（" in dup["company"]) != ("（" in orig["company"])
            assert sorted(dup["company"].replace("（", "").replace("）", "").replace("市", "")) == sorted(
                orig["company"].replace("（", "").replace("）", "").replace("市", "")
            )
        elif d.kind == "dup_traditional":
            assert conv(dup["company"]) == orig["company"] and conv(dup["contact"]) == orig["contact"]
        elif d.kind == "dup_fullwidth":
            assert unicodedata.normalize("NFKC", dup["company"]) == orig["company"]
            assert re.search(r"[Ａ-Ｚ]", dup["company"])
        elif d.kind == "dup_mobile_format":
            assert re.sub(r"\D", "", dup["mobile"]).endswith(orig["mobile"]) and re.search(r"[\s+-]", dup["mobile"])
        elif d.kind == "dup_email_upper":
            assert dup["email"] == orig["email"].upper() and dup["email"] != orig["email"]
        elif d.kind == "dup_contact_typo":
            a, b = dup["contact"], orig["contact"]
            assert len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1
            assert dup["company"] == orig["company"]


def test_realistic_values(sample):
    lang, cust = sample.lang, sample.customers
    dirty = {(d.sheet, d.row - 2, d.column) for d in sample.dirt}
    clean_mobiles = [m for i, m in cust["mobile"].items() if isinstance(m, str) and ("customers", i, "mobile") not in dirty]
    assert len(clean_mobiles) > 200 and all(MOBILE.fullmatch(m) for m in clean_mobiles)
    assert cust["postcode"].dropna().str.fullmatch(r"\d{6}").all()
    assert cust["postcode"].dropna().str.startswith("0").any()  # leading zeros that must stay text
    L = 1 if lang == "en" else 0
    pairs = {(c[0 + L], c[2 + L]) for c in CITIES}
    assert set(zip(cust["province"], cust["city"], strict=True)) <= pairs
    assert set(cust["owner"]) == set(sample.owners) and len(sample.owners) == 5
    phones = cust["phone"].dropna()
    assert phones.str.fullmatch(r"0\d{2,3}-[2-8]\d{6,7}").all()
    import phonenumbers  # the landlines themselves are real-looking: valid for their area code

    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p, "CN")) for p in phones)
    companies = cust["company"].dropna()
    assert companies.str.endswith("公司").mean() > 0.9
    kinds = Counter(schema.match_choice(schema.CUSTOMER_TYPES, v) for v in cust["customer_type"])
    assert kinds["company"] > kinds["individual"] > 30
    individuals = cust[cust["customer_type"] == schema.choice_label(schema.CUSTOMER_TYPES, "individual", lang)]
    assert individuals["company"].isna().all() and individuals["birthday"].notna().mean() > 0.5
    for key, spec in (("customers", schema.CUSTOMERS), ("followups", schema.FOLLOWUPS), ("purchases", schema.PURCHASES)):
        frame = sample.frames()[key]
        for col in spec.input_columns:
            if col.choices:
                codes = {schema.match_choice(col.choices, v) for v in frame[col.key].dropna()}
                unknown = {d.value for d in sample.dirt_of("unknown_choice", key) if d.column == col.key}
                labels = {v for v in frame[col.key].dropna() if schema.match_choice(col.choices, v) is None}
                assert labels == unknown, col.key
                assert len(codes - {None}) >= min(2, len(col.choices)), col.key
    demand = cust["demand"].map(lambda v: schema.match_choice(schema.DEMANDS, v))
    assert set(demand.dropna()) == {"target", "latent", "none"}
    assert cust.loc[demand == "none", "expected_close"].isna().all()
    created = cust["created"]
    assert created.min() >= pd.Timestamp(TODAY) - pd.Timedelta(days=730)
    fu = sample.followups
    assert fu["date"].min() >= pd.Timestamp(TODAY) - pd.Timedelta(days=365)
    assert fu["customer_id"].isin(cust["customer_id"]).sum() == len(fu) - len(sample.dirt_of("orphan", "followups"))
    pu = sample.purchases
    clean = pu.drop(index=[d.row - 2 for d in sample.dirt if d.sheet == "purchases"])
    assert (clean["amount"] - clean["quantity"] * clean["unit_price"]).abs().max() < 0.01
    assert (clean["paid_amount"] <= clean["amount"] + 1e-9).all()
    assert pu["order_no"].is_unique
    overdue = clean[(clean["payment_due"] < pd.Timestamp(TODAY)) & (clean["paid_amount"] < clean["amount"])]
    assert len(overdue) > 10  # some receivables are overdue
    if lang == "en":
        assert set(fu["channel"].dropna()) >= {"Phone", "WeChat"}
    else:
        assert set(fu["channel"].dropna()) >= {"电话", "微信"}


def test_display_frames_hold_what_a_user_types():
    customers, followups, purchases = generate_frames()
    sample = generate_sample()
    assert customers["created"].map(type).isin([dt.date, str]).all()
    texts = [v for v in customers["created"] if isinstance(v, str)]
    assert sorted(texts) == sorted(d.value for d in sample.dirt_of("text_date", "customers"))
    assert customers["mobile"].map(lambda v: v is None or isinstance(v, str)).all()
    assert purchases["amount"].dtype == float
    assert len(followups) == 2000


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    return generate_workbook(tmp_path_factory.mktemp("s") / "s.xlsx", manifest=True)


def test_workbook_reads_back_with_text_kept_text(workbook):
    sample = generate_sample()
    wb = openpyxl.load_workbook(workbook)
    ws = wb[schema.CUSTOMERS.name("zh-CN")]
    assert ws.tables["tblCustomers"].ref == f"A1:AQ{len(sample.customers) + 1}"
    assert wb[schema.FOLLOWUPS.name("zh-CN")].tables["tblFollowups"].ref == "A1:J2001"  # … Next Date, Next Step
    header = {c.value: c.column for c in ws[1]}
    for key in ("customer_id", "mobile", "postcode"):
        col = header[schema.CUSTOMERS.column(key).header("zh-CN")]
        cells = [ws.cell(r, col) for r in range(2, ws.max_row + 1) if ws.cell(r, col).value is not None]
        assert cells and all(c.data_type == "s" and c.number_format == "@" for c in cells), key
    created = header[schema.CUSTOMERS.column("created").header("zh-CN")]
    assert isinstance(ws.cell(2, created).value, dt.datetime)
    for d in json.loads(workbook.with_suffix(".dirt.json").read_text(encoding="utf-8"))["dirt"]:
        sheet = wb[d["sheet_name"]]
        col = {c.value: c.column for c in sheet[1]}[d["header"]]
        value = sheet.cell(d["row"], col).value
        if isinstance(value, dt.datetime):
            value = value.date().isoformat()
        assert value == d["value"], d
    # pandas (calamine) reads it too, IDs and phones stay text when asked to.
    df = pd.read_excel(workbook, sheet_name=schema.CUSTOMERS.name("zh-CN"), engine="calamine", dtype={"手机": str, "邮编": str})
    assert len(df) == 300 and df["邮编"].dropna().str.fullmatch(r"\d{6}").all()


def test_workbook_equals_build_template_with_display_frames(workbook, tmp_path):
    from xlcrm.samples import TODAY
    from xlcrm.samples_service import service_frame

    customers, followups, purchases = generate_frames()
    sample = generate_sample()
    other = build_template(tmp_path / "b.xlsx", "zh-CN", owners=sample.owners, customers=customers,
                           followups=followups, purchases=purchases, service=service_frame(sample.customers, "zh-CN", TODAY, 7))
    assert other.read_bytes() == workbook.read_bytes()


def test_fast_streaming_path_on_a_small_size(tmp_path):
    """The path used for size M (constant_memory), exercised on a small size."""
    sample = generate_sample(600, 3000, 900, lang="en", seed=3)
    assert len(sample.dirt_of("dup_no_suffix")) == 2 * DIRT_PER_300["dup_no_suffix"]
    path = write_crm_workbook(tmp_path / "m.xlsx", "en", owners=sample.owners, frames=sample.frames(),
                              overrides=sample.overrides, constant_memory=True)
    wb = openpyxl.load_workbook(path, read_only=False)
    ws = wb["Follow-up"]
    assert ws.tables["tblFollowups"].ref == "A1:J3001"
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 3000
    for d in sample.dirt_of("text_date", "followups"):
        assert rows[d.row - 2][1] == d.value
    assert sum(1 for r in rows if isinstance(r[1], dt.datetime)) == 3000 - len(sample.dirt_of("text_date", "followups"))


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_committed_samples_are_current(lang, tmp_path):
    committed = REPO / "sample_workbooks" / SAMPLE_FILES[lang]
    assert committed.exists(), "run: python -m xlcrm.samples --out sample_workbooks"
    fresh = generate_workbook(tmp_path / SAMPLE_FILES[lang], lang=lang, manifest=True)
    assert fresh.read_bytes() == committed.read_bytes(), (
        "sample_workbooks/ is stale: make samples (xlsxwriter must be constraints.txt's version)")
    assert fresh.with_suffix(".dirt.json").read_text(encoding="utf-8") == committed.with_suffix(".dirt.json").read_text(encoding="utf-8")
