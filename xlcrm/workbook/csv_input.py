"""A CSV → `CrmBook`, with the same header mapping and typing as .xlsx.

A CSV is read as Basic Info (`read_customers_csv`, what `info`/`check` see), or as whichever data
sheet its headers name (`read_csv_sheet`, what `xlcrm import` uses for follow-ups and purchases).
Chinese CSVs arrive as UTF-8, UTF-8 with a BOM (Excel's "CSV UTF-8") or GBK/GB18030 (Excel's
plain "CSV" on a Chinese Windows), Big5 (Taiwan, Hong Kong), sometimes UTF-16. The encoding is detected from the
bytes; rows are numbered like lines in the file (row 1 = first line), as a spreadsheet shows them.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pyarrow as pa

from ..errors import FileRefused
from ..model.book import CrmBook
from .assemble import assemble_book
from .grid import Grid
from .locate import DATA_KEYS, HEADER_SCAN_ROWS, find_header, required_missing

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _common_share(text: str, encoding: str, common: tuple[int, int]) -> float:
    """Share of the CJK characters of `text` that lie in `encoding`'s block of everyday characters."""
    cjk = [ch for ch in text if "\u3040" <= ch <= "\u9fff" or "\uf900" <= ch <= "\uffef"]
    if not cjk:
        return 0.0
    hits = 0
    for ch in cjk:
        try:
            code = int.from_bytes(ch.encode(encoding), "big")
        except UnicodeEncodeError:
            continue
        hits += common[0] <= code <= common[1]
    return hits / len(cjk)


# The everyday characters of each double-byte encoding: GB2312 level 1 (3,755 hanzi) and Big5's
# "frequently used" block (5,401 hanzi). Chinese text lands almost wholly in its own block; the
# same bytes read with the other encoding scatter into kana, symbols and rare characters.
_GB_COMMON = (0xB0A1, 0xD7F9)
_BIG5_COMMON = (0xA440, 0xC67E)


def _gb_or_big5(data: bytes) -> str:
    """GB18030 decodes almost any byte pair, so Big5 text "decodes" too — as nonsense. Compare both."""
    try:
        big5 = data.decode("big5")
    except UnicodeDecodeError:
        return "gb18030"
    gb = data.decode("gb18030")
    return "big5" if _common_share(big5, "big5", _BIG5_COMMON) > _common_share(gb, "gb2312", _GB_COMMON) else "gb18030"


def detect_encoding(data: bytes) -> str:
    """The text encoding of a CSV's bytes: BOM, else UTF-8, else GB18030 (⊇ GBK) or Big5 — whichever
    reads as everyday Chinese — else charset-normalizer."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
        return _gb_or_big5(data)
    except UnicodeDecodeError:
        pass
    try:
        data.decode("big5")
        return "big5"
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
            "“{name}”不是可识别编码的文本文件（支持 UTF-8、GBK/GB18030、Big5）。请在 Excel 中另存为“CSV UTF-8”。",
            "'{name}' is not text in an encoding xlcrm recognises (UTF-8, GBK/GB18030, Big5). "
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
    return read_csv_sheet(path, "customers", lang=lang)


def sheet_key_of(grid: Grid) -> str:
    """Which data sheet a grid's headers name best (Basic Info on a tie)."""
    rows = grid.head(HEADER_SCAN_ROWS)
    scores = {}
    for key in DATA_KEYS:
        match = find_header(key, rows)
        scores[key] = match.score if match is not None and not required_missing(key, match.keys) else 0
    best = max(DATA_KEYS, key=lambda k: (scores[k], k == "customers"))
    return best if scores[best] else "customers"


def read_csv_sheet(path: Path, key: str | None = None, *, lang: str | None = None) -> CrmBook:
    """A CSV → CrmBook with its rows in the data sheet `key` (None: the sheet its headers name)."""
    path = Path(path)
    text, _encoding = decode(path)
    grid = csv_grid(text, path.name)
    key = key or sheet_key_of(grid)
    book = assemble_book([path.name], {key: path.name}, lambda _name: grid, lambda _name: [], lang=lang,
                         report_missing=False)
    book.path = path
    return book


__all__ = ["csv_grid", "decode", "detect_encoding", "read_csv_sheet", "read_customers_csv", "sheet_key_of"]
