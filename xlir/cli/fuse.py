"""``xlir fuse``: fuse TREC run files (reciprocal-rank fusion, normalized interpolation...)."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import click

from xlir.fusion import METHODS, NORMS  # light: ranx is imported on the first fusion

logger = logging.getLogger(__name__)



def _weights(value: str | None) -> list[float] | None:
    if value is None:
        return None
    try:
        return [float(x) for x in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, e.g. 0.7,0.3; got {value!r}",
                                 param_hint="--weights") from None


@click.command()
@click.argument("runs", metavar="RUN...", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--method", "-m", type=click.Choice(METHODS), default="rrf", show_default=True,
              help="rrf: reciprocal-rank fusion; wsum: weighted sum of normalized scores (linear interpolation); "
                   "comb*: Fox and Shaw's combinations of normalized scores.")
@click.option("--weights", "-w", metavar="W1,W2,...", help="One weight per run, for wsum [default: equal weights].")
@click.option("--norm", type=click.Choice(NORMS), help="Score normalization for wsum/comb* [default: min-max].")
@click.option("--rrf-k", type=click.IntRange(min=0), default=60, show_default=True,
              help="RRF's constant: a document scores 1/(rrf-k + rank) in each run.")
@click.option("-k", "k", type=click.IntRange(min=1),
              help="Results per query in the fused run [default: every document of any input].")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Run file to write (default: stdout); a file gets a sidecar OUTPUT.meta.json naming the inputs.")
@click.option("--run-name", help="Run tag in the TREC run's 6th column [default: fuse-METHOD].")
def fuse(runs, method, weights, norm, rrf_k, k, output, run_name) -> None:
    """Fuse two or more TREC run files into one.

    Ranks are each run's order (score descending, ties by docid ascending). With wsum and
    comb*, scores are normalized per query and run first (min-max by default); a document a
    run did not return counts 0 there.
    """
    from xlir.fusion import FusionSpec, fuse_spec
    from xlir.io import read_run, write_run
    from xlir.pipeline import file_sha256, read_run_meta, run_record, write_run_meta

    if len(runs) < 2:
        raise click.UsageError("give two or more runs to fuse")
    spec = FusionSpec.create(method, rrf_k=rrf_k, weights=_weights(weights), norm=norm, runs=len(runs))
    loaded = [read_run(p) for p in runs]
    start = time.perf_counter()
    fused = fuse_spec(loaded, spec, k=k)
    elapsed = time.perf_counter() - start
    logger.info("fused %d runs (%d queries) with %s in %.2fs", len(runs), len(fused), method, elapsed)
    tag = run_name or f"fuse-{method}"
    if output is None:
        write_run(fused, sys.stdout, tag=tag)
        return
    write_run(fused, output, tag=tag)
    inputs = [{"path": str(p.resolve()), "sha256": file_sha256(p), "queries": len(run), "meta": read_run_meta(p)}
              for p, run in zip(runs, loaded)]
    record = run_record(tag=tag, extra={"run": output.name, "fusion": spec.as_dict(), "k": k, "inputs": inputs})
    meta = write_run_meta(output, record)
    logger.info("wrote %s and %s", output, meta.name)
