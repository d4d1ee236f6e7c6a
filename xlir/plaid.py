"""PLAID-style compressed late-interaction index: centroids, residual codec, IVF, search.

Every token vector is stored as the id of its nearest centroid plus its residual
(vector - centroid) quantized to ``nbits`` (1, 2 or 4) per dimension and bit-packed
(ColBERTv2 / PLAID; Santhanam et al. 2022). Unlike ColBERTv2 (quantile cutoffs, bucket
medians), the buckets of each dimension are a Lloyd-Max quantizer of a sample's residuals:
cutoffs start at quantiles, then each bucket decompresses to the mean of its residuals and
each cutoff sits midway between neighbouring values (least squared error). And the residual
is coded as gain and shape: its norm is kept (float16, 2 bytes a token) and the buckets
quantize the unit residual, which is rescaled to unit length and to that norm on
decompression. On XQuAD-R (de) with e5 token vectors at 2 bits, Lloyd-Max took the top-100
overlap with exact MaxSim over the float vectors from 0.89 to 0.94, gain-shape to 0.96.
(Indexes written before gain-shape have no norms file and decompress the old way.)
On collections of at least 16,384 tokens (``residual_codec="auto"``) the unit residual is
product-quantized instead: each byte of the packed residual is the id of one of 256 codewords
for its group of ``8 / nbits`` dimensions (4 at 2 bits), trained by k-means (faiss's
ProductQuantizer) on a sample of unit residuals. It is the same ``nbits`` per dimension and the
same byte layout (decompression is still one table lookup per byte), but a codeword places a
group's values jointly instead of one dimension at a time. The codebooks (float16, as many bytes
as 256 centroids) are paid for with 256 fewer centroids. On XQuAD-R with e5 token vectors at 2
bits (300 questions, ``benchmarks/colbert.py``) this took the top-100 overlap with exact
MaxSim from 0.944-0.957 to 0.953-0.964 (every language gained 0.007-0.011) at the same index
size. Smaller collections keep the per-dimension Lloyd-Max buckets (256 codewords would not be
worth their bytes).
An inverted list maps each centroid to the documents with a token in it.

Search (PLAID's four stages, on the CPU): (1) candidates are the documents in the ``ncells``
centroids nearest to each query token; (2) they are scored by MaxSim over centroid scores
only, dropping centroids whose best query score is below ``centroid_score_threshold``, and
the best ``ndocs`` are kept; (3) those are rescored with every centroid and the best
``max(k, ndocs // 4)`` kept; (4) their residuals are decompressed and scored by exact MaxSim.
Unlike PLAID, when the probed cells hold fewer than ``ndocs`` documents, ``ncells`` is
doubled until they do or every cell is probed: the search then spends the candidate budget it
was given (on a small collection, where a few cells hold few documents, this is exhaustive).
Centroids are stored as float16, and there are at most ``tokens * nbits / 64`` of them (less
256 with codebooks), so that the tables cost at most a quarter of the packed residuals
(PLAID's count, 16 sqrt(tokens), exceeds that below ~260k tokens and would dominate a small
index).

Why hand-written: PLAID's reference engine (colbert-ai) and PyLate's fast-plaid compile
C++/CUDA extensions at first use and need torch at search time; this is numpy (k-means,
nearest centroid, codec; faiss's ProductQuantizer trains and assigns the codewords) + small
numba loops over candidate tokens.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from xlir.errors import IndexFormatError, ParamError
from xlir.progress import progress

logger = logging.getLogger(__name__)

NBITS = (1, 2, 4)
_BLOCK = 16_384  # token vectors handled at a time when compressing or scoring exactly


def plaid_defaults(k: int) -> tuple[int, float, int]:
    """Search settings for a cutoff ``k``: (ncells, centroid_score_threshold, ndocs).

    PLAID's, except ndocs for k <= 100: 4096 instead of 1024 (1,024 documents scored exactly
    instead of 256). With the offline e5 token vectors, centroid-only scores rank documents
    poorly: on a 2,400-paragraph XQuAD-R pool, 1024 kept 0.76 of the exhaustive top 100,
    4096 keeps 0.985, at about the same speed there (``benchmarks/colbert.py``).
    """
    if k <= 10:
        return 1, 0.5, 256
    if k <= 100:
        return 2, 0.45, 4096
    return 4, 0.4, max(k * 4, 4096)


def num_centroids(ntokens: int, cap: int = 0, nbits: int = 0, reserve: int = 0) -> int:
    """PLAID's 2^floor(log2(16 sqrt(tokens))), at most ``cap`` (when > 0), ``ntokens`` and, with
    ``nbits``, ``tokens * nbits / 64 - reserve`` (the float16 centroid table, plus ``reserve``
    rows' worth of other tables such as residual codebooks, <= 1/4 of the packed residuals)."""
    n = 2 ** int(math.floor(math.log2(16 * math.sqrt(max(ntokens, 1)))))
    if cap:
        n = min(n, cap)
    if nbits:
        n = min(n, max(1, ntokens * nbits // 64 - reserve))
    return max(1, min(n, ntokens))


PQ_MIN_TOKENS = 16_384
PQ_CODEWORDS = 256  # one byte per group of 8 / nbits dimensions
RESIDUAL_CODECS = ("auto", "pq", "lloyd")


def pq_fits(ntokens: int, nbits: int) -> bool:
    """Whether ``residual_codec="auto"`` product-quantizes: enough tokens to train 256 codewords
    per byte, and to pay for the codebooks with 256 centroids while keeping at least 256."""
    return ntokens >= PQ_MIN_TOKENS and ntokens * nbits // 64 >= 2 * PQ_CODEWORDS


def train_centroids(sample: np.ndarray, k: int, *, niter: int = 4, seed: int = 0) -> np.ndarray:
    """Spherical k-means (Lloyd) of ``sample``; returns ``(k, dim)`` float32 unit vectors.

    Hand-written rather than ``faiss.Kmeans``: its assignment step (IndexFlatIP search,
    k=1) measured 2-3x slower than a numpy matmul + argmax on this 2-core CPU, and the
    assignment is the whole cost. Empty clusters are re-seeded with random sample points.
    """
    x = np.ascontiguousarray(sample, dtype=np.float32)
    rng = np.random.default_rng(seed)
    k = min(k, len(x))
    centroids = x[rng.choice(len(x), k, replace=False)].copy()
    for _ in range(niter):
        assign = _argmax_ip(x, centroids)
        sums = np.zeros_like(centroids)
        np.add.at(sums, assign, x) if len(x) < 4096 else _segment_sum(x, assign, sums)
        counts = np.bincount(assign, minlength=k)
        empty = np.flatnonzero(counts == 0)
        sums[empty] = x[rng.choice(len(x), len(empty), replace=False)] if len(empty) else sums[empty]
        centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return np.ascontiguousarray(centroids, dtype=np.float32)


def _segment_sum(x: np.ndarray, assign: np.ndarray, out: np.ndarray) -> None:
    order = np.argsort(assign, kind="stable")
    ids, starts = np.unique(assign[order], return_index=True)
    out[ids] = np.add.reduceat(x[order], starts, axis=0)


def _argmax_ip(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    out = np.empty(len(x), dtype=np.int64)
    for s in range(0, len(x), 4096):
        block = np.asarray(x[s : s + 4096], dtype=np.float32)
        out[s : s + len(block)] = (block @ centroids.T).argmax(axis=1)
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _bucketize(resid: np.ndarray, cutoffs: np.ndarray) -> np.ndarray:
    """Bucket of each value: the number of its dimension's (ascending) cutoffs below it."""
    buckets = np.zeros(resid.shape, dtype=np.uint8)
    for j in range(cutoffs.shape[1]):
        buckets += resid > cutoffs[:, j]
    return buckets


def _lut(nbits: int) -> np.ndarray:
    per = 8 // nbits
    shifts = nbits * np.arange(per - 1, -1, -1)
    return ((np.arange(256)[:, None] >> shifts) & ((1 << nbits) - 1)).astype(np.uint8)  # (256, per)


def check_settings(nbits: int, residual_codec: str = "auto") -> None:
    """Refuse an ``nbits`` or ``residual_codec`` the index cannot build."""
    if nbits not in NBITS:
        raise ParamError(f"nbits must be one of {', '.join(map(str, NBITS))}; got {nbits}")
    if residual_codec not in RESIDUAL_CODECS:
        raise ParamError(f"residual_codec must be one of {', '.join(RESIDUAL_CODECS)}; got {residual_codec!r}")


def _check_layout(dim: int, nbits: int) -> None:
    check_settings(nbits)
    if dim * nbits % 8:
        raise ParamError(f"dimension {dim} times nbits {nbits} must be a multiple of 8")


class ResidualCodec:
    """Centroids + residual quantizer (per-dimension buckets, or ``codebooks``: one per byte of
    the packed residual); ``compress`` / ``decompress`` token vectors."""

    def __init__(self, centroids: np.ndarray, nbits: int, cutoffs: np.ndarray | None = None,
                 weights: np.ndarray | None = None, *, gain: bool = True, codebooks: np.ndarray | None = None):
        dim = centroids.shape[1]
        _check_layout(dim, nbits)
        self.centroids = centroids
        self.nbits = nbits
        self.gain = gain  # the quantizer codes the unit residual; its norm travels beside it
        # (bytes, 256, 8 / nbits) float32 values of float16 codewords; None: the buckets code each dimension
        self.codebooks = None if codebooks is None else np.ascontiguousarray(codebooks, dtype=np.float32)
        if self.codebooks is None:
            if cutoffs is None or weights is None:
                raise ParamError("a residual codec needs bucket cutoffs and weights, or codebooks")
            self.cutoffs = cutoffs  # (dim, 2^nbits - 1), ascending per dimension
            self.weights = weights  # (dim, 2^nbits): the value each bucket decompresses to
        else:
            if not gain or self.codebooks.shape != (dim * nbits // 8, PQ_CODEWORDS, 8 // nbits):
                raise ParamError(f"residual codebooks of shape {self.codebooks.shape} do not fit {dim} dimensions at "
                                 f"{nbits} bits (and need the gain-shape codec)")
            self.cutoffs = self.weights = None
        self._lut = _lut(nbits)
        self._table = self.codebooks
        self._pq = None

    @property
    def dim(self) -> int:
        return int(self.centroids.shape[1])

    @classmethod
    def train(cls, centroids: np.ndarray, sample: np.ndarray, nbits: int, *, lloyd_iters: int = 10,
              gain: bool = True, pq: bool = False, seed: int = 0) -> "ResidualCodec":
        """Bucket cutoffs and weights (a Lloyd-Max quantizer per dimension, ``lloyd_iters``
        refinements) from the (unit, with ``gain``) residuals of ``sample`` against ``centroids``;
        with ``pq``, codebooks instead (k-means of each byte's group of dimensions; needs
        ``gain`` and at least 256 sample vectors)."""
        centroids = np.ascontiguousarray(centroids, dtype=np.float32)
        _check_layout(centroids.shape[1], nbits)
        if pq and (not gain or len(sample) < PQ_CODEWORDS):
            raise ParamError(f"product-quantized residuals need the gain-shape codec and at least "
                             f"{PQ_CODEWORDS} sample vectors (got {len(sample)})")
        sample = np.asarray(sample, dtype=np.float32)
        resid = sample - centroids[_argmax_ip(sample, centroids)]
        if gain:
            resid = _unit(resid)
        if pq:
            return cls(centroids, nbits, codebooks=_train_codebooks(resid, nbits, seed))
        nb = 1 << nbits
        qs = np.quantile(resid, np.arange(1, 2 * nb) / (2 * nb), axis=0).T  # odd: bucket medians, even: cutoffs
        cut, mid = qs[:, 1::2], qs[:, 0::2]
        for _ in range(lloyd_iters):
            buckets = _bucketize(resid, cut)
            for b in range(nb):
                inside = buckets == b
                count = inside.sum(axis=0)
                mean = np.where(inside, resid, 0).sum(axis=0) / np.maximum(count, 1)
                mid[:, b] = np.where(count > 0, mean, mid[:, b])  # an empty bucket keeps its value
            cut = (mid[:, 1:] + mid[:, :-1]) / 2
        return cls(centroids, nbits, np.ascontiguousarray(cut, dtype=np.float32),
                   np.ascontiguousarray(mid, dtype=np.float32), gain=gain)

    def assign(self, vectors: np.ndarray) -> np.ndarray:
        """Nearest centroid (inner product) of each vector."""
        return _argmax_ip(vectors, self.centroids)

    def _quantizer(self):
        """faiss's ProductQuantizer holding the (float16-rounded) codebooks, for encoding."""
        if self._pq is None:
            faiss = _faiss()
            pq = faiss.ProductQuantizer(self.dim, self.codebooks.shape[0], 8)
            faiss.copy_array_to_vector(self.codebooks.ravel(), pq.centroids)
            self._pq = pq
        return self._pq

    def compress(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(codes, packed residuals, residual norms)`` of ``vectors``: centroid ids, ``dim * nbits / 8``
        bytes and (with ``gain``; else ``None``) a float16 norm each."""
        codes = self.assign(vectors)
        per = 8 // self.nbits
        shifts = (self.nbits * np.arange(per - 1, -1, -1)).astype(np.uint8)
        packed = np.empty((len(vectors), self.dim // per), dtype=np.uint8)
        norms = np.empty(len(vectors), np.float16) if self.gain else None
        for s in range(0, len(vectors), _BLOCK):
            x = np.asarray(vectors[s : s + _BLOCK], dtype=np.float32)
            resid = x - self.centroids[codes[s : s + len(x)]]
            if norms is not None:
                norms[s : s + len(x)] = np.linalg.norm(resid, axis=1)
                resid = _unit(resid)
            if self.codebooks is not None:
                packed[s : s + len(x)] = self._quantizer().compute_codes(np.ascontiguousarray(resid))
                continue
            groups = _bucketize(resid, self.cutoffs).reshape(len(x), -1, per) << shifts
            packed[s : s + len(x)] = np.bitwise_or.reduce(groups, axis=2)
        return codes, packed, norms

    def decompress(self, codes: np.ndarray, packed: np.ndarray, norms: np.ndarray | None = None) -> np.ndarray:
        """Token vectors (float32, L2-normalized) from their codes, packed residuals and (with
        ``gain``) residual norms."""
        if self.gain and norms is None:
            raise ParamError("this codec stores residual norms: decompress needs them")
        if self._table is None:
            # residual values of every (byte position, byte value): one gather per byte
            per = 8 // self.nbits
            dims = np.arange(self.dim).reshape(-1, per)  # (bytes, per)
            self._table = np.ascontiguousarray(self.weights[dims[:, None, :], self._lut[None, :, :]], dtype=np.float32)
        from xlir._plaid_kernels import decompress_into

        out = np.empty((len(codes), self.dim), np.float32)
        norms = np.ones(len(codes), np.float32) if norms is None else np.asarray(norms, np.float32)
        decompress_into(self._table, self.centroids, np.asarray(codes), np.ascontiguousarray(packed), norms,
                        self.gain, out)
        return out


def _faiss():
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss ships with the dense extra
        raise ParamError("product-quantized residuals need faiss: pip install 'xlir[dense]' "
                         "(or build with residual_codec='lloyd')") from exc
    return faiss


def _train_codebooks(unit_resid: np.ndarray, nbits: int, seed: int) -> np.ndarray:
    """(bytes, 256, 8 / nbits) codewords: faiss k-means per byte's group of dimensions, rounded
    to float16 (as stored) so that encoding picks the codeword that decompression will use."""
    faiss = _faiss()
    dim = unit_resid.shape[1]
    nbytes = dim * nbits // 8
    pq = faiss.ProductQuantizer(dim, nbytes, 8)
    pq.cp.seed = seed  # k-means samples at most 256 vectors per codeword (faiss's default)
    pq.train(np.ascontiguousarray(unit_resid, dtype=np.float32))
    books = faiss.vector_to_array(pq.centroids).reshape(nbytes, PQ_CODEWORDS, 8 // nbits)
    return books.astype(np.float16).astype(np.float32)


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for each (s, n)."""
    total = int(lens.sum())
    if not total:
        return np.zeros(0, np.int64)
    ends = np.cumsum(lens)
    return np.repeat(starts - (ends - lens), lens) + np.arange(total)


def maxsim(q: np.ndarray, tokens: np.ndarray, doclens: np.ndarray) -> np.ndarray:
    """MaxSim score of query ``q`` (tokens, dim) against documents whose token vectors are
    ``tokens`` stacked in order with ``doclens`` (each >= 1) vectors each."""
    if not len(doclens):
        return np.zeros(0, np.float32)
    s = q.astype(np.float32) @ np.asarray(tokens, dtype=np.float32).T
    starts = np.concatenate([[0], np.cumsum(doclens)[:-1]])
    return np.maximum.reduceat(s, starts, axis=1).sum(axis=0)


def exact_maxsim_all(q: np.ndarray, tokens: np.ndarray, doclens: np.ndarray) -> np.ndarray:
    """MaxSim of ``q`` against every document of a (possibly memory-mapped) token array, in blocks."""
    out = np.zeros(len(doclens), np.float32)
    offsets = np.concatenate([[0], np.cumsum(doclens, dtype=np.int64)])
    d = 0
    while d < len(doclens):
        e = max(d + 1, int(np.searchsorted(offsets, offsets[d] + _BLOCK * 4, side="right")) - 1)
        e = min(e, len(doclens))
        out[d:e] = maxsim(q, tokens[offsets[d] : offsets[e]], doclens[d:e])
        d = e
    return out


def top_k(scores: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` by score, ties by lower row."""
    order = np.lexsort((rows, -scores))[:k]
    return scores[order], rows[order]


@dataclass
class PlaidIndex:
    """The arrays of a compressed index (see the module docstring); all may be memory-mapped."""

    codec: ResidualCodec
    codes: np.ndarray  # (tokens,) centroid id per token, uint16 or int32
    residuals: np.ndarray  # (tokens, dim * nbits / 8) uint8
    doclens: np.ndarray  # (docs,) int32
    ivf_indptr: np.ndarray  # (centroids + 1,) int64
    ivf_pids: np.ndarray  # documents of each centroid, int32
    vectors: np.ndarray | None = None  # optional uncompressed float16 tokens (exact search)
    norms: np.ndarray | None = None  # (tokens,) float16 residual norms (gain-shape codec)

    def __post_init__(self):
        self.offsets = np.concatenate([[0], np.cumsum(self.doclens, dtype=np.int64)])

    # -- building -----------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        parts: Sequence[tuple[np.ndarray, np.ndarray]],
        *,
        nbits: int = 2,
        ncentroids: int = 0,
        max_centroids: int = 0,
        kmeans_niters: int = 4,
        kmeans_sample: int = 0,
        keep_vectors: bool = False,
        residual_codec: str = "auto",
        seed: int = 0,
        show_progress: bool | None = False,
    ) -> "PlaidIndex":
        """Compress ``parts``: a sequence of (token vectors, doclens) chunks in document order.

        Centroids are trained on a random sample of tokens (``kmeans_sample``; 0: 64 per
        centroid, at least 100,000), then each chunk is compressed on its own, so only one
        chunk is converted to float32 at a time. ``residual_codec``: ``"pq"`` (codebooks per
        byte), ``"lloyd"`` (buckets per dimension) or ``"auto"`` (pq from 16,384 tokens).
        """
        check_settings(nbits, residual_codec)
        counts = [len(v) for v, _ in parts]
        ntok = int(sum(counts))
        dim = int(parts[0][0].shape[1]) if parts else 0
        if ntok == 0:
            raise ParamError("nothing to index (no token vectors)")
        pq = residual_codec == "pq" or (residual_codec == "auto" and pq_fits(ntok, nbits))
        k = ncentroids or num_centroids(ntok, max_centroids, nbits, reserve=PQ_CODEWORDS if pq else 0)
        k = min(k, ntok)
        rng = np.random.default_rng(seed)
        size = min(ntok, kmeans_sample or max(100_000, 64 * k))
        picked = np.sort(rng.choice(ntok, size, replace=False)) if size < ntok else np.arange(ntok)
        sample = np.empty((size, dim), np.float32)
        start = filled = 0
        for (vec, _), n in zip(parts, counts):
            sel = picked[(picked >= start) & (picked < start + n)] - start
            sample[filled : filled + len(sel)] = vec[sel]
            filled += len(sel)
            start += n
        # stored as float16 (half the bytes; on small corpora PLAID's centroid count makes them a
        # visible part of the index): round now so that a loaded index searches like the built one
        centroids = train_centroids(sample, k, niter=kmeans_niters, seed=seed).astype(np.float16).astype(np.float32)
        codec = ResidualCodec.train(centroids, sample[rng.permutation(size)[:65_536]], nbits, pq=pq, seed=seed)
        code_dtype = np.uint16 if k <= 65_536 else np.int32
        codes = np.empty(ntok, code_dtype)
        residuals = np.empty((ntok, dim * nbits // 8), np.uint8)
        norms = np.empty(ntok, np.float16)
        vectors = np.empty((ntok, dim), np.float16) if keep_vectors else None
        doclens = np.concatenate([np.asarray(d, np.int32) for _, d in parts])
        pos = 0
        for vec, _ in progress(parts, show_progress=show_progress, desc="compress", unit="chunk", total=len(parts)):
            c, r, n = codec.compress(vec)
            codes[pos : pos + len(vec)] = c
            residuals[pos : pos + len(vec)] = r
            norms[pos : pos + len(vec)] = n
            if vectors is not None:
                vectors[pos : pos + len(vec)] = vec
            pos += len(vec)
        indptr, pids = build_ivf(codes, doclens, k)
        logger.info("compressed %d tokens of %d documents: %d centroids, %d-bit %s residuals", ntok, len(doclens), k,
                    nbits, "product-quantized" if pq else "Lloyd-Max")
        return cls(codec, codes, residuals, doclens, indptr, pids, vectors, norms)

    # -- sizes --------------------------------------------------------------------------
    def nbytes(self) -> int:
        """Bytes of the compressed index arrays (not the optional float16 vectors)."""
        arrays = (self.codes, self.residuals, self.doclens, self.ivf_indptr, self.ivf_pids)
        arrays += (self.norms,) if self.norms is not None else ()
        codec = self.codec
        arrays += (codec.cutoffs, codec.weights) if codec.codebooks is None else ()
        tables = codec.centroids.size + (0 if codec.codebooks is None else codec.codebooks.size)
        return int(sum(a.nbytes for a in arrays)) + tables * 2  # centroids and codebooks are stored as float16

    @property
    def residual_codec(self) -> str:
        """``"pq"`` or ``"lloyd"``."""
        return "lloyd" if self.codec.codebooks is None else "pq"

    # -- search -------------------------------------------------------------------------
    def search(
        self, q: np.ndarray, k: int, *, ncells: int = 0, centroid_score_threshold: float | None = None, ndocs: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the best ``k`` documents for query token vectors ``q``, best first."""
        from xlir._plaid_kernels import centroid_maxsim

        d_cells, d_thr, d_ndocs = plaid_defaults(k)
        ncells = ncells or d_cells
        thr = d_thr if centroid_score_threshold is None else centroid_score_threshold
        ndocs = max(ndocs or d_ndocs, k)
        q = np.ascontiguousarray(q, dtype=np.float32)
        scores_c = q @ self.codec.centroids.T  # (qtokens, centroids)
        order = np.argsort(-scores_c, axis=1)
        while True:
            ncells = min(ncells, scores_c.shape[1])
            cells = np.unique(order[:, :ncells])
            pids = np.unique(self.ivf_pids[_ranges(self.ivf_indptr[cells], self.ivf_indptr[cells + 1] - self.ivf_indptr[cells])])
            # unlike PLAID, probe more cells while the candidates do not fill the ndocs budget
            # (small collections, where a few cells hold few documents)
            if len(pids) >= min(ndocs, len(self.doclens)) or ncells >= scores_c.shape[1]:
                break
            ncells *= 2
        if not len(pids):
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        st = np.ascontiguousarray(scores_c.T)  # (centroids, qtokens): one row per token's centroid
        codes = np.asarray(self.codes)
        if len(pids) > ndocs:  # stage 2: pruned centroid interaction
            keep = st.max(axis=1) >= thr
            approx = centroid_maxsim(st, keep, codes, self.offsets, pids.astype(np.int64))
            _, pids = top_k(approx, pids, ndocs)
        nexact = max(k, ndocs // 4)
        if len(pids) > nexact:  # stage 3: full centroid interaction
            approx = centroid_maxsim(st, np.ones(len(st), np.bool_), codes, self.offsets, pids.astype(np.int64))
            _, pids = top_k(approx, pids, nexact)
        pids = np.sort(pids)  # stage 4: decompress and score exactly; sorted rows read the memmap in order
        lens = self.doclens[pids].astype(np.int64)
        toks = _ranges(self.offsets[pids], lens)
        vec = self.decompress(toks)
        return top_k(maxsim(q, vec, lens), pids.astype(np.int64), k)

    def decompress(self, toks: np.ndarray | None = None) -> np.ndarray:
        """Decompressed token vectors of rows ``toks`` (all when ``None``)."""
        codes, res, norms = self.codes, self.residuals, self.norms
        if toks is not None:
            codes, res = np.asarray(codes)[toks], res[toks]
            norms = None if norms is None else norms[toks]
        return self.codec.decompress(np.asarray(codes), np.asarray(res), None if norms is None else np.asarray(norms))

    def search_exact(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Brute-force MaxSim over the stored uncompressed float16 vectors."""
        if self.vectors is None:
            raise ParamError("exact search needs the uncompressed vectors: build with keep_vectors=True")
        s = exact_maxsim_all(q, self.vectors, self.doclens)
        return top_k(s, np.arange(len(s)), k)

    # -- persistence --------------------------------------------------------------------
    def save(self, folder: Path) -> dict[str, dict]:
        from xlir.store import save_array

        arrays = {"centroids.npy": self.codec.centroids.astype(np.float16), "codes.npy": self.codes,
                  "residuals.npy": self.residuals, "doclens.npy": self.doclens, "ivf_indptr.npy": self.ivf_indptr,
                  "ivf_pids.npy": self.ivf_pids}
        if self.codec.codebooks is None:
            arrays.update({"bucket_cutoffs.npy": self.codec.cutoffs, "bucket_weights.npy": self.codec.weights})
        else:
            arrays["residual_codebooks.npy"] = self.codec.codebooks.astype(np.float16)
        if self.norms is not None:
            arrays["residual_norms.npy"] = self.norms
        if self.vectors is not None:
            arrays["vectors.npy"] = self.vectors
        return {name: save_array(folder, name, a) for name, a in arrays.items()}

    @classmethod
    def load(cls, folder: Path, files: dict, nbits: int, *, mmap: bool = True) -> "PlaidIndex":
        from xlir.store import load_array

        pq = "residual_codebooks.npy" in files
        quantizer = ("residual_codebooks.npy", "residual_norms.npy") if pq else ("bucket_cutoffs.npy", "bucket_weights.npy")
        for name in ("centroids.npy", "codes.npy", "residuals.npy", "doclens.npy", "ivf_indptr.npy", "ivf_pids.npy",
                     *quantizer):
            if name not in files:
                raise IndexFormatError(f"{folder}: corrupt index (no {name} in the manifest)")
        a = {name: load_array(folder, name, mmap=mmap) for name in files if name.endswith(".npy")}
        # small arrays used whole on every query are read into memory
        norms = a.get("residual_norms.npy")  # absent: an index from before the gain-shape codec
        buckets = [None if a.get(n) is None else np.asarray(a[n]) for n in ("bucket_cutoffs.npy", "bucket_weights.npy")]
        try:
            codec = ResidualCodec(np.asarray(a["centroids.npy"], np.float32), nbits, *buckets, gain=norms is not None,
                                  codebooks=a.get("residual_codebooks.npy"))
        except ParamError as exc:
            raise IndexFormatError(f"{folder}: corrupt index ({exc})") from exc
        index = cls(codec, a["codes.npy"], a["residuals.npy"], np.asarray(a["doclens.npy"]),
                    np.asarray(a["ivf_indptr.npy"]), a["ivf_pids.npy"], a.get("vectors.npy"), norms)
        if (index.offsets[-1] != len(index.codes) or len(index.codes) != len(index.residuals)
                or (norms is not None and len(norms) != len(index.codes))):
            raise IndexFormatError(f"{folder}: corrupt index (doclens, codes and residuals disagree)")
        return index


def build_ivf(codes: np.ndarray, doclens: np.ndarray, ncentroids: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR inverted list centroid -> sorted unique documents with a token in it."""
    ndocs = len(doclens)
    doc_of = np.repeat(np.arange(ndocs, dtype=np.int64), doclens)
    keys = np.unique(np.asarray(codes, np.int64) * ndocs + doc_of)
    cent = keys // max(ndocs, 1)
    pids = (keys - cent * ndocs).astype(np.int32)
    indptr = np.zeros(ncentroids + 1, np.int64)
    np.cumsum(np.bincount(cent, minlength=ncentroids), out=indptr[1:])
    return indptr, pids


def iter_parts(vectors: np.ndarray, doclens: np.ndarray, docs_per_part: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Split stacked token vectors into (vectors, doclens) chunks of ``docs_per_part`` documents."""
    offsets = np.concatenate([[0], np.cumsum(doclens, dtype=np.int64)])
    for d in range(0, len(doclens), docs_per_part):
        e = min(d + docs_per_part, len(doclens))
        yield vectors[offsets[d] : offsets[e]], doclens[d:e]

