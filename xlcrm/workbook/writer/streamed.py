"""Big sheets that only get marks, edited without ever being held inflated.

`run` marks a few thousand cells of Follow-ups and Purchases (a fill and a note) and writes
nothing else there, yet the M book's Follow-ups is 0.5 GB of XML. Instead of inflating such a
part whole, the editor works on a stand-in: the sheet's frame (everything around sheetData) and
only the rows the marks touch, found by streaming the part once (`scan`). With ISA-L the scan
also deflates the part as it goes, in independent pieces (`Stretches`: each stretch between those
rows and each of those rows ends with a full flush), so once the stand-in has been edited and
rendered, the part's deflate is laid end to end from the scan's pieces and the changed rows
deflated afresh, its CRC joined with `crc32_combine` (`_deflated`: the M book's Follow-ups is
neither inflated nor deflated a second time). Without ISA-L, `spliced` streams the part again
while the pool deflates it, swapping the rewritten rows in. The scans run on the other core — in a
forked child where the machine can (`forked.Forked`: the scans of all such sheets in one, whose
deflated pieces come back raw), else on the writer's pool, where a pass shares the GIL with the
main thread's editing and waits for it at every step (the M book's Follow-ups scan: 0.5 s alone, 2.5 s beside a busy thread). The bytes
are those that editing the whole part would give (the tests compare them, both ways).

The stream finds rows the way the lazy row index does (`RowIndex.locate`: Excel writes rows in
ascending order, each with `r=`). A part laid out otherwise — rows without `r=`, rows out of
order, a comment where the rows start, a row the marks need that is not there, a stored (not
deflated) member — is `NotStreamable`, and the editor inflates it whole as before.

The edits keep the plan's order (`plan_to_bytes`), so the bytes are those of editing every sheet
whole, with ISA-L or without. Each search that holds the GIL stays short: on the pool, the main
thread is editing meanwhile.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ...errors import WriteFailed
from ...ooxml.fastzlib import PieceDeflater, laid_end_to_end
from ...ooxml.package import Package, Rope, StreamRope
from .rowindex import RowIndex
from .sheetxml import SheetXml, namespace_prefix

CHUNK_BYTES = 16 << 20  # inflated bytes per step of the stream (each pass holds ~3 of them)
MIN_BYTES = 16 << 20  # sheets above this are streamed when they only get marks


class NotStreamable(Exception):
    """The part is laid out in a way the stream does not handle: edit it whole."""


@dataclass
class Frame:
    """What surrounds sheetData's rows, in the input part."""

    p: bytes = b""  # the namespace prefix, b"" or b"x:"
    head: bytes = b""  # up to `<sheetData`
    open_tag: bytes = b""  # `<sheetData>` as written
    tail: bytes = b""  # after `</sheetData>`

    @property
    def close_tag(self) -> bytes:
        return b"</" + self.p + b"sheetData>"

    @property
    def rendered_open_tag(self) -> bytes:
        """`<sheetData>` as `SheetXml.render` writes it: what the output carries."""
        return b"<" + self.p + b"sheetData>"


@dataclass
class Stretches:
    """A part's sheetData deflated while it was scanned, in independent pieces (full flushes): each
    stretch between the wanted rows, and each wanted row — so the second pass only deflates the rows
    that changed and lays the rest end to end. `pieces`: (row, or None for a stretch; CRC-32; length;
    offset and length of its deflated bytes in `blob`)."""

    pieces: list[tuple[int | None, int, int, int, int]]
    blob: bytes | memoryview


@dataclass
class Scan:
    """The first pass over a part: its frame and the rows the marks need, as bytes (and, from a
    scan that deflated as it went, its sheetData in pieces)."""

    frame: Frame
    rows: dict[int, bytes]
    stretches: Stretches | None = None

    def stand_in(self) -> bytes:
        """A small worksheet with the same frame and only these rows, for `SheetXml` to edit."""
        f = self.frame
        return b"".join([f.head, f.open_tag, *(self.rows[r] for r in sorted(self.rows)), f.close_tag, f.tail])


class _SegmentRows(RowIndex):
    """Rows located in one segment of sheetData (`data[start:end]`), lazily, as in a whole sheet."""

    def __init__(self, data: bytes, start: int, end: int, p: bytes, name: str):
        self.data, self.b0, self.b1 = data, start, end
        self.p, self.name = p.decode(), name
        self.row_open, self.row_close = b"<" + p + b"row", b"</" + p + b"row>"
        self.rows_without_r = False
        self.reset_index()


def _segments(chunks: Iterable[bytes], frame: Frame) -> Iterator[tuple[bytes, int, int]]:
    """sheetData's content as (data, start, end) ranges, each `data[start:end]` whole rows; fills
    `frame`. Chunks are passed on as they are; only a row cut in two by a chunk's end is joined."""
    it = iter(chunks)
    data = b""
    for chunk in it:
        data += chunk
        frame.p = namespace_prefix(data)
        at = data.find(b"<" + frame.p + b"sheetData")
        if at >= 0 and data.find(b">", at) >= 0:
            break
    else:
        raise NotStreamable("no sheetData")
    start = data.find(b">", at) + 1
    if data[start - 2 : start] == b"/>":
        raise NotStreamable("empty sheetData")
    frame.head, frame.open_tag = data[:at], data[at:start]
    close, row_close = frame.close_tag, b"</" + frame.p + b"row>"
    while True:
        # Searches that hold the GIL stay short (the main thread is editing meanwhile): rows end
        # all through a chunk, so its last `</row>` is near its end; `</sheetData>` comes after it.
        cut = data.rfind(row_close, start)
        end = data.find(close, max(cut, start))
        if end >= 0:
            frame.tail = data[end + len(close) :] + b"".join(it)  # and the stream's CRC is checked
            yield data, start, end
            return
        if cut >= 0:
            cut += len(row_close)
            yield data, start, cut
            carry = data[cut:]
        else:
            carry = data[start:]
        chunk = next(it, None)
        if chunk is None:
            raise NotStreamable("no </sheetData>")
        first = chunk.find(row_close) if carry else -1
        if first >= 0:  # the row cut in two, made whole
            first += len(row_close)
            joined = carry + chunk[:first]
            yield joined, 0, len(joined)
            data, start = chunk, first
        else:
            data, start = (carry + chunk if carry else chunk), 0


def _located(
    chunks: Iterable[bytes], frame: Frame, rows: list[int], name: str
) -> Iterator[tuple[bytes, int, int, list[tuple[int, int, int]]]]:
    """Each range of sheetData (see `_segments`) with the (row, start, end) of the wanted `rows`
    (ascending) that lie in it."""
    k = 0
    last_seen = 0
    for data, start, end in _segments(chunks, frame):
        if not last_seen and data.find(b"<!--", start, min(end, start + 4096)) >= 0:  # as lazy_possible looks
            raise NotStreamable("a comment between rows")
        index = _SegmentRows(data, start, end, frame.p, name)
        first = index.row_at(start, end)
        if first is None:
            yield data, start, end, []
            continue
        last = index.row_before(end)
        if first[0] is None or last is None or last[0] is None or first[0] <= last_seen:
            raise NotStreamable("rows without r= or out of order")
        last_seen = last[0]
        hits = []
        while k < len(rows) and rows[k] <= last_seen:
            found, at, stop = index.locate(rows[k])
            if not found or index.rows_without_r:
                raise NotStreamable(f"row {rows[k]} not found")
            hits.append((rows[k], at, stop))
            k += 1
        yield data, start, end, hits
    if k < len(rows):
        raise NotStreamable(f"row {rows[k]} not found")


def scan(pkg: Package, part: str, name: str, rows: Iterable[int], deflate: bool = False) -> Scan | None:
    """Stream `part` once and keep its frame and the given rows (None: not streamable); with
    `deflate`, also its sheetData deflated in pieces (`Stretches`: the second pass is then cheap)."""
    frame = Frame()
    wanted = sorted(set(rows))
    found: dict[int, bytes] = {}
    deflater = PieceDeflater() if deflate else None
    pieces: list[tuple[int | None, int, int, bytes]] = []

    def cut(row: int | None) -> None:
        if deflater.size:
            pieces.append((row, *deflater.cut()))

    try:
        for data, start, end, hits in _located(pkg.inflated_chunks(part, CHUNK_BYTES), frame, wanted, name):
            at = start
            for row, begin, stop in hits:
                found[row] = data[begin:stop]
                if deflater is not None:
                    deflater.feed(memoryview(data)[at:begin])
                    cut(None)
                    deflater.feed(found[row])
                    cut(row)
                at = stop
            if deflater is not None:
                deflater.feed(memoryview(data)[at:end])
        if deflater is not None:
            cut(None)
    except (NotStreamable, ValueError):
        return None
    if deflater is None:
        return Scan(frame, found)
    index, offset = [], 0
    for row, crc, size, deflated in pieces:
        index.append((row, crc, size, offset, len(deflated)))
        offset += len(deflated)
    return Scan(frame, found, Stretches(index, b"".join(d for *_, d in pieces)))


def pack_scans(scans: dict[str, Scan | None]) -> list:
    """Scans as raw bytes for `Forked(raw=True)`: their deflated pieces are not pickled (60 MB for
    the M book's Follow-ups) but sent after an 8-byte length and the pickle of the rest."""
    meta, blobs = {}, []
    for part, found in scans.items():
        if found is not None and found.stretches is not None:
            meta[part] = (found.frame, found.rows, found.stretches.pieces, len(found.stretches.blob))
            blobs.append(found.stretches.blob)
        else:
            meta[part] = found
    head = pickle.dumps(meta, protocol=pickle.HIGHEST_PROTOCOL)
    return [struct.pack("<Q", len(head)), head, *blobs]


def unpack_scans(data: bytes | bytearray) -> dict[str, Scan | None]:
    """`pack_scans`' bytes back as scans; the deflated pieces stay where they are (memoryviews)."""
    view = memoryview(data)
    (n,) = struct.unpack("<Q", view[:8])
    meta = pickle.loads(view[8 : 8 + n])
    at, out = 8 + n, {}
    for part, found in meta.items():
        if isinstance(found, tuple):
            frame, rows, pieces, size = found
            out[part] = Scan(frame, rows, Stretches(pieces, view[at : at + size]))
            at += size
        else:
            out[part] = found
    return out


class ScansElsewhere:
    """The scans of several parts, made by one forked child (`forked.Forked`); `of(part)` is a
    future-like whose `result()` is that part's `Scan` (or None), taken once."""

    def __init__(self, child):
        self.child = child
        self.found: dict | None = None

    @property
    def forked(self) -> bool:
        return self.child.forked

    def of(self, part: str) -> _ScanOf:
        return _ScanOf(self, part)

    def take(self, part: str) -> Scan | None:
        if self.found is None:
            self.found = unpack_scans(self.child.result())
        return self.found.pop(part)

    def close(self) -> None:
        self.child.close()


@dataclass
class _ScanOf:
    scans: ScansElsewhere
    part: str

    def result(self) -> Scan | None:
        return self.scans.take(self.part)


def spliced(pkg: Package, part: str, name: str, scan: Scan, head: bytes, tail: bytes,
            rows: dict[int, bytes]) -> StreamRope:
    """The part with a new frame (`head`, `tail`) and `rows` (number → new bytes) swapped in, as a
    rope streamed from the input each time it is read; its size is known now."""
    old = scan.frame
    open_tag, close_tag = old.rendered_open_tag, old.close_tag
    info = pkg.infos[part]
    body = info.file_size - len(old.head) - len(old.open_tag) - len(close_tag) - len(old.tail)
    size = len(head) + len(open_tag) + body + len(close_tag) + len(tail)
    size += sum(len(new) - len(scan.rows[row]) for row, new in rows.items())
    wanted = sorted(rows)

    def pieces() -> Iterator:
        yield head
        yield open_tag
        frame = Frame()
        try:
            for data, at, end, hits in _located(pkg.inflated_chunks(part, CHUNK_BYTES), frame, wanted, name):
                view = memoryview(data)
                for row, start, stop in hits:
                    yield view[at:start]
                    yield rows[row]
                    at = stop
                yield view[at:end]
        except NotStreamable as exc:  # it was streamable in the first pass: the input is the same bytes
            raise WriteFailed("工作表“{sheet}”无法逐段写入（{err}）", "sheet '{sheet}' could not be streamed ({err})",
                              sheet=name, err=exc) from exc
        yield close_tag
        yield tail

    return StreamRope(size, pieces)


def stream_rendered(pkg: Package, part: str, name: str, rendered: bytes | Rope, found: Scan
                    ) -> tuple[StreamRope, tuple[int, bytes] | None] | None:
    """The part, once the stand-in made from `found` has been rendered: the stand-in's frame and
    the rows whose bytes changed, swapped into the streamed input (None: nothing changed); and,
    when the scan deflated as it went, the part's (CRC-32, deflated bytes), laid end to end."""
    data = rendered.tobytes() if isinstance(rendered, Rope) else rendered
    new = SheetXml(data, name)
    new.ensure_full_index()
    if new.rows != sorted(found.rows):  # the marks only restyle cells of rows the scan found
        raise WriteFailed("工作表“{sheet}”的行在编辑中发生了变化", "the rows of sheet '{sheet}' changed while it was edited",
                          sheet=name)
    rows = {}
    for row, start, end in zip(new.rows, new.starts, new.ends):
        if data[start:end] != found.rows[row]:
            rows[row] = data[start:end]
    head, tail = new.head.encode("utf-8"), new.tail.encode("utf-8")
    frame = found.frame
    if not rows and (head, tail, frame.open_tag) == (frame.head, frame.tail, frame.rendered_open_tag):
        return None
    rope = spliced(pkg, part, name, found, head, tail, rows)
    if found.stretches is None:
        return rope, None
    return rope, _deflated(name, found, head, tail, rows, rope.size)


def _deflated(name: str, found: Scan, head: bytes, tail: bytes, rows: dict[int, bytes], size: int
              ) -> tuple[int, bytes]:
    """(CRC-32, raw deflate) of the spliced part from the scan's pieces: the new frame and the
    changed rows deflated here, every other piece as the scan deflated it."""
    deflater = PieceDeflater()
    blob = memoryview(found.stretches.blob)  # slices, not copies

    def pieces() -> Iterator[tuple[int, int, bytes | memoryview]]:
        for row, piece_crc, length, at, n in found.stretches.pieces:
            if row is not None and row in rows:
                deflater.feed(rows[row])
                yield deflater.cut()
            else:
                yield piece_crc, length, blob[at : at + n]

    crc, made, payload = laid_end_to_end(head + found.frame.rendered_open_tag, pieces(), found.frame.close_tag + tail)
    if made != size:  # the sizes are in the zip headers: a wrong one would make a broken file
        raise WriteFailed("工作表“{sheet}”无法逐段写入（{err}）", "sheet '{sheet}' could not be streamed ({err})",
                          sheet=name, err=f"made {made} bytes, not {size}")
    return crc, payload
