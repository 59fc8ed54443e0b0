"""Located, loaded sheets → `CrmBook`: the one place a book is put together from grids."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from .. import schema
from ..errors import Problem
from ..i18n import choose_lang
from ..model.book import CrmBook, SheetInfo
from ..ops import normalize
from ..settings import Settings
from .datasheet import empty_raw, missing_sheet_problem, read_data_sheet, read_settings, table_for
from .grid import Grid
from .locate import DATA_KEYS, OPTIONAL_KEYS, guess_language
from .ownership import Ownership

Progress = Callable[[str, float], None]


def assemble_book(names: list[str], by_key: dict[str, str], grid_of: Callable[[str], Grid],
                  tables_of: Callable[[str], list], *, lang: str | None = None,
                  say: Progress = lambda _msg, _frac: None, ownership: Ownership | None = None,
                  report_missing: bool = True, keys: tuple[str, ...] | None = None,
                  typed: Callable[[str, str], tuple | None] = lambda _name, _key: None) -> CrmBook:
    """Type the located sheets into a CrmBook: one path for every grid source (a workbook file, the
    live-Excel adapter, a CSV). `report_missing`: an absent data sheet is a problem (a CSV holds
    one sheet by design, so it says False). `keys`: the data sheets read (default all); the others
    are left out of the book (empty frames, no SheetInfo, no problem reported). `typed(name, key)`:
    `read_data_sheet`'s result for that sheet as that key when it was already worked out (the
    reader types sheets while others still load), else None."""
    ownership = ownership or Ownership()
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    raws: dict[str, pd.DataFrame] = {}
    infos: dict[str, SheetInfo] = {}
    for i, key in enumerate(DATA_KEYS):
        if key not in by_key or (keys is not None and key not in keys):
            frames[key] = normalize.empty_frame(key)
            raws[key] = empty_raw(key)
            if report_missing and (keys is None or key in keys):
                problems.append(missing_sheet_problem(schema.SHEETS_BY_KEY[key]))
            continue
        name = by_key[key]
        say(f"读取“{name}” / Reading '{name}'", 0.05 + 0.85 * i / len(DATA_KEYS))
        frame, raw, info, found = typed(name, key) or read_data_sheet(grid_of(name), key, ownership.owned_headers(key))
        info.table = table_for(info, tables_of(name))
        frames[key], raws[key], infos[key] = frame, raw, info
        problems.extend(found)
    for key in OPTIONAL_KEYS:  # no sheet, no problem: an optional sheet's absence is not reported
        if key in by_key and (keys is None or key in keys):
            name = by_key[key]
            frame, raw, info, found = typed(name, key) or read_data_sheet(grid_of(name), key,
                                                                          ownership.owned_headers(key))
            info.table = table_for(info, tables_of(name))
            frames[key], raws[key], infos[key] = frame, raw, info
            problems.extend(found)
    settings, has_language = Settings(), False
    if "settings" in by_key:
        settings, found, has_language = read_settings(grid_of(by_key["settings"]))
        problems = found + problems
    if lang is not None:
        lang = choose_lang(lang, schema.DEFAULT_LANG)
    elif has_language:
        lang = settings.language
    elif infos:
        main = infos.get("customers") or next(iter(infos.values()))  # a CSV may hold follow-ups only
        lang = guess_language(main.name, list(main.headers.values()))
    else:  # no data sheet read (`keys` left them all out)
        lang = schema.DEFAULT_LANG
    return CrmBook(
        customers=frames["customers"],
        followups=frames["followups"],
        purchases=frames["purchases"],
        settings=settings,
        lang=lang,
        sheets=infos,
        sheet_names=names,
        tool_sheets={k: n for k, n in by_key.items() if k not in (*DATA_KEYS, *OPTIONAL_KEYS, "settings")},
        problems=problems,
        raw=raws,
        ownership=ownership,
        service=frames.get("service"),
    )
