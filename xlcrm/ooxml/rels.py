"""Relationships (`.rels`) and content-type names of an OOXML package, and part-path arithmetic."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
RELS_CT = "application/vnd.openxmlformats-package.relationships+xml"


@dataclass
class Rel:
    id: str
    type: str
    target: str
    external: bool


def rels_path(part: str) -> str:
    """`xl/worksheets/sheet1.xml` → `xl/worksheets/_rels/sheet1.xml.rels`."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve_target(source_part: str, target: str) -> str:
    """A relationship target, relative to its source part (or absolute with a leading '/')."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def relative_target(source_part: str, part: str) -> str:
    return posixpath.relpath(part, posixpath.dirname(source_part) or ".")
