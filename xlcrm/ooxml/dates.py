"""Excel serial dates (the 1900 date system): the one implementation, for a value and for arrays.

Serial 1 is 1900-01-01 and the fraction is the time of day. Excel, copying Lotus 1-2-3, counts
a 29 February 1900 that never existed (serial 60), so from 1900-03-01 (serial 61) a serial is
the number of days since 1899-12-30, and before it the days since 1899-12-31. Reading, serial 60
(the fictitious day) comes back as 1900-02-28. Times are kept to the millisecond when reading.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

EPOCH = dt.datetime(1899, 12, 30)
FIRST_TRUE_SERIAL = 61  # 1900-03-01: the first serial not shifted by the fictitious 1900-02-29
_US_PER_DAY = 86_400_000_000
_MS_PER_DAY = 86_400_000
_EPOCH_US = np.datetime64(EPOCH, "us")
_EPOCH_MS = np.datetime64(EPOCH, "ms")


def to_serial(value: dt.date | dt.datetime) -> float:
    """A date or date-time (time zone dropped) as Excel's serial number."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        delta = value - EPOCH
        serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    else:
        serial = float((value - EPOCH.date()).days)
    if serial < FIRST_TRUE_SERIAL:
        serial -= 1
    return serial


def to_serials(stamps: np.ndarray) -> np.ndarray:
    """`to_serial` for an array of datetime64 (NaT → NaN), computed in the same float steps."""
    stamps = np.asarray(stamps).astype("datetime64[us]")
    us = (stamps - _EPOCH_US).astype(np.int64)
    days, rest = np.divmod(us, _US_PER_DAY)
    seconds, micro = np.divmod(rest, 1_000_000)
    serial = days + (seconds + micro / 1e6) / 86400
    serial = np.where(serial < FIRST_TRUE_SERIAL, serial - 1, serial)
    return np.where(np.isnat(stamps), np.nan, serial)


def from_serial(serial: float) -> dt.datetime:
    """An Excel serial number as a date-time (to the millisecond)."""
    if serial < FIRST_TRUE_SERIAL - 1:
        serial += 1
    return EPOCH + dt.timedelta(milliseconds=round(serial * _MS_PER_DAY))


def from_serials(serials: np.ndarray) -> np.ndarray:
    """`from_serial` for an array of floats: datetime64[ms] (all of Excel's years fit, unlike ns),
    NaT where a serial is not finite."""
    values = np.asarray(serials, dtype="float64")
    finite = np.isfinite(values)
    values = np.where(finite, values, 0.0)
    values = np.where(values < FIRST_TRUE_SERIAL - 1, values + 1, values)
    stamps = _EPOCH_MS + np.round(values * _MS_PER_DAY).astype("int64").astype("timedelta64[ms]")
    return np.where(finite, stamps, np.datetime64("NaT", "ms"))
