"""HC4: English topics against Persian, Russian and Chinese Common Crawl news (Lawrie et al., ECIR 2022).

The topics and judgments come from github.com/hltcoe/HC4 (``resources/hc4/``)::

    {split}.topics.v1-0.jsonl          one topic per line, split = train, dev or test
    {fas,rus,zho}/{split}.qrels.v1-0.txt  TREC qrels, grades 0 (not), 1 (somewhat), 3 (very valuable)

Each topic has ``topics[]`` entries ``{lang, source, topic_title, topic_description}``:
the English original (``lang="eng"``, ``source="original"``), a human translation
(``source="human translation"``) into each language it was judged for, and machine
translations (``source`` = the MT system) into all three languages. The documents
(646k zho, 486k fas, 4.7M rus) come from Common Crawl and are not redistributed: HC4's
``download_documents.py`` writes them as JSONL (``id, title, text, url, time, cc_file``).

What the loader makes of the data (read off the v1.0 files):

- **Queries are the judged topics**: those with judgments in the language's qrels file,
  as the official scores count them (50 test topics per language). The
  ``languages_with_qrels`` field is not used to select: for zho/test it lists topics
  110 and 215, which have no zho judgments, and omits 109 and 141, which have them.
- ``queries_lang``: ``"en"`` the English original; the documents' language (``"fa"``,
  ``"fas"``...) its human translation; ``"mt"`` the machine translation into the
  documents' language by ``mt_source``, by default ``20220114-scale21-sockeye2-tm1``,
  the one system that covers every topic of every split (train fas topics also have
  five older systems). Machine translations are as released: a few titles were left
  in English.
- Human translations are missing for some judged topics (zho/test 109 and 141, see
  above) or empty (all 7 rus train topics, 2 others in train). Such a topic is an error
  unless ``skip_untranslated=True``, which leaves it and its judgments out, with a
  warning, so that it does not count as a failed query.
- ``query_field``: ``"title"``, ``"description"`` or ``"title+description"`` (joined by
  a space, as in HC4's BM25+RM3 baselines).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Iterator

from xlir.datasets.base import Collection, check_joins, collect_ids, output_paths, write_collection
from xlir.errors import InputError, MissingDependencyError, ParamError, UnknownLanguageError
from xlir.io import read_corpus, read_qrels
from xlir.io._files import iter_lines, json_object_line, natural_qid_order
from xlir.types import Doc, Qrels, Query

__all__ = [
    "HC4_LANGS",
    "HC4_SPLITS",
    "HC4_QUERY_FIELDS",
    "HC4_MT_SOURCE",
    "MT",
    "load_hc4",
    "export_hc4",
    "iter_hc4_docs",
    "is_ir_datasets_id",
]

logger = logging.getLogger(__name__)

HC4_LANGS: tuple[str, ...] = ("fa", "ru", "zh")
HC4_SPLITS: tuple[str, ...] = ("train", "dev", "test")
HC4_QUERY_FIELDS: tuple[str, ...] = ("title", "description", "title+description")
#: The machine translation system that covers every HC4 topic in every language.
HC4_MT_SOURCE = "20220114-scale21-sockeye2-tm1"
#: ``queries_lang`` value for the machine-translated topics.
MT = "mt"
_LANG3 = {"fa": "fas", "ru": "rus", "zh": "zho"}
_HUMAN = "human translation"
_IRDS_ID = re.compile(r"hc4/(fa|ru|zh)/(train|dev|test)")
_SOURCE = "github.com/hltcoe/HC4, resources/hc4/"


def _doc_lang(value: str) -> str:
    from xlir.analysis import normalize_lang

    try:
        lang = normalize_lang(value)
    except UnknownLanguageError:
        lang = None
    if lang not in HC4_LANGS:
        raise ParamError(f"unknown HC4 documents language {value!r}; available: fa (fas), ru (rus), zh (zho)")
    return lang


def _queries_source(value: str, docs_lang: str) -> str:
    """``"en"``, ``docs_lang`` (human translation) or ``MT``."""
    if value == MT:
        return MT
    from xlir.analysis import normalize_lang

    try:
        lang = normalize_lang(value)
    except UnknownLanguageError:
        lang = None
    if lang not in ("en", docs_lang):
        raise ParamError(
            f"unknown HC4 queries language {value!r} for {docs_lang} documents; available: 'en' (the English "
            f"topics), {docs_lang!r} (their human translation) or 'mt' (their machine translation into {docs_lang})"
        )
    return lang


def _check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise ParamError(f"unknown HC4 {what} {value!r}; available: {', '.join(choices)}")


# --- topics ---------------------------------------------------------------------------------


def _str_field(obj: dict, key: str, where: str, path: Path, line: int, *, nullable: bool = False) -> str:
    value = obj.get(key)
    if value is None and nullable:
        return ""
    if not isinstance(value, str):
        got = "missing" if key not in obj else f"a {type(value).__name__}"
        raise InputError(f"{where}{key} must be a string, got {got}", path=path, line=line)
    return value


def _read_topics(path: Path) -> dict[str, tuple[int, dict]]:
    """topic id -> (line, topic object), checking the fields the loader uses."""
    topics: dict[str, tuple[int, dict]] = {}
    for lineno, line in iter_lines(path):
        obj = json_object_line(line, path, lineno)
        raw_id = obj.get("topic_id")
        if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or not str(raw_id).strip():
            raise InputError("missing or empty topic_id", path=path, line=lineno)
        tid = str(raw_id).strip()
        if tid in topics:
            first = topics[tid][0]
            raise InputError(f"duplicate topic_id {tid!r} (first seen on line {first})", path=path, line=lineno)
        entries = obj.get("topics")
        if not isinstance(entries, list):
            raise InputError(f"topic {tid!r}: 'topics' must be a list of translations", path=path, line=lineno)
        for i, entry in enumerate(entries):
            where = f"topic {tid!r}: topics[{i}]."
            if not isinstance(entry, dict):
                raise InputError(f"{where[:-1]} must be an object", path=path, line=lineno)
            _str_field(entry, "lang", where, path, lineno)
            _str_field(entry, "source", where, path, lineno)
            _str_field(entry, "topic_title", where, path, lineno, nullable=True)
            _str_field(entry, "topic_description", where, path, lineno, nullable=True)
        topics[tid] = (lineno, obj)
    return topics


def _entry(topic: dict, lang3: str, source: str) -> dict | None:
    return next((e for e in topic["topics"] if e["lang"] == lang3 and e["source"] == source), None)


def _text(entry: dict | None, field: str) -> str | None:
    """The query text of ``entry`` for ``field``; None when the entry or a part of it is missing/empty."""
    if entry is None:
        return None
    parts = [(entry.get(f"topic_{name}") or "").strip() for name in field.split("+")]
    if not all(parts):
        return None
    return " ".join(parts)


def _quote(ids: list[str]) -> str:
    return ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")


def _queries(
    topics_path: Path,
    qrels_path: Path,
    *,
    lang: str,
    query_field: str,
    source: str,
    mt_source: str,
    skip_untranslated: bool,
) -> tuple[list[Query], Qrels]:
    lang3 = _LANG3[lang]
    topics = _read_topics(topics_path)
    qrels = read_qrels(qrels_path)
    unknown = [t for t in qrels if t not in topics]
    if unknown:
        raise InputError(f"judged topics {_quote(unknown)} are not in {topics_path}", path=qrels_path)

    def lists_lang(tid: str) -> bool:
        return lang3 in (topics[tid][1].get("languages_with_qrels") or [])

    listed = [t for t in topics if lists_lang(t) and t not in qrels]
    if listed:
        logger.info("HC4 topics %s list %s in languages_with_qrels but have no judgments in %s; left out",
                    _quote(listed), lang3, qrels_path.name)
    unlisted = [t for t in qrels if not lists_lang(t)]
    if unlisted:
        logger.info("HC4 topics %s are judged in %s but do not list %s in languages_with_qrels; kept",
                    _quote(unlisted), qrels_path.name, lang3)

    if source == "en":
        wanted, what = ("eng", "original"), "English original"
    elif source == MT:
        wanted, what = (lang3, mt_source), f"machine translation into {lang3} by {mt_source!r}"
    else:
        wanted, what = (lang3, _HUMAN), f"human translation into {lang3}"
    queries: list[Query] = []
    missing: list[str] = []
    for tid in natural_qid_order(qrels):
        line, topic = topics[tid]
        text = _text(_entry(topic, *wanted), query_field)
        if text is None:
            if source == "en":
                raise InputError(f"topic {tid!r} has no English {query_field}", path=topics_path, line=line)
            missing.append(tid)
            continue
        queries.append(Query(id=tid, text=text, lang="en" if source == "en" else lang))
    if missing:
        if not skip_untranslated:
            hint = ""
            if source == MT:
                systems = sorted({e["source"] for t in missing for e in topics[t][1]["topics"]
                                  if e["lang"] == lang3 and e["source"] != _HUMAN})
                hint = f" (machine translations there: {', '.join(systems) or 'none'})"
            raise InputError(
                f"judged topics {_quote(missing)} have no {what} with a {query_field}{hint}; "
                "pass skip_untranslated=True (--skip-untranslated) to leave them out, or use queries_lang='en'"
                + ("" if source == MT else " or 'mt'"),
                path=topics_path,
            )
        logger.warning("HC4: left out %d judged topics with no %s (%s): %s",
                       len(missing), what, query_field, _quote(missing))
        left_out = set(missing)
        qrels = {t: rels for t, rels in qrels.items() if t not in left_out}
        if not queries:
            raise InputError(f"no judged topic has a {what} with a {query_field}", path=topics_path)
    return queries, qrels


# --- files ----------------------------------------------------------------------------------


def _folder_files(topics_dir: Path, lang: str, split: str) -> tuple[Path, Path]:
    expected = f"{split}.topics.v1-0.jsonl and {_LANG3[lang]}/{split}.qrels.v1-0.txt (from {_SOURCE})"
    if not topics_dir.is_dir():
        raise InputError(f"HC4 folder not found; expected a folder with {expected}", path=topics_dir)
    topics = topics_dir / f"{split}.topics.v1-0.jsonl"
    qrels = topics_dir / _LANG3[lang] / f"{split}.qrels.v1-0.txt"
    for path in (topics, qrels):
        if not path.is_file():
            raise InputError(f"missing {path.relative_to(topics_dir)}; an HC4 folder holds {expected}", path=topics_dir)
    return topics, qrels


def _one_path(value, what: str, ds_id: str) -> Path:
    paths = value if isinstance(value, (list, tuple)) else [value]
    if len(paths) != 1:
        raise InputError(f"ir_datasets gives {len(paths)} {what} files for {ds_id!r}; expected one")
    return Path(paths[0])


def _irds_files(ds_id: str, need_docs: bool) -> tuple[Path, Path, Path | None]:
    """(topics, qrels, docs) paths of an ir_datasets id, fetched by ir_datasets if need be."""
    try:
        import ir_datasets
    except ImportError:
        raise MissingDependencyError(
            f"{ds_id!r} is not a folder here; ir_datasets ids need ir_datasets (pip install ir_datasets), "
            f"or pass the folder of HC4 topics and qrels ({_SOURCE})"
        ) from None
    lang = ds_id.split("/")[1]
    try:
        dataset = ir_datasets.load(ds_id)
        topics = _one_path(dataset.queries_path(), "topics", ds_id)
        qrels = _one_path(dataset.qrels_path(), "qrels", ds_id)
        docs = Path(ir_datasets.load(f"hc4/{lang}").docs_path()) if need_docs else None
    except InputError:
        raise
    except Exception as e:  # ir_datasets raises its own errors, IOError, network errors
        reason = (str(e).strip().splitlines() or [""])[0]
        raise InputError(
            f"ir_datasets could not provide {ds_id!r} ({type(e).__name__}: {reason}); pass the folder of HC4 "
            "topics and qrels and the documents JSONL instead"
        ) from None
    return topics, qrels, docs


def is_ir_datasets_id(value: object) -> bool:
    """Whether ``value`` is an HC4 ir_datasets id (``hc4/fa/test``...) rather than an existing path."""
    return isinstance(value, str) and _IRDS_ID.fullmatch(value) is not None and not Path(value).exists()


def _resolve(
    topics_dir: str | os.PathLike, docs_path, docs_lang: str | None, split: str | None
) -> tuple[str, str, Path, Path, Path | None]:
    if is_ir_datasets_id(topics_dir):
        _, id_lang, id_split = topics_dir.split("/")
        if docs_lang is not None and _doc_lang(docs_lang) != id_lang:
            raise ParamError(f"docs_lang={docs_lang!r} contradicts the ir_datasets id {topics_dir!r}")
        if split is not None and split != id_split:
            raise ParamError(f"split={split!r} contradicts the ir_datasets id {topics_dir!r}")
        topics, qrels, irds_docs = _irds_files(topics_dir, need_docs=docs_path is None)
        return id_lang, id_split, topics, qrels, Path(docs_path) if docs_path is not None else irds_docs
    if docs_lang is None:
        raise ParamError("docs_lang is required (fa, ru or zh) unless topics_dir is an ir_datasets id ('hc4/fa/test')")
    lang = _doc_lang(docs_lang)
    split = split or "test"
    _check_choice(split, HC4_SPLITS, "split")
    topics, qrels = _folder_files(Path(topics_dir), lang, split)
    return lang, split, topics, qrels, Path(docs_path) if docs_path is not None else None


def iter_hc4_docs(docs_path: str | os.PathLike, docs_lang: str) -> Iterator[Doc]:
    """Stream the documents of an HC4 JSONL file (``id, title, text, url, time, cc_file``; ``.gz`` too).

    Each becomes ``Doc(id, text, title, lang, meta={url, time, cc_file})``. Raises
    :class:`InputError` with file and line for bad JSON, a missing id or text, or a
    duplicate id (while iterating).
    """
    return read_corpus(docs_path, lang=_doc_lang(docs_lang), fmt="jsonl")


def _prepare(topics_dir, docs_path, docs_lang, split, query_field, queries_lang, mt_source, skip_untranslated):
    _check_choice(query_field, HC4_QUERY_FIELDS, "query field")
    lang, split, topics_path, qrels_path, docs = _resolve(topics_dir, docs_path, docs_lang, split)
    source = _queries_source(queries_lang, lang)
    queries, qrels = _queries(
        topics_path, qrels_path, lang=lang, query_field=query_field, source=source,
        mt_source=mt_source, skip_untranslated=skip_untranslated,
    )
    name = f"hc4/{lang}/{split}/{source}.{query_field}"
    return lang, docs, Collection([], queries, qrels, name, "en" if source == "en" else lang, lang)


def load_hc4(
    topics_dir: str | os.PathLike,
    docs_path: str | os.PathLike | None = None,
    *,
    docs_lang: str | None = None,
    split: str | None = None,
    query_field: str = "title",
    queries_lang: str = "en",
    mt_source: str = HC4_MT_SOURCE,
    skip_untranslated: bool = False,
) -> Collection:
    """Load one HC4 task: the judged topics of ``split`` against the ``docs_lang`` documents.

    ``topics_dir`` is a folder laid out as HC4's ``resources/hc4/`` (or
    ``../shared/data/hc4``), with ``docs_lang`` one of ``fa``/``ru``/``zh`` (ISO 639-3
    ``fas``/``rus``/``zho`` too) and ``split`` ``train``/``dev``/``test`` (default
    ``test``); or an ir_datasets id ``hc4/{fa,ru,zh}/{train,dev,test}``, whose files
    ir_datasets provides (its documents too, unless ``docs_path`` is given).
    ``docs_path`` is the JSONL from HC4's download script (``.gz`` too); ``None`` loads
    topics and judgments only (``docs`` empty). ``query_field`` is ``title``,
    ``description`` or ``title+description``; ``queries_lang`` is ``en``, the documents'
    language (human translation) or ``mt`` (machine translation by ``mt_source``). See
    the module docstring for which topics count and ``skip_untranslated``.

    Returns a :class:`Collection` named ``hc4/{lang}/{split}/{en|lang|mt}.{field}``;
    judged documents missing from ``docs_path`` are logged as a warning. Raises
    :class:`ParamError` for an unknown language, split, field or queries language,
    :class:`MissingDependencyError` for an ir_datasets id without ir_datasets, and
    :class:`InputError` naming the file (and line) for a missing file, a malformed
    topic, qrels or document line, judged topics absent from the topics file, or a
    topic without the asked-for translation.
    """
    lang, docs, collection = _prepare(
        topics_dir, docs_path, docs_lang, split, query_field, queries_lang, mt_source, skip_untranslated
    )
    doc_list = list(read_corpus(docs, lang=lang, fmt="jsonl")) if docs is not None else []
    if docs is not None:
        check_joins(collection.name, {d.id for d in doc_list}, collection.queries, collection.qrels)
    logger.info("%s: %d docs, %d queries", collection.name, len(doc_list), len(collection.queries))
    return Collection(doc_list, collection.queries, collection.qrels, collection.name,
                      collection.queries_lang, collection.docs_lang)


def export_hc4(
    topics_dir: str | os.PathLike,
    docs_path: str | os.PathLike | None,
    out_dir: str | os.PathLike,
    *,
    docs_lang: str | None = None,
    split: str | None = None,
    query_field: str = "title",
    queries_lang: str = "en",
    mt_source: str = HC4_MT_SOURCE,
    skip_untranslated: bool = False,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write an HC4 task (see :func:`load_hc4`) as ``docs.jsonl``, ``queries.tsv``, ``qrels.txt``.

    The documents are streamed from ``docs_path`` to ``docs.jsonl`` without holding them
    in memory (4.7M for Russian). ``docs_path`` may be ``None`` only with an ir_datasets
    id. Returns the three paths; raises :class:`IndexExistsError` (before reading) if one
    exists and ``overwrite`` is false, and whatever :func:`load_hc4` raises.
    """
    output_paths(out_dir, overwrite=overwrite)
    lang, docs, collection = _prepare(
        topics_dir, docs_path, docs_lang, split, query_field, queries_lang, mt_source, skip_untranslated
    )
    if docs is None:
        raise ParamError("exporting HC4 needs the documents: pass docs_path (the JSONL from HC4's download script)")
    seen: set[str] = set()
    paths = write_collection(
        collection, out_dir, overwrite=overwrite, docs=collect_ids(read_corpus(docs, lang=lang, fmt="jsonl"), seen)
    )
    check_joins(collection.name, seen, collection.queries, collection.qrels)
    return paths
