"""`xlir bench` over CLIRudit (local parquet), HC4 (topics + a documents JSONL) and BEIR folders:
each task's numbers equal those of the collection loaded, indexed, searched and evaluated by hand."""

import json
from pathlib import Path

import pytest

from xlir.bench import load_config, run_bench
from xlir.datasets import load_beir, load_clirudit, load_hc4
from xlir.eval.measures import evaluate
from xlir.retrievers.bm25 import BM25Retriever

from test_collections import BEIR_FIXTURE, HC4_FIXTURE, _clirudit, _hc4_docs, needs_pyarrow

MEASURES = ["nDCG@10", "R@100", "RR@10"]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("XLIR_HOME", str(tmp_path / "home"))



def _grid(tmp_path: Path, collection: dict) -> dict:
    return {
        "name": "collections",
        "collections": [collection],
        "retrievers": ["bm25"],
        "translation": {"modes": ["none"]},
        "measures": MEASURES,
        "k": 100,
        "baseline": "bm25/none",
        "latency": {"queries": 1, "warmup": 0},
    }


def _by_hand(collection) -> dict[str, float]:
    retriever = BM25Retriever(lang=collection.docs_lang)
    retriever.index(collection.docs)
    return evaluate(collection.qrels, retriever.search(collection.queries, k=100), MEASURES)


def _bench(tmp_path: Path, collection: dict) -> dict:
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps(_grid(tmp_path, collection)))
    config = load_config(grid, cache=tmp_path / "cache", output=tmp_path / "out")
    result = run_bench(config)
    assert [r["system"] for r in result.rows] == ["bm25/none"]
    return result.rows[0]


def _assert_same(row: dict, expected: dict[str, float]) -> None:
    for m in MEASURES:
        assert row["quality"][m]["mean"] == pytest.approx(expected[m], abs=1e-9), m


@needs_pyarrow
def test_clirudit_through_bench(tmp_path):
    root = _clirudit(tmp_path / "clirudit")
    row = _bench(tmp_path, {"type": "clirudit", "path": str(root), "langs": ["en"]})
    expected = _by_hand(load_clirudit(root, docs_lang="en"))
    _assert_same(row, expected)
    assert expected["nDCG@10"] > 0  # the queries' words occur in the English abstracts (en_en qrels)


def test_hc4_through_bench(tmp_path):
    docs = _hc4_docs(tmp_path / "fas.jsonl", ["d-01", "d-02", "d-03", "d-04", "d-05", "d-09"])
    row = _bench(tmp_path, {"type": "hc4", "path": str(HC4_FIXTURE), "docs": str(docs), "langs": ["fa"]})
    _assert_same(row, _by_hand(load_hc4(HC4_FIXTURE, docs, docs_lang="fa")))
    assert row["run"]["queries"] == 3  # the judged topics only


def test_beir_through_bench(tmp_path):
    row = _bench(tmp_path, {"type": "beir", "path": str(BEIR_FIXTURE), "docs_lang": "en", "queries_lang": "en"})
    expected = _by_hand(load_beir(BEIR_FIXTURE, "test", docs_lang="en", queries_lang="en"))
    _assert_same(row, expected)
    assert expected["nDCG@10"] > 0
