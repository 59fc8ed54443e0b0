"""What a ribbon or sheet button runs: `run_button(tag)` on the workbook that called it.

The VBA dispatcher calls `xlcrm.addin.run_button('<tag>')` through xlwings' RunPython. This runs
exactly the command the CLI runs (`xlcrm.commands.run`), over the live-Excel adapter of the
workbook port, and ends with one alert in the workbook's language: what was done, counts,
where to look. Expected problems (a missing sheet, a header xlcrm cannot find, a read-only
workbook) become that alert too — never a traceback. A second click while a run is still going
(macOS runs RunPython asynchronously; an impatient double click on Windows) is refused politely.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from .errors import Msg, XlcrmError
from .procs import os_user, pid_alive

# Buttons the add-in answers itself (they read or change nothing in the workbook's data).
ADDIN_ACTIONS = {"help"}
LOCK_STALE_SECONDS = 30 * 60  # a lock older than this is from a run that died
LOG_NAME = "xlcrm-addin.log"

_BUSY = Msg(
    "xlcrm 正在处理这个工作簿，请等它完成后再点按钮。",
    "xlcrm is still working on this workbook. Please wait until it has finished, then click again.",
)
_READ_ONLY = Msg(
    "这个工作簿是以只读方式打开的，xlcrm 不能写入结果。请先“另存为”一个副本，再点按钮。",
    "This workbook is open read-only, so xlcrm cannot write its results. Save a copy first (Save As), then click again.",
)
_UNEXPECTED = Msg(
    "xlcrm 遇到意外错误，工作簿未被修改。详情已记录在：{log}\n{error}",
    "xlcrm hit an unexpected error; the workbook was not changed. Details are in: {log}\n{error}",
)


class RunLock:
    """A per-workbook lock file, so two clicks never run at once (also across processes)."""

    def __init__(self, key: str, directory: Path | None = None):
        digest = hashlib.sha1(key.encode("utf-8", "replace")).hexdigest()[:16]
        self.path = (directory or Path(tempfile.gettempdir())) / f"xlcrm-{digest}.lock"
        self.held = False

    def acquire(self) -> bool:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if not self._stale():
                    return False
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(f"{os.getpid()} {time.time():.0f}\n")
            self.held = True
            return True
        return False

    def _stale(self) -> bool:
        try:
            pid_text, started = self.path.read_text().split()[:2]
        except (OSError, ValueError):
            return True
        if time.time() - float(started) > LOCK_STALE_SECONDS:
            return True
        return not pid_alive(int(pid_text))

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _log_path() -> Path:
    return Path(tempfile.gettempdir()) / LOG_NAME


def _log(text: str) -> Path:
    path = _log_path()
    try:
        with path.open("a", encoding="utf-8") as f:
            f.write(f"--- {dt.datetime.now().isoformat(timespec='seconds')}\n{text}\n")
    except OSError:
        pass
    return path


def help_text(lang: str) -> str:
    """Every button and what it does, in one language (the Help button's alert)."""
    from .commands import REGISTRY

    en = lang == "en"
    lines = ["xlcrm — " + ("buttons of the CRM tab:" if en else "“客户管理 CRM”选项卡上的按钮：")]
    for spec in (s for s in REGISTRY.values() if s.ribbon):  # CLI-only commands (import) are not buttons
        lines.append(f"• {spec.label(lang)}: {spec.help_en if en else spec.help_zh}")
    lines.append("Details: the How-to sheet." if en else "详细说明见“使用说明”工作表。")
    return "\n".join(lines)


def run_tag(tag: str, port, *, today: dt.date | None = None, alert: Callable[[str, str, str], None],
            options: dict[str, object] | None = None) -> object:
    """Run one button over a port; every outcome ends in exactly one `alert(text, title, mode)`.

    `options` (e.g. {"undo": "true"} from a button's tag) are checked like the API's keyword
    arguments: an unknown one is the same bilingual error, shown in the alert."""
    from .commands import run
    from .commands.base import REGISTRY, Context

    lang = port.lang
    title = "xlcrm"
    if tag in ADDIN_ACTIONS:
        with contextlib.suppress(Exception):  # only the live adapter can show a sheet
            port.show_sheet_named("howto")
        alert(help_text(lang), title, "info")
        return None
    spec = REGISTRY.get(tag)
    try:
        if spec is not None and spec.writes and getattr(port, "read_only", False):
            alert(_READ_ONLY.text(lang), title, "critical")
            return None
        ctx = Context(today=today or dt.date.today(), user=os_user(), options=dict(options or {}), via="button")
        result = run(tag, port, ctx)
    except XlcrmError as exc:
        alert(exc.render(port.lang), title, "critical")
        return None
    except Exception as exc:  # a bug: tell the user plainly, keep the details for us
        log = _log(traceback.format_exc())
        alert(Msg(_UNEXPECTED.zh, _UNEXPECTED.en, {"log": str(log), "error": f"{type(exc).__name__}: {exc}"})
              .text(port.lang), title, "critical")
        return None
    alert(result.text(port.lang), title, "info")
    return result


NAME_ARG_PREFIX = "xlcrm-hex:"  # kept equal to addin_build.NAME_ARG_PREFIX (a test checks)


def decode_name_arg(value: str) -> str:
    """The workbook name from XlcrmNameArg's hex UTF-16 code units (other values unchanged)."""
    if not value.startswith(NAME_ARG_PREFIX):
        return value
    digits = value[len(NAME_ARG_PREFIX):]
    if len(digits) % 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ValueError(f"not a hex-encoded workbook name: {value!r}")
    return bytes.fromhex(digits).decode("utf-16-be", "surrogatepass")


def decode_caller_argv(argv: list[str]) -> None:
    """Turn `--wb=xlcrm-hex:…` back into the name xw.Book.caller() looks the workbook up by."""
    for i, arg in enumerate(argv):
        if arg.startswith("--wb=" + NAME_ARG_PREFIX):
            argv[i] = "--wb=" + decode_name_arg(arg[len("--wb="):])


def run_button(tag: str, book=None, *, today: dt.date | None = None):
    """Entry point of every button: run command `tag` on the calling workbook (xw.Book.caller())."""
    from .workbook.xlwings_adapter import XlwingsWorkbook

    if book is None:
        import xlwings as xw

        decode_caller_argv(sys.argv)
        book = xw.Book.caller()
    port = XlwingsWorkbook(book)

    def alert(text: str, title: str, mode: str) -> None:
        port.alert(text, title, mode)

    with RunLock(port.key) as acquired:
        if not acquired:
            alert(_BUSY.text(port.lang), "xlcrm", "info")
            return None
        with port.status(tag):
            return run_tag(tag, port, today=today, alert=alert)
