"""Multilingual text analysis for the native BM25 engine: tokenization, normalization,
stopwords and stemming per language.

>>> get_analyzer("fr")("L'avion décolle")
['avion', 'decol']
"""

from __future__ import annotations

from xlir.analysis.analyzer import Analyzer, get_analyzer
from xlir.analysis.languages import normalize_lang, supported_languages

__all__ = ["Analyzer", "get_analyzer", "normalize_lang", "supported_languages"]
