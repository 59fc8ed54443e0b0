"""One function per button. Each runs over a `WorkbookPort`, so the CLI (file), the Excel add-in
(live workbook) and the Python API share exactly the same code.

    from xlcrm.commands import run
    from xlcrm.commands.base import Context
    from xlcrm.workbook.file_adapter import FileWorkbook
    result = run("regrade", FileWorkbook("crm.xlsx"), Context(today=date(2026, 11, 23)))
"""

from __future__ import annotations

from ..errors import XlcrmError
from ..workbook.port import WorkbookPort

# Importing a command module registers its commands.
from . import (
    daily,  # noqa: E402,F401  check, regrade, due, run
    dedupe,  # noqa: E402,F401  dedupe
    importer,  # noqa: E402,F401  import (--undo)
    merge,  # noqa: E402,F401  merge (--undo), undo_merge
    reports,  # noqa: E402,F401  summary, receivables, export
    sync,  # noqa: E402,F401  sync (team store)
    team,  # noqa: E402,F401  reassign (the Handover button)
)
from .base import REGISTRY, CommandResult, CommandSpec, Context, command

__all__ = ["REGISTRY", "CommandResult", "CommandSpec", "Context", "command", "run"]


def run(tag: str, port: WorkbookPort, ctx: Context | None = None) -> CommandResult:
    """Run the command registered as `tag` over `port`."""
    spec = REGISTRY.get(tag)
    if spec is None:
        known = ", ".join(sorted(REGISTRY))
        raise XlcrmError("没有名为“{tag}”的功能。可用：{known}", "No command named '{tag}'. Known: {known}",
                         tag=tag, known=known)
    return spec.func(port, ctx or Context())
