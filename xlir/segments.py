"""Segmented indexes: append, upsert and compact without rebuilding; exact merged search.

An index is one or more *segments*, each a complete ordinary index folder written by
``Retriever.save`` (its own ``manifest.json`` and arrays), listed in the top manifest::

    INDEX/
      manifest.json     {"retriever": ..., "params": ..., "segmented": true, "generation": 3,
                         "segments": [{"name": "seg-000000", "doc_count": 120, "deleted": 2,
                                       "deletes": "deletes/seg-000000.g000003.txt"}, ...],
                         "doc_count": <live documents>, "files": {<deletion lists>}, ...}
      seg-000000/       an ordinary index folder
      seg-000001/
      deletes/seg-000000.g000003.txt   ids hidden by a later upsert, one per line

The top manifest is the truth and is replaced atomically (temporary file + ``os.replace``)
as the last step of every change, so a crash leaves the previous index readable; folders
and files it does not list (from an interrupted write) are ignored and removed by the
next write. A plain (unsegmented) index stays as it is until something is appended to it:
its files are then hard-linked into ``seg-000000`` (the plain files stay in place until the
new manifest is committed).

Search over segments is exact: every segment scores with the collection's statistics
(:func:`global_stats`, e.g. BM25's document count, document frequencies and average
length, counting only live documents), each segment returns its top ``k`` plus as many as
it has deleted documents, deleted documents are dropped, and :func:`merge_topk` merges
the runs. Segments are ordered as their documents were added, and within a segment ties
are broken by lower row, so merging with "score descending, ties in segment order" gives
the ranking (and, for BM25, the bit-identical scores) of one index built over the live
documents in that order.

Which retrievers support segments is their class attribute ``supports_segments``; the
others refuse with :class:`SegmentsUnsupportedError` quoting ``segments_unsupported``.
One writer at a time per index (readers may search while it writes).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import os
import shutil
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from xlir import store
from xlir.errors import IndexFormatError, InputError, ParamError, XlirError
from xlir.progress import progress
from xlir.types import Doc, Query, Run

__all__ = [
    "SegmentedIndex",
    "SegmentedDocs",
    "SegmentsUnsupportedError",
    "DuplicateIdError",
    "merge_topk",
    "global_stats",
    "append",
    "add_segments",
    "commit_segments",
    "compact",
    "is_segmented",
    "segment_name",
    "segment_class",
    "index_params",
    "merge_docstores",
    "live_mask",
]

logger = logging.getLogger(__name__)

SEGMENT_PREFIX = "seg-"
DELETES_DIR = "deletes"
LOCK = ".lock"
# top-manifest fields recomputed on every commit (everything else is carried over)
_OWN_KEYS = {"format", "format_version", "retriever", "params", "doc_count", "languages", "xlir_version",
             "created_utc", "files", "segmented", "segments", "generation",
             "stats", "vectors", "lucene"}  # the last three describe one segment's arrays, not the index
# fields copied from the first segment's manifest into the top manifest (what xlir info shows)
_CARRIED = ("analyzer", "encoder", "translation", "quantization")


class SegmentsUnsupportedError(XlirError, ValueError):
    """The retriever's indexes cannot hold several segments (append/upsert/compact)."""


class DuplicateIdError(InputError):
    """Appended documents whose ids are already in the index (and ``upsert`` was not asked)."""


def segment_name(number: int) -> str:
    """``seg-000042`` for 42."""
    return f"{SEGMENT_PREFIX}{number:06d}"


def is_segmented(manifest: dict[str, Any]) -> bool:
    """Whether ``manifest`` is the top manifest of a segmented index."""
    return bool(manifest.get("segmented"))


def segment_class(name: str, manifest: dict[str, Any] | None = None):
    """The retriever class registered as ``name``; raises :class:`SegmentsUnsupportedError`
    when its indexes (or the index of ``manifest``) cannot hold segments."""
    from xlir.registry import RETRIEVERS

    cls = RETRIEVERS.get(name)
    if manifest is not None and manifest.get("passages"):
        raise SegmentsUnsupportedError(
            f"indexes of passages ({name} with passages) do not support segments (append, upsert, compact, shards) yet: "
            "their search maps passages back to documents within one index. Rebuild the index with all documents instead "
            "(xlir index --overwrite)"
        )
    if not getattr(cls, "supports_segments", False):
        reason = getattr(cls, "segments_unsupported", "it has not been made segment-aware")
        raise SegmentsUnsupportedError(
            f"{name} indexes do not support segments (append, upsert, compact, shards): {reason}. "
            f"Rebuild the index with all documents instead (xlir index --overwrite)"
        )
    return cls


def index_params(path: str | os.PathLike) -> tuple[str, dict[str, Any]]:
    """(retriever name, params) that new segments of the index at ``path`` are built with."""
    path = Path(path)
    manifest = store.read_manifest(path)
    params = manifest["params"]
    if is_segmented(manifest) and manifest.get("segments"):
        params = store.read_manifest(path / manifest["segments"][0]["name"], check_files=False)["params"]
    return manifest["retriever"], dict(params)


# ---------------------------------------------------------------------------------------
# merging runs and statistics


def merge_topk(runs: Sequence[Run], k: int) -> Run:
    """The best ``k`` documents per query over ``runs`` (one per segment, in segment order).

    Order: score descending; equal scores keep the order of the input, i.e. earlier run
    first, then each run's own order. Each segment breaks its ties by lower row and
    segments are in document order, so the result equals one index's over all documents.
    A document in several runs (which segments never produce) keeps its highest score. Queries are in
    order of first appearance; a query that any run has (even with no hits) is in the result.
    """
    if k < 1:
        raise ParamError(f"k must be >= 1, got {k}")
    qids: dict[str, None] = {}
    for run in runs:
        qids.update(dict.fromkeys(run))
    merged: Run = {}
    for qid in qids:
        cand = [hit for run in runs for hit in run.get(qid, {}).items()]
        # one C sort; stable with reverse=True, so equal scores keep the input order
        cand.sort(key=itemgetter(1), reverse=True)
        out = dict(cand[:k])
        if len(out) < min(k, len(cand)):  # a document in several runs: keep its best (first) entry
            out = {}
            for docid, score in cand:
                if docid not in out:
                    out[docid] = score
                    if len(out) == k:
                        break
        merged[qid] = out
    return merged


def global_stats(segments: Sequence[Any], deleted_rows: Sequence[Any] | None = None) -> dict | None:
    """The collection's scoring statistics over ``segments`` (retrievers of one class),
    leaving out ``deleted_rows[i]`` of segment ``i``; None when the retriever needs none."""
    if not segments:
        return None
    rows = list(deleted_rows) if deleted_rows is not None else [None] * len(segments)
    parts = [seg.collection_stats(r) for seg, r in zip(segments, rows)]
    if any(p is None for p in parts):
        return None
    return type(segments[0]).combine_stats(parts)


def search_segments(segments: Sequence[Any], deleted: Sequence[set[str]], queries: Sequence[Query], k: int, *,
                    show_progress: bool | None = False, desc: str = "segments") -> Run:
    """The merged top ``k`` of ``segments`` (global statistics already set), leaving out each
    segment's ``deleted`` ids; queries are encoded once for all segments."""
    queries = list(queries)
    if not segments:
        return {q.id: {} for q in queries}
    encoded = segments[0].encode_queries(queries)
    runs = []
    for seg, dead in progress(list(zip(segments, deleted)), show_progress=show_progress, desc=desc, unit="segment"):
        if len(seg.docs) == len(dead):
            continue
        run = seg.search_encoded(queries, encoded, k + len(dead))  # deleted hits may take k places
        if dead:
            run = {qid: {d: s for d, s in hits.items() if d not in dead} for qid, hits in run.items()}
        runs.append(run)
    return merge_topk(runs, k) if runs else {q.id: {} for q in queries}


def live_mask(seg: Any, dead: set[str]) -> np.ndarray:
    """Boolean mask over ``seg``'s rows: True for documents not in ``dead``."""
    live = np.ones(len(seg.docs), dtype=bool)
    if dead:
        live[deleted_rows(seg, dead)] = False
    return live


def merge_docstores(stores: Sequence[Any], masks: Sequence[np.ndarray]):
    """One :class:`~xlir.docstore.DocStore` of the rows of ``stores`` where ``masks`` are True,
    in order. Records are copied as bytes (not decoded), so compaction stays cheap; the
    result keeps text only if every store does."""
    from xlir.docstore import DocStore

    ids = [docid for st, m in zip(stores, masks) for docid, keep in zip(st.ids, m.tolist()) if keep]
    if not all(st.has_text for st in stores):
        return DocStore(ids)
    parts, lengths = [], []
    for st, m in zip(stores, masks):
        # DocStore keeps records as one byte array plus offsets: gather the kept ranges
        offsets, data = np.asarray(st._offsets), st._data
        starts, ends = offsets[:-1][m], offsets[1:][m]
        n = ends - starts
        if m.all():
            parts.append(np.asarray(data[int(offsets[0]) : int(offsets[-1])], dtype=np.uint8))
        elif len(n):
            index = np.repeat(starts - np.concatenate(([0], np.cumsum(n)[:-1])), n) + np.arange(int(n.sum()))
            parts.append(np.asarray(data, dtype=np.uint8)[index] if len(index) else np.zeros(0, np.uint8))
        lengths.append(n)
    data = np.concatenate(parts) if parts else np.zeros(0, np.uint8)
    all_n = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    offsets = np.concatenate(([0], np.cumsum(all_n))).astype(np.int64)
    return DocStore(ids, data, offsets)


# ---------------------------------------------------------------------------------------
# reading


class SegmentedDocs:
    """Document lookup across segments (live documents only): ``docs[docid]`` -> :class:`Doc`."""

    def __init__(self, segments: Sequence[Any], deleted: Sequence[set[str]]):
        self._segments = list(segments)
        self._deleted = list(deleted)
        self._ids: list[str] | None = None

    def _segment_of(self, docid: str) -> int | None:
        for i in range(len(self._segments) - 1, -1, -1):  # an upserted copy lives in a later segment
            if docid in self._segments[i].docs and docid not in self._deleted[i]:
                return i
        return None

    def __getitem__(self, docid: str) -> Doc:
        i = self._segment_of(docid)
        if i is None:
            raise KeyError(docid)
        return self._segments[i].docs[docid]

    def __contains__(self, docid: str) -> bool:
        return self._segment_of(docid) is not None

    def __len__(self) -> int:
        return sum(len(s.docs) - len(d) for s, d in zip(self._segments, self._deleted))

    @property
    def ids(self) -> list[str]:
        """Live ids in index order (segment by segment)."""
        if self._ids is None:
            self._ids = [d for s, dead in zip(self._segments, self._deleted) for d in s.docs.ids if d not in dead]
        return self._ids

    @property
    def has_text(self) -> bool:
        return all(s.docs.has_text for s in self._segments)

    def get_row(self, row: int) -> Doc:
        return self[self.ids[row]]

    def __iter__(self) -> Iterator[Doc]:
        for seg, dead in zip(self._segments, self._deleted):
            for row, docid in enumerate(seg.docs.ids):
                if docid not in dead:
                    yield seg.docs.get_row(row)


class SegmentedIndex:
    """A segmented index, searched like one retriever (``xlir.load_index`` returns it).

    ``segments`` are the loaded segment retrievers in order, ``deleted[i]`` the ids hidden
    in segment ``i``. Every segment scores with the collection's statistics.
    """

    supports_segments = True

    def __init__(self, path: Path, manifest: dict[str, Any], segments: list[Any], deleted: list[set[str]]):
        self.path = Path(path)
        self.manifest = manifest
        self.segments = segments
        self.deleted = deleted
        self.name: str = manifest["retriever"]
        self.languages: list[str] = list(manifest.get("languages", []))
        self.docs = SegmentedDocs(segments, deleted)
        self.stats: dict | None = None
        self._apply_stats()

    @classmethod
    def load(cls, path: str | os.PathLike, *, mmap: bool = True, **overrides: Any) -> "SegmentedIndex":
        """Load the segmented index at ``path``; ``overrides`` go to every segment's ``load``
        (search-time params, ``encoder=``)."""
        path = Path(path)
        manifest = store.read_manifest(path)
        if not is_segmented(manifest):
            raise IndexFormatError(f"{path}: not a segmented index (load it with xlir.load_index)")
        rcls = segment_class(manifest["retriever"])
        segments, deleted = [], []
        for entry in _entries(path, manifest):
            seg = rcls.load(path / entry["name"], mmap=mmap, **overrides)
            if seg.doc_count != entry["doc_count"]:
                raise IndexFormatError(
                    f"{path}: corrupt index ({entry['name']} has {seg.doc_count} documents, the manifest says {entry['doc_count']})"
                )
            segments.append(seg)
            deleted.append(_read_deleted(path, entry))
        return cls(path, manifest, segments, deleted)

    def _apply_stats(self) -> None:
        if len(self.segments) == 1 and not self.deleted[0]:
            self.stats = None  # one segment's own statistics are the collection's
        else:
            rows = [deleted_rows(seg, dead) for seg, dead in zip(self.segments, self.deleted)]
            self.stats = global_stats(self.segments, rows)
        for seg in self.segments:
            seg.set_global_stats(self.stats)

    @property
    def params(self):
        from xlir.params import make_params
        from xlir.registry import RETRIEVERS

        if self.segments:
            return self.segments[0].params
        return make_params(RETRIEVERS.get(self.name).Params, self.manifest["params"])

    @property
    def doc_count(self) -> int:
        return int(self.manifest["doc_count"])

    @property
    def encoder(self):
        """The first segment's encoder (all segments were built with the same one)."""
        return self.segments[0].encoder

    def search(self, queries: Sequence[Query], k: int = 100, *, show_progress: bool | None = False) -> Run:
        """Top-``k`` documents per query over all segments, as one index would rank them."""
        if k < 1:
            raise ParamError(f"k must be >= 1, got {k}")
        return search_segments(self.segments, self.deleted, queries, k, show_progress=show_progress,
                               desc=f"{self.name} segments")

    def index(self, docs: Any, *, show_progress: bool | None = False) -> None:
        """Not here: documents are added with :func:`append` (a new segment) and merged with :func:`compact`."""
        raise XlirError(f"{self.path}: add documents to a segmented index with xlir.segments.append (xlir index --append)")

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> None:
        """Copy the index (its listed segments and deletion lists) to ``path`` atomically."""
        with store.atomic_index_dir(path, overwrite=overwrite) as tmp:
            for entry in self.manifest["segments"]:
                shutil.copytree(self.path / entry["name"], tmp / entry["name"])
            for name in self.manifest["files"]:
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(self.path / name, tmp / name)
            shutil.copy2(self.path / store.MANIFEST, tmp / store.MANIFEST)

    def __repr__(self) -> str:
        return f"SegmentedIndex({str(self.path)!r}, {self.name}, {len(self.segments)} segments, {self.doc_count} documents)"


def _entries(path: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    entries = manifest.get("segments")
    if not isinstance(entries, list):
        raise IndexFormatError(f"{path}: corrupt manifest (segments is not a list)")
    for e in entries:
        if not isinstance(e, dict) or not str(e.get("name", "")).startswith(SEGMENT_PREFIX) or "/" in e["name"]:
            raise IndexFormatError(f"{path}: corrupt manifest (bad segment entry {e!r})")
    return entries


def _read_deleted(path: Path, entry: dict[str, Any]) -> set[str]:
    name = entry.get("deletes")
    if not name:
        return set()
    ids = set(store.load_lines(path, name))
    if len(ids) != entry.get("deleted", len(ids)):
        raise IndexFormatError(f"{path}: corrupt index ({name} has {len(ids)} ids, the manifest says {entry.get('deleted')})")
    return ids


def deleted_rows(seg: Any, dead: set[str]) -> np.ndarray | None:
    """The rows of ``seg`` holding the ids in ``dead`` (None when there are none)."""
    if not dead:
        return None
    rows = seg.docs.rows
    return np.fromiter((rows[d] for d in dead), dtype=np.int64, count=len(dead))


# ---------------------------------------------------------------------------------------
# writing


def _signature(manifest: dict[str, Any], cls: Any) -> dict[str, Any]:
    # what must agree between segments for their scores to be comparable
    runtime = set(getattr(cls, "runtime_params", ()))
    return {
        "retriever": manifest["retriever"],
        "params": {k: v for k, v in manifest["params"].items() if k not in runtime},
        "encoder": manifest.get("encoder"),
        "analyzer": manifest.get("analyzer"),
        "translation": (manifest.get("translation") or {}).get("tgt"),
    }


def _describe_difference(a: dict[str, Any], b: dict[str, Any]) -> str:
    out = []
    for key in a:
        if a[key] == b[key]:
            continue
        if isinstance(a[key], dict) and isinstance(b[key], dict):
            keys = sorted(set(a[key]) | set(b[key]))
            diffs = [f"{key}.{k}: {a[key].get(k)!r} vs {b[key].get(k)!r}" for k in keys if a[key].get(k) != b[key].get(k)]
            out.extend(diffs[:4])
        else:
            out.append(f"{key}: {a[key]!r} vs {b[key]!r}")
    return "; ".join(out)


class _State:
    """An index as it is on disk now: its manifest, segment entries and deletion sets."""

    def __init__(self, path: Path):
        self.path = path
        self.manifest = store.read_manifest(path)
        self.cls = segment_class(self.manifest["retriever"], self.manifest)
        self.segmented = is_segmented(self.manifest)
        if self.segmented:
            self.entries = [dict(e) for e in _entries(path, self.manifest)]
            self.deleted = {e["name"]: _read_deleted(path, e) for e in self.entries}
            self.seg_manifests = {e["name"]: store.read_manifest(path / e["name"]) for e in self.entries}
        else:
            # a plain index becomes seg-000000 when the change is committed
            name = segment_name(0)
            self.entries = [{"name": name, "doc_count": int(self.manifest["doc_count"])}]
            self.deleted = {name: set()}
            self.seg_manifests = {name: self.manifest}
        self.changed: set[str] = set()

    def folder(self, name: str) -> Path:
        return self.path if not self.segmented else self.path / name

    def ids(self, name: str) -> list[str]:
        return store.load_lines(self.folder(name), "docids.txt")

    def next_number(self) -> int:
        used = [int(e["name"][len(SEGMENT_PREFIX):]) for e in self.entries]
        return max(used, default=-1) + 1

    def signature(self) -> dict[str, Any] | None:
        if not self.entries:
            return None
        return _signature(self.seg_manifests[self.entries[0]["name"]], self.cls)


def _check_new_segments(state_sig: dict | None, cls: Any, dirs: Sequence[Path]) -> list[tuple[Path, dict, list[str]]]:
    """Each new segment's (folder, manifest, ids), after checking it loads and matches."""
    out = []
    seen: dict[str, Path] = {}
    sig = state_sig
    for d in dirs:
        m = store.read_manifest(d)
        if is_segmented(m):
            raise IndexFormatError(f"{d}: a segment must be a plain index, not a segmented one")
        if m["retriever"] != cls.name:
            raise IndexFormatError(f"{d}: segment built by {m['retriever']!r}, the index is {cls.name!r}")
        s = _signature(m, cls)
        if sig is None:
            sig = s
        elif s != sig:
            raise ParamError(f"{d}: segment built with other settings than the index ({_describe_difference(sig, s)})")
        ids = store.load_lines(d, "docids.txt")
        if len(ids) != m["doc_count"]:
            raise IndexFormatError(f"{d}: corrupt index (docids.txt has {len(ids)} ids, manifest says {m['doc_count']})")
        clashes = [i for i in ids if i in seen]
        if clashes:
            raise DuplicateIdError(
                f"{len(clashes)} document ids are in two new segments ({d.name} and {seen[clashes[0]].name}), e.g. "
                + ", ".join(repr(c) for c in clashes[:5])
            )
        seen.update(dict.fromkeys(ids, d))
        out.append((d, m, ids))
    return out


def add_segments(path: str | os.PathLike, segment_dirs: Sequence[str | os.PathLike], *, upsert: bool = False) -> dict[str, Any]:
    """Add already-written segment folders to the index at ``path`` and commit; returns the new manifest.

    Each folder is a plain index of the same retriever and settings, outside the index
    folder (or in a dot-named folder inside it); it is moved into the index. Ids already in the index raise :class:`DuplicateIdError` unless ``upsert``: then
    the older copies are hidden (deletion lists) and the new ones win. Ids repeated between
    the new segments are always an error. A plain index at ``path`` becomes segmented.
    """
    path = Path(path)
    store.read_manifest(path)
    with _writer_lock(path):
        return _add_segments(path, segment_dirs, upsert=upsert)


def _add_segments(path: Path, segment_dirs: Sequence[str | os.PathLike], *, upsert: bool) -> dict[str, Any]:
    state = _State(path)
    dirs = [Path(d) for d in segment_dirs]
    new = [x for x in _check_new_segments(state.signature(), state.cls, dirs) if x[1]["doc_count"] > 0]
    new_ids = {i: d for d, _, ids in new for i in ids}
    clashes: list[str] = []
    for entry in state.entries:
        name = entry["name"]
        dead = state.deleted[name]
        hit = [i for i in state.ids(name) if i in new_ids and i not in dead]
        if hit and upsert:
            state.deleted[name] = dead | set(hit)
            state.changed.add(name)
        clashes.extend(hit)
    if clashes and not upsert:
        raise DuplicateIdError(
            f"{len(clashes)} of the new documents are already in {path} (ids "
            + ", ".join(repr(c) for c in clashes[:5]) + (", ..." if len(clashes) > 5 else "")
            + "); pass --upsert (upsert=True) to replace them, or leave them out"
        )
    if not state.segmented:
        _cleanup(path, state.manifest)  # leftovers of an earlier interrupted conversion
        _link_plain_into_segment(path, path / segment_name(0))
        state.segmented = True
    number = state.next_number()
    for d, m, ids in new:
        name = segment_name(number)
        number += 1
        target = path / name
        if d.resolve() != target.resolve():
            if target.exists():
                shutil.rmtree(target)  # unlisted: from an interrupted write
            _move(d, target)
        state.entries.append({"name": name, "doc_count": int(m["doc_count"])})
        state.seg_manifests[name] = m
        state.deleted[name] = set()
    manifest = _commit(state)
    logger.info(
        "%s: added %d segment(s), %d documents (%d replaced); %d segments, %d documents",
        path, len(new), len(new_ids), len(clashes) if upsert else 0, len(state.entries), manifest["doc_count"],
    )
    return manifest


def append(
    path: str | os.PathLike,
    retriever_or_docs: Any,
    *,
    upsert: bool = False,
    show_progress: bool | None = False,
    work_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Add documents to the index at ``path`` as a new segment; returns the new manifest.

    ``retriever_or_docs`` is an indexed retriever (same retriever and settings as the
    index) or documents, indexed here with the index's own params (``work_dir`` as for
    ``index()``). Raises :class:`DuplicateIdError` for ids already in the index unless
    ``upsert``, :class:`SegmentsUnsupportedError` for retrievers without segments, and
    :class:`InputError` when there is nothing to add.
    """
    from xlir.params import make_params

    path = Path(path)
    manifest = store.read_manifest(path)
    cls = segment_class(manifest["retriever"], manifest)
    if hasattr(retriever_or_docs, "search") and hasattr(retriever_or_docs, "save"):
        retriever = retriever_or_docs
        if retriever.name != cls.name:
            raise ParamError(f"cannot append a {retriever.name} index to {path}, a {cls.name} index")
    else:
        retriever = cls(make_params(cls.Params, index_params(path)[1]))
        kwargs = {}
        if work_dir is not None and "work_dir" in inspect.signature(retriever.index).parameters:
            kwargs["work_dir"] = work_dir
        retriever.index(retriever_or_docs, show_progress=show_progress, **kwargs)
    if not retriever.doc_count:
        raise InputError(f"no documents to append to {path}")
    with _writer_lock(path):
        manifest = store.read_manifest(path)
        if is_segmented(manifest):
            _cleanup(path, manifest)
        staging = path / f".append-{os.getpid()}"
        if staging.exists():
            shutil.rmtree(staging)
        try:
            retriever.save(staging)
            return _add_segments(path, [staging], upsert=upsert)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)


def commit_segments(
    path: str | os.PathLike,
    retriever_name: str,
    params: Any,
    segment_dirs: Sequence[str | os.PathLike],
    *,
    extra: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Make a new segmented index at ``path`` from already-written segment folders; returns its manifest.

    Every folder must load as a ``retriever_name`` index built with ``params`` (a params
    object or dict; search-time params may differ) and the ids must be disjoint. The
    folders are moved into the index (empty ones are skipped and left where they are),
    ``extra`` is added to the top manifest, and the index appears at ``path`` atomically.
    Raises :class:`IndexExistsError` if ``path`` exists and not ``overwrite``.
    """
    from xlir.params import make_params, params_to_dict

    cls = segment_class(retriever_name)
    if not isinstance(params, dict):
        params = params_to_dict(params)
    params = params_to_dict(make_params(cls.Params, params))
    runtime = set(cls.runtime_params)
    wanted = {k: v for k, v in params.items() if k not in runtime}
    dirs = [Path(d) for d in segment_dirs]
    checked = _check_new_segments(None, cls, dirs)
    for d, m, _ in checked:
        got = {k: v for k, v in m["params"].items() if k not in runtime}
        if got != wanted:
            diff = "; ".join(f"{k}: {wanted.get(k)!r} vs {got.get(k)!r}" for k in sorted(set(wanted) | set(got)) if wanted.get(k) != got.get(k))
            raise ParamError(f"{d}: segment built with other params than given ({diff})")
    checked = [x for x in checked if x[1]["doc_count"] > 0]
    with store.atomic_index_dir(path, overwrite=overwrite) as tmp:
        state = _State.__new__(_State)
        state.path, state.cls, state.segmented, state.changed = tmp, cls, True, set()
        state.manifest = {"retriever": retriever_name, "params": params, **(extra or {})}
        state.entries, state.deleted, state.seg_manifests = [], {}, {}
        for number, (d, m, _) in enumerate(checked):
            name = segment_name(number)
            _move(d, tmp / name)
            state.entries.append({"name": name, "doc_count": int(m["doc_count"])})
            state.deleted[name] = set()
            state.seg_manifests[name] = m
        manifest = _commit(state, cleanup=False)
    logger.info("committed %d segments, %d documents -> %s", len(checked), manifest["doc_count"], path)
    return manifest


def compact(path: str | os.PathLike, *, show_progress: bool | None = False) -> dict[str, Any]:
    """Merge all segments of the index at ``path`` into one, dropping deleted documents; returns the manifest.

    Retrievers that can merge their arrays (``merge_segments``: bm25 from term frequencies,
    dense from vectors) do so; the others (splade) re-index the stored documents' text, and
    refuse with :class:`InputError` when the index keeps no text (``store_text=false``).
    Search results are the same before and after. A plain or already compact index is left
    as it is. Crash-safe like :func:`append`: the old segments go only after the commit.
    """
    path = Path(path)
    store.read_manifest(path)
    with _writer_lock(path):
        return _compact(path, show_progress=show_progress)


def _compact(path: Path, *, show_progress: bool | None) -> dict[str, Any]:
    state = _State(path)
    if not state.segmented or (len(state.entries) == 1 and not state.deleted[state.entries[0]["name"]]):
        logger.info("%s: already one segment without deletions; nothing to compact", path)
        return state.manifest
    _cleanup(path, state.manifest)
    index = SegmentedIndex.load(path, mmap=True)
    merger = getattr(state.cls, "merge_segments", None)
    if merger is not None:
        merged = merger(index.segments, index.deleted)
    else:
        if not index.docs.has_text:
            raise InputError(
                f"{path}: compacting a {state.cls.name} index re-indexes the documents' text, which this index does "
                "not keep (store_text=false); rebuild it from the corpus (xlir index --overwrite) instead"
            )
        from xlir.params import make_params

        merged = state.cls(make_params(state.cls.Params, state.seg_manifests[state.entries[0]["name"]]["params"]))
        merged.index(iter(index.docs), show_progress=show_progress)
    name = segment_name(state.next_number())
    target = path / name
    merged.save(target)
    first = state.seg_manifests[state.entries[0]["name"]]
    carried = {k: first[k] for k in ("translation",) if k in first}  # what a wrapper added to the segments' manifests
    if carried:
        _stamp(target, carried)
    state.entries = [{"name": name, "doc_count": merged.doc_count}]
    state.seg_manifests = {name: store.read_manifest(target)}
    state.deleted = {name: set()}
    manifest = _commit(state)
    logger.info("%s: compacted into %s (%d documents)", path, name, merged.doc_count)
    return manifest


def _commit(state: _State, *, cleanup: bool = True) -> dict[str, Any]:
    """Write changed deletion lists, then the top manifest (the commit point), then clean up."""
    path = state.path
    old = state.manifest if is_segmented(state.manifest) else {}
    generation = int(old.get("generation", 0)) + 1
    files: dict[str, Any] = {}
    segments = []
    languages: set[str] = set()
    for entry in state.entries:
        name = entry["name"]
        dead = state.deleted.get(name, set())
        out = {"name": name, "doc_count": int(entry["doc_count"]), "deleted": len(dead)}
        if dead:
            fname = entry.get("deletes") if name not in state.changed else None
            if not fname:
                fname = f"{DELETES_DIR}/{name}.g{generation:06d}.txt"
                (path / DELETES_DIR).mkdir(exist_ok=True)
                order = {d: i for i, d in enumerate(store.load_lines(path / name, "docids.txt"))}
                files[fname] = store.save_lines(path, fname, sorted(dead, key=order.__getitem__))
            else:
                files[fname] = old["files"][fname]
            out["deletes"] = fname
        segments.append(out)
        languages.update(state.seg_manifests[name].get("languages") or [])
    first = state.seg_manifests[state.entries[0]["name"]] if state.entries else {}
    carried = {k: first[k] for k in _CARRIED if k in first}
    kept = {k: v for k, v in state.manifest.items() if k not in _OWN_KEYS and k not in _CARRIED}
    params = first.get("params", state.manifest.get("params"))
    manifest = store.write_manifest(
        path,
        retriever=state.manifest["retriever"],
        params=params,
        doc_count=sum(s["doc_count"] - s["deleted"] for s in segments),
        files=files,
        languages=sorted(languages),
        **{**kept, **carried},
        segmented=True,
        generation=generation,
        segments=segments,
    )
    state.manifest = manifest
    if cleanup:
        _cleanup(path, manifest)
    return manifest


def _cleanup(path: Path, manifest: dict[str, Any]) -> None:
    """Remove what the manifest does not list (leftovers of interrupted writes, replaced segments).

    In a plain index only segment-shaped leftovers are removed; its own files stay.
    """
    listed_files = set(manifest.get("files", {}))
    if is_segmented(manifest):
        keep = {store.MANIFEST, LOCK} | {e["name"] for e in manifest["segments"]} | {n.split("/")[0] for n in listed_files}
        doomed = [c for c in path.iterdir() if c.name not in keep]
    else:
        doomed = [c for c in path.iterdir() if c.name.startswith((SEGMENT_PREFIX, f".{SEGMENT_PREFIX}")) or c.name == DELETES_DIR]
    deletes = path / DELETES_DIR
    if is_segmented(manifest) and deletes.is_dir():
        doomed += [c for c in deletes.iterdir() if f"{DELETES_DIR}/{c.name}" not in listed_files]
    for child in doomed:
        logger.debug("removing %s (not in the manifest)", child)
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


@contextlib.contextmanager
def _writer_lock(path: Path) -> Iterator[None]:
    """One writer per index: an advisory lock on ``INDEX/.lock``, released by the OS if the process dies."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    with open(path / LOCK, "a") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise XlirError(f"{path}: another process is writing to this index (append, upsert or compact); try again when it is done") from None
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)  # index files are never modified in place, so sharing them is safe
    except OSError:
        shutil.copy2(src, dst)


def _link_plain_into_segment(path: Path, target: Path) -> None:
    """Hard-link a plain index's files into ``target`` (built under a temporary name)."""
    tmp = path / f".{target.name}.tmp-convert"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    for child in path.iterdir():
        if child.name.startswith((".", SEGMENT_PREFIX)) or child.name == DELETES_DIR:
            continue
        if child.is_dir():
            shutil.copytree(child, tmp / child.name, copy_function=_link_or_copy)
        else:
            _link_or_copy(str(child), str(tmp / child.name))
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)


def _move(src: Path, dst: Path) -> None:
    try:
        os.replace(src, dst)
    except OSError:  # another file system
        shutil.move(str(src), str(dst))


def _stamp(folder: Path, fields: dict[str, Any]) -> None:
    # add fields to a not-yet-listed segment's manifest (atomic replace)
    manifest = store.read_manifest(folder, check_files=False)
    manifest.update(fields)
    tmp = folder / (store.MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, folder / store.MANIFEST)
