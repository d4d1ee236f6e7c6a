"""``xlir eval``: score one or more TREC runs against qrels."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("eval")
@click.argument("qrels_path", metavar="QRELS", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("runs", metavar="RUN...", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--measure", "-m", "measures", multiple=True, help="ir_measures syntax, repeatable [default: nDCG@10, RR@10, R@100].")
@click.option("--per-query", is_flag=True, help="Also report every query's values.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def evaluate(qrels_path: Path, runs, measures, per_query: bool, fmt: str) -> None:
    """Evaluate RUN files against QRELS (judged queries missing from a run score 0)."""
    from xlir.eval.measures import DEFAULT_MEASURES, aggregate, parse_measures
    from xlir.eval.measures import per_query as per_query_values
    from xlir.io import read_qrels, read_run

    measures = list(measures) or list(DEFAULT_MEASURES)
    names = [str(m) for m in parse_measures(measures)]
    qrels = read_qrels(qrels_path)
    results = {}
    for path in runs:
        pq = per_query_values(qrels, read_run(path), measures)
        results[str(path)] = {"mean": aggregate(pq, measures), "queries": len(pq), "per_query": pq}
    if fmt == "json":
        out = {
            run: {"mean": r["mean"], "queries": r["queries"], **({"per_query": r["per_query"]} if per_query else {})}
            for run, r in results.items()
        }
        click.echo(json.dumps(out, indent=2))
        return
    width = max(len("run"), *(len(r) for r in results))
    click.echo(f"{'run':<{width}}  " + "  ".join(f"{n:>9}" for n in names) + f"  {'queries':>7}")
    for run, r in results.items():
        click.echo(f"{run:<{width}}  " + "  ".join(f"{r['mean'][n]:9.4f}" for n in names) + f"  {r['queries']:>7}")
    if per_query:
        for run, r in results.items():
            click.echo(f"\n# {run}")
            click.echo(f"{'qid':<24}  " + "  ".join(f"{n:>9}" for n in names))
            for qid, vals in r["per_query"].items():
                click.echo(f"{qid:<24}  " + "  ".join(f"{vals[n]:9.4f}" for n in names))
