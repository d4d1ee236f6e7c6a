"""The native sparse index engine shared by BM25 and learned sparse retrieval.

Postings are stored term-major as CSR arrays (``indptr`` over terms, ``doc_ids`` and
``values`` per posting), i.e. the transpose of the document-term matrix. The engine knows
nothing about weighting: BM25 stores term frequencies and derives impacts from them,
SPLADE stores impacts directly. Search is one sparse-sparse product (queries x terms) @
(terms x docs) done by scipy in C, followed by a per-query top-k with ``argpartition``;
we write this ourselves because it *is* the product (bm25s does the same with a
document-major matrix and a different storage layout).
"""

from __future__ import annotations

import logging
from array import array
from pathlib import Path
from typing import Sequence

import numpy as np

from xlir import store

logger = logging.getLogger(__name__)

_CHUNK_POSTINGS = 4_000_000  # tokens buffered before they are folded into (term, doc, tf) triples
# posting value types kept as they are; anything else is stored and searched as float32.
# uint8/uint16 are quantized impacts (learned sparse): 1-2 bytes a posting on disk and in the kernel.
VALUE_DTYPES = (np.dtype(np.float32), np.dtype(np.uint8), np.dtype(np.uint16))


def _value_array(values) -> np.ndarray:
    values = np.asarray(values)
    return values if values.dtype in VALUE_DTYPES else values.astype(np.float32)


class InvertedIndexBuilder:
    """Accumulates documents (as token lists or term->weight maps) into an :class:`InvertedIndex`."""

    def __init__(self, vocab: dict[str, int] | None = None):
        self.vocab: dict[str, int] = dict(vocab or {})
        self._terms = array("i")
        self._doc_of = array("i")  # for weighted input only
        self._weights = array("f")
        self._lengths = array("l")
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._n_docs = 0
        self._chunk_start = 0
        self._weighted: bool | None = None

    @property
    def n_docs(self) -> int:
        return self._n_docs

    def add_tokens(self, tokens: Sequence[str]) -> None:
        """Add one document given as its analyzed tokens (term frequencies are counted)."""
        if self._weighted:
            raise ValueError("cannot mix token and weighted documents in one index")
        self._weighted = False
        vocab = self.vocab
        setdefault = vocab.setdefault
        # len(vocab) is re-evaluated per call, so new terms get the next free id
        self._terms.extend([setdefault(t, len(vocab)) for t in tokens])
        self._lengths.append(len(tokens))
        self._n_docs += 1
        if len(self._terms) >= _CHUNK_POSTINGS:
            self._fold_tokens()

    def add_weights(self, weights: dict[str, float], length: int | None = None) -> None:
        """Add one document given as term -> impact weight (learned sparse models)."""
        if self._weighted is False:
            raise ValueError("cannot mix token and weighted documents in one index")
        self._weighted = True
        vocab = self.vocab
        doc = self._n_docs
        for term, w in weights.items():
            if w > 0:
                self._terms.append(vocab.setdefault(term, len(vocab)))
                self._weights.append(w)
                self._doc_of.append(doc)
        self._lengths.append(len(weights) if length is None else length)
        self._n_docs += 1
        if len(self._terms) >= _CHUNK_POSTINGS:
            self._fold_weights()

    def _fold_tokens(self) -> None:
        if not self._terms:
            self._chunk_start = self._n_docs
            return
        terms = np.frombuffer(self._terms, dtype=np.int32).astype(np.int64)
        lengths = np.frombuffer(self._lengths, dtype=np.int64)[self._chunk_start : self._n_docs]
        docs = np.repeat(np.arange(self._chunk_start, self._n_docs, dtype=np.int64), lengths)
        keys, tf = np.unique((terms << 32) | docs, return_counts=True)
        self._chunks.append(
            ((keys >> 32).astype(np.int32), (keys & 0xFFFFFFFF).astype(np.int32), tf.astype(np.float32))
        )
        self._terms = array("i")
        self._chunk_start = self._n_docs

    def _fold_weights(self) -> None:
        if not self._terms:
            return
        terms = np.frombuffer(self._terms, dtype=np.int32).copy()
        docs = np.frombuffer(self._doc_of, dtype=np.int32).copy()
        weights = np.frombuffer(self._weights, dtype=np.float32).copy()
        order = np.argsort(terms, kind="stable")  # docs are already ascending within a term
        self._chunks.append((terms[order], docs[order], weights[order]))
        self._terms, self._doc_of, self._weights = array("i"), array("i"), array("f")

    def build(self) -> "InvertedIndex":
        """Finish and return the in-memory index."""
        if self._weighted:
            self._fold_weights()
        else:
            self._fold_tokens()
        n_terms = len(self.vocab)
        if self._chunks:
            terms = np.concatenate([c[0] for c in self._chunks])
            docs = np.concatenate([c[1] for c in self._chunks])
            values = np.concatenate([c[2] for c in self._chunks])
            if len(self._chunks) > 1:
                # chunks cover increasing doc ranges, so a stable sort on terms keeps docs ascending
                order = np.argsort(terms, kind="stable")
                terms, docs, values = terms[order], docs[order], values[order]
        else:
            terms = np.zeros(0, np.int32)
            docs = np.zeros(0, np.int32)
            values = np.zeros(0, np.float32)
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms, minlength=n_terms), out=indptr[1:])
        vocab = [""] * n_terms
        for term, i in self.vocab.items():
            vocab[i] = term
        self._chunks = []
        return InvertedIndex(
            vocab=vocab,
            indptr=indptr,
            doc_ids=docs.astype(np.int32, copy=False),
            values=values.astype(np.float32, copy=False),
            doc_lengths=np.frombuffer(self._lengths, dtype=np.int64).astype(np.int32),
        )


class InvertedIndex:
    """Term-major postings: for term ``t``, ``doc_ids[indptr[t]:indptr[t+1]]`` and their ``values``."""

    FILES = ("vocab.txt", "indptr.npy", "doc_ids.npy", "values.npy", "doc_lengths.npy")

    def __init__(self, *, vocab: list[str], indptr, doc_ids, values, doc_lengths):
        self.vocab = vocab
        self.indptr = indptr
        self.doc_ids = doc_ids
        self.values = values
        self.doc_lengths = doc_lengths
        self._term_ids: dict[str, int] | None = None

    @property
    def n_docs(self) -> int:
        return int(len(self.doc_lengths))

    @property
    def n_terms(self) -> int:
        return len(self.vocab)

    @property
    def nnz(self) -> int:
        return int(len(self.doc_ids))

    @property
    def term_ids(self) -> dict[str, int]:
        if self._term_ids is None:
            self._term_ids = {t: i for i, t in enumerate(self.vocab)}
        return self._term_ids

    def doc_freqs(self) -> np.ndarray:
        return np.diff(np.asarray(self.indptr))

    def live_doc_freqs(self, deleted_rows=None) -> tuple[np.ndarray | None, dict[str, int]]:
        """(mask of live rows, ``None`` when none is deleted; {term: document frequency over the
        live rows}, terms with none left out): a segment's share of collection statistics."""
        if deleted_rows is None or not len(deleted_rows):
            live, df = None, self.doc_freqs()
        else:
            live = np.ones(self.n_docs, dtype=bool)
            live[np.asarray(deleted_rows, dtype=np.int64)] = False
            term_of = np.repeat(np.arange(self.n_terms, dtype=np.int32), self.doc_freqs())
            df = np.bincount(term_of[live[np.asarray(self.doc_ids)]], minlength=self.n_terms)
        return live, {t: d for t, d in zip(self.vocab, df.tolist()) if d}

    def save(self, folder: Path) -> dict[str, dict]:
        """Write the arrays into ``folder``; returns manifest ``files`` entries."""
        return {
            "vocab.txt": store.save_lines(folder, "vocab.txt", self.vocab),
            "indptr.npy": store.save_array(folder, "indptr.npy", np.asarray(self.indptr, dtype=np.int64)),
            "doc_ids.npy": store.save_array(folder, "doc_ids.npy", np.asarray(self.doc_ids, dtype=np.int32)),
            "values.npy": store.save_array(folder, "values.npy", _value_array(self.values)),
            "doc_lengths.npy": store.save_array(
                folder, "doc_lengths.npy", np.asarray(self.doc_lengths, dtype=np.int32)
            ),
        }

    @classmethod
    def load(cls, folder: Path, *, mmap: bool = True) -> "InvertedIndex":
        index = cls(
            vocab=store.load_lines(folder, "vocab.txt"),
            indptr=store.load_array(folder, "indptr.npy", mmap=mmap),
            doc_ids=store.load_array(folder, "doc_ids.npy", mmap=mmap),
            values=store.load_array(folder, "values.npy", mmap=mmap),
            doc_lengths=store.load_array(folder, "doc_lengths.npy", mmap=mmap),
        )
        if len(index.vocab) + 1 != len(index.indptr) or int(index.indptr[-1]) != len(index.doc_ids):
            from xlir.errors import IndexFormatError

            raise IndexFormatError(f"{folder}: corrupt index (vocabulary and postings sizes disagree)")
        return index

    def query_arrays(self, queries: Sequence[dict[str, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR arrays (indptr, term ids, weights) of query term weights; unknown terms and weights <= 0 are dropped."""
        term_ids = self.term_ids
        indptr = np.zeros(len(queries) + 1, dtype=np.int64)
        terms: list[int] = []
        weights: list[float] = []
        for i, q in enumerate(queries):
            for term, w in q.items():
                t = term_ids.get(term)
                if t is not None and w > 0:  # the kernel relies on positive weights
                    terms.append(t)
                    weights.append(w)
            indptr[i + 1] = len(terms)
        return indptr, np.asarray(terms, dtype=np.int32), np.asarray(weights, dtype=np.float32)

    def search(
        self, queries: Sequence[dict[str, float]], k: int, values: np.ndarray | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per query (term -> weight), the ``k`` best (doc rows, scores) by dot product, best first.

        ``values`` replaces the stored posting values (BM25 passes its impacts). Values of
        type uint8/uint16 (quantized impacts) are scored as they are: scores are then in
        quantization units, and the caller multiplies them by its scale.
        Ties are broken by lower doc row.
        """
        from xlir._kernels import search_batch

        k = max(1, min(int(k), max(self.n_docs, 1)))
        q_indptr, q_terms, q_weights = self.query_arrays(queries)
        nq = len(queries)
        out_docs = np.empty((nq, k), dtype=np.int32)
        out_scores = np.empty((nq, k), dtype=np.float32)
        out_counts = np.zeros(nq, dtype=np.int64)
        if nq and self.n_docs:
            search_batch(
                q_indptr, q_terms, q_weights,
                np.asarray(self.indptr), np.asarray(self.doc_ids),
                _value_array(self.values if values is None else values),
                self.n_docs, k, out_docs, out_scores, out_counts,
            )
        return [(out_docs[i, : out_counts[i]], out_scores[i, : out_counts[i]]) for i in range(nq)]

    def postings_matrix(self, values: np.ndarray | None = None):
        """scipy CSR matrix (n_terms x n_docs) over the postings (for analysis and export)."""
        import scipy.sparse as sp

        data = self.values if values is None else values
        return sp.csr_matrix((data, self.doc_ids, self.indptr), shape=(self.n_terms, self.n_docs))


def combine_collection_stats(stats: list[dict]) -> dict:
    """Segments' statistics summed: ``df`` term by term, every other key (counts) as a number."""
    df: dict[str, int] = {}
    for part in stats:
        for term, d in part["df"].items():
            df[term] = df.get(term, 0) + d
    keys = [k for k in (stats[0] if stats else {}) if k != "df"]
    return {**{k: sum(p[k] for p in stats) for k in keys}, "df": df}
