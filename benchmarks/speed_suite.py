"""Speed suite: the same corpus and queries through xlir and through the tools users would
pick instead, in one run, with ratios, so that regressions and wins are visible.

Sparse (BM25) — the synthetic English-like corpus of ``bm25_speed.py`` (its generator, its
defaults for vocabulary and Zipf exponent, its seed; ``--docs`` documents of 40-120
words, ``--queries`` queries of 3-6 mid-frequency words after 100 warm-up queries), k=10:

* xlir ``bm25`` against ``bm25s`` (numba backend): ``bm25_speed.py``'s own measurement,
  each system in fresh subprocesses (index → save; load → cold → warm search), one
  thread each, peak RSS per phase;
* xlir ``bm25`` against Lucene through Pyserini/Anserini (xlir's ``lucene-bm25``, which
  drives Anserini's ``SimpleIndexer``/``SimpleSearcher`` as Pyserini does):
  ``lucene.py``'s measurement, both in this process one after the other (JVM start
  excluded), one indexing and one search thread. Skipped with a message when Java or
  Pyserini is missing.

Dense — the first ``--passages`` XQuAD-R paragraphs of ``dense_speed.py``'s interleaved
11-language list as the corpus and ``--dense-queries`` XQuAD-R questions (the first of
each language in turn), multilingual-e5-small on the CPU, k=10:

* xlir: ``DenseRetriever(lang="multi")`` (sentence-transformers encoder, exact search over
  float16 vectors), ``index(docs)`` then ``search(queries)``;
* plain: the script a user would write, ``SentenceTransformer(model folder)``,
  ``encode(..., prompt="passage: "/"query: ", normalize_embeddings=True, batch_size=32)``,
  ``faiss.IndexFlatIP`` over float32 vectors, ``index.search``.

Both load the model before the clock starts and use ``--threads`` threads for torch and
faiss (default: all cores; on a busy shared machine one thread is steadier). The machine
may be shared, so the dense systems run ``--rounds`` times in alternating order and the
best round of each is kept. Top-10 agreement (share of queries with the same
top-10 set) is reported next to each pair: the same model gives the same ranking up to
float16 storage and ties.

Ratios are xlir / other for throughput (documents/s, queries/s): above 1, xlir is faster.

Usage: ``.venv/bin/python benchmarks/speed_suite.py [--data DIR] [--docs 20000] [--queries 2000]
[--passages 100] [--dense-queries 300] [--rounds 3] [--threads N] [--skip-sparse] [--skip-lucene] [--skip-dense]
[--output PATH]`` (default scale: about 5 minutes on 2 cores).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the default model is provisioned offline; never try the Hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _common and the other benchmarks, as a script

import bm25_speed  # noqa: E402  (first: it pins numba/BLAS to one thread before they are imported)
import dense_speed  # noqa: E402
from _common import DEFAULT_DATA, RESULTS, environment, fmt, markdown_table, write_json, xquad_dir  # noqa: E402

CORES = os.cpu_count() or 1
K = 10


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- sparse ------------------------------------------------------------------------------------
def sparse_bm25s(args: argparse.Namespace) -> dict:
    """bm25_speed.py for xlir and bm25s-numba on the same synthetic corpus; its JSON result."""
    with tempfile.TemporaryDirectory(prefix="xlir-speed-suite-") as tmp:
        out = Path(tmp) / "bm25_speed.json"
        argv = ["--data", str(args.data), "--docs", str(args.docs), "--queries", str(args.queries),
                "--systems", "xlir,bm25s-numba", "--seed", str(args.seed), "--output", str(out)]
        _log(f"bm25_speed.py {' '.join(argv[2:-2])}")
        sys.stdout.flush()
        real_stdout = sys.stdout
        sys.stdout = sys.stderr  # its own table goes to the log; the suite prints the summary
        try:
            bm25_speed.main(argv)
        finally:
            sys.stdout = real_stdout
        return json.loads(out.read_text())


def sparse_lucene(args: argparse.Namespace) -> dict | None:
    """lucene.py's speed measurement (xlir native and lucene-bm25 in this process), or None."""
    from xlir.registry import RETRIEVERS

    if not RETRIEVERS.is_available("lucene-bm25"):
        _log('Lucene skipped: pyserini/pyjnius are not installed (pip install "xlir[lucene]")')
        return None
    import lucene

    ns = argparse.Namespace(data=args.data, docs=args.docs, queries=args.queries, vocab=150_000, zipf=1.05,
                            seed=args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="xlir-speed-suite-lucene-"))
    try:
        _log("lucene.py speed (xlir native and lucene-bm25, one process)")
        return lucene.speed(ns, workdir)
    except Exception as e:  # noqa: BLE001  (no Java runtime, a JVM that fails to start...)
        from xlir.errors import XlirError

        if not isinstance(e, (XlirError, OSError, ImportError)):
            raise
        _log(f"Lucene skipped: {e}")
        return None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# -- dense -------------------------------------------------------------------------------------
def dense_inputs(data: Path, n_passages: int, n_queries: int):
    from xlir.datasets import load_xquad_r
    from xlir.types import Doc, Query

    texts = dense_speed.passages(data, n_passages)
    docs = [Doc(id=f"p{i:05d}", text=t) for i, t in enumerate(texts)]
    per_lang = [load_xquad_r(data, queries_lang=lang, docs_lang=lang).queries for lang in dense_speed.XQUAD_LANGS]
    interleaved = [qs[i] for i in range(len(per_lang[0])) for qs in per_lang]
    queries = [Query(id=f"q{i:05d}", text=q.text) for i, q in enumerate(interleaved[:n_queries])]
    return docs, queries


def _xlir_dense(docs, queries, encoder) -> tuple[dict, dict]:
    from xlir.retrievers.dense import DenseRetriever

    r = DenseRetriever(lang="multi", encoder=encoder)
    t0 = time.perf_counter()
    r.index(docs)
    index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = r.search(queries, k=K)
    search_s = time.perf_counter() - t0
    return {"index_s": index_s, "search_s": search_s}, run


def _plain_dense(docs, queries, model) -> tuple[dict, dict]:
    import faiss
    import numpy as np

    t0 = time.perf_counter()
    vectors = model.encode([d.text for d in docs], prompt="passage: ", batch_size=32, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    q = model.encode([x.text for x in queries], prompt="query: ", batch_size=32, normalize_embeddings=True,
                     convert_to_numpy=True, show_progress_bar=False)
    scores, rows = index.search(np.ascontiguousarray(q, dtype=np.float32), K)
    run = {x.id: {docs[r].id: float(s) for s, r in zip(srow, rrow) if r >= 0}
           for x, srow, rrow in zip(queries, scores.tolist(), rows.tolist())}
    search_s = time.perf_counter() - t0
    return {"index_s": index_s, "search_s": search_s}, run


def dense(args: argparse.Namespace) -> dict:
    import faiss
    import torch
    from sentence_transformers import SentenceTransformer

    from xlir.models.provision import resolve_model
    from xlir.retrievers.dense import DenseRetriever

    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    docs, queries = dense_inputs(xquad_dir(args.data), args.passages, args.dense_queries)
    t0 = time.perf_counter()
    encoder = DenseRetriever().encoder
    encoder.identity()  # loads the model
    load = {"xlir": time.perf_counter() - t0}
    t0 = time.perf_counter()
    model = SentenceTransformer(str(resolve_model(dense_speed.MODEL)), device="cpu")
    load["plain"] = time.perf_counter() - t0
    systems = {"xlir": lambda: _xlir_dense(docs, queries, encoder), "plain": lambda: _plain_dense(docs, queries, model)}
    for fn in (lambda: encoder.encode_docs([d.text for d in docs[:8]]),
               lambda: model.encode([d.text for d in docs[:8]], show_progress_bar=False)):
        fn()  # warm-up
    rounds: dict[str, list[dict]] = {name: [] for name in systems}
    runs = {}
    order = list(systems)
    for i in range(max(1, args.rounds)):
        for name in order if i % 2 == 0 else order[::-1]:
            timing, runs[name] = systems[name]()
            rounds[name].append(timing)
            _log(f"dense round {i + 1}: {name} index {timing['index_s']:.1f} s, search {timing['search_s']:.1f} s")
    best = {name: {"index_s": min(t["index_s"] for t in ts), "search_s": min(t["search_s"] for t in ts)}
            for name, ts in rounds.items()}
    out = {"model": dense_speed.MODEL, "passages": len(docs), "queries": len(queries), "k": K, "threads": args.threads,
           "load_s": load, "rounds": rounds, "best": best}
    for name, b in best.items():
        out[name] = {"index_docs_per_s": len(docs) / b["index_s"], "queries_per_s": len(queries) / b["search_s"]}
    out["agreement"] = _agreement(runs["xlir"], runs["plain"])
    return out


def _agreement(a: dict, b: dict) -> dict:
    qids = sorted(set(a) | set(b))
    equal = sum(set(a.get(q, {})) == set(b.get(q, {})) for q in qids)
    overlap = sum(len(set(a.get(q, {})) & set(b.get(q, {}))) / max(len(a.get(q, {})), len(b.get(q, {})), 1)
                  for q in qids)
    return {"queries": len(qids), "top10_set_equal": equal / len(qids), "mean_overlap@10": overlap / len(qids)}


# -- report ------------------------------------------------------------------------------------
def summary_rows(res: dict) -> list[list[str]]:
    rows = []
    if "bm25s" in res:
        r = res["bm25s"]["results"]
        x, b = r["xlir"], r["bm25s-numba"]
        agree = res["bm25s"]["agreement"].get("xlir vs bm25s-numba", {})
        rows.append(["BM25 vs bm25s (numba)", f"{res['bm25s']['params']['docs']:,} synthetic docs",
                     f"{x['index_docs_per_s']:,.0f} / {b['index_docs_per_s']:,.0f}",
                     f"{x['index_docs_per_s'] / b['index_docs_per_s']:.2f}",
                     f"{x['queries_per_s']:,.0f} / {b['queries_per_s']:,.0f}",
                     f"{x['queries_per_s'] / b['queries_per_s']:.2f}", fmt(agree.get("top10_set_equal"), ".1%")])
    if res.get("lucene"):
        n, lu = res["lucene"]["native"], res["lucene"]["lucene"]
        rows.append(["BM25 vs Lucene (Pyserini/Anserini)", f"{res['params']['docs']:,} synthetic docs",
                     f"{n['index_docs_per_s']:,.0f} / {lu['index_docs_per_s']:,.0f}",
                     f"{n['index_docs_per_s'] / lu['index_docs_per_s']:.2f}",
                     f"{n['queries_per_s']:,.0f} / {lu['queries_per_s']:,.0f}",
                     f"{n['queries_per_s'] / lu['queries_per_s']:.2f}",
                     fmt(res["lucene"]["agreement"]["top10_set_equal"], ".1%")])
    if "dense" in res:
        d = res["dense"]
        x, p = d["xlir"], d["plain"]
        rows.append([f"dense ({d['model']}) vs faiss + sentence-transformers", f"{d['passages']} XQuAD-R passages",
                     f"{x['index_docs_per_s']:,.1f} / {p['index_docs_per_s']:,.1f}",
                     f"{x['index_docs_per_s'] / p['index_docs_per_s']:.2f}",
                     f"{x['queries_per_s']:,.1f} / {p['queries_per_s']:,.1f}",
                     f"{x['queries_per_s'] / p['queries_per_s']:.2f}", fmt(d["agreement"]["top10_set_equal"], ".1%")])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data root holding xquad-r/ (default: %(default)s)")
    parser.add_argument("--docs", type=int, default=20_000, help="synthetic BM25 corpus size (default: %(default)s)")
    parser.add_argument("--queries", type=int, default=2_000, help="timed BM25 queries (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--passages", type=int, default=100, help="dense corpus: XQuAD-R passages (default: %(default)s)")
    parser.add_argument("--dense-queries", type=int, default=300, help="dense queries (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="dense timing rounds, best kept (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=CORES,
                        help="torch/faiss threads for the dense part (default: all cores, %(default)s)")
    parser.add_argument("--skip-sparse", action="store_true", help="no BM25 comparisons")
    parser.add_argument("--skip-lucene", action="store_true", help="no Lucene comparison")
    parser.add_argument("--skip-dense", action="store_true", help="no dense comparison")
    parser.add_argument("--output", type=Path, default=RESULTS / "speed_suite.json", help="JSON output (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.docs < K:
        parser.error(f"--docs must be at least {K}")
    xquad_dir(args.data)
    logging.getLogger("xlir").setLevel(logging.WARNING)
    started = time.perf_counter()
    res: dict = {"benchmark": "speed_suite", "environment_at_start": environment(),
                 "params": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    if not args.skip_sparse:
        res["bm25s"] = sparse_bm25s(args)
        if not args.skip_lucene:
            res["lucene"] = sparse_lucene(args)
    if not args.skip_dense:
        _log(f"dense: {args.passages} passages, {args.dense_queries} queries, {args.rounds} rounds")
        res["dense"] = dense(args)
    res["elapsed_s"] = round(time.perf_counter() - started, 1)
    res["environment"] = environment()
    ratios = {}
    for row in summary_rows(res):
        ratios[row[0]] = {"indexing": float(row[3]), "querying": float(row[5])}
    res["ratios_xlir_over_other"] = ratios
    print(f"Speed suite ({res['elapsed_s']:.0f} s; {CORES} cores, load average "
          f"{res['environment']['machine']['load_average']}): throughput xlir / other, ratio > 1: xlir faster\n")
    print(markdown_table(["comparison", "corpus", "index docs/s (xlir / other)", "× index",
                          "queries/s (xlir / other)", "× query", "same top-10"], summary_rows(res)))
    write_json(args.output, res)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
