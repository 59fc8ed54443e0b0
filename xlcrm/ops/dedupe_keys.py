"""Exact keys: phones (E.164), e-mails, unified social credit codes, ID numbers, postcodes."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .dedupe_text import PUNCT, SPACES, WS, ascii_lower, fold, is_blank, to_series, unique_map

_CN_MOBILE = re.compile(r"^(?:0086|86)?(1[3-9]\d{9})$")


def normalize_phone(value: object, region: str = "CN") -> str:
    """E.164 form ("+8613800138000") of a phone number, "" when blank or not a number."""
    if is_blank(value):
        return ""
    s = unicodedata.normalize("NFKC", str(value)).strip()
    digits = re.sub(r"\D", "", s)
    m = _CN_MOBILE.match(digits)
    if m and (region == "CN" or s.startswith(("+86", "0086", "86"))):
        return "+86" + m.group(1)
    try:
        import phonenumbers

        num = phonenumbers.parse(s, region or "CN")
        if phonenumbers.is_possible_number(num):
            return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    except Exception:  # phonenumbers raises NumberParseException for junk
        pass
    return ""


def phones_series(series: pd.Series, region: str = "CN") -> pd.Series:
    """`normalize_phone` over a Series; Chinese mobiles (most of a CRM) are done in C (Arrow)."""
    fast = ascii_lower(series) if region == "CN" else None
    if fast is None:
        return unique_map(series, lambda v: normalize_phone(v, region))
    digits = pc.replace_substring_regex(fast, r"\D", "")
    mobile = pc.fill_null(pc.match_substring_regex(digits, r"^(?:0086|86)?1[3-9]\d{9}$"), False)
    digits = digits.cast(pa.large_string())
    e164 = pc.binary_join_element_wise(pa.scalar("+86", pa.large_string()), pc.utf8_slice_codeunits(digits, -11),
                                       pa.scalar("", pa.large_string()))
    out = to_series(pc.if_else(mobile, e164, ""), series.index)
    rest = (~mobile.to_numpy(zero_copy_only=False)) & (series.notna().to_numpy())
    if rest.any():
        out[rest] = unique_map(series[rest], lambda v: normalize_phone(v, region)).to_numpy()
    return out


def normalize_email(value: object) -> str:
    """Lower case, no spaces, full-width "＠" folded; "" unless it looks like name@domain."""
    if is_blank(value):
        return ""
    s = unicodedata.normalize("NFKC", str(value))
    s = SPACES.sub("", s).casefold().strip(".;,<>")
    if s.startswith("mailto:"):
        s = s[7:]
    if s.count("@") != 1 or "." not in s.split("@")[1]:
        return ""
    return s


def emails_series(series: pd.Series) -> pd.Series:
    fast = ascii_lower(series)
    if fast is None:
        return unique_map(series, normalize_email)
    s = pc.replace_substring_regex(pc.replace_substring_regex(fast, r"\s+", ""), r"^mailto:", "")
    s = pc.utf8_trim(s, ".;,<>")
    ok = pc.fill_null(pc.match_substring_regex(s, r"^[^@]+@[^@]*\.[^@]*$"), False)
    return to_series(pc.if_else(ok, s, ""), series.index)


# GB 32100-2015: 18 characters over this alphabet (no I, O, S, V, Z); the last is a check character.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_SHAPE = re.compile(rf"^[{CREDIT_ALPHABET}]{{18}}$")


def credit_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a unified social credit code."""
    total = sum(CREDIT_ALPHABET.index(ch) * w for ch, w in zip(first17[:17], _CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def credit_code_valid(code: object) -> bool:
    """True when `code` is an 18-character unified social credit code whose check character fits."""
    s = _credit_folded(code)
    return bool(_CREDIT_SHAPE.match(s)) and credit_check_char(s[:17]) == s[17]


def _credit_folded(code: object) -> str:
    if is_blank(code):
        return ""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", str(code))).upper()


def normalize_credit_code(code: object) -> str:
    """The code upper-cased without spaces if its checksum is right, else "" (never a key)."""
    s = _credit_folded(code)
    return s if _CREDIT_SHAPE.match(s) and credit_check_char(s[:17]) == s[17] else ""


def credit_codes_series(series: pd.Series) -> pd.Series:
    """`normalize_credit_code` over a Series: shape by regex and checksum by array arithmetic."""
    fast = ascii_lower(series)
    if fast is None:
        return unique_map(series, normalize_credit_code)
    s = pc.utf8_upper(pc.replace_substring_regex(fast, r"[\s\-]", ""))
    shaped = pc.fill_null(pc.match_substring_regex(s, rf"^[{CREDIT_ALPHABET}]{{18}}$"), False).to_numpy(zero_copy_only=False)
    out = np.full(len(series), "", dtype=object)
    idx = np.flatnonzero(shaped)
    if len(idx):
        codes = s.to_numpy(zero_copy_only=False)[idx].astype("S18")
        chars = np.frombuffer(codes.tobytes(), dtype=np.uint8).reshape(-1, 18)
        value = np.full(256, 0, dtype=np.int64)
        for k, ch in enumerate(CREDIT_ALPHABET):
            value[ord(ch)] = k
        total = value[chars[:, :17]] @ np.array(_CREDIT_WEIGHTS, dtype=np.int64)
        check = np.frombuffer(CREDIT_ALPHABET.encode(), dtype=np.uint8)[(31 - total % 31) % 31]
        good = idx[check == chars[:, 17]]
        out[good] = s.to_numpy(zero_copy_only=False)[good]
    return pd.Series(out, index=series.index, dtype=object)


# --------------------------------------------------------------------------- other keys


def normalize_id(value: object) -> str:
    """An identifier used as an exact key (e.g. an ID-card or social-security number): no spaces/punct."""
    return PUNCT.sub("", fold(value))


def ids_series(series: pd.Series) -> pd.Series:
    fast = ascii_lower(series)
    if fast is not None:
        return to_series(pc.replace_substring_regex(fast, r"[^a-z0-9]+", ""), series.index)
    return unique_map(series, normalize_id)


def normalize_postcode(value: object) -> str:
    if is_blank(value):
        return ""
    s = unicodedata.normalize("NFKC", str(value)).strip()
    if re.fullmatch(r"\d+\.0", s):  # a postcode read as a float
        s = s[:-2]
    return re.sub(r"\s+", "", s).upper()


def postcodes_series(series: pd.Series) -> pd.Series:
    """`normalize_postcode` over a Series; ASCII postcodes (nearly all) are done in C (Arrow)."""
    fast = ascii_lower(series)
    if fast is None:
        return unique_map(series, normalize_postcode)
    s = pc.replace_substring_regex(fast, rf"^{WS}*(\d+)\.0{WS}*$", r"\1")  # a postcode read as a float
    return to_series(pc.utf8_upper(pc.replace_substring_regex(s, rf"{WS}+", "")), series.index)
