"""The write's first sheet inflated while the command plans (`writer.ahead`): the same bytes as a
write without it, used only for the very file it was made from, and never held when unused."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest

import xlcrm
from xlcrm.commands import daily
from xlcrm.commands.base import Context
from xlcrm.ooxml.package import Package
from xlcrm.workbook.file_adapter import FileWorkbook
from xlcrm.workbook.grid import sheet_parts
from xlcrm.workbook.writer import ahead as ahead_module
from xlcrm.workbook.writer import apply_plan
from xlcrm.workbook.writer.ahead import WriteAhead

TODAY = dt.date(2026, 11, 20)
CUSTOMERS = "客户资料"


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: hashlib.sha256(zf.read(i)).hexdigest() for i in zf.infolist()}


def _customers_part(path: Path) -> str:
    return next(part for name, _kind, part in sheet_parts(path) if name == CUSTOMERS)


def _regrade_plan(path: Path):
    port = FileWorkbook(path)
    try:
        return daily.plan_regrade(port.read(), Context(today=TODAY, user="test")).plan
    finally:
        port.close()


@pytest.fixture
def adopted(monkeypatch) -> list[str]:
    """The parts a write took from a WriteAhead."""
    taken: list[str] = []
    real = Package.adopt

    def adopt(self, name, data):
        taken.append(name)
        return real(self, name, data)

    monkeypatch.setattr(Package, "adopt", adopt)
    return taken


def test_a_write_with_the_sheet_inflated_ahead_makes_the_same_bytes(sample_zh, tmp_path, adopted):
    plan = _regrade_plan(sample_zh)
    plain, early = tmp_path / "plain.xlsx", tmp_path / "early.xlsx"
    shutil.copyfile(sample_zh, plain)
    shutil.copyfile(sample_zh, early)
    apply_plan(plain, plan, backup_dir=tmp_path / "b1")
    assert adopted == []
    apply_plan(early, plan, backup_dir=tmp_path / "b2", ahead=WriteAhead.start(early, [_customers_part(early)]))
    assert adopted == [_customers_part(early)]
    assert _parts(plain) == _parts(early)


def test_a_file_changed_after_the_ahead_read_is_inflated_again(sample_zh, sample_en, tmp_path, adopted):
    """The ahead read one file; by the write it holds other bytes: nothing of the ahead is used."""
    book = tmp_path / "book.xlsx"
    shutil.copyfile(sample_zh, book)
    early = WriteAhead.start(book, [_customers_part(book)])
    early.done.wait()
    shutil.copyfile(sample_en, book)  # replaced (saved from Excel, say) after the ahead read it
    plan = _regrade_plan(book)
    expected = tmp_path / "expected.xlsx"
    shutil.copyfile(book, expected)
    apply_plan(expected, plan, backup_dir=tmp_path / "b1")
    apply_plan(book, plan, backup_dir=tmp_path / "b2", ahead=early)
    assert adopted == []
    assert _parts(book) == _parts(expected)


def test_run_and_regrade_through_the_file_port_inflate_basic_info_ahead(sample_zh, adopted):
    xlcrm.run(sample_zh, today=TODAY)
    assert adopted == [_customers_part(sample_zh)]
    xlcrm.regrade(sample_zh, today=TODAY)
    assert adopted == [_customers_part(sample_zh)] * 2
    xlcrm.summary(sample_zh, today=TODAY)  # writes its own sheet only: nothing inflated ahead
    assert adopted == [_customers_part(sample_zh)] * 2


def test_nothing_is_held_past_the_size_limit_or_for_a_command_that_does_not_write(sample_zh, monkeypatch, adopted):
    monkeypatch.setattr(ahead_module, "MAX_BYTES", 0)
    xlcrm.run(sample_zh, today=TODAY)
    assert adopted == []
    monkeypatch.undo()
    port = FileWorkbook(sample_zh)
    port.read(writes=("customers",))
    early = port._ahead
    assert early is not None
    port.close()  # no write follows: what was inflated is let go
    early.done.wait()
    assert early.inflated == {} and port._ahead is None


def test_a_damaged_part_is_left_to_the_write_to_report(sample_zh, tmp_path, adopted):
    """The ahead's inflate fails the CRC check: it keeps nothing; the write refuses as it always did."""
    part = _customers_part(sample_zh)
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(sample_zh) as src, zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == part:
                data = data.replace(b"<sheetData>", b"<sheetData> ", 1)
            dst.writestr(info, data)
    blob = bytearray(damaged.read_bytes())
    with zipfile.ZipFile(damaged) as zf:
        crc = zf.getinfo(part).CRC
    at = blob.rfind(crc.to_bytes(4, "little"))  # the central directory's CRC: the one checked
    blob[at] ^= 0xFF
    damaged.write_bytes(bytes(blob))
    early = WriteAhead.start(damaged, [part])
    early.done.wait()
    assert early.digest is None and early.inflated == {}
    plan = _regrade_plan(sample_zh)
    with pytest.raises(xlcrm.errors.FileRefused):
        apply_plan(damaged, plan, backup_dir=tmp_path / "b", ahead=early)
    assert adopted == []


@pytest.mark.parametrize("chunk", [1 << 20, 4093])  # the parts' bytes across many reads, too
def test_one_pass_keeps_only_the_parts_and_hashes_the_whole_file(sample_zh, monkeypatch, chunk):
    """What the thread holds is the wanted parts' stored bytes; what it inflates is what the zip holds."""
    import io

    monkeypatch.setattr(ahead_module, "CHUNK", chunk)
    blob = sample_zh.read_bytes()
    with zipfile.ZipFile(sample_zh) as zf:
        wanted = [zf.getinfo(_customers_part(sample_zh)), zf.getinfo("xl/styles.xml")]
        expected = {info.filename: zf.read(info) for info in wanted}
        start_dir = zf.start_dir
    inflated, digest = ahead_module._inflate_while_hashing(io.BytesIO(blob), wanted, start_dir)
    assert inflated == expected and digest == hashlib.sha256(blob).hexdigest()

    class RewrittenInPlace(io.BytesIO):
        """The directory as it was; the bytes hashed after it, rewritten by another program."""

        def read(self, *args):
            out = super().read(*args)
            with self.getbuffer() as view:
                view[-30] ^= 0x01
            return out

    with pytest.raises(ValueError, match="changed"):
        ahead_module._inflate_while_hashing(RewrittenInPlace(blob), wanted, start_dir)


def test_a_package_the_write_refuses_is_not_inflated_ahead(sample_zh, tmp_path):
    """Two members of one name: which would a reader take? The write refuses such a file; the ahead keeps nothing."""
    import warnings

    part = _customers_part(sample_zh)
    twice = tmp_path / "twice.xlsx"
    with zipfile.ZipFile(sample_zh) as src, zipfile.ZipFile(twice, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
            dst.writestr(part, b"<worksheet/>")
    early = WriteAhead.start(twice, [part])
    early.done.wait()
    assert early.digest is None and early.inflated == {}
