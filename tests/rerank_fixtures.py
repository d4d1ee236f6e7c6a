"""A small deterministic reranker for tests of the pipeline and the bench grid.

``term-overlap[:FIELD]`` scores each of the top ``depth`` documents by how many distinct
query words (lower-cased ``\\w+``) its FIELD (contents, title or text) contains; the
documents below ``depth`` keep their order, below every reranked one (the Reranker
contract). Register it with the ``term_overlap`` fixture of the tests that use it.
"""

from __future__ import annotations

import re

from xlir.errors import ParamError

_WORD = re.compile(r"\w+")


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def ranked(docs: dict) -> list[tuple[str, float]]:
    return sorted(docs.items(), key=lambda x: (-x[1], x[0]))


class TermOverlapReranker:
    name = "term-overlap"

    def __init__(self, field: str = "contents", *, bonus: float = 0.0):
        if field not in ("contents", "title", "text"):
            raise ParamError(f"field must be contents, title or text, got {field!r}")
        self.field = field
        self.bonus = float(bonus)
        self.calls = []

    def describe(self) -> dict:
        return {"name": self.name, "field": self.field, "bonus": self.bonus}

    def rerank(self, queries, run, docs, *, depth=100, show_progress=False):
        self.calls.append((list(queries), depth))
        out = {}
        for q in queries:
            hits = ranked(run.get(q.id, {}))
            top, tail = hits[:depth], hits[depth:]
            qw = words(q.text)
            scores = {d: len(qw & words(getattr(docs[d], self.field))) + self.bonus for d, _ in top}
            floor = min(scores.values(), default=0.0)
            for i, (d, _) in enumerate(tail, 1):
                scores[d] = floor - i
            out[q.id] = scores
        return out
