"""Late interaction (ColBERT) retrieval over a PLAID-style compressed index.

Documents are encoded to one vector per token (:class:`xlir.encoders.colbert.ColBERTEncoder`),
compressed to a centroid id plus a 1/2/4-bit residual per dimension
(:mod:`xlir.plaid`) and searched with PLAID's candidate generation, centroid pruning and
exact MaxSim on the decompressed residuals of the best candidates. Encoding writes chunks
to a work folder as it goes, so an interrupted build resumes from the last finished chunk.

Search-time parameters (``ncells``, ``centroid_score_threshold``, ``ndocs``; 0 / None:
xlir.plaid.plaid_defaults for the requested k) can be changed on load: ``load(path, ndocs=2048)``.
``exact=True`` scores every document by MaxSim over the uncompressed float16 vectors,
which the index keeps only when built with ``keep_vectors=True``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from xlir.chunks import ChunkDir
from xlir.errors import IndexFormatError, ParamError
from xlir.progress import progress
from xlir.retrievers.base import IndexedRetriever
from xlir.retrievers.dense import EncoderMismatchError
from xlir.types import Doc, Query, Run

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ColBERTParams:
    """``model``: name or folder (Stanford ColBERT, PyLate or any encoder; default e5-small,
    zero-shot). ``nbits``: residual bits per dimension (1, 2, 4). ``ncentroids`` 0: PLAID's
    2^floor(log2(16 sqrt(tokens))), at most ``max_centroids`` and tokens * nbits / 64 (minus 256 with
    product-quantized residuals). ``residual_codec``: ``pq``, ``lloyd`` or ``auto`` (:mod:`xlir.plaid`).
    Search: ``ncells`` centroids probed per query token, ``centroid_score_threshold``, ``ndocs`` candidates kept after
    centroid scoring (0 / None: :func:`xlir.plaid.plaid_defaults` for k)."""

    lang: str | None = None
    model: str = "multilingual-e5-small"
    device: str = "auto"
    batch_size: int = 32
    query_maxlen: int = 0  # 0: the model's (32)
    doc_maxlen: int = 0  # 0: the model's (ColBERT 180/300; plain encoders 512)
    query_augment: bool = True
    nbits: int = 2
    residual_codec: str = "auto"
    ncentroids: int = 0
    max_centroids: int = 16_384
    kmeans_niters: int = 4
    kmeans_sample: int = 0
    seed: int = 0
    chunk_size: int = 1024
    keep_vectors: bool = False
    ncells: int = 0
    centroid_score_threshold: float | None = None
    ndocs: int = 0
    exact: bool = False
    store_text: bool = True

    def validate(self) -> None:
        from xlir.plaid import check_settings

        check_settings(self.nbits, self.residual_codec)
        if self.lang not in (None, ""):
            from xlir.analysis import normalize_lang

            normalize_lang(self.lang)
        for name in ("batch_size", "chunk_size", "kmeans_niters"):
            if getattr(self, name) < 1:
                raise ParamError(f"{name} must be >= 1")
        for name in ("query_maxlen", "doc_maxlen", "ncentroids", "max_centroids", "kmeans_sample", "ncells", "ndocs"):
            if getattr(self, name) < 0:
                raise ParamError(f"{name} must be >= 0 (0: automatic)")


class ColBERTRetriever(IndexedRetriever):
    """Late interaction retrieval: token vectors, PLAID compression, MaxSim."""

    name = "colbert"
    Params = ColBERTParams

    def __init__(self, params: ColBERTParams | None = None, *, encoder=None, **kwargs):
        super().__init__(params, **kwargs)
        self._encoder = encoder
        self.plaid = None
        self.identity: dict | None = None

    @property
    def encoder(self):
        if self._encoder is None:
            from xlir.encoders.colbert import ColBERTEncoder

            p = self.params
            self._encoder = ColBERTEncoder(p.model, device=p.device, batch_size=p.batch_size,
                                           query_maxlen=p.query_maxlen or None, doc_maxlen=p.doc_maxlen or None,
                                           query_augment=p.query_augment)
        return self._encoder

    # -- indexing ------------------------------------------------------------------------
    def index(self, docs: Iterable[Doc], *, show_progress: bool | None = False,
              work_dir: str | Path | None = None) -> None:
        """Encode and compress ``docs``. With ``work_dir``, encoded chunks are kept there and
        reused on a re-run."""
        writer = self._new_docstore()
        texts = []
        for doc in docs:
            writer.add(doc)
            texts.append(doc.contents)
        if not texts:
            raise ParamError("colbert: nothing to index (no documents)")
        identity = self.encoder.identity()
        size = self.params.chunk_size
        chunks = ChunkDir(Path(work_dir), writer.ids, identity, size) if work_dir else None
        parts = []
        starts = range(0, len(texts), size)
        for start in progress(starts, show_progress=show_progress, desc="encode", unit="chunk", total=len(starts)):
            stored = chunks.get(start) if chunks else None
            if stored is None:
                vec, lens = self.encoder.encode_docs(texts[start : start + size])
                stored = {"vectors": vec.astype(np.float16), "doclens": lens}
                if chunks:
                    chunks.put(start, **stored)
            parts.append((stored["vectors"], stored["doclens"]))
        self.build_from_vectors(parts, show_progress=show_progress)
        self.docs = writer.to_store()
        self.languages = sorted(writer.languages | ({self.params.lang} if self.params.lang else set()))
        self.identity = identity

    def build_from_vectors(self, parts, *, show_progress: bool | None = False) -> None:
        """Compress already encoded documents: ``parts`` is a list of (token vectors, doclens)."""
        from xlir.plaid import PlaidIndex

        p = self.params
        self.plaid = PlaidIndex.build(parts, nbits=p.nbits, ncentroids=p.ncentroids, max_centroids=p.max_centroids,
                                      kmeans_niters=p.kmeans_niters, kmeans_sample=p.kmeans_sample,
                                      keep_vectors=p.keep_vectors, residual_codec=p.residual_codec, seed=p.seed,
                                      show_progress=show_progress)

    # -- search --------------------------------------------------------------------------
    def search(self, queries: Sequence[Query], k: int = 100, *, show_progress: bool | None = False) -> Run:
        """Top-``k`` documents per query by (approximate, then exact) MaxSim."""
        self._require_index()
        if k < 1:
            raise ParamError(f"k must be >= 1, got {k}")
        self._check_encoder()
        qvecs = self.encoder.encode_queries([q.text for q in queries])
        ids = self.docs.ids
        run: Run = {}
        for query, q in zip(queries, progress(qvecs, show_progress=show_progress, desc="search", unit="query")):
            scores, rows = self.search_vectors(q, k)
            run[query.id] = {ids[r]: float(s) for s, r in zip(scores.tolist(), rows.tolist())}
        return run

    def search_vectors(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the best ``k`` documents for one query's token vectors."""
        p = self.params
        if p.exact:
            return self.plaid.search_exact(q, k)
        return self.plaid.search(q, k, ncells=p.ncells, centroid_score_threshold=p.centroid_score_threshold,
                                 ndocs=p.ndocs)

    def _check_encoder(self) -> None:
        if self.identity is None:
            return
        current = self.encoder.identity()
        keys = ("encoder", "model", "revision", "layout", "prompts", "dim", "query_augment", "doc_maxlen")
        diff = [key for key in keys if self.identity.get(key) != current.get(key)]
        if diff:
            details = "; ".join(f"{key}: index {self.identity.get(key)!r}, now {current.get(key)!r}" for key in diff)
            raise EncoderMismatchError(f"the index was built with a different encoder ({details})")

    # -- persistence ---------------------------------------------------------------------
    def manifest_extra(self) -> dict:
        pl = self.plaid
        return {"encoder": self.identity,
                "plaid": {"nbits": pl.codec.nbits, "residual_codec": pl.residual_codec,
                          "ncentroids": int(len(pl.codec.centroids)), "dim": pl.codec.dim,
                          "tokens": int(len(pl.codes)), "compressed_bytes": pl.nbytes(),
                          "float16_bytes": int(len(pl.codes)) * pl.codec.dim * 2}}

    def _save_arrays(self, folder: Path) -> dict[str, dict]:
        return self.plaid.save(folder)

    def _load_arrays(self, folder: Path, manifest: dict, *, mmap: bool) -> None:
        from xlir.plaid import PlaidIndex

        info = manifest.get("plaid")
        if not info:
            raise IndexFormatError(f"{folder}: corrupt index (no plaid block in the manifest)")
        self.plaid = PlaidIndex.load(folder, manifest["files"], int(info["nbits"]), mmap=mmap)
        if len(self.plaid.doclens) != len(self.docs):
            raise IndexFormatError(f"{folder}: corrupt index ({len(self.plaid.doclens)} doclens for {len(self.docs)} ids)")
        self.identity = manifest.get("encoder")

    @classmethod
    def load(cls, path, *, mmap: bool = True, encoder=None, **overrides):
        """Load an index; ``overrides`` change search-time params (``ncells``, ``ndocs``, ``exact``...)."""
        from xlir.params import make_params, params_to_dict

        self = super().load(path, mmap=mmap)
        if overrides:
            self.params = make_params(ColBERTParams, params_to_dict(self.params) | overrides)
        if encoder is not None:
            self._encoder = encoder
        return self
