"""``xlir bench``: run a benchmark grid (YAML/JSON) with every index and run cached."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--data", type=click.Path(file_okay=False, path_type=Path),
              help="Data root for the collections' relative paths [default: the config's `data`, else its folder].")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path),
              help="Cache folder for exported data, indexes and runs [default: the config's `cache`, else indexes/bench].")
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for report.md, results.json and quality_vs_speed.png [default: CACHE/reports/NAME].")
@click.option("--langs", help="Comma-separated languages replacing every collection's `langs` (quick runs).")
@click.option("--baseline", help="System to test the others against, e.g. bm25/none [default: the config's, else the first].")
@click.option("--threads", type=click.IntRange(min=1), help="Threads for torch/BLAS/faiss/numba (default: their own).")
@click.option("--force", is_flag=True, help="Recompute every index and run, ignoring the cache.")
def bench(config: Path, data, cache, output, langs, baseline, threads, force) -> None:
    """Run the grid in CONFIG and print its Markdown report.

    CONFIG lists collections, retrievers, translation modes (none, query, document),
    rerankers, measures and statistics (see benchmarks/grids/). Indexes and runs are
    cached by a hash of their configuration, so a second run only computes what changed.
    The report, a JSON file with everything and a plot of quality against queries/s are
    written to --output; the report is also printed.
    """
    from xlir.bench import run_bench

    lang_list = [x.strip() for x in langs.split(",") if x.strip()] if langs else None
    result = run_bench(config, force=force, data=data, cache=cache, output=output, langs=lang_list,
                       threads=threads, baseline=baseline)
    click.echo(result.markdown, nl=False)
    for path in result.paths.values():
        click.echo(f"wrote {path}", err=True)
