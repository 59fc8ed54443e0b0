"""Install, remove and inspect the Excel add-in on this machine (Windows / macOS): the user config
that pins the interpreter, and xlwings' own add-in commands. Built by `addin_build`."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

PROJECT_NAME = "xlcrm"  # the user config is xlcrm.conf (the add-in's xlwings module reads that name)
ADDIN_FILES = {"zh-CN": "xlcrm.xlam", "en": "xlcrm_en.xlam"}


def xlwings_version() -> str:
    """The installed xlwings (the add-in's VBA module must match it exactly)."""
    return importlib.metadata.version("xlwings")


class UnsupportedPlatform(RuntimeError):
    """Excel add-ins install on Windows and macOS only."""


LINUX_HELP = (
    "Excel 加载项只能安装在 Windows 或 macOS 上（Excel 不在 Linux 上运行）。在 Linux 上：\n"
    "  • 用命令行处理工作簿：xlcrm check 客户.xlsx、xlcrm run 客户.xlsx 等；\n"
    "  • 或在 Excel 网页版 / 桌面版中使用 xlwings Lite（见 lite/main.py）；\n"
    "  • `xlcrm addin build` 可在任何系统上生成 dist/xlcrm.xlam，复制到 Windows/macOS 电脑后安装。\n"
    "Excel add-ins install on Windows or macOS only (Excel does not run on Linux). On Linux:\n"
    "  • process workbooks from the command line: xlcrm check crm.xlsx, xlcrm run crm.xlsx, …;\n"
    "  • or use xlwings Lite in Excel on the web / desktop (see lite/main.py);\n"
    "  • `xlcrm addin build` makes dist/xlcrm.xlam on any OS: copy it to a Windows/Mac machine and install it there."
)


def current_platform() -> str:
    import sys

    return {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")


def user_config_path(platform: str | None = None) -> Path:
    """Where xlwings' VBA (PROJECT_NAME = xlcrm) reads the user config: see GetConfigFilePath."""
    import os

    platform = platform or current_platform()
    if platform == "windows":
        return Path(os.environ.get("USERPROFILE", str(Path.home()))) / f".{PROJECT_NAME}" / f"{PROJECT_NAME}.conf"
    if platform == "macos":
        return Path.home() / "Library/Containers/com.microsoft.Excel/Data" / f"{PROJECT_NAME}.conf"
    raise UnsupportedPlatform(LINUX_HELP)


def config_text(interpreter: str, platform: str) -> str:
    """The user config in xlwings' format: one "KEY","VALUE" line each."""
    key = "INTERPRETER_WIN" if platform == "windows" else "INTERPRETER_MAC"
    lines = [(key, interpreter), ("SHOW_ERROR_POPUPS", "True")]
    return "".join(f'"{k}","{v}"\n' for k, v in lines)


def write_user_config(interpreter: str | None = None, platform: str | None = None) -> Path:
    import sys

    platform = platform or current_platform()
    path = user_config_path(platform)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config_text(interpreter or sys.executable, platform), encoding="utf-8")
    return path


def _xlwings_cli(*args: str) -> str:
    import subprocess
    import sys

    code = "import sys; from xlwings.cli import main; sys.argv = ['xlwings', *sys.argv[1:]]; main()"
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError((done.stderr or done.stdout).strip()[-800:])
    return done.stdout.strip()


def install_addin(addin: Path) -> list[str]:
    """Write the user config (interpreter = this Python) and install the add-in with xlwings."""
    platform = current_platform()
    if platform == "linux":
        raise UnsupportedPlatform(LINUX_HELP)
    steps = [f"config: {write_user_config(platform=platform)}"]
    steps.append(_xlwings_cli("addin", "install", "--file", str(addin)) or f"installed {addin.name}")
    if platform == "macos":  # RunPython on macOS goes through an AppleScript installed once
        steps.append(_xlwings_cli("runpython", "install") or "runpython installed")
    return steps


def remove_addin(addin_name: str = ADDIN_FILES["zh-CN"]) -> list[str]:
    platform = current_platform()
    if platform == "linux":
        raise UnsupportedPlatform(LINUX_HELP)
    steps = [_xlwings_cli("addin", "remove", "--file", addin_name) or f"removed {addin_name}"]
    config = user_config_path(platform)
    if config.exists():
        config.unlink()
        steps.append(f"deleted {config}")
    return steps


def addin_status() -> dict[str, object]:
    """What is built and configured here (works on every OS; Excel's own state only on Win/Mac)."""
    platform = current_platform()
    status: dict[str, object] = {"platform": platform, "xlwings": None, "config": None, "interpreter": None}
    try:
        status["xlwings"] = xlwings_version()
    except importlib.metadata.PackageNotFoundError:
        pass
    if platform != "linux":
        config = user_config_path(platform)
        status["config"] = str(config) if config.exists() else None
        if config.exists():
            status["interpreter"] = config.read_text(encoding="utf-8").splitlines()[0].split('","', 1)[-1].rstrip('"')
        try:
            status["excel"] = _xlwings_cli("addin", "status")
        except Exception as exc:  # Excel not installed or not startable
            status["excel"] = f"unknown ({exc})"
    return status
