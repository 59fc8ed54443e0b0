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


# --------------------------------------------------------------------------- team store (issue 12)

@pytest.fixture(scope="session")
def pg_server():
    """A throw-away PostgreSQL server for the session (tests/pgserver.py); skips when none can start."""
    import pgserver

    server, why = pgserver.start()
    if server is None:
        pytest.skip(f"PostgreSQL unavailable: {why}")
    yield server
    from xlcrm.store.engine import close_stores

    close_stores()
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A fresh, empty team store: an SQLite file, or a new database on the session's PostgreSQL server."""
    import uuid

    from xlcrm.store.engine import close_stores

    if request.param == "sqlite":
        yield str(tmp_path / "team.sqlite")
    else:
        import pgserver

        yield pgserver.fresh_database(request.getfixturevalue("pg_server"), f"t_{uuid.uuid4().hex[:12]}")
    close_stores()
