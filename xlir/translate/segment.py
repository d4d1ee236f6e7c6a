"""Sentence splitting for document translation, and rejoining the translated sentences.

MT models are trained on sentences and have a length limit (512 tokens for OPUS-MT);
a paragraph fed whole is translated badly or cut off. So documents are split into
sentences, each is translated on its own, and the translations are rejoined.

The splitter is a small set of script-aware rules, not a trained model, because the
cost of a wrong split is mild (a sentence translated in two pieces) and a rule set
needs no data or download:

- ``. ! ? …`` end a sentence when whitespace follows and the next word does not start
  in lower case; not after a single letter (``J. Smith``), an acronym (``U.S.``), a
  common abbreviation (``Dr.``, ``z.B.``) or, in languages that write ordinals with a
  dot, a one- or two-digit number (German ``9. November``).
- CJK ``。！？`` and the full stops of other scripts (Devanagari ``।``, Arabic ``؟``,
  Urdu ``۔``, Armenian ``։``, Ethiopic ``።``, Myanmar ``။``, Greek question mark ``;``)
  are unambiguous and end a sentence with or without a following space.
- A line break always ends a segment; paragraph breaks survive the round trip.
- Thai, Lao and Khmer have no sentence punctuation: a space separates sentences and
  clauses. Their text is split at spaces and the pieces merged back up to about
  :data:`SPACE_SPLIT_CHARS` characters, so segments are clause-sized, not word-sized.
"""

from __future__ import annotations

import re
from typing import Sequence

__all__ = ["split_sentences", "segment", "join_segments", "NO_SPACE_LANGS", "SPACE_SPLIT_CHARS"]

#: Languages written without spaces between sentences: their translations are joined with "".
NO_SPACE_LANGS = frozenset({"zh", "ja"})
#: Languages whose sentences are separated by spaces only (no sentence punctuation).
_SPACE_SEPARATED = frozenset({"th", "lo", "km"})
SPACE_SPLIT_CHARS = 120

_CLOSERS = "\"'”’»)]」』）›"
# Terminators that need a following space (they also appear inside numbers, URLs, names).
_SPACED = ".!?…"
# Terminators that end a sentence wherever they appear.
_ALWAYS = "。！？｡।॥؟۔։።፧။\u037e"
_BOUNDARY = re.compile(
    rf"[{re.escape(_SPACED + _ALWAYS)};]+[{re.escape(_CLOSERS)}]*[ \t\u00a0\u3000]*|[ \t\u00a0\u3000]*\n\s*"
)
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st sr jr vs etc eg ie cf al no nr vol ca approx fig ed eds pp gen col lt
    jan feb mar apr jun jul aug sep sept oct nov dec bzw usw zb dh sog ggf vgl hr fr mme mlle
    sra sr sta dña p pag ss""".split()
)
# Languages that write ordinals as a number and a dot (German "9. November").
_ORDINAL_DOT = frozenset({"de", "da", "no", "fi", "cs", "sk", "sl", "hr", "sr", "hu", "et", "lv", "is", "tr", "pl"})
_OPENERS = "\"'“‘«([¿¡"


def segment(text: str, lang: str | None = None) -> tuple[list[str], list[str]]:
    """Split ``text`` into sentence segments and the separators between them.

    Returns ``(segments, separators)`` with ``len(separators) == len(segments) - 1``
    (both empty for blank text). Segments are stripped and never empty.
    """
    segments: list[str] = []
    separators: list[str] = []
    start = 0
    pending_sep = ""

    def emit(piece: str, sep: str) -> None:
        nonlocal pending_sep
        piece = piece.strip()
        if not piece:
            pending_sep = _stronger(pending_sep, sep)
            return
        if segments:
            separators.append(pending_sep)
        segments.append(piece)
        pending_sep = sep

    content_end = len(text.rstrip())
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        if end >= content_end:  # the text's final punctuation: nothing follows
            break
        if not _is_boundary(text, m, lang):
            continue
        punct_end = len(m.group().rstrip(" \t\u00a0\u3000\n\r\f\v")) + m.start()
        emit(text[start:punct_end], text[punct_end:end])
        start = end
    emit(text[start:], "")
    if lang in _SPACE_SEPARATED:
        return _split_at_spaces(segments, separators)
    return segments, separators


def _stronger(a: str, b: str) -> str:
    return a if a.count("\n") >= b.count("\n") else b


def _is_boundary(text: str, m: re.Match, lang: str | None) -> bool:
    match = m.group()
    if "\n" in match:
        return True
    marks = match.rstrip(" \t\u00a0\u3000").rstrip(_CLOSERS)
    if any(c in _ALWAYS for c in marks):
        return True
    if marks == ";" or marks.endswith(";") and not any(c in _SPACED for c in marks):
        return lang == "el" and match != marks  # ';' is the Greek question mark
    if match == marks:  # no space after ". ! ?": a number, an URL, "Yahoo!Inc"
        return False
    following = text[m.end() : m.end() + 1]
    if following.islower():
        return False
    if marks.startswith(".") and len(marks) == 1:
        window = text[max(0, m.start() - 40) : m.start()].split()  # a window: linear time overall
        word = window[-1].lstrip(_OPENERS) if window else ""
        if len(word) == 1 and word.isalpha():  # an initial
            return False
        if word.isdigit() and len(word) <= 2 and lang in _ORDINAL_DOT:  # "am 9. November"
            return False
        if word.replace(".", "").lower() in _ABBREVIATIONS:
            return False
        if "." in word and all(len(part) <= 2 for part in word.split(".")):  # U.S., z.B., e.g.
            return False
    return True


def _split_at_spaces(segments: list[str], separators: list[str]) -> tuple[list[str], list[str]]:
    out: list[str] = []
    seps: list[str] = []
    for i, seg in enumerate(segments):
        pieces = seg.split()
        current = pieces[0]
        for piece in pieces[1:]:
            if len(current) + 1 + len(piece) <= SPACE_SPLIT_CHARS or len(current) < SPACE_SPLIT_CHARS // 4:
                current += " " + piece
            else:
                out.append(current)
                seps.append(" ")
                current = piece
        out.append(current)
        if i < len(separators):
            seps.append(separators[i])
    return out, seps


def split_sentences(text: str, lang: str | None = None) -> list[str]:
    """The sentences of ``text`` (see the module docstring for the rules); ``[]`` for blank text."""
    return segment(text, lang)[0]


def join_segments(translations: Sequence[str], separators: Sequence[str], tgt: str | None = None) -> str:
    """Rejoin translated segments: line breaks are kept, other separators become one space
    (nothing for Chinese and Japanese targets)."""
    if len(separators) != max(len(translations) - 1, 0):
        raise ValueError(f"{len(translations)} segments need {max(len(translations) - 1, 0)} separators, got {len(separators)}")
    space = "" if tgt in NO_SPACE_LANGS else " "
    parts: list[str] = []
    for i, t in enumerate(translations):
        parts.append(t.strip())
        if i < len(separators):
            sep = separators[i]
            parts.append("\n" * min(sep.count("\n"), 2) if "\n" in sep else space)
    return "".join(parts)
