"""A huge sheet read in stretches of rows, so its cells are never all parsed at once.

calamine parses a sheet into a dense grid of cells before fastexcel turns it into Arrow: the L
book's Basic Info (1M rows × 44 columns, 1.45 GB of XML) took ~2.9 GB while it parsed — the read's
peak. A sheet over `MIN_BYTES` of XML is therefore cut, as it is inflated, into stretches of whole
`<row>` elements of about `STRETCH_BYTES` each. Each stretch is written as a one-sheet workbook of
its own (stored, not deflated; with the book's styles, shared strings and date system, which decide
how a cell reads as text) into a temporary file, parsed from its first row with a value (`_parse`),
turned into Arrow and deleted before the next is cut. The cells are the ones `grid.load_grid` gives
of the whole sheet — the same rows (row i is Excel row i + 1), columns and text, as `large_string`
(see `_joined`); the tests compare the two.

Anything this does not expect — no `<sheetData>`, a stretch whose first or last row carries no
`r=` number, a stretch whose first row is numbered at or below one already read (rows out of order,
which Excel never writes), a part neither stored nor deflated, a full disk — gives None,
and the sheet is loaded whole as before (with its own errors, if the file is damaged).
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from ..ooxml.fastzlib import crc32, inflate_pieces
from ..ooxml.package import LOCAL_HEADER_SIZE, local_header_length
from ..ooxml.rels import rels_path, resolve_target
from ..procs import return_free_memory

MIN_BYTES = 768 << 20  # sheets with more XML than this are read in stretches
STRETCH_BYTES = 192 << 20  # XML per stretch: 8 for the L book, each parse ~0.3 GB at its peak
_FEED = 16 << 20  # inflated at a time
_ROOT = re.compile(rb"<(\w+:)?worksheet\b")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*/>")
_ROW_NUMBER = re.compile(rb'\sr\s*=\s*"(\d+)"')
_WORKBOOK_PR = re.compile(rb"<(?:\w+:)?workbookPr\b[^>]*?/?>")
_DATE1904 = re.compile(rb'\bdate1904\s*=\s*"(1|true)"')

NS_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/styles.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    b"</Types>"
)
_ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="' + NS_DOC_REL.encode() + b'/officeDocument" Target="xl/workbook.xml"/>'
    b"</Relationships>"
)
SHEET = "S"


def load_in_stretches(path: Path, part: str, stretch_bytes: int = STRETCH_BYTES
                      ) -> tuple[pa.RecordBatch, list[int]] | None:
    """The cells of sheet part `part` of the .xlsx/.xlsm at `path` as `grid.load_grid` would give them
    (the batch, and the Excel column of each of its columns), parsed a stretch of rows at a time;
    None when they cannot be (see the module doc)."""
    import fastexcel

    pieces: list[_Stretch] = []
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(part)
            book = _book_parts(zf)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return None
        after = 0  # the last row of the stretches parsed so far
        for sheet_xml, first, last in _stretches(path, info, stretch_bytes):
            if first <= after:  # rows out of order (Excel writes them in order): the whole parse places them
                return None
            with tempfile.TemporaryDirectory(prefix="xlcrm-stretch-") as folder:
                file = Path(folder) / "stretch.xlsx"
                _write_book(file, book, sheet_xml)
                del sheet_xml
                stretch = _parse(fastexcel.read_excel(str(file)), after, first, last)
            pieces.append(stretch)
            after = max(last, stretch.height)
            return_free_memory()  # the parse's cells, freed but kept by the allocator: the next parse reuses less
    except Exception:  # noqa: BLE001 — a full disk, a damaged part, calamine's own errors: the whole load decides
        return None
    return _joined(pieces)


def _parse(reader, after: int, first: int, last: int) -> _Stretch:
    """A stretch of rows first..last (Excel rows) parsed from its workbook, after `after` rows.

    Parsed from its first row with a value (`skip_rows=None`): a `skip_rows` count makes calamine
    lay out every row above it as empty cells before skipping them (32 bytes a cell: the L book's
    last stretches took 1.4 GB while they parsed, its first 0.4 GB). That first row is the
    stretch's first only if the parse has as many rows as the stretch — as when its first and last
    rows both hold a value, as in any list; else it is parsed again the slow way, which places it.
    A stretch without a value (formatted blank rows) adds no cells: the rows between stretches are
    blank rows when the stretches are joined."""
    options = {"header_row": None, "dtypes": "string", "whitespace_as_null": True}
    if after:
        sheet = reader.load_sheet(SHEET, skip_rows=None, **options)
        if sheet.height == 0:  # not one value (formatted blank rows): nothing to place
            return _Stretch(after, pa.RecordBatch.from_arrays([], names=[]), [])
        if sheet.height == last - first + 1:
            return _Stretch(first - 1, sheet.to_arrow(), [c.absolute_index for c in sheet.selected_columns])
        del sheet
    sheet = reader.load_sheet(SHEET, skip_rows=after, **options)
    return _Stretch(after, sheet.to_arrow(), [c.absolute_index for c in sheet.selected_columns])


class _Unexpected(Exception):
    """The sheet is not laid out as the stretches need (see the module doc)."""


class _Stretch:
    """One stretch's parse, as fastexcel gave it: its rows after the `after` rows of the stretches
    before it (skipped, not made: `skip_rows`), its columns from its first used one."""

    def __init__(self, after: int, batch: pa.RecordBatch, columns: list[int]):
        self.after = after
        self.height = after + batch.num_rows  # Excel rows up to its last row with a value
        self.columns = dict(zip(columns, batch.columns, strict=True))  # absolute column → its cells

    def has_rows(self) -> bool:
        return self.height > self.after and bool(self.columns)


def _joined(pieces: list[_Stretch]) -> tuple[pa.RecordBatch, list[int]]:
    """The stretches' cells as one batch: blank rows between them filled in as null rows, every
    column from the first used one to the last, like the whole sheet's parse. The columns are
    `large_string`, what the read turns every text column into (`datasheet._text_series`): joined
    so here, they are not copied again there."""
    full = [p for p in pieces if p.has_rows()]
    if not full:
        return pa.RecordBatch.from_arrays([], names=[]), []
    cols = range(min(min(p.columns) for p in full), max(max(p.columns) for p in full) + 1)
    text = pa.large_string()
    arrays = []
    for col in cols:
        parts, at = [], 0
        for p in full:
            if p.after > at:
                parts.append(pa.nulls(p.after - at, text))
            cells = p.columns.pop(col, None)  # handed over: the stretch lets go of it once joined
            parts.append(cells.cast(text) if cells is not None else pa.nulls(p.height - p.after, text))
            at = p.height
        arrays.append(pa.concat_arrays(parts))
        del parts
    # Named and marked as fastexcel marks a whole sheet's columns: "not null" where no cell is blank.
    schema = pa.schema([pa.field(f"__UNNAMED__{i}", text, nullable=a.null_count > 0) for i, a in enumerate(arrays)])
    return pa.RecordBatch.from_arrays(arrays, schema=schema), list(cols)


def _stretches(path: Path, info: zipfile.ZipInfo, stretch_bytes: int) -> Iterator[tuple[list, int, int]]:
    """The part's rows, cut as they are inflated: (pieces of the worksheet XML, first row, last row)
    per stretch. The pieces are the part's own head (without its `<dimension>`: calamine would size
    its grid for the whole sheet), a stretch of whole rows, and the closing tags. The part's CRC-32
    is checked before the last stretch is handed out."""
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        fh.seek(info.header_offset + local_header_length(fh.read(LOCAL_HEADER_SIZE), 0, info))
        stored = _read(fh, info.compress_size)
        chunks = inflate_pieces(stored, _FEED) if info.compress_type == zipfile.ZIP_DEFLATED else stored
        yield from _cut(chunks, info, stretch_bytes)


def _read(fh, length: int, feed: int = 4 << 20) -> Iterator[bytes]:
    """`length` bytes of `fh`, a piece at a time (the compressed sheet is never held whole)."""
    while length > 0:
        piece = fh.read(min(feed, length))
        if not piece:
            raise _Unexpected  # the file ends inside the member
        length -= len(piece)
        yield piece


def _cut(chunks: Iterator[bytes], info: zipfile.ZipInfo, stretch_bytes: int) -> Iterator[tuple[list, int, int]]:
    """The inflated part's stretches (see `_stretches`). Each inflated byte is copied once: the
    chunks held are joined, and the stretches handed out are views of that join."""
    held: list[bytes] = []
    size_held = 0
    head, prefix = None, b""
    crc = size = 0
    for chunk in chunks:
        crc, size = crc32(chunk, crc), size + len(chunk)
        if size > info.file_size:
            raise _Unexpected
        held.append(chunk)
        size_held += len(chunk)
        if head is None:
            buf = b"".join(held)
            head, prefix, rest = _take_head(buf)
            if head is None:
                if len(buf) > 64 << 20:
                    raise _Unexpected
                held = [buf]
                continue
            held, size_held = [rest], len(rest)
        if size_held > stretch_bytes:
            joined = b"".join(held)
            view, at = memoryview(joined), 0
            while len(joined) - at > stretch_bytes:
                cut = _row_start_before(joined, b"<" + prefix + b"row", at, at + stretch_bytes)
                if cut < 0:
                    break
                yield _stretch(head, prefix, view[at:cut])
                at = cut
            held = [joined[at:]]
            size_held = len(held[0])
            del view, joined
    if head is None or size != info.file_size or crc != info.CRC:
        raise _Unexpected
    rows = b"".join(held)
    close = rows.rfind(b"</" + prefix + b"sheetData>")
    if close < 0:
        raise _Unexpected
    if rows.find(b"<" + prefix + b"row", 0, close) >= 0:
        yield _stretch(head, prefix, memoryview(rows)[:close])


def _take_head(buf: bytes) -> tuple[bytes | None, bytes, bytes]:
    """The worksheet's XML up to and including `<sheetData>`, the prefix its elements carry, and the
    rest of `buf`; (None, b"", b"") until `buf` holds all of the head."""
    root = _ROOT.search(buf, 0, 4096)
    prefix = (root.group(1) or b"") if root else b""
    start = buf.find(b"<" + prefix + b"sheetData")
    end = buf.find(b">", start) if start >= 0 else -1
    if end < 0:
        return None, b"", b""
    if buf[end - 1 : end] == b"/":  # <sheetData/>: no rows (never huge; whole load)
        raise _Unexpected
    return _DIMENSION.sub(b"", buf[: end + 1]), prefix, buf[end + 1 :]


def _row_start_before(buf: bytes, row_open: bytes, lo: int, limit: int) -> int:
    """Where the last `<row` element starting after `lo` and before `limit` begins, else the first
    one after `limit`; -1 if there is none (the rest is one stretch)."""
    at = limit
    while True:
        at = buf.rfind(row_open, lo + 1, at)
        if at < 0:
            break
        if buf[at + len(row_open) : at + len(row_open) + 1] in _AFTER_NAME:
            return at
    at = limit
    while True:
        at = buf.find(row_open, at + 1)
        if at < 0:
            return -1
        if buf[at + len(row_open) : at + len(row_open) + 1] in _AFTER_NAME:
            return at


_AFTER_NAME = (b" ", b">", b"/", b"\t", b"\r", b"\n")  # what may follow an element's name


def _stretch(head: bytes, prefix: bytes, rows: memoryview) -> tuple[list, int, int]:
    """One stretch's worksheet XML (as pieces) and its first and last row numbers."""
    row_open = b"<" + prefix + b"row"
    first = _row_number(rows, _find(rows, row_open, first=True))
    last = _row_number(rows, _find(rows, row_open, first=False))
    tail = b"</" + prefix + b"sheetData></" + prefix + b"worksheet>"
    return [head, rows, tail], first, last


def _find(rows: memoryview, row_open: bytes, *, first: bool) -> int:
    """Where the stretch's first (or last) `<row` begins: looked for near its start (or end) only."""
    window = 1 << 20
    while True:
        piece = bytes(rows[:window]) if first else bytes(rows[max(len(rows) - window, 0):])
        at = piece.find(row_open) if first else piece.rfind(row_open)
        if at >= 0:
            return at if first else max(len(rows) - window, 0) + at
        if window >= len(rows):
            raise _Unexpected
        window *= 4


def _row_number(rows: memoryview, at: int) -> int:
    tag = bytes(rows[at : at + 4096])
    end = tag.find(b">")
    found = _ROW_NUMBER.search(tag, 0, end) if end > 0 else None
    if found is None:
        raise _Unexpected  # a row numbered by its position: only the whole sheet's parse can count it
    return int(found.group(1))


def _book_parts(zf: zipfile.ZipFile) -> dict[str, bytes]:
    """What a stretch's workbook needs of the book: its date system, styles and shared strings."""
    workbook = "xl/workbook.xml"
    rels = {}
    try:
        from lxml import etree

        root = etree.fromstring(zf.read(rels_path(workbook)))
        rels = {(rel.get("Type") or "").rsplit("/", 1)[-1]: resolve_target(workbook, rel.get("Target") or "")
                for rel in root if rel.get("TargetMode") != "External"}
    except (KeyError, ValueError):
        pass
    found = _WORKBOOK_PR.search(zf.read(workbook))
    date1904 = bool(found and _DATE1904.search(found.group(0)))
    out = {"date1904": b"1" if date1904 else b""}
    for kind, name in (("styles", "xl/styles.xml"), ("sharedStrings", "xl/sharedStrings.xml")):
        target = rels.get(kind)
        if target:
            out[name] = zf.read(target)  # KeyError for a missing part: the whole load reports it
    return out


def _write_book(file: Path, book: dict[str, bytes], sheet: list) -> None:
    """A one-sheet workbook of the stretch, stored: calamine parses it as fast as a deflated one, and
    nothing is deflated only to be inflated again."""
    pr = b'<workbookPr date1904="1"/>' if book["date1904"] else b""
    workbook = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                b'xmlns:r="' + NS_DOC_REL.encode() + b'">' + pr +
                b'<sheets><sheet name="' + SHEET.encode() + b'" sheetId="1" r:id="rId1"/></sheets></workbook>')
    rels = [b'<Relationship Id="rId1" Type="' + NS_DOC_REL.encode() + b'/worksheet" Target="worksheets/sheet1.xml"/>']
    if "xl/styles.xml" in book:
        rels.append(b'<Relationship Id="rId2" Type="' + NS_DOC_REL.encode() + b'/styles" Target="styles.xml"/>')
    if "xl/sharedStrings.xml" in book:
        rels.append(b'<Relationship Id="rId3" Type="' + NS_DOC_REL.encode()
                    + b'/sharedStrings" Target="sharedStrings.xml"/>')
    workbook_rels = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                     b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                     + b"".join(rels) + b"</Relationships>")
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as out:
        out.writestr("[Content_Types].xml", _CONTENT_TYPES)
        out.writestr("_rels/.rels", _ROOT_RELS)
        out.writestr("xl/workbook.xml", workbook)
        out.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        for name in ("xl/styles.xml", "xl/sharedStrings.xml"):
            if name in book:
                out.writestr(name, book[name])
        with out.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for piece in sheet:  # never joined
                member.write(piece)


def worth_it(size: int) -> bool:
    """Read a sheet of `size` bytes of XML in stretches?"""
    return size > MIN_BYTES and os.environ.get("XLCRM_STRETCHES", "").strip() != "0"
