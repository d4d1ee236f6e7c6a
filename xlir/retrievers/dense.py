"""Dense bi-encoder retrieval: float16 vectors on disk, exact or faiss ANN search.

Vectors live in ``vectors.f16`` (raw little-endian, shape in the manifest), memory-mapped
on load. ANN structures (HNSW, IVF-PQ) are derived files under ``ann/`` and are rebuilt
from the vectors when missing. Encoding writes chunks to a work folder as it goes, so an
interrupted build resumes from the last complete chunk.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from xlir.chunks import ChunkDir
from xlir.errors import IndexFormatError, ParamError, XlirError
from xlir.progress import progress
from xlir.retrievers.base import IndexedRetriever
from xlir.types import Doc, Query, Run

logger = logging.getLogger(__name__)

_EXACT_BLOCK = 65_536  # rows converted to float32 at a time during exact search
INDEX_TYPES = ("flat", "hnsw", "ivfpq")


class EncoderMismatchError(XlirError, ValueError):
    """The index was built with another encoder (or model revision) than the one searching it."""


@dataclass(frozen=True)
class DenseParams:
    """``encoder``: registry name; ``model``: name or path; ``index``: flat | hnsw | ivfpq."""

    lang: str | None = None
    encoder: str = "sentence-transformers"
    model: str = "multilingual-e5-small"
    index: str = "flat"
    device: str = "auto"
    batch_size: int = 0  # 0: the encoder's own default (sentence-transformers 32, ct2 16, USE 64)
    max_length: int | None = None
    chunk_size: int = 4096
    hnsw_m: int = 32
    hnsw_ef_construction: int = 200
    hnsw_ef_search: int = 128
    ivf_nlist: int = 0  # 0: about 4 * sqrt(n)
    pq_m: int = 0  # 0: dim / 4 sub-quantizers (bytes per vector)
    nprobe: int = 16
    refine: int = 4  # ivfpq: rescore k * refine PQ candidates exactly with the stored vectors (1: off)
    store_text: bool = True

    def validate(self) -> None:
        if self.index not in INDEX_TYPES:
            raise ParamError(f"index must be one of {', '.join(INDEX_TYPES)}; got {self.index!r}")
        if self.lang not in (None, ""):
            from xlir.analysis import normalize_lang

            normalize_lang(self.lang)
        if self.batch_size < 0:
            raise ParamError("batch_size must be >= 0 (0: the encoder's default)")
        for name in ("chunk_size", "hnsw_m", "hnsw_ef_construction", "hnsw_ef_search", "nprobe", "refine"):
            if getattr(self, name) < 1:
                raise ParamError(f"{name} must be >= 1")


def _make_encoder(params: DenseParams):
    from xlir.registry import ENCODERS

    kwargs: dict[str, Any] = {}
    if params.batch_size:
        kwargs["batch_size"] = params.batch_size
    if params.encoder == "use-multilingual":
        # USE has one model; the dense default model name (e5) means "not chosen" here
        if params.model not in ("multilingual-e5-small", "use-multilingual-v3"):
            raise ParamError(f"use-multilingual has a single model (use-multilingual-v3); got model={params.model!r}")
    else:
        kwargs.update(model=params.model, device=params.device, max_length=params.max_length)
    return ENCODERS.create(params.encoder, **kwargs)


class DenseRetriever(IndexedRetriever):
    """Bi-encoder retrieval with exact inner-product search or faiss HNSW / IVF-PQ."""

    name = "dense"
    Params = DenseParams

    def __init__(self, params: DenseParams | None = None, *, encoder=None, **kwargs):
        if isinstance(encoder, str):  # the ``encoder`` parameter (a registry name), not an encoder object
            kwargs["encoder"], encoder = encoder, None
        super().__init__(params, **kwargs)
        self._encoder = encoder
        self.vectors: np.ndarray | None = None
        self._ann = None

    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = _make_encoder(self.params)
        return self._encoder

    # -- indexing ----------------------------------------------------------------
    def index(
        self, docs: Iterable[Doc], *, show_progress: bool | None = False, work_dir: str | Path | None = None
    ) -> None:
        """Encode ``docs``. With ``work_dir``, finished chunks are kept there and reused on a re-run."""
        writer = self._new_docstore()
        texts = []
        for doc in docs:
            writer.add(doc)
            texts.append(doc.contents)
        identity = self.encoder.identity()
        chunks = ChunkDir(Path(work_dir), writer.ids, identity, self.params.chunk_size) if work_dir else None
        size = self.params.chunk_size
        parts = []
        starts = range(0, len(texts), size)
        for start in progress(starts, show_progress=show_progress, desc="encode", unit="chunk", total=len(starts)):
            stored = chunks.get(start) if chunks else None
            cached = stored["vectors"] if stored else None
            if cached is None:
                cached = self.encoder.encode_docs(texts[start : start + size]).astype(np.float16)
                if chunks:
                    chunks.put(start, vectors=cached)
            parts.append(cached)
        dim = int(identity["dim"])
        self.vectors = np.concatenate(parts) if parts else np.zeros((0, dim), np.float16)
        self.docs = writer.to_store()
        self.languages = sorted(writer.languages | ({self.params.lang} if self.params.lang else set()))
        self.identity = identity
        self._ann = None
        logger.info("encoded %d documents (dim %d)", len(texts), dim)

    # -- search --------------------------------------------------------------------
    def search(self, queries: Sequence[Query], k: int = 100, *, show_progress: bool | None = False) -> Run:
        """Top-``k`` documents per query by inner product of normalized vectors."""
        self._require_index()
        if k < 1:
            raise ParamError(f"k must be >= 1, got {k}")
        return self.search_encoded(queries, self.encode_queries(queries), k)

    # -- segments (xlir.segments) --------------------------------------------------------
    supports_segments = True
    runtime_params = ("device", "batch_size", "chunk_size", "hnsw_ef_search", "nprobe", "refine")

    def encode_queries(self, queries: Sequence[Query]) -> np.ndarray:
        """Query vectors (float32), after checking the encoder is the one the index was built with."""
        self._require_index()
        self._check_encoder()
        return self.encoder.encode_queries([x.text for x in queries]).astype(np.float32)

    def search_encoded(self, queries: Sequence[Query], encoded: np.ndarray, k: int) -> Run:
        self._require_index()
        scores, rows = self.search_vectors(encoded, k)
        ids = self.docs.ids
        run: Run = {}
        for query, srow, rrow in zip(queries, scores, rows):
            run[query.id] = {ids[r]: float(s) for s, r in zip(srow.tolist(), rrow.tolist()) if r >= 0}
        return run

    @classmethod
    def merge_segments(cls, segments: Sequence["DenseRetriever"], deleted: Sequence[set[str]]) -> "DenseRetriever":
        """One retriever over the live documents of ``segments`` in order, reusing their vectors (no re-encoding)."""
        from xlir.segments import live_mask, merge_docstores

        first = segments[0]
        merged = cls(first.params, encoder=first._encoder)
        masks = [live_mask(seg, dead) for seg, dead in zip(segments, deleted)]
        merged.vectors = np.concatenate([np.asarray(seg.vectors[m], dtype=np.float16) for seg, m in zip(segments, masks)])
        merged.docs = merge_docstores([seg.docs for seg in segments], masks)
        merged.languages = sorted(set().union(*(seg.languages for seg in segments)))
        merged.identity = first.identity
        merged._ann = None
        return merged

    def search_vectors(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of shape (n_queries, k) for query vectors ``q``; missing hits have row -1."""
        k = min(k, len(self.vectors))
        if k == 0:
            return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
        if self.params.index == "flat":
            return exact_search(self.vectors, q, k)
        ann = self.ann_index()
        if self.params.index == "hnsw":
            ann.hnsw.efSearch = max(self.params.hnsw_ef_search, k)
            return ann.search(np.ascontiguousarray(q, dtype=np.float32), k)
        ann.nprobe = self.params.nprobe
        fetch = min(k * self.params.refine, len(self.vectors))
        scores, rows = ann.search(np.ascontiguousarray(q, dtype=np.float32), fetch)
        if self.params.refine > 1:
            scores, rows = self._refine(q, rows, k)
        return scores[:, :k], rows[:, :k]

    def _refine(self, q: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        # PQ codes lose too much for recall@10 >= 0.9; the exact float16 vectors are already
        # on disk (memory-mapped), so rescoring a few candidates from them is cheap and, unlike
        # faiss.IndexRefineFlat, does not keep a second float32 copy of the vectors in RAM.
        out_s = np.full((len(q), k), -np.inf, dtype=np.float32)
        out_r = np.full((len(q), k), -1, dtype=np.int64)
        for i, cand in enumerate(rows):
            cand = cand[cand >= 0]
            if not len(cand):
                continue
            order = np.argsort(cand, kind="stable")  # sorted rows read the memmap sequentially
            cand = cand[order]
            exact = np.asarray(self.vectors[cand], dtype=np.float32) @ q[i]
            top = np.lexsort((cand, -exact))[:k]  # score desc, then row (the exact search's tie order)
            out_s[i, : len(top)] = exact[top]
            out_r[i, : len(top)] = cand[top]
        return out_s, out_r

    def _check_encoder(self) -> None:
        built = getattr(self, "identity", None)
        if built is None:
            return
        current = self.encoder.identity()
        keys = ("encoder", "model", "revision", "prompts", "dim", "normalize")
        diff = [key for key in keys if built.get(key) != current.get(key)]
        if diff:
            details = "; ".join(f"{key}: index {built.get(key)!r}, now {current.get(key)!r}" for key in diff)
            raise EncoderMismatchError(f"the index was built with a different encoder ({details})")

    # -- ANN structures --------------------------------------------------------------
    def ann_name(self) -> str | None:
        p = self.params
        if p.index == "hnsw":
            return f"ann/hnsw-M{p.hnsw_m}-efc{p.hnsw_ef_construction}.faiss"
        if p.index == "ivfpq":
            nlist, m = self._ivfpq_shape()
            return f"ann/ivf{nlist}-pq{m}.faiss"
        return None

    def _ivfpq_shape(self) -> tuple[int, int]:
        n, dim = self.vectors.shape
        nlist = self.params.ivf_nlist or max(1, min(int(4 * math.sqrt(max(n, 1))), max(1, n // 39)))
        m = self.params.pq_m or max(1, dim // 4)
        if dim % m:
            raise ParamError(f"pq_m={m} must divide the dimension {dim}")
        return nlist, m

    def ann_index(self):
        if self._ann is None:
            self._ann = self.build_ann()
        return self._ann

    def build_ann(self):
        """Build the faiss structure for ``params.index`` from the stored vectors."""
        try:
            import faiss
        except ImportError:
            from xlir.errors import MissingDependencyError

            raise MissingDependencyError('faiss is needed for index=hnsw/ivfpq; pip install "xlir[dense]"') from None
        x = np.asarray(self.vectors, dtype=np.float32)
        dim = x.shape[1]
        if self.params.index == "hnsw":
            index = faiss.IndexHNSWFlat(dim, self.params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = self.params.hnsw_ef_construction
        else:
            nlist, m = self._ivfpq_shape()
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFPQ(quantizer, dim, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(0)
            sample = x if len(x) <= 100_000 else x[rng.choice(len(x), 100_000, replace=False)]
            index.train(sample)
        index.add(x)
        logger.info("built %s over %d vectors", self.ann_name(), len(x))
        return index

    # -- persistence -------------------------------------------------------------------
    def manifest_extra(self) -> dict:
        return {"encoder": self.identity, "vectors": {"dtype": "float16", "shape": list(self.vectors.shape)}}

    def _save_arrays(self, folder: Path) -> dict[str, dict]:
        vec = np.ascontiguousarray(self.vectors, dtype="<f2")
        vec.tofile(folder / "vectors.f16")
        files = {"vectors.f16": {"kind": "raw", "dtype": "<f2", "shape": list(vec.shape),
                                 "bytes": (folder / "vectors.f16").stat().st_size}}
        name = self.ann_name()
        if name:
            import faiss

            (folder / "ann").mkdir(exist_ok=True)
            faiss.write_index(self.ann_index(), str(folder / name))
            files[name] = {"kind": "faiss", "derived": True, "bytes": (folder / name).stat().st_size}
        return files

    def _load_arrays(self, folder: Path, manifest: dict, *, mmap: bool) -> None:
        entry = manifest["files"].get("vectors.f16")
        if not entry:
            raise IndexFormatError(f"{folder}: corrupt index (no vectors.f16 in the manifest)")
        shape = tuple(entry["shape"])
        if mmap:
            self.vectors = np.memmap(folder / "vectors.f16", dtype="<f2", mode="r", shape=shape)
        else:
            self.vectors = np.fromfile(folder / "vectors.f16", dtype="<f2").reshape(shape)
        if shape[0] != len(self.docs):
            raise IndexFormatError(f"{folder}: corrupt index ({shape[0]} vectors for {len(self.docs)} ids)")
        self.identity = manifest.get("encoder")
        self._ann = None
        name = self.ann_name()
        if name and (folder / name).exists():
            import faiss

            self._ann = faiss.read_index(str(folder / name))

    @classmethod
    def load(cls, path, *, mmap: bool = True, encoder=None, **overrides):
        """Load a dense index; ``overrides`` change search-time params (``index``, ``nprobe``, ...)."""
        from xlir.params import make_params, params_to_dict

        self = super().load(path, mmap=mmap)
        if overrides:
            merged = params_to_dict(self.params) | overrides
            self.params = make_params(DenseParams, merged)
            self._ann = None
            name = self.ann_name()
            if name and (Path(path) / name).exists():
                import faiss

                self._ann = faiss.read_index(str(Path(path) / name))
        if isinstance(encoder, str):
            self.params = make_params(DenseParams, params_to_dict(self.params) | {"encoder": encoder})
        elif encoder is not None:
            self._encoder = encoder
        return self


def exact_search(vectors: np.ndarray, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product top-k over (possibly memory-mapped float16) ``vectors``, block by block.

    Ties are broken by lower row. Only one block is converted to float32 at a time, so a
    memory-mapped index is never read into RAM whole.
    """
    nq = len(q)
    best_s = np.full((nq, 0), -np.inf, dtype=np.float32)
    best_r = np.zeros((nq, 0), dtype=np.int64)
    for start in range(0, len(vectors), _EXACT_BLOCK):
        block = np.asarray(vectors[start : start + _EXACT_BLOCK], dtype=np.float32)
        s = q @ block.T
        kk = min(k, s.shape[1])
        part = np.argpartition(-s, kk - 1, axis=1)[:, :kk] if kk < s.shape[1] else np.tile(np.arange(s.shape[1]), (nq, 1))
        cand_s = np.concatenate([best_s, np.take_along_axis(s, part, axis=1)], axis=1)
        cand_r = np.concatenate([best_r, part + start], axis=1)
        order = _order(cand_s, cand_r)[:, :k]
        best_s = np.take_along_axis(cand_s, order, axis=1)
        best_r = np.take_along_axis(cand_r, order, axis=1)
    return best_s, best_r


def _order(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return np.stack([np.lexsort((r, -s)) for s, r in zip(scores, rows)]) if len(scores) else np.zeros((0, 0), np.int64)
