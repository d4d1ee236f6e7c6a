"""BM25 index build on Ray: in-process against 1, 2 and 4 Ray workers, and the per-document
costs the README's scaling plan is computed from.

Corpus: the synthetic English-like corpus of ``benchmarks/bm25_speed.py`` (its generator,
same ``--seed``; 50k documents of 40-120 Zipf words by default), written as JSONL.

Systems, each from the JSONL file to a saved index, so that reading and parsing count:

* ``in-process``: what ``xlir index`` does without ``--engine``: ``read_corpus``,
  ``BM25Retriever.index``, ``save``, in a fresh Python process (imports included, as a
  command pays them and as each Ray actor pays them in its own new process).
* ``ray-W``: :func:`xlir.distributed.index.build_index` with ``W`` shards on ``W`` actors
  (one CPU each) of a real Ray cluster: a head that only schedules and 4 one-CPU worker
  nodes, all started with ``ray start`` on this machine, on 127.0.0.1. The time covers
  planning the shards (one pass over the file), starting the actors, indexing and saving
  the segments, and committing the manifest. The cluster start and the driver's
  connection to it (once per command, ``driver_connect_s``) are not counted; the driver
  is this (warm) process.

Ray uses only loopback inside a network namespace of its own, so the script re-runs
itself under ``unshare --net --pid`` (root needed; the PID namespace keeps its
``ray stop`` from stopping anyone else's Ray). Numeric libraries are pinned to one thread, so
each worker is one core's work; this machine's core count (recorded) bounds the speed-up.

Per-document costs for the plan: BM25 indexing from this run; dense encoding and
translation are read from ``benchmarks/results/gpu_check.json``, ``dense_speed.json`` and
``translation.json`` and cited there.

Usage: ``.venv/bin/python benchmarks/ray_scaling.py [--docs 50000] [--workers 1,2,4] [--repeats 3]``
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA, REPO, RESULTS, environment, markdown_table, write_json, xquad_dir  # noqa: E402

PORT = 6392
ADDRESS = f"127.0.0.1:{PORT}"
RAY = str(Path(sys.executable).with_name("ray"))


def _in_namespace() -> bool:
    import socket

    return os.environ.get("XLIR_RAY_NAMESPACE") == "1" and [n for _, n in socket.if_nameindex()] == ["lo"]


def _reexec(argv: list[str]) -> int:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        sys.exit("error: this benchmark runs Ray in a loopback-only network namespace "
                 "(unshare --net --pid), which needs root")
    inner = " ".join([sys.executable, str(Path(__file__).resolve()), *map(_quote, argv)])
    script = f"ip link set lo up || exit 1; {inner}; rc=$?; {RAY} stop --force >/dev/null 2>&1; exit $rc"
    env = dict(os.environ, XLIR_RAY_NAMESPACE="1")
    # a PID namespace too: `ray stop` there cannot stop anyone else's Ray on this machine
    return subprocess.run(["unshare", "--net", "--pid", "--fork", "--mount-proc", "sh", "-c", script], env=env).returncode


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


def write_corpus_file(args, folder: Path) -> Path:
    import bm25_speed

    vocab = bm25_speed.vocabulary(xquad_dir(args.data), args.vocab, args.seed)
    texts = bm25_speed.documents(vocab, args.docs, args.zipf, args.seed)
    path = folder / "corpus.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            f.write(json.dumps({"id": f"doc{i}", "text": text}) + "\n")
    return path


def in_process(corpus: Path, out: Path) -> dict:
    """``xlir index``'s in-process path in a fresh Python process (as the CLI runs it, and as
    a Ray actor starts cold): wall time of the whole process, CPU time of the child."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-in-process", str(corpus), str(out)],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"in-process child failed:\n{proc.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    inner = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"seconds": seconds, "cpu_seconds": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            **{f"child_{k}": v for k, v in inner.items()}}


def _in_process_child(corpus: Path, out: Path) -> dict:
    from xlir.io import read_corpus
    from xlir.registry import RETRIEVERS

    start, cpu = time.perf_counter(), time.process_time()
    model = RETRIEVERS.create("bm25", lang="en")
    model.index(read_corpus(corpus, lang="en"))
    indexed = time.perf_counter()
    model.save(out)
    end = time.perf_counter()
    return {"seconds": end - start, "cpu_seconds": time.process_time() - cpu, "index_s": indexed - start,
            "save_s": end - indexed, "docs": model.doc_count}


def start_cluster(nodes: int, temp: Path) -> None:
    import secrets

    # an explicit token: Ray 2.60 otherwise turns token auth on or off depending on ~/.ray/auth_token
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    common = ["--node-ip-address=127.0.0.1", "--object-store-memory=100000000", "--disable-usage-stats"]
    subprocess.run([RAY, "start", "--head", f"--port={PORT}", "--num-cpus=0", "--include-dashboard=false",
                    f"--temp-dir={temp}", *common], env=env, check=True, capture_output=True)
    for _ in range(nodes):
        subprocess.run([RAY, "start", f"--address={ADDRESS}", "--num-cpus=1", f"--temp-dir={temp}", *common], env=env,
                       check=True, capture_output=True)


def ray_build(corpus: Path, out: Path, workers: int) -> dict:
    from xlir.distributed.index import RetrieverSpec, build_index

    start, cpu = time.perf_counter(), time.process_time()
    summary = build_index(corpus, out, RetrieverSpec("bm25", {"lang": "en"}), lang="en", shards=workers,
                          workers=workers, address=ADDRESS)
    seconds = time.perf_counter() - start
    driver_cpu = time.process_time() - cpu
    return {"seconds": seconds, "docs": summary["docs"], "shards": summary["shards"], "workers": summary["workers"],
            "driver_cpu_seconds": driver_cpu,
            "cpu_seconds": driver_cpu + sum(r["cpu_seconds"] for r in summary["results"]),
            "shard_seconds": [round(r["seconds"], 2) for r in summary["results"]],
            "actor_load_seconds": [round(r.get("load_seconds", 0.0), 3) for r in summary["results"]],
            "commit_s": seconds - summary["shard_seconds"]}


def cited_costs() -> dict:
    """Per-document costs measured by other benchmarks, with where they come from."""
    out = {}
    gpu = json.loads((RESULTS / "gpu_check.json").read_text())
    out["e5_small_encode_gpu"] = {"docs_per_s": gpu["auto_docs_per_s"], "device": gpu.get("gpu"),
                                  "dtype": gpu.get("auto_dtype"), "source": "benchmarks/results/gpu_check.json"}
    out["e5_small_encode_cpu_same_run"] = {"docs_per_s": gpu["cpu_docs_per_s"], "source": "benchmarks/results/gpu_check.json"}
    dense = json.loads((RESULTS / "dense_speed.json").read_text())["encoding"]
    out["e5_small_encode_cpu_2_threads"] = {name: round(v, 1) for name, v in dense["passages_per_s"].items()}
    out["e5_small_encode_cpu_2_threads"]["source"] = ("benchmarks/results/dense_speed.json (encoding.passages_per_s: "
                                                      "XQuAD-R paragraphs, this shared 2-core machine)")
    tr = json.loads((RESULTS / "translation.json").read_text())["speed"]
    best = tr["seconds_best"]
    out["translation_tiny_marian_cpu"] = {
        "sentences_per_s": round(tr["sentences"] / best["xlir, no cache"], 1),
        "cached_sentences_per_s": round(tr["sentences"] / best["xlir, full cache (all hits)"], 1),
        "model": tr["model"]["flavour"], "source": "benchmarks/results/translation.json (speed.seconds_best)",
    }
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data root holding xquad-r/ (default: %(default)s)")
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--vocab", type=int, default=150_000)
    parser.add_argument("--zipf", type=float, default=1.05)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--workers", default="1,2,4", help="Ray worker counts (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats of every system (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=RESULTS / "ray_scaling.json")
    parser.add_argument("--child-in-process", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_in_process:
        print(json.dumps(_in_process_child(*args.child_in_process)))
        return 0
    workers = [int(w) for w in args.workers.split(",")]
    if not _in_namespace():
        return _reexec(argv)
    sys.path.insert(0, str(REPO))
    started = time.perf_counter()
    env_start = environment()
    temp = Path(tempfile.mkdtemp(prefix="xlir-ray-bench-", dir="/tmp"))
    try:
        corpus = write_corpus_file(args, temp)
        print(f"corpus: {args.docs} docs, {corpus.stat().st_size / 1e6:.0f} MB", file=sys.stderr)
        t = time.perf_counter()
        start_cluster(max(workers), temp / "ray")
        cluster_start_s = time.perf_counter() - t
        from xlir.distributed.engine import connect

        t = time.perf_counter()
        connect(ADDRESS)  # once per command; not counted in the builds below
        connect_s = time.perf_counter() - t
        systems = ["in-process", *(f"ray-{w}" for w in workers)]
        runs: dict[str, list[dict]] = {name: [] for name in systems}
        # interleaved repeats: this machine is shared and its load drifts; every system sees the drift
        for rep in range(args.repeats):
            for name in systems:
                out = temp / f"{name}.idx"
                shutil.rmtree(out, ignore_errors=True)
                r = in_process(corpus, out) if name == "in-process" else ray_build(corpus, out, int(name[4:]))
                runs[name].append(r)
                print(f"{rep} {name} {r['seconds']:.1f}s cpu {r['cpu_seconds']:.1f}s", file=sys.stderr)
        # the segmented and the single index answer alike (checked on a sample of queries)
        import bm25_speed

        import xlir
        from xlir.types import Query

        vocab = bm25_speed.vocabulary(xquad_dir(args.data), args.vocab, args.seed)
        texts = bm25_speed.queries(vocab, 200, args.zipf, args.seed)
        qs = [Query(id=str(i), text=t, lang="en") for i, t in enumerate(texts)]
        local = xlir.load_index(temp / "in-process.idx").search(qs, k=10)
        identical = {f"ray-{w}": xlir.load_index(temp / f"ray-{w}.idx").search(qs, k=10) == local for w in workers}
        manifest = json.loads((temp / "in-process.idx" / "manifest.json").read_text())
        index_stats = {"postings": manifest["stats"]["postings"], "terms": manifest["stats"]["terms"],
                       "bytes_by_file": {k: v.get("bytes") for k, v in manifest["files"].items()}}
    finally:
        if "ray" in sys.modules:
            sys.modules["ray"].shutdown()
        subprocess.run([RAY, "stop", "--force"], capture_output=True)
        shutil.rmtree(temp, ignore_errors=True)
    import statistics

    results = {}
    for name, rs in runs.items():
        best = min(rs, key=lambda r: r["seconds"])
        results[name] = {"best": best, "seconds_all": [round(r["seconds"], 2) for r in rs],
                         "cpu_seconds_all": [round(r["cpu_seconds"], 2) for r in rs],
                         "median_s": statistics.median(r["seconds"] for r in rs),
                         "min_cpu_s": min(r["cpu_seconds"] for r in rs)}
    base = results["in-process"]["best"]["seconds"]
    base_cpu = results["in-process"]["min_cpu_s"]
    rows = []
    for name, r in results.items():
        secs = r["best"]["seconds"]
        rows.append([name, f"{secs:.1f}", f"{r['median_s']:.1f}", f"{args.docs / secs:,.0f}", f"{secs / base:.2f}",
                     f"{r['min_cpu_s']:.1f}", f"{r['min_cpu_s'] / base_cpu:.2f}"])
    table = markdown_table(["system", "best s", "median s", "docs/s (best)", "time vs in-process", "CPU s (min)",
                            "CPU vs in-process"], rows)
    print(table)
    per_doc_us = 1e6 * base_cpu / args.docs
    out = {
        "benchmark": "ray_scaling",
        "environment": env_start,
        "params": vars(args) | {"data": str(args.data), "output": str(args.output), "workers": workers},
        "cluster": {"head": "ray start --head --num-cpus=0", "worker_nodes": max(workers), "cpus_per_node": 1,
                    "address": ADDRESS, "network": "loopback-only network + PID namespace (unshare --net --pid)",
                    "start_s": round(cluster_start_s, 1), "driver_connect_s": round(connect_s, 2)},
        "results": results,
        "overhead_ray1_over_in_process": {
            "wall_best": results["ray-1"]["best"]["seconds"] / base,
            "wall_median": results["ray-1"]["median_s"] / results["in-process"]["median_s"],
            "cpu": results["ray-1"]["min_cpu_s"] / base_cpu,
        } if 1 in workers else None,
        "index_stats_in_process": index_stats,
        "load_average_at_end": os.getloadavg(),
        "same_top10_as_in_process": identical,
        "per_doc_costs": {"bm25_index_cpu_us_per_doc": round(per_doc_us, 1), **cited_costs()},
        "table": table,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    write_json(args.output, out)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
