"""Learned sparse retrieval (SPLADE) over the native inverted index, with quantized impacts.

Documents are encoded into term weights (see :mod:`xlir.encoders.sparse`), optionally pruned
to their ``doc_top_k`` heaviest terms, and indexed by the same engine as BM25
(:mod:`xlir.inverted`): term-major postings, memory-mapped, scored by dot product in the
numba kernel.

Quantization. Impacts are stored as ``uint8`` (default) or ``uint16`` integers with one
scale per index (``impact = value * scale``, ``scale = max impact / 255`` or ``/ 65535``,
recorded in the manifest); postings that round to 0 are dropped. The kernel scores the
integers directly (numba compiles one variant per value type) and the final scores are
multiplied by the scale, so searching a memory-mapped index neither converts nor copies
the postings, and the values file is 4x (uint8) or 2x (uint16) smaller than float32. Each
posting is off by at most ``scale / 2``, so a document's score is within
``scale / 2 * sum(query weights)`` of its float score. ``quantization="float32"`` stores
the weights as they are.

Encoding runs in chunks; with ``work_dir`` (``xlir index`` passes one), finished chunks are
kept and a re-run after an interruption encodes only the missing ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from xlir.chunks import ChunkDir
from xlir.errors import IndexFormatError, ParamError
from xlir.inverted import InvertedIndex, InvertedIndexBuilder, combine_collection_stats
from xlir.progress import progress
from xlir.retrievers.base import IndexedRetriever
from xlir.retrievers.dense import EncoderMismatchError
from xlir.types import Doc, Query, Run

logger = logging.getLogger(__name__)

QUANTIZATIONS = {"uint8": 255, "uint16": 65535, "float32": None}
QUERY_WEIGHTS = ("auto", "index-idf", "uniform")  # or a path to a {token: weight} JSON file
_QUERY_BATCH = 256  # queries encoded and scored per kernel call
# fixed when the index is built; load() refuses to override them
_INDEX_PARAMS = ("lang", "doc_top_k", "quantization", "max_length", "chunk_size", "store_text")


@dataclass(frozen=True)
class SpladeParams:
    """``model``: SPLADE model name or path (``splade-tiny``: offline, English);
    ``query_model``: separate query encoder; ``backend``: auto | transformers |
    sentence-transformers; ``query_mode``: model | inference-free; ``query_weights``
    (inference-free): auto | index-idf | uniform | path to a JSON table; ``doc_top_k``,
    ``query_top_k``: keep that many heaviest terms (0: all); ``quantization``: uint8 |
    uint16 | float32."""

    lang: str | None = None
    model: str = "splade-tiny"
    query_model: str | None = None
    backend: str = "auto"
    query_mode: str = "model"
    query_weights: str = "auto"
    doc_top_k: int = 0
    query_top_k: int = 0
    quantization: str = "uint8"
    max_length: int = 256
    query_max_length: int = 64
    device: str = "auto"
    batch_size: int = 32
    chunk_size: int = 4096
    store_text: bool = True

    def validate(self) -> None:
        from xlir.encoders.sparse import BACKENDS, QUERY_MODES

        if self.lang not in (None, ""):
            from xlir.analysis import normalize_lang

            normalize_lang(self.lang)
        if self.backend not in BACKENDS:
            raise ParamError(f"backend must be one of {', '.join(BACKENDS)}; got {self.backend!r}")
        if self.query_mode not in QUERY_MODES:
            raise ParamError(f"query_mode must be one of {', '.join(QUERY_MODES)}; got {self.query_mode!r}")
        if self.quantization not in QUANTIZATIONS:
            raise ParamError(f"quantization must be one of {', '.join(QUANTIZATIONS)}; got {self.quantization!r}")
        if self.query_weights not in QUERY_WEIGHTS and not Path(self.query_weights).is_file():
            raise ParamError(
                f"query_weights must be one of {', '.join(QUERY_WEIGHTS)} or a JSON file of token -> weight; "
                f"got {self.query_weights!r} (no such file)"
            )
        for name in ("doc_top_k", "query_top_k"):
            if getattr(self, name) < 0:
                raise ParamError(f"{name} must be >= 0 (0 keeps every term)")
        for name in ("max_length", "query_max_length", "batch_size", "chunk_size"):
            if getattr(self, name) < 1:
                raise ParamError(f"{name} must be >= 1")


def _make_encoder(params: SpladeParams):
    from xlir.encoders.sparse import SpladeEncoder

    return SpladeEncoder(
        params.model, query_model=params.query_model, backend=params.backend, query_mode=params.query_mode,
        device=params.device, batch_size=params.batch_size, max_length=params.max_length,
        query_max_length=params.query_max_length,
    )


def quantize(index: InvertedIndex, dtype: str) -> tuple[InvertedIndex, dict[str, Any]]:
    """``index`` with its float impacts rounded to ``dtype`` levels of one scale; returns (index, info).

    Postings that round to 0 are dropped (and documents' lengths recounted); ``info`` is the
    manifest's ``quantization`` entry. ``dtype="float32"`` returns the index unchanged.
    """
    values = np.asarray(index.values, dtype=np.float32)
    vmax = float(values.max()) if len(values) else 0.0
    levels = QUANTIZATIONS[dtype]
    if levels is None:
        info = {"dtype": "float32", "scale": 1.0, "max_weight": vmax, "dropped_postings": 0}
        return index, info
    scale = vmax / levels if vmax > 0 else 1.0
    q = np.clip(np.rint(values / np.float32(scale)), 0, levels).astype(np.dtype(dtype))
    keep = q > 0
    indptr, doc_ids = np.asarray(index.indptr), np.asarray(index.doc_ids)
    if not keep.all():
        term_of = np.repeat(np.arange(index.n_terms), np.diff(indptr))
        indptr = np.zeros(index.n_terms + 1, np.int64)
        np.cumsum(np.bincount(term_of[keep], minlength=index.n_terms), out=indptr[1:])
        doc_ids, q = doc_ids[keep], q[keep]
    quantized = InvertedIndex(
        vocab=index.vocab, indptr=indptr, doc_ids=doc_ids.astype(np.int32, copy=False), values=q,
        doc_lengths=np.bincount(doc_ids, minlength=index.n_docs).astype(np.int32),
    )
    info = {
        "dtype": dtype,
        "scale": scale,  # impact = stored value * scale
        "levels": levels,
        "max_weight": vmax,
        "dropped_postings": int((~keep).sum()),
        "max_error_per_posting": scale / 2,
    }
    return quantized, info


class SpladeRetriever(IndexedRetriever):
    """SPLADE documents and queries, dot-product scoring over quantized impacts."""

    name = "splade"
    Params = SpladeParams

    def __init__(self, params: SpladeParams | None = None, *, encoder=None, **kwargs):
        super().__init__(params, **kwargs)
        self._encoder = encoder
        self.index_: InvertedIndex | None = None
        self.identity: dict[str, Any] | None = None
        self.quantization: dict[str, Any] | None = None
        self._query_table: dict[str, float] | None = None
        self._warned: set[tuple] = set()
        self._global_stats: dict | None = None  # the collection's, when this is one segment of several

    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = _make_encoder(self.params)
        return self._encoder

    def encoder_identity(self) -> dict[str, Any]:
        """The encoder's identity plus the document pruning: what the manifest records."""
        inference_free = self.params.query_mode == "inference-free"
        return {**self.encoder.identity(), "query_mode": self.params.query_mode, "doc_top_k": self.params.doc_top_k,
                "query_weights": self.params.query_weights if inference_free else None}

    # -- indexing ----------------------------------------------------------------------
    def index(
        self, docs: Iterable[Doc], *, show_progress: bool | None = False, work_dir: str | Path | None = None
    ) -> None:
        """Encode and index ``docs``. With ``work_dir``, finished chunks are kept there and reused on a re-run."""
        writer = self._new_docstore()
        texts = []
        for doc in docs:
            writer.add(doc)
            texts.append(doc.contents)
        self._warn_language(writer.languages | ({self.params.lang} if self.params.lang else set()), "documents")
        identity = self.encoder_identity()
        size = self.params.chunk_size
        chunks = ChunkDir(Path(work_dir), writer.ids, identity, size) if work_dir else None
        vocab = self.encoder.vocab
        builder = InvertedIndexBuilder()
        starts = range(0, len(texts), size)
        for start in progress(starts, show_progress=show_progress, desc="splade encode", unit="chunk", total=len(starts)):
            from xlir.encoders.sparse import SparseBatch

            stored = chunks.get(start) if chunks else None
            batch = SparseBatch(stored["indptr"], stored["ids"], stored["weights"]) if stored else None
            if batch is None:
                batch = self.encoder.encode_docs(texts[start : start + size], top_k=self.params.doc_top_k)
                if chunks:
                    chunks.put(start, indptr=batch.indptr, ids=batch.ids, weights=batch.weights)
            for weights in batch.to_dicts(vocab):
                builder.add_weights(weights)
        self.index_, self.quantization = quantize(builder.build(), self.params.quantization)
        self.docs = writer.to_store()
        self.languages = sorted(writer.languages | ({self.params.lang} if self.params.lang else set()))
        self.identity = identity
        self._query_table = None
        logger.info(
            "indexed %d documents: %d terms, %d postings (%s, %d dropped)", self.index_.n_docs, self.index_.n_terms,
            self.index_.nnz, self.quantization["dtype"], self.quantization["dropped_postings"],
        )

    # -- search ------------------------------------------------------------------------
    def query_vectors(self, queries: Sequence[Query]) -> list[dict[str, float]]:
        """Each query as ``{token: weight}``, pruned to ``query_top_k`` terms, as searched."""
        from xlir.encoders.sparse import SparseBatch

        texts = [q.text for q in queries]
        p = self.params
        if p.query_mode == "inference-free":
            tokens = self.encoder.tokenize_queries(texts)
            vocab = self.encoder.vocab
            table = self.query_weight_table()
            weights = np.array([table.get(vocab[t], 0.0) for t in tokens.ids.tolist()], np.float32)
            keep = weights > 0
            rows = np.repeat(np.arange(len(tokens)), tokens.lengths())
            batch = SparseBatch.from_coo(rows[keep], tokens.ids[keep], weights[keep], len(tokens)).top_k(p.query_top_k)
        else:
            batch = self.encoder.encode_queries(texts, top_k=p.query_top_k)
        return batch.to_dicts(self.encoder.vocab)

    def query_weight_table(self) -> dict[str, float]:
        """Inference-free query weights: the model's table, the index's idf, or 1 (``query_weights``)."""
        if self._query_table is None:
            choice = self.params.query_weights
            table = None
            if choice == "auto":
                table = self.encoder.query_token_weights()
                if table is None:
                    logger.info("the model has no %s; weighting query tokens by the index's idf", "idf.json")
            elif choice not in QUERY_WEIGHTS:
                from xlir.encoders.sparse import load_weight_table

                table = load_weight_table(choice)
            if table is None and choice == "uniform":
                table = {term: 1.0 for term in self.index_.vocab}
            if table is None:
                table = self._index_idf()
            self._query_table = table
        return self._query_table

    def _index_idf(self) -> dict[str, float]:
        # BM25's idf, ln(1 + (N - df + 0.5) / (df + 0.5)), over this index's documents
        # (over the whole collection's when this is one of several segments)
        stats = self._global_stats
        if stats is not None:
            n = stats["n_docs"]
            vocab = list(stats["df"])
            df = np.array([stats["df"][t] for t in vocab], dtype=np.float64)
        else:
            n, vocab = self.index_.n_docs, self.index_.vocab
            df = self.index_.doc_freqs().astype(np.float64)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        return {term: float(w) for term, w, d in zip(vocab, idf.tolist(), df.tolist()) if d > 0}

    def search(self, queries: Sequence[Query], k: int = 100, *, show_progress: bool | None = False) -> Run:
        """Top-``k`` documents per query by dot product of SPLADE weights (queries with no known term get ``{}``)."""
        self._require_index()
        if k < 1:
            raise ParamError(f"k must be >= 1, got {k}")
        self._check_encoder()
        self._warn_language({q.lang for q in queries if q.lang}, "queries")
        scale = float(self.quantization["scale"]) if self.quantization else 1.0
        ids = self.docs.ids
        run: Run = {}
        batches = range(0, len(queries), _QUERY_BATCH)
        for start in progress(batches, show_progress=show_progress, desc="splade search", unit="batch"):
            batch = queries[start : start + _QUERY_BATCH]
            hits = self.index_.search(self.query_vectors(batch), k)
            for q, (rows, vals) in zip(batch, hits):
                run[q.id] = {ids[r]: v * scale for r, v in zip(rows.tolist(), vals.tolist())}
        return run

    # -- segments (xlir.segments) --------------------------------------------------------
    # Scores are dot products of model weights, so segments need no corpus statistics, except
    # the document frequencies behind inference-free queries weighted by the index's idf.
    # Each segment quantizes with its own scale: scores equal one index's exactly only with
    # quantization=float32 (otherwise within the quantization error).
    supports_segments = True
    runtime_params = ("device", "batch_size", "chunk_size", "query_top_k")

    def collection_stats(self, deleted_rows=None) -> dict:
        """Live document count and document frequency per term (without ``deleted_rows``)."""
        self._require_index()
        index = self.index_
        live, df = index.live_doc_freqs(deleted_rows)
        return {"n_docs": index.n_docs if live is None else int(live.sum()), "df": df}

    @classmethod
    def combine_stats(cls, stats: list[dict]) -> dict:
        return combine_collection_stats(stats)

    def set_global_stats(self, stats: dict | None) -> None:
        self._global_stats = stats
        self._query_table = None

    def encode_queries(self, queries: Sequence[Query]) -> list[dict[str, float]]:
        self._require_index()
        self._check_encoder()
        self._warn_language({q.lang for q in queries if q.lang}, "queries")
        return self.query_vectors(queries)

    def search_encoded(self, queries: Sequence[Query], encoded: list[dict[str, float]], k: int) -> Run:
        self._require_index()
        scale = float(self.quantization["scale"]) if self.quantization else 1.0
        ids = self.docs.ids
        run: Run = {}
        for start in range(0, len(queries), _QUERY_BATCH):
            hits = self.index_.search(encoded[start : start + _QUERY_BATCH], k)
            for q, (rows, vals) in zip(queries[start : start + _QUERY_BATCH], hits):
                run[q.id] = {ids[r]: v * scale for r, v in zip(rows.tolist(), vals.tolist())}
        return run

    def _check_encoder(self) -> None:
        built = self.identity
        if built is None:
            return
        current = self.encoder_identity()
        diff = []
        for key in ("encoder", "backend", "query_mode", "query_weights", "vocab_size"):
            if built.get(key) != current.get(key):
                diff.append(key)
        # a model is the same model when its folder's fingerprint is; the name only counts without one
        for name, revision in (("model", "revision"), ("query_model", "query_revision")):
            if built.get(revision) and current.get(revision):
                if built[revision] != current[revision]:
                    diff.append(revision)
            elif built.get(name) != current.get(name) or built.get(revision) != current.get(revision):
                diff.append(name)
        if diff:
            details = "; ".join(f"{key}: index {built.get(key)!r}, now {current.get(key)!r}" for key in diff)
            raise EncoderMismatchError(f"the index was built with a different SPLADE encoder ({details})")

    def _warn_language(self, langs: set[str], what: str) -> None:
        from xlir.models.splade import DEFAULT_NAME

        other = sorted(lang for lang in langs if lang and lang.split("-")[0] not in ("en", "eng"))
        if self.params.model == DEFAULT_NAME and other and (what, tuple(other)) not in self._warned:
            self._warned.add((what, tuple(other)))
            logger.warning(
                "%s: %s in %s, but %s is English only; translate them into English for cross-lingual use",
                self.name, what, ", ".join(other), DEFAULT_NAME,
            )

    # -- persistence ---------------------------------------------------------------------
    def manifest_extra(self) -> dict[str, Any]:
        index = self.index_
        n_docs = index.n_docs
        return {
            "encoder": self.identity,
            "quantization": self.quantization,
            "stats": {
                "terms": int(np.count_nonzero(index.doc_freqs())),
                "postings": index.nnz,
                "avg_terms_per_doc": float(index.nnz / n_docs) if n_docs else 0.0,
                "max_terms_per_doc": int(np.max(index.doc_lengths)) if n_docs else 0,
            },
        }

    def _save_arrays(self, folder: Path) -> dict[str, dict]:
        return self.index_.save(folder)

    def _load_arrays(self, folder: Path, manifest: dict, *, mmap: bool) -> None:
        self.index_ = InvertedIndex.load(folder, mmap=mmap)
        if self.index_.n_docs != len(self.docs):
            raise IndexFormatError(f"{folder}: corrupt index (postings cover {self.index_.n_docs} docs, {len(self.docs)} ids)")
        self.identity = manifest.get("encoder")
        self.quantization = manifest.get("quantization")
        if not self.identity or not self.quantization:
            raise IndexFormatError(f"{folder}: corrupt index (the manifest has no encoder or quantization entry)")
        if np.dtype(self.quantization["dtype"]) != self.index_.values.dtype:
            raise IndexFormatError(
                f"{folder}: corrupt index (values.npy is {self.index_.values.dtype}, "
                f"the manifest says {self.quantization['dtype']})"
            )
        self._query_table = None

    @classmethod
    def load(cls, path, *, mmap: bool = True, encoder=None, **overrides):
        """Load a SPLADE index; ``overrides`` change search-time params (``query_top_k``, ``device``,
        ``batch_size``, ...). Another ``model`` (or ``encoder``) is accepted here and refused by
        :meth:`search` with :class:`EncoderMismatchError` unless it is the same model."""
        fixed = sorted(set(overrides) & set(_INDEX_PARAMS))
        if fixed:
            raise ParamError(f"{', '.join(fixed)} cannot change after indexing (rebuild the index instead)")
        self = super().load(path, mmap=mmap)
        if overrides:
            from xlir.params import make_params, params_to_dict

            self.params = make_params(SpladeParams, params_to_dict(self.params) | overrides)
        if encoder is not None:
            self._encoder = encoder
        return self
