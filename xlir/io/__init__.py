"""Strict readers and atomic writers for corpora, queries, TREC runs and qrels.

Every reader raises :class:`xlir.errors.InputError` naming the file and line of the
first bad record; every writer given a path writes it atomically.
"""

from __future__ import annotations

from xlir.io.atomic import atomic_open, atomic_write_bytes, atomic_write_text
from xlir.io.corpus import count_lines, read_corpus, write_corpus
from xlir.io.queries import read_queries, write_queries
from xlir.io.trec import format_run_lines, read_qrels, read_run, write_qrels, write_run

__all__ = [
    "read_corpus",
    "write_corpus",
    "count_lines",
    "read_queries",
    "write_queries",
    "read_qrels",
    "write_qrels",
    "read_run",
    "write_run",
    "format_run_lines",
    "atomic_open",
    "atomic_write_text",
    "atomic_write_bytes",
]
