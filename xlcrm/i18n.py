"""Output languages: zh-CN (default), zh-TW and en, and the one place Traditional text is made.

xlcrm's strings are written twice, zh-CN and en. zh-TW output is the zh-CN text converted with
OpenCC's `s2twp` profile (Simplified → Taiwan standard *with Taiwan phrases*: 设置 → 設定,
信息 → 資訊, 默认 → 預設), because a Taiwanese user reads the phrases, not just the glyphs; plain
`s2t` would leave mainland wording in Traditional characters. It is applied only to xlcrm's own
text (message templates, headers, sheet names, titles) — never to what the user typed, so a value
quoted in a message still matches the cell. The schema's explicit Traditional names win over the
conversion wherever they exist.
"""

from __future__ import annotations

from functools import cache, lru_cache

OUTPUT_LANGS = ("zh-CN", "zh-TW", "en")
LANG_CHOICES_TEXT = "zh-CN | zh-TW | en"

_ALIASES = {
    "zh": "zh-CN", "zhcn": "zh-CN", "zhhans": "zh-CN", "cn": "zh-CN", "chinese": "zh-CN", "简体": "zh-CN",
    "简体中文": "zh-CN", "中文": "zh-CN", "zhsg": "zh-CN",
    "zhtw": "zh-TW", "zhhant": "zh-TW", "zhhk": "zh-TW", "zhmo": "zh-TW", "tw": "zh-TW", "繁體": "zh-TW",
    "繁体": "zh-TW", "繁體中文": "zh-TW", "繁体中文": "zh-TW", "traditional": "zh-TW",
    "en": "en", "english": "en", "英文": "en",
}


def normalize_lang(value: object) -> str | None:
    """"zh_tw", "ZH-Hant", "繁體", "en-US" … → "zh-TW" / "zh-CN" / "en"; None when not a language."""
    text = str(value or "").strip().lower().replace("_", "").replace("-", "").replace(" ", "")
    if not text:
        return None
    if text in _ALIASES:
        return _ALIASES[text]
    if text.startswith("en"):
        return "en"
    if text.startswith(("zhhant", "zhtw", "zhhk", "zhmo")):
        return "zh-TW"
    if text.startswith("zh"):
        return "zh-CN"
    return None


def choose_lang(value: object, default: str = "zh-CN") -> str:
    """The output language a setting, option or argument asks for; `default` when it names none."""
    return normalize_lang(value) or default


@cache
def _converter(profile: str = "s2twp"):
    """An OpenCC converter, or None where OpenCC is unavailable (e.g. Pyodide): zh-TW then shows zh-CN text."""
    try:
        import opencc

        return opencc.OpenCC(profile)
    except Exception:  # pragma: no cover - optional at runtime
        return None


def simplified(text: str) -> str:
    """Traditional → Simplified (OpenCC t2s); the text unchanged where OpenCC is unavailable."""
    conv = _converter("t2s")
    return conv.convert(text) if conv else text


@lru_cache(maxsize=8192)
def traditional(text: str) -> str:
    """xlcrm's own Simplified text in Taiwan Traditional (s2twp)."""
    conv = _converter()
    return conv.convert(text) if conv and text else text


def _glyphs_traditional(text: str) -> str:
    conv = _converter("s2t")  # glyphs only: a phrase change (信息 → 資訊) says nothing about the script
    return conv.convert(text) if conv else text


def pick(lang: str | None, zh: str, en: str, tw: str = "") -> str:
    """The text for `lang`: en, an explicit Traditional text, or the zh-CN text converted."""
    if lang == "en":
        return en
    if lang == "zh-TW":
        return tw or traditional(zh)
    return zh


def has_simplified(text: str) -> bool:
    """True when `text` has characters that are written differently in Traditional (代码, not 代碼)."""
    return bool(text) and not text.isascii() and _glyphs_traditional(text) != text


def is_traditional(texts: list[str]) -> bool:
    """True when the Chinese in `texts` is written in Traditional characters.

    A text counts as Traditional when converting it to Simplified changes it, and as Simplified when
    converting it to Traditional does; most short headers (地址, 城市) are neither and do not vote.
    """
    trad = simp = 0
    for text in texts:
        if not text or text.isascii():
            continue
        if simplified(text) != text:
            trad += 1
        elif has_simplified(text):
            simp += 1
    return trad > simp


__all__ = ["LANG_CHOICES_TEXT", "OUTPUT_LANGS", "choose_lang", "has_simplified", "is_traditional", "normalize_lang", "pick", "simplified", "traditional"]
