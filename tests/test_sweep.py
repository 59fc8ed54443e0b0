"""benchmarks/sweep.py on a few cases: each outcome as expected, nothing foreign touched."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import package_cases as cases  # noqa: E402
import sweep  # noqa: E402

SUBSET = ["crm-macro-first", "broken-comments", "bad-shared-string", "fixture+crm:button07.xlsm",
          "collision-tool-sheets", "collision-pets"]


@pytest.mark.slow
def test_sweep_on_a_subset(tmp_path, capsys):
    out = tmp_path / "sweep.json"
    assert sweep.main(["--only", *SUBSET, "--strict", "--json", str(out)]) == 0
    reports = {r["case"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    assert {"crm-macro-first", "broken-comments", "bad-shared-string"} <= set(reports)
    assert reports["crm-macro-first"]["outcome"] == "ok"
    assert [s["outcome"] for s in reports["broken-comments"]["steps"]] == ["refused"] * 4
    assert "not well-formed XML" in reports["broken-comments"]["steps"][0]["reason"]
    assert all(not r["foreign"] for r in reports.values())  # the user's own 汇总/问题/查重 sheets included
    assert reports["collision-tool-sheets"]["outcome"] == "ok" and reports["collision-pets"]["outcome"] == "refused"
    table = capsys.readouterr().out
    assert "crm-macro-first" in table and "traceback: 0" in table


def test_foreign_changes_are_told_apart_from_xlcrm_s_own(tmp_path):
    path = cases.small_crm(tmp_path / "crm.xlsx")
    before = sweep._parts(path)
    sheets = sweep._sheets(before)
    settings, customers = sheets["设置"], sheets["客户资料"]  # the user's settings are input, never output
    after = dict(before)
    after[customers] = before[customers] + b" "
    after["xl/workbook.xml"] = before["xl/workbook.xml"] + b" "
    assert sweep.foreign_changes(path, before, after) == []
    after[settings] = before[settings] + b" "
    after["docProps/custom.xml"] = b""
    assert sweep.foreign_changes(path, before, after) == ["docProps/custom.xml", settings]
    with zipfile.ZipFile(path) as zf:
        assert zf.read(settings) == before[settings]  # only the dicts were changed


def test_a_changed_typed_cell_in_a_users_column_is_reported(tmp_path):
    import collision_cases

    path = collision_cases.typed_computed_columns(tmp_path / "typed.xlsx")
    before = sweep.user_cells(path)
    assert before[("客户资料", "下次跟进", 3)] == "2026-11-25" and before[("客户资料", "客户等级", 2)] == "A"
    after = {**before, ("客户资料", "客户等级", 2): "E"}  # as if a command had overwritten the user's grade
    assert sweep.changed_user_cells(path, before, after) == ["客户资料!客户等级2"]
