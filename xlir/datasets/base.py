"""The shape every collection loader returns, and the shared export and consistency checks.

A :class:`Collection` is documents, queries and graded judgments, with a name and the
languages of each side. ``write_collection`` exports one as ``docs.jsonl``,
``queries.tsv`` and ``qrels.txt``, the files ``xlir index/search/eval`` read.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from xlir.errors import IndexExistsError
from xlir.io import write_corpus, write_qrels, write_queries
from xlir.types import Doc, Qrels, Query

__all__ = ["Collection", "CollectionInfo", "CATALOGUE", "output_paths", "write_collection", "check_joins"]

logger = logging.getLogger(__name__)

#: How many ids a warning quotes before "...".
_QUOTE = 5


@dataclass(frozen=True)
class Collection:
    """A retrieval test collection: documents, queries and their graded qrels.

    ``name`` identifies the variant (e.g. ``xquad-r/en-de``, ``hc4/fa/test/en.title``);
    ``queries_lang`` and ``docs_lang`` are ISO 639-1 codes, ``"pooled"`` (XQuAD-R, every
    language) or ``None`` when unknown.
    """

    docs: list[Doc]
    queries: list[Query]
    qrels: Qrels
    name: str
    queries_lang: str | None
    docs_lang: str | None


@dataclass(frozen=True)
class CollectionInfo:
    """One line of ``xlir datasets list``: what a collection is and what loading it needs."""

    name: str
    description: str
    needs: str
    modules: tuple[str, ...] = ()  # optional packages it may import


CATALOGUE: tuple[CollectionInfo, ...] = (
    CollectionInfo(
        "xquad-r",
        "XQuAD-R (LAReQA): questions -> paragraphs, 11 languages, en->X, X->X or pooled",
        "--data FOLDER of {ar,de,...,zh}.json (github.com/google-research-datasets/lareqa, xquad-r/)",
    ),
    CollectionInfo(
        "clirudit",
        "CLIRudit: English keyword queries -> French (or the English version of the same) scientific abstracts",
        "--data: a folder with the Hub repo's parquet files (docs/, queries/, qrels/), or the Hub name "
        "ftvalentini/clirudit when online",
        ("pyarrow", "huggingface_hub"),
    ),
    CollectionInfo(
        "hc4",
        "HC4: English topics -> Persian, Russian or Chinese Common Crawl news",
        "--data FOLDER of {split}.topics.v1-0.jsonl and {fas,rus,zho}/{split}.qrels.v1-0.txt (github.com/hltcoe/HC4, "
        "resources/hc4/), or hc4/LANG/SPLIT with ir_datasets; --docs hc4_docs.jsonl from HC4's download script",
        ("ir_datasets",),
    ),
    CollectionInfo(
        "beir",
        "any BEIR-style folder",
        "--data FOLDER with corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv",
    ),
)


def output_paths(out_dir: str | os.PathLike, *, overwrite: bool = False) -> dict[str, Path]:
    """The three export paths in ``out_dir``; raises :class:`IndexExistsError` if one exists and not ``overwrite``.

    Call it before loading, so that a long load is not wasted on an output that cannot be written.
    """
    out = Path(out_dir)
    paths = {"docs": out / "docs.jsonl", "queries": out / "queries.tsv", "qrels": out / "qrels.txt"}
    existing = [p.name for p in paths.values() if p.exists()]
    if existing and not overwrite:
        raise IndexExistsError(f"{out}: {', '.join(existing)} already exist(s); pass overwrite=True to replace")
    return paths


def write_collection(
    collection: Collection,
    out_dir: str | os.PathLike,
    *,
    overwrite: bool = False,
    docs: Iterable[Doc] | None = None,
) -> dict[str, Path]:
    """Write ``collection`` as ``docs.jsonl``, ``queries.tsv`` and ``qrels.txt`` in ``out_dir``.

    ``docs`` replaces ``collection.docs`` (a stream, for corpora too large to hold in
    memory). ``out_dir`` is created if needed; each file is written atomically. Returns
    ``{"docs": path, "queries": path, "qrels": path}``. Raises :class:`IndexExistsError`
    if a file exists and ``overwrite`` is false, ``ValueError`` for a duplicate id.
    """
    paths = output_paths(out_dir, overwrite=overwrite)
    paths["docs"].parent.mkdir(parents=True, exist_ok=True)
    write_corpus(collection.docs if docs is None else docs, paths["docs"])
    write_queries(collection.queries, paths["queries"])
    write_qrels(collection.qrels, paths["qrels"])
    logger.info("exported %s to %s", collection.name, paths["docs"].parent)
    return paths


def _quote(ids: list[str]) -> str:
    shown = ", ".join(ids[:_QUOTE])
    return shown + (", ..." if len(ids) > _QUOTE else "")


def check_joins(name: str, doc_ids: Iterable[str] | None, queries: list[Query], qrels: Qrels) -> dict[str, int]:
    """Log a warning for each way ``queries``/``qrels``/documents do not join up; return the counts.

    Real collections have such gaps (documents taken down since judging, query files
    shared between splits), so they are warnings, not errors: judged documents missing
    from the corpus, judgments for unknown queries, queries without judgments. ``doc_ids``
    ``None`` skips the document check. Returns ``{"missing_docs": n, "unknown_queries": n,
    "unjudged_queries": n}``.
    """
    qids = {q.id for q in queries}
    unknown = [q for q in qrels if q not in qids]
    unjudged = [q.id for q in queries if q.id not in qrels]
    if unknown:
        logger.warning("%s: %d judged queries are not among the queries: %s", name, len(unknown), _quote(unknown))
    if unjudged:
        logger.warning("%s: %d queries have no judgments: %s", name, len(unjudged), _quote(unjudged))
    missing: list[str] = []
    if doc_ids is not None:
        have = doc_ids if isinstance(doc_ids, (set, frozenset)) else set(doc_ids)
        judged = sorted({d for rels in qrels.values() for d in rels})
        missing = [d for d in judged if d not in have]
        if missing:
            logger.warning(
                "%s: %d of %d judged documents are not in the corpus (%d docs): %s",
                name, len(missing), len(judged), len(have), _quote(missing),
            )
    return {"missing_docs": len(missing), "unknown_queries": len(unknown), "unjudged_queries": len(unjudged)}


def collect_ids(docs: Iterable[Doc], into: set[str]) -> Iterator[Doc]:
    """Yield ``docs`` unchanged, adding each id to ``into`` (to check joins while streaming)."""
    for doc in docs:
        into.add(doc.id)
        yield doc
