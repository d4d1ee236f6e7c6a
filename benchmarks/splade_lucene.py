"""SPLADE on XQuAD-R: xlir's native sparse index (``splade``) against a Lucene impact index
(``lucene-impact``), fed the same term weights: quality, ranking agreement, speed.

Data: the 240 English paragraphs and the 1,190 English questions of XQuAD-R (``en→en``).
For XQuAD-R this single setting is *both* "human document translation" (the X paragraphs
translated into English, English questions) and "human query translation into English"
(the X questions translated into English, English paragraphs): the English side of
XQuAD-R is the human translation of every other language's side. The model is xlir's
offline SPLADE-tiny (English only).

Same weights on both sides. The paragraphs and questions are encoded *once*, before any
retriever exists (that time is reported on its own); both retrievers get one shared
encoder object that serves those precomputed vectors and refuses any text it has not seen,
so neither index nor search time includes model inference, and both engines start from
bit-identical float32 term weights.

Where the two may differ: quantization only.

* native ``splade`` (uint8): document impacts ``round(w / s)`` with one index-wide step
  ``s = max weight / 255`` (postings rounding to 0 are dropped); queries stay float32;
  score ``= s * sum_t q_t * round(d_t / s)``. Each posting is off by at most ``s/2``, so
  ``|native - exact| <= s/2 * sum_{t in q∩d} q_t``.
* ``lucene-impact`` (Anserini/Pyserini): documents *and* queries are quantized,
  ``round(w * c)`` with ``c = quant_range / weight_range = 256/5 = 51.2`` (step
  ``1/c = 0.0195``; terms rounding to 0 are dropped on either side); the integer dot
  product is divided by ``c**2``. With ``|eps| <= 1/(2c)`` on each side,
  ``(q+eq)(d+ed) - qd = q ed + d eq + eq ed``, so
  ``|lucene - exact| <= sum_{t in q∩d} [(q_t + d_t)/(2c) + 1/(4c²)]``.

``exact`` is the float64 dot product of the unquantized float32 weights. Each engine's
scores are also compared with its quantized arithmetic redone in numpy (native:
``s * sum q_t * round(d_t / s)``; Lucene: ``sum round(q_t c) round(d_t c) / c**2``): equal
up to float32 rounding means the engine scores exactly the quantized weights. Both bounds are
checked for every (question, paragraph) pair (both engines retrieve all 240 paragraphs
for that), and so is ``|native - lucene| <= both bounds together``; when they all hold,
every ordering difference between the engines is a quantization effect (two paragraphs
whose exact scores are closer than the error bounds), not a difference in the weights, the
vocabulary or the scoring. Ranking agreement is measured on the top 10: identical ordered
lists (each run ordered by score, ties by paragraph id, the order both engines return),
identical sets, overlap@10, and Kendall's tau-b between the two engines' scores over the
union of their top-10s.

Speed (single thread: the numba kernel and ``threads=1``/``index_threads=1`` in Lucene):
index time excludes encoding (it is the weights -> index build: dict conversion,
quantization, for Lucene the pseudo-documents, JNI and Lucene indexing and commit);
search queries/s is given both through the retrievers' ``search()`` (precomputed query
vectors; dict conversion and quantization included) and for the engine alone (native:
``InvertedIndex.search`` on the query dicts; Lucene: ``SimpleImpactSearcher.batch_search``
on prebuilt Java query maps), at k=100 and, engine only, at k=10 (Anserini reads each hit's
stored id, so its cost grows with k). Medians of ``--repeat`` runs after a warm-up; the first
(cold) index build is reported too. JVM start and model load are reported separately.

Usage: ``.venv/bin/python benchmarks/splade_lucene.py [--data DIR] [--threads N] [--repeat N] [--output PATH]``
(about a minute on 2 busy cores).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the default model is provisioned offline; never try the Hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _common, when run as a script

from _common import DEFAULT_DATA, RESULTS, environment, fmt, markdown_table, write_json, xquad_dir  # noqa: E402

MEASURES = ("nDCG@10", "RR@10", "R@100")
K = 100
TOP = 10  # ranking agreement depth


class FixedEncoder:
    """Serves SPLADE vectors computed once by :meth:`precompute`; any other text is an error.

    Quacks like :class:`xlir.encoders.sparse.SpladeEncoder` for both retrievers
    (``encode_docs``, ``encode_queries``, ``vocab``, ``identity``...), so both indexes and
    both searches see the very same float32 weights and no model runs after precompute.
    """

    def __init__(self, inner):
        self.inner = inner
        self._batch = {}
        self._row = {}

    def __getattr__(self, name):  # vocab, identity, ... of the wrapped encoder
        return getattr(self.inner, name)

    def precompute(self, kind: str, texts: list[str]) -> float:
        """Encode the distinct ``texts`` of ``kind`` (``docs``/``queries``) with the model; returns seconds."""
        distinct = list(dict.fromkeys(texts))
        fn = self.inner.encode_docs if kind == "docs" else self.inner.encode_queries
        start = time.perf_counter()
        self._batch[kind] = fn(distinct)
        seconds = time.perf_counter() - start
        self._row[kind] = {t: i for i, t in enumerate(distinct)}
        return seconds

    def batch(self, kind: str, texts):
        rows = self._row[kind]
        missing = [t for t in texts if t not in rows]
        if missing:
            raise RuntimeError(f"{len(missing)} {kind} were not precomputed (would re-encode), e.g. {missing[0]!r}")
        return self._batch[kind].take([rows[t] for t in texts])

    def encode_docs(self, texts, *, top_k=0):
        return self.batch("docs", list(texts)).top_k(top_k)

    def encode_queries(self, texts, *, top_k=0):
        return self.batch("queries", list(texts)).top_k(top_k)


def _csr(batch, dim):
    import scipy.sparse as sp

    return sp.csr_matrix((batch.weights.astype("float64"), batch.ids, batch.indptr), shape=(len(batch), dim))


def _matrix(run, qids, dids):
    """(queries x docs) scores of a run, 0 where a doc was not returned, and a 'returned' mask."""
    import numpy as np

    col = {d: j for j, d in enumerate(dids)}
    scores = np.zeros((len(qids), len(dids)))
    returned = np.zeros((len(qids), len(dids)), bool)
    for i, q in enumerate(qids):
        for d, s in run.get(q, {}).items():
            scores[i, col[d]] = s
            returned[i, col[d]] = True
    return scores, returned


def _ordered(hits: dict, n: int) -> list[str]:
    """Top ``n`` of a run's hits by score, ties by doc id (the order both engines return)."""
    return [d for d, _ in sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def _agreement(a_run, b_run, a_full, b_full, qids, dids) -> dict:
    """Top-``TOP`` agreement of run a vs run b; Kendall's tau-b over the union of the top-10s
    using the full-depth scores ``*_full`` (queries x docs)."""
    import numpy as np
    from scipy.stats import kendalltau

    col = {d: j for j, d in enumerate(dids)}
    same_list = same_set = 0
    overlap, taus, discordant = [], [], 0
    for i, q in enumerate(qids):
        a, b = _ordered(a_run.get(q, {}), TOP), _ordered(b_run.get(q, {}), TOP)
        same_list += a == b
        same_set += set(a) == set(b)
        overlap.append(len(set(a) & set(b)) / max(len(a), len(b), 1))
        union = sorted({col[d] for d in a} | {col[d] for d in b})
        x, y = a_full[i, union], b_full[i, union]
        if len(union) > 1:
            tau = kendalltau(x, y).statistic
            taus.append(1.0 if np.isnan(tau) else float(tau))  # nan: constant scores on both sides
            dx, dy = np.sign(x[:, None] - x[None, :]), np.sign(y[:, None] - y[None, :])
            discordant += int((dx * dy < 0).sum()) // 2
    n = len(qids)
    return {"queries": n, "top10_list_identical": same_list / n, "top10_set_identical": same_set / n,
            "mean_overlap@10": float(np.mean(overlap)), "mean_kendall_tau_b@10": float(np.mean(taus)),
            "discordant_pairs_in_top10_union": discordant}


def _ties(run, qids) -> int:
    """Queries whose top 10 holds two equal scores."""
    n = 0
    for q in qids:
        top = sorted(run.get(q, {}).values(), reverse=True)[:TOP]
        n += len(set(top)) < len(top)
    return n


def _median_time(fn, repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data root holding xquad-r/ (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the one-off encoding (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per speed figure, median reported (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=RESULTS / "splade_lucene.json", help="JSON output (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    logging.getLogger("xlir.eval.measures").setLevel(logging.ERROR)

    import numpy as np
    import torch

    from xlir.datasets import load_xquad_r
    from xlir.encoders.sparse import SpladeEncoder
    from xlir.eval.measures import evaluate
    from xlir.lucene_jvm import anserini_version, jclass, start_jvm
    from xlir.retrievers.lucene import LuceneImpactParams, LuceneImpactRetriever
    from xlir.retrievers.splade import SpladeParams, SpladeRetriever

    torch.set_num_threads(args.threads)
    data = xquad_dir(args.data)
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - started:5.0f} s] {msg}", file=sys.stderr, flush=True)

    en = load_xquad_r(data, queries_lang="en", docs_lang="en")
    docs, queries, qrels = en.docs, en.queries, en.qrels
    qids, dids = [q.id for q in queries], [d.id for d in docs]
    n_all = len(docs)

    # -- JVM, model, the one encoding of everything --------------------------------------------
    jvm = start_jvm()
    log(f"JVM started in {jvm.start_s:.2f} s (Java {jvm.java_version}, {jvm.source})")
    t0 = time.perf_counter()
    plain = SpladeEncoder()
    plain.encode_queries(["warm-up"])  # loads the weights
    identity = plain.identity()
    load_s = time.perf_counter() - t0
    enc = FixedEncoder(plain)
    encode_docs_s = enc.precompute("docs", [d.contents for d in docs])
    encode_queries_s = enc.precompute("queries", [q.text for q in queries])
    log(f"model load {load_s:.1f} s; encoded {n_all} paragraphs in {encode_docs_s:.1f} s, "
        f"{len(queries)} questions in {encode_queries_s:.1f} s")

    # -- exact reference: float64 dot products of the float32 weights, and both error bounds ---
    V = len(plain.vocab)
    D = _csr(enc.encode_docs([d.contents for d in docs]), V)
    Q = _csr(enc.encode_queries([q.text for q in queries]), V)
    Db, Qb = (D > 0).astype(np.float64), (Q > 0).astype(np.float64)
    exact = (Q @ D.T).toarray()

    # -- native splade ---------------------------------------------------------------------------
    native = SpladeRetriever(SpladeParams(lang="en"), encoder=enc)
    t0 = time.perf_counter()
    native.index(docs)
    native_cold_index_s = time.perf_counter() - t0
    native_index_s, _ = _median_time(lambda: native.index(docs), args.repeat)
    scale = float(native.quantization["scale"])
    t0 = time.perf_counter()
    native.search(queries[:2], k=K)  # numba compiles the uint8 kernel if not cached
    native_compile_s = time.perf_counter() - t0
    native_run = native.search(queries, k=K)
    native_search_s, _ = _median_time(lambda: native.search(queries, k=K), args.repeat)
    qvec = native.query_vectors(queries)
    native_kernel_s, _ = _median_time(lambda: native.index_.search(qvec, K), args.repeat)
    native_kernel10_s, _ = _median_time(lambda: native.index_.search(qvec, TOP), args.repeat)
    native_full = native.search(queries, k=n_all)
    tmp = Path(tempfile.mkdtemp(prefix="xlir-splade-lucene-bench-"))
    native.save(tmp / "native")
    native_bytes = _folder_bytes(tmp / "native")
    native_postings = sum((tmp / "native" / f).stat().st_size for f in ("values.npy", "doc_ids.npy", "indptr.npy"))
    log(f"native: index {native_index_s * 1e3:.0f} ms, {len(queries) / native_search_s:,.0f} q/s (API), "
        f"{len(queries) / native_kernel_s:,.0f} q/s (engine)")

    # -- lucene-impact -----------------------------------------------------------------------------
    lp = LuceneImpactParams(lang="en", threads=1, index_threads=1)
    lucene = LuceneImpactRetriever(lp, encoder=enc)
    c = lucene.scale
    t0 = time.perf_counter()
    lucene.index(docs)
    lucene_cold_index_s = time.perf_counter() - t0
    lucene_index_s, _ = _median_time(lambda: lucene.index(docs), args.repeat)
    t0 = time.perf_counter()
    lucene.search(queries[:50], k=K)  # opens the searcher, first JIT
    lucene_first_s = time.perf_counter() - t0
    lucene.search(queries, k=K)  # warm-up (JIT)
    lucene_run = lucene.search(queries, k=K)
    lucene_search_s, _ = _median_time(lambda: lucene.search(queries, k=K), args.repeat)
    # the engine alone: SimpleImpactSearcher.batch_search on prebuilt Java maps, one thread
    jlist, jmap, jint = jclass("java.util.ArrayList"), jclass("java.util.HashMap"), jclass("java.lang.Integer")
    maps, jqids = jlist(), jlist()
    for impacts in lucene.query_impacts(queries):
        m = jmap()
        for term, q in impacts.items():
            m.put(term, jint(q))
        maps.add(m)
    for q in qids:
        jqids.add(q)
    searcher = lucene.searcher
    searcher.batch_search(maps, jqids, K, 1)
    lucene_engine_s, _ = _median_time(lambda: searcher.batch_search(maps, jqids, K, 1), args.repeat)
    lucene_engine10_s, _ = _median_time(lambda: searcher.batch_search(maps, jqids, TOP, 1), args.repeat)
    lucene_full = lucene.search(queries, k=n_all)
    lucene.save(tmp / "lucene")
    lucene_bytes = _folder_bytes(tmp / "lucene")
    lucene_dir_bytes = _folder_bytes(tmp / "lucene" / "lucene")
    lucene.close()
    log(f"lucene: index {lucene_index_s * 1e3:.0f} ms, {len(queries) / lucene_search_s:,.0f} q/s (API), "
        f"{len(queries) / lucene_engine_s:,.0f} q/s (engine)")

    # -- exact-score run (the unquantized reference ranking) -------------------------------------
    exact_run = {}
    for i, q in enumerate(qids):
        row = exact[i]
        idx = [j for j in np.lexsort((np.arange(n_all), -row)) if row[j] > 0][:K]
        exact_run[q] = {dids[j]: float(row[j]) for j in idx}

    # -- scores against the bounds, every (question, paragraph) pair ----------------------------
    ns, n_ret = _matrix(native_full, qids, dids)
    ls, l_ret = _matrix(lucene_full, qids, dids)
    bound_n = scale / 2 * (Q @ Db.T).toarray()
    bound_l = ((Q @ Db.T).toarray() + (Qb @ D.T).toarray()) / (2 * c) + (Qb @ Db.T).toarray() / (4 * c * c)
    tol = 1e-5 * np.maximum(1.0, np.abs(exact))  # float32 accumulation in both engines
    # each engine's quantized arithmetic redone here: native s * sum q_t * clip(rint(d_t / s), 0, 255)
    # (float32 division, as SpladeRetriever's quantize()), Lucene sum round(q_t c) round(d_t c) / c**2
    # (Python's round, half to even = np.rint, in float64, as quantize_weights())
    Dn = D.copy()
    Dn.data = np.clip(np.rint(D.data.astype(np.float32) / np.float32(scale)), 0, 255).astype(np.float64)
    sim_n = scale * (Q @ Dn.T).toarray()
    Ql, Dl = Q.copy(), D.copy()
    Ql.data, Dl.data = np.rint(Q.data * c), np.rint(D.data * c)
    sim_l = (Ql @ Dl.T).toarray() / (c * c)
    err_n, err_l, diff = np.abs(ns - exact), np.abs(ls - exact), np.abs(ns - ls)
    overlap_pairs = (Qb @ Db.T).toarray() > 0  # pairs sharing at least one term (exact > 0)
    checks = {
        "pairs": int(exact.size),
        "pairs_sharing_a_term": int(overlap_pairs.sum()),
        "native_returned": int(n_ret.sum()),
        "lucene_returned": int(l_ret.sum()),
        "returned_by_one_engine_only": int((n_ret != l_ret).sum()),
        "native_within_bound": bool((err_n <= bound_n + tol).all()),
        "lucene_within_bound": bool((err_l <= bound_l + tol).all()),
        "diff_within_bounds": bool((diff <= bound_n + bound_l + tol).all()),
        "max_abs_native_minus_simulated_uint8": float(np.abs(ns - sim_n).max()),
        "max_abs_lucene_minus_simulated_integer": float(np.abs(ls - sim_l).max()),
        "max_abs_native_minus_exact": float(err_n.max()),
        "max_abs_lucene_minus_exact": float(err_l.max()),
        "max_abs_native_minus_lucene": float(diff.max()),
        "mean_abs_native_minus_lucene": float(diff[overlap_pairs].mean()),
        "max_native_error_over_bound": float((err_n[overlap_pairs] / bound_n[overlap_pairs]).max()),
        "max_lucene_error_over_bound": float((err_l[overlap_pairs] / bound_l[overlap_pairs]).max()),
        "max_diff_over_bounds": float((diff[overlap_pairs] / (bound_n + bound_l)[overlap_pairs]).max()),
        "max_bound_native": float(bound_n.max()),
        "max_bound_lucene": float(bound_l.max()),
        "max_exact_score": float(exact.max()),
    }
    # the largest exact-score gap between two paragraphs the engines order differently (top-10 unions)
    gap = 0.0
    for i, q in enumerate(qids):
        union = sorted({dids.index(d) for d in _ordered(native_run[q], TOP)} |
                       {dids.index(d) for d in _ordered(lucene_run[q], TOP)})
        x, y, e = ns[i, union], ls[i, union], exact[i, union]
        disc = np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :]) < 0
        if disc.any():
            gap = max(gap, float(np.abs(e[:, None] - e[None, :])[disc].max()))
    checks["max_exact_gap_of_discordant_pair"] = gap

    quality = {}
    for name, run in (("exact float (reference)", exact_run), ("native splade (uint8)", native_run),
                      ("lucene-impact", lucene_run)):
        quality[name] = evaluate(qrels, run, MEASURES)
    agree = {
        "native_vs_lucene": _agreement(native_run, lucene_run, ns, ls, qids, dids),
        "native_vs_exact": _agreement(native_run, exact_run, ns, exact, qids, dids),
        "lucene_vs_exact": _agreement(lucene_run, exact_run, ls, exact, qids, dids),
    }
    ties = {"native": _ties(native_run, qids), "lucene": _ties(lucene_run, qids), "exact": _ties(exact_run, qids)}
    elapsed = time.perf_counter() - started

    # -- report --------------------------------------------------------------------------------------
    nq = len(queries)
    print(f"XQuAD-R en→en (= human document translation = human query translation into English): "
          f"{n_all} English paragraphs, {nq:,} English questions; SPLADE-tiny, k={K}; the same float32 "
          f"weights into both engines\n")
    rows = []
    for name, key in (("exact float (reference)", None), ("native splade (uint8)", "native_vs_exact"),
                      ("lucene-impact", "lucene_vs_exact")):
        a = agree[key] if key else None
        rows.append([name, fmt(quality[name]["nDCG@10"], ".4f"), fmt(quality[name]["RR@10"], ".4f"),
                     fmt(quality[name]["R@100"], ".4f"),
                     "–" if a is None else f"{a['top10_list_identical']:.1%}",
                     "–" if a is None else f"{a['mean_overlap@10']:.4f}",
                     "–" if a is None else f"{a['mean_kendall_tau_b@10']:.4f}"])
    print(markdown_table(["system", "nDCG@10", "RR@10", "R@100", "top-10 = exact", "overlap@10 vs exact",
                          "tau-b@10 vs exact"], rows))
    a = agree["native_vs_lucene"]
    print(f"\nnative vs lucene-impact: identical top-10 list {a['top10_list_identical']:.1%}, identical top-10 set "
          f"{a['top10_set_identical']:.1%}, mean overlap@10 {a['mean_overlap@10']:.4f}, mean Kendall tau-b "
          f"{a['mean_kendall_tau_b@10']:.4f} (over each query's top-10 union; {a['discordant_pairs_in_top10_union']} "
          f"discordant pairs in all); queries with tied scores in the top 10: native {ties['native']}, "
          f"lucene {ties['lucene']}")
    ch = checks
    print(f"\nquantization: native step s = max weight / 255 = {scale:.5f} (weight units; max weight "
          f"{native.quantization['max_weight']:.3f}); Lucene step 1/c = 5/256 = {1 / c:.5f} on documents and queries, "
          f"score unit 1/c² = {1 / c**2:.6f}")
    print(markdown_table(["over all {:,} (question, paragraph) pairs".format(ch["pairs"]), "value"], [
        ["max |native − its arithmetic redone in numpy| (s·Σ q_t·round(d_t/s))",
         f"{ch['max_abs_native_minus_simulated_uint8']:.2e}"],
        ["max |lucene − its arithmetic redone in numpy| (Σ round(q_t·c)·round(d_t·c)/c²)",
         f"{ch['max_abs_lucene_minus_simulated_integer']:.2e}"],
        ["max |native − exact| (bound s/2·Σ q_t, max bound)",
         f"{ch['max_abs_native_minus_exact']:.5f} ({ch['max_bound_native']:.5f}); ≤ bound: {ch['native_within_bound']}"],
        ["max |lucene − exact| (bound Σ (q_t+d_t)/2c + 1/4c², max bound)",
         f"{ch['max_abs_lucene_minus_exact']:.5f} ({ch['max_bound_lucene']:.5f}); ≤ bound: {ch['lucene_within_bound']}"],
        ["max |native − lucene|", f"{ch['max_abs_native_minus_lucene']:.5f} = {ch['max_abs_native_minus_lucene'] / scale:.2f} "
         f"native steps = {ch['max_abs_native_minus_lucene'] * c:.2f} Lucene steps; ≤ both bounds: {ch['diff_within_bounds']}"],
        ["mean |native − lucene| (pairs sharing a term)", f"{ch['mean_abs_native_minus_lucene']:.5f}"],
        ["max error / its bound: native, lucene, |native − lucene|",
         f"{ch['max_native_error_over_bound']:.3f}, {ch['max_lucene_error_over_bound']:.3f}, {ch['max_diff_over_bounds']:.3f}"],
        ["max exact-score gap of a pair the engines order differently", f"{ch['max_exact_gap_of_discordant_pair']:.5f}"],
        ["pairs returned by one engine only (a score rounded to 0)", f"{ch['returned_by_one_engine_only']}"],
        ["max exact score", f"{ch['max_exact_score']:.3f}"],
    ], align="lr"))

    print(f"\nspeed, k={K} unless said, one thread (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; medians of "
          f"{args.repeat}): JVM start {jvm.start_s:.2f} s, model load {load_s:.1f} s, encoding (once, {args.threads} "
          f"torch thread(s)) {encode_docs_s:.1f} s for {n_all} paragraphs + {encode_queries_s:.1f} s for {nq:,} "
          "questions — all excluded below\n")
    print(markdown_table(
        ["engine", "index ms (cold)", "index ms", "docs/s", "search() q/s", "engine-only q/s",
         f"engine-only q/s, k={TOP}", "index KiB (engine part)"], [
            ["native splade", fmt(native_cold_index_s * 1e3, ".0f"), fmt(native_index_s * 1e3, ".0f"),
             f"{n_all / native_index_s:,.0f}", f"{nq / native_search_s:,.0f}", f"{nq / native_kernel_s:,.0f}", f"{nq / native_kernel10_s:,.0f}",
             f"{native_bytes / 1024:,.0f} ({native_postings / 1024:,.0f})"],
            ["lucene-impact", fmt(lucene_cold_index_s * 1e3, ".0f"), fmt(lucene_index_s * 1e3, ".0f"),
             f"{n_all / lucene_index_s:,.0f}", f"{nq / lucene_search_s:,.0f}", f"{nq / lucene_engine_s:,.0f}", f"{nq / lucene_engine10_s:,.0f}",
             f"{lucene_bytes / 1024:,.0f} ({lucene_dir_bytes / 1024:,.0f})"],
        ]))
    print(f"\nnative / lucene: indexing ×{lucene_index_s / native_index_s:.1f}, search() ×"
          f"{lucene_search_s / native_search_s:.1f}, engine-only ×{lucene_engine_s / native_kernel_s:.1f} "
          f"(>1: native faster); native kernel compile/cache load {native_compile_s:.2f} s, Lucene first 50 "
          f"queries (searcher open + JIT) {lucene_first_s:.2f} s, both excluded; total {elapsed:.0f} s")

    write_json(args.output, {
        "benchmark": "splade_lucene",
        "environment": environment(),
        "dataset": {"name": "xquad-r", "path": str(data), "setting": "en→en", "docs": n_all, "queries": nq},
        "params": {"k": K, "agreement_depth": TOP, "measures": list(MEASURES), "repeat": args.repeat,
                   "torch_threads": args.threads, "search_threads": 1, "index_threads": 1,
                   "native": {"quantization": native.quantization},
                   "lucene": {"weight_range": lp.weight_range, "quant_range": lp.quant_range, "scale": c}},
        "encoder": identity,
        "jvm": {"start_s": jvm.start_s, "java": jvm.java_version, "source": jvm.source, "java_home": jvm.java_home,
                "anserini": anserini_version(jvm.anserini_jar)},
        "quality": quality,
        "agreement": agree,
        "ties_in_top10": ties,
        "score_checks": checks,
        "speed": {
            "model_load_s": load_s, "encode_docs_s": encode_docs_s, "encode_queries_s": encode_queries_s,
            "native": {"index_cold_s": native_cold_index_s, "index_s": native_index_s,
                       "index_docs_per_s": n_all / native_index_s, "kernel_compile_s": native_compile_s,
                       "search_s": native_search_s, "search_queries_per_s": nq / native_search_s,
                       "engine_s": native_kernel_s, "engine_queries_per_s": nq / native_kernel_s,
                       "engine_k10_queries_per_s": nq / native_kernel10_s,
                       "index_bytes": native_bytes, "postings_bytes": native_postings},
            "lucene": {"index_cold_s": lucene_cold_index_s, "index_s": lucene_index_s,
                       "index_docs_per_s": n_all / lucene_index_s, "first_50_queries_s": lucene_first_s,
                       "search_s": lucene_search_s, "search_queries_per_s": nq / lucene_search_s,
                       "engine_s": lucene_engine_s, "engine_queries_per_s": nq / lucene_engine_s,
                       "engine_k10_queries_per_s": nq / lucene_engine10_s,
                       "index_bytes": lucene_bytes, "lucene_dir_bytes": lucene_dir_bytes},
        },
        "elapsed_s": round(elapsed, 1),
    })
    print(f"wrote {args.output}", file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
