"""Document collections: JSONL (BEIR and Pyserini field names, optionally gzipped) and TSV."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import IO, Iterable, Iterator

from xlir.errors import InputError
from xlir.io._files import (
    check_readable, count_lines, has_space, iter_lines, json_object_line, open_output, suffixes,
)
from xlir.types import Doc

__all__ = ["read_corpus", "write_corpus", "count_lines", "parse_id"]

logger = logging.getLogger(__name__)

DOC_ID_FIELDS = ("id", "_id", "docid", "doc_id")
DOC_TEXT_FIELDS = ("text", "contents")
_RESERVED = frozenset(DOC_ID_FIELDS) | {"text", "title", "lang"}
_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".tsv": "tsv"}


def read_corpus(path: str | os.PathLike, *, lang: str | None = None, fmt: str | None = None) -> Iterator[Doc]:
    """Iterate over the documents of a JSONL or TSV file, checking every line.

    JSONL (``.jsonl``/``.json``, optionally ``.gz``): one object per line with an id
    (``id``, ``_id``, ``docid`` or ``doc_id``; a string or an integer), ``text`` (or
    ``contents``, as Pyserini names it), optional ``title`` and ``lang``; other fields
    go to ``Doc.meta``. TSV (``.tsv``): ``id<TAB>text``. ``lang`` is the language of
    documents that do not name their own. ``fmt`` (``"jsonl"``/``"tsv"``) overrides the
    suffix. Blank lines are skipped.

    Raises :class:`InputError` naming file and line for a missing file, bad JSON, a
    missing or empty id, missing text, a duplicate id or a wrong column count. The file
    is checked as it is read, so errors surface during iteration.
    """
    p = check_readable(path)
    fmt = fmt or _format_of(p)
    if fmt == "jsonl":
        return _read_jsonl(p, lang)
    if fmt == "tsv":
        return _read_tsv(p, lang)
    raise ValueError(f"unknown corpus format {fmt!r}; expected 'jsonl' or 'tsv'")


def _format_of(path: Path) -> str:
    suffix = suffixes(path)[0]
    if suffix not in _FORMATS:
        raise InputError(
            f"cannot tell the corpus format from the suffix {suffix or '(none)'!r}; "
            "use .jsonl, .json, .tsv (optionally .gz) or pass fmt='jsonl'/'tsv'",
            path=path,
        )
    return _FORMATS[suffix]


def parse_id(value: object, what: str, path: Path, line: int) -> str:
    """A record id as a clean string: integers become strings; surrounding space is dropped.

    Empty ids and ids with inner whitespace are rejected, the latter because TREC run and
    qrels files split on whitespace and could not hold them.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(f"{what} must be a string or an integer, got {type(value).__name__}", path=path, line=line)
    text = str(value).strip()
    if not text:
        raise InputError(f"empty {what}", path=path, line=line)
    if has_space(text):
        raise InputError(f"{what} {text!r} contains whitespace, which TREC run files cannot hold", path=path, line=line)
    return text


def _pick(obj: dict, names: tuple[str, ...], what: str, path: Path, line: int) -> tuple[str, object] | None:
    """The first of ``names`` present in ``obj``; other names present must agree with it."""
    found = [(k, obj[k]) for k in names if k in obj]
    if not found:
        return None
    for k, v in found[1:]:
        if v != found[0][1]:
            raise InputError(
                f"conflicting {what} fields: {found[0][0]}={found[0][1]!r} and {k}={v!r}", path=path, line=line
            )
    return found[0]


def _optional_str(obj: dict, key: str, path: Path, line: int) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise InputError(f"field {key!r} must be a string, got {type(value).__name__}", path=path, line=line)


def parse_jsonl_doc(line: str, lang: str | None, path: Path, lineno: int) -> Doc:
    """One corpus JSONL line as a :class:`Doc`; errors name ``path`` and ``lineno``."""
    obj = json_object_line(line, path, lineno)
    picked = _pick(obj, DOC_ID_FIELDS, "doc id", path, lineno)
    if picked is None:
        fields = ", ".join(DOC_ID_FIELDS)
        raise InputError(f"missing doc id (expected one of the fields {fields})", path=path, line=lineno)
    doc_id = parse_id(picked[1], "doc id", path, lineno)
    text_field = next((k for k in DOC_TEXT_FIELDS if k in obj), None)
    if text_field is None:
        message = f"doc {doc_id!r}: missing text (expected field 'text' or 'contents')"
        raise InputError(message, path=path, line=lineno)
    text = _optional_str(obj, text_field, path, lineno)
    if text is None:
        raise InputError(f"doc {doc_id!r}: field {text_field!r} is null", path=path, line=lineno)
    title = _optional_str(obj, "title", path, lineno) or ""
    doc_lang = _optional_str(obj, "lang", path, lineno) or lang
    # Only the fields actually used leave meta: a 'contents' beside 'text' is kept.
    used = {k for k in DOC_ID_FIELDS if k in obj} | {text_field, "title", "lang"}
    meta = {k: v for k, v in obj.items() if k not in used}
    return Doc(id=doc_id, text=text, title=title, lang=doc_lang, meta=meta)


def _read_jsonl(path: Path, lang: str | None) -> Iterator[Doc]:
    seen: dict[str, int] = {}
    n = 0
    for lineno, line in iter_lines(path):
        doc = parse_jsonl_doc(line, lang, path, lineno)
        _check_new(doc.id, seen, path, lineno)
        n += 1
        yield doc
    logger.debug("read %d docs from %s", n, path)


def _read_tsv(path: Path, lang: str | None) -> Iterator[Doc]:
    seen: dict[str, int] = {}
    n = 0
    for lineno, line in iter_lines(path):
        cols = line.split("\t")
        if len(cols) != 2:
            raise InputError(f"expected 2 tab-separated columns (id, text), got {len(cols)}", path=path, line=lineno)
        doc_id = parse_id(cols[0], "doc id", path, lineno)
        _check_new(doc_id, seen, path, lineno)
        n += 1
        yield Doc(id=doc_id, text=cols[1], lang=lang)
    logger.debug("read %d docs from %s", n, path)


def _check_new(doc_id: str, seen: dict[str, int], path: Path, line: int) -> None:
    first = seen.setdefault(doc_id, line)
    if first != line:
        raise InputError(f"duplicate doc id {doc_id!r} (first seen on line {first})", path=path, line=line)


def write_corpus(docs: Iterable[Doc], path: str | os.PathLike | IO[str]) -> int:
    """Write ``docs`` as JSONL (gzipped for a ``.gz`` path) and return how many were written.

    Each line holds ``id``, ``text``, ``title`` when non-empty, ``lang`` when set, then
    ``meta``'s fields. A path is written atomically; a text stream is written as is.
    Raises ``ValueError`` for a ``.tsv`` path, a duplicate id, or a meta field that would
    overwrite one of the above.
    """
    if not hasattr(path, "write") and suffixes(Path(path))[0] == ".tsv":  # type: ignore[arg-type]
        raise ValueError(f"{path}: write_corpus writes JSONL; use a .jsonl or .jsonl.gz path")
    seen: set[str] = set()
    n = 0
    with open_output(path) as f:
        for doc in docs:
            if doc.id in seen:
                raise ValueError(f"duplicate doc id {doc.id!r}")
            seen.add(doc.id)
            record: dict = {"id": doc.id, "text": doc.text}
            if doc.title:
                record["title"] = doc.title
            if doc.lang is not None:
                record["lang"] = doc.lang
            clash = _RESERVED & doc.meta.keys()
            if clash:
                # Reading the line back would take these as the id, title or language.
                raise ValueError(f"doc {doc.id!r}: meta field(s) {sorted(clash)} clash with the record's own fields")
            record.update(doc.meta)
            f.write(json.dumps(record, ensure_ascii=False))
            f.write("\n")
            n += 1
    logger.debug("wrote %d docs to %s", n, path)
    return n
