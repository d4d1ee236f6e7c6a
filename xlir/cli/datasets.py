"""``xlir datasets``: list the evaluation collections and export them as corpus/queries/qrels files."""

from __future__ import annotations

from pathlib import Path

import click

_OUTPUT = click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path),
                       help="Folder for docs.jsonl, queries.tsv and qrels.txt (created if needed).")
_OVERWRITE = click.option("--overwrite", is_flag=True, help="Replace existing output files.")


def _echo_paths(files: dict[str, Path]) -> None:
    for path in files.values():
        click.echo(str(path))


@click.group()
def datasets() -> None:
    """Evaluation collections: list them, export them to docs.jsonl / queries.tsv / qrels.txt."""


@datasets.command("list")
def list_collections() -> None:
    """List the collections `xlir datasets export` knows and what each needs."""
    import importlib.util

    from xlir.datasets.base import CATALOGUE

    for info in CATALOGUE:
        click.echo(f"{info.name:<10} {info.description}")
        click.echo(f"{'':<10} needs: {info.needs}")
        if info.modules:
            status = ", ".join(
                f"{m} {'installed' if importlib.util.find_spec(m) is not None else 'missing'}" for m in info.modules
            )
            click.echo(f"{'':<10} optional packages: {status}")


@datasets.group("export")
def export() -> None:
    """Export a collection into OUTPUT as docs.jsonl, queries.tsv and qrels.txt."""


@export.command("xquad-r")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder with the collection's files (e.g. ../shared/data/xquad-r).")
@click.option("--queries-lang", required=True, help="Language of the queries.")
@click.option("--docs-lang", help="Language of the documents (omit with --pooled).")
@click.option("--pooled", is_flag=True, help="All languages' documents in one corpus (LAReQA setting).")
@_OUTPUT
@_OVERWRITE
def export_xquad_r(data_dir: Path, queries_lang: str, docs_lang: str | None, pooled: bool, output: Path,
                   overwrite: bool) -> None:
    """XQuAD-R: questions in one language, paragraphs in another (or all 11)."""
    from xlir.analysis import normalize_lang
    from xlir.datasets.xquad_r import export_xquad_r as run

    if not pooled and not docs_lang:
        raise click.UsageError("give --docs-lang L, or --pooled")
    files = run(
        data_dir,
        output,
        queries_lang=normalize_lang(queries_lang),
        docs_lang=None if pooled else normalize_lang(docs_lang),
        pooled=pooled,
        overwrite=overwrite,
    )
    _echo_paths(files)


@export.command("clirudit")
@click.option("--data", "data", default="ftvalentini/clirudit", show_default=True,
              help="Local folder with the Hub repo's parquet files (docs/, queries/, qrels/), or a Hub dataset name.")
@click.option("--docs-lang", default="fr", show_default=True,
              help="fr: the French abstracts (cross-lingual); en: the same articles' English abstracts.")
@click.option("--revision", help="Hub revision (branch, tag or commit) when --data is a Hub name.")
@_OUTPUT
@_OVERWRITE
def export_clirudit(data: str, docs_lang: str, revision: str | None, output: Path, overwrite: bool) -> None:
    """CLIRudit: English keyword queries against French scientific abstracts."""
    from xlir.analysis import normalize_lang
    from xlir.datasets.clirudit import export_clirudit as run

    _echo_paths(run(data, output, docs_lang=normalize_lang(docs_lang), revision=revision, overwrite=overwrite))


@export.command("hc4")
@click.option("--data", "data", required=True,
              help="Folder of HC4 topics and qrels ({split}.topics.v1-0.jsonl, {fas,rus,zho}/{split}.qrels.v1-0.txt), "
                   "or an ir_datasets id like hc4/fa/test.")
@click.option("--docs", "docs", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Documents JSONL from HC4's download script (optional with an ir_datasets id).")
@click.option("--docs-lang", help="fa, ru or zh (fas, rus, zho too); implied by an ir_datasets id.")
@click.option("--split", type=click.Choice(["train", "dev", "test"]), help="Topic split (default test).")
@click.option("--query-field", type=click.Choice(["title", "description", "title+description"]), default="title",
              show_default=True)
@click.option("--queries-lang", default="en", show_default=True,
              help="en (English topics), the documents' language (human translation) or mt (machine translation).")
@click.option("--mt-source", help="Machine translation system for --queries-lang mt "
                                 "(default 20220114-scale21-sockeye2-tm1, which covers every topic).")
@click.option("--skip-untranslated", is_flag=True,
              help="Leave out judged topics that lack the asked-for translation instead of failing.")
@_OUTPUT
@_OVERWRITE
def export_hc4(data: str, docs: Path | None, docs_lang: str | None, split: str | None, query_field: str,
               queries_lang: str, mt_source: str, skip_untranslated: bool, output: Path, overwrite: bool) -> None:
    """HC4: English topics against Persian, Russian or Chinese news."""
    from xlir.datasets.hc4 import HC4_MT_SOURCE, is_ir_datasets_id
    from xlir.datasets.hc4 import export_hc4 as run

    if not is_ir_datasets_id(data):
        if not Path(data).is_dir():
            raise click.UsageError(f"--data {data!r} is neither a folder nor an ir_datasets id like hc4/fa/test")
        if not docs_lang:
            raise click.UsageError("give --docs-lang (fa, ru or zh)")
        if docs is None:
            raise click.UsageError("give --docs, the documents JSONL from HC4's download script")
    files = run(data, docs, output, docs_lang=docs_lang, split=split, query_field=query_field,
                queries_lang=queries_lang, mt_source=mt_source or HC4_MT_SOURCE,
                skip_untranslated=skip_untranslated, overwrite=overwrite)
    _echo_paths(files)


@export.command("beir")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="BEIR-style folder: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv.")
@click.option("--split", default="test", show_default=True, help="Which qrels/SPLIT.tsv to use.")
@click.option("--docs-lang", help="Language of documents that do not name their own.")
@click.option("--queries-lang", help="Language of queries that do not name their own.")
@_OUTPUT
@_OVERWRITE
def export_beir(data_dir: Path, split: str, docs_lang: str | None, queries_lang: str | None, output: Path,
                overwrite: bool) -> None:
    """A BEIR-style folder (one split)."""
    from xlir.datasets.generic import export_beir as run

    _echo_paths(run(data_dir, output, split=split, docs_lang=docs_lang, queries_lang=queries_lang,
                    overwrite=overwrite))
