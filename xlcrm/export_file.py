"""Write an export list to a NEW file the user asked for (CSV, .xlsx, or a password-protected .xlsx).

This never touches the user's workbook. Text is neutralised against formula injection in CSV
(a cell that starts with = + - @ tab or CR gets a leading apostrophe, the OWASP advice), and is
written as text cells in .xlsx so Excel never evaluates it.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import pandas as pd

from .errors import XlcrmError

INJECTION_STARTS = ("=", "+", "-", "@", "\t", "\r")
ENCODINGS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "utf-8-sig": "utf-8-sig", "gb18030": "gb18030",
             "gbk": "gb18030", "gb2312": "gb18030"}


def neutralise(value: object) -> str:
    """A cell's text, safe to open in a spreadsheet: '=1+1' → "'=1+1"."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = str(value)
    return "'" + text if text.startswith(INJECTION_STARTS) else text


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".xlcrm-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def csv_bytes(df: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    """The list as CSV bytes: UTF-8 with BOM (Excel then shows Chinese correctly) or GB18030."""
    codec = ENCODINGS.get(encoding.strip().lower().replace("_", "-"))
    if codec is None:
        raise XlcrmError("不支持的编码“{enc}”，可用 utf-8 或 gb18030。",
                         "Unsupported encoding '{enc}': use utf-8 or gb18030.", enc=encoding)
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in df.columns])
    for row in df.itertuples(index=False):
        writer.writerow([neutralise(v) for v in row])
    try:
        return buf.getvalue().encode(codec)
    except UnicodeEncodeError as exc:  # GB18030 covers all of Unicode; kept for safety
        raise XlcrmError("有字符无法用 {enc} 编码：{err}", "Some text cannot be encoded as {enc}: {err}",
                         enc=encoding, err=str(exc)) from None


def xlsx_bytes(df: pd.DataFrame, sheet_name: str = "导出") -> bytes:
    """The list as a new .xlsx: every value a text cell (IDs, phones, postcodes keep their zeros)."""
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_numbers": False, "strings_to_urls": False})
    sheet = book.add_worksheet(sheet_name[:31])
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    text = book.add_format({"num_format": "@"})
    for col, name in enumerate(df.columns):
        sheet.write_string(0, col, str(name), header)
        values = ["" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v) for v in df.iloc[:, col]]
        width = max([_display_width(str(name)), *(_display_width(v) for v in values[:500])]) + 2
        sheet.set_column(col, col, min(width, 50), text)
        for row, value in enumerate(values, start=1):
            if value:
                sheet.write_string(row, col, value, text)
    if len(df.columns):
        sheet.autofilter(0, 0, len(df), len(df.columns) - 1)
    sheet.freeze_panes(1, 0)
    book.close()  # ok-to-save: a brand-new file built in memory
    return buf.getvalue()


def _display_width(text: str) -> int:
    """Columns a string takes on screen: CJK characters are two wide."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def encrypt_xlsx(data: bytes, password: str) -> bytes:
    """Encrypt an .xlsx with a password (ECMA-376 agile encryption, as Excel's 'Encrypt with Password')."""
    from msoffcrypto.format.ooxml import OOXMLFile

    if not password:
        raise XlcrmError("密码不能为空。", "The password cannot be empty.")
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


def write_export(df: pd.DataFrame, path: Path, *, encoding: str = "utf-8", password: str | None = None,
                 sheet_name: str = "导出") -> Path:
    """Write the list to `path` by its suffix (.csv or .xlsx), atomically. Returns the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if password:
            raise XlcrmError("CSV 文件不能加密，请导出为 .xlsx 并设置密码。",
                             "A CSV file cannot be encrypted: export to .xlsx with --password.")
        data = csv_bytes(df, encoding)
    elif suffix == ".xlsx":
        data = xlsx_bytes(df, sheet_name)
        if password:
            data = encrypt_xlsx(data, password)
    else:
        raise XlcrmError("导出文件应以 .csv 或 .xlsx 结尾：{path}", "The export file must end in .csv or .xlsx: {path}",
                         path=str(path))
    _atomic_write(path, data)
    return path
