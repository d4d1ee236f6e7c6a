"""sentence-transformers encoder: any model name or local folder, with per-model prompts."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from xlir.encoders.base import ModelLoadError, folder_fingerprint, offline_hint, pick_device

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "multilingual-e5-small"
_QUERY_KEYS = ("query",)
_DOC_KEYS = ("passage", "document", "doc", "corpus")


class SentenceTransformerEncoder:
    """Wraps ``SentenceTransformer``; prompts come from the model's own config unless given.

    On CUDA the model runs in fp16. ``encode`` sorts by length internally, so batches hold
    texts of similar length.
    """

    name: ClassVar[str] = "sentence-transformers"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str = "auto",
        batch_size: int = 32,
        max_length: int | None = None,
        query_prompt: str | None = None,
        doc_prompt: str | None = None,
        normalize: bool = True,
    ):
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self.max_length = max_length
        self._query_prompt = query_prompt
        self._doc_prompt = doc_prompt
        self.normalize = normalize
        self._model = None
        self._path: str | None = None

    # -- loading -----------------------------------------------------------------
    @property
    def model(self):
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self):
        from sentence_transformers import SentenceTransformer

        from xlir.models.provision import resolve_model

        path = resolve_model(self.model_name)
        device = pick_device(self.device)
        try:
            model = SentenceTransformer(path, device=device)
        except (OSError, ValueError) as e:
            if Path(path).exists():
                raise ModelLoadError(f"cannot load model from {path}: {e}") from e
            raise ModelLoadError(offline_hint(self.model_name)) from e
        if device.startswith("cuda"):
            model.half()
        if self.max_length:
            model.max_seq_length = self.max_length
        self._path = path
        logger.info("loaded %s from %s on %s", self.model_name, path, device)
        return model

    # -- prompts and identity ------------------------------------------------------
    def _prompt(self, given: str | None, keys: Sequence[str]) -> str:
        if given is not None:
            return given
        prompts = getattr(self.model, "prompts", None) or {}
        for key in keys:
            if key in prompts:
                return prompts[key]
        return ""

    @property
    def query_prompt(self) -> str:
        return self._prompt(self._query_prompt, _QUERY_KEYS)

    @property
    def doc_prompt(self) -> str:
        return self._prompt(self._doc_prompt, _DOC_KEYS)

    @property
    def dim(self) -> int:
        model = self.model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    def identity(self) -> dict[str, Any]:
        """What must match between indexing and searching (device and batch size need not)."""
        model = self.model
        path = Path(self._path or self.model_name)
        revision = folder_fingerprint(path) if path.is_dir() else None
        return {
            "encoder": self.name,
            "model": self.model_name,
            "revision": revision,
            "prompts": {"query": self.query_prompt, "doc": self.doc_prompt},
            "dim": self.dim,
            "max_length": int(model.max_seq_length),
            "normalize": self.normalize,
        }

    # -- encoding ------------------------------------------------------------------
    def _encode(self, texts: Sequence[str], prompt: str, show_progress: bool) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            prompt=prompt or None,
            batch_size=self.batch_size,
            normalize_embeddings=self.normalize,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.query_prompt, show_progress)

    def encode_docs(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.doc_prompt, show_progress)
