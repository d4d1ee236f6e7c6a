"""``xlir search``: query an index; one query prints a table, a query file writes a TREC run."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import click

from xlir.cli.translate import query_translation_options
from xlir.distributed.options import engine_options

logger = logging.getLogger(__name__)


def snippet(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command()
@click.argument("index_path", metavar="[INDEX]", required=False, type=click.Path(path_type=Path))
@click.option("--query", "query_text", help="One query; prints a ranked table.")
@click.option("--queries", "queries_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Queries file (TSV qid<TAB>text, or JSONL); writes a TREC run.")
@click.option("--query-lang", help="Query language (default: the index's document language).")
@click.option("-k", "k", type=click.IntRange(min=1), default=100, show_default=True, help="Results per query.")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Run file to write (default: stdout).")
@click.option("--run-name", default=None, help="Run tag in the TREC run's 6th column [default: the index name].")
@click.option("--rerank", metavar="NAME[:ARG]",
              help="Rerank the top --rerank-depth results: adapter[:DIR], cross-encoder:MODEL (see `xlir list`).")
@click.option("--rerank-param", "rerank_params", multiple=True, metavar="KEY=VALUE",
              help="Reranker parameter, e.g. batch_size=16 (repeatable).")
@click.option("--rerank-depth", type=click.IntRange(min=1), default=100, show_default=True,
              help="How many of the first results the reranker rescores; the rest stay below, in order.")
@click.option("--pipeline", "pipeline_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Pipeline file (YAML/JSON, or a run's .meta.json): stages, fusion, translation, reranker, k. "
                   "Replaces INDEX, -k, --rerank* and --translate-query/--translator*.")
@query_translation_options
@engine_options("Actors holding the index's segments with --engine ray [default: one per worker, at most one per segment].")
@click.pass_obj
def search(state, index_path: Path, query_text, queries_file, query_lang, k: int, output, run_name, rerank,
           rerank_params, rerank_depth, pipeline_file, translation, engine) -> None:
    """Search INDEX (or run the pipeline in --pipeline FILE) with --query TEXT or --queries FILE.

    With --translate-query, queries are translated from --query-lang into the index's
    document language first. With --rerank, a reranker rescores the top --rerank-depth
    results. A run written to --output gets a sidecar RUN.meta.json recording the whole
    pipeline (indexes, translation, fusion, reranker, k); `xlir search --pipeline
    RUN.meta.json` runs it again.
    """
    from xlir.params import parse_param_options
    from xlir.pipeline import Pipeline, cli_pipeline_spec
    from xlir.store import load_index

    if (query_text is None) == (queries_file is None):
        raise click.UsageError("give exactly one of --query TEXT or --queries FILE")
    ctx = click.get_current_context()
    if pipeline_file is not None:
        spec, lang = _pipeline_from_file(ctx, pipeline_file, index_path, query_lang, translation, engine)
        pipe = Pipeline(spec, translation_cache=translation.cache_dir, no_translation_cache=translation.no_cache,
                        allow_lang_mismatch=translation.allow_lang_mismatch)
        ctx.call_on_close(pipe.close)
        _run_search(state, pipe, lang, query_text, queries_file, output, run_name or spec.name or pipeline_file.stem)
        return
    if index_path is None:
        raise click.UsageError("missing INDEX (or give --pipeline FILE)")
    if rerank is None and (rerank_params or _given(ctx, "rerank_depth")):
        raise click.UsageError("--rerank-depth and --rerank-param need --rerank NAME[:ARG]")
    lang = translation.query_lang(query_lang)
    if engine.distributed:
        from xlir.distributed.search import FanOutSearcher

        index = FanOutSearcher(index_path, address=engine.address, holders=engine.shards)
        click.get_current_context().call_on_close(index.close)
    else:
        index = load_index(index_path)
    retriever = translation.wrap_for_search(index, lang)
    if query_text is not None and k == 100 and not _given(ctx, "k"):
        k = 10  # a readable table by default
    spec = cli_pipeline_spec(
        index_path, k=k, translator=translation.translator if translation.translate_query else None,
        translator_params=parse_param_options(translation.translator_params), rerank=rerank,
        rerank_params=parse_param_options(rerank_params), rerank_depth=rerank_depth, query_lang=lang,
        name=run_name or Path(index_path).name or Path(index_path).resolve().name,
    )
    pipe = Pipeline(spec, stages=[retriever])
    ctx.call_on_close(pipe.close)
    _run_search(state, pipe, lang, query_text, queries_file, output, spec.name)


def _given(ctx: click.Context, name: str) -> bool:
    """Whether option ``name`` was given on the command line (not its default)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source != click.core.ParameterSource.DEFAULT


def _pipeline_from_file(ctx, pipeline_file: Path, index_path, query_lang, translation, engine):
    """The pipeline spec and query language for --pipeline; refuses the options the file sets."""
    from xlir.pipeline import load_pipeline

    conflicts = [opt for opt, given in (
        ("INDEX", index_path is not None), ("-k", _given(ctx, "k")), ("--rerank", _given(ctx, "rerank")),
        ("--rerank-param", _given(ctx, "rerank_params")), ("--rerank-depth", _given(ctx, "rerank_depth")),
        ("--translate-query", translation.translate_query), ("--translator", translation.translator is not None),
        ("--translator-param", bool(translation.translator_params)), ("--engine ray", engine.distributed),
    ) if given]
    if conflicts:
        raise click.UsageError(f"{', '.join(conflicts)} cannot be combined with --pipeline: the pipeline file "
                               f"{pipeline_file} sets the indexes, k, translation and reranker; edit it instead")
    spec = load_pipeline(pipeline_file)
    lang = query_lang or spec.query_lang
    if spec.translates:
        if not lang:
            raise click.UsageError(f"{pipeline_file} translates queries: give --query-lang LANG or set query_lang in it")
        from xlir.translate import translation_lang

        lang = translation_lang(lang)
    elif lang:
        from xlir.analysis import normalize_lang

        lang = normalize_lang(lang)
    return spec, lang


def _run_search(state, pipe, lang, query_text, queries_file, output, tag) -> None:
    """Search with ``pipe``: print a table for one query, or write the run (and its sidecar) for a file."""
    from xlir.io import read_queries, write_run
    from xlir.pipeline import file_sha256, run_record, write_run_meta
    from xlir.types import Query

    if query_text is not None:
        if not query_text.strip():
            raise click.UsageError("--query is empty")
        run = pipe.search([Query(id="q", text=query_text, lang=lang)])
        results = sorted(run.get("q", {}).items(), key=lambda x: (-x[1], x[0]))
        if not results:
            click.echo("no results")
            return
        docs = pipe.docs
        width = max(len(d) for d, _ in results)
        click.echo(f"{'rank':>4}  {'score':>8}  {'docid':<{width}}  text")
        for rank, (docid, score) in enumerate(results, 1):
            doc = docs[docid]
            click.echo(f"{rank:>4}  {score:8.4f}  {docid:<{width}}  {snippet(doc.contents)}")
        return
    queries = read_queries(queries_file, lang=lang)
    start = time.perf_counter()
    run = pipe.search(queries, query_lang=lang, show_progress=state.show_progress)
    elapsed = time.perf_counter() - start
    logger.info("searched %d queries in %.2fs (%.0f queries/s)", len(queries), elapsed, len(queries) / max(elapsed, 1e-9))
    if output is None:
        write_run(run, sys.stdout, tag=tag)
        return
    write_run(run, output, tag=tag)
    record = run_record(tag=tag, pipeline=pipe, queries={
        "path": str(Path(queries_file).resolve()), "sha256": file_sha256(queries_file), "count": len(queries),
        "lang": lang})
    record["run"] = Path(output).name
    record["elapsed_s"] = elapsed
    meta = write_run_meta(output, record)
    logger.info("wrote %s and %s", output, meta.name)
