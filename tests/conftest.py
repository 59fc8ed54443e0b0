"""Shared fixtures: paths to test data, copies of the sample workbooks, LibreOffice when present.

Where they are and what happens when they are missing is decided in `needs.py`.
"""

from __future__ import annotations

from pathlib import Path

import needs
import pytest

REPO = needs.REPO
EXCEL_AUTHORED = needs.EXCEL_AUTHORED
SAMPLES = needs.SAMPLES


@pytest.fixture(scope="session")
def excel_authored() -> Path:
    """Real Excel-made workbooks (read-only; copy before use). Skips when the folder is absent,
    fails instead under XLCRM_REQUIRE_FIXTURES=1."""
    return needs.excel_authored()


@pytest.fixture
def sample_zh(tmp_path: Path) -> Path:
    """A fresh copy of the bundled Chinese sample workbook."""
    return needs.copy_sample("zh", tmp_path)


@pytest.fixture
def sample_en(tmp_path: Path) -> Path:
    """A fresh copy of the bundled English sample workbook."""
    return needs.copy_sample("en", tmp_path)


@pytest.fixture(scope="session")
def soffice() -> str:
    """The LibreOffice binary; skips the test when LibreOffice is not installed (fails under
    XLCRM_REQUIRE_LIBREOFFICE=1)."""
    return needs.soffice()
