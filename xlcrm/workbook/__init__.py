"""Everything that touches workbook bytes or Excel lives in this package."""
