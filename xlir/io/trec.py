"""TREC qrels (``qid iter docid rel``) and run files (``qid Q0 docid rank score tag``).

Written runs are deterministic: queries in natural id order, documents by score
descending with ties broken by docid ascending, so the same run always gives the same
bytes and trec_eval sees the same ranking. Scores are written with Python's shortest
round-trip ``repr``, which is lossless: reading a run back gives exactly the same
floats, hence exactly the same ties.
"""

from __future__ import annotations

import heapq
import logging
import math
import operator
import os
import re
from typing import IO, Iterator

from xlir.errors import InputError
from xlir.io._files import check_readable, check_token, iter_lines, natural_qid_order, open_output
from xlir.types import Qrels, Run

__all__ = ["read_qrels", "write_qrels", "read_run", "write_run", "format_run_lines"]

logger = logging.getLogger(__name__)

_INT = re.compile(r"[+-]?[0-9]+")


def read_qrels(path: str | os.PathLike) -> Qrels:
    """Read a TREC qrels file: four whitespace-separated columns ``qid iter docid rel``.

    ``rel`` must be an integer (negative grades are kept). Returns qid -> docid -> rel in
    file order. Raises :class:`InputError` with file and line for a wrong column count,
    a non-integer grade or a repeated (qid, docid) pair.
    """
    p = check_readable(path)
    qrels: Qrels = {}
    first_line: dict[tuple[str, str], int] = {}
    for lineno, line in iter_lines(p):
        cols = line.split()
        if len(cols) != 4:
            raise InputError(
                f"expected 4 whitespace-separated columns (qid iter docid rel), got {len(cols)}", path=p, line=lineno
            )
        qid, _, docid, rel = cols
        if not _INT.fullmatch(rel):
            raise InputError(f"relevance {rel!r} is not an integer", path=p, line=lineno)
        first = first_line.setdefault((qid, docid), lineno)
        if first != lineno:
            raise InputError(
                f"duplicate judgment for query {qid!r}, doc {docid!r} (first seen on line {first})", path=p, line=lineno
            )
        qrels.setdefault(qid, {})[docid] = int(rel)
    logger.debug("read qrels for %d queries from %s", len(qrels), p)
    return qrels


def write_qrels(qrels: Qrels, path_or_file: str | os.PathLike | IO[str]) -> int:
    """Write ``qrels`` as ``qid 0 docid rel`` lines and return how many were written.

    Queries are in natural id order (numeric when all ids are digits), documents by id.
    A path is written atomically; a text stream is written as is. Raises ``ValueError``
    for ids with whitespace or a non-integer grade.
    """
    n = 0
    with open_output(path_or_file) as f:
        for qid in natural_qid_order(qrels):
            check_token(qid, "query id")
            for docid in sorted(qrels[qid]):
                check_token(docid, "doc id")
                rel = qrels[qid][docid]
                try:
                    rel = operator.index(rel)  # ints and numpy ints; not floats
                except TypeError:
                    raise ValueError(f"relevance {rel!r} of ({qid!r}, {docid!r}) is not an integer") from None
                f.write(f"{qid} 0 {docid} {rel}\n")
                n += 1
    logger.debug("wrote %d judgments to %s", n, path_or_file)
    return n


def read_run(path: str | os.PathLike) -> Run:
    """Read a TREC run: six whitespace-separated columns ``qid Q0 docid rank score tag``.

    Returns qid -> docid -> score (the rank and tag columns are checked, then dropped).
    Raises :class:`InputError` with file and line for a wrong column count, a non-integer
    rank, a score that is not a number (or is NaN) or a repeated (qid, docid) pair.
    """
    p = check_readable(path)
    run: Run = {}
    first_line: dict[tuple[str, str], int] = {}
    for lineno, line in iter_lines(p):
        cols = line.split()
        if len(cols) != 6:
            raise InputError(
                f"expected 6 whitespace-separated columns (qid Q0 docid rank score tag), got {len(cols)}",
                path=p,
                line=lineno,
            )
        qid, _, docid, rank, score_text, _ = cols
        if not _INT.fullmatch(rank):
            raise InputError(f"rank {rank!r} is not an integer", path=p, line=lineno)
        try:
            score = float(score_text)
        except ValueError:
            score = math.nan
        if math.isnan(score):
            raise InputError(f"score {score_text!r} is not a number", path=p, line=lineno)
        first = first_line.setdefault((qid, docid), lineno)
        if first != lineno:
            raise InputError(
                f"duplicate entry for query {qid!r}, doc {docid!r} (first seen on line {first})", path=p, line=lineno
            )
        run.setdefault(qid, {})[docid] = score
    logger.debug("read a run for %d queries from %s", len(run), p)
    return run


def _ranked(docs: dict[str, float], k: int | None) -> list[tuple[str, float]]:
    items = [(d, float(s)) for d, s in docs.items()]
    for d, s in items:
        if math.isnan(s):
            raise ValueError(f"score of doc {d!r} is NaN")
    key = lambda item: (-item[1], item[0])  # noqa: E731
    if k is not None and k < len(items):
        return heapq.nsmallest(k, items, key=key)
    return sorted(items, key=key)


def format_run_lines(run: Run, *, tag: str = "xlir", k: int | None = None) -> Iterator[str]:
    """The lines (each ending in ``\\n``) of ``run`` in TREC format, top ``k`` per query.

    Order: queries in natural id order; documents by score descending, ties by docid
    ascending; ranks from 1. Scores use ``repr(float(score))`` (lossless). Raises
    ``ValueError`` for a bad ``tag`` or ``k``, ids with whitespace, or a NaN score.
    """
    check_token(tag, "run tag")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ValueError(f"k must be a positive integer or None, got {k!r}")
    for qid in natural_qid_order(run):
        check_token(qid, "query id")
        for rank, (docid, score) in enumerate(_ranked(run[qid], k), 1):
            check_token(docid, "doc id")
            yield f"{qid} Q0 {docid} {rank} {score!r} {tag}\n"


def write_run(
    run: Run, path_or_file: str | os.PathLike | IO[str], *, tag: str = "xlir", k: int | None = None
) -> int:
    """Write ``run`` in TREC format (see :func:`format_run_lines`); return the line count.

    ``path_or_file`` is a path (written atomically, gzipped for ``.gz``) or a text stream
    such as ``sys.stdout`` (written as is, not closed). On error a path keeps its old
    content.
    """
    n = 0
    with open_output(path_or_file) as f:
        for line in format_run_lines(run, tag=tag, k=k):
            f.write(line)
            n += 1
    logger.debug("wrote %d run lines to %s", n, path_or_file)
    return n
