"""Shared machinery for retrievers that persist to an xlir index folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

from xlir import store
from xlir.docstore import DocStore, DocStoreWriter  # noqa: F401
from xlir.errors import IndexFormatError, XlirError
from xlir.params import make_params, params_to_dict

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
        if params is not None and kwargs:
            raise TypeError("pass either a params object or keyword parameters, not both")
        self.params = params if params is not None else make_params(self.Params, kwargs)
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
        self = cls(make_params(cls.Params, manifest["params"]))
        self.manifest = manifest
        self.languages = list(manifest.get("languages", []))
        self.docs = DocStore.load(path, mmap=mmap)
        if len(self.docs) != manifest["doc_count"]:
            raise IndexFormatError(f"{path}: corrupt index (docids.txt has {len(self.docs)} ids, manifest says {manifest['doc_count']})")
        self._load_arrays(path, manifest, mmap=mmap)
        return self

    def _save_arrays(self, folder: Path) -> dict[str, dict]:
        raise NotImplementedError

    def _load_arrays(self, folder: Path, manifest: dict, *, mmap: bool) -> None:
        raise NotImplementedError
