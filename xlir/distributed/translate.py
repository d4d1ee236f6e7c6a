"""Translate a corpus on a Ray cluster: one output file per shard, joined in input order.

Each actor opens the translator once (a model on a GPU when the cluster has them) and
the translation cache, translates a shard at a time into ``OUTPUT.partial/seg-XXXXXX.jsonl``
(written atomically, then marked done) and the driver joins the finished shards, in
order, into ``OUTPUT`` (atomically). A worker that dies is restarted and its shard redone;
the cache keeps every batch it finished, so the redo costs only the rest, and a re-run
after a crash reuses finished shards. The cache is SQLite (WAL): processes on one
machine share it; on several machines give each node's workers a local cache folder
(SQLite over a network file system is not safe) or accept that nodes do not share hits.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from xlir.distributed.sharding import JobDir, Shard, mark_done, read_shard
from xlir.errors import IndexExistsError, InputError

__all__ = ["TranslatorSpec", "ShardTranslator", "translate_corpus"]

logger = logging.getLogger(__name__)

_SUFFIX = ".jsonl"


@dataclasses.dataclass(frozen=True)
class TranslatorSpec:
    """A translator ``NAME[:ARG]`` with ``KEY=VALUE`` parameters, the cache folder (None:
    the default) and whether to skip the cache."""

    spec: str
    params: tuple[str, ...] = ()
    cache_dir: str | None = None
    no_cache: bool = False

    def describe(self) -> dict[str, Any]:
        return {"translator": self.spec, "params": list(self.params)}


class ShardTranslator:
    """Ray actor: translates shards of a corpus with one translator and cache."""

    def __init__(self, spec: TranslatorSpec, tgt: str, src: str | None, split: bool):
        self.spec, self.tgt, self.src, self.split = spec, tgt, src, split
        self.mt = None
        self.cache = None

    def translate(self, corpus: str, fmt: str | None, shard: Shard, folder: str) -> dict[str, Any]:
        """Translate ``shard`` into ``folder/seg-XXXXXX.jsonl``; returns its statistics."""
        from xlir.io import write_corpus
        from xlir.translate import TranslationStats, translate_docs

        out = Path(folder) / f"{shard.name}{_SUFFIX}"
        start = time.perf_counter()
        if self.mt is None:
            from xlir.cli.translate import open_cache, open_translator

            self.mt = open_translator(self.spec.spec, self.spec.params)
            cache_dir = Path(self.spec.cache_dir) if self.spec.cache_dir else None
            self.cache = open_cache(cache_dir, self.spec.no_cache, self.mt)
        stats = TranslationStats()
        docs = translate_docs(read_shard(corpus, shard, lang=self.src, fmt=fmt), self.mt, tgt=self.tgt,
                              cache=self.cache, split=self.split, stats=stats)
        n = write_corpus(docs, out)
        mark_done(out, n)
        return {"shard": shard.index, "docs": n, "pid": os.getpid(), "seconds": time.perf_counter() - start,
                "stats": stats.as_dict()}


def translate_corpus(
    corpus: str | os.PathLike,
    output: str | os.PathLike,
    spec: TranslatorSpec,
    *,
    tgt: str,
    src: str | None = None,
    split: bool = True,
    fmt: str | None = None,
    shards: int | None = None,
    address: str | None = None,
    workers: int | None = None,
    max_attempts: int = 3,
    overwrite: bool = False,
    show_progress: bool | None = False,
) -> dict[str, Any]:
    """Translate the documents of ``corpus`` into ``tgt`` on a Ray cluster and write them,
    in input order, to ``output`` (JSONL, gzipped for ``.gz``). The output is the same as
    :func:`xlir.translate.translate_docs` written by :func:`xlir.io.write_corpus` gives.

    Returns a summary (documents, shards, reused shards, seconds). Raises
    :class:`IndexExistsError` when ``output`` exists, the input's :class:`InputError`,
    or :class:`xlir.distributed.sharding.ShardError` when a worker died ``max_attempts``
    times (finished shards are kept for the next run).
    """
    from xlir.distributed.engine import connect, worker_slots
    from xlir.distributed.pool import run_shards

    output = Path(output)
    if output.exists() and not overwrite:
        raise IndexExistsError(f"{output} already exists; pass --overwrite to replace it")
    start = time.perf_counter()
    ray = connect(address)
    slots, resources = worker_slots(ray, gpu=spec.spec.split(":", 1)[0] == "ctranslate2")
    folder = output.with_name(output.name + ".partial")
    what = {**spec.describe(), "tgt": tgt, "src": src, "split": split, "fmt": fmt}
    job = JobDir(folder, corpus, what, shards, default_shards=min(workers or slots, slots))
    pending = job.pending(_SUFFIX)
    reused = [s.index for s in job.shards if s not in pending]
    results = []
    for _shard, result in run_shards(
        ray, ShardTranslator, (spec, tgt, src, split), "translate", pending,
        lambda s: (str(Path(corpus).resolve()), fmt, s, str(job.folder.resolve())),
        workers=min(workers or slots, max(1, len(pending))), resources=resources, max_attempts=max_attempts,
        show_progress=show_progress, desc="translate",
    ):
        results.append(result)
    n = _join(job, output)
    job.remove()
    elapsed = time.perf_counter() - start
    return {"docs": n, "shards": len(job.shards), "reused": reused, "computed": sorted(r["shard"] for r in results),
            "seconds": elapsed, "docs_per_s": n / max(elapsed, 1e-9), "results": results}


def _join(job: JobDir, output: Path) -> int:
    """Concatenate the shard files in order into ``output`` (atomically), checking that
    ids are unique across shards as :func:`xlir.io.write_corpus` does within one."""
    from xlir.distributed.sharding import ShardError
    from xlir.io._files import open_output

    missing = [s.index for s in job.shards if not job.is_done(s, _SUFFIX)]
    if missing:
        raise ShardError(f"cannot write {output}: shard(s) {missing} are not finished")
    seen: dict[str, int] = {}
    n = 0
    with open_output(output) as f:
        for shard in job.shards:
            with open(job.output(shard, _SUFFIX), encoding="utf-8") as part:
                for line in part:
                    docid = json.loads(line)["id"]
                    first = seen.setdefault(docid, shard.index)
                    if first != shard.index:
                        raise InputError(f"duplicate doc id {docid!r} in shards {first} and {shard.index} of the corpus")
                    f.write(line)
                    n += 1
    return n
