"""From collection entries to tasks (one collection, one document language) written as files.

Each task is exported once into the cache as ``docs.jsonl``, ``queries.tsv`` and
``qrels.txt`` (the files ``xlir index/search/eval`` read), so that every number of the
grid comes from the same files a person would use by hand. For XQuAD-R, ``table:auto``
translation tables are written beside them from the collection's own human
translations, with :func:`xlir.translate.write_table` and :func:`xlir.translate.build_table`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from xlir.bench.config import BenchConfig, CollectionSpec
from xlir.datasets.base import Collection
from xlir.errors import ParamError
from xlir.types import Doc, Query

__all__ = ["Task", "PreparedTask", "iter_tasks", "prepare_task", "content_digest"]

logger = logging.getLogger(__name__)

_STAMP = "bench-data.json"
_STAMP_VERSION = 1


@dataclass
class Task:
    """One cell of the collection axis: ``collection`` with documents in ``docs_lang``."""

    collection: str
    slug: str  # file-system name, e.g. xquad-r.en-de
    label: str  # for tables, e.g. en→de
    queries_lang: str | None
    docs_lang: str | None
    load: Callable[[], Collection]
    #: for ``table:auto``: writes the translation tables into a folder, returns {mode: path}
    auto_tables: Callable[[Path], dict[str, Path]] | None = None
    #: what the auto tables are made from (digested to tell when they must be rewritten)
    auto_inputs: Callable[[], object] | None = None
    info: dict = field(default_factory=dict)


@dataclass
class PreparedTask:
    task: Task
    folder: Path
    docs: Path
    queries: Path
    qrels: Path
    tables: dict[str, Path]
    digest: dict[str, str]  # docs / queries / qrels content digests
    n_docs: int
    n_queries: int
    name: str


def _h(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def content_digest(docs: list[Doc] | None = None, queries: list[Query] | None = None, qrels=None) -> str:
    """SHA-256 of documents (id, title, text, lang), queries (id, text, lang) or qrels."""
    h = hashlib.sha256()
    for d in docs or ():
        h.update(json.dumps([d.id, d.title, d.text, d.lang], ensure_ascii=False).encode())
        h.update(b"\n")
    for q in queries or ():
        h.update(json.dumps([q.id, q.text, q.lang], ensure_ascii=False).encode())
        h.update(b"\n")
    if qrels is not None:
        h.update(json.dumps(qrels, sort_keys=True).encode())
    return h.hexdigest()


def _norm(lang: str | None) -> str | None:
    if lang is None:
        return None
    from xlir.analysis import normalize_lang

    return normalize_lang(lang)


def _xquad_tasks(spec: CollectionSpec, config: BenchConfig) -> Iterator[Task]:
    from xlir.datasets import XQUAD_R_LANGS, load_xquad_r

    folder = config.resolve_data(spec.options["path"])
    if not (folder / "en.json").is_file() and (Path(str(folder)).parent / "en.json").is_file():
        folder = folder.parent  # --data pointed at the xquad-r folder itself
    ql = spec.options["queries_lang"]
    for dl in spec.options["langs"]:
        if dl not in XQUAD_R_LANGS and dl != "pooled":
            raise ParamError(f"collection {spec.name!r}: unknown XQuAD-R language {dl!r}; "
                             f"available: {', '.join(XQUAD_R_LANGS)} or pooled")

        def load(dl=dl) -> Collection:
            return load_xquad_r(folder, queries_lang=ql, docs_lang=dl)

        def inputs(dl=dl):
            # the human translations: dl questions (same ids) and ql paragraphs (same positions)
            return (load_xquad_r(folder, queries_lang=dl, docs_lang=dl).queries,
                    load_xquad_r(folder, queries_lang=ql, docs_lang=ql).docs)

        def tables(out: Path, dl=dl) -> dict[str, Path]:
            from xlir.io import write_corpus
            from xlir.translate import build_table, write_table

            native_queries, target_docs = inputs(dl)
            out.mkdir(parents=True, exist_ok=True)
            qpath = out / f"queries.{ql}-{dl}.jsonl"
            write_table({q.id: q.text for q in native_queries}, qpath, lang=dl)
            source = out / f"docs.{ql}.jsonl"
            write_corpus(target_docs, source)
            dpath = out / f"docs.{dl}-{ql}.jsonl"
            build_table(source, dpath, lang=ql, rename=(f"{ql}-", f"{dl}-"))
            source.unlink()
            return {"query": qpath, "document": dpath}

        pooled = dl == "pooled"
        yield Task(
            collection=spec.name, slug=f"{spec.name}.{ql}-{dl}", label=f"{ql}→{dl}", queries_lang=ql,
            docs_lang=None if pooled else dl, load=load,
            auto_tables=None if pooled or dl == ql else tables,
            auto_inputs=None if pooled or dl == ql else (lambda dl=dl: inputs(dl)),
            info={"type": "xquad-r", "path": str(folder)},
        )


def _files_task(spec: CollectionSpec, config: BenchConfig) -> Iterator[Task]:
    from xlir.datasets import load_files

    o = spec.options
    paths = {k: config.resolve_data(o[k]) for k in ("corpus", "queries", "qrels")}
    ql, dl = _norm(o["queries_lang"]), _norm(o["docs_lang"])

    def load() -> Collection:
        return load_files(paths["corpus"], paths["queries"], paths["qrels"], name=spec.name, docs_lang=dl,
                          queries_lang=ql)

    yield Task(spec.name, f"{spec.name}.{ql or 'x'}-{dl or 'x'}", f"{ql or '?'}→{dl or '?'}", ql, dl, load,
               info={"type": "files", **{k: str(v) for k, v in paths.items()}})


def _beir_task(spec: CollectionSpec, config: BenchConfig) -> Iterator[Task]:
    from xlir.datasets import load_beir

    o = spec.options
    folder = config.resolve_data(o["path"])
    ql, dl = _norm(o["queries_lang"]), _norm(o["docs_lang"])

    def load() -> Collection:
        return load_beir(folder, o["split"], name=spec.name, docs_lang=dl, queries_lang=ql)

    yield Task(spec.name, f"{spec.name}.{o['split']}", f"{ql or '?'}→{dl or '?'}", ql, dl, load,
               info={"type": "beir", "path": str(folder), "split": o["split"]})


def _clirudit_tasks(spec: CollectionSpec, config: BenchConfig) -> Iterator[Task]:
    from xlir.datasets import load_clirudit

    o = spec.options
    raw = str(o["path"])
    folder = config.resolve_data(raw)
    where = folder if folder.exists() or "/" not in raw or raw.startswith((".", "/", "~")) else raw  # Hub name
    for dl in o["langs"]:
        def load(dl=dl) -> Collection:
            return load_clirudit(where, docs_lang=dl, revision=o["revision"])

        yield Task(spec.name, f"{spec.name}.en-{dl}", f"en→{dl}", "en", dl, load,
                   info={"type": "clirudit", "path": str(where)})


def _hc4_tasks(spec: CollectionSpec, config: BenchConfig) -> Iterator[Task]:
    from xlir.datasets import load_hc4

    o = spec.options
    topics = config.resolve_data(o["path"])
    for dl in o["langs"]:
        docs = config.resolve_data(str(o["docs"]).replace("{lang}", dl))

        def load(dl=dl, docs=docs) -> Collection:
            return load_hc4(topics, docs, docs_lang=dl, split=o["split"], query_field=o["query_field"],
                            queries_lang=o["queries_lang"])

        ql = o["queries_lang"] if o["queries_lang"] != "mt" else "en"
        yield Task(spec.name, f"{spec.name}.{o['split']}.{o['queries_lang']}-{dl}", f"{o['queries_lang']}→{dl}",
                   ql if o["queries_lang"] != "mt" else None, dl, load,
                   info={"type": "hc4", "topics": str(topics), "docs": str(docs)})


_BUILDERS = {"xquad-r": _xquad_tasks, "files": _files_task, "beir": _beir_task, "clirudit": _clirudit_tasks,
             "hc4": _hc4_tasks}


def iter_tasks(config: BenchConfig) -> Iterator[Task]:
    """Every (collection, language) task of the grid, in configuration order."""
    for spec in config.collections:
        yield from _BUILDERS[spec.type](spec, config)


def prepare_task(task: Task, folder: Path, *, auto_tables: bool, force: bool = False) -> PreparedTask:
    """Load the task's collection and export it into ``folder`` unless an identical export is there.

    Returns the file paths and content digests. ``auto_tables`` also writes the
    ``table:auto`` translation tables (XQuAD-R only). Files are rewritten only when the
    collection's content changed (a stamp file records the digests).
    """
    from xlir.datasets import write_collection

    coll = task.load()
    digest = {
        "docs": content_digest(docs=coll.docs),
        "queries": content_digest(queries=coll.queries),
        "qrels": content_digest(qrels=coll.qrels),
    }
    want_tables = auto_tables and task.auto_tables is not None
    if want_tables:
        native_queries, target_docs = task.auto_inputs()
        digest["tables"] = _h([content_digest(queries=native_queries), content_digest(docs=target_docs)])
    stamp_path = folder / _STAMP
    stamp = {"version": _STAMP_VERSION, "digest": digest, "name": coll.name, "docs": len(coll.docs),
             "queries": len(coll.queries), "queries_lang": coll.queries_lang, "docs_lang": coll.docs_lang}
    old = None
    if stamp_path.is_file() and not force:
        try:
            old = json.loads(stamp_path.read_text(encoding="utf-8"))
        except ValueError:
            old = None
    files = [folder / "docs.jsonl", folder / "queries.tsv", folder / "qrels.txt"]
    old_tables = {m: folder / p for m, p in (old or {}).get("tables", {}).items()}
    fresh = (
        old is not None
        and {k: v for k, v in old.items() if k != "tables"} == stamp
        and all(p.is_file() for p in files)
        and (not want_tables or (old_tables and all(p.is_file() for p in old_tables.values())))
    )
    tables: dict[str, Path] = {}
    if fresh:
        logger.debug("%s: exported files are up to date in %s", task.slug, folder)
        tables = old_tables if want_tables else {}
    else:
        logger.info("%s: exporting %d docs, %d queries to %s", task.slug, len(coll.docs), len(coll.queries), folder)
        stamp_path.unlink(missing_ok=True)
        write_collection(coll, folder, overwrite=True)
        if want_tables:
            tables = task.auto_tables(folder / "tables")
        from xlir.io import atomic_write_text

        stamp["tables"] = {m: Path(p).relative_to(folder).as_posix() for m, p in tables.items()}
        atomic_write_text(stamp_path, json.dumps(stamp, indent=1, ensure_ascii=False))  # written last
    return PreparedTask(task, folder, folder / "docs.jsonl", folder / "queries.tsv", folder / "qrels.txt", tables,
                        digest, len(coll.docs), len(coll.queries), coll.name)
