"""Run a grid end to end: export the collections, build or reuse every index, compute or reuse
every run, evaluate from the TREC run files.

Everything is cached under the cache folder by a hash of what determines it:

* an **index** by the documents' content, their language, the retriever and its full
  parameters (defaults included), the document translation (translator, its table or
  model digest, target language) and the xlir version;
* a **run** by its index, the queries' content and language, the query translation, k,
  the run tag (the system name), the reranker, the latency settings and the xlir version;
* an **evaluation** by its run, the qrels' content and the measures.

A second run with nothing changed computes nothing; changing one retriever's parameter
recomputes only the indexes and runs of that retriever. Each run is written as a TREC
file and evaluated from that file, the way ``xlir eval`` evaluates it, and each system
records the ``xlir index/search/eval`` commands that reproduce it by hand.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import inspect
import itertools
import json
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xlir.bench.config import BenchConfig, RerankerSpec, RetrieverSpec
from xlir.bench.measure import Clock, MemoEncoder, PeakMemory, dir_bytes
from xlir.bench.tasks import PreparedTask, iter_tasks, prepare_task
from xlir.errors import ParamError, UnknownComponentError

__all__ = ["System", "build_systems", "Runner", "cli_commands", "run_grid"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class System:
    """One row of the grid: a retriever, a translation mode and optionally a reranker."""

    retriever: RetrieverSpec
    mode: str
    reranker: RerankerSpec | None = None

    @property
    def name(self) -> str:
        base = f"{self.retriever.label}/{self.mode}"
        return f"{base}>{self.reranker.label}" if self.reranker else base

    @property
    def slug(self) -> str:
        return self.name.replace("/", ".").replace(">", ".")


def build_systems(config: BenchConfig) -> tuple[list[System], list[dict]]:
    """The grid's systems (retrievers × modes, then each reranked) and the skipped ones with why.

    A reranker that is not registered, or whose dependencies are missing, is skipped
    with a warning rather than failing the grid.
    """
    from xlir.registry import RERANKERS

    base = [System(r, m) for r in config.retrievers for m in config.modes]
    systems = list(base)
    skipped = []
    for rr in config.rerankers:
        reason = None
        try:
            RERANKERS.entry(rr.name)
            if not RERANKERS.is_available(rr.name):
                entry = RERANKERS.entry(rr.name)
                reason = "its dependencies are not installed" + (f'; pip install "xlir[{entry.extra}]"' if entry.extra else "")
        except UnknownComponentError as e:
            reason = f"not registered in this xlir ({e})"
        if reason:
            logger.warning("reranker %r skipped: %s", rr.name, reason)
            skipped.extend({"system": dataclasses.replace(s, reranker=rr).name, "reason": f"reranker {rr.name!r} {reason}"}
                           for s in base)
            continue
        systems.extend(dataclasses.replace(s, reranker=rr) for s in base)
    return systems, skipped


def _h(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _write_json(path: Path, obj: Any) -> None:
    from xlir.io import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(obj, indent=1, ensure_ascii=False))


def _read_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _file_digest(path: Path) -> str:
    if path.is_dir():
        from xlir.encoders.base import folder_fingerprint

        return folder_fingerprint(path)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def _quiet(*names: str):
    """Silence INFO logs of chatty loggers (translation statistics) during warm-ups and latency samples."""
    loggers = [logging.getLogger(n) for n in (names or ("xlir.translate", "xlir.retrievers", "xlir.encoders"))]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _param_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def cli_commands(system: System, prepared: PreparedTask, index_lang: str, translators: dict[str, str], k: int,
                 measures: tuple[str, ...], index_dir: str = "INDEX", run_file: str = "RUN") -> list[list[str]]:
    """The ``xlir index``, ``xlir search`` and ``xlir eval`` argument lists that reproduce a system."""
    task = prepared.task
    index = ["index", str(prepared.docs), "--retriever", system.retriever.name, "--lang", task.docs_lang or "multi"]
    for key, value in system.retriever.params.items():
        index += ["-p", f"{key}={_param_value(value)}"]
    if system.mode == "document":
        index += ["--translate-docs", "--translate-to", index_lang, "--translator", translators["document"]]
    index += ["--output", index_dir]
    search = ["search", index_dir, "--queries", str(prepared.queries)]
    if task.queries_lang:
        search += ["--query-lang", task.queries_lang]
    search += ["-k", str(k), "--run-name", system.name]
    if system.mode == "query":
        search += ["--translate-query", "--translator", translators["query"]]
    if system.reranker is not None:
        search += ["--rerank", system.reranker.spec, "--rerank-depth", str(system.reranker.depth)]
        for key, value in system.reranker.params.items():
            search += ["--rerank-param", f"{key}={_param_value(value)}"]
    search += ["--output", run_file]
    evaluate = ["eval", str(prepared.qrels), run_file, *(x for m in measures for x in ("--measure", m)), "--format", "json"]
    return [index, search, evaluate]


@dataclass
class _Translation:
    spec: str  # NAME:ARG with ARG resolved
    key: dict  # what goes into cache keys
    src: str | None
    tgt: str


class Runner:
    """Runs one grid; :meth:`run` returns the per-system rows (quality per query, cost, cache status)."""

    def __init__(self, config: BenchConfig, *, force: bool = False):
        self.config = config
        self.force = force
        self.cache = Path(config.cache)
        self._encoders: dict[tuple, MemoEncoder] = {}
        self._translators: dict[str, Any] = {}
        self._rerankers: dict[str, Any] = {}
        self._tcache = None
        self._index_done: dict[str, dict] = {}
        self.counts = {"indexes_built": 0, "indexes_reused": 0, "runs_computed": 0, "runs_reused": 0,
                       "evals_computed": 0, "evals_reused": 0}

    # -- set-up ------------------------------------------------------------------------------
    def _apply_threads(self) -> None:
        n = self.config.threads
        if not n:
            return
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(n)  # read by libraries imported after this point
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(n)
        if "faiss" in sys.modules:
            sys.modules["faiss"].omp_set_num_threads(n)
        if "numba" in sys.modules:
            numba = sys.modules["numba"]
            numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))

    def _translator_info(self, mode: str, prepared: PreparedTask, *, src: str | None, tgt: str) -> _Translation:
        from xlir.translate import parse_translator_spec

        raw = self.config.translators.get(mode)
        if raw == "table:auto":
            if mode not in prepared.tables:
                raise ParamError(
                    f"translator table:auto is defined for XQuAD-R only (its human translations); collection "
                    f"{prepared.task.collection!r} needs an explicit translator (table:FILE or ctranslate2:DIR)")
            spec = f"table:{prepared.tables[mode]}"
        else:
            name, arg = parse_translator_spec(raw)
            if arg is not None and name in ("table", "ctranslate2"):
                path = Path(os.path.expanduser(arg))
                arg = str(path if path.is_absolute() else self.config.base_dir / path)
            spec = f"{name}:{arg}" if arg is not None else name
        name, arg = parse_translator_spec(spec)
        digest = _file_digest(Path(arg)) if arg is not None and Path(arg).exists() else None
        key = {"translator": name, "arg_digest": digest, "arg": None if digest else arg,
               "params": self.config.translator_params, "src": src, "tgt": tgt}
        return _Translation(spec, key, src, tgt)

    def _translator(self, spec: str):
        if spec not in self._translators:
            from xlir.translate import get_translator

            self._translators[spec] = get_translator(spec, **self.config.translator_params)
        return self._translators[spec]

    def _translation_cache(self, translator):
        if not getattr(translator, "cacheable", True):
            return None
        if self._tcache is None:
            from xlir.translate import TranslationCache

            self.cache.mkdir(parents=True, exist_ok=True)
            self._tcache = TranslationCache(self.cache / "translations.sqlite")
        return self._tcache

    def _encoder(self, cls, params) -> MemoEncoder | None:
        """A shared, memoizing encoder for dense retrievers (one model load per encoder setting)."""
        if getattr(cls, "name", None) != "dense":
            return None
        key = (params.encoder, params.model, params.device, params.batch_size, params.max_length)
        if key not in self._encoders:
            inner = cls(params).encoder
            memo = MemoEncoder(inner, self.cache / "encodings", salt=json.dumps(key))
            start = time.perf_counter()
            memo.identity()  # loads the model, outside every clock
            self._apply_threads()
            logger.info("loaded encoder %s in %.1fs", params.model, time.perf_counter() - start)
            self._encoders[key] = memo
        return self._encoders[key]

    def close(self) -> None:
        if self._tcache is not None:
            self._tcache.close()
            self._tcache = None

    # -- the grid ------------------------------------------------------------------------------
    def run(self) -> tuple[list[dict], list[dict], list[System]]:
        """Returns (rows, skipped, systems); a row is one system on one task."""
        config = self.config
        self._apply_threads()
        from xlir.registry import RETRIEVERS

        for spec in config.retrievers:
            RETRIEVERS.entry(spec.name)  # an unknown name fails now, with a suggestion, not after an hour
        systems, skipped = build_systems(config)
        names = [s.name for s in systems]
        if config.baseline is not None and config.baseline not in names:
            raise ParamError(f"baseline {config.baseline!r} is not a system of this grid; systems: {', '.join(names)}")
        want_tables = any(config.translators.get(m) == "table:auto" for m in config.modes if m != "none")
        tasks = list(iter_tasks(config))
        rows: list[dict] = []
        total = len(tasks) * len(systems)
        done = 0
        try:
            for task in tasks:
                prepared = prepare_task(task, self.cache / "data" / task.slug, auto_tables=want_tables,
                                        force=self.force)
                from xlir.io import read_qrels

                qrels = read_qrels(prepared.qrels)
                queries = None
                for system in systems:
                    done += 1
                    reason = self._skip_reason(system, prepared)
                    if reason:
                        skipped.append({"task": task.slug, "system": system.name, "reason": reason})
                        logger.info("[%d/%d] %s %s: skipped (%s)", done, total, task.slug, system.name, reason)
                        continue
                    started = time.perf_counter()
                    index_rec, index_lang, translators = self._index(prepared, system)
                    if queries is None:
                        from xlir.io import read_queries

                        queries = read_queries(prepared.queries, lang=task.queries_lang)
                    run_rec = self._run(prepared, system, index_rec, queries, translators)
                    per_query, eval_status, eval_path = self._eval(run_rec, prepared, qrels)
                    commands = cli_commands(system, prepared, index_lang, {m: t.spec for m, t in translators.items()},
                                            config.k, config.measures)
                    rows.append({
                        "collection": task.collection, "task": task.slug, "label": task.label,
                        "queries_lang": task.queries_lang, "docs_lang": task.docs_lang, "collection_name": prepared.name,
                        "system": system.name, "retriever": system.retriever.name, "retriever_label": system.retriever.label,
                        "params": system.retriever.params, "mode": system.mode,
                        "translator": {m: t.spec for m, t in translators.items()} or None,
                        "reranker": dataclasses.asdict(system.reranker) if system.reranker else None,
                        "index": index_rec, "run": run_rec,
                        "eval": {"status": eval_status, "queries": len(per_query), "path": str(eval_path)},
                        "per_query": per_query,
                        "cli": [["xlir", *c] for c in commands],
                    })
                    mean = sum(v[config.measures[0]] for v in per_query.values()) / len(per_query) if per_query else float("nan")
                    logger.info("[%d/%d] %s %s: index %s%s, run %s, %s %.4f (%.1fs)", done, total, task.slug,
                                system.name, index_rec["status"], " (shared)" if index_rec.get("shared") else "",
                                run_rec["status"], config.measures[0], mean,
                                time.perf_counter() - started)
        finally:
            self.close()
        return rows, skipped, systems

    def _skip_reason(self, system: System, prepared: PreparedTask) -> str | None:
        task = prepared.task
        if system.mode == "none":
            return None
        if not task.queries_lang or not task.docs_lang:
            return "translation needs both the queries' and the documents' language"
        if task.queries_lang == task.docs_lang:
            return "queries and documents are in the same language"
        return None

    # -- index -----------------------------------------------------------------------------------
    def _index(self, prepared: PreparedTask, system: System) -> tuple[dict, str, dict[str, _Translation]]:
        from xlir import __version__
        from xlir.params import make_params, params_to_dict
        from xlir.registry import RETRIEVERS

        task = prepared.task
        spec = system.retriever
        cls = RETRIEVERS.get(spec.name)
        doc_mode = system.mode == "document"
        index_lang = (task.queries_lang if doc_mode else task.docs_lang) or "multi"
        params = dict(spec.params)
        params.setdefault("lang", index_lang)
        pobj = make_params(cls.Params, params) if hasattr(cls, "Params") else None
        norm = params_to_dict(pobj) if pobj is not None else params
        translators: dict[str, _Translation] = {}
        if doc_mode:
            translators["document"] = self._translator_info("document", prepared, src=task.docs_lang, tgt=index_lang)
        if system.mode == "query":
            translators["query"] = self._translator_info("query", prepared, src=task.queries_lang, tgt=index_lang)
        identity = {
            "kind": "index", "docs": prepared.digest["docs"], "docs_lang": task.docs_lang, "retriever": spec.name,
            "params": norm, "translation": translators["document"].key if doc_mode else None, "xlir": __version__,
        }
        key = _h(identity)
        name = f"{task.slug}.{spec.name}.{'dt-' + index_lang if doc_mode else 'native'}-{key[:12]}"
        path = self.cache / "indexes" / name
        rec_path = self.cache / "indexes" / f"{name}.json"
        if key in self._index_done:
            return {**self._index_done[key], "shared": True}, index_lang, translators
        rec = None if self.force else _read_json(rec_path)
        if rec is not None and rec.get("key") == key and (path / "manifest.json").is_file():
            self.counts["indexes_reused"] += 1
            rec["status"] = "reused"
            self._index_done[key] = rec
            return rec, index_lang, translators

        self._apply_threads()
        encoder = self._encoder(cls, pobj)

        def make():
            if pobj is None:
                r = cls(**params)
            elif encoder is not None:
                r = cls(pobj, encoder=encoder)
            else:
                r = cls(pobj)
            if doc_mode:
                from xlir.translate import TranslatingRetriever

                translator = self._translator(translators["document"].spec)
                r = TranslatingRetriever(r, translator, translate_docs_to=index_lang,
                                         cache=self._translation_cache(translator))
            return r

        from xlir.io import read_corpus

        docs_path, docs_lang = prepared.docs, task.docs_lang
        total_start = time.perf_counter()
        warmup = self.config.latency.warmup
        if warmup and encoder is None:
            # first-use costs (analyzer tables, JIT compilation, a JVM) stay out of the clock, as for search
            with _quiet():
                warm = make()
                warm.index(itertools.islice(read_corpus(docs_path, lang=docs_lang), warmup), show_progress=False)
                if hasattr(warm, "close"):
                    warm.close()
                del warm
        retriever = make()
        kwargs: dict[str, Any] = {}
        if "work_dir" in inspect.signature(cls.index).parameters:
            kwargs["work_dir"] = path.parent / f".{path.name}.partial"  # as `xlir index` does: resumable
        logger.info("%s %s: building index %s", task.slug, system.name, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        rec_path.unlink(missing_ok=True)
        with PeakMemory() as memory:
            with Clock(encoder) as index_clock:
                retriever.index(read_corpus(docs_path, lang=docs_lang), show_progress=False, **kwargs)
            with Clock() as save_clock:
                retriever.save(path, overwrite=True)
        if "work_dir" in kwargs:
            shutil.rmtree(kwargs["work_dir"], ignore_errors=True)
        doc_count = retriever.doc_count
        if hasattr(retriever, "close"):
            retriever.close()
        seconds = index_clock.seconds + save_clock.seconds
        rec = {
            "key": key, "identity": identity, "path": str(path), "retriever": spec.name, "params": norm,
            "lang": index_lang, "translation": translators["document"].spec if doc_mode else None,
            "docs": doc_count, "index_s": index_clock.seconds, "index_wall_s": index_clock.wall_s,
            "save_s": save_clock.seconds, "docs_per_s": doc_count / seconds if seconds > 0 else None,
            "encodings_reused": index_clock.reused, "size_bytes": dir_bytes(path), "memory": memory.as_dict(),
            "total_wall_s": time.perf_counter() - total_start, "created_utc": _now(),
        }
        _write_json(rec_path, rec)  # last: the record marks the index complete
        self.counts["indexes_built"] += 1
        rec["status"] = "built"
        self._index_done[key] = rec
        return rec, index_lang, translators

    # -- run ---------------------------------------------------------------------------------------
    def _run(self, prepared: PreparedTask, system: System, index_rec: dict, queries: list,
             translators: dict[str, _Translation]) -> dict:
        from xlir import __version__
        from xlir.registry import RETRIEVERS

        config = self.config
        task = prepared.task
        rr = system.reranker
        identity = {
            "kind": "run", "index": index_rec["key"], "queries": prepared.digest["queries"],
            "queries_lang": task.queries_lang, "translation": translators["query"].key if "query" in translators else None,
            "k": config.k, "tag": system.name, "reranker": dataclasses.asdict(rr) if rr else None,
            "latency": dataclasses.asdict(config.latency), "xlir": __version__,
        }
        if rr is not None and rr.arg is not None and Path(rr.arg).exists():
            identity["reranker_arg_digest"] = _file_digest(Path(rr.arg))  # a changed model folder is a new run
        key = _h(identity)
        name = f"{task.slug}.{system.slug}-{key[:12]}"
        run_path = self.cache / "runs" / f"{name}.trec"
        rec_path = self.cache / "runs" / f"{name}.json"
        rec = None if self.force else _read_json(rec_path)
        if rec is not None and rec.get("key") == key and run_path.is_file():
            self.counts["runs_reused"] += 1
            rec["status"] = "reused"
            return rec

        from xlir.io import write_run
        from xlir.translate import TranslatingRetriever

        self._apply_threads()
        total_start = time.perf_counter()
        cls = RETRIEVERS.get(system.retriever.name)
        encoder = None
        if hasattr(cls, "Params"):
            from xlir.params import make_params

            encoder = self._encoder(cls, make_params(cls.Params, index_rec["params"]))
        if encoder is not None:
            loaded = cls.load(Path(index_rec["path"]), mmap=True, encoder=encoder)
        else:
            loaded = cls.load(Path(index_rec["path"]), mmap=True)  # what xlir.load_index dispatches to
        translator = self._translator(translators["query"].spec) if system.mode == "query" else None
        retriever = TranslatingRetriever(
            loaded, translator, translate_queries=system.mode == "query", query_lang=task.queries_lang,
            cache=self._translation_cache(translator) if translator is not None else None,
        )
        reranker = self._reranker(rr) if rr else None

        def search(batch):
            run = retriever.search(batch, k=max(config.k, rr.depth) if reranker is not None else config.k)
            if reranker is not None:
                from xlir.pipeline import rerank_run

                # as `xlir search --rerank`: queries as searched, documents from the index, the rest below
                run = rerank_run(reranker, retriever.prepare_queries(batch), run, retriever.docs, depth=rr.depth,
                                 k=config.k)
            return run

        logger.info("%s %s: searching %d queries", task.slug, system.name, len(queries))
        warm = queries[: config.latency.warmup]
        with _quiet(), Clock(encoder) as cold:
            if warm:
                search(warm)
        with PeakMemory() as memory:
            with Clock(encoder) as clock:
                run = search(queries)
        sample = self._latency_sample(len(queries))
        latencies = []
        with _quiet():
            for i in sample:
                with Clock(encoder) as one:
                    search([queries[i]])
                latencies.append(one.seconds)
        if hasattr(loaded, "close"):
            loaded.close()
        run_path.parent.mkdir(parents=True, exist_ok=True)
        rec_path.unlink(missing_ok=True)
        write_run(run, run_path, tag=system.name)
        lat = np.asarray(latencies) * 1000.0
        rec = {
            "key": key, "identity": identity, "path": str(run_path), "tag": system.name, "queries": len(queries),
            "k": config.k, "empty_queries": sum(1 for q in queries if not run.get(q.id)),
            "search_s": clock.seconds, "search_wall_s": clock.wall_s,
            "queries_per_s": len(queries) / clock.seconds if clock.seconds > 0 else None,
            "warmup_queries": len(warm), "warmup_s": cold.seconds,
            "encodings_reused": clock.reused,
            "latency": {
                "queries": len(sample), "seed": config.latency.seed,
                "p50_ms": float(np.percentile(lat, 50)) if len(lat) else None,
                "p95_ms": float(np.percentile(lat, 95)) if len(lat) else None,
                "mean_ms": float(lat.mean()) if len(lat) else None,
                "max_ms": float(lat.max()) if len(lat) else None,
            },
            "memory": memory.as_dict(), "total_wall_s": time.perf_counter() - total_start, "created_utc": _now(),
        }
        _write_json(rec_path, rec)  # last: the record marks the run complete
        self.counts["runs_computed"] += 1
        rec["status"] = "computed"
        return rec

    def _latency_sample(self, n: int) -> list[int]:
        m = min(self.config.latency.queries, n)
        if m <= 0:
            return []
        rng = np.random.default_rng(self.config.latency.seed)
        return sorted(rng.choice(n, size=m, replace=False).tolist())

    def _reranker(self, spec: RerankerSpec):
        """One reranker instance per setting for the whole grid (its model loads once)."""
        from xlir.pipeline import create_reranker

        key = json.dumps([spec.name, spec.arg, spec.params], sort_keys=True, default=str)
        if key not in self._rerankers:
            start = time.perf_counter()
            self._rerankers[key] = create_reranker(spec.name, spec.arg, **spec.params)
            logger.info("loaded reranker %s in %.1fs", spec.spec, time.perf_counter() - start)
        return self._rerankers[key]

    # -- evaluation ----------------------------------------------------------------------------------
    def _eval(self, run_rec: dict, prepared: PreparedTask, qrels) -> tuple[dict[str, dict[str, float]], str, Path]:
        from xlir import __version__

        measures = list(self.config.measures)
        key = _h({"kind": "eval", "run": run_rec["key"], "qrels": prepared.digest["qrels"], "measures": measures,
                  "xlir": __version__})
        path = self.cache / "evals" / f"{key[:32]}.json"
        found = None if self.force or run_rec.get("status") != "reused" else _read_json(path)
        if found is not None and found.get("key") == key:
            self.counts["evals_reused"] += 1
            return found["per_query"], "reused", path
        from xlir.eval.measures import per_query
        from xlir.io import read_run

        # from the TREC file, exactly as `xlir eval` reads it
        values = per_query(qrels, read_run(run_rec["path"]), measures)
        _write_json(path, {"key": key, "run": run_rec["path"], "measures": measures, "per_query": values})
        self.counts["evals_computed"] += 1
        return values, "computed", path


def run_grid(config: BenchConfig, *, force: bool = False) -> dict[str, Any]:
    """Run ``config`` and return rows, skipped systems, systems and counts (no statistics yet)."""
    runner = Runner(config, force=force)
    start = time.perf_counter()
    rows, skipped, systems = runner.run()
    return {"rows": rows, "skipped": skipped, "systems": [s.name for s in systems], "counts": runner.counts,
            "elapsed_s": time.perf_counter() - start}

