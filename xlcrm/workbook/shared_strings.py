"""Refuse a cell that points into the shared-string table by something other than a number.

`<c t="s"><v>abc</v></c>` is damaged, but calamine reads it as string 0 — usually a header such
as 客户编号 — so the customer in that row would silently turn into a second header or vanish.
Scanning every sheet's XML for such cells would cost seconds on a big book, so the reader only
looks where the symptom shows: a data sheet holding string 0's text anywhere but once in its
header row. Only then is that sheet's XML searched for a non-numeric index (legitimate repeats of
string 0 cost one scan and pass).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import FileRefused, Location

NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
SST_REL = "/sharedStrings"
# A shared-string cell and its value: <c … t="s" …>[<f…>…</f>]<v>…</v> (any prefix, either quote).
_SST_CELL = re.compile(
    rb"<(?:\w+:)?c\b([^>]*?\bt\s*=\s*[\"']s[\"'][^>]*)>\s*"
    rb"(?:<(?:\w+:)?f\b[^>]*/>\s*|<(?:\w+:)?f\b[^>]*>[^<]*</(?:\w+:)?f>\s*)?"
    rb"<(?:\w+:)?v>([^<]*)</"
)
_REF = re.compile(rb"\br\s*=\s*[\"']([A-Za-z]+)(\d+)[\"']")


def first_shared_string(path: Path) -> str | None:
    """Text of shared string 0 (what calamine substitutes for a bad index); None without a table."""
    from lxml import etree

    try:
        with zipfile.ZipFile(path) as zf:
            part = _sst_part(zf)
            if part is None:
                return None
            with zf.open(part) as fh:
                for _, si in etree.iterparse(fh, events=("end",), tag=f"{NS_MAIN}si", huge_tree=True):
                    # Phonetic runs (<rPh>) are not part of the text.
                    return "".join(t.text or "" for t in si.iter(f"{NS_MAIN}t") if t.getparent().tag != f"{NS_MAIN}rPh")
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError):
        return None
    return None


def _sst_part(zf: zipfile.ZipFile) -> str | None:
    from lxml import etree

    try:
        rels = etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except KeyError:
        return None
    for rel in rels:
        if (rel.get("Type") or "").endswith(SST_REL):
            target = rel.get("Target") or ""
            part = target.lstrip("/") if target.startswith("/") else "xl/" + target
            return part if part in zf.namelist() else None
    return None


def bad_reference(path: Path, part: str) -> tuple[str, int, str] | None:
    """(column letters, row, the bad index text) of the first shared-string cell in `part` whose
    index is not a plain number, or None."""
    with zipfile.ZipFile(path) as zf:
        data = zf.read(part)
    for m in _SST_CELL.finditer(data):
        index = m.group(2)
        if not index.isdigit():
            ref = _REF.search(m.group(1))
            col, row = (ref.group(1).decode().upper(), int(ref.group(2))) if ref else ("", 0)
            return col, row, index.decode("utf-8", "replace")
    return None


class SharedStringWatch:
    """Notes where string 0's text appears in each data sheet read, then checks the suspects."""

    def __init__(self, path: Path, parts: dict[str, str]):
        self.path = path
        self.parts = parts  # sheet name → part
        self.first = first_shared_string(path)
        self.hits: dict[str, list[int]] = {}  # sheet name → grid rows (0-based) holding string 0

    def watch(self, grid):
        """Record the rows of `grid` holding string 0's text; return the grid unchanged."""
        if self.first is None:
            return grid
        if not self.first.strip():  # read as blank: the symptom cannot be seen, so always look
            self.hits[grid.name] = [-1]
            return grid
        rows: list[int] = []
        for g in range(grid.batch.num_columns):
            column = grid.batch.column(g)
            if column.null_count < len(column):
                rows.extend(_rows_equal(column, self.first))
        self.hits[grid.name] = rows
        return grid

    def verify(self, book) -> None:
        """Raise FileRefused, naming sheet and cell, for a bad index in a data sheet that looks hit."""
        for info in book.sheets.values():
            rows = self.hits.get(info.name, [])
            header = info.header_row - 1
            suspicious = any(r != header for r in rows) or rows.count(header) > 1
            part = self.parts.get(info.name)
            if not suspicious or part is None:
                continue
            found = bad_reference(self.path, part)
            if found is None:
                continue
            col, row, value = found
            headers = {c: info.headers.get(k, "") for k, c in info.columns.items()}
            headers.update({c: name for name, c in info.extra_columns.items()})
            column = headers.get(_col_number(col)) or col or None
            raise FileRefused(
                "“{name}”已损坏，xlcrm 不读取也不写入它（文件未改动）：单元格 {cell} 引用共享字符串时用的不是编号"
                "（“{value}”），读出的内容会与 Excel 不同。请在 Excel 中打开、检查该单元格并另存一份后再试。",
                "'{name}' is damaged; xlcrm neither reads nor writes it (the file is untouched): cell {cell} refers "
                "to the shared-string table by '{value}', not a number, so what is read would differ from what "
                "Excel shows. Open it in Excel, check the cell, save a copy and try again.",
                location=Location(sheet=info.name, row=row or None, column=column),
                name=self.path.name,
                cell=f"{col}{row}" if row else "?",
                value=value[:40],
            )


def _rows_equal(column: pa.Array, text: str) -> list[int]:
    """Rows of a string column equal to `text`. Only cells of the same byte length are compared
    (lengths come straight from the Arrow offsets), so a million-row column costs about a millisecond."""
    kind = column.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return pc.indices_nonzero(pc.fill_null(pc.equal(column, text), False)).to_pylist()
    width = np.int64 if pa.types.is_large_string(kind) else np.int32
    offsets = np.frombuffer(column.buffers()[1], dtype=width)[column.offset : column.offset + len(column) + 1]
    candidates = np.flatnonzero(np.diff(offsets) == len(text.encode("utf-8")))
    if not len(candidates):
        return []
    same = pc.fill_null(pc.equal(pc.take(column, pa.array(candidates)), text), False)
    return candidates[same.to_numpy(zero_copy_only=False)].tolist()


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n
