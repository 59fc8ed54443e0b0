"""LibreOffice as a differential oracle: what it sees before a write, it still sees after (skipped without it)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import needs
import pytest
from writer_fixtures import build_rich_xlsm, representative_plan

from xlcrm.ooxml.package import Package
from xlcrm.workbook.writer import apply_plan
from xlcrm.workbook.writer.sheets import Workbook

SOFFICE = needs.SOFFICE
pytestmark = pytest.mark.usefixtures("soffice")  # skips without LibreOffice; fails under XLCRM_REQUIRE_LIBREOFFICE=1

FEATURES = {
    "sheets": r'<table:table table:name="(?!local-table")',
    "charts": r"<draw:object\b",
    "notes": r"<office:annotation\b",
    "validations": r"<table:content-validation ",
    "conditional formats": r"<calcext:conditional-format ",
    "buttons": r"<form:button\b",
    "button bindings": r"<script:event-listener\b",
    "macro modules": r"<(?:ooo|script):module\b",
    "images": r"<draw:image\b",
}


def _features(paths: list[Path], out: Path) -> list[dict[str, int]]:
    """Convert the workbooks to flat ODS in one LibreOffice run and count what it found in each."""
    out.mkdir(exist_ok=True)
    subprocess.run(
        [
            SOFFICE,
            "--headless",
            f"-env:UserInstallation=file://{out}/profile",
            "--convert-to",
            "fods",
            "--outdir",
            str(out),
            *map(str, paths),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    counts = []
    for path in paths:
        text = (out / (path.stem + ".fods")).read_text(encoding="utf-8")
        counts.append({name: len(re.findall(pattern, text)) for name, pattern in FEATURES.items()})
    return counts


def _compare(path: Path, tmp_path: Path) -> None:
    before_copy = tmp_path / ("before_" + path.name)
    shutil.copyfile(path, before_copy)
    sheet = Workbook(Package(path.read_bytes())).sheets()[0].name
    apply_plan(path, representative_plan(sheet, 1, [2, 3, 4]), backup_keep=0)
    before, after = _features([before_copy, path], tmp_path / "out")
    # A new chart brings its own preview image in LibreOffice's file; + the very-hidden ownership record sheet.
    expected = dict(before, sheets=before["sheets"] + 3, charts=before["charts"] + 1, images=before["images"] + 1)
    assert after == expected


def test_libreoffice_sees_the_same_book_plus_the_new_sheets(tmp_path: Path) -> None:
    path = build_rich_xlsm(tmp_path / "rich.xlsm")
    _compare(path, tmp_path)


@pytest.mark.parametrize("name", ["62629_target.xlsm", "61652.xlsx", "NewStyleConditionalFormattings.xlsx"])
def test_libreoffice_on_excel_authored(name: str, tmp_path: Path) -> None:
    src = needs.excel_authored(name)
    path = tmp_path / name
    shutil.copyfile(src, path)
    _compare(path, tmp_path)
