"""MaxSim (late interaction) reranker: rescore any first stage's candidates with ColBERT.

Each distinct query and document is encoded once to token vectors
(:class:`xlir.encoders.colbert.ColBERTEncoder`); a pair's score is ColBERT's MaxSim, the sum
over query tokens of the best inner product with a document token, on uncompressed vectors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import numpy as np

from xlir.params import params_or_kwargs, params_to_dict
from xlir.rerankers.base import PairReranker, RerankParams
from xlir.types import Doc, Query

__all__ = ["MaxSimReranker", "MaxSimParams"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MaxSimParams(RerankParams):
    """``model``: a ColBERT checkpoint folder (Stanford or PyLate layout) or any encoder
    (default multilingual-e5-small token vectors, zero-shot); ``max_length`` is the document
    length in tokens, ``query_maxlen`` 0 means the model's."""

    model: str = "multilingual-e5-small"
    max_length: int = 512
    batch_size: int = 32
    query_maxlen: int = 0
    query_augment: bool = True


class MaxSimReranker(PairReranker):
    """``RERANKERS.create("colbert", model=NAME_OR_PATH)``; the model loads on first use."""

    name: ClassVar[str] = "colbert"
    Params: ClassVar[type] = MaxSimParams

    def __init__(self, model: str | None = None, *, params: MaxSimParams | None = None, encoder=None, **kwargs: Any):
        self.params = params_or_kwargs(MaxSimParams, params, kwargs, model=model)
        self._encoder = encoder

    @property
    def encoder(self):
        if self._encoder is None:
            from xlir.encoders.colbert import ColBERTEncoder

            p = self.params
            self._encoder = ColBERTEncoder(p.model, device=p.device, batch_size=p.batch_size,
                                           query_maxlen=p.query_maxlen or None, doc_maxlen=p.max_length,
                                           query_augment=p.query_augment)
        return self._encoder

    def identity(self) -> dict[str, Any]:
        return {"reranker": self.name, "params": params_to_dict(self.params), "encoder": self.encoder.identity()}

    def score_pairs(self, pairs: Sequence[tuple[Query, Doc]], *, show_progress: bool | None = False) -> np.ndarray:
        """MaxSim of each (query, document) pair; each distinct text is encoded once."""
        from xlir.plaid import maxsim

        if not pairs:
            return np.zeros(0, np.float32)
        qtexts = list(dict.fromkeys(q.text for q, _ in pairs))
        dtexts = list(dict.fromkeys(d.contents for _, d in pairs))
        qvecs = dict(zip(qtexts, self.encoder.encode_queries(qtexts)))
        vecs, lens = self.encoder.encode_docs(dtexts)
        offsets = np.concatenate([[0], np.cumsum(lens)])
        row = {t: i for i, t in enumerate(dtexts)}
        out = np.empty(len(pairs), np.float32)
        for i, (q, d) in enumerate(pairs):
            r = row[d.contents]
            out[i] = maxsim(qvecs[q.text], vecs[offsets[r] : offsets[r + 1]], lens[r : r + 1])[0]
        return out
