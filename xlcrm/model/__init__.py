"""The core types every layer speaks: the book read from a workbook and the findings about it.

`model` sits below `ops` (pure pandas) and `workbook` (bytes and Excel): operations take a
`CrmBook` and return `Problem`s and data without knowing where the book came from.

Names load on first use (PEP 562), so `errors` → `model.messages` does not pull in pandas and
pydantic for the writer's child processes and the CLI's quick paths.
"""

from __future__ import annotations

import importlib

_HOMES = {
    "ROW": "book", "CrmBook": "book", "SheetInfo": "book",
    "Location": "messages", "Msg": "messages", "Problem": "messages", "Severity": "messages",
    "Ownership": "ownership", "SheetRef": "ownership",
    "is_blank": "values",
}


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)


__all__ = sorted(_HOMES)
