"""A memory-mapped document store kept inside an index (ids, titles, texts, languages).

Rerankers and ``xlir search --query`` need the text of retrieved documents, so every
index keeps them: one UTF-8 JSON record per document concatenated in ``docs.bin`` with
``docs_offsets.npy`` pointing at each record. Readable without xlir.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import numpy as np

from xlir import store
from xlir.errors import InputError
from xlir.types import Doc


class DocStoreWriter:
    """Collects documents in order and checks ids (non-empty, unique, no whitespace)."""

    def __init__(self, *, keep_text: bool = True):
        self.keep_text = keep_text
        self.ids: list[str] = []
        self._seen: dict[str, int] = {}
        self._chunks: list[bytes] = []
        self._offsets = [0]
        self.languages: set[str] = set()

    def add(self, doc: Doc) -> int:
        """Record ``doc``; returns its row number."""
        docid = doc.id
        if not isinstance(docid, str) or not docid.strip():
            raise InputError(f"empty document id at document #{len(self.ids) + 1}")
        if any(c.isspace() for c in docid):
            raise InputError(f"document id {docid!r} contains whitespace, which TREC run files cannot hold")
        if docid in self._seen:
            raise InputError(f"duplicate document id {docid!r} (documents #{self._seen[docid] + 1} and #{len(self.ids) + 1})")
        row = len(self.ids)
        self._seen[docid] = row
        self.ids.append(docid)
        if doc.lang:
            self.languages.add(doc.lang)
        if self.keep_text:
            rec = {"id": docid, "title": doc.title, "text": doc.text}
            if doc.lang:
                rec["lang"] = doc.lang
            b = json.dumps(rec, ensure_ascii=False).encode("utf-8")
            self._chunks.append(b)
            self._offsets.append(self._offsets[-1] + len(b))
        return row

    def __len__(self) -> int:
        return len(self.ids)

    def to_store(self) -> "DocStore":
        """An in-memory :class:`DocStore` over what was added."""
        if not self.keep_text:
            return DocStore(list(self.ids))
        data = np.frombuffer(b"".join(self._chunks), dtype=np.uint8)
        return DocStore(list(self.ids), data, np.asarray(self._offsets, dtype=np.int64))


class DocStore:
    """Read side: ``ids`` in row order, ``store[docid]`` / ``store.get_row(i)`` -> :class:`Doc`."""

    def __init__(self, ids: list[str], data=None, offsets=None):
        self.ids = ids
        self._data = data
        self._offsets = offsets
        self._rows: dict[str, int] | None = None

    @classmethod
    def load(cls, folder: Path, *, mmap: bool = True) -> "DocStore":
        ids = store.load_lines(folder, "docids.txt")
        data = offsets = None
        if (folder / "docs.bin").exists():
            offsets = store.load_array(folder, "docs_offsets.npy", mmap=mmap)
            if (folder / "docs.bin").stat().st_size == 0:
                data = np.zeros(0, dtype=np.uint8)
            elif mmap:
                data = np.memmap(folder / "docs.bin", dtype=np.uint8, mode="r")
            else:
                data = np.fromfile(folder / "docs.bin", dtype=np.uint8)
        return cls(ids, data, offsets)

    def save(self, folder: Path) -> dict[str, dict]:
        """Write ``docids.txt`` (and ``docs.bin`` + offsets when texts are kept) into ``folder``."""
        files = {"docids.txt": store.save_lines(folder, "docids.txt", self.ids)}
        if self._data is not None:
            with open(folder / "docs.bin", "wb") as f:
                f.write(memoryview(np.ascontiguousarray(self._data)).cast("B") if len(self._data) else b"")
            files["docs.bin"] = {"kind": "bytes", "bytes": (folder / "docs.bin").stat().st_size}
            files["docs_offsets.npy"] = store.save_array(
                folder, "docs_offsets.npy", np.asarray(self._offsets, dtype=np.int64)
            )
        return files

    @property
    def has_text(self) -> bool:
        return self._data is not None

    @property
    def rows(self) -> dict[str, int]:
        if self._rows is None:
            self._rows = {d: i for i, d in enumerate(self.ids)}
        return self._rows

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, docid: str) -> bool:
        return docid in self.rows

    def get_row(self, row: int) -> Doc:
        if self._data is None:
            return Doc(id=self.ids[row], text="")
        start, end = int(self._offsets[row]), int(self._offsets[row + 1])
        rec = json.loads(bytes(self._data[start:end]).decode("utf-8"))
        return Doc(id=rec["id"], text=rec["text"], title=rec.get("title", ""), lang=rec.get("lang"))

    def __getitem__(self, docid: str) -> Doc:
        return self.get_row(self.rows[docid])

    def __iter__(self) -> Iterator[Doc]:
        for i in range(len(self.ids)):
            yield self.get_row(i)
