"""``xlir index``: build an index from a corpus file."""

from __future__ import annotations

import inspect
import logging
import shutil
import time
from pathlib import Path

import click

from xlir.cli.translate import doc_translation_options

logger = logging.getLogger(__name__)


def default_output(corpus: Path, retriever: str) -> Path:
    name = corpus.name
    for suffix in (".gz", ".jsonl", ".json", ".tsv"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return Path("indexes") / f"{name}.{retriever}"


@click.command()
@click.argument("corpus", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--retriever", "-r", default="bm25", show_default=True, help="Registered retriever name (see `xlir list`).")
@click.option("--lang", "-l", required=True, help="Document language (ISO 639-1/639-3 code).")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Index folder [default: indexes/<corpus>.<retriever>].")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Retriever parameter (repeatable).")
@click.option("--overwrite", is_flag=True, help="Replace an existing index.")
@doc_translation_options
@click.pass_obj
def index(state, corpus: Path, retriever: str, lang: str, output: Path | None, params, overwrite: bool, translation) -> None:
    """Index CORPUS (JSONL: id, text, optional title/lang) with a retriever.

    With --translate-docs, documents (in --lang) are translated into --translate-to
    first, and the index is in that language.
    """
    from xlir.analysis import normalize_lang
    from xlir.errors import IndexExistsError
    from xlir.io import read_corpus
    from xlir.params import parse_param_options
    from xlir.registry import RETRIEVERS

    output = output or default_output(corpus, retriever)
    if output.exists() and not overwrite:
        raise IndexExistsError(f"{output} already exists; pass --overwrite to replace it")
    lang = normalize_lang(lang)
    options = parse_param_options(params)
    options.setdefault("lang", translation.index_lang(lang))
    model = RETRIEVERS.create(retriever, **options)
    start = time.perf_counter()
    kwargs = {}
    if "work_dir" in inspect.signature(model.index).parameters:
        # finished chunks survive an interruption here; re-running the command resumes
        kwargs["work_dir"] = output.parent / f".{output.name}.partial"
    model = translation.wrap_for_index(model)
    model.index(read_corpus(corpus, lang=lang), show_progress=state.show_progress, **kwargs)
    model.save(output, overwrite=overwrite)
    if "work_dir" in kwargs:
        shutil.rmtree(kwargs["work_dir"], ignore_errors=True)
    elapsed = time.perf_counter() - start
    logger.info(
        "indexed %d documents in %.1fs (%.0f docs/s) -> %s",
        model.doc_count, elapsed, model.doc_count / max(elapsed, 1e-9), output,
    )
    click.echo(str(output))
