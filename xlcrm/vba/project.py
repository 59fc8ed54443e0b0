"""Build a vbaProject.bin from VBA source text (MS-OVBA 2.3 on top of MS-CFB).

The project carries source code only: `_VBA_PROJECT` says version 0xFFFF with no performance
cache, so Office compiles the modules from their text when it opens the file. Streams:

    PROJECT            text: ID, Document=/Module= lines, Name, CMG/DPB/GC (2.3.1)
    PROJECTwm          module name map, MBCS and UTF-16 (2.3.3)
    VBA/_VBA_PROJECT   CC 61 FF FF 00 00 00 (2.3.4.1)
    VBA/dir            compressed: project information, references, module records (2.3.4.2)
    VBA/<module>       compressed source, MODULEOFFSET 0 (2.3.4.3)

Document modules (ThisWorkbook, Sheet1, …) are the workbook's and sheets' code-behind; an .xlsm
whose workbook.xml names `codeName="ThisWorkbook"` needs them. Nothing here knows about Excel
beyond those names, and nothing touches an existing project: we only ever build new ones.
"""

from __future__ import annotations

import hashlib
import re
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .cfb import write_compound_file
from .compression import compress, decompress

CODEPAGE = 1252
ENCODING = "cp1252"
LCID = 0x0409

# Attributes Excel gives a workbook/worksheet code-behind module (VB_Base names the host class).
_DOCUMENT_ATTRIBUTES = (
    'Attribute VB_Base = "{base}"',
    "Attribute VB_GlobalNameSpace = False",
    "Attribute VB_Creatable = False",
    "Attribute VB_PredeclaredId = True",
    "Attribute VB_Exposed = True",
    "Attribute VB_TemplateDerived = False",
    "Attribute VB_Customizable = True",
)
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"

_NAME_LINE = re.compile(r'^Attribute VB_Name = "([^"]+)"\s*$', re.MULTILINE)
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")


@dataclass(frozen=True)
class Reference:
    """A registered type library the project references (REFERENCEREGISTERED)."""

    name: str
    libid: str


STDOLE = Reference("stdole", r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb"
                             "#OLE Automation")
# The Office library (IRibbonControl and friends), referenced as Excel, EPPlus and LibreOffice do.
# Version 2.0 resolves to any installed 2.x (LoadRegTypeLib takes the newest minor version of the
# same major); the path is only a hint. The dispatcher types its ribbon callback As Object, so
# the project compiles even where this reference is MISSING.
OFFICE = Reference("Office", r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\Program Files\Common Files"
                             r"\Microsoft Shared\OFFICE16\MSO.DLL#Microsoft Office 16.0 Object Library")


@dataclass(frozen=True)
class VbaModule:
    """One module: its name and its code as in a .bas file (an `Attribute VB_Name` line optional)."""

    name: str
    code: str
    kind: Literal["standard", "document"] = "standard"
    base: str = WORKSHEET_BASE  # document modules only: the host class (workbook or worksheet)

    def __post_init__(self) -> None:
        if not _IDENTIFIER.match(self.name):
            raise ValueError(f"not a valid VBA module name: {self.name!r}")

    @classmethod
    def from_bas(cls, text: str, name: str | None = None) -> VbaModule:
        """A standard module from .bas text; its name from `Attribute VB_Name` unless given."""
        found = _NAME_LINE.search(text)
        if name is None:
            if not found:
                raise ValueError("a .bas file must start with Attribute VB_Name = \"...\"")
            name = found.group(1)
        return cls(name, text)

    @classmethod
    def document(cls, name: str, code: str = "", workbook: bool = False) -> VbaModule:
        return cls(name, code, "document", WORKBOOK_BASE if workbook else WORKSHEET_BASE)

    def source(self) -> str:
        """The module stream's text: attribute header, then the code, CRLF line ends."""
        body = _NAME_LINE.sub("", self.code, count=1) if _NAME_LINE.search(self.code) else self.code
        body = body.replace("\r\n", "\n").replace("\r", "\n").lstrip("\n")
        lines = [f'Attribute VB_Name = "{self.name}"']
        if self.kind == "document":
            lines += [a.format(base=self.base) for a in _DOCUMENT_ATTRIBUTES]
        text = "\n".join(lines) + "\n" + body
        if not text.endswith("\n"):
            text += "\n"
        return text.replace("\n", "\r\n")

    def source_bytes(self) -> bytes:
        try:
            return self.source().encode(ENCODING)
        except UnicodeEncodeError as exc:
            raise ValueError(f"module {self.name}: VBA source must be {ENCODING} text ({exc})") from None


# --------------------------------------------------------------------------- PROJECT protection


def encrypt_data(data: bytes, project_id: str, seed: int) -> str:
    """MS-OVBA 2.4.3.2 data encryption, as the hex text the PROJECT stream stores."""
    version = 2
    proj_key = sum(project_id.encode(ENCODING)) & 0xFF
    out = bytearray([seed, seed ^ version, seed ^ proj_key])
    unencrypted_1, encrypted_1, encrypted_2 = proj_key, seed ^ proj_key, seed ^ version

    def put(byte: int) -> None:
        nonlocal unencrypted_1, encrypted_1, encrypted_2
        enc = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(enc)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, enc, byte

    for _ in range((seed & 6) // 2):  # ignored bytes: any value
        put(0)
    for byte in struct.pack("<I", len(data)) + data:
        put(byte)
    return out.hex().upper()


def decrypt_data(text: str, project_id: str | None = None) -> bytes:
    """Inverse of `encrypt_data` (MS-OVBA 2.4.3.3); checks the version and, if given, the key."""
    raw = bytes.fromhex(text)
    seed, version_enc, proj_key_enc = raw[0], raw[1], raw[2]
    if seed ^ version_enc != 2:
        raise ValueError("encrypted data has the wrong version")
    proj_key = seed ^ proj_key_enc
    if project_id is not None and proj_key != sum(project_id.encode(ENCODING)) & 0xFF:
        raise ValueError("encrypted data was made for another project ID")
    unencrypted_1, encrypted_1, encrypted_2 = proj_key, proj_key_enc, version_enc
    plain = bytearray()
    for enc in raw[3:]:
        byte = enc ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        plain.append(byte)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, enc, byte
    ignored = (seed & 6) // 2
    (length,) = struct.unpack_from("<I", plain, ignored)
    data = bytes(plain[ignored + 4:])
    if len(data) != length:
        raise ValueError("encrypted data length does not match")
    return data


# --------------------------------------------------------------------------- streams


def _record(rec_id: int, data: bytes) -> bytes:
    return struct.pack("<HI", rec_id, len(data)) + data


def _text_record(rec_id: int, text: str, unicode_id: int) -> bytes:
    return _record(rec_id, text.encode(ENCODING)) + _record(unicode_id, text.encode("utf-16-le"))


def dir_stream(modules: list[VbaModule], project_name: str, references: list[Reference]) -> bytes:
    """The decompressed `dir` stream (MS-OVBA 2.3.4.2)."""
    out = bytearray()
    out += _record(0x0001, struct.pack("<I", 1))  # PROJECTSYSKIND: 32-bit Windows (Office recompiles anyway)
    out += _record(0x0002, struct.pack("<I", LCID))  # PROJECTLCID
    out += _record(0x0014, struct.pack("<I", LCID))  # PROJECTLCIDINVOKE
    out += _record(0x0003, struct.pack("<H", CODEPAGE))  # PROJECTCODEPAGE
    out += _record(0x0004, project_name.encode(ENCODING))  # PROJECTNAME
    out += _text_record(0x0005, "", 0x0040)  # PROJECTDOCSTRING
    out += _text_record(0x0006, "", 0x003D)  # PROJECTHELPFILEPATH
    out += _record(0x0007, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
    out += _record(0x0008, struct.pack("<I", 0))  # PROJECTLIBFLAGS
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)  # PROJECTVERSION: Reserved=4, major, minor
    out += _text_record(0x000C, "", 0x003C)  # PROJECTCONSTANTS
    for ref in references:
        out += _text_record(0x0016, ref.name, 0x003E)  # REFERENCENAME
        libid = ref.libid.encode(ENCODING)
        body = struct.pack("<I", len(libid)) + libid + struct.pack("<IH", 0, 0)
        out += _record(0x000D, body)  # REFERENCEREGISTERED
    out += _record(0x000F, struct.pack("<H", len(modules)))  # PROJECTMODULES
    out += _record(0x0013, struct.pack("<H", 0xFFFF))  # PROJECTCOOKIE
    for m in modules:
        out += _record(0x0019, m.name.encode(ENCODING))  # MODULENAME
        out += _record(0x0047, m.name.encode("utf-16-le"))  # MODULENAMEUNICODE
        out += _text_record(0x001A, m.name, 0x0032)  # MODULESTREAMNAME
        out += _text_record(0x001C, "", 0x0048)  # MODULEDOCSTRING
        out += _record(0x0031, struct.pack("<I", 0))  # MODULEOFFSET: source starts the stream
        out += _record(0x001E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
        out += _record(0x002C, struct.pack("<H", 0xFFFF))  # MODULECOOKIE
        out += _record(0x0021 if m.kind == "standard" else 0x0022, b"")  # MODULETYPE
        out += _record(0x002B, b"")  # module terminator
    out += _record(0x0010, b"")  # dir terminator
    return bytes(out)


def project_stream(modules: list[VbaModule], project_name: str, project_id: str) -> bytes:
    """The PROJECT text stream (MS-OVBA 2.3.1): unprotected, no password, visible."""
    cmg = encrypt_data(struct.pack("<I", 0), project_id, 0x31)  # protection state: none
    dpb = encrypt_data(bytes([0x00]), project_id, 0x53)  # password: none
    gc = encrypt_data(bytes([0xFF]), project_id, 0x75)  # visibility: visible
    lines = [f'ID="{project_id}"']
    for m in modules:
        lines.append(f"Document={m.name}/&H00000000" if m.kind == "document" else f"Module={m.name}")
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        f'CMG="{cmg}"',
        f'DPB="{dpb}"',
        f'GC="{gc}"',
        "",
        "[Host Extender Info]",
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
        "",
        "[Workspace]",
        *(f"{m.name}=0, 0, 0, 0, C" for m in modules),
        "",
    ]
    return "\r\n".join(lines).encode(ENCODING)


def projectwm_stream(modules: list[VbaModule]) -> bytes:
    """PROJECTwm: each module name as MBCS and as UTF-16, both NUL-terminated (MS-OVBA 2.3.3)."""
    out = bytearray()
    for m in modules:
        out += m.name.encode(ENCODING) + b"\x00" + m.name.encode("utf-16-le") + b"\x00\x00"
    return bytes(out + b"\x00\x00")


# Reserved1 0x61CC, Version 0xFFFF (no performance cache: compile from source), Reserved2 0x00,
# Reserved3 0x0000 — as EPPlus and LibreOffice's vbaexport.cxx write it (the field is ignored on read).
VBA_PROJECT_STREAM = bytes([0xCC, 0x61, 0xFF, 0xFF, 0x00, 0x00, 0x00])


def build_vba_project(modules: list[VbaModule], project_name: str = "VBAProject",
                      references: list[Reference] | None = None) -> bytes:
    """A vbaProject.bin holding `modules` as source. Same input, same bytes (the ID is derived)."""
    names = [m.name.casefold() for m in modules]
    if len(set(names)) != len(names):
        raise ValueError("module names must be unique (case-insensitively)")
    if not _IDENTIFIER.match(project_name):
        raise ValueError(f"not a valid VBA project name: {project_name!r}")
    refs = [STDOLE, OFFICE] if references is None else references
    sources = [m.source_bytes() for m in modules]
    key = "\n".join(f"{m.name}:{m.kind}" for m in modules).encode() + b"".join(sources)
    project_id = "{" + str(uuid.UUID(bytes=hashlib.sha256(key).digest()[:16], version=4)).upper() + "}"
    streams = {
        "PROJECT": project_stream(modules, project_name, project_id),
        "PROJECTwm": projectwm_stream(modules),
        "VBA/_VBA_PROJECT": VBA_PROJECT_STREAM,
        "VBA/dir": compress(dir_stream(modules, project_name, refs)),
    }
    for m, src in zip(modules, sources):
        packed = compress(src)
        # An incompressible final chunk is stored raw and zero-padded to 4096 bytes (MS-OVBA
        # 2.4.1.3.10): the module would gain NUL characters. Source text never gets there; refuse if it does.
        if decompress(packed) != src:
            raise ValueError(f"module {m.name}: source does not survive the compression round trip (raw padded chunk)")
        streams[f"VBA/{m.name}"] = packed
    return write_compound_file(streams)


def read_bas(path: Path) -> VbaModule:
    return VbaModule.from_bas(path.read_text(encoding=ENCODING))
