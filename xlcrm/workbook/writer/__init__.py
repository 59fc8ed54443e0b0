"""The part-preserving workbook writer: every command's results reach a workbook file through here.

    apply_plan(path, plan) -> WriteResult

Opens the package, refuses files it must not write (`guard.ensure_writable`: open in Excel,
read-only, a folder …), holds the advisory lock (`lock.WorkbookLock`), refuses a file changed
since the caller read it (`guard.Fingerprint`) and protected sheets (`protection`), applies every
edit of the plan in memory, rewrites only the parts that must change (copying all others byte
for byte, still compressed), verifies the result, keeps a backup and replaces the file
atomically (through a symlink, the target). All or nothing: on any error — a full disk
included — the original file is untouched.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import FileRefused, WriteFailed, XlcrmError
from ...ooxml.package import Package, data_crc
from ...procs import return_free_memory
from ..edits import EditPlan, MarkCells, Stamp
from ..guard import Fingerprint, changed_error, ensure_writable, resolve, translate_os_error
from ..lock import WorkbookLock
from ..ownership import is_internal
from ..package_check import CheckedPackage, check_zip
from ..stamp import MARKER, render, tokens
from . import streamed
from .ahead import WriteAhead
from .editor import Editor
from .save import (
    checkpoint,
    clean_stale_temps,
    default_backup_dir,
    file_holds,
    fsync_dir,
    make_backup,
    temp_path,
    write_temp,
)
from .toolahead import ToolSheetsAhead
from .verify import check_changed_xml, verify_output

__all__ = ["WriteResult", "apply_plan", "plan_to_bytes"]


@dataclass
class WriteResult:
    path: Path
    parts_changed: list[str] = field(default_factory=list)  # input parts rewritten or removed
    parts_added: list[str] = field(default_factory=list)
    sheets_created: list[str] = field(default_factory=list)
    backup: Path | None = None
    bytes_written: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # phase → seconds (for benchmarks)

    def summary(self, lang: str = "zh-CN") -> str:
        if lang == "en":
            return (
                f"Saved {self.path.name}: {len(self.parts_changed) + len(self.parts_added)} parts written, "
                f"{len(self.sheets_created)} sheets created, {self.seconds:.1f} s"
                + (f"; backup {self.backup}" if self.backup else "")
            )
        return (
            f"已保存 {self.path.name}：写入 {len(self.parts_changed) + len(self.parts_added)} 个部件，"
            f"新建 {len(self.sheets_created)} 个工作表，用时 {self.seconds:.1f} 秒"
            + (f"；备份：{self.backup}" if self.backup else "")
        )


def plan_to_bytes(
    blob: bytes, plan: EditPlan, lang: str = "zh-CN", timings: dict[str, float] | None = None,
    file_name: str = "workbook", *, unlock_protected: bool = False, inflated: dict[str, bytes] | None = None,
) -> tuple[bytes, Package, Editor]:
    """Apply a plan to a package held in memory; return the verified new package bytes.

    `inflated`: parts of `blob` inflated already, from these very bytes (`ahead.WriteAhead`); the
    package takes them out of the dict."""
    timings = {} if timings is None else timings
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - clock
        clock = now

    try:
        check_zip(zipfile.ZipFile(io.BytesIO(blob)), file_name)  # duplicates, zip bombs, broken structural XML
        pkg = CheckedPackage(blob, file_name)
        while inflated:  # emptied: the package's copy is then the only one held
            pkg.adopt(*inflated.popitem())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise FileRefused(
            "文件不是可写入的 Excel 工作簿（{err}）。", "The file is not a workbook xlcrm can write ({err}).", err=exc
        ) from exc
    editor = Editor(pkg, lang, unlock_protected=unlock_protected)
    lap("open")
    last_touch = _last_touches(plan)
    # The tool sheets are built by a forked child meanwhile, when worth it (forked before the pool's
    # threads start); `closing`: a streamed sheet's scan not taken (the write failed) has its child stopped.
    with ToolSheetsAhead(editor, plan) as editor.tools_ahead, ThreadPoolExecutor(max_workers=2) as pool, \
            contextlib.closing(editor):
        pkg.pool = pool  # big sheets deflate on the other core while later edits are made
        parts = _edit_parts(editor, plan)
        marks_only = _marks_only(editor, plan, parts)
        # The edits are made in the plan's order, streamed sheets' too (their scans run meanwhile):
        # the bytes are those of editing every sheet whole, whichever way a sheet is written.
        editor.stream_marks(marks_only)
        first_use = _first_uses(editor, parts)
        for i, edit in enumerate(plan.edits):
            if i + 1 in first_use:  # inflate the next big sheet on the other core while this edit is made
                editor.prefetch(first_use.pop(i + 1), besides=parts[i])
            editor.apply(edit)
            lap(type(edit).__name__)
            for name in [n for n, last in last_touch.items() if last == i]:
                editor.flush_sheet(name)
            if plan.handed_over:
                plan.edits[i] = edit = None
            lap("render")
        editor.finish()
        pkg.drop_stale_overrides()
        pkg.drop_unchanged()
        if plan.stamp is not None:
            _stamp(pkg, editor, plan.stamp)
        lap("render")
        checkpoint("after_edit")
        jobs = pkg.precompress_async(pool)
        check_changed_xml(pkg)  # the rest, and the checks started on the pool
        lap("check_xml")
        for job in jobs:
            job.result()
        pkg.pool = None
    lap("deflate_wait")
    return_free_memory()  # what the edits freed (the tool sheets' XML, the renders' strings): the build adds the file
    out = io.BytesIO()
    pkg.build(out, checkpoint)
    data = out.getvalue()
    out.close()
    lap("build")
    verify_output(pkg, data, xml_checked=True)
    lap("verify")
    return data, pkg, editor


def _stamp(pkg: Package, editor: Editor, stamp: Stamp) -> None:
    """Replace the state sheet's marker with the tokens of the package as it will be saved (same
    length, so nothing else in the part moves; the state sheet's own part is not in any token)."""
    entry = editor.wb.find(stamp.sheet)
    marker = MARKER.encode()
    data = pkg.read(entry.part) if entry is not None and pkg.exists(entry.part) else b""
    if data.count(marker) != 1:
        return
    parts = {}
    for name in pkg.names():
        if name in pkg.changed:
            parts[name] = (data_crc(pkg.changed[name]), len(pkg.changed[name]))
        else:
            parts[name] = (pkg.infos[name].CRC, pkg.infos[name].file_size)
    if "*" in stamp.sheets:  # every sheet of the saved file but the state sheet itself
        sheets = {e.name: e.part for e in editor.wb.sheets() if e.name.casefold() != stamp.sheet.casefold()}
    else:
        sheets = {name: found.part for name in stamp.sheets if (found := editor.wb.find(name)) is not None}
    pkg.write(entry.part, data.replace(marker, render(tokens(parts, sheets)).encode()))


def _edit_parts(editor: Editor, plan: EditPlan) -> list[str | None]:
    """The existing sheet part each edit writes into (None: a new sheet, or none)."""
    out: list[str | None] = []
    for edit in plan.edits:
        entry = editor.wb.find(edit.sheet)
        out.append(entry.part if entry is not None else None)
    return out


def _marks_only(editor: Editor, plan: EditPlan, parts: list[str | None]) -> dict[str, list[MarkCells]]:
    """Big sheet parts whose only edits are marks → those edits (such sheets are streamed)."""
    edits_of: dict[str, list] = {}
    for edit, part in zip(plan.edits, parts):
        if part is not None:
            edits_of.setdefault(part, []).append(edit)
    return {
        part: edits for part, edits in edits_of.items()
        if all(isinstance(e, MarkCells) for e in edits)
        and (info := editor.pkg.infos.get(part)) is not None and info.file_size > streamed.MIN_BYTES
    }


def _first_uses(editor: Editor, parts: list[str | None]) -> dict[int, str]:
    """Edit index → the big user-sheet part that edit is the first to read (the first edit's excluded)."""
    seen: set[str] = set()
    out: dict[int, str] = {}
    for i, part in enumerate(parts):
        if part is None or part in seen:
            continue
        seen.add(part)
        info = editor.pkg.infos.get(part)
        if i > 0 and info is not None and info.file_size > 1 << 20:
            out[i] = part
    return out


def _last_touches(plan: EditPlan) -> dict[str, int]:
    """Sheet name (casefolded) → index of the last edit that writes into that user sheet."""
    return {edit.sheet.casefold(): i for i, edit in enumerate(plan.edits)}


def apply_plan(
    path: Path,
    plan: EditPlan,
    *,
    backup_dir: Path | None = None,
    backup_keep: int = 10,
    lang: str = "zh-CN",
    fingerprint: Fingerprint | None = None,
    unlock_protected: bool = False,
    lock_wait: float | None = None,
    ahead: WriteAhead | None = None,
) -> WriteResult:
    """Make every edit of `plan` in the workbook at `path`; all or nothing (see module doc).

    `fingerprint`: the file as the caller read it; if it is no longer that file, nothing is
    written (FileRefused). `unlock_protected`: write into protected sheets / a structure-locked
    book (the protection itself is kept). A symlink is written through to its target.
    `ahead`: parts inflated while the command planned, used if the file still has those bytes.
    """
    started = time.perf_counter()
    shown = Path(path)
    path = resolve(shown)
    ensure_writable(path, shown=shown)
    result = WriteResult(path=shown)
    if not plan:
        return result
    with WorkbookLock(path, lock_wait):
        clean_stale_temps(path)
        with open(path, "rb") as fh:
            blob = fh.read()
            stat = os.fstat(fh.fileno())
        digest = Fingerprint.of(path, blob).digest if fingerprint is not None or ahead is not None else None
        if fingerprint is not None and (not fingerprint.same_stat(stat) or digest != fingerprint.digest):
            raise changed_error(shown.name)
        inflated = ahead.parts_for(digest) if ahead is not None else {}
        result.timings["read_file"] = time.perf_counter() - started
        data, pkg, editor = _render(blob, plan, lang, unlock_protected, result, inflated)
        del blob
        result.parts_changed = sorted(n for n in pkg.touched() if n in pkg.infos)
        result.parts_added = sorted(n for n in pkg.changed if n not in pkg.infos)
        result.sheets_created = [n for n in editor.created if not is_internal(n)]  # the user's view: not state sheets
        # The edited parts (their XML and deflated copies) are all in `data` now: free them before
        # the save, which is the write's peak for a big book (2+ GB for the L book's tool sheets).
        del pkg, editor
        collected = time.perf_counter()
        gc.collect()  # the editor and its parts refer to each other
        result.timings["free"] = time.perf_counter() - collected
        saving = time.perf_counter()
        _save(path, shown, data, stat, plan, result, backup_dir or default_backup_dir(path), backup_keep)
        result.timings["save"] = time.perf_counter() - saving
    result.bytes_written = len(data)
    result.seconds = time.perf_counter() - started
    return result


def _render(blob: bytes, plan: EditPlan, lang: str, unlock_protected: bool, result: WriteResult,
            inflated: dict[str, bytes]):
    import warnings

    collecting = gc.isenabled()
    # A big plan allocates millions of small tuples and dicts and makes no reference cycles; the
    # cyclic collector would rescan them again and again (~1 s of 7 on the M workbook).
    gc.disable()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                out = plan_to_bytes(blob, plan, lang, result.timings, result.path.name,
                                    unlock_protected=unlock_protected, inflated=inflated)
            except XlcrmError:
                raise
            except (KeyError, ValueError, OverflowError) as exc:  # a package we cannot handle: write nothing
                raise WriteFailed("无法写入工作簿：{err}", "Cannot write the workbook: {err}", err=exc) from exc
    finally:
        if collecting:
            gc.enable()
    result.warnings = [str(w.message) for w in caught]
    return out


def _save(path: Path, shown: Path, data: bytes, stat: os.stat_result, plan: EditPlan, result: WriteResult,
          backup_dir: Path, backup_keep: int) -> None:
    """Temp file → verify → backup → still the file we read? → replace. Any OSError (a full disk):
    a bilingual error, with no temp file or backup of this failed attempt left behind."""
    tmp = temp_path(path)
    replaced = False
    try:
        write_temp(tmp, data, stat)
        if not file_holds(tmp, data):
            raise WriteFailed(
                "临时文件写入不完整，原文件未改动。",
                "The temporary file was not written completely; the original is untouched.",
            )
        checkpoint("temp_written")
        result.backup = make_backup(path, backup_dir, backup_keep, plan.operation)
        checkpoint("backup_made")
        now = os.stat(path)
        if (now.st_mtime_ns, now.st_size, now.st_ino) != (stat.st_mtime_ns, stat.st_size, stat.st_ino):
            raise changed_error(shown.name)
        os.replace(tmp, path)
        replaced = True
        fsync_dir(path.parent)
        checkpoint("replaced")
    except OSError as exc:
        if replaced:  # only the folder's fsync failed: the new file is in place
            return
        raise translate_os_error(exc, shown) from exc
    finally:
        if tmp.exists():
            tmp.unlink()
        if not replaced and result.backup is not None:  # a failed attempt leaves no backup of its own
            result.backup.unlink(missing_ok=True)
            result.backup = None
