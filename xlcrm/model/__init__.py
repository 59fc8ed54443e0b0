"""The core types every layer speaks: the book read from a workbook and the findings about it.

`model` sits below `ops` (pure pandas) and `workbook` (bytes and Excel): operations take a
`CrmBook` and return `Problem`s and data without knowing where the book came from.
"""

from .book import ROW, CrmBook, SheetInfo
from .messages import Location, Msg, Problem, Severity
from .ownership import Ownership, SheetRef

__all__ = ["ROW", "CrmBook", "Location", "Msg", "Ownership", "Problem", "Severity", "SheetInfo", "SheetRef"]
