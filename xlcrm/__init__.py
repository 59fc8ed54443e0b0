"""xlcrm — a customer-information system whose user interface is an Excel workbook."""

__version__ = "0.1.0"
