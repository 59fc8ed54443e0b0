"""What tests need from outside the code, found in one place: the samples, the Excel-authored
fixtures folder, LibreOffice.

A missing sample workbook is always a failure (they are committed). The fixtures folder and
LibreOffice may be absent on a developer's machine, so tests needing them skip — unless
XLCRM_REQUIRE_FIXTURES=1 / XLCRM_REQUIRE_LIBREOFFICE=1 is set (CI sets them where it has them):
then absence fails, and a test cannot silently vanish.

XLCRM_EXCEL_AUTHORED points at the fixtures folder (default ../shared/fixtures/excel-authored,
beside the repository).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_workbooks"
EXCEL_AUTHORED = Path(os.environ.get("XLCRM_EXCEL_AUTHORED") or REPO.parent / "shared" / "fixtures" / "excel-authored")
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def required(flag: str) -> bool:
    return os.environ.get(flag, "").strip().lower() in ("1", "true", "yes")


def missing(what: str, flag: str) -> None:
    """Skip the test for lack of `what` — or fail it when `flag` says CI must have it."""
    if required(flag):
        pytest.fail(f"{what} is missing, and {flag}=1 says it must be here", pytrace=False)
    pytest.skip(f"{what} is missing (set {flag}=1 to make this a failure)")


def sample(lang: str) -> Path:
    """A committed sample workbook (read-only; copy before writing)."""
    path = SAMPLES / f"xlcrm_sample_{lang}.xlsx"
    if not path.is_file():
        pytest.fail(f"{path} is missing: the samples are committed (python -m xlcrm.samples --out sample_workbooks)",
                    pytrace=False)
    return path


def copy_sample(lang: str, folder: Path, name: str | None = None) -> Path:
    dst = folder / (name or f"xlcrm_sample_{lang}.xlsx")
    shutil.copyfile(sample(lang), dst)
    return dst


def excel_authored(name: str | None = None) -> Path:
    """The Excel-authored fixtures folder, or one file in it (read-only; copy before use)."""
    path = EXCEL_AUTHORED if name is None else EXCEL_AUTHORED / name
    if not (path.is_dir() if name is None else path.is_file()):
        missing(f"the Excel-authored fixture {path}", "XLCRM_REQUIRE_FIXTURES")
    return path


def soffice() -> str:
    """The LibreOffice binary."""
    if SOFFICE is None:
        missing("LibreOffice (soffice; apt-get install -y libreoffice-calc-nogui)", "XLCRM_REQUIRE_LIBREOFFICE")
    return SOFFICE


def sample_path(lang: str) -> Path:
    """Where a sample workbook is (for module constants; `sample` checks it is there)."""
    return SAMPLES / f"xlcrm_sample_{lang}.xlsx"
