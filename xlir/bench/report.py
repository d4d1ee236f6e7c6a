"""Statistics over the grid's rows, and its outputs: a Markdown report, a JSON file, a PNG plot."""

from __future__ import annotations

import logging
import math
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from xlir.bench.config import BenchConfig
from xlir.bench.env import fmt, markdown_table
from xlir.bench.stats import bootstrap_indices, confidence_interval, holm, paired_pvalue

__all__ = ["analyse", "summarise", "markdown_report", "plot", "STAT_NOTES", "COST_NOTES"]

logger = logging.getLogger(__name__)

BETTER, WORSE = "▲", "▼"

COST_NOTES = {
    "index docs/s": "documents / seconds from the exported corpus file to the index saved on disk (reading, document "
                    "translation, analysis or encoding, saving); the encoder's model is loaded before the clock starts",
    "queries/s": "queries / seconds of one batch search of every query (query translation and encoding included), "
                 "after a warm-up search of the first few queries",
    "p50/p95 ms": "latency of single queries searched one at a time (a seeded sample), end to end as for queries/s",
    "index MiB": "size on disk of the index folder",
    "peak RSS MiB (+Δ)": "peak resident memory of the bench process while building or searching this system "
                         "(VmHWM reset at the start of each phase); it includes what the process already held (Python, "
                         "libraries, models loaded earlier, the collection, other systems' leftovers), so +Δ, the peak "
                         "minus the resident memory at the start of the phase, is what the phase itself added (a model "
                         "loaded before the clock is in the peak, not in +Δ)",
    "reuse": "identical encoder calls (same model, same texts in the same order) are computed once per cache and "
             "charged their measured cost on every reuse, so each system's cost is what it would cost alone; "
             "an index shared by two systems (none and query translation) is built once and reported for both",
}


def _ci_text(config: BenchConfig) -> str:
    c = config.confidence
    if c.method == "bootstrap":
        return (f"{c.level:.0%} confidence intervals: bootstrap percentile intervals over queries ({c.resamples} "
                f"resamples, seed {c.seed})")
    return f"{c.level:.0%} confidence intervals: Student's t intervals over queries"


def _test_text(config: BenchConfig, baseline: str | None) -> str:
    s = config.significance
    test = "paired t-test" if s.test == "t-test" else f"paired randomization test ({s.permutations} sign flips)"
    corr = ("Holm–Bonferroni correction over the comparisons with the baseline within each task and measure"
            if s.correction == "holm" else "no multiple-testing correction")
    return (f"{BETTER}/{WORSE}: significantly better/worse than the baseline `{baseline}` on the same queries "
            f"({test}, {corr}, α = {s.alpha:g})")


STAT_NOTES = {"ci": _ci_text, "test": _test_text}


def analyse(rows: list[dict], config: BenchConfig, systems: list[str]) -> str | None:
    """Add means, confidence intervals and significance against the baseline to every row (in place).

    The baseline is ``config.baseline`` or else the first system. Returns its name.
    """
    from xlir.eval.measures import aggregate

    baseline = config.baseline or (systems[0] if systems else None)
    measures = list(config.measures)
    by_task: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_task[row["task"]].append(row)
    for task_rows in by_task.values():
        qids = sorted(task_rows[0]["per_query"])
        n = len(qids)
        indices = bootstrap_indices(n, config.confidence.resamples, config.confidence.seed) if (
            config.confidence.method == "bootstrap" and n > 1) else None
        values = {r["system"]: {m: np.array([r["per_query"][q][m] for q in qids]) for m in measures} for r in task_rows}
        base = next((r for r in task_rows if r["system"] == baseline), None)
        for row in task_rows:
            if sorted(row["per_query"]) != qids:
                raise ValueError(f"{row['task']}: systems were evaluated on different queries")
            means = aggregate(row["per_query"], measures)  # the same arithmetic as `xlir eval`
            row["quality"] = {}
            for m in measures:
                lo, hi = confidence_interval(values[row["system"]][m], method=config.confidence.method,
                                             level=config.confidence.level, indices=indices)
                row["quality"][m] = {"mean": means[m], "ci": [lo, hi], "p": None, "p_adjusted": None,
                                     "significant": None, "delta": None}
        if base is None:
            continue
        for m in measures:
            others = [r for r in task_rows if r is not base]
            pvals = [paired_pvalue(values[r["system"]][m], values[baseline][m], test=config.significance.test,
                                   permutations=config.significance.permutations, seed=config.significance.seed)
                     for r in others]
            adjusted = holm(pvals) if config.significance.correction == "holm" else pvals
            for r, p, pa in zip(others, pvals, adjusted):
                q = r["quality"][m]
                q["delta"] = q["mean"] - base["quality"][m]["mean"]
                q["p"], q["p_adjusted"] = p, pa
                if not math.isnan(pa) and pa < config.significance.alpha and q["delta"] != 0:
                    q["significant"] = "better" if q["delta"] > 0 else "worse"
            base["quality"][m]["baseline"] = True
    return baseline


def summarise(rows: list[dict], config: BenchConfig, systems: list[str]) -> list[dict]:
    """Per collection and system: macro means over tasks, significance counts, pooled costs."""
    out = []
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["collection"], row["system"])].append(row)
    order = {s: i for i, s in enumerate(systems)}
    for (collection, system), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 0))):
        quality = {}
        for m in config.measures:
            quality[m] = {
                "mean": float(np.mean([r["quality"][m]["mean"] for r in rs])),
                "better": sum(r["quality"][m]["significant"] == "better" for r in rs),
                "worse": sum(r["quality"][m]["significant"] == "worse" for r in rs),
            }
        index_s = sum(r["index"]["index_s"] + r["index"]["save_s"] for r in rs)
        search_s = sum(r["run"]["search_s"] for r in rs)
        p50 = [r["run"]["latency"]["p50_ms"] for r in rs if r["run"]["latency"]["p50_ms"] is not None]
        p95 = [r["run"]["latency"]["p95_ms"] for r in rs if r["run"]["latency"]["p95_ms"] is not None]
        phases = [r[p]["memory"] for r in rs for p in ("index", "run")]
        peaks = [m["peak_rss_mb"] for m in phases if m["peak_rss_mb"] is not None]
        deltas = [m["peak_rss_mb"] - m["rss_before_mb"] for m in phases
                  if m["peak_rss_mb"] is not None and m["rss_before_mb"] is not None]
        out.append({
            "collection": collection, "system": system, "tasks": len(rs), "quality": quality,
            "index_docs_per_s": sum(r["index"]["docs"] for r in rs) / index_s if index_s > 0 else None,
            "queries_per_s": sum(r["run"]["queries"] for r in rs) / search_s if search_s > 0 else None,
            "p50_ms_median": float(np.median(p50)) if p50 else None,
            "p95_ms_median": float(np.median(p95)) if p95 else None,
            "index_mib_mean": float(np.mean([r["index"]["size_bytes"] for r in rs])) / 2**20,
            "peak_rss_mb_max": max(peaks) if peaks else None,
            "peak_rss_delta_mb_max": max(deltas) if deltas else None,
        })
    return out


def _cell(q: dict) -> str:
    lo, hi = q["ci"]
    ci = "" if math.isnan(lo) else f" [{lo:.3f}, {hi:.3f}]"
    mark = {"better": f" {BETTER}", "worse": f" {WORSE}"}.get(q["significant"], "")
    return f"{q['mean']:.3f}{ci}{mark}"


def _num(x: float | None, spec: str) -> str:
    return fmt(x, spec)


def _peak(row: dict) -> str:
    def one(m: dict) -> str:
        if m.get("peak_rss_mb") is None:
            return "–"
        if m.get("rss_before_mb") is None:
            return f"{m['peak_rss_mb']:,.0f}"
        return f"{m['peak_rss_mb']:,.0f} (+{max(0.0, m['peak_rss_mb'] - m['rss_before_mb']):,.0f})"

    return f"{one(row['index']['memory'])} / {one(row['run']['memory'])}"


def _compute_time(rows: list[dict]) -> str:
    """How long the cached indexes and runs took when they were computed (records without the field: unknown)."""
    indexes = {r["index"]["key"]: r["index"].get("total_wall_s") for r in rows}
    runs = {r["run"]["key"]: r["run"].get("total_wall_s") for r in rows}
    times = list(indexes.values()) + list(runs.values())
    if not times or any(t is None for t in times):
        return ""
    return (f" Computing its {len(indexes)} indexes and {len(runs)} runs took {sum(times):.0f} s when they were "
            "computed (warm-ups and latency samples included).")


def markdown_report(result: dict[str, Any], config: BenchConfig) -> str:
    """The Markdown report: per-task table, per-system summary, notes."""
    rows, summary, baseline = result["rows"], result["summary"], result["baseline"]
    measures = list(config.measures)
    lines = [f"# xlir bench: {config.name}", ""]
    if config.description:
        lines += [config.description, ""]
    counts = result["counts"]
    lines += [
        f"k = {config.k}. {_ci_text(config)}. {_test_text(config, baseline)}; the baseline row is marked (baseline).",
        "",
        f"This run: {counts['indexes_built']} indexes built, {counts['indexes_reused']} reused; "
        f"{counts['runs_computed']} runs computed, {counts['runs_reused']} reused; {result['elapsed_s']:.0f} s."
        + _compute_time(rows),
        "",
    ]
    for collection in dict.fromkeys(r["collection"] for r in rows):
        crow = [r for r in rows if r["collection"] == collection]
        lines += [f"## {collection}: per task", ""]
        headers = ["task", "system", *measures, "index docs/s", "queries/s", "p50 ms", "p95 ms", "index MiB",
                   "peak RSS MiB (+Δ), index / search"]
        table = []
        for r in crow:
            name = r["system"] + (" (baseline)" if r["system"] == baseline else "")
            table.append([
                r["label"], name, *(_cell(r["quality"][m]) for m in measures),
                _num(r["index"]["docs_per_s"], ",.0f"), _num(r["run"]["queries_per_s"], ",.1f"),
                _num(r["run"]["latency"]["p50_ms"], ".1f"), _num(r["run"]["latency"]["p95_ms"], ".1f"),
                _num(r["index"]["size_bytes"] / 2**20, ".2f"), _peak(r),
            ])
        lines += [markdown_table(headers, table, align="ll" + "r" * (len(headers) - 2)), ""]
        srows = [s for s in summary if s["collection"] == collection]
        ntasks = max((s["tasks"] for s in srows), default=0)
        lines += [f"## {collection}: mean over {ntasks} task(s)", ""]
        headers = ["system", *measures, f"{measures[0]} {BETTER}/{WORSE} vs baseline", "index docs/s", "queries/s",
                   "p50 ms (median)", "p95 ms (median)", "index MiB (mean)", "peak RSS MiB (+Δ), max"]
        table = []
        for s in srows:
            q0 = s["quality"][measures[0]]
            table.append([
                s["system"] + (" (baseline)" if s["system"] == baseline else ""),
                *(f"{s['quality'][m]['mean']:.3f}" for m in measures),
                "–" if s["system"] == baseline else f"{q0['better']} {BETTER} / {q0['worse']} {WORSE} of {s['tasks']}",
                _num(s["index_docs_per_s"], ",.0f"), _num(s["queries_per_s"], ",.1f"),
                _num(s["p50_ms_median"], ".1f"), _num(s["p95_ms_median"], ".1f"), _num(s["index_mib_mean"], ".2f"),
                "–" if s["peak_rss_mb_max"] is None else f"{s['peak_rss_mb_max']:,.0f}"
                + ("" if s["peak_rss_delta_mb_max"] is None else f" (+{max(0.0, s['peak_rss_delta_mb_max']):,.0f})"),
            ])
        lines += [markdown_table(headers, table), ""]
    if result["skipped"]:
        lines += ["## Skipped", ""]
        for s in result["skipped"]:
            lines.append(f"- {s.get('task', 'all tasks')}: {s['system']}: {s['reason']}")
        lines.append("")
    if config.rerankers:
        lines += ["## Rerankers", ""]
        for rr in config.rerankers:
            params = "".join(f" --rerank-param {k}={v}" for k, v in rr.params.items())
            lines.append(f"- **…>{rr.label}**: `{rr.spec}` rescores the top {rr.depth} of each first-stage run; the "
                         f"rest stays below (`xlir search --rerank {rr.spec} --rerank-depth {rr.depth}{params}`).")
        lines.append("")
    lines += ["## How the costs are measured", ""]
    lines += [f"- **{k}**: {v}." for k, v in COST_NOTES.items()]
    env = result.get("environment", {})
    machine = env.get("machine", {})
    if machine:
        lines += ["", f"Machine: {machine.get('cpu')}, {machine.get('cores')} cores, load average "
                      f"{machine.get('load_average')} at the end; threads: {config.threads or 'library defaults'}; "
                      f"xlir commit {(env.get('git') or {}).get('commit') or 'unknown'}"
                      f"{' (dirty tree)' if (env.get('git') or {}).get('dirty') else ''}."]
    return "\n".join(lines).rstrip() + "\n"


def plot(result: dict[str, Any], config: BenchConfig, path: str | os.PathLike) -> Path | None:
    """A PNG of the first measure (mean over tasks) against queries/s, one point per system.

    Returns the path, or None when matplotlib is not installed (a warning says how to get it).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning('no plot: matplotlib is not installed; pip install "xlir[bench]"')
        return None
    measure = config.measures[0]
    summary = result["summary"]
    collections = list(dict.fromkeys(s["collection"] for s in summary))
    fig, axes = plt.subplots(1, len(collections), figsize=(7 * len(collections), 5), squeeze=False)
    markers = {"none": "o", "query": "s", "document": "^"}
    labels = list(dict.fromkeys(r["retriever_label"] for r in result["rows"]))
    colors = {label: plt.get_cmap("tab10")(i % 10) for i, label in enumerate(labels)}
    info = {r["system"]: r for r in result["rows"]}
    for ax, collection in zip(axes[0], collections):
        for s in (s for s in summary if s["collection"] == collection):
            row = info[s["system"]]
            x, y = s["queries_per_s"], s["quality"][measure]["mean"]
            if x is None:
                continue
            ax.scatter([x], [y], marker=markers.get(row["mode"], "o"), s=70, color=colors[row["retriever_label"]],
                       edgecolors="black" if row["reranker"] else "none", zorder=3)
            # labels of the three modes go to different sides: their points are often close together
            dx, dy, ha = {"query": (-7, -13, "right"), "document": (7, 5, "left")}.get(row["mode"], (7, -4, "left"))
            ax.annotate(s["system"], (x, y), textcoords="offset points", xytext=(dx, dy), ha=ha, fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("queries/s (batch search, log scale)")
        ax.set_ylabel(f"{measure} (mean over tasks)")
        ax.set_title(config.name if collection == config.name else f"{config.name}: {collection}")
        ax.margins(x=0.2, y=0.08)
        ax.grid(True, which="both", alpha=0.3)
    fig.text(0.01, 0.01, "marker: ○ none, □ query translation, △ document translation; colour: retriever; "
             "black edge: reranked",
             fontsize=8)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)
    return path
