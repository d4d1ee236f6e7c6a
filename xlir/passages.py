"""Long documents as passages (MaxP): split at index time, roll passage scores up to documents.

:class:`PassageRetriever` wraps any retriever. At index time each document is split into
windows of ``words`` whitespace-separated words every ``stride`` words, indexed as
``<docid><sep><n>`` (n from 0); a ``passages`` block in the manifest records the split.
At search time it retrieves ``k * factor`` passages (more, until ``k`` documents are found
or every passage is ranked) and gives each document the score of its best passage (MaxP,
Dai & Callan 2019). :func:`xlir.store.load_index` wraps an index with a ``passages`` block
again, so a loaded passage index answers with document ids.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from xlir.errors import InputError, ParamError
from xlir.types import Doc, Query, Run

__all__ = ["PassageRetriever", "split_passages", "maxp", "DEFAULT_SEP"]

logger = logging.getLogger(__name__)

DEFAULT_SEP = "#p"


def split_passages(text: str, words: int, stride: int) -> list[str]:
    """Windows of ``words`` words starting every ``stride`` words; the last window ends at the
    last word (a text of at most ``words`` words is one passage; an empty text one empty passage)."""
    if words < 1 or stride < 1:
        raise ParamError(f"passage words and stride must be >= 1; got {words}, {stride}")
    if stride > words:
        raise ParamError(f"passage stride {stride} > words {words} would skip text")
    tokens = text.split()
    if len(tokens) <= words:
        return [" ".join(tokens)]
    out = []
    for start in range(0, len(tokens), stride):
        out.append(" ".join(tokens[start : start + words]))
        if start + words >= len(tokens):
            break
    return out


def maxp(run: Run, sep: str, k: int | None = None) -> Run:
    """Document run from a passage run: each document scores its best passage's score."""
    out: Run = {}
    for qid, ranking in run.items():
        best: dict[str, float] = {}
        for pid, score in ranking.items():
            doc = pid.rsplit(sep, 1)[0]
            if doc not in best or score > best[doc]:
                best[doc] = score
        items = sorted(best.items(), key=lambda x: (-x[1], x[0]))
        out[qid] = dict(items[:k] if k else items)
    return out


def _innermost(retriever: Any) -> Any:
    while hasattr(retriever, "__dict__") and "retriever" in vars(retriever):
        retriever = vars(retriever)["retriever"]
    return retriever


class PassageDocs:
    """Documents rebuilt from their passages: ``docs[docid]``, ``docid in docs``, ``len``, ``ids``."""

    def __init__(self, passages: Any, sep: str, stride: int, words: int):
        self.passages, self.sep, self.stride, self.words = passages, sep, stride, words
        self._groups: dict[str, list[str]] | None = None

    @property
    def groups(self) -> dict[str, list[str]]:
        if self._groups is None:
            groups: dict[str, list[str]] = {}
            for pid in self.passages.ids:
                groups.setdefault(pid.rsplit(self.sep, 1)[0], []).append(pid)
            self._groups = groups
        return self._groups

    @property
    def ids(self) -> list[str]:
        return list(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    def __contains__(self, docid: str) -> bool:
        return docid in self.groups

    def __getitem__(self, docid: str) -> Doc:
        parts = [self.passages[p] for p in self.groups[docid]]
        words = parts[0].text.split()
        for i, part in enumerate(parts[1:], start=1):
            # passage i covers words [i*stride, i*stride + words): append what is new in it
            words += part.text.split()[len(words) - i * self.stride :]
        first = parts[0]
        return Doc(id=docid, text=" ".join(words), title=first.title, lang=first.lang)

    def __iter__(self) -> Iterator[Doc]:
        for docid in self.groups:
            yield self[docid]


class PassageRetriever:
    """MaxP over any retriever (see the module docstring). Other attributes are the wrapped one's."""

    def __init__(self, retriever: Any, *, words: int = 200, stride: int = 100, sep: str = DEFAULT_SEP,
                 factor: int = 4):
        split_passages("", words, stride)  # validates
        if not sep or any(c.isspace() for c in sep):
            raise ParamError(f"passage separator must be non-empty without whitespace; got {sep!r}")
        if factor < 1:
            raise ParamError(f"factor must be >= 1; got {factor}")
        self.retriever = retriever
        self.words, self.stride, self.sep, self.factor = words, stride, sep, factor
        self.passage_count: int | None = None

    @classmethod
    def from_manifest(cls, retriever: Any, block: dict) -> "PassageRetriever":
        self = cls(retriever, words=int(block["words"]), stride=int(block["stride"]), sep=block["sep"])
        self.passage_count = int(block.get("passages", 0)) or None
        return self

    @property
    def name(self) -> str:
        return self.retriever.name

    def __getattr__(self, attr: str) -> Any:
        if attr == "retriever":
            raise AttributeError(attr)
        return getattr(self.retriever, attr)

    def block(self) -> dict:
        return {"words": self.words, "stride": self.stride, "sep": self.sep, "aggregation": "max",
                "passages": self.passage_count, "documents": self.doc_count}

    @property
    def doc_count(self) -> int:
        return len(self.docs)

    @property
    def docs(self) -> PassageDocs:
        return PassageDocs(self.retriever.docs, self.sep, self.stride, self.words)

    # -- indexing -------------------------------------------------------------------------
    def passages(self, docs: Iterable[Doc]) -> Iterator[Doc]:
        """The passages of ``docs`` as documents ``<docid><sep><n>`` (title and lang kept)."""
        for doc in docs:
            if self.sep in doc.id:
                raise InputError(f"document id {doc.id!r} contains the passage separator {self.sep!r}; "
                                 "choose another separator (passage_sep)")
            for n, text in enumerate(split_passages(doc.text, self.words, self.stride)):
                yield Doc(id=f"{doc.id}{self.sep}{n}", text=text, title=doc.title, lang=doc.lang, meta=doc.meta)

    def index(self, docs: Iterable[Doc], *, show_progress: bool | None = False, **kwargs: Any) -> None:
        """Split ``docs`` into passages and index those with the wrapped retriever."""
        count = 0

        def counted() -> Iterator[Doc]:
            nonlocal count
            for p in self.passages(docs):
                count += 1
                yield p

        self.retriever.index(counted(), show_progress=show_progress, **kwargs)
        self.passage_count = count
        logger.info("indexed %d passages of %d documents", count, self.doc_count)

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> None:
        """Save the wrapped index with the ``passages`` block in its manifest (written last)."""
        inner = _innermost(self.retriever)
        original = getattr(inner, "manifest_extra", None)
        block = self.block()
        if original is None:
            self.retriever.save(path, overwrite=overwrite)
            _add_to_manifest(Path(path), block)
            return
        inner.manifest_extra = lambda: {**original(), "passages": block}
        try:
            self.retriever.save(path, overwrite=overwrite)
        finally:
            inner.__dict__.pop("manifest_extra", None)

    # -- search ---------------------------------------------------------------------------
    def search(self, queries: Sequence[Query], k: int = 100, *, show_progress: bool | None = False) -> Run:
        """Top-``k`` documents per query, each scored by its best passage."""
        if k < 1:
            raise ParamError(f"k must be >= 1, got {k}")
        total = self.passage_count or len(self.retriever.docs)
        depth = min(k * self.factor, total)
        todo = list(queries)
        out: Run = {}
        while todo:
            run = maxp(self.retriever.search(todo, k=depth, show_progress=show_progress), self.sep, k)
            short = []
            for q in todo:
                ranking = run.get(q.id, {})
                out[q.id] = ranking
                if len(ranking) < k and depth < total:
                    short.append(q)
            todo, depth = short, min(depth * 2, total)
        return {q.id: out[q.id] for q in queries}

    def __repr__(self) -> str:
        return f"PassageRetriever({self.retriever!r}, words={self.words}, stride={self.stride})"


def _add_to_manifest(path: Path, block: dict) -> None:
    import json

    from xlir.io import atomic_write_text
    from xlir.store import MANIFEST, read_manifest

    manifest = read_manifest(path, check_files=False)
    manifest["passages"] = block
    atomic_write_text(path / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
