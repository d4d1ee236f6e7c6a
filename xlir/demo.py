"""The offline demo: a small multilingual sample corpus written for xlir, indexed and searched."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from xlir.types import Doc, Qrels, Query

DEMO_LANGS = ("en", "fr", "de", "es")


def _data(name: str) -> Path:
    return Path(str(resources.files("xlir") / "data" / "demo" / name))


def demo_docs() -> list[Doc]:
    """32 short documents: 8 topics, each written in English, French, German and Spanish."""
    from xlir.io import read_corpus

    return list(read_corpus(_data("docs.jsonl")))


def demo_queries() -> list[Query]:
    """Same-language queries whose id starts with their language code (``fr-solar``)."""
    from xlir.io import read_queries

    return [Query(q.id, q.text, q.id.split("-")[0]) for q in read_queries(_data("queries.tsv"))]


def demo_qrels() -> Qrels:
    """Grade 2: the topic's document in the query's language; 1: the same topic in another language."""
    from xlir.io import read_qrels

    return read_qrels(_data("qrels.txt"))


def crosslingual_queries() -> list[Query]:
    """English queries, one per topic, for search over the French/German/Spanish documents."""
    from xlir.io import read_queries

    return read_queries(_data("queries_en.tsv"), lang="en")


def crosslingual_qrels() -> Qrels:
    from xlir.io import read_qrels

    return read_qrels(_data("qrels_en.txt"))
