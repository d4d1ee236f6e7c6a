"""Any collection on disk: a corpus, queries and TREC qrels, or a BEIR-style folder.

A BEIR folder (github.com/beir-cellar/beir) holds::

    corpus.jsonl      {"_id", "title", "text", "metadata"}        (.jsonl.gz too)
    queries.jsonl     {"_id", "text", "metadata"}, every split's queries
    qrels/{split}.tsv query-id<TAB>corpus-id<TAB>score, after that header line
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from xlir.datasets.base import Collection, check_joins, output_paths, write_collection
from xlir.errors import InputError
from xlir.io import read_corpus, read_qrels, read_queries
from xlir.io._files import check_readable, iter_lines
from xlir.types import Qrels

__all__ = ["load_files", "load_beir", "read_beir_qrels", "export_beir"]

logger = logging.getLogger(__name__)

_BEIR_HEADER = ("query-id", "corpus-id", "score")
_INT = re.compile(r"[+-]?[0-9]+")


def _lang(code: str | None) -> str | None:
    if code is None:
        return None
    from xlir.analysis import normalize_lang

    return normalize_lang(code)


def load_files(
    corpus: str | os.PathLike,
    queries: str | os.PathLike,
    qrels: str | os.PathLike,
    *,
    name: str | None = None,
    docs_lang: str | None = None,
    queries_lang: str | None = None,
) -> Collection:
    """Load a collection from a corpus, a queries file and a TREC qrels file.

    ``corpus`` is JSONL or TSV as :func:`xlir.io.read_corpus` reads it, ``queries`` TSV or
    JSONL as :func:`xlir.io.read_queries` reads it, ``qrels`` TREC ``qid iter docid rel``.
    ``docs_lang``/``queries_lang`` (any code :func:`xlir.analysis.normalize_lang` knows)
    apply to records that do not name their own language. ``name`` defaults to the
    corpus's folder name. Judgments that do not join up with the queries or documents
    are logged as warnings. Raises :class:`InputError` naming file and line for any bad
    record, :class:`UnknownLanguageError` for an unknown language code.
    """
    docs_lang, queries_lang = _lang(docs_lang), _lang(queries_lang)
    docs = list(read_corpus(corpus, lang=docs_lang))
    query_list = read_queries(queries, lang=queries_lang)
    judgments = read_qrels(qrels)
    name = name or Path(corpus).resolve().parent.name or "files"
    check_joins(name, {d.id for d in docs}, query_list, judgments)
    logger.info("%s: %d docs, %d queries", name, len(docs), len(query_list))
    return Collection(docs, query_list, judgments, name, queries_lang, docs_lang)


def read_beir_qrels(path: str | os.PathLike) -> Qrels:
    """Read a BEIR qrels file: a ``query-id corpus-id score`` header, then tab-separated rows.

    Raises :class:`InputError` with file and line for a missing header (BEIR's own loader
    would silently drop the first judgment), a wrong column count, a non-integer score,
    an empty id or a repeated (query, document) pair.
    """
    p = check_readable(path)
    qrels: Qrels = {}
    first_line: dict[tuple[str, str], int] = {}
    header_seen = False
    for lineno, line in iter_lines(p):
        cols = [c.strip() for c in line.split("\t")]
        if not header_seen:
            if tuple(cols) != _BEIR_HEADER:
                raise InputError(
                    f"expected the header line 'query-id<TAB>corpus-id<TAB>score', got {line!r}", path=p, line=lineno
                )
            header_seen = True
            continue
        if len(cols) != 3:
            raise InputError(
                f"expected 3 tab-separated columns (query-id, corpus-id, score), got {len(cols)}", path=p, line=lineno
            )
        qid, docid, score = cols
        if not qid or not docid:
            raise InputError("empty query-id or corpus-id", path=p, line=lineno)
        if not _INT.fullmatch(score):
            raise InputError(f"score {score!r} is not an integer", path=p, line=lineno)
        first = first_line.setdefault((qid, docid), lineno)
        if first != lineno:
            raise InputError(
                f"duplicate judgment for query {qid!r}, doc {docid!r} (first seen on line {first})", path=p, line=lineno
            )
        qrels.setdefault(qid, {})[docid] = int(score)
    if not header_seen:
        raise InputError("empty qrels file (not even the header line)", path=p)
    return qrels


def _beir_file(folder: Path, stem: str) -> Path:
    for candidate in (folder / f"{stem}.jsonl", folder / f"{stem}.jsonl.gz"):
        if candidate.is_file():
            return candidate
    raise InputError(f"missing {stem}.jsonl; a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv",
                     path=folder)


def load_beir(
    folder: str | os.PathLike,
    split: str = "test",
    *,
    name: str | None = None,
    docs_lang: str | None = None,
    queries_lang: str | None = None,
) -> Collection:
    """Load the ``split`` of a BEIR-style folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels/{split}.tsv``).

    As BEIR does, the queries are those of ``queries.jsonl`` that ``qrels/{split}.tsv``
    judges (the file holds every split's queries), in file order. ``name`` defaults to
    ``beir/{folder name}/{split}``; judged queries or documents that are missing are
    logged as warnings. Raises :class:`InputError` naming file and line for a missing
    folder or file (listing the splits there are), or any bad record.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError("BEIR folder not found; expected corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv", path=root)
    qrels_path = root / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        splits = sorted(p.stem for p in (root / "qrels").glob("*.tsv")) if (root / "qrels").is_dir() else []
        raise InputError(f"missing qrels/{split}.tsv; splits here: {', '.join(splits) or 'none'}", path=root)
    docs_lang, queries_lang = _lang(docs_lang), _lang(queries_lang)
    corpus_path, queries_path = _beir_file(root, "corpus"), _beir_file(root, "queries")
    qrels = read_beir_qrels(qrels_path)
    docs = list(read_corpus(corpus_path, lang=docs_lang, fmt="jsonl"))
    queries = [q for q in read_queries(queries_path, lang=queries_lang, fmt="jsonl") if q.id in qrels]
    name = name or f"beir/{root.resolve().name}/{split}"
    check_joins(name, {d.id for d in docs}, queries, qrels)
    logger.info("%s: %d docs, %d queries", name, len(docs), len(queries))
    return Collection(docs, queries, qrels, name, queries_lang, docs_lang)


def export_beir(
    folder: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    split: str = "test",
    docs_lang: str | None = None,
    queries_lang: str | None = None,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write a BEIR split (see :func:`load_beir`) as ``docs.jsonl``, ``queries.tsv``, ``qrels.txt``.

    Returns the three paths. Raises :class:`IndexExistsError` (before loading) if one
    exists and ``overwrite`` is false, and whatever :func:`load_beir` raises.
    """
    output_paths(out_dir, overwrite=overwrite)
    collection = load_beir(folder, split, docs_lang=docs_lang, queries_lang=queries_lang)
    return write_collection(collection, out_dir, overwrite=overwrite)
