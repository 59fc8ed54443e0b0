"""Generate a VBA project (vbaProject.bin) from .bas source text, with the standard library only.

MS-OVBA compression and streams (`project`, `compression`) on top of an MS-CFB writer (`cfb`).
"""

from .cfb import write_compound_file
from .compression import compress, decompress
from .project import OFFICE, STDOLE, Reference, VbaModule, build_vba_project, decrypt_data, encrypt_data

__all__ = ["OFFICE", "STDOLE", "Reference", "VbaModule", "build_vba_project", "compress", "decompress",
           "decrypt_data", "encrypt_data", "write_compound_file"]
