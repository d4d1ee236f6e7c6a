"""sentence-transformers ``CrossEncoder`` reranker: any model name (Hub) or local folder."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from xlir.params import params_or_kwargs, params_to_dict
from xlir.rerankers.base import PairReranker, RerankParams
from xlir.rerankers.adapter import doc_text
from xlir.types import Doc, Query

__all__ = ["CrossEncoderReranker", "CrossEncoderParams"]

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "cross-encoder/mmarco-mMiniLMv2-L12-H384-v1"  # multilingual; needs the Hub (or a local copy)


@dataclass(frozen=True)
class CrossEncoderParams(RerankParams):
    """``model``: Hub name or local folder of a sentence-transformers CrossEncoder;
    ``query_prefix``/``doc_prefix``: text put before each side (most cross-encoders want none)."""

    model: str = DEFAULT_MODEL
    query_prefix: str = ""
    doc_prefix: str = ""


class CrossEncoderReranker(PairReranker):
    """Reranks with ``sentence_transformers.CrossEncoder`` (batched, one score per pair).

    ``RERANKERS.create("cross-encoder", model=NAME_OR_PATH)``: the one argument of
    ``cross-encoder:ARG`` is the model. Offline, a name that is not a local folder or in the
    Hugging Face cache raises :class:`~xlir.encoders.base.ModelLoadError` saying how to
    bring a copy over. The model loads on first use.
    """

    name: ClassVar[str] = "cross-encoder"
    Params: ClassVar[type] = CrossEncoderParams

    def __init__(self, model: str | None = None, *, params: CrossEncoderParams | None = None, **kwargs: Any):
        self.params = params_or_kwargs(CrossEncoderParams, params, kwargs, model=model)
        self._model = None

    @property
    def model(self):
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self):
        from sentence_transformers import CrossEncoder

        from xlir.encoders.base import ModelLoadError, pick_device
        from xlir.models.provision import offline_hint

        name = self.params.model
        device = pick_device(self.params.device)
        try:
            model = CrossEncoder(name, device=device, max_length=self.params.max_length)
        except (OSError, ValueError) as e:
            if Path(name).expanduser().exists():
                raise ModelLoadError(f"cannot load cross-encoder from {name}: {e}") from e
            raise ModelLoadError(offline_hint(name)) from e
        logger.info("loaded cross-encoder %s on %s", name, device)
        return model

    def identity(self) -> dict[str, Any]:
        return {"reranker": self.name, "params": params_to_dict(self.params)}

    def score_pairs(self, pairs: Sequence[tuple[Query, Doc]], *, show_progress: bool | None = False) -> np.ndarray:
        """One score per pair as ``CrossEncoder.predict`` returns it (a sigmoid for one-label models)."""
        from xlir.progress import progress_enabled

        if not pairs:
            return np.zeros(0, dtype=np.float32)
        texts = [(self.params.query_prefix + q.text, self.params.doc_prefix + doc_text(d)) for q, d in pairs]
        scores = self.model.predict(
            texts, batch_size=self.params.batch_size, show_progress_bar=progress_enabled(show_progress),
            convert_to_numpy=True,
        )
        scores = np.asarray(scores, dtype=np.float32)
        if scores.ndim == 2:
            if scores.shape[1] != 1:
                raise ValueError(
                    f"cross-encoder {self.params.model!r} outputs {scores.shape[1]} labels per pair; "
                    f"a reranker needs a model with one relevance score"
                )
            scores = scores[:, 0]
        return scores
