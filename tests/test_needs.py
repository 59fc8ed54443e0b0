"""Missing test inputs skip on a developer's machine and fail where CI says they must be present."""

from __future__ import annotations

import needs
import pytest


def test_missing_input_skips_by_default(monkeypatch):
    monkeypatch.delenv("XLCRM_REQUIRE_FIXTURES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="XLCRM_REQUIRE_FIXTURES=1"):
        needs.missing("the thing", "XLCRM_REQUIRE_FIXTURES")


@pytest.mark.parametrize("flag", ["XLCRM_REQUIRE_FIXTURES", "XLCRM_REQUIRE_LIBREOFFICE"])
def test_missing_input_fails_when_required(monkeypatch, flag):
    monkeypatch.setenv(flag, "1")
    with pytest.raises(pytest.fail.Exception, match="the thing is missing"):
        needs.missing("the thing", flag)


def test_the_fixtures_folder_can_be_moved_by_environment(monkeypatch, tmp_path):
    monkeypatch.setattr(needs, "EXCEL_AUTHORED", tmp_path)
    (tmp_path / "a.xlsx").write_bytes(b"x")
    assert needs.excel_authored("a.xlsx") == tmp_path / "a.xlsx"
    monkeypatch.setenv("XLCRM_REQUIRE_FIXTURES", "1")
    with pytest.raises(pytest.fail.Exception):
        needs.excel_authored("absent.xlsx")


def test_environment_names_the_fixtures_folder(tmp_path):
    import os
    import subprocess
    import sys

    code = "import needs; print(needs.EXCEL_AUTHORED)"
    env = {**os.environ, "XLCRM_EXCEL_AUTHORED": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=needs.REPO / "tests", env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == str(tmp_path)


def test_the_samples_are_committed():
    for lang in ("zh", "en"):
        assert needs.sample(lang).is_file()
