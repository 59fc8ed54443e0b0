"""Store rows as the DataFrames every operation expects (CrmBook conventions: one column per schema
key, typed by kind, `_row`), so the existing Summary runs over the whole team's store."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection

from .. import schema
from . import tables
from .repository import fields_of


def store_frame(conn: Connection, entity: str, owner: str | None = None) -> pd.DataFrame:
    table = tables.RECORDS[entity]
    keys = fields_of(entity)
    query = select(*[table.c[k] for k in keys]).where(table.c.deleted.is_(False))
    if owner is not None:
        query = query.where(table.c.owner == owner)
    raw = pd.DataFrame(conn.execute(query).all(), columns=keys)
    spec = tables.RECORD_SHEETS[entity]
    out = {}
    for col in spec.columns:
        values = raw[col.key] if col.key in raw.columns else pd.Series([None] * len(raw), dtype=object)
        if col.kind == schema.Kind.DATE:
            out[col.key] = pd.to_datetime(values, errors="coerce", format="ISO8601").astype("datetime64[ns]")
        elif col.kind in (schema.Kind.MONEY, schema.Kind.NUMBER):
            out[col.key] = pd.to_numeric(values, errors="coerce").astype("float64")
        else:
            out[col.key] = values.astype(object).where(values.notna(), None)
    frame = pd.DataFrame(out, index=raw.index)
    frame["_row"] = pd.Series(range(2, len(frame) + 2), index=frame.index, dtype="int64")
    return frame


def store_frames(conn: Connection, owner: str | None = None) -> dict[str, pd.DataFrame]:
    return {entity: store_frame(conn, entity, owner) for entity in tables.RECORDS}
