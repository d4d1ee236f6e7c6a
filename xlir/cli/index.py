"""``xlir index``: build an index from a corpus file."""

from __future__ import annotations

import inspect
import logging
import shutil
import time
from pathlib import Path

import click

from xlir.cli.translate import doc_translation_options
from xlir.distributed.options import engine_options

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
@click.option("--append", "append", is_flag=True,
              help="Add the documents to the existing index as a new segment (its retriever and params); ids already there are an error.")
@click.option("--upsert", is_flag=True, help="Like --append, but documents whose ids are already in the index replace them.")
@click.option("--passage-words", type=click.IntRange(min=1), default=None,
              help="Split documents into passages of N words (MaxP: a document scores its best passage).")
@click.option("--passage-stride", type=click.IntRange(min=1), default=None,
              help="Words between passage starts [default: half of --passage-words].")
@doc_translation_options
@engine_options("Segments to build with --engine ray [default: one per worker the cluster can run].")
@click.pass_obj
def index(state, corpus: Path, retriever: str, lang: str, output: Path | None, params, overwrite: bool, translation,
          engine, append: bool = False, upsert: bool = False, passage_words: int | None = None,
          passage_stride: int | None = None) -> None:
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
    if (append or upsert) and overwrite:
        raise click.UsageError("--append/--upsert add to an index and --overwrite replaces it; give one of them")
    if passage_stride and not passage_words:
        raise click.UsageError("--passage-stride needs --passage-words")
    if passage_words and ((append or upsert) or engine.distributed):
        raise click.UsageError("--passage-words is not supported with --append/--upsert or --engine ray yet")
    if (append or upsert) and output.exists():
        _append(state, corpus, retriever, lang, output, params, translation, engine, upsert=upsert)
        return
    if output.exists() and not overwrite:
        raise IndexExistsError(f"{output} already exists; pass --overwrite to replace it")
    lang = normalize_lang(lang)
    options = parse_param_options(params)
    options.setdefault("lang", translation.index_lang(lang))
    if engine.distributed:
        from xlir.distributed.index import RetrieverSpec, build_index

        spec = RetrieverSpec(retriever, options, translation if translation.translate_docs else None)
        done = build_index(corpus, output, spec, lang=lang, shards=engine.shards, address=engine.address,
                           overwrite=overwrite, show_progress=state.show_progress)
        logger.info("indexed %d documents in %d segments (%d reused) in %.1fs (%.0f docs/s) -> %s", done["docs"],
                    done["shards"], len(done["reused"]), done["seconds"], done["docs_per_s"], output)
        click.echo(str(output))
        return
    model = RETRIEVERS.create(retriever, **options)
    start = time.perf_counter()
    kwargs = {}
    if "work_dir" in inspect.signature(model.index).parameters:
        # finished chunks survive an interruption here; re-running the command resumes
        kwargs["work_dir"] = output.parent / f".{output.name}.partial"
    model = translation.wrap_for_index(model)
    if passage_words:
        from xlir.passages import PassageRetriever

        model = PassageRetriever(model, words=passage_words, stride=passage_stride or max(1, passage_words // 2))
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


def _append(state, corpus: Path, retriever: str, lang: str, output: Path, params, translation, engine, *, upsert: bool) -> None:
    """``--append``/``--upsert``: index CORPUS with the index's own retriever and params, add it as a segment."""
    from xlir.analysis import normalize_lang
    from xlir.io import read_corpus
    from xlir.params import parse_param_options
    from xlir.registry import RETRIEVERS
    from xlir.segments import append, index_params, segment_class
    from xlir.store import read_manifest

    if engine.distributed:
        raise click.UsageError("--append/--upsert run with --engine local")
    name, base = index_params(output)
    ctx = click.get_current_context()
    if ctx.get_parameter_source("retriever") != click.core.ParameterSource.DEFAULT and retriever != name:
        raise click.UsageError(f"{output} is a {name} index; --retriever {retriever} cannot be appended to it")
    segment_class(name, read_manifest(output))  # refuses retrievers without segments before any work
    lang = normalize_lang(lang)
    model = RETRIEVERS.create(name, **{**base, **parse_param_options(params)})
    start = time.perf_counter()
    kwargs = {}
    if "work_dir" in inspect.signature(model.index).parameters:
        kwargs["work_dir"] = output.parent / f".{output.name}.append.partial"
    model = translation.wrap_for_index(model)
    model.index(read_corpus(corpus, lang=lang), show_progress=state.show_progress, **kwargs)
    manifest = append(output, model, upsert=upsert)
    if "work_dir" in kwargs:
        shutil.rmtree(kwargs["work_dir"], ignore_errors=True)
    logger.info(
        "added %d documents as a new segment in %.1fs -> %s (%d segments, %d documents)",
        model.doc_count, time.perf_counter() - start, output, len(manifest["segments"]), manifest["doc_count"],
    )
    click.echo(str(output))
