"""``table``: translations made elsewhere (by people, or an external MT system), looked up by id.

A table is a file mapping ids to translated text:

- JSONL: one object per line with an id (``id``, ``_id``, ``docid``, ``doc_id``, ``qid``
  or ``query_id``), the translation (``text``, ``contents`` or ``query``), an optional
  ``title`` and an optional ``lang`` (the language the text is in);
- TSV (``.tsv``/``.txt``): ``id<TAB>text``.

Translating a document or query replaces its text by the table's entry with the same id.
XQuAD-R is 11-way parallel, so its own files are tables: the German questions are the
translations of the English questions (same ids), and the English paragraph
``en-03-01`` is the translation of ``de-03-01``; :func:`build_table` writes such tables
from files ``xlir datasets export`` wrote.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, ClassVar, Iterable, Mapping, NamedTuple, Sequence

from xlir.errors import InputError
from xlir.translate.base import TranslationError

__all__ = ["TableTranslator", "read_table", "write_table", "build_table"]

logger = logging.getLogger(__name__)

_ID_FIELDS = ("id", "_id", "docid", "doc_id", "qid", "query_id")
_TEXT_FIELDS = ("text", "contents", "query")
_TSV = {".tsv", ".txt"}
_JSONL = {".jsonl", ".json"}


class Entry(NamedTuple):
    """One table row: the translated text, an optional title and the text's language."""

    text: str
    title: str = ""
    lang: str | None = None


def read_table(path: str | os.PathLike) -> dict[str, Entry]:
    """Read a translation table (JSONL or TSV, optionally gzipped): ``{id: Entry}``.

    Raises :class:`InputError` naming file and line for bad JSON, a missing id or text,
    a wrong TSV column count or a duplicate id.
    """
    from xlir.io._files import check_readable, iter_lines, suffixes
    from xlir.io.corpus import parse_id

    p = check_readable(path)
    suffix = suffixes(p)[0]
    if suffix not in _TSV | _JSONL:
        raise InputError(f"cannot tell the table format from the suffix {suffix or '(none)'!r}; use .jsonl or .tsv", path=p)
    table: dict[str, Entry] = {}
    first: dict[str, int] = {}
    for lineno, line in iter_lines(p):
        if suffix in _TSV:
            cols = line.split("\t")
            if len(cols) != 2:
                raise InputError(f"expected 2 tab-separated columns (id, text), got {len(cols)}", path=p, line=lineno)
            raw_id, entry = cols[0], Entry(cols[1].strip())
        else:
            raw_id, entry = _json_row(line, p, lineno)
        key = parse_id(raw_id, "id", p, lineno)
        if first.setdefault(key, lineno) != lineno:
            raise InputError(f"duplicate id {key!r} (first seen on line {first[key]})", path=p, line=lineno)
        table[key] = entry
    logger.debug("read %d translations from %s", len(table), p)
    return table


def _json_row(line: str, path: Path, lineno: int) -> tuple[Any, Entry]:
    from xlir.io._files import json_object_line

    obj = json_object_line(line, path, lineno)
    id_field = next((k for k in _ID_FIELDS if k in obj), None)
    if id_field is None:
        raise InputError(f"missing id (expected one of the fields {', '.join(_ID_FIELDS)})", path=path, line=lineno)
    text_field = next((k for k in _TEXT_FIELDS if k in obj), None)
    if text_field is None:
        raise InputError(f"missing text (expected one of the fields {', '.join(_TEXT_FIELDS)})", path=path, line=lineno)
    values = {k: obj.get(k) for k in (text_field, "title", "lang")}
    for k, v in values.items():
        if v is not None and not isinstance(v, str):
            raise InputError(f"field {k!r} must be a string, got {type(v).__name__}", path=path, line=lineno)
    return obj[id_field], Entry(obj[text_field], obj.get("title") or "", obj.get("lang") or None)


def write_table(rows: Iterable[tuple[str, str]] | Mapping[str, str], path: str | os.PathLike, *, lang: str | None = None) -> int:
    """Write ``(id, text)`` pairs (or a mapping) as a JSONL table, atomically; returns the count."""
    from xlir.io import atomic_open

    items = rows.items() if isinstance(rows, Mapping) else rows
    n = 0
    seen: set[str] = set()
    with atomic_open(path) as f:
        for key, text in items:
            if key in seen:
                raise ValueError(f"duplicate id {key!r}")
            seen.add(key)
            record = {"id": key, "text": text}
            if lang:
                record["lang"] = lang
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n


def build_table(
    translations: str | os.PathLike,
    output: str | os.PathLike,
    *,
    lang: str | None = None,
    rename: tuple[str, str] | None = None,
) -> int:
    """Write a table from a file of translated records (a corpus JSONL or a queries TSV/JSONL).

    ``rename=(old, new)`` replaces the id prefix ``old`` by ``new`` so that the table is
    keyed by the *source* ids: XQuAD-R English paragraphs ``en-03-01`` become the
    translations of ``de-03-01`` with ``rename=("en-", "de-")``. Returns the number of
    rows. Raises :class:`InputError` for unreadable input or an id without the prefix.

    Example (XQuAD-R, German paragraphs translated to English by people)::

        xlir datasets export xquad-r --data DATA --queries-lang en --docs-lang en --output x/en-en
        build_table("x/en-en/docs.jsonl", "tables/docs-de-en.jsonl", lang="en", rename=("en-", "de-"))
    """
    table = read_table(translations)
    rows = []
    for key, entry in table.items():
        if rename is not None:
            old, new = rename
            if not key.startswith(old):
                raise InputError(f"id {key!r} does not start with {old!r}", path=translations)
            key = new + key[len(old):]
        rows.append((key, entry.text))
    lang = lang or next((e.lang for e in table.values() if e.lang), None)
    return write_table(rows, output, lang=lang)


class TableTranslator:
    """Looks translations up by document/query id in a table file (see the module docstring).

    ``TableTranslator("tables/de-en.jsonl")`` or ``TableTranslator(mapping={"q1": "..."}, lang="en")``.
    ``lang``: the language the table's texts are in (else the rows' ``lang`` fields); when
    known, translating into another language is an error. Raises :class:`InputError`
    for a malformed file.
    """

    name: ClassVar[str] = "table"
    cacheable: ClassVar[bool] = False  # a lookup is cheaper than the cache

    def __init__(self, path: str | os.PathLike | None = None, *, mapping: Mapping[str, str] | None = None,
                 lang: str | None = None):
        if (path is None) == (mapping is None):
            raise TranslationError("translator 'table' needs a file (table:FILE) or a mapping, not both")
        if path is not None:
            self.path: Path | None = Path(path)
            self.table = read_table(self.path)
            digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
            self.source = str(self.path)
            self._identity = f"table:{self.path.name}@{digest[:16]}"
        else:
            self.path = None
            self.table = {str(k): Entry(v) for k, v in mapping.items()}
            digest = hashlib.sha256(json.dumps(sorted(self.table.items()), ensure_ascii=False).encode()).hexdigest()
            self.source = "(mapping)"
            self._identity = f"table:mapping@{digest[:16]}"
        langs = {e.lang for e in self.table.values() if e.lang}
        if lang is None and len(langs) == 1:
            lang = langs.pop()
        elif lang is None and len(langs) > 1:
            raise TranslationError(f"table {self.source} mixes languages {sorted(langs)}; one table per target language")
        if lang is not None:
            from xlir.translate.languages import translation_lang

            lang = translation_lang(lang)
        self.lang = lang

    @property
    def identity(self) -> str:
        return self._identity

    def describe(self) -> dict[str, Any]:
        return {"translator": self.name, "model": self.source, "identity": self.identity, "lang": self.lang}

    def __len__(self) -> int:
        return len(self.table)

    def _check_tgt(self, tgt: str) -> None:
        from xlir.translate.languages import translation_lang

        if self.lang is not None and translation_lang(tgt) != self.lang:
            raise TranslationError(f"table {self.source} holds translations into {self.lang!r}, not {tgt!r}")

    def translate_by_id(self, ids: Sequence[str], *, src: str, tgt: str) -> list[str]:
        """The table's text for each id. Raises :class:`TranslationError` listing missing ids."""
        self._check_tgt(tgt)
        missing = [i for i in ids if i not in self.table]
        if missing:
            shown = ", ".join(map(repr, missing[:5])) + (", ..." if len(missing) > 5 else "")
            raise TranslationError(
                f"table {self.source} has no translation for {len(missing)} of {len(ids)} ids ({shown}); "
                "a table is keyed by the ids of the documents/queries it translates"
            )
        return [self.table[i].text for i in ids]

    def title_of(self, doc_id: str) -> str:
        entry = self.table.get(doc_id)
        return entry.title if entry is not None else ""

    def translate(self, texts: Sequence[str], *, src: str, tgt: str) -> list[str]:
        """Not supported: a table translates documents and queries by id, not free text."""
        raise TranslationError(
            "translator 'table' looks translations up by document/query id; use translate_docs()/translate_queries() "
            "(or xlir translate / --translate-docs / --translate-query), not translate() on plain texts"
        )

    def __repr__(self) -> str:
        return f"TableTranslator({self.source!r}, {len(self.table)} entries, lang={self.lang!r})"
