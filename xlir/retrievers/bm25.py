"""Native multilingual BM25 (Lucene's formula and defaults) over the shared inverted index."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from xlir.inverted import InvertedIndex, InvertedIndexBuilder
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


def bm25_weights(index: InvertedIndex, k1: float, b: float) -> np.ndarray:
    """Per-posting BM25 impacts from stored term frequencies, as Lucene's BM25Similarity scores.

    idf = ln(1 + (N - df + 0.5) / (df + 0.5)); tf part = tf / (tf + k1 * (1 - b + b * dl / avgdl)).
    Lucene stores document lengths lossily in one byte; we use exact lengths.
    """
    n = index.n_docs
    df = index.doc_freqs().astype(np.float64)
    idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
    lengths = np.asarray(index.doc_lengths, dtype=np.float32)
    avgdl = float(lengths.mean()) if n and lengths.sum() > 0 else 1.0
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
        # derived from values + doc_lengths + (k1, b); stored so that loading stays memory-mapped
        files["bm25_weights.npy"] = store.save_array(folder, "bm25_weights.npy", self._weights)
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
