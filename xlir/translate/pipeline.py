"""Translating documents, queries and plain texts with any translator, through the cache.

The steps, for a text translator such as ``ctranslate2``: split documents into sentences
(:mod:`xlir.translate.segment`), drop repeats, look the rest up in the cache, translate
the misses in groups of similar length (longest first; ``8 x batch_size`` segments per
group, which ctranslate2 splits into its batches), store each group in the cache as soon
as it is done, and rejoin each document's sentences. A translator with a
``translate_groups`` method (``ctranslate2``) pipelines the groups: the next one is
tokenized and queued while the model works on the current one. A translator with a
``translate_by_id`` method (``table``) is asked by document/query id instead.

Documents stream through in chunks, so a corpus never has to fit in memory, and an
interrupted run keeps every finished batch in the cache: running it again resumes.
"""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any, Iterable, Iterator, Sequence

from xlir.progress import progress_enabled
from xlir.translate.base import TranslationError, TranslationStats
from xlir.translate.languages import translation_lang
from xlir.translate.segment import join_segments, segment
from xlir.types import Doc, Query

__all__ = ["translate_texts", "translate_docs", "translate_queries"]

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 32
_GROUP_BATCHES = 8  # batches per translator call and per cache commit


def _cache_key(translator: Any, cache: Any) -> str | None:
    if cache is None or not getattr(translator, "cacheable", True):
        return None
    key = getattr(translator, "cache_key", None) or getattr(translator, "identity", None)
    if not key:
        logger.debug("translator %r has no identity; translations are not cached", translator)
    return key or None


class _Bar:
    """A tqdm bar on stderr when enabled; a no-op otherwise."""

    def __init__(self, show_progress: bool | None, desc: str, unit: str):
        self._bar = None
        if progress_enabled(show_progress):
            import sys

            from tqdm.auto import tqdm

            self._bar = tqdm(desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _translate_unique(
    translator: Any,
    texts: Sequence[str],
    *,
    src: str,
    tgt: str,
    cache: Any,
    stats: TranslationStats,
    batch_size: int,
    bar: _Bar | None = None,
) -> dict[str, str]:
    """Translations of ``texts`` as ``{text: translation}``; blank texts map to ""."""
    stats.segments += len(texts)
    unique = list(dict.fromkeys(texts))
    stats.unique_segments += len(unique)
    out: dict[str, str] = {t: "" for t in unique if not t.strip()}
    todo = [t for t in unique if t.strip()]
    key = _cache_key(translator, cache)
    if key is not None and todo:
        found = cache.get_many(key, src, tgt, todo)
        stats.cache_hits += len(found)
        out.update(found)
        todo = [t for t in todo if t not in found]
    if bar is not None:
        bar.update(len(unique) - len(todo))
    # Longest first: similar lengths share a batch (less padding), and a batch that does not
    # fit in memory fails at the start rather than after an hour.
    todo.sort(key=len, reverse=True)
    group = batch_size * _GROUP_BATCHES
    batches = [todo[i : i + group] for i in range(0, len(todo), group)]
    for batch, (translations, cut_in, cut_out) in zip(batches, _translate_groups(translator, batches, src, tgt)):
        stats.truncated += cut_in
        stats.output_truncated += cut_out
        if len(translations) != len(batch):
            raise TranslationError(
                f"translator {getattr(translator, 'name', translator)!r} returned {len(translations)} translations for {len(batch)} texts"
            )
        stats.model_segments += len(batch)
        if key is not None:
            cache.put_many(key, src, tgt, zip(batch, translations))
        out.update(zip(batch, translations))
        if bar is not None:
            bar.update(len(batch))
    return out


def _translate_groups(translator: Any, batches: list[list[str]], src: str, tgt: str) -> Iterator[tuple[list[str], int, int]]:
    """(translations, truncated inputs, truncated outputs) per batch, pipelined when the translator can."""
    groups = getattr(translator, "translate_groups", None)
    if groups is not None:
        yield from groups(batches, src=src, tgt=tgt)
        return
    counting = getattr(translator, "translate_counting", None)
    for batch in batches:
        if counting is not None:
            yield counting(batch, src=src, tgt=tgt)
        else:
            yield translator.translate(batch, src=src, tgt=tgt), 0, 0


def _log_end(translator: Any, stats: TranslationStats, what: str, src: set[str], tgt: str) -> None:
    logger.info("%s (%s -> %s)", stats.summary(what), ",".join(sorted(src)) or "-", tgt)
    if stats.truncated:
        limit = getattr(translator, "max_input_length", None)
        logger.warning(
            "%d of %d translated segments were longer than the model's input limit%s and were truncated: "
            "their translations miss the end",
            stats.truncated, stats.model_segments, f" ({limit} tokens)" if limit else "",
        )
    if stats.output_truncated:
        limit = getattr(translator, "max_decoding_length", None)
        logger.warning(
            "%d of %d translations stopped at the decoding length limit%s and may be cut; "
            "raise it with max_decoding_length",
            stats.output_truncated, stats.model_segments, f" ({limit} tokens)" if limit else "",
        )


def _batch_size(translator: Any, batch_size: int | None) -> int:
    size = batch_size or getattr(translator, "batch_size", None) or DEFAULT_BATCH_SIZE
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {size!r}")
    return size


def translate_texts(
    texts: Sequence[str],
    translator: Any,
    *,
    src: str,
    tgt: str,
    cache: Any = None,
    split: bool = False,
    batch_size: int | None = None,
    show_progress: bool | None = False,
    stats: TranslationStats | None = None,
) -> list[str]:
    """Translate plain ``texts`` from ``src`` to ``tgt``; returns the translations in order.

    ``split=True`` translates sentence by sentence and rejoins. ``cache`` is a
    :class:`~xlir.translate.TranslationCache` or None. Raises :class:`UnknownLanguageError`
    for an unknown language and whatever the translator raises.
    """
    src, tgt = translation_lang(src), translation_lang(tgt)
    stats = stats if stats is not None else TranslationStats()
    start = time.perf_counter()
    pieces = [segment(t, src) if split else ([t.strip()] if t.strip() else [], []) for t in texts]
    flat = [s for segs, _ in pieces for s in segs]
    bar = _Bar(show_progress, f"translate {src}->{tgt}", "seg")
    try:
        done = _translate_unique(translator, flat, src=src, tgt=tgt, cache=cache, stats=stats,
                                 batch_size=_batch_size(translator, batch_size), bar=bar)
    finally:
        bar.close()
    if split:
        out = [join_segments([done[s] for s in segs], seps, tgt) for segs, seps in pieces]
    else:
        out = [done[segs[0]] if segs else "" for segs, _ in pieces]
    stats.items += len(texts)
    stats.translated_items += len(texts)
    stats.seconds += time.perf_counter() - start
    _log_end(translator, stats, "texts", {src}, tgt)
    return out


def _lang_of(item: Doc | Query, src: str | None, known: dict[str, str]) -> str:
    code = item.lang or src
    if code is None:
        kind = "document" if isinstance(item, Doc) else "query"
        raise TranslationError(f"{kind} {item.id!r} has no language; pass its source language (--src/--lang, src=...)")
    lang = known.get(code)
    if lang is None:
        lang = known[code] = translation_lang(code)
    return lang


def translate_docs(
    docs: Iterable[Doc],
    translator: Any,
    *,
    tgt: str,
    src: str | None = None,
    cache: Any = None,
    split: bool = True,
    batch_size: int | None = None,
    chunk_size: int = 1000,
    show_progress: bool | None = False,
    stats: TranslationStats | None = None,
) -> Iterator[Doc]:
    """Translate documents into ``tgt``, lazily, in input order.

    Each document's language is its ``lang`` or else ``src``; documents already in
    ``tgt`` pass through unchanged. Titles and texts are translated (texts sentence by
    sentence unless ``split=False``); a translated document has ``lang=tgt`` and its
    source language in ``meta["translated_from"]``. A ``table`` translator replaces each
    document by its table entry (looked up by id). ``stats`` is filled in as the
    iterator is consumed. Raises :class:`TranslationError` for a document without a
    language and whatever the translator raises (missing table ids, for instance).
    """
    tgt = translation_lang(tgt)
    stats = stats if stats is not None else TranslationStats()
    size = _batch_size(translator, batch_size)
    known: dict[str, str] = {}
    seen_src: set[str] = set()
    start = time.perf_counter()
    bar = _Bar(show_progress, f"translate docs ->{tgt}", "seg")
    try:
        iterator = iter(docs)
        while True:
            chunk = list(itertools.islice(iterator, chunk_size))
            if not chunk:
                break
            langs = [_lang_of(d, src, known) for d in chunk]
            out: list[Doc | None] = [d if lang == tgt else None for d, lang in zip(chunk, langs)]
            stats.items += len(chunk)
            for lang in sorted(set(langs) - {tgt}):
                rows = [i for i, l in enumerate(langs) if l == lang]
                seen_src.add(lang)
                stats.translated_items += len(rows)
                if hasattr(translator, "translate_by_id"):
                    _docs_by_id(translator, chunk, rows, out, src=lang, tgt=tgt, stats=stats, bar=bar)
                else:
                    _docs_by_text(translator, chunk, rows, out, src=lang, tgt=tgt, cache=cache, split=split,
                                  stats=stats, batch_size=size, bar=bar)
            yield from out  # type: ignore[misc]
    finally:
        bar.close()
        stats.seconds += time.perf_counter() - start
    _log_end(translator, stats, "documents", seen_src, tgt)


def _translated(doc: Doc, text: str, title: str, src: str, tgt: str) -> Doc:
    return Doc(id=doc.id, text=text, title=title, lang=tgt, meta={**doc.meta, "translated_from": src})


def _docs_by_id(translator, chunk, rows, out, *, src, tgt, stats, bar) -> None:
    ids = [chunk[i].id for i in rows]
    texts = translator.translate_by_id(ids, src=src, tgt=tgt)
    title_of = getattr(translator, "title_of", None)
    for i, text in zip(rows, texts):
        title = title_of(chunk[i].id) if title_of is not None else ""
        out[i] = _translated(chunk[i], text, title, src, tgt)
    stats.segments += len(rows)
    stats.unique_segments += len(rows)
    stats.model_segments += len(rows)
    bar.update(len(rows))


def _docs_by_text(translator, chunk, rows, out, *, src, tgt, cache, split, stats, batch_size, bar) -> None:
    parts = []
    flat: list[str] = []
    for i in rows:
        doc = chunk[i]
        title = doc.title.strip()
        segs, seps = segment(doc.text, src) if split else ([doc.text.strip()] if doc.text.strip() else [], [])
        parts.append((title, segs, seps))
        if title:
            flat.append(title)
        flat.extend(segs)
    done = _translate_unique(translator, flat, src=src, tgt=tgt, cache=cache, stats=stats, batch_size=batch_size, bar=bar)
    for i, (title, segs, seps) in zip(rows, parts):
        text = join_segments([done[s] for s in segs], seps, tgt)
        out[i] = _translated(chunk[i], text, done[title] if title else "", src, tgt)


def translate_queries(
    queries: Sequence[Query],
    translator: Any,
    *,
    tgt: str,
    src: str | None = None,
    cache: Any = None,
    batch_size: int | None = None,
    show_progress: bool | None = False,
    stats: TranslationStats | None = None,
) -> list[Query]:
    """Translate queries into ``tgt``; returns new queries with the same ids and ``lang=tgt``.

    A query's language is its ``lang`` or else ``src``; queries already in ``tgt`` are
    kept as they are. Queries are translated whole (not split into sentences). A
    ``table`` translator looks each query up by id. Raises :class:`TranslationError`
    for a query without a language and whatever the translator raises.
    """
    tgt = translation_lang(tgt)
    stats = stats if stats is not None else TranslationStats()
    start = time.perf_counter()
    known: dict[str, str] = {}
    langs = [_lang_of(q, src, known) for q in queries]
    out: list[Query] = list(queries)
    empty: list[str] = []
    bar = _Bar(show_progress, f"translate queries ->{tgt}", "query")
    try:
        for lang in sorted(set(langs) - {tgt}):
            rows = [i for i, l in enumerate(langs) if l == lang]
            stats.translated_items += len(rows)
            if hasattr(translator, "translate_by_id"):
                texts = translator.translate_by_id([queries[i].id for i in rows], src=lang, tgt=tgt)
                stats.segments += len(rows)
                stats.unique_segments += len(rows)
                stats.model_segments += len(rows)
                bar.update(len(rows))
            else:
                originals = [queries[i].text.strip() for i in rows]
                done = _translate_unique(translator, originals, src=lang, tgt=tgt, cache=cache, stats=stats,
                                         batch_size=_batch_size(translator, batch_size), bar=bar)
                texts = [done[t] for t in originals]
            for i, text in zip(rows, texts):
                if text.strip():
                    out[i] = Query(id=queries[i].id, text=text, lang=tgt)
                else:
                    empty.append(queries[i].id)
    finally:
        bar.close()
    stats.items += len(queries)
    stats.seconds += time.perf_counter() - start
    _log_end(translator, stats, "queries", set(langs) - {tgt}, tgt)
    if empty:
        # An empty query matches nothing and cannot be written to a TSV file.
        logger.warning("%d queries got an empty translation and keep their original text (e.g. %s)",
                       len(empty), ", ".join(empty[:5]))
    return out
