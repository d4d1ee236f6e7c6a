"""xlir: cross-lingual information retrieval.

Importing this package loads no heavy library (torch, faiss, transformers, pyserini).
"""

from __future__ import annotations

__version__ = "0.1.0"

from xlir.errors import (  # noqa: E402
    IndexExistsError,
    IndexFormatError,
    InputError,
    MissingDependencyError,
    UnknownComponentError,
    UnknownLanguageError,
    XlirError,
)
from xlir.types import Doc, Qrels, Query, Run  # noqa: E402

__all__ = [
    "__version__",
    "Doc",
    "Query",
    "Run",
    "Qrels",
    "XlirError",
    "InputError",
    "IndexFormatError",
    "IndexExistsError",
    "UnknownLanguageError",
    "UnknownComponentError",
    "MissingDependencyError",
    "load_index",
    "get_retriever",
]


def load_index(path, *, mmap: bool = True):
    """Load the index at ``path``, dispatching on its manifest's ``retriever``."""
    from xlir.store import load_index as _load

    return _load(path, mmap=mmap)


def get_retriever(name: str, **params):
    """Create a retriever by registry name with the given parameters."""
    from xlir.registry import RETRIEVERS

    return RETRIEVERS.create(name, **params)
