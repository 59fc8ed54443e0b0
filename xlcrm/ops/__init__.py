"""Pure operations on DataFrames: no I/O, no xlwings, no openpyxl; today's date is a parameter."""
