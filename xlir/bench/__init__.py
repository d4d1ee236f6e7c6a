"""``xlir bench``: a grid of collections × retrievers × translation modes (× rerankers), run end
to end with every index and run cached, reported as a Markdown table, JSON and a PNG plot.

Example::

    from xlir.bench import run_bench

    result = run_bench("benchmarks/grids/tiny.yaml", cache="indexes/bench")
    print(result.markdown)            # also written to result.paths["markdown"]
    result.rows[0]["quality"]["nDCG@10"]   # {"mean", "ci", "p", "p_adjusted", "significant", "delta"}

See :mod:`xlir.bench.config` for the configuration format and :mod:`xlir.bench.runner`
for what is cached by what. Importing this package loads no heavy library.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlir.bench.config import BenchConfig, load_config, parse_config

__all__ = ["BenchConfig", "BenchResult", "load_config", "parse_config", "run_bench"]

logger = logging.getLogger(__name__)


@dataclass
class BenchResult:
    """What :func:`run_bench` returns; ``payload`` is the JSON written to ``paths["json"]``."""

    rows: list[dict]
    summary: list[dict]
    skipped: list[dict]
    systems: list[str]
    baseline: str | None
    counts: dict[str, int]
    elapsed_s: float
    markdown: str
    payload: dict[str, Any]
    paths: dict[str, Path] = field(default_factory=dict)


def run_bench(config: BenchConfig | str | os.PathLike, *, force: bool = False, write: bool = True,
              **overrides: Any) -> BenchResult:
    """Run a grid and write its report (``report.md``, ``results.json``, ``quality_vs_speed.png``
    in the configuration's output folder) unless ``write=False``.

    ``config`` is a :class:`BenchConfig` or a path to a YAML/JSON grid file, in which case
    ``overrides`` (``data``, ``cache``, ``output``, ``langs``, ``threads``, ``baseline``) are
    applied as command-line options would be. ``force`` recomputes everything. Raises
    :class:`~xlir.errors.ParamError` for an invalid grid and whatever a component raises.
    """
    from xlir.bench.env import environment, write_json
    from xlir.bench.report import COST_NOTES, _ci_text, _test_text, analyse, markdown_report, plot, summarise
    from xlir.bench.runner import run_grid

    if not isinstance(config, BenchConfig):
        config = load_config(config, **overrides)
    elif overrides:
        raise TypeError("overrides apply to a configuration file; pass a BenchConfig without them")
    start = time.perf_counter()
    grid = run_grid(config, force=force)
    rows = grid["rows"]
    baseline = analyse(rows, config, grid["systems"])
    summary = summarise(rows, config, grid["systems"])
    elapsed = time.perf_counter() - start
    result = {"rows": rows, "summary": summary, "skipped": grid["skipped"], "baseline": baseline,
              "counts": grid["counts"], "elapsed_s": elapsed, "environment": environment()}
    markdown = markdown_report(result, config)
    out = config.output_dir
    paths = {"markdown": out / "report.md", "json": out / "results.json", "plot": out / "quality_vs_speed.png"}
    payload = {
        "benchmark": "xlir bench",
        "name": config.name,
        "environment": result["environment"],
        "config": config.as_dict(),
        "config_text": Path(config.source).read_text(encoding="utf-8") if config.source else None,
        "statistics": {"confidence": _ci_text(config), "significance": _test_text(config, baseline),
                       "baseline": baseline},
        "cost_notes": COST_NOTES,
        "systems": grid["systems"],
        "rows": [{k: v for k, v in r.items() if k != "per_query"} for r in rows],
        "summary": summary,
        "skipped": grid["skipped"],
        "counts": grid["counts"],
        "elapsed_s": round(elapsed, 2),
        "outputs": {k: str(v) for k, v in paths.items()},
    }
    if write:
        from xlir.io import atomic_write_text

        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(paths["markdown"], markdown)
        if plot({"rows": rows, "summary": summary}, config, paths["plot"]) is None:
            paths.pop("plot")
            payload["outputs"].pop("plot")
        write_json(paths["json"], payload)
        logger.info("wrote %s", ", ".join(str(p) for p in paths.values()))
    else:
        paths = {}
    return BenchResult(rows, summary, grid["skipped"], grid["systems"], baseline, grid["counts"], elapsed, markdown,
                       payload, paths)
