"""Merge duplicate customers into a master, reversibly (pure: DataFrames in, a description out).

Rules: the master keeps its ID; its blank fields are filled from the merged records (first
non-blank in sheet order); values that differ are listed as conflicts and never overwritten;
follow-ups and purchases of merged customers are re-pointed to the master; the merged rows leave
Basic Info for the Archive with an old → new ID map. Everything needed to undo is described here.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..model.values import is_blank
from ..schema import CUSTOMERS, Kind

ROW = "_row"


@dataclass(frozen=True)
class MergeGroup:
    master: object  # index label in the customers frame
    merged: tuple  # index labels merged into the master


@dataclass
class Conflict:
    master_id: str
    other_id: str
    field: str  # column key (schema key or the user's own header)
    master_value: object
    other_value: object


@dataclass
class MergeOutcome:
    fills: dict[tuple[object, str], object] = field(default_factory=dict)  # (master label, column) → value
    conflicts: list[Conflict] = field(default_factory=list)
    id_map: dict[str, str] = field(default_factory=dict)  # merged customer ID → master ID
    archived: list[object] = field(default_factory=list)  # labels leaving Basic Info
    repoint: dict[str, dict[int, tuple[str, str]]] = field(default_factory=dict)  # sheet key → {row: (old, new)}


def mergeable_columns(customers: pd.DataFrame) -> list[str]:
    """Columns whose blanks a merge may fill: what users type, never IDs, row numbers or computed values."""
    computed = {c.key for c in CUSTOMERS.computed_columns}
    return [c for c in customers.columns if c not in (ROW, "customer_id") and c not in computed]


_FOLD = re.compile(r"[\s\-()（）+]+")


def same_value(a: object, b: object) -> bool:
    """Equal for a person: width, case, spaces and phone punctuation do not count."""
    if isinstance(a, (dt.date, pd.Timestamp)) or isinstance(b, (dt.date, pd.Timestamp)):
        try:
            return pd.Timestamp(a).normalize() == pd.Timestamp(b).normalize()
        except (TypeError, ValueError):
            return False
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return round(float(a), 2) == round(float(b), 2)

    def fold(v: object) -> str:
        s = _FOLD.sub("", unicodedata.normalize("NFKC", str(v))).casefold()
        return s[2:] if s.startswith("86") and len(s) == 13 else s

    return fold(a) == fold(b)


def plan_merge(customers: pd.DataFrame, groups: list[MergeGroup], children: dict[str, pd.DataFrame]) -> MergeOutcome:
    """What merging `groups` does to the customers and their child rows (follow-ups, purchases)."""
    out = MergeOutcome()
    columns = mergeable_columns(customers)
    ids = customers["customer_id"]
    for g in groups:
        master_id = str(ids.loc[g.master])
        current = {c: customers.at[g.master, c] for c in columns}
        for label in g.merged:
            other_id = str(ids.loc[label])
            out.id_map[other_id] = master_id
            out.archived.append(label)
            for c in columns:
                value = customers.at[label, c]
                if is_blank(value):
                    continue
                if is_blank(current[c]):
                    current[c] = value
                    out.fills[(g.master, c)] = value
                elif not same_value(current[c], value):
                    out.conflicts.append(Conflict(master_id, other_id, c, current[c], value))
    for key, frame in children.items():
        if frame is None or frame.empty or "customer_id" not in frame:
            continue
        cid = frame["customer_id"].astype(object).where(frame["customer_id"].notna(), "").astype(str).str.strip()
        hit = cid.isin(list(out.id_map))
        out.repoint[key] = {int(r): (old, out.id_map[old]) for r, old in zip(frame.loc[hit, ROW], cid[hit], strict=True)}
    return out


# --------------------------------------------------------------------------- typed cell values as text

def encode_value(value: object) -> tuple[str, str]:
    """(type tag, text) of a cell value, so an undo record written as text restores it exactly."""
    if is_blank(value):
        return "", ""
    if isinstance(value, bool | np.bool_):
        return "b", "1" if value else "0"
    if isinstance(value, pd.Timestamp | dt.datetime):
        return "d", pd.Timestamp(value).isoformat()
    if isinstance(value, dt.date):
        return "d", pd.Timestamp(value).isoformat()
    if isinstance(value, int | np.integer):
        return "i", str(int(value))
    if isinstance(value, float | np.floating):
        return "n", repr(float(value))
    return "s", str(value)


def decode_value(tag: object, text: object) -> object:
    tag = str(tag or "")
    text = "" if text is None else str(text)
    if tag == "":
        return None
    if tag == "b":
        return text == "1"
    if tag == "d":
        return pd.Timestamp(text).to_pydatetime()
    if tag == "i":
        return int(float(text))
    if tag == "n":
        return float(text)
    return text


def kind_of(column: str) -> Kind | None:
    try:
        return CUSTOMERS.column(column).kind
    except KeyError:
        return None


__all__ = ["Conflict", "MergeGroup", "MergeOutcome", "decode_value", "encode_value", "is_blank", "kind_of",
           "mergeable_columns", "plan_merge", "same_value"]
