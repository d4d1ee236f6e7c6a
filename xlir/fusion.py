"""Fusing several runs into one: reciprocal-rank fusion and normalized score interpolation.

The arithmetic is ranx's (:func:`ranx.fuse`); this module fixes what ranx leaves open so
that a fusion is deterministic and total:

* **Ranks and ties.** RRF scores a document ``1 / (rrf_k + rank)`` in each run that holds
  it, summed over the runs; ``rrf_k`` is 60 as in Cormack et al. (2009). A run's ranks are
  its order as xlir writes it: score descending, ties broken by docid ascending. (ranx
  ranks tied documents in whatever order its unstable sort leaves them, so each run is
  given to ranx with distinct scores that encode that order.) Fusing a run in memory and
  fusing the TREC file written from it therefore give the same result.
* **Missing documents.** A document a run did not return contributes nothing to RRF and
  0 to the score methods, after normalization: with ``min-max`` that is the score of the
  run's last document. A run whose scores for a query are all equal normalizes to 0.
* **Missing queries.** Queries are the union of the runs' queries; a query one run lacks
  counts as an empty result list there (ranx requires the same queries in every run).

Methods: ``rrf``; ``wsum`` (weighted sum of normalized scores: linear interpolation, with
``weights=[a, 1 - a]`` for two runs); ``combsum``, ``combmnz``, ``combmax``, ``combanz``,
``combmed`` (Fox and Shaw's combinations of normalized scores). Normalizations for the
score methods: ``min-max`` (default), ``max``, ``sum``, ``zmuv``, ``none``.

ranx (and numba behind it) is imported on the first fusion: the first call in a process
takes seconds while numba loads its compiled functions.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from xlir.errors import InputError, ParamError
from xlir.types import Run

__all__ = ["FusionSpec", "METHODS", "NORMS", "fuse", "fuse_spec", "ranked"]

logger = logging.getLogger(__name__)

#: xlir method name -> ranx method name
_RANX_METHOD = {
    "rrf": "rrf",
    "wsum": "wsum",
    "combsum": "sum",
    "combmnz": "mnz",
    "combmax": "max",
    "combanz": "anz",
    "combmed": "med",
}
METHODS = tuple(_RANX_METHOD)
NORMS = ("min-max", "max", "sum", "zmuv", "none")
_WEIGHTED = ("wsum",)
DEFAULT_RRF_K = 60


@dataclass(frozen=True)
class FusionSpec:
    """How to fuse: ``method``, RRF's ``rrf_k``, ``weights`` (``wsum``) and ``norm`` (score methods).

    ``norm=None`` means the method's default: ``min-max`` for score methods, none for RRF.
    Build it with :meth:`create` to have it validated.
    """

    method: str = "rrf"
    rrf_k: int = DEFAULT_RRF_K
    weights: tuple[float, ...] | None = None
    norm: str | None = None

    @classmethod
    def create(cls, method: str = "rrf", *, rrf_k: Any = DEFAULT_RRF_K, weights: Any = None, norm: Any = None,
               runs: int | None = None, where: str = "") -> "FusionSpec":
        """A validated spec. ``runs``: how many runs it will fuse (checks ``weights``'
        length). ``where`` prefixes error messages (a file and key). Raises :class:`ParamError`."""
        pre = f"{where}: " if where else ""
        if method not in _RANX_METHOD:
            raise ParamError(f"{pre}unknown fusion method {method!r}; available: {', '.join(METHODS)}")
        if isinstance(rrf_k, bool) or not isinstance(rrf_k, int) or rrf_k < 0:
            raise ParamError(f"{pre}rrf_k must be an integer >= 0, got {rrf_k!r}")
        if rrf_k != DEFAULT_RRF_K and method != "rrf":
            raise ParamError(f"{pre}rrf_k applies to method rrf only, not {method!r}")
        if norm is not None:
            if method == "rrf":
                raise ParamError(f"{pre}rrf fuses ranks, not scores: a normalization ({norm!r}) does not apply")
            if norm not in NORMS:
                raise ParamError(f"{pre}unknown normalization {norm!r}; available: {', '.join(NORMS)}")
        if method != "rrf":
            norm = norm or "min-max"
        if weights is not None:
            if method not in _WEIGHTED:
                raise ParamError(f"{pre}weights apply to method {' or '.join(_WEIGHTED)} only, not {method!r}")
            weights = _check_weights(weights, runs, pre)
        return cls(method, rrf_k, weights, norm)

    def resolved_norm(self) -> str | None:
        """The normalization ranx applies: None for RRF and for ``none``."""
        if self.method == "rrf":
            return None
        norm = self.norm or "min-max"
        return None if norm == "none" else norm

    def as_dict(self) -> dict[str, Any]:
        """The spec as a pipeline file / run record writes it (only what applies)."""
        out: dict[str, Any] = {"method": self.method}
        if self.method == "rrf":
            out["rrf_k"] = self.rrf_k
        else:
            out["norm"] = self.norm or "min-max"
        if self.weights is not None:
            out["weights"] = list(self.weights)
        return out


def _check_weights(weights: Any, runs: int | None, pre: str) -> tuple[float, ...]:
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence):
        raise ParamError(f"{pre}weights must be a list of numbers, got {weights!r}")
    out = []
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ParamError(f"{pre}weights must be finite numbers >= 0, got {w!r}")
        out.append(float(w))
    if runs is not None and len(out) != runs:
        raise ParamError(f"{pre}{len(out)} weights for {runs} runs; give one weight per run")
    if not out or sum(out) <= 0:
        raise ParamError(f"{pre}weights must not all be zero")
    return tuple(out)


def ranked(docs: Mapping[str, float]) -> list[tuple[str, float]]:
    """A query's results in rank order: score descending, ties by docid ascending (as xlir writes runs)."""
    return sorted(((d, float(s)) for d, s in docs.items()), key=lambda x: (-x[1], x[0]))


def _check_runs(runs: Sequence[Run]) -> list[str]:
    if len(runs) < 2:
        raise ParamError(f"fusion needs at least two runs, got {len(runs)}")
    qids: dict[str, None] = {}
    for i, run in enumerate(runs, 1):
        for qid, docs in run.items():
            qids.setdefault(qid, None)
            for docid, score in docs.items():
                if not isinstance(score, (int, float)) or math.isnan(score):
                    raise InputError(f"run {i}: score {score!r} of doc {docid!r} for query {qid!r} is not a number")
    return list(qids)


def _to_ranx(run: Run, qids: list[str], by_rank: bool):
    from ranx import Run as RanxRun

    data = {}
    for qid in qids:
        docs = run.get(qid) or {}
        if by_rank:
            order = ranked(docs)
            # distinct, decreasing scores in xlir's rank order: ranx's sort then sees no ties
            data[qid] = {d: float(len(order) - i) for i, (d, _) in enumerate(order)}
        else:
            data[qid] = {d: float(s) for d, s in docs.items()}
    if not any(data.values()):
        # ranx.Run cannot be built from a run without any document; an empty run adds nothing
        from ranx.fusion.common import create_empty_results_dict

        out = RanxRun()
        for qid in qids:
            out.run[qid] = create_empty_results_dict()
        return out
    return RanxRun(data)


def fuse(
    runs: Sequence[Run],
    method: str = "rrf",
    *,
    rrf_k: int = DEFAULT_RRF_K,
    weights: Sequence[float] | None = None,
    norm: str | None = None,
    k: int | None = None,
) -> Run:
    """Fuse ``runs`` (two or more) into one run; see the module docstring for the rules.

    ``weights`` (``wsum`` only) default to equal weights; ``k`` keeps the top ``k``
    documents per query. Returns qid -> docid -> fused score with each query's documents
    in rank order. Raises :class:`ParamError` for a bad method, weights or normalization
    and :class:`InputError` for a NaN score.
    """
    spec = FusionSpec.create(method, rrf_k=rrf_k, weights=weights, norm=norm, runs=len(runs))
    return fuse_spec(runs, spec, k=k)


def fuse_spec(runs: Sequence[Run], spec: FusionSpec, *, k: int | None = None) -> Run:
    """:func:`fuse` with a :class:`FusionSpec`."""
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ParamError(f"k must be a positive integer or None, got {k!r}")
    qids = _check_runs(runs)
    if spec.weights is not None and len(spec.weights) != len(runs):
        raise ParamError(f"{len(spec.weights)} weights for {len(runs)} runs; give one weight per run")
    qids = [q for q in qids if any(run.get(q) for run in runs)]
    if not qids:
        return {}
    from ranx import fuse as ranx_fuse

    by_rank = spec.method == "rrf"
    ranx_runs = [_to_ranx(run, qids, by_rank) for run in runs]
    params: dict[str, Any] = {}
    if spec.method == "rrf":
        params["k"] = spec.rrf_k
    elif spec.method == "wsum":
        params["weights"] = list(spec.weights) if spec.weights is not None else [1.0 / len(runs)] * len(runs)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*unsafe cast.*")  # ranx's RRF kernel, harmless
        fused = ranx_fuse(ranx_runs, norm=spec.resolved_norm(), method=_RANX_METHOD[spec.method], params=params)
    out: Run = {}
    for qid, docs in fused.to_dict().items():
        order = ranked(docs)
        out[qid] = dict(order[:k] if k is not None else order)
    logger.debug("fused %d runs with %s: %d queries", len(runs), spec.method, len(out))
    return out
