"""The built add-in (.xlam) and macro templates (.xlsm): packages, ribbon, VBA, LibreOffice run."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import needs
import pytest
from lxml import etree
from oletools.olevba import VBA_Parser
from python_calamine import CalamineWorkbook

from xlcrm import addin_build as ab
from xlcrm import addin_install
from xlcrm.vba import VbaModule

CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("built")
    return {
        "zh": ab.build_addin(out / "dist", "zh-CN"),
        "en": ab.build_addin(out / "dist", "en"),
        "xlsm_zh": ab.build_macro_workbook(out / "templates" / "xlcrm_template_zh.xlsm", "zh-CN"),
        "xlsm_en": ab.build_macro_workbook(out / "templates" / "xlcrm_template_en.xlsm", "en"),
    }


def _macros(data: bytes) -> dict[str, str]:
    parser = VBA_Parser("vbaProject.bin", data=data)
    return {stream.split("/")[-1]: code for _, stream, _, code in parser.extract_all_macros()}


def _check_package(path: Path, main_type: str) -> zipfile.ZipFile:
    """Every relationship target exists, every part has a content type, the main part is `main_type`."""
    z = zipfile.ZipFile(path)
    assert z.testzip() is None
    names = set(z.namelist())
    types = etree.fromstring(z.read("[Content_Types].xml"))
    defaults = {d.get("Extension"): d.get("ContentType") for d in types.iter(f"{CT_NS}Default")}
    overrides = {o.get("PartName"): o.get("ContentType") for o in types.iter(f"{CT_NS}Override")}
    for name in names:
        assert "/" + name in overrides or name.rsplit(".", 1)[-1] in defaults, f"no content type for {name}"
    assert overrides["/xl/workbook.xml"] == main_type
    assert defaults.get("bin") == ab.VBA_CONTENT_TYPE or overrides.get("/xl/vbaProject.bin") == ab.VBA_CONTENT_TYPE
    for rels in [n for n in names if n.endswith(".rels")]:
        base = rels.replace("_rels/", "").removesuffix(".rels")
        folder = base.rsplit("/", 1)[0] if "/" in base else ""
        for rel in etree.fromstring(z.read(rels)).iter(f"{REL_NS}Relationship"):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target")
            full = target.lstrip("/") if target.startswith("/") else "/".join(p for p in (folder, target) if p)
            parts = []
            for seg in full.split("/"):
                parts = parts[:-1] if seg == ".." else [*parts, seg]
            assert "/".join(parts) in names, f"{rels}: missing {target}"
    return z


# --------------------------------------------------------------------------- ribbon


def test_ribbon_source_parses_in_the_customui14_namespace_with_unique_ids() -> None:
    root = etree.parse(str(ab.RIBBON_SOURCE)).getroot()
    assert root.tag == f"{{{ab.CUSTOMUI_NS}}}customUI"
    ids = [el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")]
    assert len(ids) == len(set(ids)) and len(ids) >= 10
    buttons = ab.ribbon_buttons()
    assert [b["tag"] for b in buttons] == [
        "run",
        "check",
        "regrade",
        "due",
        "dedupe",
        "merge",
        "undo_merge",
        "summary",
        "receivables",
        "export",
        "card",
        "sync",
        "handover",
        "help",
    ]
    for b in buttons:
        assert b["onAction"] == "XlcrmButton" and b["label"] and b["en_label"], b
    for el in root.iter(f"{{{ab.CUSTOMUI_NS}}}button"):
        assert el.get("imageMso") and el.get("size") == "large"


@pytest.mark.parametrize("lang, tab, check", [("zh-CN", "客户管理 CRM", "校验"), ("en", "CRM 客户管理", "Check")])
def test_rendered_ribbon_has_only_standard_attributes(lang: str, tab: str, check: str) -> None:
    xml = ab.render_ribbon(lang)
    root = etree.fromstring(xml)
    assert root.tag == f"{{{ab.CUSTOMUI_NS}}}customUI" and set(root.nsmap.values()) == {ab.CUSTOMUI_NS}
    assert ab.EN_NS.encode() not in xml
    for el in root.iter():
        assert all(not a.startswith("{") for a in el.attrib), el.attrib
    assert root.find(f".//{{{ab.CUSTOMUI_NS}}}tab").get("label") == tab
    assert root.find(f".//{{{ab.CUSTOMUI_NS}}}button[@tag='check']").get("label") == check


def test_every_button_runs_a_registered_command() -> None:
    from xlcrm.addin import ADDIN_ACTIONS
    from xlcrm.commands import REGISTRY

    known = set(REGISTRY) | set(ADDIN_ACTIONS)
    ribbon_tags = {b["tag"] for b in ab.ribbon_buttons()}
    sheet_tags = set(ab.dispatch_macros().values())
    assert ribbon_tags == sheet_tags
    missing = sorted((ribbon_tags | sheet_tags) - known)
    assert not missing, f"buttons without a registered command: {missing}"


# --------------------------------------------------------------------------- VBA sources


def test_dispatcher_is_ascii_and_routes_every_sheet_macro() -> None:
    raw = ab.DISPATCH_SOURCE.read_bytes()
    raw.decode("ascii")
    text = raw.decode().replace("\r\n", "\n")
    assert "Public Sub XlcrmButton(control As Object)" in text
    assert """RunPython "import xlcrm.addin; xlcrm.addin.run_button('" & commandTag & "')\"""" in text
    assert {m for m, _, _ in ab.SHEET_BUTTONS} == set(ab.dispatch_macros())


def test_xlwings_module_is_adapted_from_the_installed_wheel() -> None:
    text = ab.xlwings_module().code
    version = importlib.metadata.version("xlwings")
    assert re.search(rf'^Public Const XLWINGS_VERSION As String = "{re.escape(version)}"$', text, re.M)
    assert re.search(r'^Public Const PROJECT_NAME As String = "xlcrm"$', text, re.M)
    get_config = re.search(r"^Function GetConfig\(.*?^End Function", text, re.M | re.S).group(0)
    assert ab.CONFIG_MARKER in get_config
    # no workbook sheet, no file next to the workbook: only the user's config file
    assert "ActiveWorkbook" not in get_config and "ThisWorkbook" not in get_config
    assert "GetDirectoryConfigFilePath" not in get_config and "GetConfigFromSheet" not in text
    assert 'GetConfig("ADD_WORKBOOK_TO_PYTHONPATH", "true")' not in text
    assert "uses_embedded_code = False" in text
    assert text.count("Function GetConfig(") == 1
    # the wheel's file itself is untouched and is not in the repository
    assert "myaddin" in ab.xlwings_bas_path().read_text("cp1252")
    assert not list(ab.RESOURCES.glob("xlwings*"))


def test_adaptation_refuses_a_version_mismatch_or_an_unknown_shape() -> None:
    raw = ab.xlwings_bas_path().read_text("cp1252")
    with pytest.raises(ab.BuildError, match="XLWINGS_VERSION"):
        ab.adapt_xlwings_module(raw, "0.0.1")
    broken = raw.replace("Function GetConfig(configKey", "Function GetConfigX(configKey")
    with pytest.raises(ab.BuildError, match="GetConfig"):
        ab.adapt_xlwings_module(broken, importlib.metadata.version("xlwings"))


# --------------------------------------------------------------------------- packages


@pytest.mark.parametrize("key", ["zh", "en"])
def test_xlam_is_a_valid_addin_package_with_the_ribbon(built, key: str) -> None:
    path = built[key]
    assert path.name == ("xlcrm.xlam" if key == "zh" else "xlcrm_en.xlam")
    z = _check_package(path, ab.ADDIN_CONTENT_TYPE)
    rels = etree.fromstring(z.read("_rels/.rels"))
    ui = [r for r in rels.iter(f"{REL_NS}Relationship") if r.get("Type") == ab.UI_REL_TYPE]
    assert [r.get("Target") for r in ui] == [ab.CUSTOMUI_PART]
    assert z.read(ab.CUSTOMUI_PART) == ab.render_ribbon("en" if key == "en" else "zh-CN")
    assert b'codeName="ThisWorkbook"' in z.read("xl/workbook.xml")
    assert CalamineWorkbook.from_path(str(path)).sheet_names == ["xlcrm"]
    macros = _macros(z.read("xl/vbaProject.bin"))
    assert set(macros) == {"ThisWorkbook", "Sheet1", "xlwings", "XlcrmDispatch"}
    assert macros["XlcrmDispatch"] == ab.DISPATCH_SOURCE.read_bytes().decode("ascii")  # byte for byte
    assert macros["xlwings"] == ab.xlwings_module().source()


@pytest.mark.parametrize("key, lang", [("xlsm_zh", "zh-CN"), ("xlsm_en", "en")])
def test_macro_template_has_the_project_and_bound_sheet_buttons(built, key: str, lang: str) -> None:
    from xlcrm import schema

    z = _check_package(built[key], ab.XLSM_CONTENT_TYPE)
    sheets = CalamineWorkbook.from_path(str(built[key])).sheet_names
    assert schema.HOWTO.name(lang) in sheets and schema.CUSTOMERS.name(lang) in sheets
    macros = _macros(z.read("xl/vbaProject.bin"))
    assert set(macros) == {
        "ThisWorkbook",
        "xlwings",
        "XlcrmDispatch",
        *(f"Sheet{i}" for i in range(1, len(sheets) + 1)),
    }
    workbook = z.read("xl/workbook.xml").decode()
    assert 'codeName="ThisWorkbook"' in workbook
    sheet_xml = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sum('codeName="Sheet' in x for x in sheet_xml) == len(sheets)
    vml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".vml"))
    bound = re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml)
    assert bound == [m for m, _, _ in ab.SHEET_BUTTONS]
    captions = [en if lang == "en" else zh for _, zh, en in ab.SHEET_BUTTONS]
    assert all(c in vml for c in captions)


def test_builds_are_reproducible(tmp_path) -> None:
    a = ab.build_addin(tmp_path / "a").read_bytes()
    b = ab.build_addin(tmp_path / "b").read_bytes()
    assert a == b
    x = ab.build_macro_workbook(tmp_path / "x.xlsm", "en").read_bytes()
    y = ab.build_macro_workbook(tmp_path / "y.xlsm", "en").read_bytes()
    assert x == y


# --------------------------------------------------------------------------- LibreOffice

_PROBE = r"""
import json, subprocess, sys, time, uuid
import uno
from com.sun.star.beans import PropertyValue

def prop(n, v):
    p = PropertyValue(); p.Name = n; p.Value = v; return p

path, macro, cell, profile = sys.argv[1:5]
pipe = "xlcrm" + uuid.uuid4().hex[:8]
proc = subprocess.Popen(["soffice", "--headless", "--invisible", "--norestore", "--nologo",
                         "-env:UserInstallation=" + uno.systemPathToFileUrl(profile),
                         "--accept=pipe,name=%s;urp;" % pipe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
desktop = None
try:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(300):
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            break
        except Exception:
            time.sleep(0.2)
    else:
        raise SystemExit("soffice did not start")
    smgr = ctx.ServiceManager
    config = smgr.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", ctx)
    scripting = config.createInstanceWithArguments("com.sun.star.configuration.ConfigurationUpdateAccess",
        (prop("nodepath", "/org.openoffice.Office.Common/Security/Scripting"),))
    scripting.setPropertyValue("MacroSecurityLevel", 0)
    scripting.commitChanges()
    desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0,
                                       (prop("Hidden", True), prop("MacroExecutionMode", 4)))
    out = {"buttons": [], "modules": []}
    libs = doc.BasicLibraries
    for lib in libs.getElementNames():
        libs.loadLibrary(lib)
        out["modules"] += ["%s.%s" % (lib, m) for m in libs.getByName(lib).getElementNames()]
    for i in range(doc.Sheets.Count):
        sheet = doc.Sheets.getByIndex(i)
        forms = sheet.DrawPage.Forms
        for f in range(forms.Count):
            form = forms.getByIndex(f)
            for c in range(form.Count):
                out["buttons"].append({"sheet": sheet.Name, "label": form.getByIndex(c).Label,
                                       "events": [e.ScriptCode for e in form.getScriptEvents(c)]})
    if macro != "-":
        doc.ScriptProvider.getScript(macro).invoke((), (), ())
        out["cell"] = doc.Sheets.getByIndex(0).getCellRangeByName(cell).String
    print(json.dumps(out))
    doc.close(True)
finally:
    try:
        if desktop is not None:
            desktop.terminate()
    except Exception:
        pass
    try:
        proc.wait(30)
    except Exception:
        proc.kill()
"""


def _uno_python() -> str | None:
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if candidate and shutil.which("soffice"):
            ok = subprocess.run([candidate, "-c", "import uno"], capture_output=True).returncode == 0
            if ok:
                return candidate
    return None


def _probe(tmp_path: Path, book: Path, macro: str = "-", cell: str = "A1") -> dict:
    needs.soffice()
    python = _uno_python()
    if python is None:  # LibreOffice is here, its Python bridge (python3-uno) is not: not what CI requires
        pytest.skip("LibreOffice's Python UNO bridge is not installed (apt-get install -y python3-uno)")
    script = tmp_path / "probe.py"
    script.write_text(_PROBE)
    done = subprocess.run(
        [python, str(script), str(book), macro, cell, str(tmp_path / "lo-profile")],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.libreoffice
def test_libreoffice_binds_every_sheet_button_to_its_macro(built, tmp_path) -> None:
    book = tmp_path / "t.xlsm"
    shutil.copy(built["xlsm_en"], book)
    found = _probe(tmp_path, book)
    assert {"xlcrm.XlcrmDispatch", "xlcrm.xlwings", "xlcrm.ThisWorkbook"} <= set(found["modules"])
    expected = [
        (en, f"vnd.sun.star.script:xlcrm.XlcrmDispatch.{m}?language=Basic&location=document")
        for m, _, en in ab.SHEET_BUTTONS
    ]
    assert [(b["label"], *b["events"]) for b in found["buttons"]] == expected
    assert {b["sheet"] for b in found["buttons"]} == {"How-to"}


@pytest.mark.libreoffice
def test_libreoffice_runs_a_generated_macro_that_writes_a_cell(tmp_path) -> None:
    # LibreOffice Basic cannot compile xlwings' module (#If, Declare PtrSafe), and a library that
    # does not compile runs nothing; the generated project is otherwise the template's own.
    writer = VbaModule(
        "XlcrmSelfTest", 'Public Sub WriteCell()\n    Worksheets(1).Range("ZZ1").Value = "xlcrm " & (6 * 7)\nEnd Sub\n'
    )
    book = ab.build_macro_workbook(tmp_path / "selftest.xlsm", "zh-CN", [writer], with_xlwings=False)
    found = _probe(
        tmp_path, book, "vnd.sun.star.script:xlcrm.XlcrmSelfTest.WriteCell?language=Basic&location=document", "ZZ1"
    )
    assert found["cell"] == "xlcrm 42"
    assert "xlcrm.XlcrmDispatch" in found["modules"] and len(found["buttons"]) == len(ab.SHEET_BUTTONS)


# --------------------------------------------------------------------------- install / CLI


def test_user_config_is_in_xlwings_format_where_the_vba_reads_it(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    assert ab.user_config_path("windows") == tmp_path / ".xlcrm" / "xlcrm.conf"
    assert ab.user_config_path("macos").name == "xlcrm.conf"
    assert "com.microsoft.Excel/Data" in str(ab.user_config_path("macos"))
    assert ab.config_text(r"C:\Py\python.exe", "windows").splitlines()[0] == r'"INTERPRETER_WIN","C:\Py\python.exe"'
    path = ab.write_user_config("/usr/bin/python3", "windows")
    assert path.read_text().startswith('"INTERPRETER_WIN","/usr/bin/python3"')


def test_cli_builds_and_explains_linux(tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from xlcrm.cli import app

    runner = CliRunner()
    done = runner.invoke(app, ["addin", "build", "--dist", str(tmp_path / "d"), "--templates", str(tmp_path / "t")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "d" / "xlcrm.xlam").exists() and (tmp_path / "t" / "xlcrm_template_en.xlsm").exists()
    monkeypatch.setattr(addin_install, "current_platform", lambda: "linux")
    done = runner.invoke(app, ["addin", "install", "--dist", str(tmp_path / "d")])
    assert done.exit_code == 1 and "Windows" in done.output and "xlcrm check" in done.output


def test_lite_scripts_cover_every_ribbon_button() -> None:
    text = (REPO / "lite" / "main.py").read_text(encoding="utf-8")
    assert set(re.findall(r'_run\(book, "([a-z_]+)"\)', text)) == {b["tag"] for b in ab.ribbon_buttons()}
    assert text.count("@script") == len(ab.ribbon_buttons())
    requirements = (REPO / "lite" / "requirements.txt").read_text().splitlines()
    assert not [r for r in requirements if r.strip() and not r.startswith("#") and ("openpyxl" in r or "==" in r)]


@pytest.mark.parametrize("key", ["zh", "xlsm_en"])
def test_document_modules_are_named_like_the_workbook_and_sheet_code_names(built, key: str) -> None:
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(built[key]) as z:
        workbook = etree.fromstring(z.read("xl/workbook.xml"))
        code_names = [workbook.find(f"{ns}workbookPr").get("codeName")]
        sheets = sorted((n for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)),
                        key=lambda n: int(re.sub(r"\D", "", n)))
        code_names += [etree.fromstring(z.read(n)).find(f"{ns}sheetPr").get("codeName") for n in sheets]
        project = VBA_Parser("vbaProject.bin", data=z.read("xl/vbaProject.bin")).ole_file.openstream("PROJECT")
        documents = re.findall(r"^Document=(\w+)/&H00000000\r$", project.read().decode("cp1252"), re.M)
    assert documents == code_names and code_names[0] == "ThisWorkbook"


def test_build_refuses_non_ascii_vba_source() -> None:
    with pytest.raises(ab.BuildError, match="ASCII"):
        ab.vba_project(1, [VbaModule("Bad", 'Sub X()\n    MsgBox "客户"\nEnd Sub\n')], with_xlwings=False)
    for module in ab.vba_modules(2):
        assert module.source().isascii() and "\n" not in module.source().replace("\r\n", "")
