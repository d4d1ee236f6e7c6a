"""The MTEB bridge: xlir retrievers as mteb 2.x search models, xlir collections as mteb tasks.

Everything runs offline: mteb's bundled mock tasks, in-memory tasks, and XQuAD-R from the
shared data folder when it is there.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("mteb")

import mteb  # noqa: E402
from mteb.mocks.mock_tasks import (  # noqa: E402
    MockInstructionRetrieval,
    MockMultilingualRetrievalTask,
    MockRerankingTask,
    MockRetrievalTask,
)
from mteb.models import SearchProtocol  # noqa: E402
from mteb.results import TaskResult  # noqa: E402

from xlir.errors import InputError, ParamError, UnknownComponentError, XlirError  # noqa: E402
from xlir.eval.measures import evaluate  # noqa: E402
from xlir.eval.mteb_bridge import (  # noqa: E402
    TaskContext,
    XlirSearchModel,
    mteb_lang_to_iso,
    result_path,
    run_mteb,
    subset_languages,
)
from xlir.eval.mteb_tasks import XQuADRRetrieval, collection_task, mteb_lang  # noqa: E402
from xlir.retrievers.bm25 import BM25Retriever  # noqa: E402
from xlir.types import Doc, Query  # noqa: E402

XQUAD_R = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad-r"
# xlir measure -> mteb score key. Not RR@10: ir_measures computes it with its msmarco
# provider, which orders equal scores differently from trec_eval (docid descending), the
# order pytrec_eval and mteb's own MRR use; on XQuAD-R en-de 7 of 1,190 queries differ.
MEASURES = {"nDCG@10": "ndcg_at_10", "R@100": "recall_at_100", "P@1": "precision_at_1", "AP@100": "map_at_100"}


def _scores(result, task_name: str, split: str = "test") -> dict[str, dict]:
    """hf_subset -> mteb scores, for one task of a ModelResult."""
    (task_result,) = [r for r in result.task_results if r.task_name == task_name]
    return {s["hf_subset"]: s for s in task_result.scores[split]}


def _xlir_scores(split_data, *, doc_lang: str, query_lang: str | None) -> dict[str, float]:
    """What xlir's own BM25 + evaluate give on an mteb split, without mteb in the loop."""
    docs = [Doc(r["id"], r["text"], title=r.get("title") or "") for r in split_data["corpus"]]
    queries = [Query(r["id"], r["text"], query_lang) for r in split_data["queries"]]
    retriever = BM25Retriever(lang=doc_lang)
    retriever.index(docs)
    run = retriever.search(queries, k=1000)
    return evaluate(split_data["relevant_docs"], run, list(MEASURES))


def _assert_same(mteb_scores: dict, xlir_scores: dict[str, float]) -> None:
    for measure, key in MEASURES.items():
        assert 0.0 <= mteb_scores[key] <= 1.0
        # mteb rounds its means to 5 decimals
        assert mteb_scores[key] == pytest.approx(xlir_scores[measure], abs=1e-5), measure


# --- the model: mteb's search protocol ------------------------------------------------------


def test_model_implements_mteb_search_protocol():
    model = XlirSearchModel("bm25")
    assert isinstance(model, SearchProtocol)
    meta = model.mteb_model_meta
    assert meta.name == "xlir/bm25" and meta.revision
    assert meta.model_type == ["sparse"] and meta.experiment_kwargs is None


def test_mock_task_bm25_is_faithful_to_xlir_evaluate(tmp_path):
    result = run_mteb(XlirSearchModel("bm25"), [MockRetrievalTask()], tmp_path)
    task = MockRetrievalTask()
    task.load_data()
    for split in ("val", "test"):
        scores = _scores(result, "MockRetrievalTask", split)["default"]
        assert scores["main_score"] == scores["ndcg_at_10"]
        _assert_same(scores, _xlir_scores(task.dataset["default"][split], doc_lang="en", query_lang="en"))


def test_subsets_are_indexed_in_their_language(tmp_path):
    seen: list[TaskContext] = []

    def factory(ctx: TaskContext):
        seen.append(ctx)
        return BM25Retriever(lang=ctx.doc_lang)

    result = run_mteb(XlirSearchModel(factory, name="xlir/bm25-factory"), [MockMultilingualRetrievalTask()], tmp_path)
    assert {(c.hf_subset, c.query_lang, c.doc_lang) for c in seen} == {("eng", "en", "en"), ("fra", "fr", "fr")}
    assert {c.hf_split for c in seen} == {"val", "test"}
    assert XlirSearchModel(lambda ctx: BM25Retriever()).mteb_model_meta.name == "xlir/pipeline"
    assert set(_scores(result, "MockMultilingualRetrievalTask")) == {"eng", "fra"}
    assert result_path(XlirSearchModel(factory, name="xlir/bm25-factory"), "MockMultilingualRetrievalTask",
                       tmp_path).is_file()


def test_instruction_and_reranking_mock_tasks(tmp_path):
    result = run_mteb("bm25", [MockInstructionRetrieval(), MockRerankingTask()], tmp_path)
    assert {r.task_name for r in result.task_results} == {"MockInstructionRetrieval", "MockRerankingTask"}
    for r in result.task_results:
        assert 0.0 <= r.get_score() <= 1.0


# --- an in-memory task with a known ranking ---------------------------------------------------

THREE_DOCS = SimpleNamespace(
    docs=[
        Doc("d1", "The cat sat on the mat and purred."),
        Doc("d2", "Dogs chase cats around the park.", title="Dogs"),
        Doc("d3", "Stock markets fell sharply on Monday."),
    ],
    queries=[Query("q1", "cat on the mat"), Query("q2", "stock market fall")],
    qrels={"q1": {"d1": 1}, "q2": {"d3": 1}},
)


def test_in_memory_task_known_ranking_and_result_files(tmp_path):
    task = collection_task(THREE_DOCS, name="XlirThreeDocs", queries_lang="en", docs_lang="en")
    assert task.metadata.eval_langs == ["eng-Latn"]
    model = XlirSearchModel("bm25")
    result = run_mteb(model, task, tmp_path / "out", prediction_folder=tmp_path / "pred")

    scores = _scores(result, "XlirThreeDocs")["default"]
    assert scores["ndcg_at_1"] == 1.0 and scores["ndcg_at_10"] == 1.0 and scores["mrr_at_10"] == 1.0
    run = json.loads((tmp_path / "pred" / "XlirThreeDocs_predictions.json").read_text())["default"]["test"]
    ranking = {qid: sorted(hits, key=hits.get, reverse=True) for qid, hits in run.items()}
    assert ranking["q1"][:2] == ["d1", "d2"]  # "cat" is in d2 too, "mat" only in d1
    assert ranking["q2"] == ["d3"]  # BM25 returns only documents that share a term

    # mteb's result-file format: loadable by TaskResult and by mteb's ResultCache
    path = result_path(model, task, tmp_path / "out")
    assert path == tmp_path / "out" / "results" / "xlir__bm25" / model.mteb_model_meta.revision / "XlirThreeDocs.json"
    loaded = TaskResult.from_disk(path)
    assert loaded.task_name == "XlirThreeDocs" and loaded.mteb_version == mteb.__version__
    assert loaded.scores["test"][0]["ndcg_at_10"] == 1.0
    assert loaded.scores["test"][0]["languages"] == ["eng-Latn"]
    cached = mteb.ResultCache(tmp_path / "out").load_task_result("XlirThreeDocs", model.mteb_model_meta)
    assert cached.get_score() == loaded.get_score() == 1.0
    meta = json.loads((path.parent / "model_meta.json").read_text())
    assert meta["name"] == "xlir/bm25" and meta["loader"]


def test_results_are_written_again_unless_asked_not_to(tmp_path):
    task = collection_task(THREE_DOCS, name="XlirThreeDocs")
    model = XlirSearchModel("bm25")
    run_mteb(model, task, tmp_path)
    path = result_path(model, task, tmp_path)
    first = path.stat().st_mtime_ns
    run_mteb(model, task, tmp_path, overwrite_strategy="only-missing")  # complete result: reused
    assert path.stat().st_mtime_ns == first
    run_mteb(model, task, tmp_path)
    assert path.stat().st_mtime_ns != first


def test_parameters_name_an_experiment_and_the_meta_reloads_the_model(tmp_path):
    model = XlirSearchModel("bm25", {"k1": 1.2, "b": 0.4, "store_text": False}, name="lab/bm25", revision="r1")
    meta = model.mteb_model_meta
    assert dict(meta.experiment_kwargs) == {"k1": 1.2}  # b is the default; store_text changes no score
    task = collection_task(THREE_DOCS, name="XlirThreeDocs")
    run_mteb(model, task, tmp_path)
    assert result_path(model, task, tmp_path) == (
        tmp_path / "results" / "lab__bm25" / "r1" / "experiments" / "k1_1.2" / "XlirThreeDocs.json"
    )
    assert result_path(model, task, tmp_path).is_file()
    again = meta.load_model()
    assert isinstance(again, XlirSearchModel)
    assert again.params == {"k1": 1.2} and again.mteb_model_meta.name == "lab/bm25"


def test_cross_lingual_subsets(tmp_path):
    en = SimpleNamespace(docs=THREE_DOCS.docs, queries=THREE_DOCS.queries, qrels=THREE_DOCS.qrels)
    de = SimpleNamespace(
        docs=[Doc("d1", "Die Katze saß auf der Matte."), Doc("d2", "Hunde jagen Katzen im Park."),
              Doc("d3", "Die Aktienmärkte fielen am Montag stark.")],
        queries=[Query("q1", "Katze Matte"), Query("q2", "Aktienmärkte")],
        qrels=THREE_DOCS.qrels,
    )
    task = collection_task({"en-en": en, "de-de": de}, name="XlirTwoLangs", queries_lang=None,
                           docs_lang=None, domains=["News"])
    # with no language given, the documents' own (none here) -> "multi"
    assert task.metadata.eval_langs == {"en-en": ["mul-Zyyy"], "de-de": ["mul-Zyyy"]}
    task = collection_task({"en-en": en, "en-de": SimpleNamespace(**vars(de), queries_lang="en", docs_lang="de")},
                           name="XlirTwoLangs", queries_lang=None, docs_lang=None)
    assert task.metadata.eval_langs["en-de"] == ["eng-Latn", "deu-Latn"]
    assert subset_languages(task.metadata, "en-de") == ("en", "de")
    result = run_mteb("bm25", task, tmp_path)
    assert set(_scores(result, "XlirTwoLangs")) == {"en-en", "en-de"}


def test_tiny_multilingual_collection_is_faithful(tiny_docs, tiny_queries, tmp_path):
    from xlir.io import read_qrels

    qrels = read_qrels(Path(__file__).parent / "fixtures" / "tiny" / "qrels.txt")
    task = collection_task(SimpleNamespace(docs=tiny_docs, queries=tiny_queries, qrels=qrels), name="XlirTiny",
                           queries_lang="en")
    assert task.metadata.eval_langs == ["eng-Latn", "mul-Zyyy"]  # documents in three languages
    result = run_mteb("bm25", task, tmp_path)
    task.load_data()
    expected = _xlir_scores(task.dataset["default"]["test"], doc_lang="multi", query_lang="en")
    _assert_same(_scores(result, "XlirTiny")["default"], expected)


# --- the protocol called directly ---------------------------------------------------------


def _split(task):
    task.load_data()
    return task.dataset["default"]["test"]


def test_search_limits_results_to_top_ranked_candidates():
    task = collection_task(THREE_DOCS, name="XlirThreeDocs", queries_lang="en", docs_lang="en")
    data = _split(task)
    model = XlirSearchModel("bm25")
    common = dict(task_metadata=task.metadata, hf_split="test", hf_subset="default", encode_kwargs={})
    with pytest.raises(XlirError, match="before index"):
        model.search(data["queries"], top_k=10, **common)
    model.index(data["corpus"], num_proc=None, **common)
    full = model.search(data["queries"], top_k=10, num_proc=None, **common)
    assert set(full["q1"]) == {"d1", "d2"}
    limited = model.search(data["queries"], top_k=10, top_ranked={"q1": ["d2", "d3"], "q2": ["d1"]}, num_proc=None,
                           **common)
    assert list(limited["q1"]) == ["d2"] and limited["q2"] == {}
    top1 = model.search(data["queries"], top_k=1, num_proc=None, **common)
    assert list(top1["q1"]) == ["d1"]
    with pytest.raises(XlirError, match="before index"):
        model.search(data["queries"], top_k=10, **{**common, "hf_subset": "other"})


def test_bad_arguments_fail_at_construction():
    with pytest.raises(ParamError, match="k2"):
        XlirSearchModel("bm25", {"k2": 1.0})
    with pytest.raises(UnknownComponentError, match="bm25"):
        XlirSearchModel("bm52")
    with pytest.raises(ParamError, match="organization/model"):
        XlirSearchModel("bm25", name="bm25")
    with pytest.raises(ParamError, match="factory"):
        XlirSearchModel(lambda ctx: BM25Retriever(), {"k1": 1.0})
    with pytest.raises(ParamError, match="task name"):
        collection_task(THREE_DOCS, name="bad/name")


# --- languages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, iso",
    [("eng-Latn", "en"), ("deu-Latn", "de"), ("arb-Arab", "ar"), ("zho-Hans", "zh"), ("cmn-Hans", "zh"),
     ("fas-Arab", "fa"), ("nob-Latn", "no"), ("python-Code", None), ("xyz-Latn", None)],
)
def test_mteb_lang_to_iso(code, iso):
    assert mteb_lang_to_iso(code) == iso


def test_every_xlir_language_has_a_valid_mteb_code():
    from mteb.languages.check_language_code import check_language_code

    from xlir.analysis import supported_languages

    for lang in supported_languages():
        code = mteb_lang(lang)
        check_language_code(code)
        assert mteb_lang_to_iso(code) == lang
    assert mteb_lang("de") == "deu-Latn" and mteb_lang("zh") == "zho-Hans" and mteb_lang("multi") == "mul-Zyyy"


def test_subset_language_conventions():
    meta = SimpleNamespace(name="T", eval_langs={
        "one": ["fra-Latn"], "pair": ["eng-Latn", "rus-Cyrl"], "code": ["eng-Latn", "python-Code"],
        "same": ["nor-Latn", "nob-Latn", "nno-Latn"], "mixed": ["eng-Latn", "deu-Latn", "fra-Latn"],
    })
    assert subset_languages(meta, "one") == ("fr", "fr")
    assert subset_languages(meta, "pair") == ("en", "ru")
    assert subset_languages(meta, "code") == ("en", "multi")
    assert subset_languages(meta, "same") == ("no", "no")
    assert subset_languages(meta, "mixed") == (None, "multi")
    assert subset_languages(SimpleNamespace(name="T", eval_langs=["tha-Thai"]), "default") == ("th", "th")


# --- XQuAD-R ------------------------------------------------------------------------------


def _squad(lang: str, paragraphs: list[tuple[str, list[tuple[str, str]]]]) -> dict:
    return {"version": "1.1", "data": [{"title": "A", "paragraphs": [
        {"context": context, "qas": [{"id": qid, "question": q, "answers": []} for qid, q in qas]}
        for context, qas in paragraphs
    ]}]}


def _xquad_folder(root: Path) -> Path:
    from xlir.datasets import XQUAD_R_LANGS

    folder = root / "xquad-r"
    folder.mkdir(parents=True)
    en = [("Paris is the capital of France.", [("a1", "What is the capital of France?")]),
          ("The Rhine flows into the North Sea.", [("a2", "Where does the Rhine flow?")])]
    de = [("Paris ist die Hauptstadt von Frankreich.", [("a1", "Was ist die Hauptstadt Frankreichs?")]),
          ("Der Rhein mündet in die Nordsee.", [("a2", "Wohin fließt der Rhein?")])]
    for lang in XQUAD_R_LANGS:
        content = en if lang == "en" else de  # the loader checks alignment (ids), not the language
        (folder / f"{lang}.json").write_text(json.dumps(_squad(lang, content)), encoding="utf-8")
    return folder


def test_xquad_r_task_from_xlir_data_env(tmp_path, monkeypatch):
    _xquad_folder(tmp_path / "data")
    monkeypatch.delenv("XLIR_DATA", raising=False)
    task = XQuADRRetrieval(hf_subsets=["en-de", "en-en"])
    with pytest.raises(InputError, match="XLIR_DATA"):
        task.load_data()
    monkeypatch.setenv("XLIR_DATA", str(tmp_path / "data"))
    assert task.metadata.eval_langs["en-de"] == ["eng-Latn", "deu-Latn"]
    assert len(task.metadata.hf_subsets) == 11
    result = run_mteb("bm25", task, tmp_path / "out")
    scores = _scores(result, "XQuADRRetrieval")
    assert set(scores) == {"en-de", "en-en"}
    assert scores["en-en"]["ndcg_at_1"] == 1.0
    assert scores["en-de"]["languages"] == ["eng-Latn", "deu-Latn"]
    with pytest.raises(ParamError, match="en-xx"):
        XQuADRRetrieval(tmp_path, hf_subsets=["en-xx"])


def test_xquad_r_filter_languages_selects_subsets(tmp_path):
    task = XQuADRRetrieval(_xquad_folder(tmp_path)).filter_languages(["rus"])
    assert task.hf_subsets == ["en-ru"]


@pytest.mark.skipif(not (XQUAD_R / "de.json").is_file(), reason=f"XQuAD-R data not found at {XQUAD_R}")
def test_real_xquad_r_en_de_is_faithful(tmp_path):
    from xlir.datasets import load_xquad_r

    task = XQuADRRetrieval(XQUAD_R, hf_subsets=["en-de"])
    result = run_mteb("bm25", task, tmp_path / "out", prediction_folder=tmp_path / "pred")
    scores = _scores(result, "XQuADRRetrieval")["en-de"]
    data = load_xquad_r(XQUAD_R, queries_lang="en", docs_lang="de")
    retriever = BM25Retriever(lang="de")
    retriever.index(data.docs)
    run = retriever.search(data.queries, k=1000)  # queries carry lang="en": analyzed as English
    # mteb scored exactly the run xlir computes: same queries, documents and scores
    mteb_run = json.loads((tmp_path / "pred" / "XQuADRRetrieval_predictions.json").read_text())["en-de"]["test"]
    assert mteb_run == {q.id: run.get(q.id, {}) for q in data.queries}
    expected = evaluate(data.qrels, run, list(MEASURES))
    _assert_same(scores, expected)
    assert 0.3 < scores["ndcg_at_10"] < 0.8  # names and numbers shared across languages


# --- dense ---------------------------------------------------------------------------------


def test_dense_e5_offline_on_tiny_task(tiny_docs, tiny_queries, tmp_path):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("faiss")
    from xlir.io import read_qrels
    from xlir.retrievers.dense import DenseRetriever

    qrels = read_qrels(Path(__file__).parent / "fixtures" / "tiny" / "qrels.txt")
    tiny = SimpleNamespace(docs=tiny_docs, queries=tiny_queries, qrels=qrels)
    task = collection_task({"a": tiny, "b": tiny}, name="XlirTinyDense", queries_lang="en")
    model = XlirSearchModel("dense", {"device": "cpu"})
    assert model.mteb_model_meta.model_type == ["dense"] and model.mteb_model_meta.experiment_kwargs is None
    result = run_mteb(model, task, tmp_path)
    scores = _scores(result, "XlirTinyDense")
    encoder = model._shared_encoder  # built once, shared by both subsets
    assert encoder is not None and model.make_retriever(
        TaskContext("XlirTinyDense", "a", "test", "en", "multi")).encoder is encoder

    retriever = DenseRetriever(encoder=encoder)
    retriever.index(tiny_docs)
    expected = evaluate(qrels, retriever.search(tiny_queries, k=100), list(MEASURES))
    for subset in ("a", "b"):
        _assert_same(scores[subset], expected)
        assert scores[subset]["recall_at_3"] > 0.9  # e5 finds the three translations


# --- CLIRudit and HC4 ----------------------------------------------------------------------


def _clirudit_folder(root: Path) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")

    def write(rel: str, rows: list[dict]) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows), root / rel)

    write("docs/fr.test-00000-of-00001.parquet", [
        {"docid": "a1", "title": "Les marées", "subtitle": "Une étude", "abstract": "Les marées de l'estuaire."},
        {"docid": "a2", "title": "La forêt", "subtitle": "", "abstract": "L'industrie forestière au Québec."},
    ])
    write("docs/en.test-00000-of-00001.parquet", [
        {"docid": "a1", "title": "Tides", "subtitle": "A study", "abstract": "The tides of the estuary."},
        {"docid": "a2", "title": "Forests", "subtitle": "", "abstract": "The forest industry in Quebec."},
    ])
    write("queries/en.test-00000-of-00001.parquet", [{"qid": 1, "query": "tides, estuary"},
                                                      {"qid": 2, "query": "forest industry, Quebec"}])
    for pair in ("en_fr", "en_en"):
        write(f"qrels/{pair}.test-00000-of-00001.parquet",
              [{"qid": 1, "docid": "a1", "rel": 1}, {"qid": 2, "docid": "a2", "rel": 1}])
    return root


def test_clirudit_task(tmp_path, monkeypatch):
    from xlir.eval.mteb_tasks import CLIRuditRetrieval

    _clirudit_folder(tmp_path / "data" / "clirudit")
    monkeypatch.setenv("XLIR_DATA", str(tmp_path / "data"))
    task = CLIRuditRetrieval()  # as mteb.get_tasks would build it: the data from $XLIR_DATA
    assert task.metadata.eval_langs == {"en-fr": ["eng-Latn", "fra-Latn"], "en-en": ["eng-Latn"]}
    scores = _scores(run_mteb("bm25", task, tmp_path / "out"), "CLIRuditRetrieval")
    assert scores["en-en"]["ndcg_at_10"] == 1.0
    assert 0.0 <= scores["en-fr"]["ndcg_at_10"] <= 1.0  # "Québec" is the one shared term
    with pytest.raises(ParamError, match="en-de"):
        CLIRuditRetrieval(tmp_path, hf_subsets=["en-de"])


def _hc4_folder(root: Path) -> Path:
    from xlir.datasets import HC4_MT_SOURCE

    def topic(tid: str, en: str, fa: str, fa_mt: str) -> dict:
        return {"topic_id": tid, "languages_with_qrels": ["fas"], "topics": [
            {"lang": "eng", "source": "original", "topic_title": en, "topic_description": en + " news"},
            {"lang": "fas", "source": "human translation", "topic_title": fa, "topic_description": fa},
            {"lang": "fas", "source": HC4_MT_SOURCE, "topic_title": fa_mt, "topic_description": fa_mt},
        ]}

    (root / "fas").mkdir(parents=True)
    topics = [topic("101", "Tehran metro", "مترو تهران", "مترو تهران"),
              topic("102", "Caspian sturgeon", "ماهی خاویار خزر", "خاویار دریای خزر")]
    (root / "test.topics.v1-0.jsonl").write_text("\n".join(json.dumps(t, ensure_ascii=False) for t in topics) + "\n",
                                                encoding="utf-8")
    (root / "fas" / "test.qrels.v1-0.txt").write_text("101 0 d1 3\n101 0 d3 0\n102 0 d2 1\n", encoding="utf-8")
    docs = [("d1", "مترو تهران", "خط جدید مترو تهران افتتاح شد"), ("d2", "خاویار", "ماهی خاویار در دریای خزر"),
            ("d3", "Tehran", "Tehran weather today")]
    lines = [json.dumps({"id": i, "title": t, "text": x, "url": "", "time": "", "cc_file": ""}, ensure_ascii=False)
             for i, t, x in docs]
    (root / "fas" / "hc4_docs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_hc4_task_and_its_query_conditions(tmp_path, monkeypatch):
    from xlir.eval.mteb_tasks import HC4Retrieval

    _hc4_folder(tmp_path / "data" / "hc4")
    monkeypatch.setenv("XLIR_DATA", str(tmp_path / "data"))
    task = HC4Retrieval()  # topics from $XLIR_DATA/hc4, documents found at fas/hc4_docs.jsonl
    assert task.hf_subsets == ["fas"] and task.metadata.main_score == "ndcg_at_20"
    scores = _scores(run_mteb("bm25", task, tmp_path / "out"), "HC4Retrieval")["fas"]
    assert scores["languages"] == ["eng-Latn", "fas-Arab"]
    assert 0.0 <= scores["main_score"] == scores["ndcg_at_20"] <= 1.0

    human = HC4Retrieval(queries="human")
    assert human.metadata.name == "HC4Retrieval.human.title"
    model = XlirSearchModel("bm25")
    for _ in range(2):  # the condition's name survives mteb unloading the data after a run
        scores = _scores(run_mteb(model, human, tmp_path / "out"), "HC4Retrieval.human.title")["fas"]
    assert scores["languages"] == ["fas-Arab"] and scores["ndcg_at_1"] == 1.0
    assert result_path(model, human, tmp_path / "out").is_file()

    with pytest.raises(InputError, match="no HC4 rus documents"):
        HC4Retrieval(hf_subsets=["rus"]).load_data()
    with pytest.raises(ParamError, match="queries"):
        HC4Retrieval(queries="fr")


def test_dense_params_reach_the_retriever_not_its_encoder_argument():
    pytest.importorskip("sentence_transformers")
    model = XlirSearchModel("dense", {"encoder": "ct2", "index": "hnsw", "device": "cpu"})
    assert dict(model.mteb_model_meta.experiment_kwargs) == {"encoder": "ct2", "index": "hnsw"}
    shared = object()
    model._shared_encoder = shared  # as after the first subset: no model is loaded here
    retriever = model.make_retriever(TaskContext("T", "default", "test", "en", "de"))
    assert retriever.params.encoder == "ct2" and retriever.params.lang == "de"
    assert retriever.params.store_text is False  # mteb never reads the texts back
    assert retriever.encoder is shared
