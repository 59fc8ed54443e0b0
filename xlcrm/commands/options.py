"""Each command's own options, declared once as a frozen dataclass.

The Python API (keyword arguments), the CLI (--flags) and the ribbon (option strings) all build the
same `Options` object through `make_options`, so a misspelt option is the same bilingual error
everywhere instead of being silently ignored (`grades="A"` used to export every customer).

    @dataclass(frozen=True)
    class DueOptions(Options):
        grade: str | None = option(None, "只列这些等级，如 A,B", "Only these grades, e.g. A,B", metavar="A,B")
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import XlcrmError


@dataclass(frozen=True)
class Options:
    """A command with no options beyond the common ones (today, lang, dry_run, unlock_protected)."""


OptionsT = TypeVar("OptionsT", bound=Options)

_TRUE = {"1", "true", "yes", "y", "on", "是", "真"}
_FALSE = {"0", "false", "no", "n", "off", "否", "假", ""}


def option(default: Any = None, zh: str = "", en: str = "", *, metavar: str | None = None,
           choices: tuple[str, ...] = ()) -> Any:
    """A dataclass field carrying its bilingual help (CLI --help, README table, ribbon errors)."""
    return dataclasses.field(default=default, metadata={"zh": zh, "en": en, "metavar": metavar,
                                                        "choices": tuple(choices)})


@dataclass(frozen=True)
class OptionInfo:
    """One option as every front end sees it."""

    name: str
    kind: type  # bool, int or str
    annotation: str  # as written on the dataclass, e.g. "str | None" (used for the API stub)
    default: Any
    zh: str
    en: str
    metavar: str | None
    choices: tuple[str, ...]

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def help(self) -> str:
        return f"{self.zh} / {self.en}"


def describe(cls: type[Options]) -> list[OptionInfo]:
    """The options of `cls` in declaration order."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        out.append(OptionInfo(f.name, _base_type(hints[f.name]), str(f.type), f.default, f.metadata.get("zh", ""),
                              f.metadata.get("en", ""), f.metadata.get("metavar"), f.metadata.get("choices", ())))
    return out


def _base_type(hint: Any) -> type:
    """`int | None` → int; `bool` → bool."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0]
    return hint


class OptionError(XlcrmError):
    """An option the command does not have, or a value it cannot take."""


def make_options(cls: type[OptionsT], values: Mapping[str, Any] | Options | None, *, command: str = "") -> OptionsT:
    """Build `cls` from keyword arguments, CLI values or ribbon strings; unknown names and bad values
    are a bilingual `OptionError` (with a "did you mean" for a near miss)."""
    if isinstance(values, cls):
        return values
    if isinstance(values, Options):  # another command's options: rebuild, so the names are checked
        values = dataclasses.asdict(values)
    known = {info.name: info for info in describe(cls)}
    converted: dict[str, Any] = {}
    for raw_name, value in dict(values or {}).items():
        name = str(raw_name).replace("-", "_")
        if name not in known:
            raise unknown_option(command, str(raw_name), list(known))
        converted[name] = _convert(known[name], value, command)
    return cls(**converted)


def unknown_option(command: str, name: str, known: list[str]) -> OptionError:
    near = difflib.get_close_matches(name.replace("-", "_"), known, n=1, cutoff=0.6)
    hint_zh = f"您是不是想用“{near[0]}”？" if near else ""
    hint_en = f"Did you mean '{near[0]}'? " if near else ""
    return OptionError("“{command}”没有选项“{name}”。{hint_zh}可用选项：{known_zh}",
                       "'{command}' has no option '{name}'. {hint_en}Options: {known_en}",
                       command=command, name=name, hint_zh=hint_zh, hint_en=hint_en,
                       known_zh="、".join(known) or "（无）", known_en=", ".join(known) or "(none)")


def _convert(info: OptionInfo, value: Any, command: str) -> Any:
    """A value from Python, the CLI or a ribbon string, as the option's type."""
    if value is None:
        return info.default
    if info.kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().casefold()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise _bad_value(info, value, command, "是/否（true/false）", "true or false")
    if info.kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise _bad_value(info, value, command, "整数", "a whole number") from None
    if isinstance(value, (list, tuple, set, frozenset)):  # grade=["A", "B"] is the same as "A,B"
        value = ",".join(str(v) for v in value)
    text = str(value)
    if info.choices and text not in info.choices:
        raise _bad_value(info, value, command, "、".join(info.choices), ", ".join(info.choices))
    return text


def _bad_value(info: OptionInfo, value: Any, command: str, want_zh: str, want_en: str) -> OptionError:
    return OptionError("“{command}”的选项“{name}”应为{want_zh}，收到“{value}”。",
                       "Option '{name}' of '{command}' must be {want_en}, got '{value}'.",
                       command=command, name=info.name, want_zh=want_zh, want_en=want_en, value=value)
