"""Unicode character sets the tokenizer and normalizers need, computed once from
:mod:`unicodedata` so they follow the running Python's Unicode version."""

from __future__ import annotations

import sys
import unicodedata
from functools import cache

__all__ = ["CJK", "THAI", "marks_class", "decimal_digits"]

# Letters of scripts whose runs become bigrams: Hangul Jamo, CJK and Kangxi radicals,
# ideographic iteration marks, Hiragana, Katakana (with the prolonged sound mark),
# Bopomofo, Hangul compatibility Jamo, CJK Ext A, Unified Ideographs, Hangul syllables,
# compatibility ideographs, half-width Katakana, Ext B-H. Punctuation is not \w, so the
# tokenizer never passes it here.
CJK = (
    "\u1100-\u11ff\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3038-\u303c"
    "\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31a0-\u31bf\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0003134f"
)
THAI = "\u0e00-\u0e7f"


@cache
def _scan() -> tuple[str, dict[int, str]]:
    marks: list[int] = []
    digits: dict[int, str] = {}
    for cp in range(0x80, sys.maxunicode + 1):
        cat = unicodedata.category(chr(cp))
        if cat[0] == "M":
            marks.append(cp)
        elif cat == "Nd":
            digits[cp] = str(unicodedata.decimal(chr(cp)))
    ranges: list[str] = []
    start = prev = marks[0]
    for cp in marks[1:] + [-1]:
        if cp != prev + 1:
            ranges.append(chr(start) if start == prev else f"{chr(start)}-{chr(prev)}")
            start = cp
        prev = cp
    return "".join(ranges), digits


def marks_class() -> str:
    """Regex character-class body (no brackets) of the combining marks (Mn, Mc, Me): vowel
    signs, viramas, harakat, accents."""
    return _scan()[0]


def decimal_digits() -> dict[int, str]:
    """Map of every non-ASCII decimal digit code point to its ASCII digit."""
    return _scan()[1]
