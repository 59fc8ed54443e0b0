"""xlcrm — a customer-information system whose user interface is an Excel workbook.

Python API (each function is also a CLI subcommand, and most are ribbon buttons; see xlcrm/api.pyi):
    xlcrm.check(path), xlcrm.regrade(path), xlcrm.due(path, owner=..., grade=...), xlcrm.run(path),
    xlcrm.dedupe(path), xlcrm.merge(path), xlcrm.undo_merge(path), xlcrm.summary(path),
    xlcrm.receivables(path), xlcrm.export(path, grade=..., has=..., to=...), xlcrm.import_file(path, source=...),
    xlcrm.info(path), xlcrm.run_command(tag, path, today=..., dry_run=..., lang=..., **options)
"""

from .version import __version__

# Kept equal to xlcrm.api.__all__ (tests/test_surface.py checks), so `import xlcrm` need not load the registry.
_API = ("run_command", "check", "regrade", "due", "run", "card", "dedupe", "export", "import_file", "info",
        "merge", "undo_merge", "summary", "receivables", "sync", "handover", "book", "reassign", "pool",
        "team_summary")


def __getattr__(name: str):
    # Imported lazily so `import xlcrm` stays cheap (and works where pandas is still loading, e.g. Pyodide).
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(name)


__all__ = [*_API, "__version__"]
