"""The Python API: every command as a typed function on a workbook file, made from the registry.

    import xlcrm
    result = xlcrm.run("crm.xlsx", today="2026-11-23")
    print(result.text("zh-CN"), result.counts)
    xlcrm.export("crm.xlsx", grade="A,B", has="email", to="list.csv")
    xlcrm.export("crm.xlsx", grades="A")  # OptionError: 'export' has no option 'grades'. Did you mean 'grade'?

Each function's keyword-only parameters are the common ones (today, lang, and for commands that
write: dry_run, unlock_protected) plus the fields of the command's options dataclass. The same
signatures are checked in as `xlcrm/api.pyi` for editors and type checkers; regenerate it with
`python -m xlcrm.api --write` (tests/test_surface.py fails when it is stale).
"""

from __future__ import annotations

import datetime as dt
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .api_team import TEAM_FUNCTIONS
from .commands import REGISTRY
from .commands import run as run_tag
from .commands.base import CommandResult, CommandSpec, Context
from .commands.options import OptionError, describe, unknown_option
from .procs import os_user
from .workbook.file_adapter import FileWorkbook


def parse_today(value: dt.date | str | None) -> dt.date:
    if value is None or value == "":
        return dt.date.today()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise OptionError("日期格式应为 YYYY-MM-DD，收到“{value}”。", "Expected a date as YYYY-MM-DD, got '{value}'.",
                          value=value) from None


def run_command(tag: str, path: str | Path, /, *, today: dt.date | str | None = None, lang: str | None = None,
                dry_run: bool = False, unlock_protected: bool = False,
                progress: Callable[[str, float | None], None] | None = None, via: str = "api",
                **options: Any) -> CommandResult:
    """Run the command `tag` (check, regrade, due, run, …) on the workbook at `path`.

    `options` are the command's own (see its function, e.g. `xlcrm.export`); an unknown one is an
    `OptionError`. `unlock_protected=True` writes into protected sheets / a structure-locked book
    (keeping the protection); without it such a workbook is refused. `progress(stage, fraction)` is a
    front end's progress display (the CLI's bar); `via` (cli / button / api) is what the
    team store's change log records."""
    ctx = Context(today=parse_today(today), lang=lang, dry_run=dry_run, user=os_user(), options=options,
                  progress=progress, via=via)
    with FileWorkbook(path, progress=progress, unlock_protected=unlock_protected) as port:
        result = run_tag(tag, port, ctx)
    result.book_lang = port.lang
    return result


# --------------------------------------------------------------------------- one function per command

# (name, annotation, default) of the parameters every command takes; the last two only where it writes
_COMMON = (("today", "dt.date | str | None", None), ("lang", "str | None", None))
_WRITING = (("dry_run", "bool", False), ("unlock_protected", "bool", False))


def parameters(spec: CommandSpec) -> list[tuple[str, str, Any]]:
    """The keyword-only parameters of the API function of `spec`: (name, annotation, default)."""
    common = [*_COMMON, *(_WRITING if spec.writes else ())]
    return [*common, *((o.name, o.annotation, o.default) for o in describe(spec.options))]


def docstring(spec: CommandSpec) -> str:
    lines = [f"{spec.zh} {spec.en} — {spec.help_en}.", "", f"{spec.help_zh}。"]
    opts = describe(spec.options)
    if opts:
        lines += ["", "Options:"] + [f"    {o.name}: {o.en} / {o.zh}" for o in opts]
    return "\n".join(lines)


def _api_function(spec: CommandSpec) -> Callable[..., CommandResult]:
    params = parameters(spec)
    names = [name for name, _, _ in params]

    def call(path: str | Path, **kwargs: Any) -> CommandResult:
        for key in kwargs:
            if key not in names:  # the same bilingual error (with "did you mean") as the CLI and the ribbon
                raise unknown_option(spec.tag, key, names)
        return run_command(spec.tag, path, **kwargs)

    call.__name__ = call.__qualname__ = spec.api_name
    call.__module__ = __name__
    call.__doc__ = docstring(spec)
    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("path", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="str | Path")]
        + [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
           for name, annotation, default in params],
        return_annotation="CommandResult")
    return call


FUNCTIONS: dict[str, Callable[..., CommandResult]] = {spec.api_name: _api_function(spec) for spec in REGISTRY.values()}
globals().update(FUNCTIONS)
globals().update(TEAM_FUNCTIONS)  # the store's own functions (no workbook to read): book, reassign, pool, team_summary
__all__ = ["run_command", *FUNCTIONS, *TEAM_FUNCTIONS]


# --------------------------------------------------------------------------- the checked-in stubs

_HEADER = "# Generated by `python -m xlcrm.api --write` from the command registry: do not edit by hand.\n"


def api_stub() -> str:
    """The text of xlcrm/api.pyi."""
    out = [_HEADER, "from __future__ import annotations", "", "import datetime as dt",
           "from collections.abc import Callable", "from pathlib import Path", "from typing import Any", "",
           "from .commands.base import CommandResult", "", f"__all__ = {__all__!r}".replace("'", '"'), "", "",
           "def run_command(", "    tag: str,", "    path: str | Path,", "    /,", "    *,",
           *(f"    {n}: {a} = {d!r}," for n, a, d in (*_COMMON, *_WRITING)),
           "    progress: Callable[[str, float | None], None] | None = None,", '    via: str = "api",',
           "    **options: Any,",
           ") -> CommandResult: ..."]
    for spec in REGISTRY.values():
        out += ["", "", f"def {spec.api_name}(", "    path: str | Path,", "    *,",
                *(f"    {n}: {a} = {d!r}," for n, a, d in parameters(spec)), ") -> CommandResult:",
                '    """' + docstring(spec).replace("\n", "\n    ").replace("    \n", "\n") + '"""', "    ..."]
    for name, func in TEAM_FUNCTIONS.items():
        out += ["", "", f"def {name}(", *(f"    {p}," for p in _stub_params(func)),
                f") -> {inspect.signature(func).return_annotation}:", f'    """{func.__doc__}"""', "    ..."]
    return "\n".join(out) + "\n"


def _stub_params(func: Callable[..., Any]) -> list[str]:
    """A hand-written function's parameters as stub lines (annotations unquoted, keyword-only marked)."""
    out, star = [], False
    for p in inspect.signature(func).parameters.values():
        if p.kind is inspect.Parameter.KEYWORD_ONLY and not star:
            out.append("*")
            star = True
        default = "" if p.default is inspect.Parameter.empty else f" = {p.default!r}"
        out.append(f"{p.name}: {p.annotation}{default}")
    return out


def init_stub() -> str:
    """The text of xlcrm/__init__.pyi: what `import xlcrm` offers."""
    imports = "".join(f"from .api import {n} as {n}\n" for n in sorted(__all__))
    names = f"{[*__all__, '__version__']!r}".replace("'", '"')
    return f"{_HEADER}\n{imports}\n__version__: str\n__all__ = {names}\n"


def write_stubs(folder: Path = Path(__file__).parent) -> list[Path]:
    written = []
    for name, text in (("api.pyi", api_stub()), ("__init__.pyi", init_stub())):
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    return written


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        for p in write_stubs():
            print(p)
    else:
        sys.stdout.write(api_stub())
