"""The workbook's sheet list: find a sheet's part, add one after another, hide it.

Adding a sheet touches workbook.xml (the `<sheet>` entry, definedName `localSheetId`s and the
active/first tab, which are positions), workbook.xml.rels, [Content_Types].xml and the sheet
titles in docProps/app.xml. Nothing else moves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from ...errors import XlcrmError
from ...ooxml.package import Package
from ...ooxml.rels import DOC_REL_NS, resolve_target
from ...ooxml.xmltree import new_child, new_detached, parse_xml, serialize_xml

WORKBOOK = "xl/workbook.xml"
SHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_BAD_NAME = re.compile(r"[\[\]:*?/\\]")
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"


@dataclass
class SheetEntry:
    name: str
    part: str
    index: int  # position in the workbook (0-based), what localSheetId counts
    state: str  # visible / hidden / veryHidden


def workbook_part(pkg: Package) -> str:
    for rel in pkg.rels(""):
        if rel.type.endswith("/officeDocument"):
            return resolve_target("", rel.target)
    return WORKBOOK


def check_sheet_name(name: str) -> None:
    if not name or len(name) > 31 or _BAD_NAME.search(name) or name.startswith("'") or name.endswith("'"):
        raise XlcrmError(
            "工作表名“{name}”不可用：最多 31 个字符，不能含 [ ] : * ? / \\，不能以单引号开头或结尾。",
            "Sheet name '{name}' is not allowed: at most 31 characters, none of [ ] : * ? / \\, "
            "and no quote at the start or end.",
            name=name,
        )


class Workbook:
    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.part = workbook_part(pkg)
        self.root = parse_xml(pkg.read(self.part))
        self.ns = etree.QName(self.root).namespace
        self.dirty = False
        self.app_dirty = False

    def _q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def _sheets_el(self) -> etree._Element:
        return self.root.find(self._q("sheets"))

    def sheets(self) -> list[SheetEntry]:
        targets = self.pkg.rel_targets(self.part)
        out = []
        for i, el in enumerate(self._sheets_el().findall(self._q("sheet"))):
            rid = el.get(f"{{{DOC_REL_NS}}}id")
            out.append(SheetEntry(el.get("name", ""), targets.get(rid, ""), i, el.get("state", "visible")))
        return out

    def sheet_ids(self) -> dict[str, str]:
        """Sheet name → its workbook sheetId (stable while Excel keeps the sheet, whatever its position)."""
        return {el.get("name", ""): el.get("sheetId", "") for el in self._sheets_el().findall(self._q("sheet"))}

    def find(self, name: str) -> SheetEntry | None:
        folded = name.casefold()
        for entry in self.sheets():  # Excel compares sheet names case-insensitively
            if entry.name.casefold() == folded:
                return entry
        return None

    def require(self, name: str) -> SheetEntry:
        entry = self.find(name)
        if entry is None:
            raise XlcrmError("找不到工作表“{name}”。", "There is no sheet named '{name}'.", name=name)
        if not entry.part.startswith("xl/") or any(k in entry.part for k in ("chartsheet", "macrosheet", "dialogsheet")):
            raise XlcrmError(
                "“{name}”不是普通工作表，xlcrm 不写入。",
                "'{name}' is not a worksheet; xlcrm does not write to it.",
                name=name,
            )
        return entry

    # -- adding --------------------------------------------------------------------------------
    def add_sheet(self, name: str, xml: bytes, after: str | None, state: str = "visible") -> SheetEntry:
        check_sheet_name(name)
        if self.find(name):
            raise XlcrmError("工作表“{name}”已存在。", "A sheet named '{name}' already exists.", name=name)
        part = self.pkg.unique_name("xl/worksheets/sheet{}.xml")
        self.pkg.write(part, xml)
        self.pkg.set_override(part, SHEET_CT)
        rid = self.pkg.add_rel(self.part, SHEET_REL, part)
        sheets_el = self._sheets_el()
        existing = sheets_el.findall(self._q("sheet"))
        ids = [int(el.get("sheetId", "0")) for el in existing]
        el = new_detached(sheets_el, self._q("sheet"))
        el.set("name", name)
        el.set("sheetId", str(max(ids, default=0) + 1))
        if state != "visible":
            el.set("state", state)
        el.set(f"{{{DOC_REL_NS}}}id", rid)
        position = len(existing)
        if after is not None:
            anchor = self.find(after)
            if anchor is not None:
                position = anchor.index + 1
        if position < len(existing):
            existing[position].addprevious(el)
        else:
            (existing[-1].addnext(el) if existing else sheets_el.append(el))
        self._shift_positions(position)
        self.dirty = True
        self._app_insert_title(name, position)
        return SheetEntry(name, part, position, state)

    def _shift_positions(self, position: int) -> None:
        """Positions at or after an inserted sheet move one right: localSheetId, activeTab, firstSheet."""
        names = self.root.find(self._q("definedNames"))
        if names is not None:
            for dn in names:
                lid = dn.get("localSheetId")
                if lid is not None and lid.isdigit() and int(lid) >= position:
                    dn.set("localSheetId", str(int(lid) + 1))
        views = self.root.find(self._q("bookViews"))
        if views is not None:
            for view in views:
                for attr in ("activeTab", "firstSheet"):
                    v = view.get(attr)
                    if v is not None and v.isdigit() and int(v) >= position:
                        view.set(attr, str(int(v) + 1))

    def set_state(self, name: str, state: str) -> None:
        for el in self._sheets_el().findall(self._q("sheet")):
            if el.get("name", "").casefold() == name.casefold():
                if state == "visible":
                    el.attrib.pop("state", None)
                else:
                    el.set("state", state)
                self.dirty = True

    def set_defined_name(self, name: str, local_index: int, value: str, hidden: bool = True) -> None:
        """Set (add or replace) a sheet-local defined name such as `_xlnm._FilterDatabase`."""
        names = self.root.find(self._q("definedNames"))
        if names is None:
            names = new_child(self.root, self._q("definedNames"))
            self._sheets_el().addnext(names)
        for dn in names:
            if dn.get("name") == name and dn.get("localSheetId") == str(local_index):
                if dn.text != value:
                    dn.text = value
                    self.dirty = True
                return
        dn = etree.SubElement(names, self._q("definedName"))
        dn.set("name", name)
        dn.set("localSheetId", str(local_index))
        if hidden:
            dn.set("hidden", "1")
        dn.text = value
        self.dirty = True

    def defined_names(self) -> list[etree._Element]:
        names = self.root.find(self._q("definedNames"))
        return [] if names is None else [dn for dn in names if isinstance(dn.tag, str)]

    # -- docProps/app.xml ------------------------------------------------------------------------
    def _app_insert_title(self, name: str, position: int) -> None:
        """Keep docProps/app.xml's sheet list in step (Excel rewrites it anyway; others read it)."""
        part = "docProps/app.xml"
        if not self.pkg.exists(part):
            return
        try:
            root = parse_xml(self.pkg.read(part))
            ns = etree.QName(root).namespace
            pairs = root.find(f"{{{ns}}}HeadingPairs/{{{VT_NS}}}vector")
            titles = root.find(f"{{{ns}}}TitlesOfParts/{{{VT_NS}}}vector")
            if pairs is None or titles is None:
                return
            variants = pairs.findall(f"{{{VT_NS}}}variant")
            offset = 0
            for k in range(0, len(variants) - 1, 2):
                label = variants[k].find(f"{{{VT_NS}}}lpstr")
                count = variants[k + 1].find(f"{{{VT_NS}}}i4")
                if label is None or count is None:
                    return
                if label.text in ("Worksheets", "工作表"):
                    n = int(count.text)
                    count.text = str(n + 1)
                    items = titles.findall(f"{{{VT_NS}}}lpstr")
                    new = new_detached(titles, f"{{{VT_NS}}}lpstr")
                    new.text = name
                    at = offset + min(position, n)
                    if at < len(items):
                        items[at].addprevious(new)
                    elif items:
                        items[-1].addnext(new)
                    else:
                        titles.append(new)
                    titles.set("size", str(int(titles.get("size", "0")) + 1))
                    self.pkg.write(part, serialize_xml(root))
                    return
                offset += int(count.text)
        except (etree.XMLSyntaxError, ValueError, TypeError):
            return  # app.xml is informational; an odd one is left as it was

    def write_back(self) -> None:
        if self.dirty:
            self.pkg.write(self.part, serialize_xml(self.root))
