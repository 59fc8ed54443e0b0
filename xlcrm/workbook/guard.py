"""Decide whether a file can be read, and written, safely — before anything touches it."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import FileRefused, WriteFailed

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: .xls, or an encrypted .xlsx
ZIP_MAGIC = b"PK\x03\x04"
STRICT_NS = b"http://purl.oclc.org/ooxml/spreadsheetml/main"
WRITABLE_SUFFIXES = {".xlsx", ".xlsm", ".xlam", ".xltx", ".xltm"}


def lock_file(path: Path) -> Path:
    """Excel's owner file for an open workbook: `~$name.xlsx` beside it."""
    return path.with_name("~$" + path.name)


def lock_files(path: Path) -> list[Path]:
    """Every lock file that says the workbook is open: Excel/WPS `~$name`, LibreOffice `.~lock.name#`."""
    return [lock_file(path), path.with_name(f".~lock.{path.name}#")]


def _zip_workbook_part(zf: zipfile.ZipFile) -> str | None:
    names = set(zf.namelist())
    for candidate in ("xl/workbook.xml", "xl/workbook.bin"):
        if candidate in names:
            return candidate
    return None


def resolve(path: Path) -> Path:
    """The file a path really names: a symlink's final target (xlcrm writes through links)."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def detect(path: Path) -> str:
    """What the file is: ooxml, strict, xlsb, xls, encrypted, csv, ods, not_workbook, missing,
    directory, unreadable."""
    path = Path(path)
    if not path.exists():
        return "missing"
    if path.is_dir():
        return "directory"
    if path.suffix.lower() in {".csv", ".txt", ".tsv"}:
        return "csv"
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except PermissionError:
        return "unreadable"
    if head.startswith(OLE_MAGIC):
        # A password-protected .xlsx is an OLE container holding "EncryptedPackage".
        with path.open("rb") as fh:
            blob = fh.read(1 << 20)
        if "EncryptedPackage".encode("utf-16-le") in blob:
            return "encrypted"
        return "xls"
    if not head.startswith(ZIP_MAGIC):
        return "not_workbook"
    try:
        with zipfile.ZipFile(path) as zf:
            if "mimetype" in zf.namelist() and b"opendocument" in zf.read("mimetype"):
                return "ods"
            part = _zip_workbook_part(zf)
            if part is None:
                return "not_workbook"
            if part.endswith(".bin"):
                return "xlsb"
            with zf.open(part) as fh:
                start = fh.read(4096)
            if STRICT_NS in start:
                return "strict"
    except zipfile.BadZipFile:
        return "not_workbook"
    return "ooxml"


def _refuse(kind: str, path: Path, writing: bool) -> FileRefused:
    name = path.name
    messages = {
        "missing": ("找不到文件：{name}", "File not found: {name}"),
        "encrypted": (
            "“{name}”设有打开密码，xlcrm 无法读取。请在 Excel 中取消密码（文件 → 信息 → 保护工作簿）后再试。",
            "'{name}' is password-protected; xlcrm cannot read it. Remove the password in Excel "
            "(File → Info → Protect Workbook) and try again.",
        ),
        "xls": (
            "“{name}”是旧版 .xls 格式。请在 Excel 中“另存为”.xlsx 后再试。",
            "'{name}' is an old .xls workbook. Save it as .xlsx in Excel and try again.",
        ),
        "xlsb": (
            "“{name}”是二进制 .xlsb 格式，xlcrm 不写入这种格式。请另存为 .xlsx 或 .xlsm。",
            "'{name}' is a binary .xlsb workbook, which xlcrm does not write. Save it as .xlsx or .xlsm.",
        ),
        "strict": (
            "“{name}”以“Strict Open XML”格式保存，xlcrm 为保护数据不写入此格式。请另存为普通的 Excel 工作簿 (.xlsx)。",
            "'{name}' is saved as Strict Open XML; to keep your data safe xlcrm does not write it. "
            "Save it as a normal Excel Workbook (.xlsx).",
        ),
        "ods": (
            "“{name}”是 OpenDocument 表格。请另存为 .xlsx 后再试。",
            "'{name}' is an OpenDocument spreadsheet. Save it as .xlsx and try again.",
        ),
        "not_workbook": (
            "“{name}”不是 Excel 工作簿（文件已损坏或格式不对）。",
            "'{name}' is not an Excel workbook (the file is damaged or of another kind).",
        ),
        "directory": (
            "“{name}”是一个文件夹，不是工作簿文件。请给出工作簿文件的路径。",
            "'{name}' is a folder, not a workbook file. Give the path of the workbook file.",
        ),
        "unreadable": (
            "没有读取“{name}”的权限。请检查文件的权限或共享设置。",
            "No permission to read '{name}'. Check the file's permissions or sharing settings.",
        ),
        "csv": (
            "“{name}”是 CSV 文本，xlcrm 只能读取它，不能把结果写回。请先用 `xlcrm new 客户.xlsx` 建立工作簿，"
            "再用 `xlcrm import {name} 客户.xlsx` 导入。",
            "'{name}' is a CSV text file: xlcrm can read it but not write results into it. "
            "Create a workbook with `xlcrm new crm.xlsx`, then bring the rows in with `xlcrm import {name} crm.xlsx`.",
        ),
    }
    zh, en = messages[kind]
    return FileRefused(zh, en, name=name)


def ensure_readable(path: Path) -> str:
    """Raise FileRefused unless xlcrm can read the file; return its kind ("ooxml", "strict" or "csv")."""
    path = Path(path)
    kind = detect(path)
    if kind in {"ooxml", "strict"}:
        from .package_check import check_package

        check_package(path)  # duplicate entries, zip bombs, broken structural XML
    if kind in {"ooxml", "csv", "strict"}:
        return kind
    raise _refuse(kind, path, writing=False)


def ensure_writable(path: Path, *, shown: Path | None = None) -> None:
    """Raise FileRefused unless xlcrm may write the workbook in place right now.

    `path` is the real file (a symlink already resolved); `shown` the path the user gave, whose
    name the messages use and beside which Excel's lock file may also be.
    """
    path = Path(path)
    shown = Path(shown) if shown is not None else path
    kind = detect(path)
    if kind != "ooxml":
        raise _refuse(kind, shown, writing=True)
    if path.suffix.lower() not in WRITABLE_SUFFIXES:
        raise FileRefused(
            "“{name}”的扩展名不是 .xlsx/.xlsm/.xlam，xlcrm 不写入。",
            "'{name}' does not end in .xlsx/.xlsm/.xlam; xlcrm will not write it.",
            name=path.name,
        )
    if any(p.exists() for p in {*lock_files(path), *lock_files(shown)}):
        raise FileRefused(
            "“{name}”正在 Excel（或 WPS、LibreOffice）中打开。请先保存并关闭它，或在 Excel 中使用 xlcrm 功能区按钮。",
            "'{name}' is open in Excel (or WPS, LibreOffice). Save and close it first, or use the xlcrm ribbon "
            "inside Excel.",
            name=shown.name,
        )
    if read_only(path) or read_only(path.parent):
        raise FileRefused(
            "“{name}”是只读的（或所在文件夹不可写），xlcrm 无法保存结果。",
            "'{name}' is read-only (or its folder is), so xlcrm cannot save results.",
            name=shown.name,
        )


def read_only(path: Path) -> bool:
    """The user (or an admin) marked it read-only — judged by mode bits, since root passes
    `os.access` for any file; `os.access` still catches ACLs and read-only mounts."""
    st = os.stat(path)
    if os.name == "nt":
        return not st.st_mode & stat.S_IWRITE or not os.access(path, os.W_OK)
    euid = os.geteuid()
    if euid == 0:
        bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH  # root: any write bit at all
    elif st.st_uid == euid:
        bits = stat.S_IWUSR
    elif st.st_gid == os.getegid() or st.st_gid in os.getgroups():
        bits = stat.S_IWGRP
    else:
        bits = stat.S_IWOTH
    return not st.st_mode & bits or not os.access(path, os.W_OK)


# --------------------------------------------------------------------------- changed since read


@dataclass(frozen=True)
class Fingerprint:
    """What the workbook was when xlcrm read it. A write refuses if the file is not still this."""

    size: int
    mtime_ns: int
    inode: int
    digest: str  # sha256 of the bytes (~0.07 s for 80 MB): catches a same-size, same-mtime rewrite

    @classmethod
    def of(cls, path: Path, data: bytes | None = None) -> Fingerprint:
        """The fingerprint of the file at `path` (its bytes hashed from `data` when already read)."""
        st = os.stat(path)
        h = hashlib.sha256()
        if data is not None:
            h.update(data)
        else:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        return cls(st.st_size, st.st_mtime_ns, st.st_ino, h.hexdigest())

    def same_stat(self, st: os.stat_result) -> bool:
        return (self.size, self.mtime_ns, self.inode) == (st.st_size, st.st_mtime_ns, st.st_ino)


def changed_error(name: str) -> FileRefused:
    return FileRefused(
        "“{name}”在 xlcrm 读取之后被其他程序修改过（例如在 Excel 中保存），为免覆盖这些修改，xlcrm 没有写入，"
        "文件未改动。请重新运行。",
        "'{name}' was changed by another program after xlcrm read it (saved in Excel, for example); so as not "
        "to overwrite those changes xlcrm wrote nothing and the file is untouched. Please run again.",
        name=name,
    )


# --------------------------------------------------------------------------- OS errors while saving

DISK_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def translate_os_error(exc: OSError, path: Path) -> WriteFailed:
    """An OSError met while saving, as a bilingual error (the original is untouched by then)."""
    if exc.errno in DISK_FULL_ERRNOS:
        return WriteFailed(
            "磁盘已满（或超出配额），无法保存“{name}”；原文件未改动。请腾出空间后再试。",
            "The disk is full (or over quota), so '{name}' could not be saved; the original is untouched. "
            "Free some space and try again.",
            name=Path(path).name,
        )
    return WriteFailed(
        "无法保存“{name}”：{reason}；原文件未改动。",
        "Could not save '{name}': {reason}; the original is untouched.",
        name=Path(path).name,
        reason=exc.strerror or type(exc).__name__,
    )
