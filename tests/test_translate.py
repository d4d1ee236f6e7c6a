"""Translation plumbing with fake translators: languages, splitting, cache, pipeline, table, API."""

import json
import logging
from pathlib import Path

import pytest

from xlir.errors import InputError, UnknownComponentError, UnknownLanguageError
from xlir.translate import (
    LanguageMismatchError,
    TableTranslator,
    TranslatingRetriever,
    TranslationCache,
    TranslationError,
    TranslationStats,
    build_table,
    detect_family,
    get_translator,
    join_segments,
    lang_token,
    parse_translator_spec,
    read_table,
    split_sentences,
    translate_docs,
    translate_queries,
    translate_texts,
    translation_lang,
)
from xlir.translate.segment import segment
from xlir.types import Doc, Query

FIXTURES = Path(__file__).parent / "fixtures" / "translate"


class Fake:
    """Marks each text with the target language; records its calls; can fail on call N."""

    name = "fake"
    identity = "fake:v1"

    def __init__(self, batch_size=2, fail_on_call=None, limit=None):
        self.batch_size = batch_size
        self.calls = []
        self.fail_on_call = fail_on_call
        self.limit = limit  # characters: longer texts are "truncated" and counted

    def translate_counting(self, texts, *, src, tgt):
        self.calls.append(list(texts))
        if self.fail_on_call is not None and len(self.calls) == self.fail_on_call:
            raise KeyboardInterrupt
        cut = sum(1 for t in texts if self.limit is not None and len(t) > self.limit)
        return [f"[{src}>{tgt}] {t[: self.limit].upper()}" for t in texts], cut, 0

    def translate(self, texts, *, src, tgt):
        return self.translate_counting(texts, src=src, tgt=tgt)[0]


# -- language codes ------------------------------------------------------------------------
NLLB_VOCAB = {"fra_Latn", "eng_Latn", "deu_Latn", "zho_Hant", "zho_Hans", "▁le"}
M2M_VOCAB = {"__fr__", "__en__", "__de__", "▁le"}
MARIAN_MULTI_VOCAB = {">>fra<<", ">>spa<<", ">>por<<", "▁le"}


def test_language_codes_per_model_family():
    assert lang_token("fr", "nllb", NLLB_VOCAB) == "fra_Latn"
    assert lang_token("fra", "nllb", NLLB_VOCAB) == "fra_Latn"  # ISO 639-3 in
    assert lang_token("French", "nllb") == "fra_Latn"
    assert lang_token("zho_Hant", "nllb", NLLB_VOCAB) == "zho_Hant"  # the model's own token as is
    assert lang_token("zh", "nllb", NLLB_VOCAB) == "zho_Hans"
    assert lang_token("fr", "m2m100", M2M_VOCAB) == "__fr__"
    assert lang_token("fr", "marian-multi", MARIAN_MULTI_VOCAB) == ">>fra<<"
    assert lang_token("fr", "marian") is None  # a pair model needs no token
    assert translation_lang("sw") == "sw"  # no analyzer, but translatable
    assert translation_lang("de-AT") == "de"


def test_unknown_language_codes_are_errors():
    with pytest.raises(UnknownLanguageError, match="unknown language code 'xx' for translation"):
        lang_token("xx", "nllb", NLLB_VOCAB)
    with pytest.raises(UnknownLanguageError, match="unknown language code 'xx'"):
        lang_token("xx", "marian")
    with pytest.raises(UnknownLanguageError, match=r"'ja' \(jpn_Jpan\) is not in this nllb model's vocabulary; it knows deu_Latn"):
        lang_token("ja", "nllb", NLLB_VOCAB)
    with pytest.raises(UnknownLanguageError, match="__ja__"):
        lang_token("ja", "m2m100", M2M_VOCAB)
    with pytest.raises(UnknownLanguageError, match="cannot be translated"):
        translation_lang("multi")


def test_model_family_from_vocabulary():
    assert detect_family(NLLB_VOCAB) == "nllb"
    assert detect_family(M2M_VOCAB) == "m2m100"
    assert detect_family(MARIAN_MULTI_VOCAB) == "marian-multi"
    assert detect_family({"▁le", "▁chat", "</s>", "fra_Latn"}) == "marian"  # one look-alike is not enough


# -- sentence splitting ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "lang, text, expected",
    [
        ("en", "Dr. Smith went to the U.S. Army base. It rained! Did it? yes, it did.",
         ["Dr. Smith went to the U.S. Army base.", "It rained!", "Did it? yes, it did."]),
        ("de", "Am 9. November 1989 fiel die Mauer. Das war z.B. wichtig. J. S. Bach lebte in Leipzig.",
         ["Am 9. November 1989 fiel die Mauer.", "Das war z.B. wichtig.", "J. S. Bach lebte in Leipzig."]),
        ("en", 'He said "Stop." Then he left. It costs 3.50 dollars at www.example.com now.',
         ['He said "Stop."', "Then he left.", "It costs 3.50 dollars at www.example.com now."]),
        ("zh", "长城有多长？它很长。我喜欢它！好", ["长城有多长？", "它很长。", "我喜欢它！", "好"]),
        ("ja", "富士山は高い。登りたい！", ["富士山は高い。", "登りたい！"]),
        ("hi", "भारत एक देश है। दिल्ली राजधानी है।", ["भारत एक देश है।", "दिल्ली राजधानी है।"]),
        ("ar", "ما هي عاصمة مصر؟ القاهرة هي العاصمة.", ["ما هي عاصمة مصر؟", "القاهرة هي العاصمة."]),
        ("el", "Πότε χτίστηκε; Το 432 π.Χ. χτίστηκε.", ["Πότε χτίστηκε;", "Το 432 π.Χ. χτίστηκε."]),
        ("en", "A list; not a question; one sentence.", ["A list; not a question; one sentence."]),
        ("en", "   ", []),
    ],
)
def test_split_sentences(lang, text, expected):
    assert split_sentences(text, lang) == expected


def test_thai_is_split_at_spaces_into_clause_sized_pieces():
    clause = "กรุงเทพมหานครเป็นเมืองหลวง"
    text = " ".join([clause] * 12)
    pieces = split_sentences(text, "th")
    assert len(pieces) > 1 and " ".join(pieces) == text
    assert all(len(p) <= 130 for p in pieces) and all(len(p) > 30 for p in pieces)


def test_segments_rejoin_with_paragraph_breaks():
    segs, seps = segment("One. Two!\n\nThree?\nFour", "en")
    assert segs == ["One.", "Two!", "Three?", "Four"] and seps == [" ", "\n\n", "\n"]
    assert join_segments(segs, seps, "en") == "One. Two!\n\nThree?\nFour"
    assert join_segments(["一。", "二。"], [" "], "zh") == "一。二。"  # no spaces between Chinese sentences
    with pytest.raises(ValueError, match="separators"):
        join_segments(["a", "b"], [], "en")


# -- translator specs and registry -----------------------------------------------------------
def test_translator_specs():
    assert parse_translator_spec("ctranslate2:models/opus-mt") == ("ctranslate2", "models/opus-mt")
    assert parse_translator_spec("table:C:/t.tsv") == ("table", "C:/t.tsv")
    assert parse_translator_spec("table") == ("table", None)
    for bad in ("", ":x", "table:", "9x:y"):
        with pytest.raises(TranslationError):
            parse_translator_spec(bad)
    with pytest.raises(UnknownComponentError, match="did you mean 'table'"):
        get_translator("tabel:x.tsv")
    with pytest.raises(TranslationError, match="needs a model folder"):
        get_translator("ctranslate2")
    assert isinstance(get_translator(f"table:{FIXTURES / 'queries_en.tsv'}"), TableTranslator)


# -- the pipeline ------------------------------------------------------------------------------
def test_documents_are_split_batched_by_length_and_rejoined():
    fake = Fake(batch_size=1)  # 8 segments per translator call
    docs = [
        Doc("d1", "Short one. A much longer second sentence here!\n\nNew paragraph.", title="Title", lang="de"),
        Doc("d2", "Short one.", lang="de"),  # a repeat: translated once
        Doc("e1", "Already English.", lang="en"),
        Doc("d3", "", lang="de"),
    ]
    stats = TranslationStats()
    out = list(translate_docs(docs, fake, tgt="en", stats=stats))
    assert [d.id for d in out] == ["d1", "d2", "e1", "d3"]
    assert out[0].text == "[de>en] SHORT ONE. [de>en] A MUCH LONGER SECOND SENTENCE HERE!\n\n[de>en] NEW PARAGRAPH."
    assert out[0].title == "[de>en] TITLE" and out[0].lang == "en" and out[0].meta["translated_from"] == "de"
    assert out[1].text == "[de>en] SHORT ONE." and out[3].text == ""
    assert out[2] is docs[2]  # already in the target language: untouched
    assert fake.calls == [["A much longer second sentence here!", "New paragraph.", "Short one.", "Title"]]
    assert (stats.items, stats.translated_items, stats.segments, stats.unique_segments) == (4, 3, 5, 4)


def test_batches_hold_similar_lengths_longest_first():
    fake = Fake(batch_size=1)
    texts = [f"{'x' * n}." for n in (3, 40, 7, 25, 1, 33, 12, 18, 9, 2)]
    translate_texts(texts, fake, src="de", tgt="en")
    assert [len(c) for c in fake.calls] == [8, 2]
    lengths = [len(t) for call in fake.calls for t in call]
    assert lengths == sorted(lengths, reverse=True)


def test_cache_second_run_is_all_hits(tmp_path, caplog):
    docs = [Doc(f"d{i}", f"Sentence {i}. Another {i}.", lang="fr") for i in range(10)]
    with TranslationCache(tmp_path / "cache") as cache:
        first = TranslationStats()
        out1 = list(translate_docs(docs, Fake(), tgt="en", cache=cache, stats=first))
        assert (first.cache_hits, first.model_segments) == (0, 20)
        fake = Fake()
        second = TranslationStats()
        with caplog.at_level(logging.INFO, logger="xlir.translate"):
            out2 = list(translate_docs(docs, fake, tgt="en", cache=cache, stats=second))
        assert out2 == out1 and fake.calls == []
        assert (second.cache_hits, second.model_segments) == (20, 0)
        assert "20 cache hits (100%)" in caplog.text
        assert cache.count() == 20 and cache.count("fake:v1") == 20
    assert (tmp_path / "cache" / "translations.sqlite").is_file()


def test_cache_is_keyed_by_model_and_languages(tmp_path):
    with TranslationCache(tmp_path) as cache:
        cache.put_many("m1", "de", "en", [("Hallo.", "Hello.")])
        assert cache.get_many("m1", "de", "en", ["Hallo.", "Tschüss."]) == {"Hallo.": "Hello."}
        assert cache.get_many("m2", "de", "en", ["Hallo."]) == {}
        assert cache.get_many("m1", "de", "fr", ["Hallo."]) == {}
        assert (cache.lookups, cache.hits) == (4, 1)
    with TranslationCache(tmp_path / "translations.sqlite") as again:  # persisted
        assert again.get_many("m1", "de", "en", ["Hallo."]) == {"Hallo.": "Hello."}


def test_not_a_cache_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "translations.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(Exception, match="not a usable translation cache"):
        TranslationCache(bad)


def test_interrupted_translation_resumes_from_the_cache(tmp_path):
    docs = [Doc(f"d{i}", f"Sentence number {i}.", lang="de") for i in range(20)]
    with TranslationCache(tmp_path) as cache:
        with pytest.raises(KeyboardInterrupt):
            list(translate_docs(docs, Fake(batch_size=1, fail_on_call=2), tgt="en", cache=cache))
        assert cache.count() == 8  # the first batch was committed before the interruption
        fake = Fake(batch_size=1)
        stats = TranslationStats()
        out = list(translate_docs(docs, fake, tgt="en", cache=cache, stats=stats))
    assert stats.cache_hits == 8 and stats.model_segments == 12 and sum(map(len, fake.calls)) == 12
    assert [d.text for d in out] == [f"[de>en] SENTENCE NUMBER {i}." for i in range(20)]


def test_truncation_is_one_warning_with_a_count(caplog):
    fake = Fake(limit=20)
    texts = ["Short.", "This sentence is longer than twenty characters.", "Another very long sentence, too long."]
    stats = TranslationStats()
    with caplog.at_level(logging.WARNING, logger="xlir.translate"):
        translate_texts(texts, fake, src="de", tgt="en", stats=stats)
    assert stats.truncated == 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "2 of 3 translated segments were longer than the model's input limit" in warnings[0].getMessage()


def test_queries_are_translated_whole_and_need_a_language():
    fake = Fake()
    out = translate_queries([Query("q1", "Wo ist es? Hier.", "de"), Query("q2", "Where?", "en")], fake, tgt="en")
    assert out == [Query("q1", "[de>en] WO IST ES? HIER.", "en"), Query("q2", "Where?", "en")]
    assert fake.calls == [["Wo ist es? Hier."]]
    with pytest.raises(TranslationError, match="query 'q1' has no language"):
        translate_queries([Query("q1", "x")], fake, tgt="en")
    with pytest.raises(TranslationError, match="document 'd1' has no language"):
        list(translate_docs([Doc("d1", "x")], fake, tgt="en"))


def test_plain_translator_without_counting_or_identity_works_uncached(tmp_path):
    class Plain:
        name = "plain"

        def translate(self, texts, *, src, tgt):
            return [t[::-1] for t in texts]

    with TranslationCache(tmp_path) as cache:
        assert translate_texts(["abc.", "de"], Plain(), src="de", tgt="en", cache=cache) == [".cba", "ed"]
        assert cache.count() == 0  # no identity, nothing safe to key the cache by


# -- the table translator ------------------------------------------------------------------
def test_table_translator_looks_up_ids(tmp_path):
    table = TableTranslator(FIXTURES / "docs_de_en.jsonl")
    assert table.lang == "en" and len(table) == 4 and table.identity.startswith("table:docs_de_en.jsonl@")
    docs = [Doc("de1", "Die Katze.", lang="de"), Doc("de9", "x", lang="de"), Doc("de8", "y", lang="de")]
    out = list(translate_docs(docs[:1], table, tgt="en"))
    assert out[0].text == "The cat hunts mice in the barn. It is very fast." and out[0].lang == "en"
    with pytest.raises(TranslationError, match=r"no translation for 2 of 3 ids \('de9', 'de8'\)"):
        list(translate_docs(docs, table, tgt="en"))
    with pytest.raises(TranslationError, match="holds translations into 'en', not 'fr'"):
        list(translate_docs(docs[:1], table, tgt="fr"))
    with pytest.raises(TranslationError, match="by document/query id"):
        table.translate(["x"], src="de", tgt="en")
    queries = translate_queries([Query("q1", "cats", "en")], TableTranslator(FIXTURES / "queries_en_de.tsv"), tgt="de")
    assert queries == [Query("q1", "Katze jagt Mäuse", "de")]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("t.tsv", "a\tx\nb\ty\tz\n", "t.tsv:2: expected 2 tab-separated columns"),
        ("t.jsonl", '{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "t.jsonl:2: duplicate id 'a'"),
        ("t.jsonl", '{"id": "a"}\n', "t.jsonl:1: missing text"),
        ("t.jsonl", '{"text": "a"}\n', "t.jsonl:1: missing id"),
        ("t.csv", "a,b\n", "cannot tell the table format"),
    ],
)
def test_bad_tables_name_file_and_line(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        read_table(tmp_path / name)


def test_build_table_renames_ids(tmp_path):
    (tmp_path / "en.jsonl").write_text('{"id": "en-00-00", "text": "The river.", "lang": "en"}\n'
                                       '{"id": "en-00-01", "text": "The sea."}\n')
    assert build_table(tmp_path / "en.jsonl", tmp_path / "t.jsonl", rename=("en-", "de-")) == 2
    rows = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert rows == [{"id": "de-00-00", "text": "The river.", "lang": "en"}, {"id": "de-00-01", "text": "The sea.", "lang": "en"}]
    with pytest.raises(InputError, match="does not start with 'fr-'"):
        build_table(tmp_path / "en.jsonl", tmp_path / "u.jsonl", rename=("fr-", "de-"))


# -- the retriever wrapper (Python API of the pipeline modes) -----------------------------------
def _docs_de():
    from xlir.io import read_corpus

    return list(read_corpus(FIXTURES / "docs_de.jsonl"))


def test_translated_docs_index_records_translation_and_checks_query_language(tmp_path, caplog):
    import xlir

    table = TableTranslator(FIXTURES / "docs_de_en.jsonl")
    r = TranslatingRetriever(xlir.get_retriever("bm25", lang="en"), table, translate_docs_to="en")
    r.index(_docs_de())
    r.save(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    block = manifest["translation"]
    assert block["translator"] == "table" and block["src"] == ["de"] and block["tgt"] == "en"
    assert block["identity"] == table.identity and block["documents_translated"] == 4
    assert manifest["languages"] == ["en"] and "manifest_extra" not in vars(r.retriever)

    loaded = TranslatingRetriever.load(tmp_path / "idx")
    assert loaded.doc_lang == "en" and loaded.doc_count == 4
    run = loaded.search([Query("q1", "cats hunting mice", "en")], k=2)
    assert next(iter(run["q1"])) == "de1"
    with pytest.raises(LanguageMismatchError, match=r"translated into 'en' \(from de by table\), but 1 in 'de'"):
        loaded.search([Query("q1", "Katzen jagen Mäuse", "de")])
    lenient = TranslatingRetriever.load(tmp_path / "idx", allow_lang_mismatch=True)
    with caplog.at_level(logging.WARNING, logger="xlir.translate"):
        assert isinstance(lenient.search([Query("q1", "Katzen jagen Mäuse", "de")]), dict)
    assert "searching anyway" in caplog.text
    # query translation into the index language (the English questions are the German ones' translation)
    qt = TranslatingRetriever.load(tmp_path / "idx", TableTranslator(FIXTURES / "queries_en.tsv", lang="en"),
                                   translate_queries=True)
    run = qt.search([Query("q3", "Fluss Delta", "de")], k=1)
    assert list(run["q3"]) == ["de3"]


def test_query_translation_into_an_untranslated_index(tmp_path):
    import xlir

    bm25 = xlir.get_retriever("bm25", lang="de")
    bm25.index(_docs_de())
    bm25.save(tmp_path / "de")
    r = TranslatingRetriever.load(tmp_path / "de", TableTranslator(FIXTURES / "queries_en_de.tsv"), translate_queries=True,
                                  query_lang="en")
    assert r.doc_lang == "de"
    queries = [Query("q1", "cats hunting mice"), Query("q2", "train along the coast"), Query("q3", "river delta")]
    run = r.search(queries, k=1)
    assert {q: next(iter(d)) for q, d in run.items()} == {"q1": "de1", "q2": "de2", "q3": "de3"}
    assert r.query_stats.translated_items == 3
