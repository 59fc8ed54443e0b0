"""The wheel a Windows user installs carries everything `xlcrm addin build` needs (issue 14, item 1).

Builds the wheel from this checkout, installs it with its dependencies into a brand-new venv and
builds the add-in from a folder outside the source tree. Slow (a venv and pip); pip's cache makes
a rerun quick.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from oletools.olevba import VBA_Parser

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str | Path, cwd: Path, timeout: int = 900) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
def test_wheel_installs_in_a_clean_venv_and_builds_the_addin(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, REPO, cwd=tmp_path)
    (wheel,) = dist.glob("xlcrm-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"xlcrm/resources/ribbon.xml", "xlcrm/resources/xlcrm_dispatch.bas", "xlcrm/__main__.py",
            "xlcrm/py.typed", "xlcrm/vba/project.py"} <= names
    assert not [n for n in names if n.startswith(("tests/", "macros/", "templates/"))]

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    _run(python, "-m", "pip", "install", "-q", f"{wheel}[excel]", cwd=tmp_path)

    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    assert "xlcrm 0.1" in _run(python, "-m", "xlcrm", "--version", cwd=elsewhere)  # `py -m xlcrm`
    _run(bindir / "xlcrm", "addin", "build", "--out", "out", cwd=elsewhere)
    built = sorted(p.name for p in (elsewhere / "out").iterdir())
    assert built == ["xlcrm.xlam", "xlcrm_en.xlam", "xlcrm_template_en.xlsm", "xlcrm_template_zh.xlsm"]
    with zipfile.ZipFile(elsewhere / "out" / "xlcrm.xlam") as z:
        parser = VBA_Parser("vbaProject.bin", data=z.read("xl/vbaProject.bin"))
        modules = {stream.split("/")[-1] for _, stream, _, _ in parser.extract_all_macros()}
    assert {"ThisWorkbook", "Sheet1", "xlwings", "XlcrmDispatch"} <= modules
    doctor = _run(bindir / "xlcrm", "doctor", cwd=elsewhere)
    assert "xlwings" in doctor
