"""Check a freshly written package against its input before it may replace the user's file."""

from __future__ import annotations

import io
import posixpath
import zipfile

from lxml import etree

from ...errors import WriteFailed
from ...ooxml.package import Package, Rope, same_bytes
from ...ooxml.rels import resolve_target
from ...ooxml.xmltree import parse_xml
from ..package_check import CheckedPackage, well_formed

XML_SUFFIXES = (".xml", ".rels")
INFLATE_LIMIT = 16 << 20  # edited parts above this are checked by their compressed bytes and CRC


def _dangling(pkg_names: set[str], read) -> set[tuple[str, str]]:
    """(rels part, target) pairs whose internal target does not exist."""
    out = set()
    for rels in pkg_names:
        if not rels.endswith(".rels"):
            continue
        folder = posixpath.dirname(posixpath.dirname(rels))
        source = posixpath.join(folder, posixpath.basename(rels)[: -len(".rels")])
        try:
            root = parse_xml(read(rels))
        except etree.XMLSyntaxError:
            out.add((rels, "<unparseable>"))
            continue
        for el in root:
            if not isinstance(el.tag, str) or el.get("TargetMode") == "External":
                continue
            target = el.get("Target", "")
            resolved = resolve_target(source if rels != "_rels/.rels" else "", target)
            if resolved not in pkg_names:
                out.add((rels, target))
    return out


def _uncovered(pkg_names: set[str], ct_xml: bytes) -> set[str]:
    """Parts without a content type (part names compare case-insensitively, as in OPC)."""
    root = parse_xml(ct_xml)
    defaults = {el.get("Extension", "").lower() for el in root if el.get("Extension")}
    overrides = {el.get("PartName", "").lstrip("/").lower() for el in root if el.get("PartName")}
    out = set()
    for name in pkg_names:
        if name == "[Content_Types].xml" or name.endswith("/") or name.lower() in overrides:
            continue
        ext = name.rsplit(".", 1)[-1].lower() if "." in posixpath.basename(name) else ""
        if ext not in defaults:
            out.add(name)
    return out


def _fail(zh: str, en: str, **args) -> WriteFailed:
    return WriteFailed(
        "写入的文件未通过校验，原文件未改动：" + zh,
        "The written file failed verification; the original is untouched: " + en,
        **args,
    )


def check_changed_xml(pkg: Package) -> None:
    """Every edited XML part must be well-formed (run while the parts deflate on other threads).

    A big edited sheet is checked through its evidence: its frame (everything outside sheetData)
    and every byte xlcrm wrote into sheetData parse, and the rest are whole `<row>` elements
    copied unchanged from the input. Other parts are parsed whole. Parts checked on the pool
    while later edits were made (`check_soon`) are waited for first; a failure there is raised here.
    """
    jobs, pkg.xml_jobs = pkg.xml_jobs, []
    for job in jobs:
        job.result()
    for name, data in pkg.changed.items():
        if name.endswith(XML_SUFFIXES) and pkg.xml_checked.get(name) is not data:
            _check_docs(name, [data])


def check_soon(pkg: Package, name: str, evidence: list | None = None, *, then_deflate: bool = False) -> None:
    """Check a part that is final for now — a rendered sheet (through its `evidence` when it is
    big) or a tool sheet — on the pool while the next edits are made (lxml parses without the
    GIL). Its copies of what was written are freed once checked; `check_changed_xml` waits for it.
    `then_deflate`: the same job deflates it once checked (`Package.compress_soon(first=…)`), so a
    rope lets go of its pieces only when both are done, and is counted as held until then."""
    data = pkg.changed[name]
    if evidence is not None and len(data) > INFLATE_LIMIT:
        docs = evidence
    else:  # a rope's pieces in a list of the check's own: the rope lets go of its list once deflated
        docs = [Rope(data.pieces) if type(data) is Rope else data]
    if pkg.pool is None:
        _check_docs(name, docs)
    elif then_deflate:
        pkg.compress_soon(name, first=lambda: _check_docs(name, docs))
    else:
        pkg.xml_jobs.append(pkg.pool.submit(_check_docs, name, docs))
    pkg.xml_checked[name] = data  # if it is written again, the new bytes are checked at the end


def _check_docs(name: str, docs: list) -> None:
    for doc in docs:
        problem = well_formed(doc.iter_pieces() if isinstance(doc, Rope) else doc)
        if problem:
            raise part_not_xml(name, problem)


def part_not_xml(part: str, problem: str) -> WriteFailed:
    """The write's failure when a part it made does not parse (`problem`: the parser's complaint)."""
    return _fail("部件 {part} 不是合法 XML（{err}）", "part {part} is not well-formed XML ({err})", part=part, err=problem)


def verify_output(pkg: Package, written: bytes, xml_checked: bool = False) -> None:
    """Raise WriteFailed unless `written` is exactly the intended package (see module doc)."""
    try:
        out = zipfile.ZipFile(io.BytesIO(written))
    except zipfile.BadZipFile as exc:
        raise _fail("不是有效的 zip（{err}）", "not a valid zip ({err})", err=exc) from exc
    out_names = [i.filename for i in out.infolist()]
    if out_names != pkg.names():
        raise _fail("部件列表不符", "the list of parts differs from the plan")
    out_pkg = CheckedPackage(written)
    for name in out_names:
        if name in pkg.changed and name in pkg.compressed and len(pkg.changed[name]) > INFLATE_LIMIT:
            # A big edited part: the bytes on disk must be exactly the deflate stream made from the
            # intended bytes (and carry their CRC); inflating 100+ MB again would prove no more.
            crc, payload = pkg.compressed[name]
            info = out_pkg.infos[name]
            if info.CRC != crc or info.file_size != len(pkg.changed[name]) or not same_bytes(out_pkg.raw(name), payload):
                raise _fail("部件 {part} 内容不符", "part {part} differs from what was meant", part=name)
        elif name in pkg.changed:
            try:
                data = out.read(name)  # checks the CRC
            except (zipfile.BadZipFile, zlib_error) as exc:
                raise _fail("部件 {part} 损坏", "part {part} is damaged", part=name) from exc
            if data != pkg.read(name):  # a rope (a small one) is joined
                raise _fail("部件 {part} 内容不符", "part {part} differs from what was meant", part=name)
            if name.endswith(XML_SUFFIXES) and not xml_checked:
                problem = well_formed(data)
                if problem:
                    raise part_not_xml(name, problem)
        else:
            a, b = pkg.infos[name], out_pkg.infos[name]
            if a.CRC != b.CRC or a.file_size != b.file_size or not same_bytes(pkg.raw(name), out_pkg.raw(name)):
                raise _fail("未修改的部件 {part} 发生了变化", "untouched part {part} changed", part=name)
    names_in, names_out = set(pkg.infos), set(out_names)
    before = _dangling(names_in, pkg.read_stored)
    after = _dangling(names_out, out.read)
    new_dangling = after - before
    if new_dangling:
        rels, target = sorted(new_dangling)[0]
        raise _fail(
            "{rels} 中的关系指向不存在的部件 {target}",
            "a relationship in {rels} points to missing {target}",
            rels=rels,
            target=target,
        )
    new_uncovered = _uncovered(names_out, out.read("[Content_Types].xml")) - _uncovered(
        names_in, pkg.read_stored("[Content_Types].xml")
    )
    if new_uncovered:
        raise _fail("部件 {part} 没有内容类型", "part {part} has no content type", part=sorted(new_uncovered)[0])


try:  # zlib.error is what a damaged deflate stream raises
    from zlib import error as zlib_error
except ImportError:  # pragma: no cover
    zlib_error = Exception
