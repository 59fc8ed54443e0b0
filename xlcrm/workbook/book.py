"""Moved to `xlcrm.model.book`; this name stays for the command modules that import it from here."""

from ..model.book import ROW, CrmBook, SheetInfo

__all__ = ["ROW", "CrmBook", "SheetInfo"]
