"""xlcrm — a customer-information system whose user interface is an Excel workbook.

Python API (each function is also a CLI subcommand and a ribbon button):
    xlcrm.check(path), xlcrm.regrade(path), xlcrm.due(path), xlcrm.run(path),
    xlcrm.run_command(tag, path, today=..., owner=..., dry_run=..., lang=..., **options)
"""

__version__ = "0.1.0"

_API = ("check", "regrade", "due", "run", "run_command")
_API += ("sync", "book", "reassign", "pool", "team_summary")  # team mode (issue 12)


def __getattr__(name: str):
    # Imported lazily so `import xlcrm` stays cheap (and works where pandas is still loading, e.g. Pyodide).
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(name)


__all__ = [*_API, "__version__"]
