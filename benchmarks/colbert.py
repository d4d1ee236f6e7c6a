"""Late interaction (``colbert``): PLAID compression against exact MaxSim, quality, and CPU speed.

Quality, XQuAD-R en→X (X in de es ru zh ar hi el th tr vi; 240 paragraphs per language,
1,190 English questions, one relevant paragraph each), with the offline default encoder
(multilingual-e5-small token vectors, zero-shot: e5 was never trained for MaxSim; markers are
its prompts "query: " / "passage: ", queries padded with <mask> to 32 tokens, punctuation and
special tokens dropped from documents). The token vectors of each language's paragraphs and
of the questions are encoded once (``ColBERTEncoder``, cached under ``--cache``) and reused for:

Each system answers the same fixed random sample of ``--queries`` questions (default 300).

* ``exact``: brute-force MaxSim over the float16 token vectors (no compression), top 100;
* ``plaid-Nb`` for N in 1, 2, 4: ``PlaidIndex.build`` (xlir's colbert index with its defaults:
  centroid count = PLAID's, capped at tokens * N / 64 minus 256; k-means; gain-shape residuals
  at N bits per dimension, product-quantized (``--residual-codec auto``: 256 codewords per
  byte from 16,384 tokens; ``lloyd``: per-dimension Lloyd-Max buckets, the codec before))
  and ``PlaidIndex.search(k=100)`` with xlir's settings for k=100 (PLAID's ncells 2 and
  centroid_score_threshold 0.45, ndocs 4096 instead of 1024; on 240 paragraphs xlir's "fill
  the ndocs budget" rule makes it exhaustive over the compressed vectors);
* nDCG@10 and R@100 of each; ``recall@100 vs exact`` = mean overlap of the approximate and
  exact (float vectors) top 100 / 100, i.e. compression and search together;
  ``search recall@100`` = the same overlap against brute force over the index's own
  decompressed vectors, i.e. the search approximation alone; size = compressed index arrays
  (centroids, codebooks or cutoffs, codes, packed residuals, residual norms, doclens, IVF) / float16 token
  vectors;
* ``pooled``: one index of the paragraphs of every language run (XQuAD-R's multilingual
  pool; 2,400 paragraphs for ten languages, more than ndocs, so candidate generation and
  pruning really cut): recall@100 against exact MaxSim and against brute force on the
  decompressed vectors, at 2 bits;
* dense retrieval with the same encoder (nDCG@10 per language), read from
  ``benchmarks/results/dense_quality.json`` (``summary.ndcg@10.<lang>.xlir``), not recomputed.

Speed on this CPU (2 cores shared with other work; the load average is recorded):

* encoder throughput: paragraphs/s and tokens/s of the encoding above (real passages);
* index build (sampling, k-means, compression, IVF) and search on 50,000 passages of
  **synthetic** token vectors, dimension 128 (the projection size of ColBERTv2 / PLAID
  checkpoints; the offline e5 default has 384, which costs ~3x per token in the centroid
  assignment that dominates the build). Generator: 20,000 "term" unit vectors (Gaussian,
  normalized); a passage has U(32, 96) tokens whose terms are drawn Zipf-like
  (p ∝ 1/rank) and each token is its term vector plus Gaussian noise of norm ≈ 0.5,
  normalized. A query is 32 tokens: the terms of 32 tokens drawn from one random passage,
  with fresh noise. Search: 100 queries, k=10 and k=100 (PLAID's settings), one process;
  recall@10 against brute-force exact MaxSim on 30 queries.
* docs/s of the build including encoding is **extrapolated**: 1 / (1/encode rate + 1/build
  rate), the encode rate measured above on real paragraphs (dim 384).

Usage: ``.venv/bin/python benchmarks/colbert.py [--data ../shared/data] [--langs de,es]
[--passages 50000] [--queries 300] [--skip-speed] [--cache DIR] [--output PATH]``; the quality and speed parts can run as
two processes (``--skip-speed`` / ``--skip-quality --output OTHER``) and be joined with
``--merge-speed OTHER``
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

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA, RESULTS, environment, fmt, markdown_table, write_json, xquad_dir  # noqa: E402

LANGS = ("de", "es", "ru", "zh", "ar", "hi", "el", "th", "tr", "vi")
NBITS = (1, 2, 4)
K = 100
MEASURES = ("nDCG@10", "R@100")


def log(start: float, msg: str) -> None:
    print(f"[{time.perf_counter() - start:6.0f} s] {msg}", file=sys.stderr, flush=True)


def _run(queries, ids, results) -> dict:
    return {q.id: {ids[r]: float(s) for s, r in zip(sc.tolist(), rows.tolist())} for q, (sc, rows) in zip(queries, results)}


def _evaluate(qrels, run) -> dict:
    from xlir.eval.measures import evaluate

    return evaluate(qrels, run, MEASURES)


def encode_cached(encoder, cache: Path, key: str, fn):
    path = cache / f"{key}.npz"
    if path.exists():
        with np.load(path) as z:
            return {name: z[name] for name in z.files}, None
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    tmp = cache / f".{key}.tmp.npz"
    np.savez(tmp, **out)
    os.replace(tmp, path)
    return out, seconds


def quality(args, start: float) -> dict:
    from xlir.datasets import load_xquad_r
    from xlir.encoders.colbert import ColBERTEncoder
    from xlir.plaid import exact_maxsim_all, top_k

    data = xquad_dir(args.data)
    langs = [x.strip() for x in args.langs.split(",") if x.strip()]
    encoder = ColBERTEncoder()
    identity = encoder.identity()
    cache = args.cache / identity["revision"].replace(":", "-")
    cache.mkdir(parents=True, exist_ok=True)
    tasks = {lang: load_xquad_r(data, queries_lang="en", docs_lang=lang) for lang in langs}
    queries = tasks[langs[0]].queries
    # a fixed random sample of the questions (the same for every language and system): the
    # approximate search decompresses every paragraph of a 240-paragraph language for k=100
    sample = np.sort(np.random.default_rng(0).choice(len(queries), min(args.queries, len(queries)), replace=False))

    def enc_queries():
        qv = encoder.encode_queries([q.text for q in queries])
        return {"vectors": np.concatenate(qv), "lens": np.array([len(v) for v in qv])}

    qz, q_s = encode_cached(encoder, cache, "queries-en", enc_queries)
    qoff = np.concatenate([[0], np.cumsum(qz["lens"])])
    qvecs = [qz["vectors"][qoff[i] : qoff[i + 1]] for i in sample]
    queries = [queries[i] for i in sample]
    log(start, f"queries: {len(queries)} x {qvecs[0].shape}" + (f" encoded in {q_s:.0f} s" if q_s else " (cache)"))

    dense = json.loads((RESULTS / "dense_quality.json").read_text())["summary"]["ndcg@10"]
    pooled_parts, pooled_exact = [], []
    enc_seconds, enc_paragraphs, enc_tokens = 0.0, 0, 0
    per_lang = {}
    for lang in langs:
        task = tasks[lang]
        ids = [d.id for d in task.docs]

        def enc_docs(task=task):
            v, lens = encoder.encode_docs([d.contents for d in task.docs])
            return {"vectors": v.astype(np.float16), "lens": lens}

        dz, d_s = encode_cached(encoder, cache, f"docs-{lang}", enc_docs)
        vec, lens = dz["vectors"], dz["lens"].astype(np.int32)
        t0 = time.perf_counter()
        vec32 = np.asarray(vec, np.float32)
        exact_scores = [exact_maxsim_all(q, vec32, lens) for q in qvecs]
        exact_res = [top_k(s, np.arange(len(lens)), K) for s in exact_scores]
        exact_qps = len(qvecs) / (time.perf_counter() - t0)
        pooled_parts.append((vec, lens))
        pooled_exact.append(exact_scores)
        if args.pooled_only:
            continue
        if d_s:
            enc_seconds += d_s
            enc_paragraphs += len(lens)
            enc_tokens += int(lens.sum())
        exact_run = _run(queries, ids, exact_res)
        qrels = {q.id: task.qrels[q.id] for q in queries}
        row = {"paragraphs": len(lens), "tokens": int(lens.sum()), "exact": _evaluate(qrels, exact_run),
               "exact_qps": exact_qps, "dense_e5_ndcg@10": dense.get(lang, {}).get("xlir")}
        for nbits in args.nbits:
            res, measured, _ = _measure_index([(vec, lens)], qvecs, exact_res, nbits, args.residual_codec)
            row[f"plaid-{nbits}b"] = {**_evaluate(qrels, _run(queries, ids, res)), **measured}
        per_lang[lang] = row
        log(start, f"en→{lang}: exact nDCG@10 {row['exact']['nDCG@10']:.4f}, 2b {row['plaid-2b']['nDCG@10']:.4f} "
                   f"(recall vs exact {row['plaid-2b']['recall@100_vs_exact']:.3f}, size {row['plaid-2b']['size_ratio_vs_float16']:.3f}),"
                   f" dense {row['dense_e5_ndcg@10']}")
        encoding = _encoding(enc_paragraphs, enc_tokens, enc_seconds)
        if getattr(args, "partial", None):
            args.partial({"encoder": identity, "queries": len(queries), "langs": list(per_lang), "per_lang": per_lang,
                          "encoding": encoding})
    encoding = _encoding(enc_paragraphs, enc_tokens, enc_seconds)
    pooled = _pooled(pooled_parts, pooled_exact, qvecs, start, args.residual_codec) if len(pooled_parts) > 1 else None
    if args.pooled_only:
        return pooled
    return {"pooled": pooled, "encoder": identity, "queries": len(queries), "query_sample": "numpy default_rng(0).choice of the 1,190",
            "langs": langs, "per_lang": per_lang, "encoding": encoding}


def _overlap(res, ref) -> float:
    """Mean |approximate top-K ∩ reference top-K| / K."""
    return float(np.mean([len(set(a[1].tolist()) & set(b[1].tolist())) / max(1, min(K, len(b[1])))
                          for a, b in zip(res, ref)]))


def _measure_index(parts, qvecs, exact_res, nbits: int, residual_codec: str):
    """Build a PlaidIndex of ``parts`` and search it: (results, measurements, brute-force results on
    its decompressed vectors)."""
    from xlir.plaid import PlaidIndex, exact_maxsim_all, top_k

    lens = np.concatenate([p[1] for p in parts])
    t0 = time.perf_counter()
    index = PlaidIndex.build(parts, nbits=nbits, residual_codec=residual_codec)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = [index.search(q, K) for q in qvecs]
    qps = len(qvecs) / (time.perf_counter() - t0)
    dec = index.decompress()
    brute = [top_k(exact_maxsim_all(q, dec, lens), np.arange(len(lens)), K) for q in qvecs]
    measured = {"recall@100_vs_exact": _overlap(res, exact_res), "search_recall@100_vs_decompressed": _overlap(res, brute),
                "size_ratio_vs_float16": index.nbytes() / (int(lens.sum()) * parts[0][0].shape[1] * 2),
                "residual_codec": index.residual_codec, "ncentroids": int(len(index.codec.centroids)),
                "build_s": build_s, "qps": qps}
    return res, measured, brute


def _pooled(parts, exact_scores, qvecs, start, residual_codec) -> dict:
    """Recall@100 of one 2-bit index over every language's paragraphs (see the module docstring)."""
    from xlir.plaid import top_k

    lens = np.concatenate([p[1] for p in parts])
    rows = np.arange(len(lens))
    exact_res = [top_k(np.concatenate(per_q), rows, K) for per_q in zip(*exact_scores)]
    _, measured, brute = _measure_index(parts, qvecs, exact_res, 2, residual_codec)
    out = {"paragraphs": int(len(lens)), "tokens": int(lens.sum()), **measured,
           "bruteforce_decompressed_recall@100_vs_exact": _overlap(brute, exact_res)}
    log(start, f"pooled {out['paragraphs']} paragraphs: recall@100 vs exact {out['recall@100_vs_exact']:.3f}, "
               f"search recall vs decompressed {out['search_recall@100_vs_decompressed']:.3f}, {out['qps']:.1f} q/s")
    return out


def _encoding(paragraphs: int, tokens: int, seconds: float) -> dict:
    return {"paragraphs": paragraphs, "tokens": tokens, "seconds": seconds,
            "paragraphs_per_s": paragraphs / seconds if seconds else None,
            "tokens_per_s": tokens / seconds if seconds else None,
            "note": "measured in this run" if seconds else "all vectors came from the cache: no encoder timing"}


def synthetic(n: int, dim: int, seed: int = 0):
    """Token vectors of ``n`` passages (generator in the module docstring)."""
    rng = np.random.default_rng(seed)
    vocab = 20_000
    terms = rng.standard_normal((vocab, dim)).astype(np.float32)
    terms /= np.linalg.norm(terms, axis=1, keepdims=True)
    p = 1.0 / np.arange(1, vocab + 1)
    p /= p.sum()
    lens = rng.integers(32, 97, n).astype(np.int32)
    tok_terms = rng.choice(vocab, int(lens.sum()), p=p).astype(np.int32)
    vec = np.empty((len(tok_terms), dim), np.float16)
    for s in range(0, len(tok_terms), 262_144):
        t = tok_terms[s : s + 262_144]
        x = terms[t] + rng.standard_normal((len(t), dim)).astype(np.float32) * (0.5 / np.sqrt(dim))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        vec[s : s + len(t)] = x
    return terms, tok_terms, vec, lens, rng


def speed(args, start: float, encoding: dict | None) -> dict:
    from xlir.plaid import PlaidIndex, exact_maxsim_all, iter_parts, num_centroids, top_k

    dim = 128
    t0 = time.perf_counter()
    terms, tok_terms, vec, lens, rng = synthetic(args.passages, dim)
    log(start, f"synthetic: {len(lens)} passages, {len(vec)} tokens, dim {dim} in {time.perf_counter() - t0:.0f} s")
    parts = list(iter_parts(vec, lens, 4096))
    t0 = time.perf_counter()
    index = PlaidIndex.build(parts, nbits=2, max_centroids=4096, residual_codec=args.residual_codec)
    build_s = time.perf_counter() - t0
    log(start, f"build: {build_s:.0f} s ({len(lens) / build_s:.0f} passages/s), {len(index.codec.centroids)} centroids")
    offsets = np.concatenate([[0], np.cumsum(lens)])

    def query():
        d = rng.integers(len(lens))
        t = tok_terms[offsets[d] : offsets[d + 1]][rng.integers(0, lens[d], 32)]
        x = terms[t] + rng.standard_normal((32, dim)).astype(np.float32) * (0.5 / np.sqrt(dim))
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    queries = [query() for _ in range(args.speed_queries)]
    search = {}
    for k in (10, 100):
        index.search(queries[0], k)  # numba compile / warm-up
        t0 = time.perf_counter()
        res = [index.search(q, k) for q in queries]
        search[f"k={k}"] = {"queries": len(queries), "qps": len(queries) / (time.perf_counter() - t0)}
        log(start, f"search k={k}: {search[f'k={k}']['qps']:.1f} q/s")
    t0 = time.perf_counter()
    rec = []
    for q in queries[:30]:
        exact = top_k(exact_maxsim_all(q, vec, lens), np.arange(len(lens)), 10)[1]
        rec.append(len(set(exact.tolist()) & set(index.search(q, 10)[1].tolist())) / 10)
    exact_s = (time.perf_counter() - t0) / 30
    build_rate = len(lens) / build_s
    enc_rate = (encoding or {}).get("paragraphs_per_s")
    return {
        "passages": len(lens), "tokens": int(len(vec)), "dim": dim, "nbits": 2,
        "ncentroids": int(len(index.codec.centroids)), "residual_codec": index.residual_codec,
        "plaid_formula_centroids": num_centroids(len(vec)), "default_centroids": num_centroids(len(vec), 4096, 2),
        "max_centroids": 4096,
        "build_s": build_s, "build_passages_per_s": build_rate,
        "size_ratio_vs_float16": index.nbytes() / (len(vec) * dim * 2), "compressed_mb": index.nbytes() / 2**20,
        "search": search, "recall@10_vs_exact": float(np.mean(rec)), "exact_brute_force_s_per_query": exact_s,
        "extrapolated_passages_per_s_with_encoding": (1 / (1 / enc_rate + 1 / build_rate)) if enc_rate else None,
    }


def report(payload: dict) -> None:
    q = payload.get("quality")
    if q:
        rows = []
        bits = _bits(q)
        for lang, r in q["per_lang"].items():
            rows.append([f"en→{lang}", fmt(r["dense_e5_ndcg@10"], ".4f"), fmt(r["exact"]["nDCG@10"], ".4f")]
                        + [fmt(r[f"plaid-{b}b"]["nDCG@10"], ".4f") for b in bits]
                        + [fmt(r[f"plaid-{b}b"]["recall@100_vs_exact"], ".3f") for b in bits]
                        + [fmt(r["plaid-2b"].get("search_recall@100_vs_decompressed"), ".3f")]
                        + [fmt(r[f"plaid-{b}b"]["size_ratio_vs_float16"], ".3f") for b in bits])
        print("XQuAD-R en→X, multilingual-e5-small token vectors (zero-shot late interaction), k=100\n")
        print(markdown_table(["setting", "dense e5 nDCG@10", "exact MaxSim nDCG@10"]
                             + [f"{b}-bit nDCG@10" for b in bits] + [f"{b}-bit R@100 vs exact" for b in bits]
                             + ["2-bit search R@100 vs own brute force"]
                             + [f"{b}-bit size / f16" for b in bits], rows))
        s = payload["summary"]
        print(f"\nmean nDCG@10: dense {fmt(s['mean_ndcg@10']['dense'], '.4f')}, exact {s['mean_ndcg@10']['exact']:.4f}, "
              + ", ".join(f"{b}-bit {s['mean_ndcg@10'][f'plaid-{b}b']:.4f}" for b in bits))
        g = s["goals_2bit"]
        print(f"2-bit goals: size <= 1/6 of float16 in every language: {g['size_ok']} (max {g['max_size_ratio']:.3f}); "
              f"|ΔnDCG@10| vs exact <= 0.01 in every language: {g['ndcg_ok']} (max {g['max_abs_ndcg_diff']:.4f}); "
              f"recall@100 vs exact >= 0.95 in every language: {g['recall_ok']} (min {g['min_recall']:.3f})")
        pl = q.get("pooled")
        if pl:
            print(f"pooled index of {pl['paragraphs']:,} paragraphs ({pl['tokens']:,} tokens, {pl['ncentroids']} centroids), "
                  f"2 bits: recall@100 vs exact {pl['recall@100_vs_exact']:.3f}, search recall@100 vs brute force on the "
                  f"same compressed vectors {pl['search_recall@100_vs_decompressed']:.3f} (brute force on them vs exact: "
                  f"{pl['bruteforce_decompressed_recall@100_vs_exact']:.3f}), size / f16 {pl['size_ratio_vs_float16']:.3f}, "
                  f"{pl['qps']:.1f} q/s")
        e = q["encoding"]
        if e["seconds"]:
            print(f"encoding (ColBERTEncoder, e5-small, CPU): {e['paragraphs']} paragraphs in {e['seconds']:.0f} s = "
                  f"{e['paragraphs_per_s']:.2f} paragraphs/s, {e['tokens_per_s']:.0f} tokens/s")
    sp = payload.get("speed")
    if sp:
        print(f"\nSynthetic {sp['passages']:,} passages, {sp['tokens']:,} tokens, dim {sp['dim']}, 2 bits, "
              f"{sp['ncentroids']} centroids (PLAID's formula: {sp['plaid_formula_centroids']}, capped at {sp['max_centroids']})\n")
        rows = [["build (k-means + compression + IVF)", f"{sp['build_s']:.0f} s", f"{sp['build_passages_per_s']:.0f} passages/s"],
                ["search k=10", "", f"{sp['search']['k=10']['qps']:.1f} queries/s"],
                ["search k=100", "", f"{sp['search']['k=100']['qps']:.1f} queries/s"],
                ["exact brute-force MaxSim", f"{sp['exact_brute_force_s_per_query']:.2f} s/query", ""],
                ["recall@10 vs exact (30 queries)", fmt(sp["recall@10_vs_exact"], ".3f"), ""],
                ["index size / float16 vectors", fmt(sp["size_ratio_vs_float16"], ".3f"), f"{sp['compressed_mb']:.0f} MB"],
                ["build incl. encoding (EXTRAPOLATED)", "", fmt(sp["extrapolated_passages_per_s_with_encoding"], ".2f") + " passages/s"]]
        print(markdown_table(["step", "time / value", "rate"], rows))
    print(f"\nload average at the end: {payload['environment']['machine'].get('load_average')}; total {payload['elapsed_s']:.0f} s")


def _bits(q: dict) -> list[int]:
    first = next(iter(q["per_lang"].values()))
    return [b for b in NBITS if f"plaid-{b}b" in first]


def summarize(q: dict) -> dict:
    per = q["per_lang"]
    mean = {"exact": float(np.mean([r["exact"]["nDCG@10"] for r in per.values()])),
            "dense": float(np.mean([r["dense_e5_ndcg@10"] for r in per.values()]))
            if all(r["dense_e5_ndcg@10"] is not None for r in per.values()) else None}
    for b in _bits(q):
        mean[f"plaid-{b}b"] = float(np.mean([r[f"plaid-{b}b"]["nDCG@10"] for r in per.values()]))
    two = [r["plaid-2b"] for r in per.values()]
    diffs = [abs(r["plaid-2b"]["nDCG@10"] - r["exact"]["nDCG@10"]) for r in per.values()]
    goals = {"max_size_ratio": max(t["size_ratio_vs_float16"] for t in two),
             "max_abs_ndcg_diff": max(diffs), "min_recall": min(t["recall@100_vs_exact"] for t in two),
             "mean_recall": float(np.mean([t["recall@100_vs_exact"] for t in two])),
             "min_search_recall": min(t.get("search_recall@100_vs_decompressed", float("nan")) for t in two)}
    goals.update(size_ok=goals["max_size_ratio"] <= 1 / 6, ndcg_ok=goals["max_abs_ndcg_diff"] <= 0.01,
                 recall_ok=goals["min_recall"] >= 0.95)
    return {"mean_ndcg@10": mean, "goals_2bit": goals}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--langs", default=",".join(LANGS))
    parser.add_argument("--passages", type=int, default=50_000, help="synthetic passages for the speed part")
    parser.add_argument("--queries", type=int, default=300, help="questions sampled for the quality part (default: %(default)s)")
    parser.add_argument("--speed-queries", type=int, default=100)
    parser.add_argument("--pooled-only", action="store_true",
                        help="recompute only the pooled index part of --output (same --queries) and rewrite it")
    parser.add_argument("--nbits", default="1,2,4", help="residual bits of the quality part (default: %(default)s)")
    parser.add_argument("--residual-codec", default="auto", choices=("auto", "pq", "lloyd"),
                        help="PlaidIndex.build's residual_codec (default: %(default)s: pq from 16,384 tokens)")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/xlir-colbert-bench"),
                        help="encoded token vectors are kept here and reused (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=RESULTS / "colbert.json")
    parser.add_argument("--report", type=Path, metavar="JSON", help="only print the tables of a saved result")
    parser.add_argument("--merge-speed", type=Path, metavar="JSON",
                        help="add the speed part of another result (a --skip-quality run) to --output and print it")
    args = parser.parse_args(argv)
    args.nbits = [int(b) for b in args.nbits.split(",")]
    if 2 not in args.nbits:
        parser.error("--nbits must include 2 (the goals are stated at 2 bits)")
    if args.report:
        report(json.loads(args.report.read_text(encoding="utf-8")))
        return 0
    if args.merge_speed:
        payload = json.loads(args.output.read_text(encoding="utf-8"))
        other = json.loads(args.merge_speed.read_text(encoding="utf-8"))
        sp = dict(other["speed"])
        enc = (payload.get("quality") or {}).get("encoding", {}).get("paragraphs_per_s")
        if enc:
            sp["extrapolated_passages_per_s_with_encoding"] = 1 / (1 / enc + 1 / sp["build_passages_per_s"])
        payload["speed"] = sp
        payload["speed_environment"] = other["environment"]
        payload["speed_elapsed_s"] = other["elapsed_s"]
        report(payload)
        write_json(args.output, payload)
        return 0
    logging.getLogger("xlir.eval.measures").setLevel(logging.ERROR)
    start = time.perf_counter()
    payload: dict = {"benchmark": "colbert", "params": {"k": K, "nbits": args.nbits, "queries": args.queries,
                                                        "search": "PLAID defaults for k"}}
    def partial(q):  # results so far, in case a later language or the speed part does not finish
        write_json(args.output, {**payload, "quality": q, "summary": summarize(q), "partial": True,
                                 "elapsed_s": round(time.perf_counter() - start, 1), "environment": environment()})

    args.partial = partial
    if args.pooled_only:
        payload = json.loads(args.output.read_text(encoding="utf-8"))
        payload["quality"]["pooled"] = quality(args, start)
        payload.setdefault("notes", []).append(f"pooled part recomputed by --pooled-only ({time.strftime('%Y-%m-%d')})")
        payload["pooled_environment"] = environment()
        report(payload)
        write_json(args.output, payload)
        return 0
    if not args.skip_quality:
        payload["quality"] = quality(args, start)
        payload["summary"] = summarize(payload["quality"])
        write_json(args.output, {**payload, "partial": True, "environment": environment()})
    if not args.skip_speed:
        payload["speed"] = speed(args, start, (payload.get("quality") or {}).get("encoding"))
    payload["elapsed_s"] = round(time.perf_counter() - start, 1)
    payload["environment"] = environment()
    report(payload)
    write_json(args.output, payload)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
