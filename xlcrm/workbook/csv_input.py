"""A customers CSV (Basic Info only) → `CrmBook`, with the same header mapping and typing as .xlsx.

Chinese CSVs arrive as UTF-8, UTF-8 with a BOM (Excel's "CSV UTF-8") or GBK/GB18030 (Excel's
plain "CSV" on a Chinese Windows), sometimes Big5 or UTF-16. The encoding is detected from the
bytes; rows are numbered like lines in the file (row 1 = first line), as a spreadsheet shows them.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pyarrow as pa

from ..errors import FileRefused
from ..ops import normalize
from ..settings import Settings
from .book import CrmBook
from .reader import Grid, empty_raw, guess_language, read_data_sheet

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(data: bytes) -> str:
    """The text encoding of a CSV's bytes: BOM, else UTF-8, else GB18030 (⊇ GBK), else charset-normalizer."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    for name in ("utf-8", "gb18030"):
        try:
            data.decode(name)
            return name
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnicodeDecodeError("unknown", data[:1], 0, 1, "no text encoding fits")
    return best.encoding


def decode(path: Path) -> tuple[str, str]:
    """(text, encoding) of a CSV file; FileRefused when no encoding fits."""
    data = Path(path).read_bytes()
    try:
        encoding = detect_encoding(data)
        return data.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError) as exc:
        raise FileRefused(
            "“{name}”不是可识别编码的文本文件（支持 UTF-8、GBK/GB18030）。请在 Excel 中另存为“CSV UTF-8”。",
            "'{name}' is not text in an encoding xlcrm recognises (UTF-8, GBK/GB18030). "
            "Save it from Excel as 'CSV UTF-8'.",
            name=Path(path).name,
        ) from exc


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|，")
    except csv.Error:
        return csv.excel


def csv_grid(text: str, name: str) -> Grid:
    """CSV text → a Grid of text cells (blank or whitespace-only cells null), row i = line i + 1."""
    rows = list(csv.reader(io.StringIO(text, newline=""), _dialect(text[:65536])))
    width = max((len(r) for r in rows), default=0)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    for row in rows:
        for c in range(width):
            cell = row[c] if c < len(row) else None
            columns[c].append(cell if cell is not None and cell.strip() else None)
    arrays = [pa.array(col, type=pa.large_string()) for col in columns]
    names = [f"c{c}" for c in range(width)]
    batch = pa.RecordBatch.from_arrays(arrays, names=names) if width else pa.RecordBatch.from_pydict({})
    return Grid(name=name, batch=batch, col_index=list(range(width)))


def read_customers_csv(path: Path, *, lang: str | None = None) -> CrmBook:
    """A CSV of customers → CrmBook (follow-ups and purchases empty; default settings).

    The "sheet" is the file name, so problems and errors point at it. Raises SchemaError when no
    header row is recognised, FileRefused when the encoding cannot be determined.
    """
    path = Path(path)
    text, _encoding = decode(path)
    grid = csv_grid(text, path.name)
    typed, raw, info, problems = read_data_sheet(grid, "customers")
    if lang is None:
        lang = guess_language(path.stem, list(info.headers.values()))
    return CrmBook(
        customers=typed,
        followups=normalize.empty_frame("followups"),
        purchases=normalize.empty_frame("purchases"),
        settings=Settings(),
        lang=lang,
        sheets={"customers": info},
        sheet_names=[path.name],
        tool_sheets={},
        problems=problems,
        raw={
            "customers": raw,
            "followups": empty_raw("followups"),
            "purchases": empty_raw("purchases"),
        },
        path=path,
    )


__all__ = ["csv_grid", "decode", "detect_encoding", "read_customers_csv"]
