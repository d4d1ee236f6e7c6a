"""``xlir search``: query an index; one query prints a table, a query file writes a TREC run."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import click

from xlir.cli.translate import query_translation_options

logger = logging.getLogger(__name__)


def snippet(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command()
@click.argument("index_path", metavar="INDEX", type=click.Path(path_type=Path))
@click.option("--query", "query_text", help="One query; prints a ranked table.")
@click.option("--queries", "queries_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Queries file (TSV qid<TAB>text, or JSONL); writes a TREC run.")
@click.option("--query-lang", help="Query language (default: the index's document language).")
@click.option("-k", "k", type=click.IntRange(min=1), default=100, show_default=True, help="Results per query.")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Run file to write (default: stdout).")
@click.option("--run-name", default=None, help="Run tag in the TREC run's 6th column [default: the index name].")
@query_translation_options
@click.pass_obj
def search(state, index_path: Path, query_text, queries_file, query_lang, k: int, output, run_name, translation) -> None:
    """Search INDEX with --query TEXT or --queries FILE.

    With --translate-query, queries are translated from --query-lang into the index's
    document language first.
    """
    from xlir.io import read_queries, write_run
    from xlir.store import load_index
    from xlir.types import Query

    if (query_text is None) == (queries_file is None):
        raise click.UsageError("give exactly one of --query TEXT or --queries FILE")
    lang = translation.query_lang(query_lang)
    retriever = translation.wrap_for_search(load_index(index_path), lang)
    if query_text is not None:
        if not query_text.strip():
            raise click.UsageError("--query is empty")
        k = min(k, 10) if k == 100 else k  # a readable table by default
        run = retriever.search([Query(id="q", text=query_text, lang=lang)], k=k)
        results = sorted(run["q"].items(), key=lambda x: (-x[1], x[0]))
        if not results:
            click.echo("no results")
            return
        docs = retriever.docs
        width = max(len(d) for d, _ in results)
        click.echo(f"{'rank':>4}  {'score':>8}  {'docid':<{width}}  text")
        for rank, (docid, score) in enumerate(results, 1):
            doc = docs[docid]
            click.echo(f"{rank:>4}  {score:8.4f}  {docid:<{width}}  {snippet(doc.contents)}")
        return
    queries = read_queries(queries_file, lang=lang)
    start = time.perf_counter()
    run = retriever.search(queries, k=k, show_progress=state.show_progress)
    elapsed = time.perf_counter() - start
    logger.info("searched %d queries in %.2fs (%.0f queries/s)", len(queries), elapsed, len(queries) / max(elapsed, 1e-9))
    tag = run_name or Path(index_path).name
    if output is None:
        write_run(run, sys.stdout, tag=tag)
    else:
        write_run(run, output, tag=tag)
        logger.info("wrote %s", output)
