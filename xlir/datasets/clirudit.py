"""CLIRudit: English keyword queries against French scientific abstracts (Érudit).

Published on the Hugging Face Hub as ``ftvalentini/clirudit`` (CC BY-NC 4.0; Valentini,
Kozlowski and Larivière, MRL 2025), as parquet files in three configurations whose
splits pair up as follows::

    docs/fr.test-*.parquet      docid, title, subtitle, abstract   French articles (the CLIR corpus)
    docs/en.test-*.parquet      docid, title, subtitle, abstract   the same articles' English metadata
    queries/en.test-*.parquet   qid, query                         English queries (keyword triples)
    qrels/en_fr.test-*.parquet  qid, docid, rel                    English queries -> French docs
    qrels/en_en.test-*.parquet  qid, docid, rel                    English queries -> English docs

Our reading of the split names: ``{lang}.test`` is the language of a text split, and
``{queries}_{docs}.test`` names the query and document languages a qrels split joins.
There is one query split (``en.test``), so the queries are always English and
``docs_lang`` picks the pair: ``"fr"`` (the cross-lingual task, ``fr.test`` +
``en_fr.test``) or ``"en"`` (``en.test`` + ``en_en.test``: the authors' own English
titles and abstracts of the same articles, i.e. the human "document translation"
oracle and a monolingual upper reference).

A document's ``title`` is the article title; its ``text`` is the subtitle and the
abstract, one per line (either may be empty), so ``Doc.contents`` is
title + subtitle + abstract. Every query of ``en.test`` is loaded.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from xlir.datasets.base import Collection, check_joins, output_paths, write_collection
from xlir.errors import InputError, MissingDependencyError, ParamError
from xlir.types import Doc, Qrels, Query

__all__ = ["CLIRUDIT_HUB_NAME", "CLIRUDIT_DOCS_LANGS", "load_clirudit", "export_clirudit"]

logger = logging.getLogger(__name__)

CLIRUDIT_HUB_NAME = "ftvalentini/clirudit"
CLIRUDIT_DOCS_LANGS: tuple[str, ...] = ("fr", "en")

# column -> kind: "id" (string or integer), "text" (string, may be null), "int"
_COLUMNS: dict[str, dict[str, str]] = {
    "docs": {"docid": "id", "title": "text", "subtitle": "text", "abstract": "text"},
    "queries": {"qid": "id", "query": "text"},
    "qrels": {"qid": "id", "docid": "id", "rel": "int"},
}
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_SPACE = re.compile(r"\s")


def _splits(docs_lang: str) -> dict[str, str]:
    return {"docs": f"{docs_lang}.test", "queries": "en.test", "qrels": f"en_{docs_lang}.test"}


def _pyarrow():
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError(
            'CLIRudit is stored as parquet, which needs pyarrow: pip install "xlir[bench]" (or pip install pyarrow)'
        ) from None
    return pq


def _files(folder: Path, docs_lang: str, part: str) -> list[Path]:
    """The parquet shards of one part: ``{part}/{split}.parquet`` or ``{part}/{split}-*.parquet``."""
    split = _splits(docs_lang)[part]
    sub = folder / part
    found = sorted(
        p for p in sub.glob(f"{split}*.parquet") if p.name == f"{split}.parquet" or p.name.startswith(f"{split}-")
    ) if sub.is_dir() else []
    if not found:
        needed = ", ".join(f"{p}/{s}-*.parquet" for p, s in _splits(docs_lang).items())
        raise InputError(
            f"missing {part}/{split}-*.parquet; docs_lang={docs_lang!r} needs {needed}, as in the Hub repository "
            f"(huggingface-cli download {CLIRUDIT_HUB_NAME} --repo-type dataset --local-dir DIR)",
            path=folder,
        )
    return found


def _kind_ok(pa_type, kind: str) -> bool:
    import pyarrow as pa

    t = pa.types
    if kind == "text":
        return t.is_string(pa_type) or t.is_large_string(pa_type) or t.is_null(pa_type)
    if kind == "int":
        return t.is_integer(pa_type)
    return t.is_string(pa_type) or t.is_large_string(pa_type) or t.is_integer(pa_type)


def _columns(path: Path, part: str) -> list[list]:
    """Check ``path``'s schema against ``part``'s columns and return the values of each, in order."""
    pq = _pyarrow()
    wanted = _COLUMNS[part]
    try:
        schema = pq.read_schema(path)
    except Exception as e:  # pyarrow raises ArrowInvalid/OSError for non-parquet files
        raise InputError(f"not a readable parquet file ({e})", path=path) from None
    names = list(schema.names)
    for column, kind in wanted.items():
        if column not in names:
            raise InputError(
                f"missing column {column!r}: CLIRudit {part} files have the columns {', '.join(wanted)} "
                f"(this file has {', '.join(names) or 'none'})",
                path=path,
            )
        pa_type = schema.field(column).type
        if not _kind_ok(pa_type, kind):
            expected = {"id": "a string or an integer", "text": "a string", "int": "an integer"}[kind]
            raise InputError(f"column {column!r} has type {pa_type}, expected {expected}", path=path)
    try:
        table = pq.read_table(path, columns=list(wanted))
    except Exception as e:
        raise InputError(f"cannot read parquet data ({e})", path=path) from None
    return [table.column(c).to_pylist() for c in wanted]


def _id(value: object, what: str, path: Path, row: int) -> str:
    if value is None:
        raise InputError(f"row {row}: {what} is null", path=path)
    text = str(value).strip()
    if not text:
        raise InputError(f"row {row}: empty {what}", path=path)
    if _SPACE.search(text):
        raise InputError(f"row {row}: {what} {text!r} contains whitespace, which TREC files cannot hold", path=path)
    return text


def _rows(paths: list[Path], part: str):
    """``(path, row, values...)`` for every row of every shard; rows count from 1 in each file."""
    for path in paths:
        columns = _columns(path, part)
        for i, values in enumerate(zip(*columns), 1):
            yield (path, i, *values)


def _read_docs(paths: list[Path], lang: str) -> list[Doc]:
    docs = []
    seen: dict[str, tuple[Path, int]] = {}
    for path, row, docid, title, subtitle, abstract in _rows(paths, "docs"):
        doc_id = _id(docid, "docid", path, row)
        if doc_id in seen:
            first_path, first_row = seen[doc_id]
            where = f"row {first_row}" + ("" if first_path == path else f" of {first_path.name}")
            raise InputError(f"row {row}: duplicate docid {doc_id!r} (first seen on {where})", path=path)
        seen[doc_id] = (path, row)
        title = (title or "").strip()
        text = "\n".join(p for p in ((subtitle or "").strip(), (abstract or "").strip()) if p)
        if not title and not text:
            raise InputError(f"row {row}: document {doc_id!r} has no title, subtitle or abstract", path=path)
        docs.append(Doc(id=doc_id, text=text, title=title, lang=lang))
    return docs


def _read_queries(paths: list[Path]) -> list[Query]:
    queries = []
    seen: dict[str, int] = {}
    for path, row, qid, text in _rows(paths, "queries"):
        query_id = _id(qid, "qid", path, row)
        if query_id in seen:
            raise InputError(f"row {row}: duplicate qid {query_id!r}", path=path)
        seen[query_id] = row
        text = (text or "").strip()
        if not text:
            raise InputError(f"row {row}: query {query_id!r} has an empty text", path=path)
        queries.append(Query(id=query_id, text=text, lang="en"))
    return queries


def _read_qrels(paths: list[Path]) -> Qrels:
    qrels: Qrels = {}
    for path, row, qid, docid, rel in _rows(paths, "qrels"):
        query_id = _id(qid, "qid", path, row)
        doc_id = _id(docid, "docid", path, row)
        if rel is None:
            raise InputError(f"row {row}: rel is null", path=path)
        judged = qrels.setdefault(query_id, {})
        if doc_id in judged:
            raise InputError(f"row {row}: duplicate judgment for qid {query_id!r}, docid {doc_id!r}", path=path)
        judged[doc_id] = int(rel)
    return qrels


def _from_hub(name: str, docs_lang: str, revision: str | None) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise MissingDependencyError(
            f"{name!r} is not a local folder; fetching it from the Hugging Face Hub needs huggingface_hub "
            "(pip install huggingface_hub), or pass a local folder of the parquet files"
        ) from None
    patterns = [f"{part}/{split}*.parquet" for part, split in _splits(docs_lang).items()]
    try:
        folder = snapshot_download(name, repo_type="dataset", revision=revision, allow_patterns=patterns)
    except Exception as e:  # offline, unknown repository, network or authentication errors
        reason = (str(e).strip().splitlines() or [""])[0]
        raise InputError(
            f"{name!r} is not a local folder, and the Hugging Face Hub could not provide it "
            f"({type(e).__name__}: {reason}). Offline, download it on a connected machine "
            f"(huggingface-cli download {name} --repo-type dataset --local-dir DIR), copy DIR here "
            "and pass that folder instead"
        ) from None
    logger.info("using %s from the Hugging Face Hub cache at %s", name, folder)
    return Path(folder)


def _resolve(path_or_name: str | os.PathLike, docs_lang: str, revision: str | None) -> Path:
    path = Path(path_or_name)
    if path.is_dir():
        return path
    if path.exists():
        raise InputError("not a folder; a CLIRudit folder holds docs/, queries/ and qrels/ parquet files", path=path)
    if isinstance(path_or_name, str) and _REPO_ID.fullmatch(path_or_name):
        return _from_hub(path_or_name, docs_lang, revision)
    raise InputError(
        f"CLIRudit folder not found (nor a Hub name like {CLIRUDIT_HUB_NAME!r})", path=path
    )


def load_clirudit(
    path_or_name: str | os.PathLike = CLIRUDIT_HUB_NAME, *, docs_lang: str = "fr", revision: str | None = None
) -> Collection:
    """Load CLIRudit: English queries against the ``docs_lang`` (``"fr"`` or ``"en"``) documents.

    ``path_or_name`` is a local folder with the Hub repository's layout
    (``docs/fr.test-*.parquet``, ``queries/en.test-*.parquet``, ``qrels/en_fr.test-*.parquet``,
    and the ``en`` / ``en_en`` splits for ``docs_lang="en"``; only the files of the
    chosen pair are needed), or a Hub dataset name (default ``ftvalentini/clirudit``,
    ``revision`` optional) fetched with ``huggingface_hub`` into its cache. Returns a
    :class:`Collection` named ``clirudit/en-{docs_lang}``; judgments that do not join
    up with the queries or documents are logged as warnings.

    Raises :class:`ParamError` for another ``docs_lang``, :class:`MissingDependencyError`
    without pyarrow (or huggingface_hub, for a Hub name), and :class:`InputError` naming
    the file for a missing folder or file, a missing or mistyped column, a null or
    duplicate id, or a Hub download that failed (offline: pass a local folder).
    """
    if docs_lang not in CLIRUDIT_DOCS_LANGS:
        choices = ", ".join(CLIRUDIT_DOCS_LANGS)
        raise ParamError(f"unknown CLIRudit documents language {docs_lang!r}; available: {choices}")
    _pyarrow()
    folder = _resolve(path_or_name, docs_lang, revision)
    paths = {part: _files(folder, docs_lang, part) for part in _COLUMNS}
    docs = _read_docs(paths["docs"], docs_lang)
    queries = _read_queries(paths["queries"])
    qrels = _read_qrels(paths["qrels"])
    name = f"clirudit/en-{docs_lang}"
    check_joins(name, {d.id for d in docs}, queries, qrels)
    logger.info("%s: %d docs, %d queries, %d judgments", name, len(docs), len(queries),
                sum(len(r) for r in qrels.values()))
    return Collection(docs, queries, qrels, name, "en", docs_lang)


def export_clirudit(
    path_or_name: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    docs_lang: str = "fr",
    revision: str | None = None,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write CLIRudit (see :func:`load_clirudit`) as ``docs.jsonl``, ``queries.tsv``, ``qrels.txt``.

    Returns the three paths. Raises :class:`IndexExistsError` (before loading) if one
    exists and ``overwrite`` is false, and whatever :func:`load_clirudit` raises.
    """
    output_paths(out_dir, overwrite=overwrite)
    collection = load_clirudit(path_or_name, docs_lang=docs_lang, revision=revision)
    return write_collection(collection, out_dir, overwrite=overwrite)
