"""``xlir bench`` with a reranker axis: ``rerankers: [none, NAME, NAME:ARG, {...}]`` adds reranked
systems, caches their runs, and each row's commands reproduce its run with ``xlir search --rerank``."""

from pathlib import Path

import pytest
import yaml

from xlir.bench import parse_config, run_bench
from xlir.cli.main import main
from xlir.errors import ParamError

REPO = Path(__file__).resolve().parents[1]
GRIDS = REPO / "benchmarks" / "grids"
TINY = GRIDS / "tiny.yaml"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("XLIR_HOME", str(tmp_path / "home"))



@pytest.fixture
def term_overlap(monkeypatch):
    """tests/rerank_fixtures.py's reranker, registered as ``term-overlap`` for one test."""
    from xlir.registry import RERANKERS, Entry

    RERANKERS.names()
    monkeypatch.setitem(RERANKERS._entries, "term-overlap", Entry("term-overlap", "rerank_fixtures:TermOverlapReranker"))


def grid(tmp_path, rerankers, **overrides):
    raw = yaml.safe_load(TINY.read_text())
    raw["retrievers"] = ["bm25"]
    raw["translation"]["modes"] = ["none", "query"]
    raw["rerankers"] = rerankers
    raw["latency"] = {"queries": 1, "warmup": 0}
    return parse_config(raw, base_dir=GRIDS, source=str(TINY), cache=tmp_path / "cache", output=tmp_path / "out",
                        **overrides)


RERANKERS = ["none", "term-overlap", {"name": "term-overlap:title", "depth": 2, "params": {"bonus": 0.5}}]


def test_config_reranker_entries():
    config = grid(Path("/nonexistent"), RERANKERS)
    plain, titled = config.rerankers  # "none" adds nothing: the systems without a reranker are always there
    assert (plain.name, plain.arg, plain.label, plain.depth, plain.spec) == ("term-overlap", None, "term-overlap", 100,
                                                                            "term-overlap")
    assert (titled.name, titled.arg, titled.label, titled.depth) == ("term-overlap", "title", "term-overlap-title", 2)
    assert titled.spec == "term-overlap:title" and titled.params == {"bonus": 0.5}
    # an ARG naming an existing path is resolved against the config's folder
    (entry,) = grid(Path("/nonexistent"), ["cross-encoder:tiny.yaml"]).rerankers
    assert entry.arg == str(GRIDS / "tiny.yaml") and entry.label == "cross-encoder-tiny.yaml"


@pytest.mark.parametrize("rerankers, message", [
    (["cross encoder"], r"rerankers\[0\].name: bad reranker 'cross encoder'"),
    ([{"name": "adapter", "depth": 0}], r"rerankers\[0\].depth: expected a positive integer"),
    (["adapter", "adapter"], "duplicate label"),
    ([{"name": "adapter", "top": 3}], r"rerankers\[0\]: unknown key"),
])
def test_bad_reranker_entries(rerankers, message):
    with pytest.raises(ParamError, match=message):
        grid(Path("/nonexistent"), rerankers)


def test_reranker_axis_rows_cache_and_cli_parity(tmp_path, capsys, term_overlap):
    result = run_bench(grid(tmp_path, RERANKERS))
    assert result.systems == ["bm25/none", "bm25/query", "bm25/none>term-overlap", "bm25/query>term-overlap",
                              "bm25/none>term-overlap-title", "bm25/query>term-overlap-title"]
    rows = {r["system"]: r for r in result.rows}
    assert set(rows) == set(result.systems) and result.counts["runs_computed"] == 6
    assert result.counts["indexes_built"] == 1  # every system searches the same index
    row = rows["bm25/query>term-overlap-title"]
    assert row["reranker"] == {"name": "term-overlap", "label": "term-overlap-title", "params": {"bonus": 0.5},
                               "depth": 2, "arg": "title"}
    assert row["run"]["tag"] == "bm25/query>term-overlap-title"
    assert "## Rerankers" in result.markdown and "`term-overlap:title` rescores the top 2" in result.markdown
    assert "bm25/query>term-overlap" in result.markdown
    # the reranker changes rankings: the German documents have no title, so with depth 2 the top two
    # swap to docid order wherever the first stage ranked them otherwise, and the rest keeps its order
    base = Path(rows["bm25/query"]["run"]["path"]).read_text().splitlines()
    reranked = Path(row["run"]["path"]).read_text().splitlines()
    by_q = lambda lines: {q: [l.split()[2] for l in lines if l.split()[0] == q] for q in {l.split()[0] for l in lines}}  # noqa: E731
    for qid, docs in by_q(base).items():
        got = by_q(reranked)[qid]
        assert got[:2] == sorted(docs[:2]) and got[2:] == docs[2:], qid
    scores = [float(l.split()[4]) for l in reranked if l.split()[3] in ("1", "2")]
    assert scores and all(s == 0.5 for s in scores)  # no title word: only the bonus

    # a second run computes nothing; a changed depth recomputes that reranker's runs only
    again = run_bench(grid(tmp_path, RERANKERS))
    assert again.counts["runs_computed"] == 0 and again.counts["runs_reused"] == 6
    changed = RERANKERS[:2] + [{**RERANKERS[2], "depth": 3}]
    third = run_bench(grid(tmp_path, changed))
    assert third.counts["runs_computed"] == 2 and third.counts["runs_reused"] == 4

    # the row's recorded commands reproduce its run file with `xlir search --rerank`
    work = tmp_path / "by-hand"
    for command in row["cli"][:2]:
        args = [str(work / "index") if a == "INDEX" else str(work / "run") if a == "RUN" else a for a in command[1:]]
        rc = main(["-q", *args])
        assert rc == 0, (args, capsys.readouterr().err)
    assert "--rerank" in row["cli"][1] and "--rerank-param" in row["cli"][1]
    assert (work / "run").read_bytes() == Path(row["run"]["path"]).read_bytes()
