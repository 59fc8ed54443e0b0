"""Every front end offers the same commands with the same options, and every one is documented
(as sqlite-utils' test_docs): the registry, the Python API (and its .pyi stubs), the CLI, the ribbon
XML, the sheet buttons, the xlwings Lite script, README and `--help`."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import xlcrm
from xlcrm import addin_build as ab
from xlcrm import api
from xlcrm.addin import ADDIN_ACTIONS, run_tag
from xlcrm.cli import app
from xlcrm.cli_commands import COMMON_FLAGS, HAND_WRITTEN, POSITIONAL, WRITING_FLAGS, commands_table
from xlcrm.commands import REGISTRY, Context, run
from xlcrm.commands.options import OptionError, describe
from xlcrm.workbook.file_adapter import FileWorkbook

ROOT = Path(__file__).resolve().parents[1]
TODAY = "2026-11-20"

# Commands that are not buttons, and why. `ribbon=False` on the registry entry says the same.
NOT_BUTTONS = {
    "import": "needs a second file (the source), which a button cannot ask for",
    "info": "read-only description for the command line and scripts; the How-to sheet covers the workbook",
}
# Buttons still to be added: a new ribbon / sheet button rebuilds the committed .xlsm templates
# (`make templates`), which this change leaves alone; Lite follows the ribbon (test_addin_build).
BUTTON_BACKLOG: set[str] = set()


def option_names(tag: str) -> list[str]:
    return [o.name for o in describe(REGISTRY[tag].options)]


def cli_commands() -> dict:
    return typer.main.get_command(app).commands


def flags_of(click_command) -> set[str]:
    return {opt for p in click_command.params if p.param_type_name == "option" for opt in p.opts
            if opt.startswith("--") and opt != "--help"}


def lite_tags() -> set[str]:
    tree = ast.parse((ROOT / "lite" / "main.py").read_text(encoding="utf-8"))
    return {call.args[1].value for call in ast.walk(tree)
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "_run"
            and isinstance(call.args[1], ast.Constant)}


# --------------------------------------------------------------------------- the same commands everywhere


def test_every_command_has_an_api_function_with_its_options():
    assert set(api.FUNCTIONS) == {spec.api_name for spec in REGISTRY.values()}
    assert list(xlcrm._API) == api.__all__  # `import xlcrm` offers exactly the API
    for spec in REGISTRY.values():
        sig = inspect.signature(getattr(xlcrm, spec.api_name))
        common = ["today", "lang", *(["dry_run", "unlock_protected"] if spec.writes else [])]
        assert list(sig.parameters) == ["path", *common, *option_names(spec.tag)], spec.tag
        assert all(p.kind is p.KEYWORD_ONLY for n, p in sig.parameters.items() if n != "path")


def test_every_command_is_a_cli_subcommand_with_the_same_options():
    commands = cli_commands()
    for spec in REGISTRY.values():
        assert spec.cli_name in commands, spec.tag
        flags = flags_of(commands[spec.cli_name])
        positional = POSITIONAL.get(spec.tag, ())
        wanted = {o.flag for o in describe(spec.options) if o.name not in positional}
        wanted |= set(COMMON_FLAGS) | (set(WRITING_FLAGS) if spec.writes else set())
        assert flags == wanted, spec.tag  # nothing missing, nothing the API cannot do
        args = {p.name for p in commands[spec.cli_name].params if p.param_type_name == "argument"}
        assert set(positional) <= args, spec.tag
    assert set(HAND_WRITTEN) <= set(REGISTRY)


def test_undo_merge_has_a_cli_form_and_merge_undo_stays():
    commands = cli_commands()
    assert "undo-merge" in commands and "--undo" in flags_of(commands["merge"])


def test_ribbon_sheet_buttons_and_lite_list_the_same_commands():
    buttons = {t for t, s in REGISTRY.items() if s.ribbon}
    assert {t for t, s in REGISTRY.items() if not s.ribbon} == set(NOT_BUTTONS)
    ribbon = {b["tag"] for b in ab.ribbon_buttons()}
    sheet = set(ab.dispatch_macros().values())
    assert {m for m, _, _ in ab.SHEET_BUTTONS} == set(ab.dispatch_macros())
    assert ribbon == sheet == (buttons - BUTTON_BACKLOG) | ADDIN_ACTIONS
    assert lite_tags() == (buttons - BUTTON_BACKLOG) | ADDIN_ACTIONS
    assert BUTTON_BACKLOG <= buttons  # a backlog entry is removed once its button exists


def test_api_stubs_are_generated_from_the_registry():
    assert (ROOT / "xlcrm" / "api.pyi").read_text(encoding="utf-8") == api.api_stub(), \
        "run `python -m xlcrm.api --write`"
    assert (ROOT / "xlcrm" / "__init__.pyi").read_text(encoding="utf-8") == api.init_stub()
    ast.parse(api.api_stub())  # valid Python


# --------------------------------------------------------------------------- documented


def test_readme_commands_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert commands_table() in readme, "paste `python -m xlcrm.cli_commands` into README"
    for spec in REGISTRY.values():
        row = next(line for line in readme.splitlines() if line.startswith(f"| {spec.zh} {spec.tag}"))
        for o in describe(spec.options):
            assert o.flag in row or o.name in POSITIONAL.get(spec.tag, ()), (spec.tag, o.flag)


@pytest.mark.parametrize("tag", sorted(REGISTRY))
def test_help_shows_every_option(tag, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # no truncated help lines
    spec = REGISTRY[tag]
    res = CliRunner().invoke(app, [spec.cli_name, "-h"])
    assert res.exit_code == 0, res.output
    for flag in flags_of(cli_commands()[spec.cli_name]):
        assert flag in res.output, flag
    for o in describe(spec.options):
        if o.name not in POSITIONAL.get(tag, ()):
            assert o.en.split(",")[0] in res.output, (tag, o.name)
    assert "<bool>" not in res.output and "<str>" not in res.output and "<integer>" not in res.output


# --------------------------------------------------------------------------- misspelt options


def test_misspelt_option_in_the_api_is_an_error_not_every_customer(sample_zh):
    with pytest.raises(OptionError) as err:
        xlcrm.export(sample_zh, today=TODAY, grades="A", dry_run=True)
    assert "grade" in err.value.render("en") and "Did you mean 'grade'" in err.value.render("en")
    assert "您是不是想用“grade”" in err.value.render("zh-CN")
    with pytest.raises(OptionError, match="dryrun"):
        xlcrm.check(sample_zh, dryrun=True)
    with pytest.raises(OptionError, match="grades"):
        xlcrm.run_command("export", sample_zh, grades="A")
    # the right name selects (the misspelt one used to be ignored: every consenting customer)
    every = xlcrm.export(sample_zh, today=TODAY, dry_run=True).counts["exported"]
    a_only = xlcrm.export(sample_zh, today=TODAY, grade="A", dry_run=True).counts["exported"]
    assert 0 < a_only < every


def test_option_values_are_checked(sample_zh):
    with pytest.raises(OptionError, match="birthday_month"):
        xlcrm.export(sample_zh, birthday_month="May", dry_run=True)
    with pytest.raises(OptionError, match="YYYY-MM-DD"):
        xlcrm.due(sample_zh, today="20/11/2026", dry_run=True)
    # lists, ribbon strings and ints are the same values
    ctx = Context(options={"grade": ["A", "B"], "dedupe_address": "true", "not_contacted_days": "30"})
    from xlcrm.commands.export import ExportOptions

    opts = ctx.opts(ExportOptions)
    assert (opts.grade, opts.dedupe_address, opts.not_contacted_days) == ("A,B", True, 30)


def test_misspelt_option_from_the_ribbon_is_the_same_error(sample_zh):
    alerts = []
    port = FileWorkbook(sample_zh)
    result = run_tag("export", port, options={"grades": "A"}, alert=lambda *a: alerts.append(a))
    port.close()
    assert result is None and len(alerts) == 1
    text, _title, mode = alerts[0]
    assert mode == "critical" and "“grades”" in text and "grade" in text
    before = sample_zh.read_bytes()
    assert sample_zh.read_bytes() == before  # nothing written


def test_run_checks_options_for_every_front_end(sample_zh):
    with pytest.raises(OptionError, match="new_onyl"):
        run("dedupe", FileWorkbook(sample_zh), Context(options={"new_onyl": True}))
    ctx = Context(options={"owner": None, "grade": "A"})
    run("due", FileWorkbook(sample_zh), ctx)
    assert ctx.options == {"owner": None, "grade": "A"}  # the caller's Context is not changed


def test_cli_rejects_unknown_flags_and_runs_undo_merge(sample_zh):
    res = CliRunner().invoke(app, ["export", str(sample_zh), "--grades", "A"])
    assert res.exit_code != 0
    res = CliRunner().invoke(app, ["undo-merge", str(sample_zh), "--today", TODAY])
    assert res.exit_code == 2 and re.search(r"undo|撤销", res.output)  # nothing merged yet: a clean refusal


def test_info_is_a_read_only_api_function_equal_to_the_cli(sample_zh):
    import json

    before = sample_zh.read_bytes()
    result = xlcrm.info(sample_zh, today=TODAY)
    assert sample_zh.read_bytes() == before and not result.written
    assert result.counts["errors"] == sum(p["severity"] == "error" for p in result.data["problems"])
    res = CliRunner().invoke(app, ["info", str(sample_zh), "--today", TODAY, "-f", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == json.loads(json.dumps(result.data, ensure_ascii=False, default=str))
