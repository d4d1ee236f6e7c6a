"""The protocols every component implements. Everything is batch-first."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Iterable, Protocol, Sequence, runtime_checkable

import numpy as np

from xlir.types import Doc, Query, Run

__all__ = ["Retriever", "Reranker", "Translator", "Encoder"]


@runtime_checkable
class Retriever(Protocol):
    """Indexes documents and answers queries; persists to a folder with a manifest."""

    name: ClassVar[str]

    def index(self, docs: Iterable[Doc], *, show_progress: bool | None = False) -> None: ...

    def search(self, queries: Sequence[Query], k: int = 100, *, show_progress: bool | None = False) -> Run: ...

    def save(self, path: Path, *, overwrite: bool = False) -> None: ...

    @classmethod
    def load(cls, path: Path, *, mmap: bool = True) -> "Retriever": ...


@runtime_checkable
class Reranker(Protocol):
    """Rescores the top ``depth`` documents of each query in a run."""

    name: ClassVar[str]

    def rerank(
        self,
        queries: Sequence[Query],
        run: Run,
        docs: "DocLookup",
        *,
        depth: int = 100,
        show_progress: bool | None = False,
    ) -> Run: ...


class DocLookup(Protocol):
    def __getitem__(self, docid: str) -> Doc: ...


@runtime_checkable
class Translator(Protocol):
    """Translates texts from ``src`` to ``tgt`` language (ISO 639-1 codes)."""

    name: ClassVar[str]

    def translate(self, texts: Sequence[str], *, src: str, tgt: str) -> list[str]: ...


@runtime_checkable
class Encoder(Protocol):
    """Maps texts to L2-normalizable dense vectors, queries and documents separately."""

    name: ClassVar[str]
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_docs(self, texts: Sequence[str]) -> np.ndarray: ...
