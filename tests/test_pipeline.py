"""Pipelines (xlir.pipeline): pipeline files, fused first stages, query translation, a reranker
stage, the run's sidecar record, and `xlir search --pipeline / --rerank`."""

import json
import os
from pathlib import Path

import pytest

from xlir.cli.main import main
from xlir.errors import IndexFormatError, InputError, ParamError, UnknownComponentError
from xlir.io import read_queries, read_run
from xlir.pipeline import (
    Pipeline,
    PipelineSpec,
    RerankSpec,
    StageSpec,
    load_pipeline,
    meta_path,
    parse_pipeline,
)
from xlir.types import Query

TRANSLATE = Path(__file__).parent / "fixtures" / "translate"

QUERIES = {
    "q1": "the capital and the coast delta",
    "q2": "loyal animals and the capital coast",
    "q3": "river delta",
}


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("XLIR_HOME", str(tmp_path / "home"))  # the translation cache goes there



@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    """Two BM25 indexes of the tiny corpus: English analysis, and the multilingual analyzer."""
    from xlir import get_retriever
    from xlir.io import read_corpus

    root = tmp_path_factory.mktemp("pipeline-indexes")
    docs = list(read_corpus(Path(__file__).parent / "fixtures" / "tiny" / "docs.jsonl"))
    out = {}
    for name in ("en", "multi"):
        r = get_retriever("bm25", lang=name)
        r.index(docs)
        r.save(root / f"bm25-{name}")
        out[name] = root / f"bm25-{name}"
    return out


@pytest.fixture
def term_overlap(monkeypatch):
    """Registers tests/rerank_fixtures.py's reranker as ``term-overlap`` for one test."""
    from xlir.registry import RERANKERS, Entry

    RERANKERS.names()  # load the plug-ins first, so they cannot shadow the entry
    monkeypatch.setitem(RERANKERS._entries, "term-overlap", Entry("term-overlap", "rerank_fixtures:TermOverlapReranker"))


@pytest.fixture
def queries_file(tmp_path):
    path = tmp_path / "queries.tsv"
    path.write_text("".join(f"{q}\t{t}\n" for q, t in QUERIES.items()))
    return path


def queries():
    return [Query(q, t) for q, t in QUERIES.items()]


def ranking(run, qid):
    return [d for d, _ in sorted(run[qid].items(), key=lambda x: (-x[1], x[0]))]


def xlir(capsys, *args):
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


# -- pipeline files ---------------------------------------------------------------------------------------
YAML = """\
name: two-bm25
query_lang: en
stages:
  - index: {en}
    k: 50
  - {{index: {multi}, label: multi}}
fusion: {{method: wsum, weights: [0.4, 0.6]}}
rerank: {{name: "term-overlap:title", depth: 20, params: {{bonus: 1.5}}}}
k: 10
"""


def test_yaml_and_json_files_give_the_same_spec(tmp_path, indexes):
    sub = tmp_path / "conf"
    sub.mkdir()
    rel = {name: os.path.relpath(path, sub) for name, path in indexes.items()}  # relative to the file's folder
    (sub / "p.yaml").write_text(YAML.format(**rel))
    spec = load_pipeline(sub / "p.yaml")
    assert spec.name == "two-bm25" and spec.k == 10 and spec.query_lang == "en"
    assert [s.index.resolve() for s in spec.stages] == [indexes["en"].resolve(), indexes["multi"].resolve()]
    assert [s.label for s in spec.stages] == ["bm25-en", "multi"]
    assert [spec.stage_k(s) for s in spec.stages] == [50, 20]  # its own k, else max(k, rerank depth)
    assert spec.fusion.method == "wsum" and spec.fusion.weights == (0.4, 0.6)
    assert spec.rerank == RerankSpec("term-overlap", "title", {"bonus": 1.5}, 20)  # "title" is no path: kept
    (sub / "p.json").write_text(json.dumps(spec.as_dict()))
    again = load_pipeline(sub / "p.json")
    assert again.as_dict() == spec.as_dict()
    assert again.stages == spec.stages and again.fusion == spec.fusion and again.rerank == spec.rerank


def test_defaults_and_shorthands(tmp_path):
    spec = parse_pipeline({"stages": ["a", {"index": "b"}], "rerank": "adapter"}, base_dir=tmp_path)
    assert spec.fusion.method == "rrf" and spec.fusion.rrf_k == 60  # two stages: RRF by default
    assert spec.rerank == RerankSpec("adapter", None, {}, 100)
    assert spec.k == 100 and [spec.stage_k(s) for s in spec.stages] == [100, 100]
    assert spec.stages[0] == StageSpec(tmp_path / "a", "a")
    one = parse_pipeline({"stages": ["a"], "rerank": "none"}, base_dir=tmp_path)
    assert one.fusion is None and one.rerank is None
    folder = tmp_path / "ce-model"
    folder.mkdir()
    spec = parse_pipeline({"stages": ["a"], "rerank": "cross-encoder:ce-model"}, base_dir=tmp_path)
    assert spec.rerank.arg == str(folder)  # an existing path is resolved against the file's folder
    spec = parse_pipeline({"stages": [{"index": "a", "translate": "query", "translator": "table:t.tsv"}]},
                          base_dir=tmp_path)
    assert spec.stages[0].translator == f"table:{tmp_path / 't.tsv'}" and spec.translates


@pytest.mark.parametrize("raw, message", [
    ({"stages": ["a"], "kk": 1}, r"\(top level\): unknown key\(s\) 'kk'; valid: name, "),
    ({}, "stages: expected a non-empty list"),
    ({"stages": []}, "stages: expected a non-empty list"),
    ({"stages": [{"label": "x"}]}, r"stages\[0\].index: missing"),
    ({"stages": ["a", {"index": "b", "depth": 3}]}, r"stages\[1\]: unknown key\(s\) 'depth'"),
    ({"stages": ["a", {"index": "b", "translate": "document"}]}, r"stages\[1\].translate: expected one of none, query"),
    ({"stages": [{"index": "a", "translate": "query"}]}, r"stages\[0\].translator: translate: query needs a translator"),
    ({"stages": [{"index": "a", "translator": "table:x"}]}, r"stages\[0\].translator: a translator is given but"),
    ({"stages": [{"index": "a", "k": 0}]}, r"stages\[0\].k: expected a positive integer, got 0"),
    ({"stages": ["a", "a"]}, "stages: duplicate label"),
    ({"stages": ["a"], "fusion": "rrf"}, "fusion: fusion needs two or more stages"),
    ({"stages": ["a", "b"], "fusion": {"method": "wsum", "weights": [1]}}, "fusion: 1 weights for 2 runs"),
    ({"stages": ["a", "b"], "fusion": {"method": "rrf", "norm": "max"}}, "fusion: rrf fuses ranks"),
    ({"stages": ["a", "b"], "fusion": {"method": "borda"}}, "fusion: unknown fusion method 'borda'"),
    ({"stages": ["a", "b"], "fusion": {"alpha": 1}}, r"fusion: unknown key\(s\) 'alpha'"),
    ({"stages": ["a"], "rerank": {"name": "cross encoder"}}, "rerank.name: bad reranker 'cross encoder'"),
    ({"stages": ["a"], "rerank": {"name": "adapter", "depth": 0}}, "rerank.depth: expected a positive integer"),
    ({"stages": ["a"], "rerank": {"name": "adapter", "top": 5}}, r"rerank: unknown key\(s\) 'top'"),
    ({"stages": ["a"], "k": "ten"}, "k: expected a positive integer, got 'ten'"),
    ({"stages": ["a"], "name": "two words"}, "name: expected a run tag without spaces"),
    (["a"], r"\(top level\): expected a mapping, got list"),
])
def test_invalid_specs_name_the_file_and_key(tmp_path, raw, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ParamError, match=f"^{path}: {message}"):
        load_pipeline(path)


def test_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="no such pipeline file"):
        load_pipeline(tmp_path / "missing.yaml")
    (tmp_path / "broken.yaml").write_text("stages:\n  - a\n k: [\n")
    with pytest.raises(InputError, match=r"broken.yaml:\d+: invalid YAML"):
        load_pipeline(tmp_path / "broken.yaml")
    (tmp_path / "broken.json").write_text('{"stages": ["a"],\n}')
    with pytest.raises(InputError, match=r"broken.json:2: invalid JSON"):
        load_pipeline(tmp_path / "broken.json")


# -- running ------------------------------------------------------------------------------------------------
def test_two_stage_rrf_pipeline_equals_rrf_of_the_stages_by_hand(indexes):
    from xlir import load_index

    spec = PipelineSpec(stages=(StageSpec(indexes["en"], "en"), StageSpec(indexes["multi"], "multi")), k=10)
    with Pipeline(spec) as pipe:
        run = pipe.search(queries())
    stage_runs = [load_index(indexes[n]).search(queries(), k=10) for n in ("en", "multi")]
    for qid in QUERIES:
        expected: dict[str, float] = {}
        for stage in stage_runs:
            for rank, docid in enumerate(ranking(stage, qid), 1):
                expected[docid] = expected.get(docid, 0.0) + 1 / (60 + rank)
        assert run[qid] == pytest.approx(expected), qid
    # en: en4 en3 de3 fr3; multi: en4 en3 en2 de3 fr3
    assert ranking(run, "q1") == ["en4", "en3", "de3", "fr3", "en2"]
    assert ranking(stage_runs[0], "q1") != ranking(stage_runs[1], "q1")


def test_stage_k_and_final_cutoff(indexes):
    spec = parse_pipeline({"stages": [{"index": str(indexes["en"]), "k": 1}, {"index": str(indexes["multi"]), "k": 2}],
                           "k": 2})
    with Pipeline(spec) as pipe:
        run = pipe.search(queries())
        assert [len(r["q1"]) for r in pipe.stage_runs] == [1, 2]
    assert ranking(run, "q1") == ["en4", "en3"] and all(len(docs) <= 2 for docs in run.values())


def test_reranker_reorders_the_top_depth_and_keeps_the_rest_below(indexes, term_overlap):
    base = PipelineSpec(stages=(StageSpec(indexes["multi"], "multi"),), k=10)
    with Pipeline(base) as pipe:
        first = pipe.search(queries())
    assert ranking(first, "q2") == ["en4", "en2", "en3", "en1"]
    # query words in each document: en4 3 (the, capital, coast), en2 3 (loyal, animals, and), en3 1, en1 1
    for depth, expected in ((3, ["en2", "en4", "en3", "en1"]), (2, ["en2", "en4", "en3", "en1"]),
                            (1, ["en4", "en2", "en3", "en1"])):
        spec = PipelineSpec(stages=base.stages, rerank=RerankSpec("term-overlap", depth=depth), k=10)
        with Pipeline(spec) as pipe:
            run = pipe.search(queries())
            (seen, seen_depth), = pipe.reranker.calls
        assert seen_depth == depth and [q.id for q in seen] == list(QUERIES)
        assert ranking(run, "q2") == expected, depth
        for qid in QUERIES:  # the top `depth` are the first stage's top `depth`; the rest follows in order
            assert set(ranking(run, qid)[:depth]) == set(ranking(first, qid)[:depth])
            assert ranking(run, qid)[depth:] == ranking(first, qid)[depth:]
    assert ranking(run, "q1") == ranking(first, "q1")


def test_reranker_that_returns_only_the_top_keeps_the_tail(indexes, monkeypatch, term_overlap):
    import rerank_fixtures

    original = rerank_fixtures.TermOverlapReranker.rerank

    def top_only(self, queries, run, docs, *, depth=100, show_progress=False):
        out = original(self, queries, run, docs, depth=depth)
        return {q: {d: s for d, s in sorted(docs_.items(), key=lambda x: -x[1])[:depth]} for q, docs_ in out.items()}

    monkeypatch.setattr(rerank_fixtures.TermOverlapReranker, "rerank", top_only)
    spec = PipelineSpec(stages=(StageSpec(indexes["multi"], "multi"),), rerank=RerankSpec("term-overlap", depth=2))
    with Pipeline(spec) as pipe:
        run = pipe.search(queries())
    assert ranking(run, "q2") == ["en2", "en4", "en3", "en1"]


def test_fused_stages_then_reranker_reads_docs_from_the_indexes(indexes, term_overlap):
    spec = parse_pipeline({"stages": [str(indexes["en"]), str(indexes["multi"])],
                           "fusion": {"method": "wsum", "weights": [0.5, 0.5]},
                           "rerank": {"name": "term-overlap:title", "depth": 2}, "k": 3})
    with Pipeline(spec) as pipe:
        run = pipe.search([Query("t", "rivers and trains")])  # en3 "Rivers", en4 "Trains"
        assert pipe.docs["en3"].title == "Rivers"
        with pytest.raises(KeyError, match="in no index of the pipeline"):
            pipe.docs["nope"]
    assert len(run["t"]) <= 3


def test_query_translation_stage_fused_with_an_untranslated_one(tmp_path):
    from xlir import get_retriever
    from xlir.io import read_corpus
    from xlir.translate import TableTranslator, TranslatingRetriever

    r = get_retriever("bm25", lang="de")
    r.index(read_corpus(TRANSLATE / "docs_de.jsonl"))
    r.save(tmp_path / "de")
    spec = parse_pipeline({
        "query_lang": "en",
        "stages": [{"index": "de", "label": "mt", "translate": "query", "translator": "table:" +
                    str(TRANSLATE / "queries_en_de.tsv")}, {"index": "de", "label": "raw"}],
    }, base_dir=tmp_path)
    qs = read_queries(TRANSLATE / "queries_en.tsv", lang="en")
    with Pipeline(spec) as pipe:
        run = pipe.search(qs)
        translated, raw = pipe.stage_runs
    by_hand = TranslatingRetriever(r, TableTranslator(str(TRANSLATE / "queries_en_de.tsv")), translate_queries=True)
    assert translated == by_hand.search(qs, k=100)
    assert ranking(translated, "q1")[0] == "de1" and not raw.get("q1")  # English words match no German document
    assert ranking(run, "q1")[0] == "de1" and ranking(run, "q3")[0] == "de3"


def test_errors_name_the_stage(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({"stages": ["nowhere"]}))
    with pytest.raises(IndexFormatError, match=r"p.json: stages\[0\].index: .*nowhere: no such index"):
        Pipeline(load_pipeline(tmp_path / "p.json")).search(queries())


def test_unknown_reranker(indexes):
    spec = PipelineSpec(stages=(StageSpec(indexes["en"], "en"),), rerank=RerankSpec("term-overlab"))
    with pytest.raises(UnknownComponentError, match="unknown reranker 'term-overlab'"):
        Pipeline(spec).search(queries())


# -- xlir search ------------------------------------------------------------------------------------------
def test_cli_pipeline_writes_run_and_sidecar_that_reruns_it(tmp_path, indexes, queries_file, capsys, term_overlap):
    (tmp_path / "p.yaml").write_text(YAML.format(en=indexes["en"], multi=indexes["multi"]))
    rc, _, err = xlir(capsys, "-q", "search", "--pipeline", str(tmp_path / "p.yaml"), "--queries", str(queries_file),
                      "-o", str(tmp_path / "run"))
    assert rc == 0, err
    run = read_run(tmp_path / "run")
    with Pipeline(load_pipeline(tmp_path / "p.yaml")) as pipe:
        assert run == pipe.search(read_queries(queries_file, lang="en"))  # scores are written losslessly
    lines = (tmp_path / "run").read_text().splitlines()
    assert all(line.split()[5] == "two-bm25" for line in lines)
    meta = json.loads(meta_path(tmp_path / "run").read_text())
    assert meta_path(tmp_path / "run").name == "run.meta.json"
    assert meta["format"] == "xlir.run-meta" and meta["tag"] == "two-bm25" and meta["run"] == "run"
    assert meta["pipeline"] == load_pipeline(tmp_path / "p.yaml").as_dict()
    assert meta["pipeline"]["rerank"] == {"name": "term-overlap:title", "depth": 20, "params": {"bonus": 1.5}}
    assert meta["pipeline"]["fusion"] == {"method": "wsum", "norm": "min-max", "weights": [0.4, 0.6]}
    assert meta["pipeline_file"]["path"] == str((tmp_path / "p.yaml").resolve())
    assert [s["manifest"]["retriever"] for s in meta["stages"]] == ["bm25", "bm25"]
    assert [s["manifest"]["params"]["lang"] for s in meta["stages"]] == ["en", "multi"]
    assert all(len(s["manifest_sha256"]) == 64 for s in meta["stages"])
    assert meta["reranker"] == {"name": "term-overlap", "field": "title", "bonus": 1.5}
    assert meta["queries"]["count"] == 3 and meta["queries"]["lang"] == "en" and meta["xlir_version"]
    # the sidecar is a pipeline file: the same system again, from anywhere
    rc, _, err = xlir(capsys, "-q", "search", "--pipeline", str(meta_path(tmp_path / "run")), "--queries",
                      str(queries_file), "-o", str(tmp_path / "again"))
    assert rc == 0, err
    assert (tmp_path / "again").read_bytes() == (tmp_path / "run").read_bytes()


def test_cli_rerank_option(tmp_path, indexes, queries_file, capsys, term_overlap):
    rc, _, err = xlir(capsys, "-q", "search", str(indexes["multi"]), "--queries", str(queries_file), "-k", "4",
                      "--rerank", "term-overlap", "--rerank-depth", "3", "-o", str(tmp_path / "run"))
    assert rc == 0, err
    run = read_run(tmp_path / "run")
    assert ranking(run, "q2") == ["en2", "en4", "en3", "en1"]
    meta = json.loads((tmp_path / "run.meta.json").read_text())
    assert meta["pipeline"]["stages"] == [{"index": str(indexes["multi"].resolve()), "label": "bm25-multi",
                                           "translate": "none"}]
    assert meta["pipeline"]["rerank"] == {"name": "term-overlap", "depth": 3} and meta["pipeline"]["k"] == 4
    assert meta["tag"] == "bm25-multi"
    # reranker ARG and parameters; one query prints a table
    rc, out, err = xlir(capsys, "search", str(indexes["multi"]), "--query", "rivers and trains", "--rerank",
                        "term-overlap:title", "--rerank-param", "bonus=2", "-k", "3")
    assert rc == 0, err
    rows = [r.split() for r in out.splitlines()[1:]]
    assert [r[2] for r in rows[:2]] == ["en3", "en4"] and float(rows[0][1]) == 3.0  # title word + bonus


def test_cli_plain_search_records_its_pipeline_too(tmp_path, indexes, queries_file, capsys):
    rc, _, err = xlir(capsys, "-q", "search", str(indexes["en"]), "--queries", str(queries_file), "-o",
                      str(tmp_path / "run"), "--run-name", "plain")
    assert rc == 0, err
    meta = json.loads((tmp_path / "run.meta.json").read_text())
    assert meta["pipeline"] == {"name": "plain", "stages": [{"index": str(indexes["en"].resolve()), "label": "bm25-en",
                                                            "translate": "none"}], "rerank": None, "k": 100}
    rc, _, err = xlir(capsys, "-q", "search", "--pipeline", str(tmp_path / "run.meta.json"), "--queries",
                      str(queries_file), "-o", str(tmp_path / "again"))
    assert rc == 0, err
    assert (tmp_path / "again").read_bytes() == (tmp_path / "run").read_bytes()


def test_cli_translation_pipeline_equals_translate_query(tmp_path, capsys):
    rc, _, err = xlir(capsys, "-q", "index", str(TRANSLATE / "docs_de.jsonl"), "-r", "bm25", "--lang", "de", "-o",
                      str(tmp_path / "de"))
    assert rc == 0, err
    table = f"table:{TRANSLATE / 'queries_en_de.tsv'}"
    rc, _, err = xlir(capsys, "-q", "search", str(tmp_path / "de"), "--queries", str(TRANSLATE / "queries_en.tsv"),
                      "--query-lang", "en", "--translate-query", "--translator", table, "-o", str(tmp_path / "flags"))
    assert rc == 0, err
    meta = json.loads((tmp_path / "flags.meta.json").read_text())
    assert meta["pipeline"]["stages"][0]["translate"] == "query" and meta["pipeline"]["stages"][0]["translator"] == table
    assert meta["stages"][0]["translator"]["translator"] == "table" and meta["pipeline"]["query_lang"] == "en"
    (tmp_path / "p.yaml").write_text(f"name: de\nstages:\n  - {{index: de, translate: query, translator: '{table}'}}\n")
    rc, _, err = xlir(capsys, "-q", "search", "--pipeline", str(tmp_path / "p.yaml"), "--queries",
                      str(TRANSLATE / "queries_en.tsv"), "-o", str(tmp_path / "file"))
    assert rc == 2 and "translates queries: give --query-lang" in err
    rc, _, err = xlir(capsys, "-q", "search", "--pipeline", str(tmp_path / "p.yaml"), "--queries",
                      str(TRANSLATE / "queries_en.tsv"), "--query-lang", "en", "-o", str(tmp_path / "file"))
    assert rc == 0, err
    assert (tmp_path / "file").read_bytes() == (tmp_path / "flags").read_bytes()


@pytest.mark.parametrize("extra, message", [
    (["INDEX"], "INDEX cannot be combined with --pipeline"),
    (["-k", "5"], "-k cannot be combined with --pipeline"),
    (["--rerank", "adapter"], "--rerank cannot be combined with --pipeline"),
    (["--rerank-depth", "5", "--translate-query"], "--rerank-depth, --translate-query cannot be combined"),
    (["--translator", "table:x"], "--translator cannot be combined with --pipeline"),
])
def test_cli_pipeline_conflicts(tmp_path, indexes, queries_file, capsys, extra, message):
    (tmp_path / "p.json").write_text(json.dumps({"stages": [str(indexes["en"])]}))
    extra = [str(indexes["en"]) if a == "INDEX" else a for a in extra]
    rc, _, err = xlir(capsys, "search", *extra, "--pipeline", str(tmp_path / "p.json"), "--queries", str(queries_file))
    assert rc == 2 and message in err, err


def test_cli_usage_errors(tmp_path, indexes, queries_file, capsys):
    rc, _, err = xlir(capsys, "search", "--queries", str(queries_file))
    assert rc == 2 and "missing INDEX (or give --pipeline FILE)" in err
    rc, _, err = xlir(capsys, "search", str(indexes["en"]), "--queries", str(queries_file), "--rerank-depth", "5")
    assert rc == 2 and "need --rerank" in err
    rc, _, err = xlir(capsys, "search", str(indexes["en"]), "--queries", str(queries_file), "--rerank", "nope-nope")
    assert rc == 1 and "unknown reranker 'nope-nope'" in err
    (tmp_path / "bad.yaml").write_text("stages: [a]\nfusion: rrf\n")
    rc, _, err = xlir(capsys, "search", "--pipeline", str(tmp_path / "bad.yaml"), "--queries", str(queries_file))
    assert rc == 1 and "bad.yaml: fusion: fusion needs two or more stages" in err
