"""`xlcrm doctor`: what stands between this machine and a working 客户管理 CRM ribbon tab.

Facts are gathered once (`gather_facts`, the only code here that looks at the OS: files, the
Windows registry, alternate data streams); every check is a pure function of those facts that
returns ok / warn / fail / info with a zh-CN and an English explanation and, when something is
wrong, what to do. Tests give each check made-up facts for Windows, macOS and Linux. On Linux
the Excel-side checks say they need Excel on Windows or a Mac.
"""

from __future__ import annotations

import os
import re
import struct
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Status = Literal["ok", "warn", "fail", "info"]
MIN_PYTHON = (3, 10)
ADDIN_NAMES = ("xlcrm.xlam", "xlcrm_en.xlam")


@dataclass(frozen=True)
class Result:
    key: str
    status: Status
    zh: str
    en: str


@dataclass
class Facts:
    platform: str  # windows | macos | linux
    python: tuple[int, int, int]
    python_bits: int
    executable: str
    xlwings: str | None  # installed xlwings version
    config_path: Path | None = None
    config: dict[str, str] | None = None  # the user config xlcrm.conf, when it exists
    addin: Path | None = None  # the installed add-in, when found
    addin_xlwings: str | None = None  # XLWINGS_VERSION inside the installed add-in's VBA
    addin_blocked: bool | None = None  # Windows: a Zone.Identifier (Mark of the Web) stream
    trusted_locations: list[str] = field(default_factory=list)  # Windows: Excel's trusted folders
    office_bits: int | None = None  # Windows: 32 or 64
    mac_runpython: bool | None = None  # macOS: xlwings' AppleScript installed


def _needs_excel(key: str) -> Result:
    return Result(key, "info", "需要在装有 Excel 的 Windows 或 Mac 上检查。",
                  "Needs Excel on Windows or a Mac to check.")


# --------------------------------------------------------------------------- checks


def check_python(f: Facts) -> Result:
    version = ".".join(map(str, f.python))
    if f.python[:2] < MIN_PYTHON:
        return Result("python", "fail", f"Python {version} 太旧：xlcrm 需要 3.10 或更新版本。",
                      f"Python {version} is too old: xlcrm needs 3.10 or newer.")
    return Result("python", "ok", f"Python {version}（{f.python_bits} 位）：{f.executable}",
                  f"Python {version} ({f.python_bits}-bit): {f.executable}")


def check_xlwings(f: Facts) -> Result:
    if f.xlwings is None:
        return Result("xlwings", "fail", '未安装 xlwings。请运行：py -m pip install "xlcrm[excel]"（或安装 xlcrm 的 wheel 文件时加上 [excel]）。',
                      'xlwings is not installed. Run: py -m pip install "xlcrm[excel]" (or add [excel] when installing the xlcrm wheel).')
    if f.addin_xlwings and f.addin_xlwings != f.xlwings:
        return Result("xlwings", "fail",
                      f"版本不一致：加载项是用 xlwings {f.addin_xlwings} 生成的，已安装的是 {f.xlwings}。"
                      "按钮会报错。请运行 xlcrm addin build，再运行 xlcrm addin install。",
                      f"Version mismatch: the add-in was built with xlwings {f.addin_xlwings}, {f.xlwings} is installed. "
                      "Buttons will fail. Run xlcrm addin build, then xlcrm addin install.")
    return Result("xlwings", "ok", f"xlwings {f.xlwings}" + ("，与加载项一致。" if f.addin_xlwings else "。"),
                  f"xlwings {f.xlwings}" + (", the same as the add-in's." if f.addin_xlwings else "."))


def check_config(f: Facts) -> Result:
    if f.platform == "linux":
        return _needs_excel("config")
    if f.config is None:
        return Result("config", "fail", f"没有用户配置文件 {f.config_path}。请运行 xlcrm addin install。",
                      f"No user config at {f.config_path}. Run xlcrm addin install.")
    key = "INTERPRETER_WIN" if f.platform == "windows" else "INTERPRETER_MAC"
    interpreter = f.config.get(key, "")
    if not interpreter:
        return Result("config", "fail", f"{f.config_path} 中没有 {key}。请运行 xlcrm addin install。",
                      f"{f.config_path} has no {key}. Run xlcrm addin install.")
    if not Path(interpreter).is_file():
        return Result("config", "fail", f"配置中的 Python 不存在：{interpreter}。请在要使用的 Python 中重新运行 xlcrm addin install。",
                      f"The Python in the config does not exist: {interpreter}. Run xlcrm addin install again from the Python to use.")
    if os.path.normcase(os.path.realpath(interpreter)) != os.path.normcase(os.path.realpath(f.executable)):
        return Result("config", "warn", f"按钮将使用 {interpreter}，不是当前的 {f.executable}；请确认 xlcrm 也装在那里。",
                      f"Buttons will use {interpreter}, not this {f.executable}; make sure xlcrm is installed there too.")
    return Result("config", "ok", f"按钮使用当前 Python（{f.config_path}）。", f"Buttons use this Python ({f.config_path}).")


def check_addin(f: Facts) -> Result:
    if f.platform == "linux":
        return _needs_excel("addin")
    if f.addin is None:
        return Result("addin", "fail", "Excel 启动文件夹中没有 xlcrm.xlam。请运行 xlcrm addin install。",
                      "xlcrm.xlam is not in Excel's startup folder. Run xlcrm addin install.")
    return Result("addin", "ok", f"加载项已安装：{f.addin}", f"Add-in installed: {f.addin}")


def check_unblocked(f: Facts) -> Result:
    if f.platform != "windows":
        return (_needs_excel("unblocked") if f.platform == "linux" else
                Result("unblocked", "ok", "macOS 不使用“解除锁定”。", "macOS has no Unblock step."))
    if f.addin is None:
        return Result("unblocked", "info", "加载项未安装，无法检查。", "The add-in is not installed: nothing to check.")
    if f.addin_blocked:
        return Result("unblocked", "fail",
                      f"{f.addin.name} 带有“来自网络”标记，Excel 会阻止其中的宏。右键 › 属性 › 勾选“解除锁定”，"
                      f"或在 PowerShell 中运行：Unblock-File \"{f.addin}\"",
                      f"{f.addin.name} carries the Mark of the Web, so Excel blocks its macros. Right-click › Properties › "
                      f"tick Unblock, or in PowerShell: Unblock-File \"{f.addin}\"")
    return Result("unblocked", "ok", "加载项没有“来自网络”标记。", "The add-in has no Mark of the Web.")


def check_trusted(f: Facts) -> Result:
    if f.platform != "windows":
        return (_needs_excel("trusted") if f.platform == "linux" else
                Result("trusted", "ok", "Mac 版 Excel 启动文件夹中的加载项会直接加载。",
                       "Excel for Mac loads add-ins from its startup folder directly."))
    if f.addin is None:
        return Result("trusted", "info", "加载项未安装，无法检查。", "The add-in is not installed: nothing to check.")
    folder = os.path.normcase(str(f.addin.parent)).rstrip("\\/")
    for loc in f.trusted_locations:
        loc = os.path.normcase(os.path.expandvars(loc)).rstrip("\\/")
        if folder == loc or folder.startswith(loc + "\\") or folder.startswith(loc + "/"):
            return Result("trusted", "ok", f"加载项所在文件夹是受信任位置：{loc}", f"The add-in's folder is a trusted location: {loc}")
    return Result("trusted", "warn",
                  f"{f.addin.parent} 不是受信任位置。若宏被禁用：文件 › 选项 › 信任中心 › 信任中心设置 › 受信任位置 › 添加新位置。",
                  f"{f.addin.parent} is not a trusted location. If macros are disabled: File › Options › Trust Center › "
                  "Trust Center Settings › Trusted Locations › Add new location.")


def check_bitness(f: Facts) -> Result:
    if f.platform != "windows":
        return (_needs_excel("bitness") if f.platform == "linux" else
                Result("bitness", "ok", "Mac 版 Excel 只有 64 位。", "Excel for Mac is 64-bit only."))
    if f.office_bits is None:
        return Result("bitness", "warn", "无法从注册表读出 Office 是 32 位还是 64 位（可能未安装 Office）。",
                      "Could not read from the registry whether Office is 32- or 64-bit (is Office installed?).")
    if f.office_bits != f.python_bits:
        return Result("bitness", "info",
                      f"Office 是 {f.office_bits} 位，Python 是 {f.python_bits} 位：按钮（RunPython）不受影响；"
                      "只有 xlwings 的 UDF 服务器需要位数一致。",
                      f"Office is {f.office_bits}-bit, Python {f.python_bits}-bit: buttons (RunPython) are not affected; "
                      "only xlwings' UDF server needs matching bitness.")
    return Result("bitness", "ok", f"Office 和 Python 都是 {f.office_bits} 位。", f"Office and Python are both {f.office_bits}-bit.")


def check_mac_runpython(f: Facts) -> Result:
    if f.platform != "macos":
        return (_needs_excel("runpython") if f.platform == "linux" else
                Result("runpython", "ok", "Windows 不需要 runpython install。", "Windows needs no runpython install."))
    if not f.mac_runpython:
        return Result("runpython", "fail", "缺少 xlwings 的 AppleScript：请运行 xlwings runpython install（xlcrm addin install 会运行它）。",
                      "xlwings' AppleScript is missing: run xlwings runpython install (xlcrm addin install runs it).")
    return Result("runpython", "ok", "xlwings 的 AppleScript 已安装。", "xlwings' AppleScript is installed.")


CHECKS: tuple[Callable[[Facts], Result], ...] = (
    check_python, check_xlwings, check_config, check_addin, check_unblocked, check_trusted, check_bitness,
    check_mac_runpython,
)


def run_checks(facts: Facts) -> list[Result]:
    return [check(facts) for check in CHECKS]


# --------------------------------------------------------------------------- facts (the only OS access)


def addin_xlwings_version(path: Path) -> str | None:
    """XLWINGS_VERSION written in an add-in's xlwings module (our projects: MODULEOFFSET 0)."""
    import olefile

    from .vba import decompress

    try:
        with zipfile.ZipFile(path) as z:
            ole = olefile.OleFileIO(z.read("xl/vbaProject.bin"))
        code = decompress(ole.openstream("VBA/xlwings").read()).decode("cp1252", "replace")
    except Exception:  # not ours, damaged or unreadable: the version is simply unknown
        return None
    found = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', code)
    return found.group(1) if found else None


def startup_folder(platform: str) -> Path | None:
    """Excel's per-user startup folder, where `xlwings addin install` puts the add-in."""
    if platform == "windows":
        return Path(os.environ.get("APPDATA", str(Path.home() / "AppData/Roaming"))) / "Microsoft" / "Excel" / "XLSTART"
    if platform == "macos":
        return (Path.home() / "Library/Group Containers/UBF8T346G9.Office/User Content.localized"
                / "Startup.localized/Excel")
    return None


def read_config(path: Path) -> dict[str, str]:
    """xlwings' config format: one "KEY","VALUE" line each."""
    out = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = re.match(r'^"([^"]+)","(.*)"\s*$', line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def _windows_registry() -> tuple[list[str], int | None]:
    """Excel's trusted locations and Office's bitness, read from the registry."""
    import winreg  # type: ignore[import-not-found]

    trusted, bits = [], None
    for version in ("16.0", "15.0"):
        base = rf"Software\Microsoft\Office\{version}\Excel\Security\Trusted Locations"
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, base) as key:
                for i in range(winreg.QueryInfoKey(key)[0]):
                    with winreg.OpenKey(key, winreg.EnumKey(key, i)) as loc:
                        trusted.append(winreg.QueryValueEx(loc, "Path")[0])
        except OSError:
            continue
    for sub, value in ((r"SOFTWARE\Microsoft\Office\ClickToRun\Configuration", "Platform"),
                       (r"SOFTWARE\Microsoft\Office\16.0\Outlook", "Bitness")):
        try:
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, sub) as key:
                bits = 64 if "64" in str(winreg.QueryValueEx(key, value)[0]) else 32
                break
        except OSError:
            continue
    return trusted, bits


def gather_facts() -> Facts:
    import importlib.metadata

    from .addin_install import current_platform, user_config_path

    platform = current_platform()
    try:
        xlwings = importlib.metadata.version("xlwings")
    except importlib.metadata.PackageNotFoundError:
        xlwings = None
    facts = Facts(platform, tuple(sys.version_info[:3]), struct.calcsize("P") * 8, sys.executable, xlwings)
    if platform == "linux":
        return facts
    facts.config_path = user_config_path(platform)
    if facts.config_path.is_file():
        facts.config = read_config(facts.config_path)
    folder = startup_folder(platform)
    facts.addin = next((folder / n for n in ADDIN_NAMES if folder and (folder / n).is_file()), None)
    if facts.addin:
        facts.addin_xlwings = addin_xlwings_version(facts.addin)
    if platform == "windows":
        facts.addin_blocked = bool(facts.addin) and os.path.exists(f"{facts.addin}:Zone.Identifier")
        facts.trusted_locations, facts.office_bits = _windows_registry()
        if folder:  # Excel trusts the user's XLSTART folder by default
            facts.trusted_locations.append(str(folder))
    else:
        script = Path.home() / "Library/Application Scripts/com.microsoft.Excel" / f"xlwings-{xlwings}.applescript"
        facts.mac_runpython = script.is_file()
    return facts
