"""`xlcrm doctor`: each check on made-up Windows / macOS / Linux facts, and fact gathering on disk."""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlcrm import addin_build, addin_install, doctor
from xlcrm.cli import app
from xlcrm.doctor import Facts


def facts(platform: str = "windows", **kw) -> Facts:
    base = Facts(platform, (3, 11, 7), 64, sys.executable, "0.37.8")
    return replace(base, **kw)


def _both_languages(r: doctor.Result) -> None:
    assert r.zh and r.en and r.zh != r.en and any("\u4e00" <= c <= "\u9fff" for c in r.zh)


@pytest.mark.parametrize("version, status", [((3, 9, 18), "fail"), ((3, 10, 0), "ok"), ((3, 13, 1), "ok")])
def test_python_version(version, status) -> None:
    r = doctor.check_python(facts(python=version))
    assert r.status == status and ".".join(map(str, version)) in r.en
    _both_languages(r)


def test_xlwings_missing_matching_and_mismatched() -> None:
    assert doctor.check_xlwings(facts(xlwings=None)).status == "fail"
    assert doctor.check_xlwings(facts(addin_xlwings="0.37.8")).status == "ok"
    r = doctor.check_xlwings(facts(addin_xlwings="0.33.1"))
    assert r.status == "fail" and "0.33.1" in r.en and "xlcrm addin build" in r.zh
    _both_languages(r)


def test_config_checks(tmp_path: Path) -> None:
    conf = tmp_path / "xlcrm.conf"
    assert doctor.check_config(facts(config_path=conf)).status == "fail"
    assert doctor.check_config(facts(config_path=conf, config={})).status == "fail"
    gone = facts(config_path=conf, config={"INTERPRETER_WIN": str(tmp_path / "nope.exe")})
    assert doctor.check_config(gone).status == "fail"
    other = tmp_path / "python.exe"
    other.write_text("")
    r = doctor.check_config(facts(config_path=conf, config={"INTERPRETER_WIN": str(other)}))
    assert r.status == "warn" and str(other) in r.en
    assert doctor.check_config(facts(config_path=conf, config={"INTERPRETER_WIN": sys.executable})).status == "ok"
    mac = facts("macos", config_path=conf, config={"INTERPRETER_MAC": sys.executable})
    assert doctor.check_config(mac).status == "ok"
    assert doctor.check_config(replace(mac, config={"INTERPRETER_WIN": sys.executable})).status == "fail"


def test_addin_unblocked_and_trusted_on_windows(tmp_path: Path) -> None:
    xlstart = tmp_path / "XLSTART"
    addin = xlstart / "xlcrm.xlam"
    assert doctor.check_addin(facts()).status == "fail"
    assert doctor.check_addin(facts(addin=addin)).status == "ok"
    blocked = doctor.check_unblocked(facts(addin=addin, addin_blocked=True))
    assert blocked.status == "fail" and "Unblock-File" in blocked.en and "解除锁定" in blocked.zh
    assert doctor.check_unblocked(facts(addin=addin, addin_blocked=False)).status == "ok"
    assert doctor.check_trusted(facts(addin=addin, trusted_locations=[str(xlstart)])).status == "ok"
    assert doctor.check_trusted(facts(addin=addin, trusted_locations=[str(tmp_path)])).status == "ok"  # a parent
    r = doctor.check_trusted(facts(addin=addin, trusted_locations=[str(tmp_path / "elsewhere")]))
    assert r.status == "warn" and "Trusted Locations" in r.en


def test_bitness_on_windows() -> None:
    assert doctor.check_bitness(facts(office_bits=64)).status == "ok"
    r = doctor.check_bitness(facts(office_bits=32))
    assert r.status == "info" and "RunPython" in r.en
    assert doctor.check_bitness(facts(office_bits=None)).status == "warn"


def test_mac_specific_checks() -> None:
    assert doctor.check_mac_runpython(facts("macos", mac_runpython=False)).status == "fail"
    assert doctor.check_mac_runpython(facts("macos", mac_runpython=True)).status == "ok"
    for check in (doctor.check_unblocked, doctor.check_trusted, doctor.check_bitness):
        assert check(facts("macos")).status == "ok"
    assert doctor.check_mac_runpython(facts("windows")).status == "ok"


def test_linux_reports_what_it_can_and_says_the_rest_needs_excel() -> None:
    results = doctor.run_checks(facts("linux"))
    assert [r.key for r in results] == ["python", "xlwings", "config", "addin", "unblocked", "trusted", "bitness",
                                        "runpython"]
    assert [r.status for r in results[:2]] == ["ok", "ok"]
    assert all(r.status == "info" and "Windows" in r.en and "Excel" in r.zh for r in results[2:])


def test_reads_the_xlwings_version_of_a_built_addin(tmp_path: Path) -> None:
    built = addin_build.build_addin(tmp_path, "en")
    assert doctor.addin_xlwings_version(built) == addin_build.xlwings_version()
    broken = tmp_path / "broken.xlam"
    broken.write_bytes(b"not a zip")
    assert doctor.addin_xlwings_version(broken) is None


def test_gathers_windows_facts_from_disk(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(addin_install, "current_platform", lambda: "windows")
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    monkeypatch.setattr(doctor, "_windows_registry", lambda: ([r"C:\Trusted"], 32))
    f = doctor.gather_facts()
    assert f.config is None and f.addin is None and f.office_bits == 32
    addin_build.write_user_config(sys.executable, "windows")
    xlstart = doctor.startup_folder("windows")
    xlstart.mkdir(parents=True)
    shutil.copy(addin_build.build_addin(tmp_path / "dist", "zh-CN"), xlstart / "xlcrm.xlam")
    f = doctor.gather_facts()
    assert f.config == {"INTERPRETER_WIN": sys.executable, "SHOW_ERROR_POPUPS": "True"}
    assert f.addin == xlstart / "xlcrm.xlam" and f.addin_xlwings == addin_build.xlwings_version()
    assert f.addin_blocked is False and str(xlstart) in f.trusted_locations
    assert {r.key: r.status for r in doctor.run_checks(f)} == {
        "python": "ok", "xlwings": "ok", "config": "ok", "addin": "ok", "unblocked": "ok", "trusted": "ok",
        "bitness": "info", "runpython": "ok"}


def test_gathers_mac_facts_from_disk(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(addin_install, "current_platform", lambda: "macos")
    monkeypatch.setenv("HOME", str(tmp_path))
    f = doctor.gather_facts()
    assert f.mac_runpython is False and f.addin is None
    scripts = tmp_path / "Library/Application Scripts/com.microsoft.Excel"
    scripts.mkdir(parents=True)
    (scripts / f"xlwings-{addin_build.xlwings_version()}.applescript").write_text("on VbaHandler()")
    assert doctor.gather_facts().mac_runpython is True


def test_cli_exit_code_follows_failures(monkeypatch) -> None:
    monkeypatch.setattr(doctor, "gather_facts", lambda: facts("linux"))
    done = CliRunner().invoke(app, ["doctor"])
    assert done.exit_code == 0 and "xlwings" in done.output and "需要在装有 Excel" in done.output
    monkeypatch.setattr(doctor, "gather_facts", lambda: facts("windows", addin_xlwings="0.1"))
    done = CliRunner().invoke(app, ["doctor"])
    assert done.exit_code == 1 and "0.1" in done.output
