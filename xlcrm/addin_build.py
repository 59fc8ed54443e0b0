"""Build the Excel add-in (dist/xlcrm.xlam) and the macro-enabled templates from text sources.

Sources: `xlcrm/resources/ribbon.xml` (the CRM tab, zh-CN and en labels), `xlcrm/resources/xlcrm_dispatch.bas`
(the one VBA dispatcher), and xlwings' own custom-add-in module, read from the *installed*
xlwings wheel at build time and adapted:

- `PROJECT_NAME = "xlcrm"`, so the user config is `xlcrm.conf` (written by `xlcrm addin install`);
- config lookup restricted to that user file: a workbook's `xlcrm.conf` sheet or an `xlcrm.conf`
  file next to a workbook can no longer choose the interpreter, conda environment or PYTHONPATH
  that runs when a button is clicked;
- `ADD_WORKBOOK_TO_PYTHONPATH` always off, and code embedded in a workbook's `*.py` sheets never run;
- `GetConfigFromSheet` removed (unused now; on a Mac it needs a Dictionary class module);
- `XLWINGS_VERSION` checked against the installed package (RunPython refuses a mismatch).

The VBA project is generated from that text (`xlcrm.vba`): nothing binary is committed. Every
package is a brand-new file written with xlsxwriter (plus, for the .xlam, the ribbon part and
the add-in content type), reproducible byte for byte.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import importlib.util
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from .addin_install import (  # noqa: F401 - re-exported: `xlcrm addin …` imports them from here
    ADDIN_FILES,
    LINUX_HELP,
    PROJECT_NAME,
    UnsupportedPlatform,
    addin_status,
    config_text,
    current_platform,
    install_addin,
    remove_addin,
    user_config_path,
    write_user_config,
    xlwings_version,
)
from .vba import VbaModule, build_vba_project

# Package data (installed with the wheel), so `xlcrm addin build` works outside a source checkout.
RESOURCES = Path(__file__).resolve().parent / "resources"
RIBBON_SOURCE = RESOURCES / "ribbon.xml"
DISPATCH_SOURCE = RESOURCES / "xlcrm_dispatch.bas"

MACRO_TEMPLATE_FILES = {"zh-CN": "xlcrm_template_zh.xlsm", "en": "xlcrm_template_en.xlsm"}

CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
EN_NS = "urn:xlcrm:ribbon:en"
CUSTOMUI_PART = "customUI/customUI14.xml"
UI_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
ADDIN_CONTENT_TYPE = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
XLSM_CONTENT_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
VBA_CONTENT_TYPE = "application/vnd.ms-office.vbaProject"
CONFIG_MARKER = "xlcrm: config lookup restricted"
NAME_ARG_MARKER = "xlcrm: workbook name hex-encoded"
NAME_ARG_PREFIX = "xlcrm-hex:"
FIXED_TIME = dt.datetime(2026, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# Sheet buttons (form controls) on the How-to sheet: macro in the dispatcher, zh-CN and en caption.
SHEET_BUTTONS: tuple[tuple[str, str, str], ...] = (
    ("XlcrmRunAll", "全部运行", "Run all"),
    ("XlcrmCheck", "校验", "Check"),
    ("XlcrmRegrade", "评级", "Regrade"),
    ("XlcrmDueToday", "今日跟进", "Due Today"),
    ("XlcrmDedupe", "查重", "Dedupe"),
    ("XlcrmMerge", "合并", "Merge"),
    ("XlcrmUndoMerge", "撤销合并", "Undo merge"),
    ("XlcrmSummary", "汇总", "Summary"),
    ("XlcrmReceivables", "应收", "Receivables"),
    ("XlcrmExport", "导出", "Export"),
    ("XlcrmCard", "客户卡", "Card"),  # acts on the selected row: on How-to it asks for a customer's row first
    ("XlcrmHelp", "帮助", "Help"),
    ("XlcrmSync", "同步", "Sync"),  # team mode: needs a team store (XLCRM_STORE or the user's config)
    ("XlcrmHandover", "移交", "Handover"),
)


class BuildError(RuntimeError):
    """A source is missing or no longer has the shape the build relies on."""


# --------------------------------------------------------------------------- VBA sources


def xlwings_bas_path() -> Path:
    """xlwings' custom-add-in module in the installed wheel (located without importing xlwings)."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise BuildError("xlwings 未安装：pip install 'xlcrm[excel]' / xlwings is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "xlwings_custom_addin.bas"
    if not path.is_file():
        raise BuildError(f"xlwings_custom_addin.bas not found in the installed xlwings ({path})")
    return path


_RESTRICTED_GET_CONFIG = f"""Function GetConfig(configKey As String, Optional default As String = "", Optional source As String = "") As Variant
    ' {CONFIG_MARKER}: only the user's own config file is read (written by
    ' `xlcrm addin install`). An xlcrm.conf sheet in a workbook, or an xlcrm.conf file next to
    ' it, could otherwise choose the interpreter, conda environment or PYTHONPATH that runs.
    Dim configValue As String
    If UCase$(configKey) = "ADD_WORKBOOK_TO_PYTHONPATH" Then
        GetConfig = "false"
        Exit Function
    End If
    If source = "" Or source = "user" Then
        If FileExists(GetConfigFilePath()) = True Then
            If GetConfigFromFile(GetConfigFilePath(), configKey, configValue) Then
                GetConfig = configValue
                GetConfig = ExpandEnvironmentStrings(GetConfig)
                Exit Function
            End If
        End If
    End If
    GetConfig = default
    GetConfig = ExpandEnvironmentStrings(GetConfig)
End Function
"""


def _replace_once(text: str, pattern: str, repl: str | Callable[[re.Match], str], what: str,
                  flags: int = 0, count_ok: Callable[[int], bool] = lambda n: n == 1) -> str:
    new, n = re.subn(pattern, repl, text, flags=flags)
    if not count_ok(n):
        raise BuildError(f"xlwings_custom_addin.bas changed shape: {what} matched {n} times")
    return new


def adapt_xlwings_module(text: str, version: str) -> str:
    """xlwings' custom-add-in module text, adapted for xlcrm (see the module docstring)."""
    text = text.replace("\r\n", "\n")
    found = re.search(r'^Public Const XLWINGS_VERSION As String = "([^"]+)"$', text, re.M)
    if not found or found.group(1) != version:
        raise BuildError(f"XLWINGS_VERSION in the .bas ({found.group(1) if found else '?'}) "
                         f"is not the installed xlwings ({version})")
    text = _replace_once(text, r'^(Public Const PROJECT_NAME As String = )"[^"]*"$',
                         rf'\1"{PROJECT_NAME}"', "PROJECT_NAME", re.M)
    text = _replace_once(text, r"^Function GetConfig\(configKey As String.*?^End Function\n",
                         lambda _: _RESTRICTED_GET_CONFIG, "GetConfig", re.M | re.S)
    text = _replace_once(text, r'^#If App = "Microsoft Excel" Then\nFunction GetConfigFromSheet\(.*?'
                               r"^End Function\n#End If\n", "", "GetConfigFromSheet", re.M | re.S)
    text = _replace_once(text, r'GetConfig\("ADD_WORKBOOK_TO_PYTHONPATH", "true"\)', '"false"',
                         "ADD_WORKBOOK_TO_PYTHONPATH", count_ok=lambda n: n >= 1)
    text = _replace_once(text, r"^(    If uses_embedded_code = True Then\n        AddExcelDir)",
                         "    ' xlcrm: never run Python code embedded in a workbook's sheets\n"
                         "    uses_embedded_code = False\n\\1", "embedded code", re.M)
    if "GetConfigFromSheet" in text:
        raise BuildError("config lookup still reads a workbook's xlcrm.conf sheet")
    return _keep_names_out_of_shells(text)


_NAME_ARG_FUNCTION = f"""
' {NAME_ARG_MARKER}: a workbook's name reaches Python as hex UTF-16 code units
' (xlcrm.addin decodes it before xw.Book.caller), so no character of a received file's name
' (" $ ` \\ | ; % ...) is ever read by AppleScript, sh or cmd.exe.
Function XlcrmNameArg(ByVal bookName As String) As String
    Dim i As Long
    Dim hexName As String
    hexName = "{NAME_ARG_PREFIX}"
    For i = 1 To Len(bookName)
        hexName = hexName & Right$("000" & Hex$(AscW(Mid$(bookName, i, 1)) And &HFFFF&), 4)
    Next i
    XlcrmNameArg = hexName
End Function
"""


def _keep_names_out_of_shells(text: str) -> str:
    """No workbook name or path reaches a shell, AppleScript or prepare_sys_path (issue 10, item 12).

    xlwings joins the workbook's full paths into PYTHONPATH (split on ';' by prepare_sys_path,
    pasted into `do shell script` on a Mac, into cmd.exe on Windows) and its name into the
    '|'-joined AppleScript parameter. With ADD_WORKBOOK_TO_PYTHONPATH off the paths are unused,
    so they become empty strings (and the Mac no longer asks MacScript for their POSIX form);
    the name, which xw.Book.caller needs, is passed hex-encoded.
    """
    text = _replace_once(text, r"^    #If Mac Then\n        If InStr\(ActiveWorkbook\.FullName, \"://\"\) = 0 Then\n"
                               r".*?^    #End If\n",
                         "    ' xlcrm: the workbook's folder is never on sys.path, so its path is not passed on\n"
                         "    ActiveFullName = \"\"\n    ThisFullName = \"\"\n",
                         "RunPython's FullName block", re.M | re.S)
    text = _replace_once(text, r"AddExcelDir & \";\" & ActiveWorkbook\.FullName & \";\" & ThisWorkbook\.FullName & ",
                         'AddExcelDir & ";" & "" & ";" & "" & ', "XLPyCommand's FullName")
    text = _replace_once(text, r'^(    ParameterString = ParameterString \+ "\|" \+ )ActiveWorkbook\.Name$',
                         r"\1XlcrmNameArg(ActiveWorkbook.Name)", "ExecuteMac's workbook name", re.M)
    text = _replace_once(text, r'(" --wb=" & """" & )ActiveWorkbook\.Name( & """ --from_xl=1")',
                         r"\1XlcrmNameArg(ActiveWorkbook.Name)\2", "ExecuteWindows' workbook name")
    leaks = re.findall(r"^(?!\s*').*(?:ActiveWorkbook|ThisWorkbook)\.(?:Full)?Name\b.*$", text, re.M)
    leaks = [line for line in leaks if "XlcrmNameArg(ActiveWorkbook.Name)" not in line
             and not re.search(r"\b(?:FName|full_path_name|i_pos|GetFullName)\b", line)]
    if leaks:
        raise BuildError(f"a workbook name or path still reaches a command line: {leaks[0].strip()}")
    return text + _NAME_ARG_FUNCTION


def xlwings_module() -> VbaModule:
    raw = xlwings_bas_path().read_text(encoding="cp1252")
    return VbaModule.from_bas(adapt_xlwings_module(raw, xlwings_version()))


def dispatch_module() -> VbaModule:
    raw = DISPATCH_SOURCE.read_bytes()
    try:
        return VbaModule.from_bas(raw.decode("ascii"))
    except UnicodeDecodeError:
        raise BuildError(f"{DISPATCH_SOURCE.name} must be ASCII only") from None


def dispatch_macros() -> dict[str, str]:
    """Sheet-button macros of the dispatcher (no arguments) → the command tag each runs."""
    text = dispatch_module().code
    return dict(re.findall(r'Public Sub (\w+)\(\)\s*\n\s*XlcrmRun "([a-z_]+)"', text.replace("\r\n", "\n")))


def vba_modules(sheet_count: int, with_xlwings: bool = True) -> list[VbaModule]:
    """ThisWorkbook, one document module per sheet (Sheet1…), xlwings and the dispatcher."""
    docs = [VbaModule.document("ThisWorkbook", workbook=True)]
    docs += [VbaModule.document(f"Sheet{i}") for i in range(1, sheet_count + 1)]
    return [*docs, *([xlwings_module()] if with_xlwings else []), dispatch_module()]


def vba_project(sheet_count: int, extra: list[VbaModule] | None = None, with_xlwings: bool = True) -> bytes:
    modules = [*vba_modules(sheet_count, with_xlwings), *(extra or [])]
    for m in modules:  # the project's code page is 1252, but VBE on a zh-CN machine reads 936: ASCII reads the same
        bad = next((c for c in m.source() if not c.isascii()), None)
        if bad is not None:
            raise BuildError(f"VBA module {m.name} must be ASCII only (found {bad!r}); use ChrW() for other characters")
    return build_vba_project(modules, project_name=PROJECT_NAME)


# --------------------------------------------------------------------------- ribbon


def ribbon_buttons() -> list[dict[str, str]]:
    """Every button of the ribbon source: id, tag, onAction, label (zh-CN) and en label."""
    root = etree.parse(str(RIBBON_SOURCE)).getroot()
    return [
        {"id": b.get("id"), "tag": b.get("tag"), "onAction": b.get("onAction"), "label": b.get("label"),
         "en_label": b.get(f"{{{EN_NS}}}label")}
        for b in root.iter(f"{{{CUSTOMUI_NS}}}button")
    ]


def render_ribbon(lang: str) -> bytes:
    """customUI14.xml for one language: standard attributes only, the en: namespace removed."""
    root = etree.parse(str(RIBBON_SOURCE)).getroot()
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in [a for a in el.attrib if a.startswith(f"{{{EN_NS}}}")]:
            local = attr.split("}", 1)[1]
            if lang == "en":
                el.set(local, el.attrib[attr])
            del el.attrib[attr]
    for comment in root.xpath(".//comment()"):  # comments above the root are not serialised anyway
        comment.getparent().remove(comment)
    etree.cleanup_namespaces(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


# --------------------------------------------------------------------------- packages


def _rezip(data: bytes, edit: Callable[[str, bytes], bytes | None], add: dict[str, bytes]) -> bytes:
    """Copy a package, letting `edit` change parts (None: unchanged) and adding `add`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            body = src.read(name)
            changed = edit(name, body)
            dst.writestr(zipfile.ZipInfo(name, _ZIP_TIME), changed if changed is not None else body,
                         zipfile.ZIP_DEFLATED)
        for name, body in add.items():
            dst.writestr(zipfile.ZipInfo(name, _ZIP_TIME), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _set_vba(wb, sheet_count: int, extra: list[VbaModule] | None = None, with_xlwings: bool = True) -> None:
    """Give the workbook and its sheets code names and attach the generated VBA project."""
    wb.set_vba_name("ThisWorkbook")
    for i, ws in enumerate(wb.worksheets(), start=1):
        ws.set_vba_name(f"Sheet{i}")
    wb.add_vba_project(io.BytesIO(vba_project(sheet_count, extra, with_xlwings)), is_stream=True)


def build_addin(out_dir: Path = Path("dist"), lang: str = "zh-CN") -> Path:
    """Write the add-in (`xlcrm.xlam`, or `xlcrm_en.xlam` for English labels) and return its path."""
    import xlsxwriter

    en = lang == "en"
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"title": "xlcrm", "author": "xlcrm", "created": FIXED_TIME,
                       "comments": "xlcrm Excel add-in / xlcrm Excel 加载项"})
    ws = wb.add_worksheet("xlcrm")
    ws.write(0, 0, "xlcrm add-in: the CRM tab calls xlcrm.addin.run_button" if en
             else "xlcrm 加载项：“客户管理 CRM”选项卡调用 xlcrm.addin.run_button")
    _set_vba(wb, 1)
    wb.close()  # ok-to-save: a brand-new package in memory

    def edit(name: str, body: bytes) -> bytes | None:
        if name == "[Content_Types].xml":
            if XLSM_CONTENT_TYPE.encode() not in body:
                raise BuildError("xlsxwriter did not write a macro-enabled workbook")
            return body.replace(XLSM_CONTENT_TYPE.encode(), ADDIN_CONTENT_TYPE.encode())
        if name == "_rels/.rels":
            rel = f'<Relationship Id="rIdXlcrmUI" Type="{UI_REL_TYPE}" Target="{CUSTOMUI_PART}"/>'
            return body.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
        return None

    data = _rezip(buf.getvalue(), edit, {CUSTOMUI_PART: render_ribbon(lang)})
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ADDIN_FILES["en" if en else "zh-CN"]
    path.write_bytes(data)
    return path


def add_sheet_buttons(wb, lang: str, extra_modules: list[VbaModule] | None = None, with_xlwings: bool = True) -> None:
    """In an xlsxwriter workbook about to close: the VBA project and buttons on the How-to sheet."""
    from . import schema

    howto = wb.get_worksheet_by_name(schema.HOWTO.name(lang))
    if howto is None:
        raise BuildError(f"the template has no {schema.HOWTO.name(lang)} sheet")
    _set_vba(wb, len(wb.worksheets()), extra_modules, with_xlwings)
    howto.set_column(4, 4, 20)
    for i, (macro, zh, en) in enumerate(SHEET_BUTTONS):
        howto.insert_button(1, 4, {"macro": macro, "caption": en if lang == "en" else zh,
                                   "width": 140, "height": 30, "y_offset": i * 36})


def build_macro_workbook(path: Path, lang: str = "zh-CN", extra_modules: list[VbaModule] | None = None,
                         with_xlwings: bool = True) -> Path:
    """The xlcrm template as an .xlsm with the VBA project and the sheet buttons.

    `extra_modules` / `with_xlwings=False` exist for tests: LibreOffice cannot compile xlwings'
    module (conditional compilation, `Declare PtrSafe`), so a LibreOffice run of a generated
    macro uses a project without it.
    """
    from . import template

    def hook(wb) -> None:
        add_sheet_buttons(wb, lang, extra_modules, with_xlwings)

    path = Path(path)
    return template.write_crm_workbook(path, lang, customize=hook)


def build_macro_templates(out_dir: Path = Path("templates")) -> list[Path]:
    """`templates/xlcrm_template_zh.xlsm` and `_en.xlsm`."""
    return [build_macro_workbook(Path(out_dir) / name, lang) for lang, name in MACRO_TEMPLATE_FILES.items()]


def build_all(dist: Path = Path("dist"), templates: Path = Path("templates")) -> list[Path]:
    """Everything `xlcrm addin build` makes: both add-ins and both macro templates."""
    return [build_addin(dist, "zh-CN"), build_addin(dist, "en"), *build_macro_templates(templates)]
