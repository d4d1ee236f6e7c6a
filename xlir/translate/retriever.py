"""Translation in front of any retriever: documents before indexing, queries before search.

:class:`TranslatingRetriever` wraps a retriever. With ``translate_docs_to`` it translates
documents before they are indexed and records a ``translation`` block in the index
manifest; with ``translate_queries`` it translates queries into the index's document
language before searching. Searching an index of translated documents with queries in
another language than the one the documents were translated into is almost always a
mistake (an English BM25 index cannot match German words), so it raises
:class:`LanguageMismatchError` unless ``allow_lang_mismatch=True``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from xlir.errors import XlirError
from xlir.translate.base import TranslationStats, describe_translator
from xlir.translate.languages import translation_lang
from xlir.translate.pipeline import translate_docs, translate_queries
from xlir.types import Doc, Query, Run

__all__ = ["TranslatingRetriever", "LanguageMismatchError", "index_language", "check_query_languages"]

logger = logging.getLogger(__name__)


class LanguageMismatchError(XlirError, ValueError):
    """Queries in another language than the translated documents of the index."""


def index_language(manifest: dict[str, Any] | None, retriever: Any = None) -> str | None:
    """The language an index's documents are in: the translation target, else the
    retriever's ``lang`` parameter, else its only language; None when it cannot be told."""
    manifest = manifest or {}
    translation = manifest.get("translation") or {}
    if translation.get("tgt"):
        return translation["tgt"]
    params = manifest.get("params")
    if params is None and dataclasses.is_dataclass(getattr(retriever, "params", None)):
        params = dataclasses.asdict(retriever.params)
    lang = (params or {}).get("lang")
    if lang and lang != "multi":
        return _lang(lang)
    languages = manifest.get("languages") or list(getattr(retriever, "languages", None) or [])
    return _lang(languages[0]) if len(languages) == 1 else None


def _lang(code: str) -> str:
    try:
        return translation_lang(code)
    except XlirError:
        return code


def check_query_languages(translation: dict[str, Any] | None, queries: Sequence[Query], *, allow: bool = False,
                          index: str = "the index") -> None:
    """Raise :class:`LanguageMismatchError` when ``translation`` (an index manifest's
    ``translation`` block) says the documents were translated into a language some
    queries are not in. Queries without a language are assumed to match. ``allow``
    turns the error into a warning."""
    if not translation or not translation.get("tgt"):
        return
    tgt = translation["tgt"]
    langs: dict[str, int] = {}
    for q in queries:
        if q.lang is not None:
            lang = _lang(q.lang)
            if lang != tgt:
                langs[lang] = langs.get(lang, 0) + 1
    if not langs:
        return
    what = ", ".join(f"{n} in {lang!r}" for lang, n in sorted(langs.items()))
    message = (
        f"{index} holds documents translated into {tgt!r} (from {', '.join(translation.get('src') or ['?'])} by "
        f"{translation.get('translator')}), but {what} of {len(queries)} queries are not in {tgt!r}"
    )
    if allow:
        logger.warning("%s; searching anyway", message)
        return
    raise LanguageMismatchError(
        f"{message}; translate the queries (--translate-query --translator NAME[:ARG], or translate_queries=True) "
        "or pass --allow-lang-mismatch (allow_lang_mismatch=True) to search anyway"
    )


class TranslatingRetriever:
    """A retriever with a translator in front (see the module docstring).

    ``translate_docs_to``: translate documents into this language before indexing (a
    document's source language is its ``lang``). ``translate_queries``: translate queries
    into the index's document language (or ``index_lang``) before searching; a query's
    source language is its ``lang`` or ``query_lang``. ``cache``: a
    :class:`~xlir.translate.TranslationCache` or None. Other attributes (``docs``,
    ``doc_count``, ``params``...) are the wrapped retriever's.
    """

    def __init__(
        self,
        retriever: Any,
        translator: Any = None,
        *,
        translate_docs_to: str | None = None,
        translate_queries: bool = False,
        query_lang: str | None = None,
        index_lang: str | None = None,
        cache: Any = None,
        allow_lang_mismatch: bool = False,
        batch_size: int | None = None,
    ):
        if (translate_docs_to or translate_queries) and translator is None:
            raise ValueError("translate_docs_to / translate_queries need a translator")
        self.retriever = retriever
        self.translator = translator
        self.translate_docs_to = translation_lang(translate_docs_to) if translate_docs_to else None
        self.translate_queries = translate_queries
        self.query_lang = translation_lang(query_lang) if query_lang else None
        self.index_lang = translation_lang(index_lang) if index_lang else None
        self.cache = cache
        self.allow_lang_mismatch = allow_lang_mismatch
        self.batch_size = batch_size
        manifest = getattr(retriever, "manifest", None) or {}
        self.translation: dict[str, Any] | None = manifest.get("translation")
        self.doc_stats: TranslationStats | None = None
        self.query_stats: TranslationStats | None = None

    @property
    def name(self) -> str:
        return self.retriever.name

    def __getattr__(self, attr: str) -> Any:
        if attr == "retriever":  # not set yet: avoid recursing during construction
            raise AttributeError(attr)
        return getattr(self.retriever, attr)

    @property
    def doc_lang(self) -> str | None:
        """The language of the indexed documents (what queries are translated into)."""
        if self.index_lang:
            return self.index_lang
        if self.translation and self.translation.get("tgt"):
            return self.translation["tgt"]
        return self.translate_docs_to or index_language(getattr(self.retriever, "manifest", None), self.retriever)

    # -- indexing ----------------------------------------------------------------------
    def index(self, docs: Iterable[Doc], *, show_progress: bool | None = False, **kwargs: Any) -> None:
        """Translate ``docs`` (when ``translate_docs_to`` is set) and index them."""
        if not self.translate_docs_to:
            self.retriever.index(docs, show_progress=show_progress, **kwargs)
            return
        stats = TranslationStats()
        sources: set[str] = set()

        def translated() -> Iterator[Doc]:
            for doc in translate_docs(docs, self.translator, tgt=self.translate_docs_to, cache=self.cache,
                                      batch_size=self.batch_size, show_progress=show_progress, stats=stats):
                sources.add(doc.meta.get("translated_from", doc.lang))
                yield doc

        self.retriever.index(translated(), show_progress=False, **kwargs)
        self.doc_stats = stats
        self.translation = {
            **describe_translator(self.translator),
            "src": sorted(s for s in sources if s),
            "tgt": self.translate_docs_to,
            "documents_translated": stats.translated_items,
        }

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> None:
        """Save the wrapped index with the ``translation`` block in its manifest."""
        if not self.translation:
            self.retriever.save(path, overwrite=overwrite)
            return
        block = self.translation
        original = getattr(self.retriever, "manifest_extra", None)
        if original is None:
            # A retriever that does not take extra manifest fields: add the block afterwards.
            self.retriever.save(path, overwrite=overwrite)
            _add_to_manifest(Path(path), block)
            return
        # Shadow the method on this instance only, so that the block is in the manifest the
        # retriever writes last: the index is never visible without it.
        self.retriever.manifest_extra = lambda: {**original(), "translation": block}
        try:
            self.retriever.save(path, overwrite=overwrite)
        finally:
            del self.retriever.manifest_extra

    @classmethod
    def load(cls, path: str | os.PathLike, translator: Any = None, *, mmap: bool = True, **options: Any) -> "TranslatingRetriever":
        """Load the index at ``path`` (any retriever) and wrap it; ``options`` as for the constructor."""
        from xlir.store import load_index

        return cls(load_index(path, mmap=mmap), translator, **options)

    # -- search ------------------------------------------------------------------------
    def prepare_queries(self, queries: Sequence[Query], *, show_progress: bool | None = False) -> list[Query]:
        """The queries as they will be searched: languages filled in, translated, checked."""
        if self.query_lang:
            queries = [q if q.lang else Query(q.id, q.text, self.query_lang) for q in queries]
        if self.translate_queries:
            tgt = self.doc_lang
            if tgt is None:
                raise XlirError("cannot tell the index's document language to translate the queries into; pass index_lang (--translate-to)")
            stats = TranslationStats()
            queries = translate_queries(queries, self.translator, tgt=tgt, cache=self.cache, batch_size=self.batch_size,
                                        show_progress=show_progress, stats=stats)
            self.query_stats = stats
        check_query_languages(self.translation, queries, allow=self.allow_lang_mismatch)
        return list(queries)

    def search(self, queries: Sequence[Query], k: int = 100, *, show_progress: bool | None = False) -> Run:
        """Translate the queries when asked, check their language, search the wrapped index."""
        return self.retriever.search(self.prepare_queries(queries, show_progress=show_progress), k=k,
                                     show_progress=show_progress)

    def __repr__(self) -> str:
        return f"TranslatingRetriever({self.retriever!r}, translator={self.translator!r})"


def _add_to_manifest(path: Path, block: dict[str, Any]) -> None:
    import json

    from xlir.io import atomic_write_text
    from xlir.store import MANIFEST, read_manifest

    manifest = read_manifest(path, check_files=False)
    manifest["translation"] = block
    atomic_write_text(path / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
