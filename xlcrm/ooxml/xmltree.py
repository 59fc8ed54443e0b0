"""XML parts as lxml trees: parse safely, add elements without stray prefixes, serialise exactly."""

from __future__ import annotations

from lxml import etree

XML_PARSER = etree.XMLParser(remove_blank_text=False, huge_tree=True, resolve_entities=False)


def parse_xml(data: bytes) -> etree._Element:
    return etree.fromstring(data, XML_PARSER)


def new_child(parent: etree._Element, tag: str, index: int | None = None) -> etree._Element:
    """A new element under `parent` that reuses the namespace prefixes in scope (no `ns0:`)."""
    el = etree.SubElement(parent, tag)
    if index is not None:
        parent.insert(index, el)
    return el


def new_detached(like: etree._Element, tag: str) -> etree._Element:
    """A detached element whose namespaces match `like`'s document (moved in later without `ns0:`)."""
    scratch = etree.Element(like.tag, nsmap=like.nsmap)
    return etree.SubElement(scratch, tag)


def element_key(el: etree._Element) -> tuple:
    """A comparison key that ignores how namespaces are declared or prefixed."""
    return (
        el.tag,
        tuple(sorted(el.attrib.items())),
        (el.text or "").strip(),
        tuple(element_key(c) for c in el if isinstance(c.tag, str)),
    )


def serialize_xml(root: etree._Element) -> bytes:
    """lxml keeps every prefix and mc:Ignorable exactly; never use ElementTree for this."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
