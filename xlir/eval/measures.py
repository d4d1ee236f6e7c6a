"""Evaluation through ir_measures (which runs pytrec_eval/trec_eval underneath)."""

from __future__ import annotations

import logging
import math
from typing import Iterable, Mapping, Sequence

from xlir.errors import InputError
from xlir.types import Qrels, Run

logger = logging.getLogger(__name__)

DEFAULT_MEASURES = ("nDCG@10", "RR@10", "R@100")


def parse_measures(names: Iterable[str]) -> list:
    """Parse measure names in ir_measures syntax (``nDCG@10``, ``RR(rel=2)@10``, ``AP``...)."""
    import ir_measures

    out = []
    for name in names:
        try:
            out.append(ir_measures.parse_measure(name))
        except (ValueError, NameError, SyntaxError, TypeError, KeyError) as e:
            raise InputError(f"unknown measure {name!r} ({e}); examples: nDCG@10, RR@10, R@100, AP, P@5") from None
    return out


def per_query(qrels: Qrels, run: Run, measures: Sequence[str] = DEFAULT_MEASURES) -> dict[str, dict[str, float]]:
    """qid -> measure -> value for every judged query (with a relevant document).

    Queries that are judged but missing from the run score 0, as with ``trec_eval -c``;
    ir_measures alone would silently leave them out of the mean.
    """
    import ir_measures

    parsed = parse_measures(measures)
    names = [str(m) for m in parsed]
    judged = sorted(q for q, docs in qrels.items() if any(r > 0 for r in docs.values()))
    values: dict[str, dict[str, float]] = {q: {n: 0.0 for n in names} for q in judged}
    run = {q: _trec_order(docs) for q, docs in run.items() if docs}
    for metric in ir_measures.iter_calc(parsed, qrels, run):
        if metric.query_id in values:
            values[metric.query_id][str(metric.measure)] = float(metric.value)
    missing = [q for q in judged if q not in run]
    if missing:
        logger.warning("%d of %d judged queries have no results in the run; they score 0", len(missing), len(judged))
    return values


def _trec_order(docs: Mapping[str, float]) -> dict[str, float]:
    """Replace scores by strictly decreasing values in trec_eval's order (score desc, docid desc).

    ir_measures hands different measures to different backends that break score ties
    differently (its msmarco provider, used for RR@k, sorts tied documents by ascending
    id; trec_eval by descending id). Untying the run once makes every measure see the
    same ranking, the one trec_eval would see.
    """
    ranked = sorted(sorted(docs.items(), key=lambda x: x[0], reverse=True), key=lambda x: -x[1])
    n = len(ranked)
    return {docid: float(n - i) for i, (docid, _) in enumerate(ranked)}


def aggregate(per_query_values: Mapping[str, Mapping[str, float]], measures: Sequence[str]) -> dict[str, float]:
    names = [str(m) for m in parse_measures(measures)]
    n = len(per_query_values)
    return {m: (sum(v[m] for v in per_query_values.values()) / n if n else math.nan) for m in names}


def evaluate(qrels: Qrels, run: Run, measures: Sequence[str] = DEFAULT_MEASURES) -> dict[str, float]:
    """Mean of each measure over the judged queries (missing queries count as 0)."""
    return aggregate(per_query(qrels, run, measures), measures)
