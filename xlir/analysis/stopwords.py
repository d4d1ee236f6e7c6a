"""Stopword lists per language (see :mod:`xlir.analysis.stopword_lists` for how they were made)."""

from __future__ import annotations

import logging

from xlir.analysis.stopword_lists import LISTS

logger = logging.getLogger(__name__)

__all__ = ["stopword_list"]

SOURCE = "stopwords-iso"


def stopword_list(lang: str) -> tuple[list[str], str] | None:
    """Return ``(words, selection)`` for ``lang``, selection being ``top`` (its 100 most
    frequent stopwords-iso entries) or ``all``; None where there is no list."""
    entry = LISTS.get(lang)
    if entry is None:
        return None
    selection, words = entry
    return words.split(), selection
