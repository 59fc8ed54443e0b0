"""Both adapters (the file writer and the live-Excel xlwings adapter) handle every edit type."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
import typing

import pytest

from xlcrm.workbook import edits
from xlcrm.workbook.writer.editor import Editor
from xlcrm.workbook.xlwings_adapter import XlwingsWorkbook

EDIT_TYPES = typing.get_args(edits.Edit)
ADAPTERS = [Editor, XlwingsWorkbook]


def _cases(adapter: type) -> list[ast.match_case]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(adapter._apply)))
    matches = [node for node in ast.walk(tree) if isinstance(node, ast.Match)]
    assert len(matches) == 1, f"{adapter.__name__}._apply dispatches with one match statement"
    return matches[0].cases


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.__name__)
def test_adapter_has_a_case_for_every_edit_type(adapter: type) -> None:
    cases = _cases(adapter)
    handled = [c.pattern.cls.id for c in cases if isinstance(c.pattern, ast.MatchClass)]
    assert sorted(handled) == sorted(t.__name__ for t in EDIT_TYPES)
    last = cases[-1]
    assert isinstance(last.pattern, ast.MatchAs) and last.pattern.pattern is None  # `case _:`
    call = last.body[0].value
    assert isinstance(call, ast.Call) and call.func.id == "assert_never"


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.__name__)
def test_an_unknown_edit_is_refused(adapter: type) -> None:
    bare = object.__new__(adapter)  # dispatch fails before any state of the adapter is used
    with pytest.raises(AssertionError):
        bare._apply(object())


def test_every_edit_names_its_sheet_the_same_way() -> None:
    for edit_type in EDIT_TYPES:
        names = [f.name for f in dataclasses.fields(edit_type)]
        assert names[0] == "sheet", f"{edit_type.__name__} names its sheet {names[0]!r}"
    replace = edits.SheetReplace("汇总", [])
    assert replace.sheet == replace.name == "汇总"  # the old spelling still reads
