"""A sheet's notes (legacy comments: `commentsN.xml` + one VML shape each, what every Excel, WPS
and LibreOffice shows): add and remove xlcrm's own, keep the user's, move them with inserted or
deleted rows, and write the parts back with their relationships and content types."""

from __future__ import annotations

import re

from lxml import etree

from ...ooxml.addresses import cell_ref, split_ref
from ...ooxml.xmltree import parse_xml, serialize_xml

AUTHOR = "xlcrm"
COMMENTS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments"
VML_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"
COMMENTS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHAPETYPE_202 = (
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)
_SHAPE = re.compile(r"<v:shape\b.*?</v:shape>\s*", re.S)
# Elements that may follow <legacyDrawing> in a worksheet (schema order).
_AFTER_LEGACY = (
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
)


class Notes:
    """The legacy comments + VML of one sheet."""

    def __init__(self, editor, sheet_part: str, sx):
        self.ed = editor
        self.pkg = editor.pkg
        self.sheet_part = sheet_part
        self.sx = sx
        self.comments_part = None
        self.vml_part = None
        for rel in self.pkg.rels(sheet_part):
            from ...ooxml.rels import resolve_target

            if rel.type == COMMENTS_REL:
                self.comments_part = resolve_target(sheet_part, rel.target)
            elif rel.type == VML_REL:
                m = re.search(rf'<{sx.p}legacyDrawing\b[^>]*r:id="{re.escape(rel.id)}"', sx.tail)
                if m or self.vml_part is None:
                    self.vml_part = resolve_target(sheet_part, rel.target)
        self.root = parse_xml(self.pkg.read(self.comments_part)) if self.comments_part else None
        self.vml = self.pkg.read(self.vml_part).decode("utf-8", "replace") if self.vml_part else None
        self.dirty = False

        # Indexes built once, so marking thousands of cells stays linear (no rescans per note).
        self._by_ref: dict[str, list] | None = None
        self._author: int | None = None
        self._shape_id: int | None = None
        self._removed_shapes: set[tuple[int, int]] = set()
        self._new_shapes: list[str] = []

    def _ns(self) -> str:
        return etree.QName(self.root).namespace

    def _author_id(self, create: bool) -> int | None:
        if self._author is not None:
            return self._author
        authors = self.root.find(f"{{{self._ns()}}}authors")
        names = [a.text for a in authors]
        if AUTHOR in names:
            self._author = names.index(AUTHOR)
        elif create:
            el = etree.SubElement(authors, f"{{{self._ns()}}}author")
            el.text = AUTHOR
            self._author = len(names)
        return self._author

    def _comment_list(self):
        return self.root.find(f"{{{self._ns()}}}commentList")

    def _index(self) -> dict[str, list]:
        if self._by_ref is None:
            self._by_ref = {}
            if self.root is not None:
                for c in self._comment_list():
                    self._by_ref.setdefault(c.get("ref"), []).append(c)
        return self._by_ref

    def has_user_note(self, ref: str) -> bool:
        if self.root is None:
            return False
        ours = str(self._author_id(False))
        return any(c.get("authorId") != ours for c in self._index().get(ref, ()))

    def has_own_note(self, ref: str) -> bool:
        if self.root is None:
            return False
        ours = str(self._author_id(False))
        return any(c.get("authorId") == ours for c in self._index().get(ref, ()))

    def has_any_note(self, ref: str) -> bool:
        return self.root is not None and bool(self._index().get(ref))

    def user_notes_on(self, rows: set[int]) -> list[str]:
        """Cells on `rows` holding a note someone other than xlcrm wrote."""
        if self.root is None:
            return []
        ours = str(self._author_id(False))
        return [c.get("ref") for c in self._comment_list()
                if c.get("authorId") != ours and split_ref(c.get("ref"))[0] in rows]

    def shift_rows(self, shift) -> None:
        """Rows were deleted or inserted: every note moves with its cell; notes on deleted rows go."""
        if self.root is None:
            return
        for c in list(self._comment_list()):
            row, col = split_ref(c.get("ref"))
            new = shift.row(row)
            if new is None:
                self._comment_list().remove(c)
            elif new != row:
                c.set("ref", cell_ref(new, col))
            else:
                continue
            self.dirty = True
        self._by_ref = None
        if self.vml is None or not self.dirty:
            return

        def move(m: re.Match) -> str:
            shape = m.group(0)
            rc = re.search(r"<x:Row>(\d+)</x:Row>", shape)
            if 'ObjectType="Note"' not in shape or rc is None:
                return shape
            old = int(rc.group(1)) + 1
            new = shift.row(old)
            if new is None:
                return ""
            delta = new - old
            shape = shape.replace(rc.group(0), f"<x:Row>{new - 1}</x:Row>")

            def anchor(a: re.Match) -> str:
                n = [int(x) for x in a.group(1).split(",")]
                if len(n) == 8:
                    n[2], n[6] = max(n[2] + delta, 0), max(n[6] + delta, 0)
                return "<x:Anchor>" + ", ".join(map(str, n)) + "</x:Anchor>"

            return re.sub(r"<x:Anchor>([^<]*)</x:Anchor>", anchor, shape)

        self.vml = _SHAPE.sub(move, self.vml)

    def remove(self, ref: str) -> None:
        if self.root is None:
            return
        ours = str(self._author_id(False))
        entries = self._index().get(ref, [])
        for c in [c for c in entries if c.get("authorId") == ours]:
            self._comment_list().remove(c)
            entries.remove(c)
            self.dirty = True
            row, col = split_ref(ref)
            self._removed_shapes.add((row - 1, col - 1))

    def add(self, ref: str, text: str) -> bool:
        if self.has_user_note(ref):
            return False
        if self.root is None:
            self.root = parse_xml(f'<comments xmlns="{MAIN_NS}"><authors/><commentList/></comments>'.encode())
        author = self._author_id(True)
        ns = self._ns()
        c = etree.SubElement(self._comment_list(), f"{{{ns}}}comment")
        c.set("ref", ref)
        c.set("authorId", str(author))
        t = etree.SubElement(etree.SubElement(c, f"{{{ns}}}text"), f"{{{ns}}}t")
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        t.text = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)
        self._index().setdefault(ref, []).append(c)
        self._add_shape(ref)
        self.dirty = True
        return True

    def _next_shape_id(self) -> int:
        if self._shape_id is None:
            ids = [int(n) for n in re.findall(r"_x0000_s(\d+)", self.vml)]
            idmap = re.search(r'<o:idmap\b[^>]*data="(\d+)', self.vml)
            floor = int(idmap.group(1)) * 1024 if idmap else 1024
            self._shape_id = max([floor, *ids])
        self._shape_id += 1
        return self._shape_id

    def _free_idmap_block(self) -> int:
        used = set()
        for name in self.pkg.names():
            if name.endswith(".vml"):
                for m in re.finditer(rb'<o:idmap\b[^>]*data="([\d,]+)', self.pkg.read(name)):
                    used.update(int(x) for x in m.group(1).split(b",") if x)
        n = 1
        while n in used:
            n += 1
        return n

    def _add_shape(self, ref: str) -> None:
        if self.vml is None:
            self.vml = (
                '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
                'xmlns:x="urn:schemas-microsoft-com:office:excel">'
                f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{self._free_idmap_block()}"/>'
                "</o:shapelayout></xml>"
            )
        row, col = split_ref(ref)
        self._new_shapes.append(
            f'<v:shape id="_x0000_s{self._next_shape_id()}" type="#_x0000_t202" style="position:absolute;'
            'margin-left:80pt;margin-top:2pt;width:160pt;height:60pt;z-index:1;visibility:hidden" '
            'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            '<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
            f'<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{col}, 15, {max(row - 2, 0)}, 10, {col + 2}, 15, {row + 3}, 4</x:Anchor>"
            f"<x:AutoFill>False</x:AutoFill><x:Row>{row - 1}</x:Row><x:Column>{col - 1}</x:Column></x:ClientData>"
            "</v:shape>"
        )

    def _updated_vml(self) -> str:
        """The VML with removed notes' shapes dropped and new ones added, in one pass each."""
        vml = self.vml
        if self._removed_shapes:
            pending = set(self._removed_shapes)

            def drop(m: re.Match) -> str:
                shape = m.group(0)
                if 'ObjectType="Note"' not in shape:
                    return shape
                rc = re.search(r"<x:Row>(\d+)</x:Row>\s*<x:Column>(\d+)</x:Column>", shape)
                key = (int(rc.group(1)), int(rc.group(2))) if rc else None
                if key in pending:
                    pending.discard(key)
                    return ""
                return shape

            vml = _SHAPE.sub(drop, vml)
        if self._new_shapes:
            if 'id="_x0000_t202"' not in vml:
                at = vml.rfind("</xml>")
                vml = vml[:at] + SHAPETYPE_202 + vml[at:]
            at = vml.rfind("</xml>")
            vml = vml[:at] + "".join(self._new_shapes) + vml[at:]
        return vml

    def write_back(self) -> None:
        if not self.dirty:
            return
        pkg = self.pkg
        if self.comments_part is None:
            self.comments_part = pkg.unique_name("xl/comments{}.xml")
            pkg.write(self.comments_part, b"")
            pkg.set_override(self.comments_part, COMMENTS_CT)
            pkg.add_rel(self.sheet_part, COMMENTS_REL, self.comments_part)
        pkg.write(self.comments_part, serialize_xml(self.root))
        if self.vml_part is None:
            self.vml_part = pkg.unique_name("xl/drawings/vmlDrawing{}.vml")
            pkg.write(self.vml_part, b"")
            pkg.ensure_default("vml", VML_CT)
            rid = pkg.add_rel(self.sheet_part, VML_REL, self.vml_part)
            self._add_legacy_drawing(rid)
        self.vml = self._updated_vml()
        self._removed_shapes.clear()
        self._new_shapes.clear()
        pkg.write(self.vml_part, self.vml.encode("utf-8"))

    def _add_legacy_drawing(self, rid: str) -> None:
        sx = self.sx
        p = sx.p
        element = f'<{p}legacyDrawing r:id="{rid}"/>'
        tail = sx.tail
        if not re.search(r"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"", sx.head):
            element = (
                f'<{p}legacyDrawing xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
                f'r:id="{rid}"/>'
            )
        positions = [m.start() for name in _AFTER_LEGACY for m in [re.search(rf"<{p}{name}\b", tail)] if m]
        at = min(positions) if positions else tail.rfind(f"</{p}worksheet>")
        sx.tail = tail[:at] + element + tail[at:]
