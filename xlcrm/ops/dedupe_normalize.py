"""Per-field normalisers for duplicate matching (company, person, phone, e-mail, address, credit code).

Data arrives from several departments in different formats: full/half width, Traditional and
Simplified characters, brackets, legal suffixes, "+86 138 0013 8000" vs "13800138000". Each
normaliser folds those differences away so that records are compared on what they mean.

Everything works on whole Series. The common shapes (ASCII text; Chinese company names and
addresses made of CJK characters only) are done in C with Arrow string kernels (RE2), following
the same steps as the per-value Python functions, which the tests compare them with; the rest does
its Python-level work once per *distinct* value. Pure: no I/O.

One module per job — `dedupe_text` (folding), `dedupe_company`, `dedupe_person` (and pinyin),
`dedupe_address`, `dedupe_keys` (phones, e-mails, credit codes, IDs, postcodes) — with the word lists
they strip in `dedupe_words`. This module is the one import for all of them.
"""

from __future__ import annotations

from .dedupe_address import addresses_frame, normalize_place, places_series, split_address
from .dedupe_company import companies_frame, normalize_company, region_of, split_company
from .dedupe_keys import (
                          CREDIT_ALPHABET,
                          credit_check_char,
                          credit_code_valid,
                          credit_codes_series,
                          emails_series,
                          ids_series,
                          normalize_credit_code,
                          normalize_email,
                          normalize_id,
                          normalize_phone,
                          normalize_postcode,
                          phones_series,
                          postcodes_series,
)
from .dedupe_person import normalize_person, persons_series, pinyin_series, token_heads
from .dedupe_text import fold, fold_series
from .dedupe_words import CITIES, PROVINCES

__all__ = [
    "CITIES", "CREDIT_ALPHABET", "PROVINCES", "addresses_frame", "companies_frame", "credit_check_char",
    "credit_code_valid", "credit_codes_series", "emails_series", "fold", "fold_series", "ids_series",
    "normalize_company", "normalize_credit_code", "normalize_email", "normalize_id", "normalize_person",
    "normalize_phone", "normalize_place", "normalize_postcode", "persons_series", "phones_series", "pinyin_series",
    "places_series", "postcodes_series", "region_of", "split_address", "split_company", "token_heads",
]
