"""Native multilingual BM25 (Lucene's formula and defaults) over the shared inverted index."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from xlir.inverted import InvertedIndex, InvertedIndexBuilder, combine_collection_stats
from xlir.errors import ParamError
from xlir.progress import progress
from xlir.retrievers.base import IndexedRetriever
from xlir.types import Doc, Query, Run

logger = logging.getLogger(__name__)

_QUERY_BATCH = 1024  # queries analyzed and scored per kernel call


@dataclass(frozen=True)
class BM25Params:
    """``lang``: analyzer language (ISO 639-1/639-3 or ``multi``); ``k1``, ``b``: Lucene defaults."""

    lang: str = "en"
    k1: float = 0.9
    b: float = 0.4
    stem: bool = True
    stopwords: bool = True
    store_text: bool = True

    def validate(self) -> None:
        from xlir.analysis import normalize_lang

        normalize_lang(self.lang)
        if self.k1 < 0:
            raise ParamError(f"k1 must be >= 0, got {self.k1}")
        if not 0 <= self.b <= 1:
            raise ParamError(f"b must be in [0, 1], got {self.b}")


def bm25_weights(
    index: InvertedIndex, k1: float, b: float, *, n_docs: int | None = None, df=None, total_length: int | None = None
) -> np.ndarray:
    """Per-posting BM25 impacts from stored term frequencies, as Lucene's BM25Similarity scores.

    idf = ln(1 + (N - df + 0.5) / (df + 0.5)); tf part = tf / (tf + k1 * (1 - b + b * dl / avgdl)).
    Lucene stores document lengths lossily in one byte; we use exact lengths. ``n_docs``,
    ``df`` (per term of ``index.vocab``) and ``total_length`` replace the index's own
    statistics (a segment scoring with its collection's, see :mod:`xlir.segments`).
    """
    n = index.n_docs if n_docs is None else int(n_docs)
    df = (index.doc_freqs() if df is None else np.asarray(df)).astype(np.float64)
    idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
    lengths = np.asarray(index.doc_lengths, dtype=np.float32)
    if total_length is None:
        total_length = int(np.sum(index.doc_lengths, dtype=np.int64))
    # exact integer mean, so that segments and one index over the same documents agree bit for bit
    avgdl = total_length / n if n and total_length > 0 else 1.0
    norm = (k1 * (1.0 - b + b * lengths / avgdl)).astype(np.float32)
    tf = np.asarray(index.values, dtype=np.float32)
    doc_norm = norm[np.asarray(index.doc_ids)]
    weights = tf / (tf + doc_norm)
    weights *= np.repeat(idf, np.diff(np.asarray(index.indptr)))
    return weights


class BM25Retriever(IndexedRetriever):
    """BM25 with per-language analysis; queries are analyzed in their own language."""

    name = "bm25"
    Params = BM25Params

    def __init__(self, params: BM25Params | None = None, **kwargs):
        super().__init__(params, **kwargs)
        self.index_: InvertedIndex | None = None
        self._weights: np.ndarray | None = None
        self._matrix = None
        self._global_stats: dict | None = None  # the collection's, when this is one segment of several
        self._own_weights: np.ndarray | None = None

    @property
    def analyzer(self):
        from xlir.analysis import get_analyzer

        return get_analyzer(self.params.lang, stem=self.params.stem, stopwords=self.params.stopwords)

    def query_analyzer(self, lang: str | None):
        from xlir.analysis import get_analyzer

        return get_analyzer(lang or self.params.lang, stem=self.params.stem, stopwords=self.params.stopwords)

    def index(self, docs: Iterable[Doc], *, show_progress: bool | None = False) -> None:
        """Analyze and index ``docs`` (replacing any previous content)."""
        analyzer = self.analyzer
        writer = self._new_docstore()
        builder = InvertedIndexBuilder()
        for doc in progress(docs, show_progress=show_progress, desc="bm25 index", unit="doc"):
            writer.add(doc)
            builder.add_tokens(analyzer(doc.contents))
        self.index_ = builder.build()
        self._finish_docstore(writer)
        self._weights = bm25_weights(self.index_, self.params.k1, self.params.b)
        self._global_stats = self._own_weights = None
        logger.info(
            "indexed %d documents: %d terms, %d postings", self.index_.n_docs, self.index_.n_terms, self.index_.nnz
        )

    def analyze_queries(self, queries: Sequence[Query]) -> list[dict[str, float]]:
        analyzers: dict = {}  # one registry lookup per language, not per query
        out = []
        for q in queries:
            analyzer = analyzers.get(q.lang)
            if analyzer is None:
                analyzer = analyzers[q.lang] = self.query_analyzer(q.lang)
            out.append(dict(Counter(analyzer(q.text))))
        return out

    def search(self, queries: Sequence[Query], k: int = 100, *, show_progress: bool | None = False) -> Run:
        """Top-``k`` documents per query as a :data:`Run` (queries with no known term get ``{}``)."""
        self._require_index()
        if k < 1:
            raise ParamError(f"k must be >= 1, got {k}")
        if self._weights is None:
            self._weights = bm25_weights(self.index_, self.params.k1, self.params.b)
        ids = self.docs.ids
        run: Run = {}
        batches = range(0, len(queries), _QUERY_BATCH)
        for start in progress(batches, show_progress=show_progress, desc="bm25 search", unit="batch"):
            batch = queries[start : start + _QUERY_BATCH]
            hits = self.index_.search(self.analyze_queries(batch), k, self._weights)
            for q, (rows, vals) in zip(batch, hits):
                run[q.id] = {ids[r]: float(v) for r, v in zip(rows.tolist(), vals.tolist())}
        return run

    # -- segments (xlir.segments) --------------------------------------------------------
    supports_segments = True

    def collection_stats(self, deleted_rows=None) -> dict:
        """Live document count, total length and document frequency per term (without ``deleted_rows``)."""
        self._require_index()
        index = self.index_
        lengths = np.asarray(index.doc_lengths)
        live, df = index.live_doc_freqs(deleted_rows)
        if live is None:
            n, total = index.n_docs, int(np.sum(lengths, dtype=np.int64))
        else:
            n, total = int(live.sum()), int(np.sum(lengths[live], dtype=np.int64))
        return {"n_docs": n, "total_length": total, "df": df}

    @classmethod
    def combine_stats(cls, stats: list[dict]) -> dict:
        return combine_collection_stats(stats)

    def set_global_stats(self, stats: dict | None) -> None:
        """Score with the collection's N, df and average length: impacts are re-derived from
        the stored term frequencies (O(postings), held in memory rather than memory-mapped)."""
        self._require_index()
        if self._global_stats is None:
            self._own_weights = self._weights
        self._global_stats = stats
        if stats is None:
            self._weights = self._own_weights
            return
        index = self.index_
        df = np.fromiter((stats["df"].get(t, 0) for t in index.vocab), dtype=np.int64, count=index.n_terms)
        self._weights = bm25_weights(
            index, self.params.k1, self.params.b, n_docs=stats["n_docs"], df=df, total_length=stats["total_length"]
        )

    def encode_queries(self, queries: Sequence[Query]) -> list[dict[str, float]]:
        return self.analyze_queries(queries)

    @classmethod
    def merge_segments(cls, segments: Sequence["BM25Retriever"], deleted: Sequence[set[str]]) -> "BM25Retriever":
        """One retriever over the live documents of ``segments`` in order, from their stored
        term frequencies (no re-analysis, so it works without the documents' text too)."""
        from xlir.segments import live_mask, merge_docstores

        first = segments[0]
        merged = cls(first.params)
        masks = [live_mask(seg, dead) for seg, dead in zip(segments, deleted)]
        vocab: dict[str, int] = {}
        terms, docs, tfs, lengths = [], [], [], []
        offset = 0
        for seg, live in zip(segments, masks):
            index = seg.index_
            new_row = np.cumsum(live) - 1 + offset
            term_id = np.fromiter((vocab.setdefault(t, len(vocab)) for t in index.vocab), np.int64, count=index.n_terms)
            doc_ids = np.asarray(index.doc_ids)
            keep = live[doc_ids]
            terms.append(np.repeat(term_id, index.doc_freqs())[keep])
            docs.append(new_row[doc_ids[keep]])
            tfs.append(np.asarray(index.values, dtype=np.float32)[keep])
            lengths.append(np.asarray(index.doc_lengths)[live])
            offset += int(live.sum())
        terms, docs, tfs = np.concatenate(terms), np.concatenate(docs), np.concatenate(tfs)
        counts = np.bincount(terms, minlength=len(vocab))
        used = counts > 0  # terms whose only documents were deleted are dropped
        remap = np.cumsum(used) - 1
        terms = remap[terms]
        order = np.lexsort((docs, terms))  # term-major, documents ascending within a term
        indptr = np.zeros(int(used.sum()) + 1, dtype=np.int64)
        np.cumsum(counts[used], out=indptr[1:])
        words = np.array(list(vocab), dtype=object)[used].tolist() if vocab else []
        merged.index_ = InvertedIndex(
            vocab=words, indptr=indptr, doc_ids=docs[order].astype(np.int32), values=tfs[order],
            doc_lengths=np.concatenate(lengths).astype(np.int32),
        )
        merged.docs = merge_docstores([seg.docs for seg in segments], masks)
        merged.languages = sorted(set().union(*(seg.languages for seg in segments)))
        merged._weights = bm25_weights(merged.index_, merged.params.k1, merged.params.b)
        return merged

    def search_encoded(self, queries: Sequence[Query], encoded: list[dict[str, float]], k: int) -> Run:
        self._require_index()
        if self._weights is None:
            self._weights = bm25_weights(self.index_, self.params.k1, self.params.b)
        ids = self.docs.ids
        run: Run = {}
        for start in range(0, len(queries), _QUERY_BATCH):
            hits = self.index_.search(encoded[start : start + _QUERY_BATCH], k, self._weights)
            for q, (rows, vals) in zip(queries[start : start + _QUERY_BATCH], hits):
                run[q.id] = dict(zip([ids[r] for r in rows.tolist()], vals.tolist()))
        return run

    def manifest_extra(self) -> dict:
        return {
            "analyzer": self.analyzer.config(),
            "stats": {
                "terms": self.index_.n_terms,
                "postings": self.index_.nnz,
                "avg_doc_length": float(np.mean(self.index_.doc_lengths)) if self.index_.n_docs else 0.0,
            },
        }

    def _save_arrays(self, folder: Path) -> dict[str, dict]:
        from xlir import store

        files = self.index_.save(folder)
        if self._weights is None:
            self._weights = bm25_weights(self.index_, self.params.k1, self.params.b)
        weights = self._weights
        if self._global_stats is not None:  # a segment saved on its own keeps its own statistics
            weights = self._own_weights if self._own_weights is not None else bm25_weights(self.index_, self.params.k1, self.params.b)
        # derived from values + doc_lengths + (k1, b); stored so that loading stays memory-mapped
        files["bm25_weights.npy"] = store.save_array(folder, "bm25_weights.npy", weights)
        return files

    def _load_arrays(self, folder: Path, manifest: dict, *, mmap: bool) -> None:
        from xlir import store
        from xlir.analysis import get_analyzer

        self.index_ = InvertedIndex.load(folder, mmap=mmap)
        if self.index_.n_docs != len(self.docs):
            from xlir.errors import IndexFormatError

            raise IndexFormatError(f"{folder}: corrupt index (postings cover {self.index_.n_docs} docs, {len(self.docs)} ids)")
        saved = manifest.get("analyzer")
        current = get_analyzer(self.params.lang, stem=self.params.stem, stopwords=self.params.stopwords).config()
        if saved is not None and saved != current:
            logger.warning(
                "%s: index was built with analyzer %s, this xlir has %s; query terms may not match", folder, saved, current
            )
        self._weights = store.load_array(folder, "bm25_weights.npy", mmap=mmap) if "bm25_weights.npy" in manifest["files"] else None
