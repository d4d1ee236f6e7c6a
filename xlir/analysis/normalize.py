"""Per-token character normalization: lowercasing and script-specific folding.

All functions take and return one token that is already NFKC-normalized. They run once per
distinct token (the analyzer caches results), so clarity beats speed here.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import cache
from typing import Callable

from xlir.analysis.unicode import decimal_digits

logger = logging.getLogger(__name__)

__all__ = ["pre_table", "pre_regex", "lowercaser", "normalizer"]

APOSTROPHES = "'\u2019\u2018\u02bc\u02b9\u0060\u00b4\u2032\uff07"
# invisible in-word characters (soft hyphen, joiners) kept inside tokens by the tokenizer,
# then dropped here; the zero-width space is not one of them: it separates words
INVISIBLE = "\u00ad\u200c\u200d\u2060\ufeff"


@cache
def pre_regex() -> re.Pattern[str]:
    """Regex finding any character :func:`pre_table` changes (translate is slow on non-ASCII
    text, a regex search is not)."""
    # \d is every decimal digit; listing the 700 digits instead makes a slow charset
    return re.compile(f"[\\d{APOSTROPHES[1:]}{INVISIBLE}\u0130]")


@cache
def pre_table() -> dict[int, object]:
    """Translation table applied before lowercasing: any decimal digit to ASCII (Lucene's
    DecimalDigitFilter), apostrophe look-alikes to ``'``, invisible joiners removed, and
    ``İ`` to ``i`` (``str.lower`` would leave a combining dot behind)."""
    table: dict[int, object] = dict(decimal_digits())
    table.update({ord(c): "'" for c in APOSTROPHES[1:]})
    table.update({ord(c): None for c in INVISIBLE})
    table[0x130] = "i"
    return table


def _turkish_lower(token: str) -> str:
    # dotted/dotless i are distinct letters in Turkish and Azeri (Lucene's TurkishLowerCaseFilter)
    return token.replace("I", "ı").replace("İ", "i").lower()


def lowercaser(kind: str) -> Callable[[str], str]:
    """Return the lowercasing function: ``turkish`` or ``casefold`` (full Unicode case folding,
    e.g. German ß -> ss, Greek final ς -> σ)."""
    return _turkish_lower if kind == "turkish" else str.casefold


def _strip_marks(token: str) -> str:
    decomposed = unicodedata.normalize("NFD", token)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


# Lucene's ArabicNormalizer: alef variants -> bare alef, alef maksura -> yeh, teh marbuta
# -> heh, and tatweel and harakat removed.
_ARABIC = str.maketrans(
    {
        "\u0622": "\u0627", "\u0623": "\u0627", "\u0625": "\u0627", "\u0671": "\u0627",
        "\u0649": "\u064a", "\u0629": "\u0647",
        **{chr(c): None for c in (0x0640, *range(0x064B, 0x0653), 0x0670)},
    }
)
# Lucene's PersianNormalizer: Arabic yeh/kaf -> Farsi yeh/keheh, heh variants -> heh.
_PERSIAN = str.maketrans(
    {
        "\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9",
        "\u06c0": "\u0647", "\u06c1": "\u0647", "\u0629": "\u0647",
        "\u0622": "\u0627", "\u0623": "\u0627", "\u0625": "\u0627",
        **{chr(c): None for c in (0x0640, *range(0x064B, 0x0653), 0x0670)},
    }
)
# Lucene's HindiNormalizer (subset): nukta dropped, chandrabindu -> anusvara.
_DEVANAGARI = str.maketrans({"\u093c": None, "\u0901": "\u0902"})
# Russian ё is mostly written е; stress accents appear in dictionaries and teaching texts.
_CYRILLIC = str.maketrans({"ё": "е", "\u0301": None})
# Hebrew points (niqqud) and cantillation marks
_HEBREW = str.maketrans(
    {chr(c): None for c in range(0x0591, 0x05C8) if unicodedata.combining(chr(c))}
)


def _table(table: dict[int, object]) -> Callable[[str], str]:
    return lambda token: token.translate(table)


def _devanagari(token: str) -> str:
    # NFD first: NFKC keeps nukta letters such as U+0929 composed
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", token).translate(_DEVANAGARI))


_NORMALIZERS: dict[str, Callable[[str], str]] = {
    "arabic": _table(_ARABIC),
    "persian": _table(_PERSIAN),
    "devanagari": _devanagari,
    # Lucene's GreekLowerCaseFilter: tonos and dialytika removed (casefold already did ς -> σ)
    "greek": _strip_marks,
    "cyrillic": _table(_CYRILLIC),
    "hebrew": _table(_HEBREW),
}


def normalizer(name: str | None) -> Callable[[str], str] | None:
    """Return the script normalizer called ``name`` (None for none)."""
    if name is None:
        return None
    try:
        return _NORMALIZERS[name]
    except KeyError:
        known = ", ".join(sorted(_NORMALIZERS))
        raise ValueError(f"unknown normalizer {name!r}; known: {known}") from None
