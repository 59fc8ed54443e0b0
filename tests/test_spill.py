"""A huge part inflated into a mapped temporary file (`ooxml.spill`) instead of the process's heap.

What must hold: the mapping reads exactly as the inflated bytes; a member whose size or CRC-32 is
wrong, or that does not inflate, is refused as damaged; no room means no spill (inflated into memory
as before); pages handed back read again the same; and the windowed `find` finds what `find` does.
"""

from __future__ import annotations

import io
import mmap
import sys
import zipfile
from pathlib import Path

import pytest
from disk_full import FillingFile

from xlcrm.ooxml import spill
from xlcrm.ooxml.package import DamagedPart, Package
from xlcrm.procs import drop_pages

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="spills only on Linux")
XML = b"<worksheet><sheetData>" + b"".join(b'<row r="%d"><c><v>%d</v></c></row>' % (i, i) for i in range(1, 60_000)) \
    + b"</sheetData></worksheet>"


def _zip(data: bytes = XML) -> tuple[zipfile.ZipInfo, bytes]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", data)
    blob = buf.getvalue()
    return zipfile.ZipFile(io.BytesIO(blob)).getinfo("xl/worksheets/sheet1.xml"), blob


def _payload(info: zipfile.ZipInfo, blob: bytes) -> bytes:
    from xlcrm.ooxml.package import stored_bytes

    return bytes(stored_bytes(blob, info.header_offset, info))


@linux_only
def test_the_mapping_reads_as_the_inflated_bytes_and_dropped_pages_read_again():
    info, blob = _zip()
    mapped = spill.inflate_to_map(info, _payload(info, blob))
    assert isinstance(mapped, mmap.mmap) and mapped[:] == XML
    assert mapped.find(b'<row r="59999">') == XML.find(b'<row r="59999">')
    end = drop_pages(mapped, 10, len(mapped) - 10)  # through procs, as the render calls it
    assert end == (len(mapped) - 10) // mmap.PAGESIZE * mmap.PAGESIZE
    assert mapped[:] == XML  # read again from the file


@linux_only
@pytest.mark.parametrize("damage", ["size", "crc", "stream"])
def test_a_member_that_does_not_match_is_refused(damage):
    info, blob = _zip()
    payload = _payload(info, blob)
    if damage == "size":
        info.file_size -= 1
    elif damage == "crc":
        info.CRC ^= 1
    else:
        payload = payload[:100] + bytes([payload[100] ^ 0xFF]) + payload[101:]
    with pytest.raises(spill.SpillMismatch):
        spill.inflate_to_map(info, payload)


@linux_only
def test_no_room_means_no_spill(monkeypatch):
    info, blob = _zip()
    monkeypatch.setattr(spill.shutil, "disk_usage", lambda _folder: type("U", (), {"free": 1000})())
    assert spill.inflate_to_map(info, _payload(info, blob)) is None


@linux_only
def test_a_disk_that_fills_meanwhile_means_no_spill(monkeypatch):
    info, blob = _zip()
    real = spill.tempfile.TemporaryFile
    monkeypatch.setattr(spill.tempfile, "TemporaryFile", lambda *a, **k: FillingFile(real(*a, **k), writes_ok=0))
    assert spill.inflate_to_map(info, _payload(info, blob)) is None


@linux_only
def test_the_package_reads_a_huge_part_mapped_and_refuses_a_damaged_one(monkeypatch):
    monkeypatch.setattr(spill, "SPILL_BYTES", 1000)
    _, blob = _zip()
    part = Package(blob).read("xl/worksheets/sheet1.xml")
    assert spill.is_spilled(part) and part[:] == XML
    damaged = bytearray(blob)
    info = zipfile.ZipFile(io.BytesIO(blob)).getinfo("xl/worksheets/sheet1.xml")
    damaged[info.header_offset + 30 + len(info.filename) + 50] ^= 0xFF
    with pytest.raises(DamagedPart):
        Package(bytes(damaged)).read("xl/worksheets/sheet1.xml")
    monkeypatch.setenv("XLCRM_SPILL", "0")  # the switch: inflated into memory
    assert type(Package(blob).read("xl/worksheets/sheet1.xml")) is bytes


@pytest.mark.parametrize("needle", [b'<row r="1">', b'<row r="31234">', b"</worksheet>", b"<nowhere>"])
def test_the_windowed_find_finds_what_find_does(tmp_path: Path, monkeypatch, needle):
    monkeypatch.setattr(spill, "SCAN_STEP", 4096 + 3)  # needles straddle the windows' edges
    path = tmp_path / "x.xml"
    path.write_bytes(XML)
    with open(path, "rb") as fh:
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    for start in (0, 5000, 100_000):
        assert spill.find(mapped, needle, start, len(XML)) == XML.find(needle, start)
    assert spill.find(XML, needle, 0, len(XML)) == XML.find(needle)  # bytes: find as it is


@linux_only
def test_a_temporary_folder_held_in_memory_is_not_spilled_to(monkeypatch):
    """A tmpfs /tmp is memory all the same: /var/tmp instead, or no spill when that is one too."""
    if Path("/dev/shm").is_dir():
        assert spill.filesystem_of("/dev/shm") in spill.MEMORY_FILESYSTEMS
    tmp = spill.tempfile.gettempdir()
    kinds = {tmp: "tmpfs", "/var/tmp": "ext4"}
    monkeypatch.setattr(spill, "filesystem_of", lambda folder: kinds.get(folder, "ext4"))
    monkeypatch.setattr(spill.os.path, "isdir", lambda _folder: True)
    assert spill.spill_folder() == ("/var/tmp" if tmp != "/var/tmp" else None)
    kinds["/var/tmp"] = "tmpfs"
    assert spill.spill_folder() is None
    info, blob = _zip()
    assert spill.inflate_to_map(info, _payload(info, blob)) is None
