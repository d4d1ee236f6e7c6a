"""Translation for CLIR: translators, a persistent cache, query and document translation.

Translators follow :class:`xlir.protocols.Translator` (``translate(texts, *, src, tgt)``)
and are created by registry name with :func:`get_translator`:

- ``ctranslate2:DIR``: a converted OPUS-MT, NLLB-200 or M2M-100 model (:mod:`.ct2`);
- ``table:FILE``: precomputed translations looked up by id (:mod:`.table`).

Optional members a translator may have, which the pipeline uses when present:
``identity`` (a string naming the model; needed for caching), ``cache_key`` (identity
plus output-changing settings), ``describe()`` (what an index manifest records),
``translate_counting()`` (translations plus truncation counts), ``translate_groups()``
(the same over several groups, pipelined), ``translate_by_id()`` (look-ups by
document/query id) and ``batch_size``.

Importing this package loads neither ctranslate2 nor sentencepiece.

Example::

    from xlir.translate import TranslationCache, get_translator, translate_docs, translate_queries

    mt = get_translator("ctranslate2:models/opus-mt-de-en", beam_size=4)
    with TranslationCache() as cache:                       # ~/.cache/xlir/translations.sqlite
        docs_en = list(translate_docs(docs_de, mt, tgt="en", cache=cache))
"""

from __future__ import annotations

from xlir.translate.base import (
    TranslationError,
    TranslationStats,
    describe_translator,
    get_translator,
    parse_translator_spec,
)
from xlir.translate.cache import TranslationCache, default_cache_path
from xlir.translate.languages import NLLB_CODES, detect_family, lang_token, translation_lang
from xlir.translate.pipeline import translate_docs, translate_queries, translate_texts
from xlir.translate.retriever import LanguageMismatchError, TranslatingRetriever, check_query_languages, index_language
from xlir.translate.segment import join_segments, split_sentences
from xlir.translate.table import TableTranslator, build_table, read_table, write_table

__all__ = [
    "TranslationError",
    "TranslationStats",
    "LanguageMismatchError",
    "get_translator",
    "parse_translator_spec",
    "describe_translator",
    "TranslationCache",
    "default_cache_path",
    "translate_texts",
    "translate_docs",
    "translate_queries",
    "TranslatingRetriever",
    "check_query_languages",
    "index_language",
    "split_sentences",
    "join_segments",
    "translation_lang",
    "lang_token",
    "detect_family",
    "NLLB_CODES",
    "TableTranslator",
    "read_table",
    "write_table",
    "build_table",
]
