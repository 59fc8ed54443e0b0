"""Refuse damaged or hostile zip packages before any part is inflated in full or parsed into a tree.

Checked from the zip central directory (nothing inflated): duplicate entry names, the total
inflated size and each big part's compression ratio (a zip bomb). Then the small structural parts
xlcrm itself parses — [Content_Types].xml, every .rels, workbook.xml, styles, comments, tables —
must be well-formed XML (libxml2 through lxml, no tree). Each refusal is a bilingual FileRefused
naming the part.

The limits come from the environment, never from the workbook (a received file must not be able
to raise its own limits): XLCRM_MAX_INFLATED (bytes; a K/M/G suffix is fine, default 8G) and
XLCRM_MAX_RATIO (default 1000).
"""

from __future__ import annotations

import os
import re
import zipfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from ..errors import FileRefused
from ..ooxml.package import TOO_BIG, Package
from ..ooxml.pieces import joined_batches

MAX_INFLATED_ENV = "XLCRM_MAX_INFLATED"
MAX_RATIO_ENV = "XLCRM_MAX_RATIO"
# A real book at Excel's row limit on its three data sheets (`samples --size L`, text written inline)
# inflates to 2.6 GB, so 2 GB refused it; the per-part ratio limit is what stops a zip bomb.
DEFAULT_MAX_INFLATED = 8 << 30
DEFAULT_MAX_RATIO = 1000
RATIO_FLOOR = 1 << 20  # parts smaller than this cannot hurt, whatever their ratio
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_STRUCTURAL = re.compile(r"(^\[Content_Types\]\.xml$|\.rels$|^xl/(workbook|styles)\.xml$|comments\d*\.xml$|^xl/tables/)")


def _env_number(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip().upper().removesuffix("B")
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)", text)
    return int(float(m.group(1)) * _UNITS[m.group(2)]) if m else default


def max_inflated() -> int:
    """The most bytes all parts of one workbook may inflate to."""
    return _env_number(MAX_INFLATED_ENV, DEFAULT_MAX_INFLATED)


def max_ratio() -> int:
    """The highest inflated/compressed ratio a part bigger than 1 MB may have."""
    return max(1, _env_number(MAX_RATIO_ENV, DEFAULT_MAX_RATIO))


PARSE_BATCH = 8 << 20


class _NoTree:
    """A parser target without handlers: libxml2 checks the document and builds nothing."""

    def close(self) -> None:
        return None


def well_formed(data: bytes | Iterable) -> str | None:
    """None if `data` (bytes, or a document given as pieces, never joined whole) is
    well-formed XML, else the parser's complaint.

    libxml2 gives the same verdicts as expat here (tests compare them) at the same speed, but lxml
    lets other threads run while it parses: the writer checks one part while it builds the next."""
    parser = _checking_parser()
    try:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            for buf in joined_batches(data, PARSE_BATCH):
                parser.feed(bytes(buf))  # lxml takes bytes, not a memoryview of the input
            parser.close()
        else:
            etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        return str(exc)
    return None


def _checking_parser() -> etree.XMLParser:
    return etree.XMLParser(target=_NoTree(), huge_tree=True, resolve_entities=False, no_network=True,
                           load_dtd=False)


class WellFormedFeed:
    """`well_formed` for a document handed over in batches as it is made, each parsed and then
    dropped (the writer checks a big sheet's new rows block by block while it renders the next)."""

    def __init__(self):
        self._parser = _checking_parser()
        self.problem: str | None = None

    def feed(self, pieces: Iterable) -> None:
        if self.problem is not None:
            return
        try:
            for buf in joined_batches(pieces, PARSE_BATCH):
                self._parser.feed(bytes(buf))
        except etree.XMLSyntaxError as exc:
            self.problem = str(exc)

    def close(self) -> str | None:
        """None if everything fed is one well-formed document, else the parser's complaint."""
        if self.problem is None:
            try:
                self._parser.close()
            except etree.XMLSyntaxError as exc:
                self.problem = str(exc)
        return self.problem


def _damaged(name: str, zh: str, en: str, **args) -> FileRefused:
    return FileRefused(
        "“{name}”已损坏，xlcrm 不读取也不写入它（文件未改动）：" + zh + "。请在 Excel 中打开并另存一份后再试。",
        "'{name}' is damaged; xlcrm neither reads nor writes it (the file is untouched): " + en
        + ". Open it in Excel, save a copy and try again.",
        name=name,
        **args,
    )


def not_xml(name: str, part: str, problem: str) -> FileRefused:
    return _damaged(name, "部件 {part} 不是合法的 XML（{err}）", "part {part} is not well-formed XML ({err})",
                    part=part, err=problem)


def too_big(name: str, part: str) -> FileRefused:
    """A part that inflates beyond what the zip directory declared (or allowed)."""
    return _damaged(name, "部件 {part} 解压后超出其声明的大小（疑似压缩炸弹）",
                    "part {part} inflates beyond its declared size (a zip bomb?)", part=part)


def bad_member(name: str, part: str) -> FileRefused:
    """A part whose inflated bytes do not match the CRC-32 the zip directory declared."""
    return _damaged(name, "部件 {part} 的校验和不符（数据已损坏）", "part {part} fails its CRC-32 check (damaged data)",
                    part=part)



class CheckedPackage(Package):
    """A package whose damaged members are refused with xlcrm's bilingual FileRefused."""

    def damaged(self, part: str, reason: str) -> Exception:
        return too_big(self.name, part) if reason == TOO_BIG else bad_member(self.name, part)


def check_directory(zf: zipfile.ZipFile, name: str) -> None:
    """Duplicate names and zip-bomb limits, from the central directory alone (nothing inflated)."""
    infos = zf.infolist()
    dupes = [n for n, k in Counter(i.filename for i in infos).items() if k > 1]
    if dupes:
        raise _damaged(name, "zip 中有重名的部件 {part}", "the zip holds two entries named {part}", part=dupes[0])
    limit, ratio = max_inflated(), max_ratio()
    total = sum(i.file_size for i in infos)
    if total > limit:
        raise _damaged(
            name,
            "解压后共 {size} 字节，超过上限 {limit} 字节（疑似压缩炸弹；可用环境变量 {env} 调高上限）",
            "its parts inflate to {size} bytes, above the limit of {limit} (a zip bomb? raise it with {env})",
            size=f"{total:,}", limit=f"{limit:,}", env=MAX_INFLATED_ENV,
        )
    for info in infos:
        if info.file_size >= RATIO_FLOOR and info.file_size > ratio * max(info.compress_size, 1):
            raise _damaged(
                name,
                "部件 {part} 的压缩比超过 1:{ratio}（疑似压缩炸弹；可用环境变量 {env} 调高上限）",
                "part {part} is compressed more than 1:{ratio} (a zip bomb? raise the limit with {env})",
                part=info.filename, ratio=ratio, env=MAX_RATIO_ENV,
            )


def structural_parts(names: list[str]) -> list[str]:
    """The small parts xlcrm parses as XML trees: content types, relationships, workbook, styles,
    comments and tables (sheets are checked by what the writer writes, see writer/verify.py)."""
    return [n for n in names if not n.endswith("/") and _STRUCTURAL.search(n)]


def check_zip(zf: zipfile.ZipFile, name: str) -> None:
    """Raise FileRefused if the package is damaged or hostile (see module doc)."""
    check_directory(zf, name)
    for part in structural_parts(zf.namelist()):
        try:
            data = zf.read(part)  # zipfile stops at the declared size and checks the CRC
        except Exception as exc:  # BadZipFile (CRC), zlib.error, EOFError: a damaged member
            raise _damaged(name, "部件 {part} 无法解压（{err}）", "part {part} cannot be inflated ({err})",
                           part=part, err=exc) from exc
        problem = well_formed(data)
        if problem:
            raise not_xml(name, part, problem)


def check_package(path: os.PathLike | str) -> None:
    """`check_zip` on a workbook file (a file that is not a zip at all is `guard.detect`'s business)."""
    display = Path(path).name
    try:
        with zipfile.ZipFile(path) as zf:
            check_zip(zf, display)
    except zipfile.BadZipFile as exc:
        raise _damaged(display, "zip 目录无法读取（{err}）", "its zip directory cannot be read ({err})", err=exc) from exc
