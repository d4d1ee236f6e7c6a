"""CLIRudit, HC4 and generic (files, BEIR) collections: loading, strict errors, export, CLI."""

from __future__ import annotations

import json
import logging
import sys
import types
from pathlib import Path

import pytest

from xlir.cli.main import main
from xlir.datasets import (
    HC4_MT_SOURCE,
    Collection,
    XquadR,
    export_beir,
    export_clirudit,
    export_hc4,
    load_beir,
    load_clirudit,
    load_files,
    load_hc4,
)
from xlir.errors import IndexExistsError, InputError, MissingDependencyError, ParamError
from xlir.io import read_corpus, read_qrels, read_queries
from xlir.types import Doc, Query

FIXTURES = Path(__file__).parent / "fixtures" / "collections"
HC4_FIXTURE = FIXTURES / "hc4"
BEIR_FIXTURE = FIXTURES / "beir"
HC4_REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "hc4"


def xlir(capsys, *args):
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_one_shape_for_every_collection():
    assert XquadR is Collection


# --- CLIRudit ---------------------------------------------------------------------------------

try:
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError:  # CLIRudit's parquet needs the bench extra
    pa = pq = None
needs_pyarrow = pytest.mark.skipif(pa is None, reason='pyarrow not installed (pip install "xlir[bench]")')

FR_DOCS = [
    {"docid": "a1", "title": "Les marées", "subtitle": "Une étude", "abstract": "Les marées du Saint-Laurent."},
    {"docid": "a2", "title": "Le bois", "subtitle": None, "abstract": "L'industrie forestière au Québec."},
    {"docid": "a3", "title": "Poésie", "subtitle": "", "abstract": ""},
]
EN_DOCS = [
    {"docid": "a1", "title": "Tides", "subtitle": "A study", "abstract": "The tides of the St. Lawrence."},
    {"docid": "a2", "title": "Wood", "subtitle": None, "abstract": "The forest industry in Quebec."},
    {"docid": "a3", "title": "Poetry", "subtitle": None, "abstract": None},
]
QUERIES = [{"qid": 10, "query": "tides, estuary, river"}, {"qid": 11, "query": " forestry, Quebec, industry "},
           {"qid": 12, "query": "poetry, verse, rhyme"}]
QRELS_FR = [{"qid": 10, "docid": "a1", "rel": 1}, {"qid": 11, "docid": "a2", "rel": 1},
            {"qid": 12, "docid": "a3", "rel": 1}]
QRELS_EN = [{"qid": 10, "docid": "a1", "rel": 2}, {"qid": 11, "docid": "a2", "rel": 1}]


def _schema(name: str | None):
    """Explicit column types where a column may be all null (pyarrow would infer the null type)."""
    if name is None:
        return None
    types_ = {"qid": pa.int64(), "query": pa.string(), "docid": pa.string(), "rel": pa.int64(),
              "title": pa.string(), "subtitle": pa.string(), "abstract": pa.string()}
    columns = {"queries": ("qid", "query"), "qrels": ("qid", "docid", "rel"),
               "docs": ("docid", "title", "subtitle", "abstract")}[name]
    return pa.schema([(c, types_[c]) for c in columns])


def _parquet(path: Path, rows: list[dict], schema: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=_schema(schema)), path)


def _clirudit(root: Path, *, shards: bool = True) -> Path:
    """A CLIRudit folder in the Hub repository's layout; French docs in two shards."""
    if shards:
        _parquet(root / "docs" / "fr.test-00000-of-00002.parquet", FR_DOCS[:2])
        _parquet(root / "docs" / "fr.test-00001-of-00002.parquet", FR_DOCS[2:])
    else:
        _parquet(root / "docs" / "fr.test-00000-of-00001.parquet", FR_DOCS)
    _parquet(root / "docs" / "en.test-00000-of-00001.parquet", EN_DOCS)
    _parquet(root / "queries" / "en.test-00000-of-00001.parquet", QUERIES, "queries")
    _parquet(root / "qrels" / "en_fr.test-00000-of-00001.parquet", QRELS_FR, "qrels")
    _parquet(root / "qrels" / "en_en.test-00000-of-00001.parquet", QRELS_EN, "qrels")
    return root


@needs_pyarrow
def test_clirudit_french_documents(tmp_path):
    task = load_clirudit(_clirudit(tmp_path / "clirudit"))
    assert task.name == "clirudit/en-fr" and (task.queries_lang, task.docs_lang) == ("en", "fr")
    assert [d.id for d in task.docs] == ["a1", "a2", "a3"]  # shards in order
    a1, a2, a3 = task.docs
    assert (a1.title, a1.text, a1.lang) == ("Les marées", "Une étude\nLes marées du Saint-Laurent.", "fr")
    assert a1.contents == "Les marées\nUne étude\nLes marées du Saint-Laurent."
    assert (a2.title, a2.text) == ("Le bois", "L'industrie forestière au Québec.")  # null subtitle skipped
    assert (a3.title, a3.text) == ("Poésie", "")  # a title alone is a document
    assert task.queries == [Query("10", "tides, estuary, river", "en"), Query("11", "forestry, Quebec, industry", "en"),
                            Query("12", "poetry, verse, rhyme", "en")]
    assert task.qrels == {"10": {"a1": 1}, "11": {"a2": 1}, "12": {"a3": 1}}


@needs_pyarrow
def test_clirudit_english_documents_use_the_en_en_qrels(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="xlir"):
        task = load_clirudit(_clirudit(tmp_path / "c", shards=False), docs_lang="en")
    assert task.name == "clirudit/en-en" and task.docs_lang == "en"
    assert task.docs[0] == Doc("a1", "A study\nThe tides of the St. Lawrence.", "Tides", "en")
    assert task.qrels == {"10": {"a1": 2}, "11": {"a2": 1}}
    assert "1 queries have no judgments: 12" in caplog.text  # a join gap is a warning


@needs_pyarrow
def test_clirudit_needs_only_the_files_of_its_pair(tmp_path):
    root = _clirudit(tmp_path / "c")
    for path in (root / "docs").glob("en.test-*"):
        path.unlink()
    assert len(load_clirudit(root).docs) == 3
    with pytest.raises(InputError, match=r"missing docs/en\.test-\*\.parquet; docs_lang='en' needs docs/en\.test"):
        load_clirudit(root, docs_lang="en")
    with pytest.raises(ParamError, match="unknown CLIRudit documents language 'de'; available: fr, en"):
        load_clirudit(root, docs_lang="de")
    with pytest.raises(InputError, match="CLIRudit folder not found"):
        load_clirudit(tmp_path / "nowhere")


@needs_pyarrow
def test_clirudit_missing_column_names_file_and_column(tmp_path):
    root = _clirudit(tmp_path / "c")
    bad = root / "docs" / "fr.test-00001-of-00002.parquet"
    _parquet(bad, [{"docid": "a3", "title": "Poésie", "subtitle": ""}])
    with pytest.raises(InputError) as exc:
        load_clirudit(root)
    message = str(exc.value)
    assert message.startswith(f"{bad}: missing column 'abstract'")
    assert "docid, title, subtitle, abstract" in message and "this file has docid, title, subtitle" in message


@needs_pyarrow
@pytest.mark.parametrize(
    "part, rows, schema, fragment",
    [
        ("qrels/en_fr.test-00000-of-00001.parquet", [{"qid": 10, "docid": "a1", "rel": "1"}], None,
         "column 'rel' has type string, expected an integer"),
        ("queries/en.test-00000-of-00001.parquet", [{"qid": 10, "query": "x"}, {"qid": None, "query": "y"}],
         "queries", "row 2: qid is null"),
        ("queries/en.test-00000-of-00001.parquet", [{"qid": 10, "query": "x"}, {"qid": 10, "query": "y"}], None,
         "row 2: duplicate qid '10'"),
        ("queries/en.test-00000-of-00001.parquet", [{"qid": 10, "query": "  "}], None,
         "row 1: query '10' has an empty text"),
        ("qrels/en_fr.test-00000-of-00001.parquet", [{"qid": 10, "docid": "a 1", "rel": 1}], None,
         "row 1: docid 'a 1' contains whitespace"),
        ("qrels/en_fr.test-00000-of-00001.parquet",
         [{"qid": 10, "docid": "a1", "rel": 1}, {"qid": 10, "docid": "a1", "rel": 0}], None,
         "row 2: duplicate judgment for qid '10', docid 'a1'"),
        ("docs/fr.test-00001-of-00002.parquet", [{"docid": "a1", "title": "x", "subtitle": "", "abstract": "y"}], None,
         "row 1: duplicate docid 'a1' (first seen on row 1 of fr.test-00000-of-00002.parquet)"),
        ("docs/fr.test-00001-of-00002.parquet", [{"docid": "a3", "title": None, "subtitle": " ", "abstract": None}],
         "docs", "row 1: document 'a3' has no title, subtitle or abstract"),
    ],
)
def test_clirudit_bad_rows_name_the_file(tmp_path, part, rows, schema, fragment):
    root = _clirudit(tmp_path / "c")
    _parquet(root / part, rows, schema)
    with pytest.raises(InputError) as exc:
        load_clirudit(root)
    assert str(exc.value).startswith(f"{root / part}: ")
    assert fragment in str(exc.value)


@needs_pyarrow
def test_clirudit_not_parquet(tmp_path):
    root = _clirudit(tmp_path / "c")
    bad = root / "qrels" / "en_fr.test-00000-of-00001.parquet"
    bad.write_text("qid,docid,rel\n10,a1,1\n")
    with pytest.raises(InputError, match=rf"^{bad}: not a readable parquet file"):
        load_clirudit(root)


@needs_pyarrow
def test_clirudit_from_the_hub_downloads_only_the_pair(tmp_path, monkeypatch):
    hub = pytest.importorskip("huggingface_hub")
    root = _clirudit(tmp_path / "snapshot")
    calls = []

    def fake_snapshot_download(repo_id, **kwargs):
        calls.append((repo_id, kwargs))
        return str(root)

    monkeypatch.setattr(hub, "snapshot_download", fake_snapshot_download)
    monkeypatch.chdir(tmp_path)  # no local folder called ftvalentini/clirudit
    task = load_clirudit(docs_lang="en", revision="abc123")
    assert task.name == "clirudit/en-en" and len(task.docs) == 3
    assert calls == [("ftvalentini/clirudit", {
        "repo_type": "dataset", "revision": "abc123",
        "allow_patterns": ["docs/en.test*.parquet", "queries/en.test*.parquet", "qrels/en_en.test*.parquet"],
    })]


@needs_pyarrow
def test_clirudit_offline_says_to_pass_a_local_folder(tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    monkeypatch.chdir(tmp_path)
    # HF_HUB_OFFLINE=1 in tests: nothing cached -> an error; online, the repository does not exist
    with pytest.raises(InputError) as exc:
        load_clirudit("xlir-tests/no-such-dataset")
    message = str(exc.value)
    assert "'xlir-tests/no-such-dataset' is not a local folder, and the Hugging Face Hub could not provide it" in message
    assert "huggingface-cli download xlir-tests/no-such-dataset --repo-type dataset --local-dir DIR" in message
    assert "pass that folder instead" in message


def test_clirudit_without_pyarrow(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "xlir\[bench\]"'):
        load_clirudit(tmp_path)


@needs_pyarrow
def test_clirudit_export(tmp_path):
    root = _clirudit(tmp_path / "c")
    out = tmp_path / "out"
    paths = export_clirudit(root, out)
    task = load_clirudit(root)
    assert list(read_corpus(paths["docs"])) == task.docs
    assert read_queries(paths["queries"], lang="en") == task.queries
    assert read_qrels(paths["qrels"]) == task.qrels
    with pytest.raises(IndexExistsError):
        export_clirudit(root, out)
    export_clirudit(root, out, docs_lang="en", overwrite=True)
    assert read_qrels(paths["qrels"]) == {"10": {"a1": 2}, "11": {"a2": 1}}


# --- HC4: the fixture folder ----------------------------------------------------------------


def _hc4_docs(path: Path, ids: list[str], *, lang_tag: str = "fa") -> Path:
    """A documents file as HC4's download script writes it."""
    with path.open("w", encoding="utf-8") as f:
        for i, doc_id in enumerate(ids):
            f.write(json.dumps({
                "id": doc_id, "title": f"عنوان {i}", "text": f"متن خبر {i} ({lang_tag})",
                "url": f"https://news.example/{doc_id}", "time": "2018-07-16T00:00:00",
                "cc_file": "crawl-data/CC-NEWS/2018/07/CC-NEWS-20180716.warc.gz",
            }, ensure_ascii=False) + "\n")
    return path


def test_hc4_english_queries_are_the_judged_topics():
    task = load_hc4(HC4_FIXTURE, docs_lang="fa")
    assert task.name == "hc4/fa/test/en.title" and (task.queries_lang, task.docs_lang) == ("en", "fa")
    # 103 lists fas in languages_with_qrels but has no judgments; 104 does not list it but has them
    assert [q.id for q in task.queries] == ["101", "102", "104"]
    assert task.queries[0] == Query("101", "Asteroids endangering Earth", "en")
    assert task.qrels == {"101": {"d-01": 3, "d-02": 0, "d-03": 1}, "102": {"d-04": 1, "d-02": 0},
                          "104": {"d-05": 3, "d-09": 1}}
    assert task.docs == []  # no documents file: topics and judgments only


@pytest.mark.parametrize(
    "field, text",
    [
        ("title", "Trade sanctions on Iran"),
        ("description", "How sanctions affect Iranian trade."),
        ("title+description", "Trade sanctions on Iran How sanctions affect Iranian trade."),
    ],
)
def test_hc4_query_fields(field, text):
    task = load_hc4(HC4_FIXTURE, docs_lang="fa", query_field=field)
    assert task.name == f"hc4/fa/test/en.{field}"
    assert {q.id: q.text for q in task.queries}["102"] == text


@pytest.mark.parametrize("code", ["fa", "fas", "per", "FA", "fa-IR"])
def test_hc4_language_code_aliases(code):
    task = load_hc4(HC4_FIXTURE, docs_lang=code, queries_lang=code, skip_untranslated=True)
    assert task.docs_lang == "fa" and task.queries_lang == "fa" and task.name == "hc4/fa/test/fa.title"


def test_hc4_machine_translation():
    task = load_hc4(HC4_FIXTURE, docs_lang="fas", queries_lang="mt", query_field="title")
    assert task.name == "hc4/fa/test/mt.title" and task.queries_lang == "fa"
    assert [(q.id, q.text, q.lang) for q in task.queries] == [
        ("101", "سیارک های خطرناک برای زمین", "fa"),
        ("102", "تحریم های تجاری ایران", "fa"),
        ("104", "نقل و انتقالات فوتبال", "fa"),
    ]
    assert HC4_MT_SOURCE == "20220114-scale21-sockeye2-tm1"
    with pytest.raises(InputError) as exc:
        load_hc4(HC4_FIXTURE, docs_lang="fa", queries_lang="mt", mt_source="20210711-scale18-sockeye2-tm1")
    message = str(exc.value)
    assert "judged topics 102, 104 have no machine translation into fas by '20210711-scale18-sockeye2-tm1'" in message
    assert "(machine translations there: 20220114-scale21-sockeye2-tm1)" in message


def test_hc4_human_translation_missing_or_empty(caplog):
    # 102's human translation is empty, 104 has none (like zho/test topics 109 and 141)
    with pytest.raises(InputError) as exc:
        load_hc4(HC4_FIXTURE, docs_lang="fa", queries_lang="fa")
    message = str(exc.value)
    assert message.startswith(f"{HC4_FIXTURE / 'test.topics.v1-0.jsonl'}: judged topics 102, 104 have no human "
                              "translation into fas with a title")
    assert "skip_untranslated=True (--skip-untranslated)" in message and "queries_lang='en' or 'mt'" in message
    with caplog.at_level(logging.WARNING, logger="xlir"):
        task = load_hc4(HC4_FIXTURE, docs_lang="fa", queries_lang="fa", skip_untranslated=True,
                        query_field="description")
    assert [q.text for q in task.queries] == ["مقالات درباره سیارک هایی که ممکن است به زمین برخورد کنند."]
    assert task.qrels == {"101": {"d-01": 3, "d-02": 0, "d-03": 1}}  # left-out topics' judgments go too
    assert "left out 2 judged topics with no human translation into fas (description): 102, 104" in caplog.text


def test_hc4_documents_file(tmp_path, caplog):
    docs = _hc4_docs(tmp_path / "hc4_docs.jsonl", ["d-01", "d-02", "d-03", "d-04", "d-05", "d-99"])
    with caplog.at_level(logging.WARNING, logger="xlir"):
        task = load_hc4(HC4_FIXTURE, docs, docs_lang="fa", split="test")
    assert [d.id for d in task.docs] == ["d-01", "d-02", "d-03", "d-04", "d-05", "d-99"]
    first = task.docs[0]
    assert (first.title, first.text, first.lang) == ("عنوان 0", "متن خبر 0 (fa)", "fa")
    assert first.meta == {"url": "https://news.example/d-01", "time": "2018-07-16T00:00:00",
                          "cc_file": "crawl-data/CC-NEWS/2018/07/CC-NEWS-20180716.warc.gz"}
    # judgments stay as published; a judged document missing from the corpus is a warning
    assert task.qrels["104"] == {"d-05": 3, "d-09": 1}
    assert "1 of 6 judged documents are not in the corpus (6 docs): d-09" in caplog.text


def test_hc4_bad_documents_name_file_and_line(tmp_path):
    docs = _hc4_docs(tmp_path / "hc4_docs.jsonl", ["d-01", "d-02"])
    with docs.open("a", encoding="utf-8") as f:
        f.write('{"id": "d-03", "title": "x", "url": "u"}\n')
    with pytest.raises(InputError, match=rf"^{docs}:3: doc 'd-03': missing text"):
        load_hc4(HC4_FIXTURE, docs, docs_lang="fa")
    _hc4_docs(docs, ["d-01", "d-02", "d-01"])
    with pytest.raises(InputError, match=rf"^{docs}:3: duplicate doc id 'd-01' \(first seen on line 1\)"):
        load_hc4(HC4_FIXTURE, docs, docs_lang="fa")
    with pytest.raises(InputError, match="no such file"):
        load_hc4(HC4_FIXTURE, tmp_path / "missing.jsonl", docs_lang="fa")


def test_hc4_bad_arguments():
    with pytest.raises(ParamError, match=r"unknown HC4 documents language 'de'; available: fa \(fas\), ru \(rus\)"):
        load_hc4(HC4_FIXTURE, docs_lang="de")
    with pytest.raises(ParamError, match="docs_lang is required"):
        load_hc4(HC4_FIXTURE)
    with pytest.raises(ParamError, match="unknown HC4 split 'val'; available: train, dev, test"):
        load_hc4(HC4_FIXTURE, docs_lang="fa", split="val")
    with pytest.raises(ParamError, match="unknown HC4 query field 'narrative'; available: title, description"):
        load_hc4(HC4_FIXTURE, docs_lang="fa", query_field="narrative")
    with pytest.raises(ParamError, match=r"unknown HC4 queries language 'ru' for fa documents; available: 'en'"):
        load_hc4(HC4_FIXTURE, docs_lang="fa", queries_lang="ru")
    with pytest.raises(InputError, match=r"missing rus/test\.qrels\.v1-0\.txt; an HC4 folder holds"):
        load_hc4(HC4_FIXTURE, docs_lang="rus")
    with pytest.raises(InputError, match=r"missing dev\.topics\.v1-0\.jsonl"):
        load_hc4(HC4_FIXTURE, docs_lang="fa", split="dev")


def _hc4_copy(tmp_path: Path) -> Path:
    root = tmp_path / "hc4"
    (root / "fas").mkdir(parents=True)
    for rel in ("test.topics.v1-0.jsonl", "fas/test.qrels.v1-0.txt"):
        (root / rel).write_bytes((HC4_FIXTURE / rel).read_bytes())
    return root


def test_hc4_bad_topics_and_qrels(tmp_path):
    root = _hc4_copy(tmp_path)
    topics = root / "test.topics.v1-0.jsonl"
    lines = topics.read_text(encoding="utf-8").splitlines()
    topics.write_text("\n".join(lines[:2] + ['{"topic_id": "105", "topics": [{"lang": "eng"}]}']) + "\n",
                      encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{topics}:3: topic '105': topics\[0\]\.source must be a string, got missing"):
        load_hc4(root, docs_lang="fa")
    topics.write_text("\n".join(lines[:2] + [lines[0]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{topics}:3: duplicate topic_id '101' \(first seen on line 1\)"):
        load_hc4(root, docs_lang="fa")
    topics.write_text("\n".join(lines[:1] + ["{not json"]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{topics}:2: invalid JSON"):
        load_hc4(root, docs_lang="fa")
    topics.write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")  # 104 is judged but gone
    with pytest.raises(InputError, match=rf"^{root / 'fas' / 'test.qrels.v1-0.txt'}: judged topics 104 are not in"):
        load_hc4(root, docs_lang="fa")
    topics.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "fas" / "test.qrels.v1-0.txt").write_text("101 0 d-01\n")
    with pytest.raises(InputError, match=r"test\.qrels\.v1-0\.txt:1: expected 4 whitespace-separated columns"):
        load_hc4(root, docs_lang="fa")


def test_hc4_export_streams_the_documents(tmp_path):
    docs = _hc4_docs(tmp_path / "hc4_docs.jsonl", ["d-01", "d-02", "d-03", "d-04", "d-05", "d-09"])
    out = tmp_path / "out"
    paths = export_hc4(HC4_FIXTURE, docs, out, docs_lang="fa", query_field="title+description", queries_lang="mt")
    task = load_hc4(HC4_FIXTURE, docs, docs_lang="fa", query_field="title+description", queries_lang="mt")
    assert list(read_corpus(paths["docs"])) == task.docs
    assert [d.meta for d in read_corpus(paths["docs"])] == [d.meta for d in task.docs]
    assert read_queries(paths["queries"], lang="fa") == task.queries
    assert read_qrels(paths["qrels"]) == task.qrels
    with pytest.raises(IndexExistsError):
        export_hc4(HC4_FIXTURE, docs, out, docs_lang="fa")
    with pytest.raises(ParamError, match="needs the documents"):
        export_hc4(HC4_FIXTURE, None, tmp_path / "o2", docs_lang="fa")
    bad = _hc4_docs(tmp_path / "bad.jsonl", ["d-01", "d-01"])
    with pytest.raises(InputError, match="duplicate doc id"):
        export_hc4(HC4_FIXTURE, bad, out, docs_lang="fa", overwrite=True)
    assert read_qrels(paths["qrels"]) == task.qrels  # a failed export leaves the old files


def _fake_ir_datasets(docs: Path) -> types.ModuleType:
    class Subset:
        def __init__(self, ds_id):
            self.ds_id = ds_id

        def queries_path(self):
            return [str(HC4_FIXTURE / "test.topics.v1-0.jsonl")]  # ir_datasets gives a list

        def qrels_path(self):
            return str(HC4_FIXTURE / "fas" / "test.qrels.v1-0.txt")

        def docs_path(self):
            return str(docs)

    module = types.ModuleType("ir_datasets")
    module.load = lambda ds_id: Subset(ds_id)
    return module


def test_hc4_ir_datasets_ids(tmp_path, monkeypatch):
    docs = _hc4_docs(tmp_path / "hc4_docs.jsonl", ["d-01", "d-02"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "ir_datasets", _fake_ir_datasets(docs))
    task = load_hc4("hc4/fa/test", query_field="description")
    assert task.name == "hc4/fa/test/en.description" and task.docs_lang == "fa"
    assert [d.id for d in task.docs] == ["d-01", "d-02"] and len(task.queries) == 3
    other = _hc4_docs(tmp_path / "other.jsonl", ["d-03"])
    assert [d.id for d in load_hc4("hc4/fa/test", other).docs] == ["d-03"]  # a given file wins
    with pytest.raises(ParamError, match="docs_lang='ru' contradicts the ir_datasets id 'hc4/fa/test'"):
        load_hc4("hc4/fa/test", docs_lang="ru")
    with pytest.raises(ParamError, match="split='dev' contradicts"):
        load_hc4("hc4/fa/test", split="dev")

    def broken(ds_id):
        raise OSError("offline\nmore detail")

    monkeypatch.setattr(sys.modules["ir_datasets"], "load", broken)
    with pytest.raises(InputError, match=r"ir_datasets could not provide 'hc4/fa/test' \(OSError: offline\); pass"):
        load_hc4("hc4/fa/test")
    monkeypatch.setitem(sys.modules, "ir_datasets", None)
    with pytest.raises(MissingDependencyError, match=r"pip install ir_datasets"):
        load_hc4("hc4/fa/test")


# --- HC4: the real topics and qrels ---------------------------------------------------------


@pytest.fixture(scope="module")
def hc4_real() -> Path:
    if not (HC4_REAL / "test.topics.v1-0.jsonl").is_file():
        pytest.skip(f"HC4 topics not found at {HC4_REAL}")
    return HC4_REAL


def _qrels_file(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text().splitlines():
        qid, _, docid, rel = line.split()
        qrels.setdefault(qid, {})[docid] = int(rel)
    return qrels


@pytest.mark.parametrize("lang, lang3", [("fa", "fas"), ("ru", "rus"), ("zh", "zho")])
def test_hc4_real_test_topics(hc4_real, lang, lang3):
    task = load_hc4(hc4_real, docs_lang=lang3)
    expected = _qrels_file(hc4_real / lang3 / "test.qrels.v1-0.txt")
    assert len(task.queries) == 50 and {q.id for q in task.queries} == set(expected)
    assert task.qrels == expected
    assert all(q.lang == "en" and q.text for q in task.queries)
    assert set(task.qrels) == {q.id for q in task.queries}
    mt = load_hc4(hc4_real, docs_lang=lang, queries_lang="mt", query_field="title+description")
    assert [q.id for q in mt.queries] == [q.id for q in task.queries]
    assert all(q.lang == lang for q in mt.queries)


def test_hc4_real_zho_test_quirk(hc4_real):
    task = load_hc4(hc4_real, docs_lang="zh")
    ids = {q.id for q in task.queries}
    # judged for zho although languages_with_qrels says fas; 110 and 215 list zho but are not judged
    assert {"109", "141"} <= ids and not {"110", "215"} & ids
    assert {q.id: q.text for q in task.queries}["109"] == "Trump Controversial comments after Helsinki Summit"
    with pytest.raises(InputError, match="judged topics 109, 141 have no human translation into zho"):
        load_hc4(hc4_real, docs_lang="zh", queries_lang="zh")
    human = load_hc4(hc4_real, docs_lang="zh", queries_lang="zho", skip_untranslated=True)
    assert len(human.queries) == 48 and set(human.qrels) == ids - {"109", "141"}
    assert {q.id: q.text for q in human.queries}["102"] == "沉船与中国古代贸易"


def test_hc4_real_dev_and_train(hc4_real):
    assert len(load_hc4(hc4_real, docs_lang="fa", split="dev", queries_lang="fa").queries) == 10
    assert len(load_hc4(hc4_real, docs_lang="ru", split="dev").queries) == 4
    with pytest.raises(InputError, match="judged topics 1005, 1008, 1021, 1022, 1023, 1025, 1026 have no human"):
        load_hc4(hc4_real, docs_lang="ru", split="train", queries_lang="ru")
    assert len(load_hc4(hc4_real, docs_lang="ru", split="train", queries_lang="mt").queries) == 7


def test_hc4_real_with_a_small_documents_file(hc4_real, tmp_path, caplog):
    qrels = _qrels_file(hc4_real / "fas" / "test.qrels.v1-0.txt")
    relevant = sorted(d for rels in qrels.values() for d, rel in rels.items() if rel == 3)[:5]
    docs = _hc4_docs(tmp_path / "hc4_docs.jsonl", relevant + ["not-judged-0001"])
    with caplog.at_level(logging.WARNING, logger="xlir"):
        task = load_hc4(hc4_real, docs, docs_lang="fa", query_field="title+description")
    assert task.name == "hc4/fa/test/en.title+description"
    assert len(task.docs) == 6 and len(task.queries) == 50
    found = {(qid, d) for qid, rels in task.qrels.items() for d in rels if d in set(relevant)}
    assert {d for _, d in found} == set(relevant) and all(task.qrels[q][d] == 3 for q, d in found)
    judged = len({d for rels in qrels.values() for d in rels})
    assert f"{judged - 5} of {judged} judged documents are not in the corpus (6 docs)" in caplog.text
    paths = export_hc4(hc4_real, docs, tmp_path / "out", docs_lang="fa", query_field="title+description")
    assert read_qrels(paths["qrels"]) == qrels
    assert len(read_queries(paths["queries"])) == 50


# --- generic files and BEIR folders ---------------------------------------------------------


def test_load_files(tiny, caplog):
    task = load_files(tiny / "docs.jsonl", tiny / "queries.tsv", tiny / "qrels.txt", queries_lang="eng")
    assert task.name == "tiny" and task.queries_lang == "en" and task.docs_lang is None
    assert len(task.docs) == len(list(read_corpus(tiny / "docs.jsonl")))
    assert task.queries == read_queries(tiny / "queries.tsv", lang="en")
    assert task.qrels == read_qrels(tiny / "qrels.txt")
    assert "WARNING" not in caplog.text


def test_load_files_joins_and_bad_lines(tmp_path, caplog):
    (tmp_path / "docs.jsonl").write_text('{"id": "d1", "text": "one"}\n{"id": "d2", "text": "two"}\n')
    (tmp_path / "queries.jsonl").write_text('{"id": "q1", "text": "first"}\n{"id": "q2", "text": "second"}\n')
    (tmp_path / "qrels.txt").write_text("q1 0 d1 1\nq1 0 d3 2\nq9 0 d2 1\n")
    with caplog.at_level(logging.WARNING, logger="xlir"):
        task = load_files(tmp_path / "docs.jsonl", tmp_path / "queries.jsonl", tmp_path / "qrels.txt",
                          name="mine", docs_lang="fra")
    assert task.name == "mine" and task.docs_lang == "fr" and task.docs[0].lang == "fr"
    assert task.qrels == {"q1": {"d1": 1, "d3": 2}, "q9": {"d2": 1}}
    assert "1 judged queries are not among the queries: q9" in caplog.text
    assert "1 queries have no judgments: q2" in caplog.text
    assert "1 of 3 judged documents are not in the corpus (2 docs): d3" in caplog.text
    (tmp_path / "queries.tsv").write_text("q1\tfirst\nq2\tsecond\tthird\n")
    with pytest.raises(InputError, match=r"queries\.tsv:2: expected 2 tab-separated columns"):
        load_files(tmp_path / "docs.jsonl", tmp_path / "queries.tsv", tmp_path / "qrels.txt")


def test_load_beir():
    task = load_beir(BEIR_FIXTURE)
    assert task.name == "beir/beir/test" and (task.queries_lang, task.docs_lang) == (None, None)
    assert [d.id for d in task.docs] == ["b1", "b2", "b3", "b4"]
    assert (task.docs[0].title, task.docs[0].text, task.docs[0].meta) == (
        "Rivers", "The river flows into the sea.", {"metadata": {"url": "http://a"}})
    assert [q.id for q in task.queries] == ["t1", "t2"]  # the dev query is not in the test split
    assert task.qrels == {"t1": {"b1": 1}, "t2": {"b3": 2, "b1": 0}}
    dev = load_beir(BEIR_FIXTURE, "dev", docs_lang="en", queries_lang="en")
    assert dev.name == "beir/beir/dev" and dev.queries == [Query("v1", "early bakers", "en")]
    assert dev.qrels == {"v1": {"b4": 1}}
    with pytest.raises(InputError, match=r"missing qrels/train\.tsv; splits here: dev, test"):
        load_beir(BEIR_FIXTURE, "train")


def _beir_copy(tmp_path: Path) -> Path:
    root = tmp_path / "scifact"
    (root / "qrels").mkdir(parents=True)
    for rel in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        (root / rel).write_bytes((BEIR_FIXTURE / rel).read_bytes())
    return root


@pytest.mark.parametrize(
    "qrels, fragment",
    [
        ("t1\tb1\t1\n", ":1: expected the header line 'query-id<TAB>corpus-id<TAB>score', got 't1\\tb1\\t1'"),
        ("query-id\tcorpus-id\tscore\nt1\tb1\n", ":2: expected 3 tab-separated columns (query-id, corpus-id, score), got 2"),
        ("query-id\tcorpus-id\tscore\nt1 b1 1\n", ":2: expected 3 tab-separated columns"),
        ("query-id\tcorpus-id\tscore\nt1\tb1\t0.5\n", ":2: score '0.5' is not an integer"),
        ("query-id\tcorpus-id\tscore\nt1\tb1\t1\nt1\tb1\t2\n",
         ":3: duplicate judgment for query 't1', doc 'b1' (first seen on line 2)"),
        ("", ": empty qrels file (not even the header line)"),
    ],
)
def test_beir_bad_qrels(tmp_path, qrels, fragment):
    root = _beir_copy(tmp_path)
    (root / "qrels" / "test.tsv").write_text(qrels)
    with pytest.raises(InputError) as exc:
        load_beir(root)
    assert str(exc.value).startswith(f"{root / 'qrels' / 'test.tsv'}{fragment}")


def test_beir_missing_files_and_export(tmp_path, caplog):
    root = _beir_copy(tmp_path)
    with caplog.at_level(logging.WARNING, logger="xlir"):
        task = load_beir(root, name="sf")
    assert task.name == "sf" and "WARNING" not in caplog.text
    paths = export_beir(root, tmp_path / "out")
    assert list(read_corpus(paths["docs"])) == task.docs
    assert read_queries(paths["queries"]) == task.queries
    assert read_qrels(paths["qrels"]) == task.qrels
    (root / "queries.jsonl").unlink()
    with pytest.raises(InputError, match=r"missing queries\.jsonl; a BEIR folder holds"):
        load_beir(root)
    with pytest.raises(InputError, match="BEIR folder not found"):
        load_beir(tmp_path / "nowhere")


# --- CLI ------------------------------------------------------------------------------------


def test_cli_datasets_list(capsys):
    rc, out, err = xlir(capsys, "datasets", "list")
    assert rc == 0, err
    names = [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert names == ["xquad-r", "clirudit", "hc4", "beir"]
    assert "needs: --data" in out and "optional packages: pyarrow" in out


@needs_pyarrow
def test_cli_export_clirudit(tmp_path, capsys):
    root = _clirudit(tmp_path / "c")
    rc, out, err = xlir(capsys, "-q", "datasets", "export", "clirudit", "--data", str(root), "--docs-lang", "fra",
                        "--output", str(tmp_path / "x"))
    assert rc == 0, err
    assert out.splitlines() == [str(tmp_path / "x" / n) for n in ("docs.jsonl", "queries.tsv", "qrels.txt")]
    assert read_qrels(tmp_path / "x" / "qrels.txt") == load_clirudit(root).qrels
    rc, _, err = xlir(capsys, "datasets", "export", "clirudit", "--data", str(root), "--docs-lang", "de",
                      "--output", str(tmp_path / "y"))
    assert rc == 1 and "unknown CLIRudit documents language 'de'" in err


def test_cli_export_hc4_and_beir(tmp_path, capsys):
    docs = _hc4_docs(tmp_path / "hc4_docs.jsonl", ["d-01", "d-02"])
    rc, out, err = xlir(capsys, "-q", "datasets", "export", "hc4", "--data", str(HC4_FIXTURE), "--docs", str(docs),
                        "--docs-lang", "fas", "--query-field", "description", "--queries-lang", "fa",
                        "--skip-untranslated", "--output", str(tmp_path / "h"))
    assert rc == 0, err
    assert [q.id for q in read_queries(tmp_path / "h" / "queries.tsv")] == ["101"]
    rc, _, err = xlir(capsys, "datasets", "export", "hc4", "--data", str(HC4_FIXTURE), "--docs", str(docs),
                      "--output", str(tmp_path / "h2"))
    assert rc == 2 and "--docs-lang" in err
    rc, _, err = xlir(capsys, "datasets", "export", "hc4", "--data", str(HC4_FIXTURE), "--docs-lang", "fa",
                      "--output", str(tmp_path / "h2"))
    assert rc == 2 and "--docs" in err
    rc, _, err = xlir(capsys, "-q", "datasets", "export", "hc4", "--data", str(HC4_FIXTURE), "--docs", str(docs),
                      "--docs-lang", "fa", "--queries-lang", "fa", "--output", str(tmp_path / "h2"))
    assert rc == 1 and err.startswith("error: ") and "--skip-untranslated" in err
    assert not (tmp_path / "h2").exists()

    rc, out, err = xlir(capsys, "-q", "datasets", "export", "beir", "--data", str(BEIR_FIXTURE), "--split", "dev",
                        "--output", str(tmp_path / "b"))
    assert rc == 0, err
    assert read_qrels(tmp_path / "b" / "qrels.txt") == {"v1": {"b4": 1}}
    rc, _, err = xlir(capsys, "datasets", "export", "beir", "--data", str(BEIR_FIXTURE), "--split", "dev",
                      "--output", str(tmp_path / "b"))
    assert rc == 1 and "already exist" in err
