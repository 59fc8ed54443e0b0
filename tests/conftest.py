"""Shared fixtures: paths to test data, copies of the sample workbooks, LibreOffice when present.

Where they are and what happens when they are missing is decided in `needs.py`.
"""

from __future__ import annotations

import os
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


# --------------------------------------------------------------------------- team store (issue 12)

@pytest.fixture(scope="session")
def pg_server():
    """A throw-away PostgreSQL server for the session (tests/pgserver.py); skips when none can start."""
    import pgserver

    server, why = pgserver.start()
    if server is None:
        if os.environ.get("XLCRM_REQUIRE_POSTGRESQL") == "1":  # set by .ci/run where PostgreSQL is installed
            pytest.fail(f"PostgreSQL is required here but could not start: {why}")
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
