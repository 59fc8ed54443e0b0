"""Shared fixtures: paths to test data, copies of the sample workbooks, LibreOffice when present."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXCEL_AUTHORED = REPO.parent / "shared" / "fixtures" / "excel-authored"
SAMPLES = REPO / "sample_workbooks"


@pytest.fixture(scope="session")
def excel_authored() -> Path:
    """Real Excel-made workbooks (read-only; copy before use). Skips when the folder is absent."""
    if not EXCEL_AUTHORED.is_dir():
        pytest.skip("../shared/fixtures/excel-authored is absent")
    return EXCEL_AUTHORED


def _copy_sample(tmp_path: Path, lang: str) -> Path:
    src = SAMPLES / f"xlcrm_sample_{lang}.xlsx"
    dst = tmp_path / src.name
    shutil.copyfile(src, dst)
    return dst


@pytest.fixture
def sample_zh(tmp_path: Path) -> Path:
    """A fresh copy of the bundled Chinese sample workbook."""
    return _copy_sample(tmp_path, "zh")


@pytest.fixture
def sample_en(tmp_path: Path) -> Path:
    """A fresh copy of the bundled English sample workbook."""
    return _copy_sample(tmp_path, "en")


@pytest.fixture(scope="session")
def soffice() -> str:
    """The LibreOffice binary; skips the test when LibreOffice is not installed."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        pytest.skip("LibreOffice is not installed (apt-get install -y libreoffice-calc-nogui)")
    return exe
