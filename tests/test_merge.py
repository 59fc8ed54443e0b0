"""Dedupe → decisions → merge → undo over real workbook files (the sample workbook, copied)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import needs
import pandas as pd
import pytest

from xlcrm.commands import run
from xlcrm.commands.base import Context
from xlcrm.errors import XlcrmError
from xlcrm.ops.merge import MergeGroup, decode_value, encode_value, plan_merge, same_value
from xlcrm.workbook.edits import AppendRows, CellWrite, EditPlan
from xlcrm.workbook.file_adapter import FileWorkbook
from xlcrm.workbook.reader import read_book
from xlcrm.workbook.writer import apply_plan

CTX = Context(today=dt.date(2026, 11, 23), user="tester")


@pytest.fixture
def book_path(tmp_path: Path) -> Path:
    return needs.copy_sample("zh", tmp_path, "crm.xlsx")


def port(path: Path) -> FileWorkbook:
    return FileWorkbook(path, echo=lambda _m: None)


def dup_sheet(path: Path) -> pd.DataFrame:
    sheet = port(path).read_sheet("查重")
    assert sheet is not None
    return sheet


def decide(path: Path, decisions: dict[str, str]) -> None:
    """Type decisions (customer ID → text) into the Decision column, as a user would."""
    sheet = dup_sheet(path)
    edits = []
    for i, cid in enumerate(sheet["客户编号"]):
        if cid in decisions:
            edits.append(CellWrite("查重", i + 2, 2, decisions[cid]))
    assert len(edits) == len(decisions)
    apply_plan(path, EditPlan(edits))


def groups_of(path: Path) -> dict[str, set[str]]:
    sheet = dup_sheet(path)
    out: dict[str, set[str]] = {}
    for g, cid in zip(sheet["组"], sheet["客户编号"], strict=True):
        out.setdefault(str(g), set()).add(cid)
    return out


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame.drop(columns="_row")
    key = f.apply(lambda r: "|".join(map(str, r)), axis=1)
    return f.assign(_k=key).sort_values("_k", kind="mergesort").drop(columns="_k").reset_index(drop=True)


# --------------------------------------------------------------------------- dedupe command


def test_dedupe_lists_the_sample_duplicates_and_remembers_decisions(book_path: Path):
    result = run("dedupe", port(book_path), CTX)
    assert result.written and result.counts["groups"] >= 15
    groups = groups_of(book_path)
    # pairs the sample generator planted (traditional, full width, region in brackets, e-mail case, …)
    for pair in ({"C000099", "C000151"}, {"C000132", "C000189"}, {"C000095", "C000167"}, {"C000288", "C000294"}):
        assert any(pair <= members for members in groups.values()), pair
    reasons = " ".join(dup_sheet(book_path)["原因"])
    assert "同一手机号" in reasons and "公司名称规范化后相同" in reasons
    memory = port(book_path).read_sheet("查重记忆")
    assert list(memory["kind"]) == ["last_run"]

    decide(book_path, {"C000099": "不是重复", "C000132": "合并"})
    again = run("dedupe", port(book_path), CTX)
    groups = groups_of(book_path)
    assert not any({"C000099", "C000151"} <= m for m in groups.values())  # never proposed again
    assert again.counts["groups"] == result.counts["groups"] - 1
    sheet = dup_sheet(book_path)
    assert sheet.loc[sheet["客户编号"] == "C000132", "决定"].tolist() == ["合并"]  # typed decision kept
    memory = port(book_path).read_sheet("查重记忆")
    nd = memory[memory["kind"] == "not_duplicate"]
    assert {tuple(sorted(p)) for p in zip(nd["id_a"], nd["id_b"], strict=True)} == {("C000099", "C000151")}


def test_new_only_mode_checks_rows_added_since_last_run(book_path: Path):
    first = run("dedupe", port(book_path), CTX)
    book = read_book(book_path)
    src = book.customers.set_index("customer_id").loc["C000010"]
    info = book.sheets["customers"]
    new = pd.DataFrame([{info.headers["customer_id"]: "C000900", info.headers["company"]: src["company"] + "（总部）",
                         info.headers["contact"]: src["contact"], info.headers["mobile"]: "+86 " + src["mobile"]}])
    apply_plan(book_path, EditPlan([AppendRows(info.name, new)]))
    result = run("dedupe", port(book_path), Context(today=CTX.today, user="tester", options={"new_only": True}))
    assert result.counts["groups"] == 1
    assert result.data["groups"] == [["C000010", "C000900"]]
    groups = groups_of(book_path)
    assert len(groups) == first.counts["groups"] + 1  # the groups listed before are kept
    assert any(m == {"C000010", "C000900"} for m in groups.values())


# --------------------------------------------------------------------------- merge and undo


def test_merge_then_undo_restores_the_data_exactly(book_path: Path):
    before = read_book(book_path)
    run("dedupe", port(book_path), CTX)
    decide(book_path, {"C000167": "保留为主", "C000095": "合并",  # master lacks a mobile: filled
                       "C000099": "合并", "C000151": "合并"})
    result = run("merge", port(book_path), CTX)
    assert result.written
    assert result.counts["groups"] == 2 and result.counts["merged"] == 2
    assert result.data["id_map"] == {"C000095": "C000167", "C000151": "C000099"}

    after = read_book(book_path)
    ids = set(after.customers["customer_id"].dropna())
    assert "C000095" not in ids and "C000151" not in ids and {"C000167", "C000099"} <= ids
    assert len(after.customers) == len(before.customers) - 2
    old = before.customers.set_index("customer_id")
    master = after.customers.set_index("customer_id").loc["C000167"]
    assert old.loc["C000167", "mobile"] is None and master["mobile"] == old.loc["C000095", "mobile"]
    assert (before.service["customer_id"] == "C000095").sum() == 1  # the sample's Service sheet follows too
    for key in ("followups", "purchases", "service"):
        b, a = before.frame(key), after.frame(key)
        assert not a["customer_id"].isin(["C000095", "C000151"]).any()
        moved = b["customer_id"].isin(["C000095", "C000167"]).sum()
        assert (a["customer_id"] == "C000167").sum() == moved
        assert len(a) == len(b)
    archive = port(book_path).read_sheet("归档")
    assert sorted(archive["客户编号"]) == ["C000095", "C000151"]
    assert dict(zip(archive["客户编号"], archive["并入客户编号"], strict=True)) == result.data["id_map"]
    log = port(book_path).read_sheet("变更记录")
    merged = log[log["操作"] == "合并"]
    assert ((merged["客户编号"] == "C000167") & (merged["字段"] == "手机")).any()  # the fill is logged
    conflicts = merged[merged["字段"].str.startswith("冲突")]
    assert len(conflicts) == result.counts["conflicts"] > 0  # listed, not overwritten
    assert master["owner"] == old.loc["C000167", "owner"]
    assert not any({"C000095"} & m for m in groups_of(book_path).values())  # merged groups leave the sheet

    undo = run("merge", port(book_path), Context(today=CTX.today, user="tester", options={"undo": True}))
    assert undo.written and undo.counts["restored"] == 2
    restored = read_book(book_path)
    pd.testing.assert_frame_equal(sorted_frame(restored.customers), sorted_frame(before.customers))
    raw_b, raw_r = before.raw["customers"].fillna(""), restored.raw["customers"].fillna("")
    pd.testing.assert_frame_equal(sorted_frame(raw_r.astype(str)), sorted_frame(raw_b.astype(str)))
    for key in ("followups", "purchases", "service"):
        pd.testing.assert_frame_equal(restored.frame(key), before.frame(key))
    with pytest.raises(XlcrmError, match="no merge to undo"):  # the undo record is used up
        run("merge", port(book_path), Context(options={"undo": True}))


def test_merge_needs_a_duplicates_sheet_and_one_master(book_path: Path):
    with pytest.raises(XlcrmError, match="run Duplicates"):
        run("merge", port(book_path), CTX)
    run("dedupe", port(book_path), CTX)
    decide(book_path, {"C000099": "保留为主", "C000151": "keep as master"})
    with pytest.raises(XlcrmError, match="more than one 'Keep as master'"):
        run("merge", port(book_path), CTX)


def test_dry_run_merge_writes_nothing(book_path: Path):
    run("dedupe", port(book_path), CTX)
    decide(book_path, {"C000099": "Merge", "C000151": "merge"})
    blob = book_path.read_bytes()
    result = run("merge", port(book_path), Context(today=CTX.today, dry_run=True))
    assert result.counts["merged"] == 1 and not result.written
    assert book_path.read_bytes() == blob


# --------------------------------------------------------------------------- pure merge


def test_plan_merge_fills_blanks_lists_conflicts_and_repoints():
    customers = pd.DataFrame({
        "_row": [2, 3, 4], "customer_id": ["C1", "C2", "C3"], "company": ["华创科技", "華創科技有限公司", "别的"],
        "mobile": [None, "138 0013 8000", "139"], "email": ["a@b.cn", "A@B.CN", None],
        "owner": ["王强", "李娜", None], "grade": ["A", "B", None],
    })
    followups = pd.DataFrame({"_row": [2, 3, 4], "customer_id": ["C2", "C1", "C3"]})
    out = plan_merge(customers, [MergeGroup(0, (1,))], {"followups": followups})
    assert out.fills == {(0, "mobile"): "138 0013 8000"}
    assert out.id_map == {"C2": "C1"} and out.archived == [1]
    fields = {k.field for k in out.conflicts}
    assert fields == {"company", "owner"}  # e-mail differs only in case; computed grade is never merged
    assert out.repoint == {"followups": {2: ("C2", "C1")}}


@pytest.mark.parametrize("value", [None, "文本", "00123", 12, 3.25, True, dt.datetime(2024, 1, 5), pd.Timestamp("2025-02-03 10:30")])
def test_undo_encoding_round_trips(value):
    tag, text = encode_value(value)
    back = decode_value(tag, text)
    if isinstance(value, pd.Timestamp):
        assert pd.Timestamp(back) == value
    else:
        assert back == value and type(back) is type(value)


def test_same_value_ignores_format_only_differences():
    assert same_value("+86 138-0013-8000", "13800138000")
    assert same_value("ＡＢＣ", "abc")
    assert same_value(pd.Timestamp("2024-01-05"), dt.datetime(2024, 1, 5, 0, 0))
    assert not same_value("王强", "李娜")


def test_cli_dedupe_and_merge(book_path: Path):
    from typer.testing import CliRunner

    from xlcrm.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["dedupe", str(book_path), "--lang", "en"])
    assert out.exit_code == 0, out.output
    assert "groups of possible duplicates" in out.output
    out = runner.invoke(app, ["merge", str(book_path), "--format", "json"])
    assert out.exit_code == 0 and '"merged": 0' in out.output  # nothing decided yet
    out = runner.invoke(app, ["merge", str(book_path), "--undo"])
    assert out.exit_code != 0 and "no merge to undo" in out.output


def test_decision_column_offers_the_decisions_as_a_dropdown(book_path: Path):
    import openpyxl

    path = book_path
    run("dedupe", port(path), CTX)
    ws = openpyxl.load_workbook(path)["查重"]
    (dv,) = ws.data_validations.dataValidation
    assert dv.type == "list" and dv.formula1 == '"合并,不是重复,保留为主"' and dv.errorStyle == "warning"
    header = [c.value for c in ws[1]]
    col = openpyxl.utils.get_column_letter(header.index("决定") + 1)
    assert str(dv.sqref).startswith(f"{col}2:{col}")


@pytest.mark.parametrize(("typed", "merged"), [
    ({"C000151": "合并"}, {"C000151": "C000099"}),  # only the duplicate marked: into the other row
    ({"C000099": "✓"}, {"C000099": "C000151"}),
    ({"C000151": "保留为主"}, {"C000099": "C000151"}),  # the master alone: the other row merges into it
    ({"C000099": "Y", "C000151": "primary"}, {"C000099": "C000151"}),
    ({"C000099": "好的"}, {}),  # not understood: listed, not merged
    ({"C000099": "删除", "C000151": "合并"}, {}),
])
def test_natural_decisions(book_path: Path, typed: dict[str, str], merged: dict[str, str]):
    run("dedupe", port(book_path), CTX)
    decide(book_path, typed)
    result = run("merge", port(book_path), CTX)
    assert result.data["id_map"] == merged
    odd = {cid: t for cid, t in typed.items() if t in ("好的", "删除")}
    assert [(i["customer_id"], i["value"]) for i in result.data["ignored"]] == list(odd.items())
    sheet = dup_sheet(book_path) if not merged else None
    for i in result.data["ignored"]:
        assert i["sheet"] == "查重" and sheet.iloc[i["row"] - 2]["客户编号"] == i["customer_id"]
        assert "无法识别" in i["reason"]
    if odd:
        assert "无法识别的决定" in result.text("zh-CN") and "not understood" in result.text("en")


def test_dry_run_meets_the_refusal_the_merge_would_give(tmp_path: Path):
    """A formula elsewhere pointing at the duplicate's row: merge refuses, naming the cell, and so does --dry-run."""
    import xlsxwriter

    path = tmp_path / "formula.xlsx"
    wb = xlsxwriter.Workbook(str(path))  # ok-to-save (brand-new fixture)
    ws = wb.add_worksheet("客户资料")
    ws.write_row(0, 0, ["客户编号", "公司名称", "联系人", "手机", "邮箱"])
    ws.write_row(1, 0, ["C001", "华创科技有限公司", "王强", "13800138000", "wq@huachuang.cn"])
    ws.write_row(2, 0, ["C002", "南京博远贸易有限公司", "李娜", "13900002222", "ln@boyuan.cn"])
    ws.write_row(3, 0, ["C003", "華創科技有限公司", "王強", "138-0013-8000", "WQ@HUACHUANG.CN"])
    wb.add_worksheet("跟进记录").write_row(0, 0, ["客户编号", "跟进日期", "跟进内容"])
    wb.add_worksheet("购买记录").write_row(0, 0, ["订单号", "客户编号", "订单日期", "金额"])
    wb.add_worksheet("备忘").write_formula("B2", "=客户资料!B4", None, "華創科技有限公司")
    wb.close()
    run("dedupe", port(path), CTX)
    decide(path, {"C003": "合并"})
    blob = path.read_bytes()
    with pytest.raises(XlcrmError) as dry:
        run("merge", port(path), Context(today=CTX.today, dry_run=True))
    with pytest.raises(XlcrmError) as real:
        run("merge", port(path), CTX)
    assert dry.value.render("en") == real.value.render("en")
    assert "'备忘'" in real.value.render("en") and "B2" in real.value.render("en") and "#REF!" in real.value.render("en")
    assert path.read_bytes() == blob
