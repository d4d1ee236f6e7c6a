"""``xlir datasets``: export evaluation collections as corpus/queries/qrels files."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def datasets() -> None:
    """Export evaluation collections to docs.jsonl / queries.tsv / qrels.txt."""


@datasets.command("export")
@click.argument("name", type=click.Choice(["xquad-r"]))
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder with the collection's files (e.g. ../shared/data/xquad-r).")
@click.option("--queries-lang", required=True, help="Language of the queries.")
@click.option("--docs-lang", help="Language of the documents (omit with --pooled).")
@click.option("--pooled", is_flag=True, help="All languages' documents in one corpus (LAReQA setting).")
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
def export(name: str, data_dir: Path, queries_lang: str, docs_lang: str | None, pooled: bool, output: Path, overwrite: bool) -> None:
    """Export collection NAME into OUTPUT (docs.jsonl, queries.tsv, qrels.txt)."""
    from xlir.analysis import normalize_lang
    from xlir.datasets.xquad_r import export_xquad_r

    if not pooled and not docs_lang:
        raise click.UsageError("give --docs-lang L, or --pooled")
    files = export_xquad_r(
        data_dir,
        output,
        queries_lang=normalize_lang(queries_lang),
        docs_lang=None if pooled else normalize_lang(docs_lang),
        pooled=pooled,
        overwrite=overwrite,
    )
    for path in files.values():
        click.echo(str(path))
