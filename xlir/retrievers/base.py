"""Shared machinery for retrievers that persist to an xlir index folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

from xlir import store
from xlir.docstore import DocStore, DocStoreWriter  # noqa: F401
from xlir.errors import IndexFormatError, XlirError
from xlir.params import make_params, params_or_kwargs, params_to_dict

logger = logging.getLogger(__name__)


class NotIndexedError(XlirError, RuntimeError):
    """search()/save() called before index() or load()."""


class IndexedRetriever:
    """Template for retrievers: params handling, doc store, atomic save, manifest-driven load.

    Subclasses set ``name`` and ``Params`` and implement ``_save_arrays``/``_load_arrays``.
    """

    name: ClassVar[str]
    Params: ClassVar[type]

    def __init__(self, params: Any = None, **kwargs: Any):
        self.params = params_or_kwargs(self.Params, params, kwargs)
        self.docs: DocStore | None = None
        self.manifest: dict[str, Any] | None = None
        self.languages: list[str] = []

    @property
    def doc_count(self) -> int:
        return 0 if self.docs is None else len(self.docs)

    def _require_index(self) -> None:
        if self.docs is None:
            raise NotIndexedError(f"{self.name}: call index() or load() first")

    def _new_docstore(self) -> DocStoreWriter:
        return DocStoreWriter(keep_text=getattr(self.params, "store_text", True))

    def _finish_docstore(self, writer: DocStoreWriter) -> None:
        self.docs = writer.to_store()
        self.languages = sorted(writer.languages)

    # -- persistence -----------------------------------------------------------------
    def manifest_extra(self) -> dict[str, Any]:
        return {}

    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Write the index to ``path`` atomically. Raises IndexExistsError unless ``overwrite``."""
        self._require_index()
        with store.atomic_index_dir(path, overwrite=overwrite) as tmp:
            files = self.docs.save(tmp)
            files.update(self._save_arrays(tmp))
            self.manifest = store.write_manifest(
                tmp,
                retriever=self.name,
                params=params_to_dict(self.params),
                doc_count=self.doc_count,
                languages=self.languages,
                files=files,
                **self.manifest_extra(),
            )
        logger.info("saved %s index of %d documents to %s", self.name, self.doc_count, path)

    @classmethod
    def load(cls, path: str | Path, *, mmap: bool = True):
        """Load an index written by :meth:`save`, memory-mapping its arrays."""
        path = Path(path)
        manifest = store.read_manifest(path)
        if manifest["retriever"] != cls.name:
            raise IndexFormatError(f"{path}: index was built by {manifest['retriever']!r}, not {cls.name!r}")
        if manifest.get("segmented"):
            raise IndexFormatError(
                f"{path}: a segmented index; load it with xlir.load_index (or xlir.segments.SegmentedIndex.load), "
                f"or each segment folder with {cls.__name__}.load"
            )
        self = cls(make_params(cls.Params, manifest["params"]))
        self.manifest = manifest
        self.languages = list(manifest.get("languages", []))
        self.docs = DocStore.load(path, mmap=mmap)
        if len(self.docs) != manifest["doc_count"]:
            raise IndexFormatError(f"{path}: corrupt index (docids.txt has {len(self.docs)} ids, manifest says {manifest['doc_count']})")
        self._load_arrays(path, manifest, mmap=mmap)
        return self

    # -- segments (see xlir.segments: append, upsert, compact, sharded search) -------------
    #: whether an index of this retriever may hold several segments
    supports_segments: ClassVar[bool] = False
    #: why not, when it may not (the error of ``xlir index --append`` quotes it)
    segments_unsupported: ClassVar[str] = "it has not been made segment-aware"
    #: params that change only search or speed; segments built with other values combine
    runtime_params: ClassVar[tuple[str, ...]] = ()

    def collection_stats(self, deleted_rows: Any = None) -> dict | None:
        """Corpus statistics this segment contributes to scoring, without ``deleted_rows``
        (None: its scores depend on no statistics of the collection)."""
        return None

    @classmethod
    def combine_stats(cls, stats: list[dict]) -> dict | None:
        """The collection's statistics from its segments' :meth:`collection_stats`."""
        return None

    def set_global_stats(self, stats: dict | None) -> None:
        """Score with the collection's statistics from now on (None: this segment's own)."""

    def encode_queries(self, queries: Any) -> Any:
        """Queries in the form :meth:`search_encoded` takes, computed once for all segments."""
        return None

    def search_encoded(self, queries: Any, encoded: Any, k: int) -> Any:
        """:meth:`search` with the output of :meth:`encode_queries` (of any segment of the index)."""
        return self.search(queries, k)

    def _save_arrays(self, folder: Path) -> dict[str, dict]:
        raise NotImplementedError

    def _load_arrays(self, folder: Path, manifest: dict, *, mmap: bool) -> None:
        raise NotImplementedError
