"""Build a segmented index on a Ray cluster: one segment per shard of the corpus.

The driver plans the shards (line ranges of the corpus file), and a pool of actors, each
holding one retriever (so a model is loaded once per actor, on a GPU when the cluster
has them), indexes a shard at a time and saves it atomically as
``INDEX.partial/seg-XXXXXX``. A worker that dies is restarted and its shard redone; a
re-run after a crash (of a worker or of the driver) reuses every finished segment. When
all shards are done the driver commits the segments as the index at ``INDEX`` (:func:`xlir.segments.commit_segments`,
which also checks that document ids are unique across shards); until then nothing is at
``INDEX``.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from xlir.distributed.sharding import JobDir, Shard, ShardError, read_shard
from xlir.errors import IndexExistsError

__all__ = ["RetrieverSpec", "ShardIndexer", "build_index", "partial_dir"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RetrieverSpec:
    """What every worker builds: a registered retriever with ``params``, optionally
    wrapped to translate documents first (``translation``: the CLI's TranslationOptions)."""

    name: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    translation: Any = None

    def create(self):
        """A new, empty retriever (wrapped for translation when asked)."""
        from xlir.registry import RETRIEVERS

        model = RETRIEVERS.create(self.name, **self.params)
        if self.translation is not None and self.translation.translate_docs:
            model = self.translation.wrap_for_index(model)
        return model

    def describe(self) -> dict[str, Any]:
        """What the job key records: retriever, parameters, translation options."""
        translation = None
        if self.translation is not None and self.translation.translate_docs:
            translation = {k: str(v) for k, v in dataclasses.asdict(self.translation).items()}
        return {"retriever": self.name, "params": self.params, "translation": translation}


class ShardIndexer:
    """Ray actor: indexes shards of a corpus into segment folders with one retriever."""

    def __init__(self, spec: RetrieverSpec):
        self.spec = spec
        self.model = None

    def build(self, corpus: str, lang: str | None, fmt: str | None, shard: Shard, folder: str) -> dict[str, Any]:
        """Index ``shard`` and save it as ``folder/seg-XXXXXX`` (atomically); returns timings."""
        out = Path(folder) / shard.name
        info: dict[str, Any] = {"shard": shard.index, "docs": shard.docs, "pid": os.getpid(),
                                "restarted": _restarted()}
        if _complete(out, shard):  # a previous attempt got as far as the rename
            return {**info, "seconds": 0.0, "reused": True}
        start, cpu = time.perf_counter(), time.process_time()
        if self.model is None:
            self.model = self.spec.create()
            info["load_seconds"] = time.perf_counter() - start
        model = self.model
        kwargs = {}
        inner = getattr(model, "retriever", model)
        if "work_dir" in inspect.signature(inner.index).parameters:
            # an encoder's finished chunks survive a worker's death; the retry resumes from them
            kwargs["work_dir"] = Path(folder) / f".{shard.name}.work"
        model.index(read_shard(corpus, shard, lang=lang, fmt=fmt), **kwargs)
        model.save(out, overwrite=True)
        if "work_dir" in kwargs:
            shutil.rmtree(kwargs["work_dir"], ignore_errors=True)
        return {**info, "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu,
                "reused": False}


def _restarted() -> bool:
    """Whether this is a Ray actor that was restarted after its process died."""
    import sys
    import warnings

    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized() or ray.get_runtime_context().get_actor_id() is None:
        return False  # not in an actor: the class is used directly
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Ray 2.60 uses its own deprecated actor_id here
        return bool(ray.get_runtime_context().was_current_actor_reconstructed)


def _complete(out: Path, shard: Shard) -> bool:
    from xlir.errors import XlirError
    from xlir.store import read_manifest

    try:
        return read_manifest(out)["doc_count"] == shard.docs
    except (XlirError, OSError):
        return False


def partial_dir(output: str | os.PathLike) -> Path:
    """The job folder of a distributed build of ``output``: ``output`` + ``.partial``."""
    output = Path(output)
    return output.with_name(output.name + ".partial")


def build_index(
    corpus: str | os.PathLike,
    output: str | os.PathLike,
    spec: RetrieverSpec,
    *,
    lang: str | None = None,
    fmt: str | None = None,
    shards: int | None = None,
    address: str | None = None,
    workers: int | None = None,
    max_attempts: int = 3,
    overwrite: bool = False,
    show_progress: bool | None = False,
) -> dict[str, Any]:
    """Index ``corpus`` into the segmented index ``output`` on a Ray cluster.

    ``shards`` (default: the workers the cluster can run, or the plan of an interrupted
    run being resumed) is the number of segments; ``workers`` caps the actors (default:
    one per free CPU, or per GPU for a model-based retriever on a GPU cluster). Returns a
    summary (documents, shards, reused shards, seconds, docs/s). Raises
    :class:`IndexExistsError`, :class:`xlir.segments.SegmentsUnsupportedError` for a
    retriever whose indexes cannot hold segments (Lucene), the
    :class:`xlir.errors.InputError` of a bad corpus line, or :class:`ShardError` when a
    shard's worker died ``max_attempts`` times; finished segments are kept in
    ``output.partial`` for the next run.
    """
    from xlir.distributed.engine import connect, uses_device, worker_slots
    from xlir.distributed.pool import run_shards

    output = Path(output)
    if output.exists() and not overwrite:
        raise IndexExistsError(f"{output} already exists; pass --overwrite (overwrite=True) to replace it")
    from xlir.params import make_params
    from xlir.segments import segment_class

    # a retriever without segments, or bad params, fail here rather than on every worker
    params = make_params(segment_class(spec.name).Params, spec.params)
    start = time.perf_counter()
    ray = connect(address)
    slots, resources = worker_slots(ray, gpu=uses_device(params))
    job = JobDir(partial_dir(output), corpus, {**spec.describe(), "lang": lang, "fmt": fmt}, shards,
                 default_shards=min(workers or slots, slots))
    pending = job.pending()
    reused = [s.index for s in job.shards if s not in pending]
    n_workers = min(workers or slots, max(1, len(pending)))
    logger.info("indexing %s: %d docs in %d shards (%d finished before) on %d %s workers", corpus,
                sum(s.docs for s in job.shards), len(job.shards), len(reused), n_workers,
                "GPU" if "num_gpus" in resources else "CPU")
    results = []
    for _shard, result in run_shards(
        ray, ShardIndexer, (spec,), "build", pending,
        lambda s: (str(Path(corpus).resolve()), lang, fmt, s, str(job.folder.resolve())),
        workers=n_workers, resources=resources, max_attempts=max_attempts,
        show_progress=show_progress, desc="index",
    ):
        results.append(result)
    seconds_shards = time.perf_counter() - start
    _commit(job, output, spec, overwrite=overwrite)
    elapsed = time.perf_counter() - start
    docs = sum(s.docs for s in job.shards)
    return {
        "docs": docs, "shards": len(job.shards), "reused": reused,
        "computed": sorted(r["shard"] for r in results),
        "restarted": sorted(r["shard"] for r in results if r["restarted"]),  # computed on a restarted actor
        "workers": n_workers, "seconds": elapsed, "shard_seconds": seconds_shards,
        "docs_per_s": docs / max(elapsed, 1e-9), "results": sorted(results, key=lambda r: r["shard"]),
    }


def _commit(job: JobDir, output: Path, spec: RetrieverSpec, *, overwrite: bool) -> None:
    missing = [s.index for s in job.shards if not job.is_done(s)]
    if missing:
        raise ShardError(f"cannot commit {output}: shard(s) {missing} have no finished segment")
    segments = [job.output(s) for s in job.shards]
    from xlir.segments import commit_segments

    # checks that ids are unique across segments and moves the segment folders into the new
    # index, which appears at ``output`` atomically
    commit_segments(output, spec.name, spec.params, segments, overwrite=overwrite,
                    extra={"built_with": {"engine": "ray", "shards": len(job.shards)}})
    job.remove()
