"""Stopword lists per language; :mod:`xlir.analysis.stopword_lists` says how they were made."""

from __future__ import annotations

import logging

from xlir.analysis.stopword_lists import LISTS

logger = logging.getLogger(__name__)

__all__ = ["stopword_list", "source"]


def stopword_list(lang: str) -> tuple[list[str], str] | None:
    """Return ``(words, selection)`` for ``lang``, or None where it has no list.

    ``selection``: ``nltk`` (curated NLTK/Snowball list), ``top`` (the 100 most frequent
    entries of the stopwords-iso list) or ``all`` (the whole stopwords-iso list).
    """
    entry = LISTS.get(lang)
    if entry is None:
        return None
    selection, words = entry
    return words.split(), selection


def source(selection: str) -> str:
    """Return the collection a list with this ``selection`` comes from."""
    return "nltk" if selection == "nltk" else "stopwords-iso"
