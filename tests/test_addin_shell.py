"""A received workbook's name never reaches a shell (issue 10, item 12).

The VBA is taken from the built add-in with olevba; its string building (RunPython, ExecuteMac)
and xlwings' AppleScript handler are replayed by `vba_sim`, and the resulting command line is run
by /bin/sh exactly as `do shell script` would, with a harmless Python in place of the button's
command. xlwings' unadapted module is replayed too, to show the simulation does reproduce the hole.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from oletools.olevba import VBA_Parser
from vba_sim import Vba, applescript_shell_command, procedure

from xlcrm import addin, addin_build

NASTY_NAMES = [
    "Q3 $(touch PWNED1).xlsx",
    "a`touch PWNED2`.xlsx",
    'b"; touch PWNED3; echo ".xlsx',
    "c|d;e\\f 客户 $HOME %PATH%.xlsx",
]


def name_arg(name: str) -> str:
    """What the VBA XlcrmNameArg returns (checked against LibreOffice Basic below)."""
    units = name.encode("utf-16-be", "surrogatepass")
    return addin_build.NAME_ARG_PREFIX + units.hex().upper()


@pytest.fixture(scope="module")
def adapted_module(tmp_path_factory) -> str:
    path = addin_build.build_addin(tmp_path_factory.mktemp("addin"), "en")
    parser = VBA_Parser(str(path))
    modules = {stream.split("/")[-1]: code for _, stream, _, code in parser.extract_all_macros()}
    return modules["xlwings"].replace("\r\n", "\n")


def _raw_module() -> str:
    return addin_build.xlwings_bas_path().read_text(encoding="cp1252").replace("\r\n", "\n")


def _mac_shell_command(module: str, full_name: str, home: Path, command: str) -> tuple[str, list[str]]:
    """Replay RunPython (Mac branch) and ExecuteMac; return the sh command and AppleScript's fields."""
    name = full_name.rsplit("/", 1)[-1]
    config = {"INTERPRETER_MAC": sys.executable}
    vba = Vba(
        {"ActiveWorkbook.FullName": full_name, "ThisWorkbook.FullName": "/Users/me/Library/xlcrm.xlam",
         "ActiveWorkbook.Name": name, "Application.Path": "/Applications/Microsoft Excel.app/Contents",
         "AddExcelDir": "false", "PythonCommand": command, "interpreter": sys.executable},
        {"GetConfig": lambda key, default="": config.get(key, default),
         "InStr": lambda a, b: a.find(b) + 1,
         "ToPosixPath": lambda p: p,  # a POSIX path's POSIX form is itself (the real one asks MacScript)
         "Replace": lambda s, a, b: s.replace(a, b),
         "Environ": lambda key: str(home) if key == "HOME" else "",
         "Left": lambda s, n: s[:n], "Len": len, "XlcrmNameArg": name_arg},
    )
    run_python = procedure(module, "RunPython")
    start = next(i for i, line in enumerate(run_python) if "The first 5 args" in line)
    end = next(i for i, line in enumerate(run_python) if "OPTIMIZED_CONNECTION = " in line)
    vba.run(run_python[start:end])
    vba.vars["python_mac"] = vba.vars["interpreter"]
    execute_mac = procedure(module, "ExecuteMac")
    stop = next(i for i, line in enumerate(execute_mac) if "On Error GoTo AppleScriptErrorHandler" in line)
    vba.run([line for line in execute_mac[:stop]
             if not line.strip().startswith(("Dim ", "On Error", "Kill "))])
    fields = vba.vars["parameterstring"].split("|")
    keys = ["PYTHONPATH", "PythonInterpreter", "PythonCommand", "WorkbookName", "ApplicationFullName", "LOG_FILE"]
    script = (addin_build.xlwings_bas_path().parent / f"xlwings-{addin_build.xlwings_version()}.applescript").read_text()
    return applescript_shell_command(script, dict(zip(keys, fields))), fields


def _run_like_do_shell_script(shell_command: str, cwd: Path, marker: Path) -> dict | None:
    subprocess.run(["/bin/sh", "-c", shell_command], cwd=cwd, check=False, timeout=60)
    deadline = time.monotonic() + 30  # the command ends in '&': wait for the background Python
    while time.monotonic() < deadline and not marker.exists():
        time.sleep(0.05)
    time.sleep(0.2)  # let an injected command (started before Python) finish too
    return json.loads(marker.read_text()) if marker.exists() else None


def _command(marker: Path) -> str:
    return f"import sys,json; open('{marker}','w').write(json.dumps(dict(argv=sys.argv, path=sys.path[:3])))"


@pytest.mark.skipif(not shutil.which("sh"), reason="needs a POSIX shell")
@pytest.mark.parametrize("name", NASTY_NAMES)
def test_mac_command_line_runs_nothing_from_the_file_name(adapted_module: str, tmp_path: Path, name: str) -> None:
    marker = tmp_path / "argv.json"
    full_name = f"/Users/me/Down;loads/{name}"
    shell, fields = _mac_shell_command(adapted_module, full_name, tmp_path, _command(marker))
    assert len(fields) == 6  # a '|' in the name no longer shifts AppleScript's fields
    assert name not in shell and "Down;loads" not in shell
    seen = _run_like_do_shell_script(shell, tmp_path, marker)
    assert not list(tmp_path.glob("PWNED*"))
    assert seen is not None, (tmp_path / "xlwings.log").read_text() if (tmp_path / "xlwings.log").exists() else ""
    wb = [a for a in seen["argv"] if a.startswith("--wb=")]
    assert wb == ["--wb=" + name_arg(name)]
    argv = list(seen["argv"])
    addin.decode_caller_argv(argv)
    assert f"--wb={name}" in argv  # what xw.Book.caller() then looks the workbook up by
    assert not any("Down" in p for p in seen["path"])  # nothing from the workbook's folder on sys.path


@pytest.mark.skipif(not shutil.which("sh"), reason="needs a POSIX shell")
def test_unadapted_xlwings_module_does_run_the_file_name(tmp_path: Path) -> None:
    marker = tmp_path / "argv.json"
    shell, _ = _mac_shell_command(_raw_module(), f"/Users/me/Downloads/{NASTY_NAMES[0]}", tmp_path, _command(marker))
    _run_like_do_shell_script(shell, tmp_path, marker)
    assert (tmp_path / "PWNED1").exists()  # the hole the adaptation closes, reproduced


def test_no_workbook_path_is_put_on_a_command_line(adapted_module: str) -> None:
    assert 'ActiveFullName = ""' in adapted_module and 'ThisFullName = ""' in adapted_module
    assert "ToPosixPath(ActiveWorkbook.FullName)" not in adapted_module
    assert 'AddExcelDir & ";" & "" & ";" & "" & ' in adapted_module  # XLPyCommand (UDF server)
    assert "XlcrmNameArg(ActiveWorkbook.Name)" in "\n".join(procedure(adapted_module, "ExecuteWindows"))
    assert addin.NAME_ARG_PREFIX == addin_build.NAME_ARG_PREFIX


def test_adaptation_refuses_a_module_where_a_name_still_leaks() -> None:
    raw = _raw_module()
    leaky = raw.replace("    ParameterString = ParameterString + \"|\" + LOG_FILE\n",
                        "    ParameterString = ParameterString + \"|\" + LOG_FILE\n"
                        "    ParameterString = ParameterString + \"|\" + ThisWorkbook.FullName\n")
    with pytest.raises(addin_build.BuildError, match="still reaches"):
        addin_build.adapt_xlwings_module(leaky, addin_build.xlwings_version())


@pytest.mark.parametrize("name", [*NASTY_NAMES, "", "=x.xlsm", "\U0001f600.xlsx"])
def test_name_arg_round_trips(name: str) -> None:
    assert addin.decode_name_arg(name_arg(name)) == name
    assert addin.decode_name_arg("plain.xlsx") == "plain.xlsx"
    with pytest.raises(ValueError):
        addin.decode_name_arg(addin.NAME_ARG_PREFIX + "12")


def _vba_literal(text: str) -> str:
    """A VBA expression for `text` (ASCII source: other characters as ChrW)."""
    parts = []
    for ch in text:
        parts.append(f'"{ch}"' if 32 <= ord(ch) < 127 and ch != '"' else f"ChrW({ord(ch)})")
    return " & ".join(parts)


@pytest.mark.libreoffice
def test_vba_name_encoder_matches_python_in_libreoffice_basic(adapted_module: str, tmp_path: Path) -> None:
    from test_addin_build import _probe

    from xlcrm.vba import VbaModule

    name = 'b"; $(x) `y` |;\\ 客户 %P%.xlsx'
    function = "Function XlcrmNameArg(" + adapted_module.split("\nFunction XlcrmNameArg(", 1)[1]
    code = f'{function}\nPublic Sub WriteName()\n    Worksheets(1).Range("ZZ1").Value = XlcrmNameArg({_vba_literal(name)})\nEnd Sub\n'
    book = addin_build.build_macro_workbook(tmp_path / "name.xlsm", "en", [VbaModule("XlcrmNameTest", code)],
                                            with_xlwings=False)
    found = _probe(tmp_path, book, "vnd.sun.star.script:xlcrm.XlcrmNameTest.WriteName?language=Basic&location=document",
                   "ZZ1")
    assert found["cell"] == name_arg(name)
    assert addin.decode_name_arg(found["cell"]) == name
