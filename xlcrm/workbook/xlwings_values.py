"""Values between Python and a live Excel sheet: cell text as the file reader gives it, colours, and
a sheet's used range and Excel Tables read in one call each (values to write: `model.values.plain_value`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import math

import numpy as np


def cell_text(value: object) -> str | None:
    """A cell value as the file reader sees it (calamine's text form), or None when blank."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else format(float(value), ".15g")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d 00:00:00")
    text = str(value)
    return text if text.strip() else None


def argb_to_rgb(argb: str) -> tuple[int, int, int]:
    h = argb[-6:]
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def rgb_to_hex(rgb) -> str:
    if not rgb:
        return ""
    r, g, b = rgb
    return f"FF{r:02X}{g:02X}{b:02X}"


# --------------------------------------------------------------------------- the adapter


def used_values(sheet) -> list[list[object]]:
    """The used range as rows, padded so row i is Excel row i + 1 and column j is column j + 1."""
    used = sheet.used_range
    values = used.options(ndim=2).value
    if not values or values == [[None]]:
        return []
    pad_left = [None] * (used.column - 1)
    rows = [[] for _ in range(used.row - 1)]
    rows += [pad_left + list(r) for r in values]
    return rows


def sheet_tables(sheet) -> list[tuple[str, str]]:
    out = []
    with contextlib.suppress(Exception):
        for t in sheet.tables:
            out.append((t.name, t.range.address.replace("$", "")))
    return out
