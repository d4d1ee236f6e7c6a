"""Query files: TSV (``qid<TAB>text``) or JSONL, optionally gzipped."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import IO, Iterable

from xlir.errors import InputError
from xlir.io._files import check_readable, check_token, iter_lines, json_object_line, open_output, suffixes
from xlir.io.corpus import parse_id
from xlir.types import Query

__all__ = ["read_queries", "write_queries"]

logger = logging.getLogger(__name__)

QUERY_ID_FIELDS = ("id", "qid", "_id", "query_id")
QUERY_TEXT_FIELDS = ("text", "query", "title")
_FORMATS = {".tsv": "tsv", ".txt": "tsv", ".jsonl": "jsonl", ".json": "jsonl"}
_BREAKS = re.compile(r"[\t\r\n]+")


def _format_of(path: Path) -> str:
    suffix = suffixes(path)[0]
    if suffix not in _FORMATS:
        raise InputError(
            f"cannot tell the query file format from the suffix {suffix or '(none)'!r}; "
            "use .tsv, .txt, .jsonl or .json (optionally .gz), or pass fmt='tsv'/'jsonl'",
            path=path,
        )
    return _FORMATS[suffix]


def read_queries(path: str | os.PathLike, *, lang: str | None = None, fmt: str | None = None) -> list[Query]:
    """Read every query of a TSV or JSONL file, in file order.

    TSV (``.tsv``/``.txt``): exactly two tab-separated columns, id and text. JSONL
    (``.jsonl``/``.json``): an id field (``id``, ``qid``, ``_id`` or ``query_id``), a text
    field (``text``, ``query`` or ``title``, first found wins) and an optional ``lang``;
    other fields are ignored. ``lang`` applies to queries that do not name their own.
    Text is stripped of surrounding whitespace. Blank lines are skipped.

    Raises :class:`InputError` with file and line for a wrong column count, bad JSON, a
    missing/empty/duplicate id or empty text.
    """
    p = check_readable(path)
    fmt = fmt or _format_of(p)
    if fmt not in ("tsv", "jsonl"):
        raise ValueError(f"unknown query file format {fmt!r}; expected 'tsv' or 'jsonl'")
    seen: dict[str, int] = {}
    queries = []
    for lineno, line in iter_lines(p):
        if fmt == "tsv":
            cols = line.split("\t")
            if len(cols) != 2:
                raise InputError(f"expected 2 tab-separated columns (id, text), got {len(cols)}", path=p, line=lineno)
            raw_id, text, q_lang = cols[0], cols[1], lang
        else:
            raw_id, text, q_lang = _parse_json(line, p, lineno, lang)
        qid = parse_id(raw_id, "query id", p, lineno)
        first = seen.setdefault(qid, lineno)
        if first != lineno:
            raise InputError(f"duplicate query id {qid!r} (first seen on line {first})", path=p, line=lineno)
        text = text.strip()
        if not text:
            raise InputError(f"query {qid!r}: empty text", path=p, line=lineno)
        queries.append(Query(id=qid, text=text, lang=q_lang))
    logger.debug("read %d queries from %s", len(queries), p)
    return queries


def _parse_json(line: str, path: Path, lineno: int, lang: str | None) -> tuple[object, str, str | None]:
    obj = json_object_line(line, path, lineno)
    id_field = next((k for k in QUERY_ID_FIELDS if k in obj), None)
    if id_field is None:
        fields = ", ".join(QUERY_ID_FIELDS)
        raise InputError(f"missing query id (expected one of the fields {fields})", path=path, line=lineno)
    text_field = next((k for k in QUERY_TEXT_FIELDS if k in obj), None)
    if text_field is None:
        fields = ", ".join(QUERY_TEXT_FIELDS)
        raise InputError(f"missing query text (expected one of the fields {fields})", path=path, line=lineno)
    text = obj[text_field]
    if not isinstance(text, str):
        raise InputError(f"field {text_field!r} must be a string, got {type(text).__name__}", path=path, line=lineno)
    q_lang = obj.get("lang")
    if q_lang is not None and not isinstance(q_lang, str):
        raise InputError(f"field 'lang' must be a string, got {type(q_lang).__name__}", path=path, line=lineno)
    return obj[id_field], text, q_lang or lang


def write_queries(queries: Iterable[Query], path: str | os.PathLike | IO[str]) -> int:
    """Write ``queries`` and return how many were written.

    A ``.jsonl``/``.json`` path gets JSONL (``id``, ``text``, ``lang`` when set); any other
    target gets TSV ``id<TAB>text``, where tabs and line breaks inside the text are
    replaced by a space so that each query stays on one line. Paths are written
    atomically. Raises ``ValueError`` for an id that is empty or holds whitespace, empty
    text, or a duplicate id.
    """
    jsonl = not hasattr(path, "write") and _FORMATS.get(suffixes(Path(path))[0]) == "jsonl"  # type: ignore[arg-type]
    seen: set[str] = set()
    n = 0
    with open_output(path) as f:
        for q in queries:
            check_token(q.id, "query id")
            if not q.text.strip():
                raise ValueError(f"query {q.id!r}: empty text")  # read_queries would reject it
            if q.id in seen:
                raise ValueError(f"duplicate query id {q.id!r}")
            seen.add(q.id)
            if jsonl:
                record = {"id": q.id, "text": q.text}
                if q.lang is not None:
                    record["lang"] = q.lang
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                f.write(f"{q.id}\t{_BREAKS.sub(' ', q.text).strip()}\n")
            n += 1
    logger.debug("wrote %d queries to %s", n, path)
    return n
