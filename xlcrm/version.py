"""The package version (one place: the package, the CLI and `run`'s repeat check read it)."""

__version__ = "0.1.0"
