"""Adapter reranker on XQuAD-R held-out articles: BM25 / dense first stages, then reranked, en→X.

Article split (the rule the shipped adapter was trained with): XQuAD-R's 48 articles are
numbered 0..47 in file order (the ``AA`` of the doc ids ``{lang}-AA-PP``, the article
index of ``data[AA]`` in every ``{lang}.json``). Articles with an **even** index are for
training (24 articles, 120 paragraphs, 612 questions); articles with an **odd** index are
held out (24 articles, 120 paragraphs, 578 questions). ``--export-train DIR`` writes the
English training subset (``docs.jsonl``: the 120 English paragraphs of the training
articles; ``queries.tsv`` and ``qrels.txt``: their 612 English questions) for
``xlir train-reranker``; nothing of a held-out article is in it.

Evaluation (``--data``): queries = the English questions of the held-out articles;
documents = all 240 paragraphs of language X (training articles' paragraphs included as
distractors: harder than a held-out-only corpus, and no held-out question is seen in
training either way), for X in de es ru zh ar hi el th tr vi. First stages: xlir ``bm25``
(document-language analyzer, English queries analyzed as English, no translation) and
``dense`` (multilingual-e5-small, exact search). Each is reranked at ``--depth`` by the
``adapter`` reranker (the committed ``adapters/xquad-en-rank-e5s`` unless ``--adapter``),
plainly and interpolated with the first-stage score (``--interpolate`` weight, min-max
normalized per query). nDCG@10 per language and the mean; the table marks the languages
where reranking does not improve dense.

Bi-encoder adapters (``"architecture": "bi-encoder"`` in the adapter's card, e.g.
``--adapter adapters/xquad-en-rank-e5s-bi``) score a pair by the cosine of the separately
encoded query and document; each distinct question and paragraph is encoded once per
language, so all 578 held-out questions are affordable (``--queries 0``). Their default
``--max-length`` is 512 (what the dense first stage encodes with, so an untrained adapter
reproduces the dense scores) and their default ``--output`` is
``benchmarks/results/rerank_bi.json``; a cross-encoder's are 192 and ``rerank.json``.

CPU cost (cross-encoder): every (query, document) pair is scored once per language even when both first
stages retrieve it. With ``--queries N`` only every k-th held-out question is used (k
chosen so that about N remain, deterministic: sorted by position in the file); first
stages and rerankers are compared on the same questions, and the first stages are also
reported over all 578 held-out questions (columns "(all 578)"), which shows how
representative the subsample is. First-stage runs are cached in ``--cache`` (computing
them is most of the CPU time: 2,400 paragraphs encoded), so a re-run only reranks. Throughput (pairs/s) is
measured over all scoring done, batch size and max length as given, on this machine.

Usage: ``.venv/bin/python benchmarks/rerank.py [--data DIR] [--langs de,es] [--queries 15] [--depth 8]
[--max-length 192] [--interpolate 0.5] [--adapter DIR] [--output PATH]``, ``--report JSON`` or
``--export-train DIR``. The bi-encoder result: ``--adapter adapters/xquad-en-rank-e5s-bi --queries 0``.
The committed result used these defaults: 470 s of reranking (1,353 pairs) on 2 loaded cores,
after ~35 min of first stages (cached).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _common, when run as a script

from _common import DEFAULT_DATA, RESULTS, environment, markdown_table, write_json, xquad_dir  # noqa: E402

LANGS = ("de", "es", "ru", "zh", "ar", "hi", "el", "th", "tr", "vi")


def article_of(doc_id: str) -> int:
    """The article index of an XQuAD-R doc id ``{lang}-AA-PP``."""
    return int(doc_id.split("-")[1])


def is_train_article(article: int) -> bool:
    return article % 2 == 0


def split(task):
    """(train queries, held-out queries) of an XQuAD-R task, by the article of their relevant paragraph."""
    train, held = [], []
    for q in task.queries:
        (docid,) = task.qrels[q.id]
        (train if is_train_article(article_of(docid)) else held).append(q)
    return train, held


def export_train(data: Path, out: Path) -> None:
    from xlir.datasets.xquad_r import load_xquad_r
    from xlir.io import write_corpus, write_qrels, write_queries

    task = load_xquad_r(xquad_dir(data), queries_lang="en", docs_lang="en")
    train, _ = split(task)
    docs = [d for d in task.docs if is_train_article(article_of(d.id))]
    out.mkdir(parents=True, exist_ok=True)
    write_corpus(docs, out / "docs.jsonl")
    write_queries(train, out / "queries.tsv")
    write_qrels({q.id: task.qrels[q.id] for q in train}, out / "qrels.txt")
    print(f"{len(docs)} documents, {len(train)} queries -> {out}")


def subsample(queries, n: int | None):
    if not n or n >= len(queries):
        return list(queries)
    step = len(queries) / n
    return [queries[int(i * step)] for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--export-train", type=Path, help="write the English training subset here and exit")
    ap.add_argument("--langs", default=",".join(LANGS))
    ap.add_argument("--queries", type=int, default=15, help="held-out questions reranked (0: all 578)")
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--max-length", type=int, default=None,
                    help="reranker truncation [default: 192 for a cross-encoder, 512 for a bi-encoder]")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--interpolate", type=float, default=0.5)
    ap.add_argument("--adapter", default=None, help="ranking adapter folder [default: the committed one]")
    ap.add_argument("--output", type=Path, default=None,
                    help="[default: benchmarks/results/rerank.json, rerank_bi.json for a bi-encoder adapter]")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/xlir-bench-rerank"),
                    help="first-stage runs are kept here and reused")
    ap.add_argument("--report", type=Path, help="print the table of a saved result and exit")
    ap.add_argument("--first-stage-only", action="store_true", help="compute and cache the first stages, then exit")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if args.report:
        print_table(json.loads(args.report.read_text()))
        return
    if args.export_train:
        export_train(args.data, args.export_train)
        return

    import numpy as np

    from xlir.datasets.xquad_r import load_xquad_r
    from xlir.eval.measures import per_query
    from xlir.rerankers.adapter import AdapterReranker
    from xlir.rerankers.base import interpolate, merge_reranked, top_depth
    from xlir.retrievers.bm25 import BM25Retriever
    from xlir.retrievers.dense import DenseRetriever

    folder = xquad_dir(args.data)
    langs = [x for x in args.langs.split(",") if x]
    reranker = None
    if not args.first_stage_only:
        bi = AdapterReranker(args.adapter).architecture == "bi-encoder"  # reads the card only
        if args.max_length is None:
            args.max_length = 512 if bi else 192
        if args.output is None:
            args.output = RESULTS / ("rerank_bi.json" if bi else "rerank.json")
        reranker = AdapterReranker(args.adapter, max_length=args.max_length, batch_size=args.batch_size)
    start = time.perf_counter()
    results: dict = {}
    timing = {"pairs": 0, "score_s": 0.0, "first_stage_s": 0.0}
    queries_used = None
    dense_encoder = None
    qvecs = None
    for lang in langs:
        task = load_xquad_r(folder, queries_lang="en", docs_lang=lang)
        _, held = split(task)
        docs = {d.id: d for d in task.docs}
        t = time.perf_counter()
        cached = args.cache / f"runs-{lang}.json"
        if cached.is_file():  # first stages over all held-out questions are deterministic; a re-run reuses them
            full = json.loads(cached.read_text())
        else:
            bm25 = BM25Retriever(lang=lang)
            bm25.index(task.docs)
            dense = DenseRetriever(lang=lang, encoder=dense_encoder)
            dense.index(task.docs)
            dense_encoder = dense.encoder  # one model load for all languages
            if qvecs is None:  # the same English questions for every language: encoded once
                qvecs = dense_encoder.encode_queries([q.text for q in held]).astype(np.float32)
            sc, rows = dense.search_vectors(qvecs, 100)
            ids = dense.docs.ids
            full = {
                "bm25": bm25.search(held, k=100),
                "dense": {q.id: {ids[r]: float(x) for x, r in zip(srow.tolist(), rrow.tolist()) if r >= 0}
                          for q, srow, rrow in zip(held, sc, rows)},
            }
            args.cache.mkdir(parents=True, exist_ok=True)
            cached.write_text(json.dumps(full))
        timing["first_stage_s"] += time.perf_counter() - t
        held_qrels = {q.id: task.qrels[q.id] for q in held}
        all_held = {name: _ndcg(held_qrels, run, held, per_query) for name, run in full.items()}
        if args.first_stage_only:
            print(f"{lang}: first stages on all {len(held)} held-out questions: "
                  + ", ".join(f"{k} {v:.3f}" for k, v in all_held.items()), file=sys.stderr, flush=True)
            continue
        queries = subsample(held, args.queries)
        n_held = len(held)
        queries_used = [q.id for q in queries]
        qrels = {q.id: task.qrels[q.id] for q in queries}
        runs = {name: {q.id: run[q.id] for q in queries if q.id in run} for name, run in full.items()}
        # every distinct (query, doc) pair of both first stages' top depth, scored once
        want = sorted({(q.id, d) for q in queries for name in runs for d in top_depth(runs[name].get(q.id, {}), args.depth)})
        by_q = {q.id: q for q in queries}
        t = time.perf_counter()
        scores = reranker.score_pairs([(by_q[qid], docs[d]) for qid, d in want], show_progress=None)
        timing["score_s"] += time.perf_counter() - t
        timing["pairs"] += len(want)
        cache = {pair: float(s) for pair, s in zip(want, scores)}
        row = {}
        for name, run in runs.items():
            reranked, mixed = {}, {}
            for qid, ranking in run.items():
                top = {d: cache[(qid, d)] for d in top_depth(ranking, args.depth)}
                reranked[qid] = merge_reranked(ranking, top)
                mixed[qid] = merge_reranked(ranking, interpolate(top, ranking, args.interpolate))
            for label, r in ((name, run), (f"{name}+rerank", reranked), (f"{name}+interp", mixed)):
                row[label] = _ndcg(qrels, r, queries, per_query)
        row.update({f"{name} (all {len(held)})": v for name, v in all_held.items()})
        results[lang] = row
        write_json(args.output, _report(args, results, timing, queries_used, n_held, reranker, start, partial=True))
        print(f"{lang}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()), file=sys.stderr, flush=True)

    if args.first_stage_only:
        return
    report = _report(args, results, timing, queries_used, n_held, reranker, start, partial=False)
    print_table(report)
    write_json(args.output, report)


def print_table(report: dict) -> None:
    """The Markdown table of a result (also for a saved one: ``--report JSON``)."""
    results, mean = report["results"], report["mean"]
    systems = list(mean)
    header = ["lang"] + systems + ["dense+rerank > dense?", "dense+interp > dense?"]
    rows = []
    for lang in list(results) + ["mean"]:
        r = results.get(lang, mean)
        verdicts = ["yes" if r[f"dense+{x}"] > r["dense"] else "**no**" for x in ("rerank", "interp")]
        rows.append([lang] + [f"{r[s]:.3f}" for s in systems] + verdicts)
    print(markdown_table(header, rows))
    t, p = report["throughput"], report["params"]
    print(f"\n{t['pairs']} pairs scored in {t['seconds']:.0f}s: {t['pairs_per_s']:.2f} pairs/s "
          f"(max_length {p['max_length']}, batch {p['batch_size']}, depth {p['depth']}, {p['queries']} queries/language"
          f"{', PARTIAL' if report.get('partial') else ''})")


def _report(args, results, timing, queries_used, n_held, reranker, start, *, partial: bool) -> dict:
    import numpy as np

    langs = list(results)
    systems = list(next(iter(results.values())))
    pairs_per_s = timing["pairs"] / max(timing["score_s"], 1e-9)
    return {
        "benchmark": "rerank",
        "partial": partial,
        "environment": environment(),
        "reranker": reranker.identity(),
        "dataset": "xquad-r en->X, held-out (odd-index) articles; documents: all 240 X paragraphs",
        "params": {"queries": len(queries_used), "held_out_queries": n_held, "depth": args.depth,
                   "max_length": args.max_length, "batch_size": args.batch_size, "interpolate": args.interpolate,
                   "adapter": str(reranker.path), "architecture": reranker.architecture, "langs": langs},
        "query_ids": queries_used,
        "results": results,
        "mean": {s: float(np.mean([results[x][s] for x in langs])) for s in systems},
        "throughput": {"pairs": timing["pairs"], "seconds": round(timing["score_s"], 1),
                       "pairs_per_s": round(pairs_per_s, 2), "threads": _threads()},
        "timing_s": {"first_stages": round(timing["first_stage_s"], 1), "total": round(time.perf_counter() - start, 1)},
    }


def _ndcg(qrels, run, queries, per_query) -> float:
    """Mean nDCG@10 over ``queries`` (a query with no retrieved document counts 0)."""
    import numpy as np

    pq = per_query(qrels, run, ["nDCG@10"])
    return float(np.mean([pq.get(q.id, {}).get("nDCG@10", 0.0) for q in queries]))


def _threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    main()
