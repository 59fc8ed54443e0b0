"""The 查重 / Duplicates sheet that `dedupe` writes on each sample workbook, as plain JSON.

    .venv/bin/python tests/duplicates_sheet_snapshot.py > tests/data/duplicates_sheet_snapshot.json

Taken with the matcher as it was before it became a table; tests/test_dedupe_snapshot.py checks it
still comes out the same, cell for cell.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import openpyxl

REPO = Path(__file__).resolve().parents[1]
TODAY = "2026-11-23"
SHEETS = {"zh": "查重", "en": "Duplicates"}


def duplicates_sheet(lang: str, folder: Path) -> list[list]:
    import xlcrm

    path = folder / f"crm_{lang}.xlsx"
    shutil.copyfile(REPO / "sample_workbooks" / f"xlcrm_sample_{lang}.xlsx", path)
    xlcrm.run_command("dedupe", path, today=TODAY)
    sheet = openpyxl.load_workbook(path, read_only=True)[SHEETS[lang]]
    return [[None if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def snapshot() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        return {lang: duplicates_sheet(lang, Path(tmp)) for lang in SHEETS}


if __name__ == "__main__":
    json.dump(snapshot(), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
