"""``xlir bench``: the tiny grid end to end, its cache, parity with `xlir index/search/eval`,
statistics, rerankers and configuration errors."""

import copy
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from xlir.bench import load_config, parse_config, run_bench
from xlir.cli.main import main
from xlir.errors import ParamError

REPO = Path(__file__).resolve().parents[1]
GRIDS = REPO / "benchmarks" / "grids"
TINY = GRIDS / "tiny.yaml"
FIXTURES = Path(__file__).parent / "fixtures" / "translate"
XQUAD = REPO.parent / "shared" / "data" / "xquad-r"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("XLIR_HOME", str(tmp_path / "home"))



def tiny_raw() -> dict:
    return yaml.safe_load(TINY.read_text())


def tiny(tmp_path, raw=None, **overrides):
    raw = raw if raw is not None else tiny_raw()
    return parse_config(raw, base_dir=GRIDS, source=str(TINY), cache=tmp_path / "cache", output=tmp_path / "out",
                        **overrides)


def by_system(result):
    return {r["system"]: r for r in result.rows}


def xlir(capsys, *args):
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


# -- the tiny grid -------------------------------------------------------------------------------
def test_tiny_grid_writes_report_json_and_plot(tmp_path):
    result = run_bench(tiny(tmp_path))
    assert result.systems == ["bm25/none", "bm25/query", "bm25/document",
                              "bm25-k1.2/none", "bm25-k1.2/query", "bm25-k1.2/document"]
    rows = by_system(result)
    assert rows["bm25/none"]["quality"]["nDCG@10"]["mean"] == pytest.approx(1 / 3)
    for name in ("bm25/query", "bm25/document"):  # the translation tables make every query findable
        assert rows[name]["quality"]["nDCG@10"]["mean"] == 1.0
    # confidence intervals and paired significance against the baseline, for every measure
    for row in result.rows:
        for m in ("nDCG@10", "R@100", "RR@10"):
            q = row["quality"][m]
            assert q["ci"][0] <= q["mean"] <= q["ci"][1]
            if row["system"] == "bm25/none":
                assert q["baseline"] and q["p"] is None
            else:
                assert 0 < q["p"] <= q["p_adjusted"] <= 1  # Holm never lowers a p-value
    md = (tmp_path / "out" / "report.md").read_text()
    assert md == result.markdown
    assert "| task  | system " in md and "nDCG@10" in md and "R@100" in md and "RR@10" in md
    for column in ("index docs/s", "queries/s", "p50 ms", "p95 ms", "index MiB", "peak RSS MiB"):
        assert column in md
    assert "bm25/none (baseline)" in md and "1.000 [1.000, 1.000]" in md
    assert "Holm–Bonferroni" in md and "paired t-test" in md and "bootstrap percentile" in md
    payload = json.loads((tmp_path / "out" / "results.json").read_text())
    assert payload["environment"]["versions"]["xlir"] and "machine" in payload["environment"]
    assert "commit" in payload["environment"]["git"]
    assert payload["config"]["name"] == "tiny" and payload["config_text"] == TINY.read_text()
    assert {r["system"] for r in payload["rows"]} == set(result.systems)
    cost = payload["rows"][0]
    assert cost["index"]["docs"] == 4 and cost["index"]["size_bytes"] > 0 and cost["index"]["docs_per_s"] > 0
    assert cost["run"]["queries"] == 3 and cost["run"]["latency"]["queries"] == 3
    assert cost["run"]["latency"]["p50_ms"] <= cost["run"]["latency"]["p95_ms"]
    assert cost["run"]["memory"]["peak_rss_mb"] > 0
    assert (tmp_path / "out" / "quality_vs_speed.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_second_run_recomputes_nothing(tmp_path, monkeypatch):
    config = tiny(tmp_path)
    first = run_bench(config)
    assert first.counts["indexes_built"] == 4 and first.counts["runs_computed"] == 6
    cache = tmp_path / "cache"
    stamps = {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file() and "reports" not in p.parts}

    from xlir.retrievers.bm25 import BM25Retriever

    def refuse(*args, **kwargs):
        raise AssertionError("recomputed")

    monkeypatch.setattr(BM25Retriever, "index", refuse)
    monkeypatch.setattr(BM25Retriever, "search", refuse)
    monkeypatch.setattr("xlir.eval.measures.per_query", refuse)
    second = run_bench(config)
    assert second.counts == {"indexes_built": 0, "indexes_reused": 4, "runs_computed": 0, "runs_reused": 6,
                             "evals_computed": 0, "evals_reused": 6}
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert [r["quality"] for r in second.rows] == [r["quality"] for r in first.rows]
    assert all(r["run"]["status"] == "reused" for r in second.rows)


def test_changed_parameter_recomputes_only_that_system(tmp_path):
    run_bench(tiny(tmp_path))
    raw = tiny_raw()
    raw["retrievers"][1]["params"]["k1"] = 1.5
    result = run_bench(tiny(tmp_path, raw))
    assert result.counts["indexes_built"] == 2 and result.counts["runs_computed"] == 3
    for row in result.rows:
        changed = row["retriever_label"] == "bm25-k1.2"
        assert (row["run"]["status"] == "computed") is changed, row["system"]
        assert (row["index"]["status"] == "built") is changed, row["system"]
    # a new measure re-evaluates the cached runs (from their files) without recomputing them
    raw["measures"] = ["nDCG@10", "R@100", "RR@10", "P@1"]
    again = run_bench(tiny(tmp_path, raw))
    assert again.counts["runs_computed"] == 0 and again.counts["evals_computed"] == 6
    assert by_system(again)["bm25/query"]["quality"]["P@1"]["mean"] == 1.0


def test_force_recomputes_everything(tmp_path):
    run_bench(tiny(tmp_path))
    result = run_bench(tiny(tmp_path), force=True)
    assert result.counts["indexes_built"] == 4 and result.counts["runs_computed"] == 6


# -- parity with the CLI ----------------------------------------------------------------------------
def test_numbers_equal_xlir_index_search_eval_by_hand(tmp_path, capsys):
    cache, out = tmp_path / "cache", tmp_path / "out"
    rc, stdout, err = xlir(capsys, "-q", "bench", str(TINY), "--cache", str(cache), "--output", str(out))
    assert rc == 0, err
    assert stdout.startswith("# xlir bench: tiny")
    payload = json.loads((out / "results.json").read_text())
    rows = {r["system"]: r for r in payload["rows"]}
    modes = {
        "none": ([], []),
        "query": ([], ["--translate-query", "--translator", f"table:{FIXTURES / 'queries_en_de.tsv'}"]),
        "document": (["--translate-docs", "--translate-to", "en", "--translator", f"table:{FIXTURES / 'docs_de_en.jsonl'}"],
                     []),
    }
    for label, params in (("bm25", []), ("bm25-k1.2", ["-p", "k1=1.2", "-p", "b=0.75"])):
        for mode, (index_opts, search_opts) in modes.items():
            system = f"{label}/{mode}"
            work = tmp_path / "by-hand" / system.replace("/", "-")
            rc, _, err = xlir(capsys, "-q", "index", str(FIXTURES / "docs_de.jsonl"), "--retriever", "bm25",
                              "--lang", "de", *params, *index_opts, "--output", str(work / "index"))
            assert rc == 0, err
            rc, _, err = xlir(capsys, "-q", "search", str(work / "index"), "--queries", str(FIXTURES / "queries_en.tsv"),
                              "--query-lang", "en", "--run-name", system, *search_opts, "--output", str(work / "run"))
            assert rc == 0, err
            assert (work / "run").read_bytes() == Path(rows[system]["run"]["path"]).read_bytes(), system
            rc, stdout, err = xlir(capsys, "eval", str(FIXTURES / "qrels.txt"), str(work / "run"),
                                   "--measure", "nDCG@10", "--measure", "R@100", "--measure", "RR@10", "--format", "json")
            assert rc == 0, err
            by_hand = json.loads(stdout)[str(work / "run")]["mean"]
            assert by_hand == {m: q["mean"] for m, q in rows[system]["quality"].items()}, system  # exactly equal
    # the commands each row records reproduce its run file too
    row = rows["bm25-k1.2/document"]
    work = tmp_path / "recorded"
    for command in row["cli"]:
        args = [str(work / "index") if a == "INDEX" else str(work / "run") if a == "RUN" else a for a in command[1:]]
        rc, _, err = xlir(capsys, "-q", *args)
        assert rc == 0, (args, err)
    assert (work / "run").read_bytes() == Path(row["run"]["path"]).read_bytes()


@pytest.mark.skipif(not (XQUAD / "en.json").is_file(), reason="XQuAD-R data not available")
def test_xquad_r_table_auto_two_languages(tmp_path, capsys):
    raw = yaml.safe_load((GRIDS / "xquad-r.yaml").read_text())
    raw["retrievers"] = ["bm25"]
    raw["latency"] = {"queries": 20, "warmup": 5}
    config = parse_config(raw, base_dir=GRIDS, data=XQUAD.parent, cache=tmp_path / "cache", output=tmp_path / "out",
                          langs=["de", "zh"])
    result = run_bench(config)
    rows = {(r["docs_lang"], r["system"]): r for r in result.rows}
    assert rows[("de", "bm25/none")]["quality"]["nDCG@10"]["mean"] == pytest.approx(0.5136, abs=1e-4)
    assert rows[("de", "bm25/query")]["quality"]["nDCG@10"]["mean"] == pytest.approx(0.9453, abs=1e-4)
    assert rows[("de", "bm25/document")]["quality"]["nDCG@10"]["mean"] == pytest.approx(0.9710, abs=1e-4)
    for lang in ("de", "zh"):
        for mode in ("query", "document"):
            assert rows[(lang, f"bm25/{mode}")]["quality"]["nDCG@10"]["significant"] == "better"
    assert "▲" in result.markdown and "en→zh" in result.markdown
    # query translation by hand, with the table the grid wrote
    row = rows[("zh", "bm25/query")]
    table = row["translator"]["query"]
    assert table.startswith("table:") and table.endswith("queries.en-zh.jsonl")
    data = tmp_path / "cache" / "data" / "xquad-r.en-zh"
    rc, _, err = xlir(capsys, "-q", "index", str(data / "docs.jsonl"), "-r", "bm25", "--lang", "zh", "-o",
                      str(tmp_path / "zh"))
    assert rc == 0, err
    rc, _, err = xlir(capsys, "-q", "search", str(tmp_path / "zh"), "--queries", str(data / "queries.tsv"),
                      "--query-lang", "en", "--translate-query", "--translator", table, "--run-name", "bm25/query",
                      "-o", str(tmp_path / "run"))
    assert rc == 0, err
    assert (tmp_path / "run").read_bytes() == Path(row["run"]["path"]).read_bytes()


# -- rerankers ---------------------------------------------------------------------------------------
class ReverseReranker:
    """Reverses each query's ranking: a fake reranker, enough to exercise the plumbing."""

    name = "bench-reverse"

    def __init__(self, offset: float = 0.0):
        self.offset = offset

    def rerank(self, queries, run, docs, *, depth=100, show_progress=False):
        for q in queries:  # queries arrive as searched, documents come from the index
            assert q.lang == "de" and all(docs[d].id == d for d in run.get(q.id, {}))
        return {qid: {d: -s + self.offset for d, s in hits.items()} for qid, hits in run.items()}


def test_missing_reranker_is_skipped_with_a_message(tmp_path, caplog):
    raw = tiny_raw()
    raw["rerankers"] = [{"name": "cross-encoder-xyz", "depth": 10}]
    result = run_bench(tiny(tmp_path, raw))
    assert len(result.rows) == 6
    assert len(result.skipped) == 6 and all("not registered" in s["reason"] for s in result.skipped)
    assert "bm25/none>cross-encoder-xyz" in {s["system"] for s in result.skipped}
    assert "## Skipped" in result.markdown and "reranker 'cross-encoder-xyz' skipped" in caplog.text


def test_registered_reranker_adds_systems(tmp_path):
    from xlir.registry import RERANKERS

    RERANKERS.add("bench-reverse", "test_bench:ReverseReranker")
    try:
        raw = tiny_raw()
        raw["retrievers"] = raw["retrievers"][:1]
        raw["translation"]["modes"] = ["query"]
        raw["baseline"] = "bm25/query"
        raw["rerankers"] = [{"name": "bench-reverse", "label": "rev", "params": {"offset": 1.0}, "depth": 5}]
        result = run_bench(tiny(tmp_path, raw))
    finally:
        RERANKERS._entries.pop("bench-reverse")
    rows = by_system(result)
    assert set(rows) == {"bm25/query", "bm25/query>rev"}
    assert rows["bm25/query>rev"]["run"]["tag"] == "bm25/query>rev"
    run = Path(rows["bm25/query>rev"]["run"]["path"]).read_text().splitlines()
    assert run and all(line.endswith(" bm25/query>rev") for line in run)


# -- statistics ---------------------------------------------------------------------------------------
def test_holm_adjustment():
    from xlir.bench.stats import holm

    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
    assert holm([0.04, 0.03, 0.2]) == pytest.approx([0.09, 0.09, 0.2])  # monotone
    assert holm([0.9, 0.8]) == [1.0, 1.0]  # capped
    out = holm([float("nan"), 0.02])
    assert math.isnan(out[0]) and out[1] == pytest.approx(0.02)


def test_paired_tests_and_intervals():
    from scipy import stats

    from xlir.bench.stats import bootstrap_indices, confidence_interval, paired_pvalue

    rng = np.random.default_rng(1)
    a = rng.random(200)
    b = np.clip(a + 0.1 + rng.normal(0, 0.05, 200), 0, 1)
    assert paired_pvalue(b, a) == pytest.approx(stats.ttest_rel(b, a).pvalue)
    assert paired_pvalue(b, a) < 1e-10
    p = paired_pvalue(b, a, test="randomization", permutations=2000)
    assert p == pytest.approx(1 / 2001)  # nothing as extreme among the flips
    assert paired_pvalue(b, a, test="randomization", permutations=2000) == p  # seeded
    noise = a + rng.normal(0, 0.1, 200)
    assert paired_pvalue(noise, a, test="randomization", permutations=2000) > 0.05
    assert paired_pvalue(a, a) == 1.0 and paired_pvalue(a, a, test="randomization") == 1.0
    lo, hi = confidence_interval(a, method="t")
    half = stats.t.ppf(0.975, 199) * a.std(ddof=1) / np.sqrt(200)
    assert (lo, hi) == pytest.approx((a.mean() - half, a.mean() + half))
    blo, bhi = confidence_interval(a, indices=bootstrap_indices(200, 2000, 0))
    assert blo < a.mean() < bhi and abs((bhi - blo) - (hi - lo)) < 0.02
    assert all(math.isnan(x) for x in confidence_interval([0.5]))
    with pytest.raises(ParamError, match="available: bootstrap, t"):
        confidence_interval(a, method="wilson")


def test_significance_marks_in_the_table():
    from xlir.bench.config import parse_config
    from xlir.bench.report import analyse

    config = parse_config({"collections": [{"type": "files", "corpus": "c", "queries": "q", "qrels": "r"}],
                           "retrievers": ["bm25"], "baseline": "base"})
    rng = np.random.default_rng(0)
    base = rng.random(100)
    systems = {"base": base, "same": base + rng.normal(0, 0.01, 100), "up": np.clip(base + 0.3, 0, 1),
               "down": base * 0.5}
    rows = [{"task": "t", "system": name, "per_query": {f"q{i:03d}": {m: float(v[i]) for m in config.measures}
                                                        for i in range(100)}} for name, v in systems.items()]
    assert analyse(rows, config, list(systems)) == "base"
    marks = {r["system"]: r["quality"]["nDCG@10"]["significant"] for r in rows}
    assert marks == {"base": None, "same": None, "up": "better", "down": "worse"}
    up = next(r for r in rows if r["system"] == "up")["quality"]["nDCG@10"]
    assert up["p_adjusted"] == pytest.approx(min(1.0, 3 * up["p"])) or up["p_adjusted"] >= up["p"]


# -- the encoder memo ---------------------------------------------------------------------------------
class CountingEncoder:
    name = "counting"
    dim = 4

    def __init__(self):
        self.calls = 0

    def identity(self):
        return {"encoder": "counting", "model": "x", "dim": 4}

    def encode_docs(self, texts):
        import time

        self.calls += 1
        time.sleep(0.05)
        return np.array([[len(t), 1, 0, 0] for t in texts], dtype=np.float32)

    encode_queries = encode_docs


def test_memo_encoder_computes_identical_calls_once_and_charges_them(tmp_path):
    from xlir.bench.measure import Clock, MemoEncoder

    inner = CountingEncoder()
    memo = MemoEncoder(inner, tmp_path / "enc")
    first = memo.encode_docs(["a", "bb"])
    with Clock(memo) as clock:
        again = memo.encode_docs(["a", "bb"])
    assert inner.calls == 1 and np.array_equal(first, again)
    assert clock.reused == 1 and clock.seconds >= 0.05 > clock.wall_s  # charged the original cost
    memo.encode_queries(["a", "bb"])  # another role: computed
    memo.encode_docs(["bb", "a"])  # another order: computed
    assert inner.calls == 3
    fresh = MemoEncoder(CountingEncoder(), tmp_path / "enc")  # a later run reuses calls kept on disk
    assert np.array_equal(fresh.encode_docs(["a", "bb"]), first) and fresh.inner.calls == 0


# -- configuration errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(retriever=["bm25"]), "unknown key(s) 'retriever'; valid: name, description"),
    (lambda r: r["translation"].update(modes=["none", "pivot"]), "unknown mode 'pivot'"),
    (lambda r: r["translation"].pop("translator"), "mode 'query' needs a translator"),
    (lambda r: r.update(measures=["nDCG@10", "bogus@3"]), "unknown measure 'bogus@3'"),
    (lambda r: r.update(k=10), "k=10 is below the cutoff of R@100"),
    (lambda r: r["collections"][0].update(type="trec"), "unknown collection type 'trec'"),
    (lambda r: r["collections"][0].pop("qrels"), "collection type 'files' needs qrels"),
    (lambda r: r["retrievers"].append("bm25"), "duplicate label(s) bm25"),
    (lambda r: r.update(significance={"test": "wilcoxon"}), "unknown test 'wilcoxon'"),
    (lambda r: r.update(confidence={"method": "bca"}), "unknown method 'bca'"),
])
def test_bad_configurations_are_refused_with_the_key(tmp_path, change, message):
    raw = copy.deepcopy(tiny_raw())
    change(raw)
    with pytest.raises(Exception, match=".*" + message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        tiny(tmp_path, raw)


def test_run_time_configuration_errors(tmp_path, capsys):
    raw = tiny_raw()
    raw["baseline"] = "bm25/nope"
    with pytest.raises(ParamError, match="baseline 'bm25/nope' is not a system of this grid; systems: bm25/none"):
        run_bench(tiny(tmp_path, raw))
    raw = tiny_raw()
    raw["translation"]["translator"] = "table:auto"
    with pytest.raises(ParamError, match="table:auto is defined for XQuAD-R only"):
        run_bench(tiny(tmp_path, raw))
    raw = tiny_raw()
    raw["retrievers"] = ["bm52"]
    with pytest.raises(Exception, match="unknown retriever 'bm52'.*did you mean 'bm25'"):
        run_bench(tiny(tmp_path, raw))
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncollections: [\n")
    rc, _, err = xlir(capsys, "bench", str(bad))
    assert rc == 1 and "bad.yaml:3: invalid YAML" in err and len(err.strip().splitlines()) == 1


def test_json_config_and_relative_paths(tmp_path):
    raw = tiny_raw()
    for key in ("corpus", "queries", "qrels"):
        raw["collections"][0][key] = str((GRIDS / raw["collections"][0][key]).resolve())
    for mode in ("query", "document"):
        name, _, arg = raw["translation"]["translator"][mode].partition(":")
        raw["translation"]["translator"][mode] = f"{name}:{(GRIDS / arg).resolve()}"
    raw["retrievers"] = ["bm25"]
    raw["cache"] = "c"
    raw["output"] = "o"
    path = tmp_path / "grid.json"
    path.write_text(json.dumps(raw))
    config = load_config(path)
    assert config.cache == tmp_path / "c" and config.output_dir == tmp_path / "o"
    result = run_bench(config)
    assert (tmp_path / "o" / "report.md").is_file() and len(result.rows) == 3
    shutil.rmtree(tmp_path / "c")
