"""XQuAD-R (LAReQA): 11-way parallel paragraph retrieval built from XQuAD.

Each ``{lang}.json`` is SQuAD v1.1 JSON with the same 48 articles, 240 paragraphs and
1,190 questions in the same order and with the same question ids, so a question's
relevant paragraph in any language is the one at the same (article, paragraph) position.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from xlir.datasets.base import Collection
from xlir.errors import IndexExistsError, InputError, ParamError
from xlir.io import write_corpus, write_qrels, write_queries
from xlir.types import Doc, Qrels, Query

__all__ = ["XQUAD_R_LANGS", "POOLED", "XquadR", "load_xquad_r", "export_xquad_r"]

logger = logging.getLogger(__name__)

XQUAD_R_LANGS: tuple[str, ...] = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
#: ``docs_lang`` value for the LAReQA setting: the paragraphs of all 11 languages as one pool.
POOLED = "pooled"
_SOURCE = "github.com/google-research-datasets/lareqa, folder xquad-r/"


#: One XQuAD-R retrieval task: the common :class:`~xlir.datasets.base.Collection` shape.
XquadR = Collection


@dataclass(frozen=True)
class _Paragraph:
    context: str
    questions: tuple[tuple[str, str], ...]  # (question id, question)


@dataclass(frozen=True)
class _Article:
    title: str
    paragraphs: tuple[_Paragraph, ...]


def doc_id(lang: str, article: int, paragraph: int) -> str:
    """The id of a paragraph, e.g. ``de-03-01``; zero-padded so ids sort in file order."""
    return f"{lang}-{article:02d}-{paragraph:02d}"


def _check_lang(value: str, what: str, *, pooled_ok: bool = False) -> None:
    if value in XQUAD_R_LANGS or (pooled_ok and value == POOLED):
        return
    choices = ", ".join(XQUAD_R_LANGS) + (f" or {POOLED!r}" if pooled_ok else "")
    raise ParamError(f"unknown XQuAD-R {what} {value!r}; available: {choices}")


def _file(data_dir: Path, lang: str) -> Path:
    expected = ", ".join(f"{lang}.json" for lang in XQUAD_R_LANGS)
    if not data_dir.is_dir():
        raise InputError(f"XQuAD-R folder not found; expected a folder with {expected} (from {_SOURCE})", path=data_dir)
    path = data_dir / f"{lang}.json"
    if not path.is_file():
        raise InputError(f"missing {lang}.json; an XQuAD-R folder holds {expected} (from {_SOURCE})", path=data_dir)
    return path


def _field(obj: object, key: str, kind: type, where: str, path: Path):
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, kind):
        raise InputError(f"not SQuAD v1.1 JSON: {where}.{key} is missing or not a {kind.__name__}", path=path)
    return value


def _read(path: Path) -> list[_Article]:
    """Parse one SQuAD-style file, checking the fields used and question-id uniqueness."""
    try:
        root = json.loads(path.read_bytes())
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg} (column {e.colno})", path=path, line=e.lineno) from None
    except UnicodeDecodeError as e:
        raise InputError(f"invalid UTF-8 ({e.reason})", path=path) from None
    seen: set[str] = set()
    articles = []
    for a, article in enumerate(_field(root, "data", list, "", path)):
        where_a = f"data[{a}]"
        title = _field(article, "title", str, where_a, path)
        paragraphs = []
        for p, para in enumerate(_field(article, "paragraphs", list, where_a, path)):
            where_p = f"{where_a}.paragraphs[{p}]"
            context = _field(para, "context", str, where_p, path)
            if not context.strip():
                raise InputError(f"{where_p}.context is empty", path=path)
            questions = []
            for q, qa in enumerate(_field(para, "qas", list, where_p, path)):
                where_q = f"{where_p}.qas[{q}]"
                qid = _field(qa, "id", str, where_q, path).strip()
                text = _field(qa, "question", str, where_q, path).strip()
                if not qid or not text:
                    raise InputError(f"{where_q} has an empty id or question", path=path)
                if qid in seen:
                    raise InputError(f"{where_q}: duplicate question id {qid!r}", path=path)
                seen.add(qid)
                questions.append((qid, text))
            paragraphs.append(_Paragraph(context, tuple(questions)))
        articles.append(_Article(title, tuple(paragraphs)))
    return articles


def _check_aligned(ref: list[_Article], ref_path: Path, other: list[_Article], path: Path) -> None:
    """Raise :class:`InputError` naming ``path`` where its structure differs from ``ref``."""

    def fail(detail: str) -> None:
        raise InputError(f"not aligned with {ref_path.name}: {detail}", path=path)

    if len(other) != len(ref):
        fail(f"{len(other)} articles, expected {len(ref)}")
    for a, (ra, oa) in enumerate(zip(ref, other)):
        if len(oa.paragraphs) != len(ra.paragraphs):
            fail(f"article {a} ({ra.title!r}) has {len(oa.paragraphs)} paragraphs, expected {len(ra.paragraphs)}")
        for p, (rp, op) in enumerate(zip(ra.paragraphs, oa.paragraphs)):
            ref_ids = [qid for qid, _ in rp.questions]
            ids = [qid for qid, _ in op.questions]
            if ids != ref_ids:
                fail(f"article {a} paragraph {p}: question ids {ids} differ from {ref_ids}")


def load_xquad_r(data_dir: str | os.PathLike, *, queries_lang: str, docs_lang: str) -> XquadR:
    """Load the XQuAD-R task ``queries_lang`` -> ``docs_lang`` from a folder of ``{lang}.json``.

    Documents are the paragraphs of ``docs_lang`` (ids ``{lang}-{article:02d}-{paragraph:02d}``,
    empty title, the article title in ``meta["article_title"]``), or of all 11 languages
    when ``docs_lang="pooled"`` (the LAReQA setting). Queries are the ``queries_lang``
    questions with their ids from the files. Each query's relevant document (grade 1) is
    the aligned paragraph: one, or one per language when pooled.

    Raises :class:`ParamError` for an unknown language and :class:`InputError` for a
    missing folder or file, a malformed file, or files that are not aligned.
    """
    _check_lang(queries_lang, "queries language")
    _check_lang(docs_lang, "documents language", pooled_ok=True)
    data_dir = Path(data_dir)
    doc_langs = XQUAD_R_LANGS if docs_lang == POOLED else (docs_lang,)
    ref_path = _file(data_dir, queries_lang)
    ref = _read(ref_path)
    by_lang = {queries_lang: ref}
    for lang in doc_langs:
        if lang not in by_lang:
            path = _file(data_dir, lang)
            by_lang[lang] = _read(path)
            _check_aligned(ref, ref_path, by_lang[lang], path)

    docs = [
        Doc(
            id=doc_id(lang, a, p),
            text=para.context,
            lang=lang,
            meta={"article_title": article.title, "article": a, "paragraph": p},
        )
        for lang in doc_langs
        for a, article in enumerate(by_lang[lang])
        for p, para in enumerate(article.paragraphs)
    ]
    queries = []
    qrels: Qrels = {}
    for a, article in enumerate(ref):
        for p, para in enumerate(article.paragraphs):
            for qid, text in para.questions:
                queries.append(Query(id=qid, text=text, lang=queries_lang))
                qrels[qid] = {doc_id(lang, a, p): 1 for lang in doc_langs}
    name = f"xquad-r/{queries_lang}-{docs_lang}"
    logger.info("%s: %d docs, %d queries", name, len(docs), len(queries))
    return XquadR(docs, queries, qrels, name, queries_lang, docs_lang)


def export_xquad_r(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    queries_lang: str,
    docs_lang: str | None = None,
    pooled: bool = False,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write an XQuAD-R task as ``docs.jsonl``, ``queries.tsv`` and ``qrels.txt`` in ``out_dir``.

    ``pooled=True`` is the same as ``docs_lang="pooled"``; otherwise ``docs_lang`` is
    required. ``out_dir`` is created if needed; each file is written atomically. Returns
    ``{"docs": path, "queries": path, "qrels": path}``. Raises :class:`IndexExistsError`
    if one of the files exists and ``overwrite`` is false, :class:`ParamError` for
    conflicting or missing languages, and whatever :func:`load_xquad_r` raises.
    """
    if pooled:
        if docs_lang not in (None, POOLED):
            raise ParamError(f"pooled export uses the documents of every language; got docs_lang={docs_lang!r} too")
        docs_lang = POOLED
    elif docs_lang is None:
        raise ParamError("docs_lang is required unless pooled=True")
    out = Path(out_dir)
    paths = {"docs": out / "docs.jsonl", "queries": out / "queries.tsv", "qrels": out / "qrels.txt"}
    existing = [p.name for p in paths.values() if p.exists()]
    if existing and not overwrite:
        raise IndexExistsError(f"{out}: {', '.join(existing)} already exist(s); pass overwrite=True to replace")
    task = load_xquad_r(data_dir, queries_lang=queries_lang, docs_lang=docs_lang)
    out.mkdir(parents=True, exist_ok=True)
    write_corpus(task.docs, paths["docs"])
    write_queries(task.queries, paths["queries"])
    write_qrels(task.qrels, paths["qrels"])
    logger.info("exported %s to %s", task.name, out)
    return paths
