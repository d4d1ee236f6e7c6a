"""Fan-out search: actors hold an index's segments memory-mapped; queries go to all of
them and the runs are merged.

The segments are split into contiguous groups, one per holder (a Ray actor that loads
its segments once, memory-mapped, and loads the encoder once for a dense index). The
driver first gathers each segment's collection statistics and combines them (BM25's
document count, document frequencies and average length), so every segment scores as
one index over all documents would; each batch of queries is then sent to every holder,
each returns the merge of its segments' top ``k`` (deleted documents left out), and the
driver merges those in segment order with :func:`xlir.segments.merge_topk`. The result
is the one :class:`xlir.segments.SegmentedIndex` gives, which is the one of a single
index over the same documents.

Holders open the index at the path they are given: on one machine that is the local
file system; on several, the index must be on a file system every node mounts at the
same path. A holder whose process dies is restarted (it reloads its segments and takes
the statistics from the object store) and the batch is retried.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Sequence

from xlir.errors import XlirError
from xlir.progress import progress
from xlir.types import Query, Run

__all__ = ["SegmentHolder", "FanOutSearcher"]

logger = logging.getLogger(__name__)

_BATCH = 1024  # queries per request to the holders


class SegmentHolder:
    """Ray actor: a group of segments of one index, memory-mapped, searched together."""

    def __init__(self, path: str, names: list[str]):
        from xlir import store
        from xlir.segments import is_segmented, segment_class

        path = Path(path)
        manifest = store.read_manifest(path)
        entries = {e["name"]: e for e in manifest.get("segments", [])} if is_segmented(manifest) else {"": {}}
        cls = segment_class(manifest["retriever"]) if is_segmented(manifest) else None
        self.segments, self.deleted = [], []
        for name in names:
            if cls is None:  # a plain index is one segment
                from xlir.store import load_index

                self.segments.append(load_index(path, mmap=True))
            else:
                self.segments.append(cls.load(path / name, mmap=True))
            entry = entries[name]
            self.deleted.append(set(store.load_lines(path, entry["deletes"])) if entry.get("deletes") else set())
        self._stats_ready = False

    def collection_stats(self) -> list[Any]:
        """Each segment's contribution to the collection's statistics (live documents only)."""
        from xlir.segments import deleted_rows

        return [seg.collection_stats(deleted_rows(seg, dead)) for seg, dead in zip(self.segments, self.deleted)]

    def search(self, queries: list[Query], k: int, stats_box: list) -> Run:
        """The merged top ``k`` of this holder's segments. ``stats_box`` holds the object
        ref of the collection's statistics (resolved once, and again after a restart)."""
        from xlir.segments import search_segments

        if not self._stats_ready:
            import ray

            stats = ray.get(stats_box[0])
            for seg in self.segments:
                seg.set_global_stats(stats)
            self._stats_ready = True
        return search_segments(self.segments, self.deleted, queries, k)

    def pid(self) -> int:
        return os.getpid()


class FanOutSearcher:
    """Search the index at ``path`` through ``holders`` Ray actors (default: one per CPU
    of the cluster, at most one per segment). Use :meth:`close` (or ``with``) to stop them.

    Searched like a retriever: ``search(queries, k)`` returns a :data:`Run`; ``docs``
    (documents by id) and ``manifest`` are read locally.
    """

    def __init__(self, path: str | os.PathLike, *, address: str | None = None, holders: int | None = None,
                 max_restarts: int = 2):
        from xlir import store
        from xlir.distributed.engine import connect
        from xlir.segments import is_segmented, segment_class

        self.path = Path(path)
        self.manifest = store.read_manifest(self.path)
        self.name: str = self.manifest["retriever"]
        self.languages: list[str] = list(self.manifest.get("languages", []))
        names = [e["name"] for e in self.manifest["segments"]] if is_segmented(self.manifest) else [""]
        cls = segment_class(self.name) if is_segmented(self.manifest) else None
        ray = self._ray = connect(address)
        slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
        n = max(1, min(holders or slots, len(names)))
        groups = [names[i * len(names) // n:(i + 1) * len(names) // n] for i in range(n)]
        remote = ray.remote(SegmentHolder).options(num_cpus=1, max_restarts=max_restarts, max_task_retries=max_restarts)
        self.holders = [remote.remote(str(self.path.resolve()), g) for g in groups]
        self._local = None
        try:
            parts = [p for ps in self._get(h.collection_stats.remote() for h in self.holders) for p in ps]
            single = len(names) == 1 and not self.manifest["segments"][0].get("deleted") if cls else True
            stats = None if single or any(p is None for p in parts) else cls.combine_stats(parts)
        except BaseException:
            self.close()
            raise
        self._stats_box = [ray.put(stats)]
        logger.info("%s: %d segments on %d holders", self.path, len(names), n)

    def _get(self, refs) -> list:
        from ray import exceptions as rex

        try:
            return self._ray.get(list(refs))
        except rex.RayTaskError as e:
            cause = getattr(e, "cause", None)
            if isinstance(cause, XlirError):
                raise cause from None
            raise XlirError(f"fan-out search failed: {cause or e}") from None
        except rex.RayActorError as e:
            raise XlirError(f"fan-out search failed: a segment holder died too often ({type(e).__name__})") from None

    def search(self, queries: Sequence[Query], k: int = 100, *, show_progress: bool | None = False,
               batch_size: int = _BATCH) -> Run:
        """Top-``k`` documents per query over all segments, as one index would rank them."""
        from xlir.errors import ParamError
        from xlir.segments import merge_topk

        if k < 1:
            raise ParamError(f"k must be >= 1, got {k}")
        queries = list(queries)
        batches = [queries[i:i + batch_size] for i in range(0, len(queries), batch_size)]
        # every batch is queued on every holder at once: holders work while the driver merges
        pending = []
        for batch in batches:
            ref = self._ray.put(batch)
            pending.append([h.search.remote(ref, k, self._stats_box) for h in self.holders])
        run: Run = {}
        for refs in progress(pending, show_progress=show_progress, desc=f"{self.name} fan-out", unit="batch"):
            run.update(merge_topk(self._get(refs), k))
        return run

    @property
    def docs(self):
        """Documents by id, read from the index on this machine (memory-mapped)."""
        if self._local is None:
            from xlir.store import load_index

            self._local = load_index(self.path, mmap=True)
        return self._local.docs

    def close(self) -> None:
        """Stop the holders."""
        for h in getattr(self, "holders", []):
            self._ray.kill(h, no_restart=True)
        self.holders = []

    def __enter__(self) -> "FanOutSearcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
