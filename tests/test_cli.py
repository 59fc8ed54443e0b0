"""The command line itself: help without type placeholders, -h, bilingual usage errors, checked values."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from xlcrm import cli
from xlcrm.cli import app

runner = CliRunner()
COMMANDS = ["new", "info", "check", "regrade", "due", "run", "summary", "receivables", "export", "dedupe", "merge",
            "import", "template build", "addin build", "addin install", "addin status", "addin remove"]


def run_main(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    out = capsys.readouterr()
    return exit_.value.code, out.out + out.err


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_no_type_placeholders_and_h_works(command):
    long = runner.invoke(app, [*command.split(), "--help"], env={"COLUMNS": "160"})
    short = runner.invoke(app, [*command.split(), "-h"], env={"COLUMNS": "160"})
    assert long.exit_code == 0 and short.exit_code == 0 and long.output == short.output
    assert not re.search(r"<(bool|str|int|path|text)>", long.output), long.output
    assert "显示帮助并退出 / Show this help and exit." in long.output
    assert "选项 Options" in long.output


def test_usage_errors_in_chinese_first(capsys, tmp_path):
    code, text = run_main(["due"], capsys)
    assert code == 2 and "缺少参数 BOOK。" in text and "Missing argument 'BOOK'." in text
    assert text.index("缺少参数") < text.index("Missing argument") and "Traceback" not in text
    code, text = run_main(["nosuch"], capsys)
    assert code == 2 and "没有名为“nosuch”的命令。" in text and "No such command 'nosuch'." in text
    code, text = run_main(["due", "x.xlsx", "--bogus"], capsys)
    assert code == 2 and "没有这个选项：--bogus" in text


@pytest.mark.parametrize("args, zh, en", [
    (["--lang", "fr"], "语言应为 zh-CN、zh-TW、en，而不是“fr”", "expected one of zh-CN, zh-TW, en, not 'fr'"),
    (["--format", "yaml"], "格式应为 text、json，而不是“yaml”", "expected one of text, json, not 'yaml'"),
])
def test_lang_and_format_values_are_checked(capsys, args, zh, en):
    code, text = run_main(["due", "x.xlsx", *args], capsys)
    assert code == 2 and "的值无效：" + zh in text and en in text


def test_lang_values_are_normalised(sample_zh, capsys):
    code, text = run_main(["check", str(sample_zh), "--lang", "zh_tw", "--today", "2026-11-20"], capsys)
    assert code == 0 and "校驗完成" in text
    code, text = run_main(["summary", str(sample_zh), "-f", "MD", "--today", "2026-11-20"], capsys)
    assert code == 0 and "|" in text


def test_info_reports_what_check_would_find(sample_zh):
    result = runner.invoke(app, ["info", str(sample_zh), "--today", "2026-11-20"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    found = re.search(r"“校验”会报告 (\d+) 个错误、(\d+) 个警告", result.output)
    assert found, result.output
    import xlcrm

    check = xlcrm.check(sample_zh, today="2026-11-20", dry_run=True)
    assert (int(found.group(1)), int(found.group(2))) == (check.counts["errors"], check.counts["warnings"])


def test_import_cli_dry_run_shows_the_mapping_first(tmp_path, sample_zh):
    csv = tmp_path / "c.csv"
    csv.write_text("公司名称,手机\n新公司,13911112222\n", encoding="utf-8")
    before = sample_zh.read_bytes()
    result = runner.invoke(app, ["import", str(csv), str(sample_zh), "--dry-run"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and sample_zh.read_bytes() == before
    assert result.output.index("表头对应") < result.output.index("导入 IMP-")
    assert "客户资料 · 公司名称" in result.output and "试运行" in result.output
    result = runner.invoke(app, ["import", str(csv), str(sample_zh)])
    assert result.exit_code == 0 and sample_zh.read_bytes() != before
    result = runner.invoke(app, ["import", "--undo", str(sample_zh)])
    assert result.exit_code == 0 and "已撤销导入" in result.output


def test_progress_covers_every_stage(sample_zh, monkeypatch):
    from xlcrm.commands import run
    from xlcrm.commands.base import Context
    from xlcrm.workbook.file_adapter import FileWorkbook

    stages: list[str] = []
    say = lambda stage, fraction: stages.append(stage)  # noqa: E731
    import datetime as dt

    run("run", FileWorkbook(sample_zh, progress=say), Context(today=dt.date(2026, 11, 20), progress=say))
    text = " ".join(stages)
    for word in ("Reading", "Checking", "Grading", "Due today", "Writing"):
        assert word in text, stages
    stages.clear()
    run("dedupe", FileWorkbook(sample_zh, progress=say), Context(today=dt.date(2026, 11, 20), progress=say))
    assert any("Duplicates" in s for s in stages) and any("Writing" in s for s in stages)


def test_the_cli_starts_without_the_team_stores_modules():
    """SQLAlchemy (0.2 s of a 0.7 s start) is loaded by the commands that open a store, when they run."""
    import subprocess
    import sys

    code = "import sys, xlcrm.cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
