"""The workbook as a zip package: read parts, replace a few, write the rest back byte for byte.

Untouched parts are copied as their *raw compressed bytes* (no inflate/deflate), edited parts are
deflated at level 1. That keeps every feature xlcrm does not understand (ribbons, VBA, form
controls, x14 extensions, printer settings, cached formula values …) exactly as Excel wrote it,
and makes the cost of a write scale with the edited parts, not with the book.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
from collections.abc import Callable, Iterable, Iterator

from lxml import etree

from . import spill
from .fastzlib import crc32, deflate_chunks, inflate_chunks, inflate_raw
from .rels import CT_NS, REL_NS, RELS_CT, Rel, relative_target, rels_path, resolve_target
from .xmltree import new_child, parse_xml, serialize_xml

_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_NEW_PART_TIME = (1980, 1, 1, 0, 0, 0)
ZIP32_LIMIT = 0xFFFFFFFF

TOO_BIG = "too_big"  # a member inflates beyond the size its directory entry declares
BAD_CRC = "bad_crc"  # a member's bytes do not match its CRC-32 (or cannot be inflated)


class DamagedPart(Exception):
    """A zip member that cannot be trusted; `reason` is TOO_BIG or BAD_CRC."""

    def __init__(self, package: str, part: str, reason: str):
        super().__init__(f"{package}: part {part} is damaged ({reason})")
        self.package, self.part, self.reason = package, part, reason


LOCAL_HEADER_MAX = _LOCAL.size + 2 * 0xFFFF  # a local header with the longest name and extra field


class MemberMismatch(ValueError):
    """Inflated bytes that do not match their directory entry; `reason` is TOO_BIG or BAD_CRC."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


LOCAL_HEADER_SIZE = _LOCAL.size


def local_header_length(buf: bytes | bytearray, offset: int, info: zipfile.ZipInfo) -> int:
    """The length of the local header at `offset` of `buf` (its fixed part, `LOCAL_HEADER_SIZE` bytes,
    is enough to tell): the local name and extra field may differ from the directory's."""
    header = _LOCAL.unpack_from(buf, offset)
    if header[0] != b"PK\x03\x04":
        raise ValueError(f"bad local header for {info.filename}")
    return _LOCAL.size + header[10] + header[11]


def stored_bytes(buf: bytes | bytearray, offset: int, info: zipfile.ZipInfo) -> memoryview:
    """A member's compressed bytes as stored, from its local header at `offset` of `buf`."""
    start = offset + local_header_length(buf, offset, info)
    return memoryview(buf)[start : start + info.compress_size]


def inflate_member(info: zipfile.ZipInfo, payload: bytes | memoryview) -> bytes:
    """A deflated member's bytes, size- and CRC-checked (MemberMismatch). Inflating stops just past
    the size the zip directory declared, so a part lying about its size cannot balloon."""
    data = inflate_raw(payload, limit=info.file_size)
    if len(data) != info.file_size:
        raise MemberMismatch(TOO_BIG if len(data) > info.file_size else BAD_CRC)
    if crc32(data) != info.CRC:
        raise MemberMismatch(BAD_CRC)
    return data


class Rope:
    """A part's new bytes as a list of pieces, never joined: slices (memoryviews) of the inflated
    input around the rewritten rows. A 450 MB sheet with a few edited rows is then deflated
    straight from its pieces — no 450 MB copies. `release` drops the pieces once deflated."""

    def __init__(self, pieces: list):
        self.pieces = [piece for piece in pieces if len(piece)]
        self.size = sum(map(len, self.pieces))
        self._crc: int | None = None
        self.deflating = None  # the future of its deflate on the pool, once started (Package.compress_soon)

    def __len__(self) -> int:
        return self.size

    def iter_pieces(self) -> Iterator:
        return iter(self.pieces)

    def held(self) -> int:
        """Inflated bytes this rope keeps in memory."""
        return self.size if self.pieces else 0

    def available(self) -> bool:
        """Whether its bytes can still be had from the rope itself (else: inflate its deflated copy)."""
        return bool(self.pieces)

    def crc(self) -> int:
        if self._crc is None:
            value = 0
            for piece in self.iter_pieces():
                value = crc32(piece, value)
            self._crc = value
        return self._crc

    def tobytes(self) -> bytes:
        return b"".join(self.iter_pieces())

    def release(self) -> None:
        self.crc()
        self.pieces = []


class DeflatedRope(Rope):
    """A part's new bytes deflated while they were made (`SheetXml.render(deflate=True)`): the pieces
    are gone, its size, CRC and raw deflate are kept (`Package.write_deflated`); read back by
    inflating that."""

    def __init__(self, size: int, crc: int, payload: bytes):
        super().__init__([])
        self.size, self._crc, self.payload = size, crc, payload

    def iter_pieces(self) -> Iterator:
        return inflate_chunks(self.payload, 16 << 20)


class StreamRope(Rope):
    """A part's new bytes made afresh, piece by piece, each time they are read (`source()`) and
    never held: a big sheet streamed from its compressed input with a few rows swapped in (see
    workbook.writer.streamed). Its CRC comes from the deflate, which reads it once."""

    def __init__(self, size: int, source: Callable[[], Iterable]):
        self.pieces = []
        self.size = size
        self._source = source
        self._crc = None
        self.deflating = None
        self._released = False

    def iter_pieces(self) -> Iterator:
        made = 0
        for piece in self._source():
            made += len(piece)
            yield piece
        if made != self.size:  # the size is in the zip headers: a wrong one would make a broken file
            raise ValueError(f"streamed part made {made} bytes, not {self.size}")

    def held(self) -> int:
        return 0

    def available(self) -> bool:
        return not self._released

    def crc(self) -> int:
        if self._crc is None and self.deflating is not None:
            self.deflating.result()  # the deflate reads the stream anyway: not a second pass
        return super().crc()

    def release(self) -> None:
        self.crc()
        self._released = True


def same_bytes(a: bytes | memoryview, b: bytes | memoryview, chunk: int = 1 << 23) -> bool:
    """a == b at memcmp speed: comparing memoryviews goes element by element (~0.5 GB/s), so compare
    8 MB copies instead (~10 GB/s, bounded memory)."""
    if len(a) != len(b):
        return False
    a, b = memoryview(a), memoryview(b)
    return all(bytes(a[i:i + chunk]) == bytes(b[i:i + chunk]) for i in range(0, len(a), chunk))


def data_crc(data: bytes | Rope) -> int:
    return data.crc() if isinstance(data, Rope) else crc32(data)


class Package:
    """An OOXML package opened from bytes; edits are kept in memory until `build`."""

    def __init__(self, blob: bytes, name: str = "workbook"):
        self.blob = blob
        self.name = name  # the file's name, for error messages
        self._zip = zipfile.ZipFile(io.BytesIO(blob))
        self.infos: dict[str, zipfile.ZipInfo] = {}
        self.order: list[str] = []
        for info in self._zip.infolist():
            # Directory entries (`xl/`) are kept as they were: copied like any untouched part.
            if info.flag_bits & 0x1:
                raise ValueError(f"encrypted zip member {info.filename}")
            if info.filename in self.infos:  # which of the two would a reader take? refuse both
                raise ValueError(f"duplicate zip entry {info.filename}")
            self.infos[info.filename] = info
            self.order.append(info.filename)
        self.changed: dict[str, bytes] = {}
        self.deleted: set[str] = set()
        self._cache: dict[str, bytes] = {}
        self.compressed: dict[str, tuple[int, bytes]] = {}  # name → (crc, deflated), see precompress
        self._compressed_from: dict[str, object] = {}  # name → the changed[name] object it was made from
        self.pool = None  # an executor: big edited parts start deflating as soon as they are final
        self._prefetched: dict[str, object] = {}  # name → future of its inflated bytes (see prefetch)
        self.jobs: list = []
        self.xml_checked: dict[str, object] = {}  # name → the changed[name] object found (or being found) well-formed
        self.xml_jobs: list = []  # futures of XML checks running on the pool (see writer.verify.check_soon)

    def damaged(self, part: str, reason: str) -> Exception:
        """The exception for a damaged member; front layers override it with their own wording."""
        return DamagedPart(self.name, part, reason)

    # -- reading -------------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        return name in self.changed or (name in self.infos and name not in self.deleted)

    def names(self) -> list[str]:
        kept = [n for n in self.order if n not in self.deleted]
        return kept + [n for n in self.changed if n not in self.infos]

    def read(self, name: str) -> bytes:
        if name in self.changed:
            data = self.changed[name]
            if isinstance(data, Rope):  # rare: a part read again after it was rendered
                data = data.tobytes() if data.available() else inflate_raw(self._compressed_payload(name))
                self.changed[name] = data
            return data
        if name in self.deleted or name not in self.infos:
            raise KeyError(name)
        if name not in self._cache:
            job = self._prefetched.pop(name, None)
            self._cache[name] = job.result() if job is not None else self._inflate(name)
        return self._cache[name]

    def forget(self, name: str | None = None) -> None:
        """Drop the inflated copy kept of one input part (None: of every part) to save memory."""
        if name is None:
            self._cache.clear()
        else:
            self._cache.pop(name, None)

    def read_stored(self, name: str) -> bytes:
        """An input member's bytes as the zip holds them (no CRC or size checks: for comparisons)."""
        return self._zip.read(name)

    def held_in_flight(self) -> int:
        """Inflated bytes held by prefetches and by edited parts still waiting to be deflated."""
        held = sum(self.infos[n].file_size for n in self._prefetched) + sum(map(len, self._cache.values()))
        return held + sum(d.held() for d in self.changed.values() if isinstance(d, Rope))

    def wait_for_deflating(self, enough: Callable[[], bool]) -> None:
        """Wait for the parts being deflated, oldest first, until `enough()` (or none is left)."""
        for job in list(self.jobs):
            if enough():
                return
            job.result()

    def adopt(self, name: str, data: bytes) -> None:
        """Take an input part's inflated bytes made elsewhere from these very input bytes (the
        caller compared their digests: `writer.ahead`), as if `read` had inflated them."""
        info = self.infos.get(name)
        if info is not None and len(data) == info.file_size and name not in self.changed and name not in self.deleted:
            self._cache.setdefault(name, data)

    def is_inflated(self, name: str) -> bool:
        """Inflated already, or being inflated by a prefetch."""
        return name in self._prefetched or name in self._cache

    def prefetch(self, name: str) -> None:
        """Start inflating a part on the pool (ISA-L/zlib release the GIL), to be `read` later."""
        if self.pool is not None and name in self.infos and name not in self._cache and name not in self._prefetched:
            self._prefetched[name] = self.pool.submit(self._inflate, name)

    def _inflate(self, name: str) -> bytes:
        """A member's bytes, CRC-checked (fast inflate for deflated members, see `inflate_member`).
        A huge one comes back as a read-only mapping of a temporary file (`spill`), which reads like
        `bytes`."""
        info = self.infos[name]
        if info.compress_type == zipfile.ZIP_DEFLATED:
            try:
                if spill.worth_it(info.file_size):
                    spilled = spill.inflate_to_map(info, self.raw(name))
                    if spilled is not None:
                        return spilled
                return inflate_member(info, self.raw(name))
            except spill.SpillMismatch as exc:
                raise self.damaged(name, TOO_BIG if exc.too_big else BAD_CRC) from None
            except MemberMismatch as exc:
                raise self.damaged(name, exc.reason) from None
        try:
            return self._zip.read(name)
        except zipfile.BadZipFile as exc:
            raise self.damaged(name, BAD_CRC) from exc

    def inflated_chunks(self, name: str, size: int) -> Iterator[bytes]:
        """A deflated member's bytes in pieces of at most `size`, with `_inflate`'s checks: its
        length (stopping once past it) and, after the last piece, its CRC-32."""
        info = self.infos[name]
        if info.compress_type != zipfile.ZIP_DEFLATED:
            raise ValueError(f"{name} is not deflated")
        made = crc = 0
        for piece in inflate_chunks(self.raw(name), size):
            made += len(piece)
            if made > info.file_size:
                raise self.damaged(name, TOO_BIG)
            crc = crc32(piece, crc)
            yield piece
        if made != info.file_size or crc != info.CRC:
            raise self.damaged(name, BAD_CRC)

    def raw(self, name: str) -> memoryview:
        """The member's compressed bytes exactly as stored in the input."""
        info = self.infos[name]
        return stored_bytes(self.blob, info.header_offset, info)

    # -- editing -------------------------------------------------------------------------------
    def write(self, name: str, data: bytes | Rope) -> None:
        self.changed[name] = data
        self.deleted.discard(name)
        self.compressed.pop(name, None)
        self._compressed_from.pop(name, None)

    def write_deflated(self, name: str, data: Rope, crc: int, payload: bytes) -> None:
        """Write a part whose raw deflate (and CRC-32) was made already: nothing deflates it again."""
        self.write(name, data)
        data._crc = crc
        self.compressed[name] = (crc, payload)
        self._compressed_from[name] = data

    def delete(self, name: str) -> None:
        self.changed.pop(name, None)
        self._cache.pop(name, None)
        if name in self.infos:
            self.deleted.add(name)

    def _same_as_input(self, name: str) -> bool:
        data, info = self.changed[name], self.infos[name]
        if len(data) != info.file_size or data_crc(data) != info.CRC:
            return False
        if isinstance(data, Rope):
            data = self.read(name)
        return self._original_bytes(name) == data

    def drop_unchanged(self) -> None:
        """Parts rewritten to the very same bytes are copied raw like any untouched part."""
        for name in [n for n in self.changed if n in self.infos and n not in self.deleted]:
            if self._same_as_input(name):
                del self.changed[name]
                self.compressed.pop(name, None)

    def touched(self) -> set[str]:
        """Input parts whose bytes will differ in the output (changed or deleted)."""
        out = set(self.deleted)
        for name in self.changed:
            if name not in self.infos or not self._same_as_input(name):
                out.add(name)
        return out

    def _original_bytes(self, name: str) -> bytes:
        if name not in self._cache:
            self._cache[name] = self._inflate(name)
        return self._cache[name]

    def is_modified(self, name: str) -> bool:
        return name in self.deleted or (
            name in self.changed and (name not in self.infos or not self._same_as_input(name))
        )

    # -- relationships and content types ---------------------------------------------------------
    def rels(self, part: str) -> list[Rel]:
        path = rels_path(part) if part else "_rels/.rels"
        if not self.exists(path):
            return []
        root = parse_xml(self.read(path))
        out = []
        for el in root:
            if not isinstance(el.tag, str):
                continue
            out.append(
                Rel(el.get("Id", ""), el.get("Type", ""), el.get("Target", ""), el.get("TargetMode") == "External")
            )
        return out

    def rel_targets(self, part: str) -> dict[str, str]:
        """rId → resolved part name, internal relationships only."""
        return {r.id: resolve_target(part, r.target) for r in self.rels(part) if not r.external}

    def add_rel(self, part: str, rel_type: str, target_part: str) -> str:
        """Add a relationship from `part` to `target_part`; return its new rId."""
        path = rels_path(part)
        if self.exists(path):
            root = parse_xml(self.read(path))
        else:
            root = etree.Element(f"{{{REL_NS}}}Relationships", nsmap={None: REL_NS})
            # A new .rels part needs a content type too: LibreOffice-written packages often have
            # no <Default Extension="rels"> and list every .rels part as an Override instead.
            self.ensure_content_type(path, RELS_CT)
        used = {el.get("Id") for el in root}
        n = len(used) + 1
        while f"rId{n}" in used:
            n += 1
        rid = f"rId{n}"
        el = etree.SubElement(root, f"{{{REL_NS}}}Relationship")
        el.set("Id", rid)
        el.set("Type", rel_type)
        el.set("Target", relative_target(part, target_part))
        self.write(path, serialize_xml(root))
        return rid

    def remove_rel(self, part: str, rid: str) -> None:
        path = rels_path(part)
        if not self.exists(path):
            return
        root = parse_xml(self.read(path))
        for el in list(root):
            if el.get("Id") == rid:
                root.remove(el)
        self.write(path, serialize_xml(root))

    def content_types(self) -> etree._Element:
        return parse_xml(self.read("[Content_Types].xml"))

    def set_override(self, part: str, content_type: str | None) -> None:
        """Add (or, with None, remove) the content-type override of a part."""
        root = self.content_types()
        name = "/" + part
        for el in list(root):
            if el.get("PartName") == name:
                root.remove(el)
        if content_type:
            el = etree.SubElement(root, f"{{{CT_NS}}}Override")
            el.set("PartName", name)
            el.set("ContentType", content_type)
        self.write("[Content_Types].xml", serialize_xml(root))

    def has_content_type(self, part: str) -> bool:
        """Whether an Override names the part or a Default covers its extension (case-insensitive)."""
        name = "/" + part.lower()
        base = posixpath.basename(part)
        ext = base.rsplit(".", 1)[-1].lower() if "." in base else None
        for el in self.content_types():
            if el.get("PartName", "").lower() == name or (ext and el.get("Extension", "").lower() == ext):
                return True
        return False

    def ensure_content_type(self, part: str, content_type: str) -> None:
        """Give a new part a content type: an Override, unless a Default already covers it."""
        if not self.has_content_type(part):
            self.set_override(part, content_type)

    def drop_stale_overrides(self) -> None:
        """Remove the Overrides of input parts this write deleted (a dangling Override makes Excel
        'repair' the file). Overrides that were already dangling in the input are left alone."""
        gone = {"/" + n.lower() for n in self.deleted if n in self.infos}
        if not gone or not self.exists("[Content_Types].xml"):
            return
        root = self.content_types()
        stale = [el for el in root if el.get("PartName", "").lower() in gone]
        for el in stale:
            root.remove(el)
        if stale:
            self.write("[Content_Types].xml", serialize_xml(root))

    def ensure_default(self, extension: str, content_type: str) -> None:
        root = self.content_types()
        if any(el.get("Extension", "").lower() == extension for el in root):
            return
        el = new_child(root, f"{{{CT_NS}}}Default", 0)
        el.set("Extension", extension)
        el.set("ContentType", content_type)
        self.write("[Content_Types].xml", serialize_xml(root))

    def remove_part(self, part: str) -> None:
        """Delete a part, its own rels and its content-type override."""
        self.delete(part)
        if self.exists(rels_path(part)):
            self.delete(rels_path(part))
        self.set_override(part, None)

    def unique_name(self, pattern: str) -> str:
        """The first free part name for a pattern like `xl/charts/chart{}.xml`."""
        n = 1
        while self.exists(pattern.format(n)) or pattern.format(n) in self.infos:
            n += 1
        return pattern.format(n)

    # -- writing -------------------------------------------------------------------------------
    def compress_soon(self, name: str, first: Callable[[], None] | None = None) -> None:
        """Start deflating a final edited part on the pool (zlib/ISA-L release the GIL); `first`: work
        the same job does before (its error fails the job, and the part is not deflated)."""
        if self.pool is not None and name in self.changed and name not in self._compressed_from:
            data = self.changed[name]
            self._compressed_from[name] = data
            job = self.pool.submit(self._precompress, name, data, first)
            if isinstance(data, Rope):
                data.deflating = job
            self.jobs.append(job)

    def precompress_async(self, executor) -> list:
        """Deflate the edited parts not yet started on worker threads, biggest first."""
        self.pool = self.pool or executor
        for name in sorted(self.changed, key=lambda n: -len(self.changed[n])):
            if self._compressed_from.get(name) is not self.changed[name]:
                self._compressed_from.pop(name, None)
                self.compress_soon(name)
        jobs, self.jobs = self.jobs, []
        return jobs

    def _precompress(self, name: str, data: bytes | Rope, first: Callable[[], None] | None = None) -> None:
        if first is not None:
            first()
        crc, payload = deflate_chunks(data.iter_pieces() if isinstance(data, Rope) else [data])
        if self._compressed_from.get(name) is data:
            self.compressed[name] = (crc, payload)
        if isinstance(data, Rope):
            data._crc = crc
            info = self.infos.get(name)
            if info is None or info.file_size != data.size or info.CRC != crc:
                data.release()  # certainly new bytes: the deflated copy is all the output needs

    def _compressed_payload(self, name: str) -> bytes:
        return self.compressed[name][1]

    def build(self, out: io.RawIOBase, checkpoint=lambda name: None) -> dict[str, int]:
        """Write the new package to `out`; return {part: crc} of the edited parts."""
        central: list[bytes] = []
        offset = 0
        crcs: dict[str, int] = {}
        names = self.names()
        half = len(names) // 2
        for i, name in enumerate(names):
            if i == half:
                checkpoint("mid_write")
            fname = name.encode("utf-8")
            utf8_flag = 0x800 if not name.isascii() else 0
            if name in self.changed:
                data = self.changed[name]
                if name not in self.compressed or self._compressed_from.get(name) is not data:
                    self._compressed_from[name] = data
                    self._precompress(name, data)
                crc, payload = self.compressed[name]
                method, usize = zipfile.ZIP_DEFLATED, len(data)
                info = self.infos.get(name)
                date_time = info.date_time if info else _NEW_PART_TIME
                crcs[name] = crc
            else:
                info = self.infos[name]
                payload = self.raw(name)
                crc, method, usize, date_time = info.CRC, info.compress_type, info.file_size, info.date_time
            csize = len(payload)
            if max(csize, usize, offset) >= ZIP32_LIMIT:
                raise OverflowError("workbook larger than 4 GB")
            dostime = date_time[3] << 11 | date_time[4] << 5 | (date_time[5] // 2)
            dosdate = (date_time[0] - 1980) << 9 | date_time[1] << 5 | date_time[2]
            flags = utf8_flag
            version = 20
            attrs = info.external_attr if name.endswith("/") and info else 0  # a directory keeps its attributes
            out.write(
                _LOCAL.pack(
                    b"PK\x03\x04", version, 0, flags, method, dostime, dosdate, crc, csize, usize, len(fname), 0
                )
            )
            out.write(fname)
            out.write(payload)
            central.append(
                _CENTRAL.pack(
                    b"PK\x01\x02",
                    version,
                    0,
                    version,
                    0,
                    flags,
                    method,
                    dostime,
                    dosdate,
                    crc,
                    csize,
                    usize,
                    len(fname),
                    0,
                    0,
                    0,
                    0,
                    attrs,
                    offset,
                )
                + fname
            )
            offset += _LOCAL.size + len(fname) + csize
        cd = b"".join(central)
        out.write(cd)
        if len(central) > 0xFFFF or offset >= ZIP32_LIMIT:
            raise OverflowError("too many parts")
        out.write(_END.pack(b"PK\x05\x06", 0, 0, len(central), len(central), len(cd), offset, 0))
        return crcs
