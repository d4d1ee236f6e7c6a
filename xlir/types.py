"""Core data types: documents, queries, runs and relevance judgments.

A :data:`Run` and :data:`Qrels` are plain nested dicts so that ir_measures, pytrec_eval
and ranx accept them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict

__all__ = ["Doc", "Query", "Run", "Qrels"]

#: qid -> docid -> score
Run = Dict[str, Dict[str, float]]
#: qid -> docid -> relevance grade
Qrels = Dict[str, Dict[str, int]]


@dataclass(frozen=True)
class Doc:
    """A document: ``id`` and ``text`` are required; ``title`` and ``lang`` are optional."""

    id: str
    text: str
    title: str = ""
    lang: str | None = None
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def contents(self) -> str:
        """Title and text joined, the field retrievers index."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True)
class Query:
    """A query: ``id`` and ``text``; ``lang`` is optional."""

    id: str
    text: str
    lang: str | None = None
