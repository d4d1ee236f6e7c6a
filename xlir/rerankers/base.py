"""Shared pieces of rerankers: which documents to rescore, and merging scores back into a run.

A reranker rescores the top ``depth`` documents of each query; the documents below
``depth`` stay in the run, below every reranked one, in their first-stage order. Order is
deterministic: the top ``depth`` are taken by (score descending, docid ascending), the
order TREC tools and :mod:`xlir.io.trec` use.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from xlir.errors import InputError, ParamError
from xlir.progress import progress
from xlir.types import Doc, Query, Run

__all__ = ["top_depth", "merge_reranked", "interpolate", "collect_pairs", "PairReranker", "RerankParams"]

logger = logging.getLogger(__name__)


def _order_key(item: tuple[str, float]) -> tuple[float, str]:
    return (-item[1], item[0])


def top_depth(ranking: Mapping[str, float], depth: int) -> list[str]:
    """The ids of the ``depth`` best documents by (score desc, docid asc)."""
    return [d for d, _ in sorted(ranking.items(), key=_order_key)[:depth]]


def merge_reranked(ranking: Mapping[str, float], reranked: Mapping[str, float]) -> dict[str, float]:
    """One query's run: ``reranked`` scores first, then every other document of ``ranking``.

    The documents not reranked keep their first-stage order (and score gaps): their scores
    are shifted so that the best of them lies 1.0 below the worst reranked score.
    """
    out = {d: float(s) for d, s in reranked.items()}
    rest = {d: float(s) for d, s in ranking.items() if d not in reranked}
    if rest and out:
        shift = (min(out.values()) - 1.0) - max(rest.values())
        out.update({d: s + shift for d, s in rest.items()})
    else:
        out.update(rest)
    return out


def interpolate(reranked: Mapping[str, float], first: Mapping[str, float], weight: float) -> dict[str, float]:
    """``(1 - weight) * minmax(reranked) + weight * minmax(first)`` over the reranked documents.

    Min-max normalization per query puts a cross-encoder's logits and a first stage's
    scores (BM25, cosine) on one scale; a constant list normalizes to zeros.
    """
    if weight == 0.0:
        return dict(reranked)
    docs = list(reranked)
    a = _minmax(np.array([reranked[d] for d in docs], dtype=np.float64))
    b = _minmax(np.array([first[d] for d in docs], dtype=np.float64))
    mixed = (1.0 - weight) * a + weight * b
    return {d: float(s) for d, s in zip(docs, mixed)}


def _minmax(x: np.ndarray) -> np.ndarray:
    if not len(x):
        return x
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def collect_pairs(
    queries: Sequence[Query], run: Run, docs: Any, depth: int
) -> tuple[list[tuple[Query, Doc]], dict[str, list[str]]]:
    """The (query, document) pairs to score: the top ``depth`` documents of each query in ``run``.

    Returns the pairs and, per query id, the docids in pair order. Queries absent from the run
    get no pairs. Raises :class:`InputError` when a run's document is not in ``docs`` or has no
    text (an index built with ``store_text=false`` cannot be reranked).
    """
    if depth < 1:
        raise ParamError(f"depth must be >= 1, got {depth}")
    pairs: list[tuple[Query, Doc]] = []
    chosen: dict[str, list[str]] = {}
    fetched: dict[str, Doc] = {}
    for q in queries:
        ranking = run.get(q.id)
        if not ranking:
            continue
        ids = top_depth(ranking, depth)
        chosen[q.id] = ids
        for docid in ids:
            doc = fetched.get(docid)
            if doc is None:
                try:
                    doc = docs[docid]
                except (KeyError, IndexError):
                    raise InputError(
                        f"document {docid!r} (retrieved for query {q.id!r}) is not in the document store; "
                        f"rerank with the docs of the index that produced the run"
                    ) from None
                if not (doc.text or doc.title).strip():
                    raise InputError(
                        f"document {docid!r} has no text to rerank; the index was probably built with "
                        f"store_text=false (rebuild it with the default store_text=true)"
                    )
                fetched[docid] = doc
            pairs.append((q, doc))
    return pairs, chosen


@dataclass(frozen=True)
class RerankParams:
    """Options every pair reranker shares: batching, truncation, device, score interpolation."""

    batch_size: int = 16
    max_length: int = 256
    device: str = "auto"
    #: weight of the min-max normalized first-stage score mixed into the reranker's (0: plain reranker)
    interpolate: float = 0.0

    def validate(self) -> None:
        if self.batch_size < 1:
            raise ParamError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.max_length < 8:
            raise ParamError(f"max_length must be >= 8, got {self.max_length}")
        if not 0.0 <= self.interpolate <= 1.0 or math.isnan(self.interpolate):
            raise ParamError(f"interpolate must be in [0, 1], got {self.interpolate}")


class PairReranker:
    """Template for rerankers that score (query, document) pairs independently.

    Subclasses implement :meth:`score_pairs`; :meth:`rerank` owns depth selection,
    interpolation and merging. ``self.params`` must have :class:`RerankParams`' fields.
    """

    name: ClassVar[str]
    params: Any

    def score_pairs(self, pairs: Sequence[tuple[Query, Doc]], *, show_progress: bool | None = False) -> np.ndarray:
        """One relevance score per pair (higher is more relevant)."""
        raise NotImplementedError

    def rerank(
        self,
        queries: Sequence[Query],
        run: Run,
        docs: Any,
        *,
        depth: int = 100,
        show_progress: bool | None = False,
    ) -> Run:
        """Rescore the top ``depth`` documents of each query in ``run``; the rest follow below them.

        ``docs[docid]`` must return a :class:`~xlir.types.Doc` with text (e.g. a loaded
        index's ``.docs``). Queries of ``run`` that are not in ``queries`` are kept as they are.
        Raises :class:`InputError` for documents missing from ``docs`` or without text.
        """
        pairs, chosen = collect_pairs(queries, run, docs, depth)
        scores = self.score_pairs(pairs, show_progress=show_progress) if pairs else np.zeros(0)
        if len(scores) != len(pairs):
            raise RuntimeError(f"{self.name}: {len(scores)} scores for {len(pairs)} pairs")
        out: Run = {qid: dict(r) for qid, r in run.items()}
        i = 0
        for qid, ids in chosen.items():
            new = {d: float(s) for d, s in zip(ids, scores[i : i + len(ids)])}
            i += len(ids)
            new = interpolate(new, run[qid], self.params.interpolate)
            out[qid] = merge_reranked(run[qid], new)
        logger.debug("%s reranked %d pairs for %d queries", self.name, len(pairs), len(chosen))
        return out


def batches(n: int, order: Sequence[int], batch_size: int, *, show_progress: bool | None, desc: str):
    """Slices of ``order`` of ``batch_size``, with a progress bar counting pairs."""
    starts = range(0, n, batch_size)
    for start in progress(starts, show_progress=show_progress, total=len(starts), desc=desc, unit="batch"):
        yield order[start : start + batch_size]
