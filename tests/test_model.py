"""The bottom `model` package and the one-of-each helpers (blank, language choice, OS user)."""

from __future__ import annotations

import getpass
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from xlcrm import procs
from xlcrm.i18n import choose_lang
from xlcrm.model import CrmBook, Problem, SheetInfo
from xlcrm.model.values import is_blank


@pytest.mark.parametrize("value", [None, float("nan"), np.nan, pd.NaT, pd.NA, "", "  ", "\u3000\t"])
def test_blank_values(value: object) -> None:
    assert is_blank(value)


@pytest.mark.parametrize("value", [0, 0.0, False, "0", " x ", "无", pd.Timestamp("2024-01-05"), [None]])
def test_values_that_are_not_blank(value: object) -> None:
    assert not is_blank(value)


def test_choose_lang() -> None:
    assert choose_lang("zh_tw") == "zh-TW" and choose_lang("English") == "en" and choose_lang("简体") == "zh-CN"
    assert choose_lang(None) == "zh-CN" and choose_lang("klingon", "en") == "en"


def test_os_user_falls_back_to_blank(monkeypatch) -> None:
    assert procs.os_user() == getpass.getuser()

    def no_login() -> str:
        raise OSError("no login name")

    monkeypatch.setattr(getpass, "getuser", no_login)
    assert procs.os_user() == ""


def test_the_core_types_load_without_pandas_or_pydantic_until_used() -> None:
    """errors → model.messages must stay light: the writer's child processes import it."""
    code = ("import sys, xlcrm.errors, xlcrm.model.messages; "
            "print('pandas' in sys.modules, 'pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_model_types_are_the_ones_every_layer_uses() -> None:
    from xlcrm.errors import Problem as ErrorsProblem
    from xlcrm.workbook.book import CrmBook as WorkbookCrmBook

    assert ErrorsProblem is Problem and WorkbookCrmBook is CrmBook
    book = CrmBook(pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    book.sheets["customers"] = SheetInfo("customers", "客户资料", 1, {}, {})
    assert book.sheet_name_for("customers") == "客户资料"
