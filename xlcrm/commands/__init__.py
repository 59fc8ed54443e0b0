"""One function per button. Each runs over a `WorkbookPort`, so the CLI (file), the Excel add-in
(live workbook) and the Python API share exactly the same code.

    from xlcrm.commands import run
    from xlcrm.commands.base import Context
    from xlcrm.workbook.file_adapter import FileWorkbook
    result = run("regrade", FileWorkbook("crm.xlsx"), Context(today=date(2026, 11, 23)))
"""

from __future__ import annotations

import dataclasses

from ..errors import XlcrmError
from ..workbook.port import WorkbookPort

# Importing a command module registers its commands.
from . import (
    card,  # noqa: E402,F401  card (客户卡)
    daily,  # noqa: E402,F401  check, regrade, due, run
    dedupe,  # noqa: E402,F401  dedupe
    export,  # noqa: E402,F401  export
    importer,  # noqa: E402,F401  import (--undo)
    info,  # noqa: E402,F401  info (read-only)
    merge,  # noqa: E402,F401  merge (--undo), undo_merge
    reports,  # noqa: E402,F401  summary, receivables, export
    sync,  # noqa: E402,F401  sync (team store)
    team,  # noqa: E402,F401  reassign (the Handover button)
)
from .base import REGISTRY, CommandResult, CommandSpec, Context, command
from .options import Options, make_options, option

__all__ = ["REGISTRY", "CommandResult", "CommandSpec", "Context", "Options", "command", "option", "run"]


def run(tag: str, port: WorkbookPort, ctx: Context | None = None) -> CommandResult:
    """Run the command registered as `tag` over `port`."""
    spec = REGISTRY.get(tag)
    if spec is None:
        known = ", ".join(sorted(REGISTRY))
        raise XlcrmError("没有名为“{tag}”的功能。可用：{known}", "No command named '{tag}'. Known: {known}",
                         tag=tag, known=known)
    ctx = ctx or Context()
    opts = make_options(spec.options, ctx.options, command=tag)  # unknown / bad options: one error, every front end
    owner = getattr(opts, "owner", None) or ctx.owner  # --owner is an option of the commands that filter by owner
    if hasattr(opts, "owner"):
        opts = dataclasses.replace(opts, owner=owner)
    # a copy: the caller's Context may be reused for another command
    return spec.func(port, dataclasses.replace(ctx, options=opts, owner=owner))
