"""BM25 speed and memory: xlir against bm25s (numba and numpy backends), single-threaded.

Corpus
------
A synthetic English-like corpus, deterministic for a given ``--seed``, built so that
the term statistics that drive an inverted index (vocabulary growth, posting-list
lengths, query-term document frequencies) look like those of real text:

1. *Vocabulary* of ``--vocab`` word types (default 150,000) in rank order. The head is
   every real English word of XQuAD-R (paragraphs and questions, lowercased, ASCII
   alphanumeric; ~7.2k types) ordered by its frequency there, stopwords included. The
   tail is pseudo-words: the real words are cut into syllable-like chunks (consonants
   then vowels, the last chunk keeping its final consonants: ``government`` ->
   ``go | ve | rnment``), and a pseudo-word is a word-initial chunk, 0-2 medial chunks
   and a word-final chunk, each drawn by how often it occurs in the real words
   (``co + na + tion`` -> ``conation``). They therefore end in real English endings
   (-tion, -ted, -s, -ing...) that the Snowball stemmer strips as it would from words;
   duplicates and real words are skipped.
2. *Documents*: a length uniform in 40-120 words, each word drawn independently from a
   Zipf distribution over the ranks (p(r) ~ 1 / r^``--zipf``, default 1.05), joined by
   spaces, lowercase, no punctuation. At 200k documents that is ~16M tokens in which
   nearly all 150k types occur: the order of magnitude of a real corpus that size
   (real text would have more and rarer tail types), where XQuAD-R alone has 7.2k.
3. *Queries*: 3-6 distinct words from the same Zipf distribution with the 100 most
   frequent ranks rejected, so queries are made of mid-frequency terms as real queries
   are, not of "the of and". 100 extra queries, not measured, are the warm-up.

Measurements
------------
Each system runs in two fresh subprocesses (this script re-invoked with ``--system``
and ``--phase``), so that peak memory and cold start are its own:

* ``index``: from the list of inputs (``Doc`` for xlir, ``str`` for bm25s) to a saved
  index, analysis/tokenization included; then the save time and size on disk.
* ``search``: load the index memory-mapped, one first (cold) search of the 100 warm-up
  queries, then the timed (warm) search of ``--queries`` queries with k=10, end to end:
  from the query objects/texts to a run dict qid -> {docid: score}, analysis included
  (for bm25s: ``bm25s.tokenize`` + ``retrieve`` + building the same dict). "Cold" is
  process-cold (imports, numba compilation, first page faults); the OS page cache holds
  the index just written.

Peak RSS is the kernel's high-water mark (VmHWM), reset once the libraries are imported
and the inputs generated, so "Δ" is what indexing or searching added on top of them
(analyzer tables and numba code included). All numeric libraries
are pinned to one thread. bm25s uses PyStemmer's English stemmer, its English stopwords,
``method="lucene"``, k1=0.9, b=0.4; its numba index builder is compiled before the clock
starts (the compile time is reported). The numpy backend scores every document in numpy
per query, so it is measured on the first ``--numpy-queries`` queries only.

Agreement: for each query, whether xlir's top-10 document set equals bm25s-numba's.
Same formula but different tokenizers and stopword lists (stopwords-iso's 1,298 English
words against bm25s's ~180), so it is reported, not asserted. bm25s-numpy against
bm25s-numba (the same index and scores) shows how much tie-breaking at rank 10 alone
accounts for.

Usage: ``.venv/bin/python benchmarks/bm25_speed.py [--docs 200000] [--queries 10000]``
(``--docs 20000`` for a quick run).
"""

from __future__ import annotations

import os

# Single-threaded, set before numpy/scipy/numba are imported (they read these at import).
for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _common, when run as a script

from _common import DEFAULT_DATA, RESULTS, environment, fmt, markdown_table, write_json, xquad_dir  # noqa: E402

SYSTEMS = ("xlir", "bm25s-numba", "bm25s-numpy")
K = 10
WARMUP_QUERIES = 100
SKIP_TOP_RANKS = 100

# ---------------------------------------------------------------------------------------
# corpus generator (see the module docstring)

_WORD = re.compile(r"[^\W_]+")
_CHUNK = re.compile(r"[^aeiouy]*[aeiouy]+(?:[^aeiouy]+$)?")


def real_words(xquad: Path) -> list[str]:
    """English XQuAD-R words (paragraphs + questions), most frequent first, ties alphabetical."""
    counts: Counter[str] = Counter()
    for article in json.loads((xquad / "en.json").read_text(encoding="utf-8"))["data"]:
        for para in article["paragraphs"]:
            texts = [para["context"], *(qa["question"] for qa in para["qas"])]
            for text in texts:
                counts.update(w for w in _WORD.findall(text.lower()) if w.isascii())
    return sorted(counts, key=lambda w: (-counts[w], w))


def pseudo_words(real: list[str], n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct pseudo-words assembled from the syllable-like chunks of ``real``."""
    parts: tuple[Counter[str], Counter[str], Counter[str]] = (Counter(), Counter(), Counter())
    for word in real:
        chunks = _CHUNK.findall(word)
        if word.isalpha() and len(chunks) >= 2 and "".join(chunks) == word:
            parts[0][chunks[0]] += 1
            parts[1].update(chunks[1:-1])
            parts[2][chunks[-1]] += 1
    tables = []
    for counter in parts:
        items = sorted(counter)  # sorted so that the draw does not depend on dict order
        weights = np.array([counter[i] for i in items], dtype=np.float64)
        tables.append((items, weights / weights.sum()))

    def draw(table: int, size: int) -> list[str]:
        items, p = tables[table]
        return [items[i] for i in rng.choice(len(items), size=size, p=p)]

    taken = set(real)
    out: list[str] = []
    while len(out) < n:
        batch = 2 * (n - len(out)) + 1000
        n_medial = rng.choice(3, size=batch, p=[0.5, 0.35, 0.15])
        heads, tails, medials = draw(0, batch), draw(2, batch), iter(draw(1, int(n_medial.sum())))
        for head, tail, m in zip(heads, tails, n_medial.tolist()):
            word = head + "".join(next(medials) for _ in range(m)) + tail
            if word not in taken:
                taken.add(word)
                out.append(word)
    return out[:n]


def vocabulary(xquad: Path, size: int, seed: int) -> list[str]:
    """``size`` word types in Zipf-rank order: real words first, then pseudo-words."""
    real = real_words(xquad)[:size]
    return real + pseudo_words(real, size - len(real), np.random.default_rng([seed, 0]))


def _zipf_cdf(size: int, exponent: float, skip: int = 0) -> np.ndarray:
    p = 1.0 / np.arange(1, size + 1, dtype=np.float64) ** exponent
    p[:skip] = 0.0  # conditioning on rank > skip is rejection sampling done exactly
    cdf = np.cumsum(p)
    return cdf / cdf[-1]


def _draw(cdf: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(cdf) - 1)


def documents(vocab: list[str], n: int, exponent: float, seed: int) -> list[str]:
    """``n`` texts of 40-120 Zipf-distributed words."""
    rng = np.random.default_rng([seed, 1])
    lengths = rng.integers(40, 121, size=n)
    ids = _draw(_zipf_cdf(len(vocab), exponent), rng, int(lengths.sum()))
    ends = np.cumsum(lengths).tolist()
    get = vocab.__getitem__
    ids = ids.tolist()
    return [" ".join(map(get, ids[e - m : e])) for e, m in zip(ends, lengths.tolist())]


def queries(vocab: list[str], n: int, exponent: float, seed: int) -> list[str]:
    """``n`` texts of 3-6 distinct words, Zipf-distributed with the top ranks rejected."""
    rng = np.random.default_rng([seed, 2])
    cdf = _zipf_cdf(len(vocab), exponent, skip=SKIP_TOP_RANKS)
    lengths = rng.integers(3, 7, size=n).tolist()
    pool = iter(_draw(cdf, rng, 4 * sum(lengths)).tolist())
    out = []
    for m in lengths:
        words: dict[str, None] = {}
        while len(words) < m:
            words[vocab[next(pool)]] = None
        out.append(" ".join(words))
    return out


def corpus_stats(vocab: list[str], texts: list[str]) -> dict:
    tokens = Counter(w for t in texts for w in t.split())
    total = sum(tokens.values())
    return {
        "vocabulary_types": len(vocab),
        "types_used": len(tokens),
        "hapax_types": sum(1 for c in tokens.values() if c == 1),
        "tokens": total,
        "mean_doc_words": round(total / len(texts), 1),
        "top10": tokens.most_common(10),
    }


# ---------------------------------------------------------------------------------------
# one system, one phase (runs in a child process)


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> str:
    """Reset the peak-RSS mark so that what came before (input generation) is not counted."""
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux >= 4.0: resets VmHWM
        return "VmHWM (reset after input generation)"
    except OSError:
        return "ru_maxrss (includes input generation)"


def _peak_mb(method: str) -> float:
    if method.startswith("VmHWM"):
        return _rss_mb("VmHWM")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dir_mb(path: Path, exclude: tuple[str, ...] = ()) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and f.name not in exclude) / 2**20


def _doc_ids(n: int) -> list[str]:
    return [f"d{i:07d}" for i in range(n)]


def _bm25s_tokenize(texts: list[str], **kw):
    import bm25s
    import Stemmer

    return bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False, **kw)


def _import(system: str) -> None:
    """Import the system's libraries before the inputs exist, so that "Δ" counts data, not code."""
    import scipy.sparse  # noqa: F401  (xlir imports it lazily on first use)

    try:  # bm25s imports numba whenever it is installed; xlir may import it lazily
        import numba  # noqa: F401
    except ImportError:
        pass
    if system == "xlir":
        import xlir.retrievers.bm25  # noqa: F401
    else:
        import bm25s  # noqa: F401  (imports numba too when it is installed)
        import Stemmer  # noqa: F401


def index_phase(system: str, texts: list[str], folder: Path) -> dict:
    if system == "xlir":
        from xlir.types import Doc

        inputs = [Doc(id=i, text=t) for i, t in zip(_doc_ids(len(texts)), texts)]
    else:
        inputs = texts
    method = _reset_peak()
    out: dict = {"rss_input_mb": _rss_mb("VmRSS")}
    if system == "xlir":
        from xlir.retrievers.bm25 import BM25Retriever

        start = time.perf_counter()
        retriever = BM25Retriever(lang="en")
        retriever.index(inputs)
        out["index_s"] = time.perf_counter() - start
        start = time.perf_counter()
        retriever.save(folder, overwrite=True)
        out["save_s"] = time.perf_counter() - start
        out["index_mb_no_text"] = _dir_mb(folder, exclude=("docs.bin", "docs_offsets.npy"))
    else:
        import bm25s

        backend = system.split("-")[1]
        model = bm25s.BM25(method="lucene", k1=0.9, b=0.4, backend=backend)
        if backend == "numba":
            start = time.perf_counter()
            model.warmup_numba_csc()  # compile the numba index builder outside the clock
            out["jit_compile_s"] = time.perf_counter() - start
        start = time.perf_counter()
        model.index(_bm25s_tokenize(inputs), show_progress=False)
        out["index_s"] = time.perf_counter() - start
        start = time.perf_counter()
        model.save(folder)  # no corpus: bm25s stores only the index unless given one
        out["save_s"] = time.perf_counter() - start
        out["index_mb_no_text"] = _dir_mb(folder)
    out["index_mb"] = _dir_mb(folder)
    out["peak_rss_mb"] = _peak_mb(method)
    out["peak_rss_method"] = method
    return out


def search_phase(system: str, texts: list[str], n_docs: int, folder: Path, top_path: Path) -> dict:
    """Load, cold search of the warm-up queries, timed warm search; writes top-10 rows to ``top_path``."""
    qids = [f"q{i:06d}" for i in range(len(texts))]
    if system == "xlir":
        from xlir.types import Query

        inputs = [Query(id=q, text=t) for q, t in zip(qids, texts)]
    else:
        inputs = texts
    warm_inputs, inputs = inputs[:WARMUP_QUERIES], inputs[WARMUP_QUERIES:]
    warm_ids, qids = qids[:WARMUP_QUERIES], qids[WARMUP_QUERIES:]
    method = _reset_peak()
    out: dict = {"rss_input_mb": _rss_mb("VmRSS")}
    if system == "xlir":
        from xlir.retrievers.bm25 import BM25Retriever

        start = time.perf_counter()
        retriever = BM25Retriever.load(folder)
        out["load_s"] = time.perf_counter() - start

        def search(ids, batch):
            return retriever.search(batch, k=K)
    else:
        import bm25s

        backend = system.split("-")[1]
        kw = {"backend_selection": "numba", "n_threads": 1} if backend == "numba" else {"backend_selection": "numpy"}
        start = time.perf_counter()
        model = bm25s.BM25.load(folder, mmap=True, backend=backend)
        doc_ids = _doc_ids(n_docs)  # bm25s keeps no ids; xlir's load reads them from docids.txt
        out["load_s"] = time.perf_counter() - start

        def search(ids, batch):
            rows, scores = model.retrieve(_bm25s_tokenize(batch, return_ids=False), k=K, show_progress=False, **kw)
            return {
                q: {doc_ids[r]: s for r, s in zip(rr, ss) if s > 0}
                for q, rr, ss in zip(ids, rows.tolist(), scores.tolist())
            }

    start = time.perf_counter()
    search(warm_ids, warm_inputs)
    out["cold_s"] = time.perf_counter() - start
    start = time.perf_counter()
    run = search(qids, inputs)
    out["search_s"] = time.perf_counter() - start
    out["queries"] = len(inputs)
    out["peak_rss_mb"] = _peak_mb(method)
    out["peak_rss_method"] = method
    top = np.full((len(qids), K), -1, dtype=np.int32)
    for i, q in enumerate(qids):
        rows = sorted(int(d[1:]) for d in run.get(q, {}))
        top[i, : len(rows)] = rows
    np.save(top_path, top)
    return out


def child(args: argparse.Namespace) -> None:
    _import(args.system)
    vocab = vocabulary(xquad_dir(args.data), args.vocab, args.seed)
    if args.phase == "index":
        texts = documents(vocab, args.docs, args.zipf, args.seed)
        del vocab
        out = index_phase(args.system, texts, args.workdir / args.system)
    else:
        n = args.numpy_queries if args.system == "bm25s-numpy" else args.queries
        texts = queries(vocab, WARMUP_QUERIES + args.queries, args.zipf, args.seed)[: WARMUP_QUERIES + n]
        del vocab
        out = search_phase(args.system, texts, args.docs, args.workdir / args.system, args.workdir / f"{args.system}.top.npy")
    args.child_output.write_text(json.dumps(out))


# ---------------------------------------------------------------------------------------
# parent: run every system in its own processes, compare, report


def _run_child(args: argparse.Namespace, system: str, phase: str, workdir: Path) -> dict:
    out_path = workdir / f"{system}.{phase}.json"
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--system", system, "--phase", phase,
        "--data", str(args.data), "--docs", str(args.docs), "--queries", str(args.queries),
        "--numpy-queries", str(args.numpy_queries), "--vocab", str(args.vocab), "--zipf", str(args.zipf),
        "--seed", str(args.seed), "--workdir", str(workdir), "--child-output", str(out_path),
    ]
    print(f"[{system}] {phase}...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    if subprocess.run(cmd).returncode != 0:
        sys.exit(f"error: {system} {phase} failed; its traceback is above")
    result = json.loads(out_path.read_text())
    print(f"[{system}] {phase} done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return result


def agreement(a: np.ndarray, b: np.ndarray) -> dict:
    """Share of queries whose top-k sets are equal, and the mean overlap |A∩B| / max(|A|, |B|)."""
    n = min(len(a), len(b))
    equal, overlap = 0, 0.0
    for x, y in zip(a[:n].tolist(), b[:n].tolist()):
        sx, sy = {d for d in x if d >= 0}, {d for d in y if d >= 0}
        equal += sx == sy
        overlap += len(sx & sy) / max(len(sx), len(sy), 1)
    return {"queries": n, "top10_set_equal": equal / n, "mean_overlap@10": overlap / n}


def parent(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="xlir-bm25-speed-"))
    started = time.perf_counter()
    try:
        results = {}
        for system in args.systems:
            results[system] = {
                "index": _run_child(args, system, "index", workdir),
                "search": _run_child(args, system, "search", workdir),
            }
        tops = {s: np.load(workdir / f"{s}.top.npy") for s in args.systems}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    vocab = vocabulary(xquad_dir(args.data), args.vocab, args.seed)
    stats = corpus_stats(vocab, documents(vocab, args.docs, args.zipf, args.seed))
    stats["sample_queries"] = queries(vocab, WARMUP_QUERIES + 5, args.zipf, args.seed)[WARMUP_QUERIES:]

    for system, r in results.items():
        r["index_docs_per_s"] = args.docs / r["index"]["index_s"]
        r["queries_per_s"] = r["search"]["queries"] / r["search"]["search_s"]
    agree = {}
    if "xlir" in tops and "bm25s-numba" in tops:
        agree["xlir vs bm25s-numba"] = agreement(tops["xlir"], tops["bm25s-numba"])
    if "bm25s-numpy" in tops and "bm25s-numba" in tops:
        agree["bm25s-numpy vs bm25s-numba"] = agreement(tops["bm25s-numpy"], tops["bm25s-numba"])
    ratios = {}
    if "xlir" in results and "bm25s-numba" in results:
        x, b = results["xlir"], results["bm25s-numba"]
        ratios = {"indexing": x["index_docs_per_s"] / b["index_docs_per_s"], "querying": x["queries_per_s"] / b["queries_per_s"]}

    headers = ["system", "index docs/s", "save s", "index MB (no text)", "peak RSS index MB (Δ)",
               "load s", "cold 100 q s", "queries/s (warm)", "queries", "peak RSS search MB (Δ)"]
    rows = []
    for system, r in results.items():
        i, s = r["index"], r["search"]
        rows.append([
            system, f"{r['index_docs_per_s']:,.0f}", fmt(i["save_s"], ".2f"),
            f"{i['index_mb']:,.0f} ({i['index_mb_no_text']:,.0f})",
            f"{i['peak_rss_mb']:,.0f} (+{i['peak_rss_mb'] - i['rss_input_mb']:,.0f})",
            fmt(s["load_s"], ".2f"), fmt(s["cold_s"], ".2f"), f"{r['queries_per_s']:,.0f}", f"{s['queries']:,}",
            f"{s['peak_rss_mb']:,.0f} (+{s['peak_rss_mb'] - s['rss_input_mb']:,.0f})",
        ])
    elapsed = time.perf_counter() - started
    print(f"BM25 speed, {args.docs:,} docs ({stats['mean_doc_words']:.0f} words/doc avg, {stats['types_used']:,} word types), "
          f"k={K}, one thread; {elapsed:.0f} s\n")
    print(markdown_table(headers, rows))
    if ratios:
        print(f"\nxlir / bm25s-numba: indexing ×{ratios['indexing']:.2f}, querying ×{ratios['querying']:.2f} (throughput; >1: xlir faster)")
    for name, a in agree.items():
        print(f"agreement {name}: top-10 set equal for {a['top10_set_equal']:.1%} of {a['queries']:,} queries, "
              f"mean overlap {a['mean_overlap@10']:.3f}")

    write_json(args.output, {
        "benchmark": "bm25_speed",
        "environment": environment(),
        "params": {
            "docs": args.docs, "queries": args.queries, "numpy_queries": args.numpy_queries,
            "warmup_queries": WARMUP_QUERIES, "k": K, "vocab": args.vocab, "zipf": args.zipf,
            "seed": args.seed, "query_skip_top_ranks": SKIP_TOP_RANKS, "threads": 1, "k1": 0.9, "b": 0.4,
        },
        "corpus": stats,
        "results": results,
        "ratios_xlir_over_bm25s_numba": ratios,
        "agreement": agree,
        "elapsed_s": round(elapsed, 1),
    })
    print(f"wrote {args.output}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data root holding xquad-r/ (default: %(default)s)")
    parser.add_argument("--docs", type=int, default=200_000, help="corpus size (default: %(default)s)")
    parser.add_argument("--queries", type=int, default=10_000, help="timed queries (default: %(default)s)")
    parser.add_argument("--numpy-queries", type=int, default=1_000, help="timed queries for bm25s-numpy (default: %(default)s)")
    parser.add_argument("--vocab", type=int, default=150_000, help="vocabulary types (default: %(default)s)")
    parser.add_argument("--zipf", type=float, default=1.05, help="Zipf exponent (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=RESULTS / "bm25_speed.json", help="JSON output (default: %(default)s)")
    # internal: one system, one phase, in a child process
    parser.add_argument("--system", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--phase", choices=("index", "search"), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.numpy_queries = min(args.numpy_queries, args.queries)
    if args.system:
        child(args)
        return 0
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(args.systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown system(s) {', '.join(sorted(unknown))}; choose from {', '.join(SYSTEMS)}")
    if args.docs < K:
        parser.error(f"--docs must be at least {K}")
    xquad_dir(args.data)
    parent(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
