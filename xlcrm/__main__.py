"""`python -m xlcrm` (`py -m xlcrm` on Windows): the CLI where the `xlcrm` script is not on PATH."""

from .cli_entry import script

if __name__ == "__main__":
    script()
